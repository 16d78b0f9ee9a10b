using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Contention.Tracer.Processes;

namespace Contention.Cluster.Tests;

/// <summary>
/// <c>contention</c> as a user runs it: a real process, in a process group of its own (as a
/// terminal's foreground job is), with default signal dispositions.
/// </summary>
internal sealed partial class ClientProcess : IDisposable
{
    private readonly Process process;
    private readonly System.Text.StringBuilder output = new();

    private ClientProcess(Process process)
    {
        this.process = process;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Pid => process.Id;

    public bool HasExited => process.HasExited;

    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    /// <summary>Starts <c>contention ARGS</c> in a session (and so a process group) of its own.</summary>
    public static async Task<ClientProcess> StartAsync(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = AppContext.BaseDirectory };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "contention.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return new ClientProcess(await ChildStart.StartAsync(info, ChildOptions.OwnSession));
    }

    /// <summary>SIGCONT.</summary>
    public const int SigCont = 18;

    /// <summary>SIGSTOP: a process that stands still, as a hung one looks to whoever waits on it.</summary>
    public const int SigStop = 19;

    /// <summary>Sends <paramref name="signal"/> to process <paramref name="pid"/>.</summary>
    public static void Signal(int pid, int signal) => Assert.Equal(0, Kill(pid, signal));

    /// <summary>Sends <paramref name="signal"/> to the whole process group, as a terminal's Ctrl+C does.</summary>
    public void SignalGroup(int signal) => Assert.Equal(0, Kill(-process.Id, signal));

    /// <summary>Waits until results.json in <paramref name="directory"/> has the experiment in <paramref name="state"/>.</summary>
    public async Task WaitForStateAsync(string directory, string state, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (ReadState(directory) != state)
        {
            if (process.HasExited)
            {
                Assert.Fail($"contention exited ({process.ExitCode}) before {state}: {Output}");
            }

            Assert.True(clock.Elapsed < timeout, $"no {state} within {timeout.TotalSeconds} s: {Output}");
            await Task.Delay(100);
        }
    }

    /// <summary>Waits until the output holds <paramref name="text"/>.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (process.HasExited)
            {
                Assert.Fail($"contention exited ({process.ExitCode}) before it wrote '{text}': {Output}");
            }

            Assert.True(clock.Elapsed < timeout, $"no '{text}' within {timeout.TotalSeconds} s: {Output}");
            await Task.Delay(100);
        }
    }

    /// <summary>Modelled-GPU channel files and FIFOs that process <paramref name="pid"/> created and left.</summary>
    public static string[] SimFilesOf(int pid) =>
        Directory.GetFiles(Contention.Workloads.Sim.SimGpuHost.ChannelDirectory, $"contention-sim*-{pid.ToString(CultureInfo.InvariantCulture)}-*");

    /// <summary>Waits for the exit; returns its status.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"contention did not exit within {timeout.TotalSeconds} s: {Output}");
        }

        process.WaitForExit();
        return process.ExitCode;
    }

    /// <summary>Processes whose parent is <paramref name="pid"/> (its workers and helpers).</summary>
    public static List<int> Children(int pid)
    {
        var children = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), CultureInfo.InvariantCulture, out var child) && ParentOf(child) == pid)
            {
                children.Add(child);
            }
        }

        return children;
    }

    /// <summary>The tenant workers among <paramref name="pid"/>'s children (not its modelled GPUs' engines or the eBPF helper).</summary>
    public static List<int> Workers(int pid) =>
        Children(pid).Where(child => CommandLine(child).Contains("\0worker", StringComparison.Ordinal)).ToList();

    /// <summary>The modelled GPUs' engine processes among <paramref name="pid"/>'s children.</summary>
    public static List<int> Engines(int pid) =>
        Children(pid).Where(child => CommandLine(child).Contains("\0sim-gpu\0", StringComparison.Ordinal)).ToList();

    private static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline");
        }
        catch (IOException)
        {
            return "";
        }
    }

    /// <summary>Whether <paramref name="pid"/> still runs (a zombie does not).</summary>
    public static bool Alive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    public static string? ReadState(string directory)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "results.json")));
            return document.RootElement.GetProperty("experiment").GetProperty("state").GetString();
        }
        catch (Exception ex) when (ex is IOException or JsonException or KeyNotFoundException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }

        process.Dispose();
    }

    private static int? ParentOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return int.Parse(fields[1], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return null;
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (output)
            {
                output.AppendLine(line);
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
