using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Contention.Tracer.Bpf;

/// <summary>
/// Starts a program so that the eBPF helper follows it from its first instruction: it starts
/// under <c>contention-exec-stopped</c>, which stops itself; once it is stopped its pid is added
/// and it is continued into the program's execve. Nothing of it runs untraced, and nothing extra
/// is counted but that execve (which strace counts too).
/// </summary>
public static partial class TracedStart
{
    /// <summary>The wrapper's file name; it is built beside the helper.</summary>
    public const string WrapperName = "contention-exec-stopped";

    private const int SigCont = 18;

    private const int SigTerm = 15;

    /// <summary>The wrapper beside the helper, or null.</summary>
    public static string? FindWrapper() =>
        BpfTracer.FindHelper() is { } helper && Path.Combine(Path.GetDirectoryName(helper)!, WrapperName) is var wrapper && File.Exists(wrapper) ? wrapper : null;

    /// <summary>Starts <paramref name="info"/>'s program traced by <paramref name="tracer"/>; its streams are as <paramref name="info"/> says.</summary>
    /// <exception cref="BpfUnavailableException">The wrapper is not built.</exception>
    public static async Task<Process> StartAsync(BpfTracer tracer, ProcessStartInfo info, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tracer);
        ArgumentNullException.ThrowIfNull(info);
        var wrapper = FindWrapper() ?? throw new BpfUnavailableException($"{WrapperName} is not built beside the eBPF helper: run 'make -C tracer/native'");
        // The wrapper execs a path: a PATH search there would be counted, one failed execve per entry.
        var program = info.FileName;
        info.ArgumentList.Insert(0, Resolve(program));
        info.FileName = wrapper;
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException($"failed to start {wrapper}");
        }
        finally
        {
            // The caller's start info is left as it came, so it can start the program untraced.
            info.FileName = program;
            info.ArgumentList.RemoveAt(0);
        }

        try
        {
            var deadline = Stopwatch.StartNew();
            while (!IsStopped(process.Id))
            {
                if (process.HasExited || deadline.Elapsed > TimeSpan.FromSeconds(30))
                {
                    throw new InvalidOperationException($"{WrapperName} did not stop itself (exited: {process.HasExited})");
                }

                await Task.Delay(1, cancellationToken).ConfigureAwait(false);
            }

            await tracer.AddAsync(process.Id).ConfigureAwait(false);
            if (Kill(process.Id, SigCont) != 0)
            {
                throw new InvalidOperationException($"failed to continue {process.Id}: errno {Marshal.GetLastPInvokeError()}");
            }

            return process;
        }
        catch
        {
            process.Kill();
            process.Dispose();
            throw;
        }
    }

    /// <summary>Sends SIGTERM to <paramref name="pid"/> (a program asked to finish and exit); false when it is gone.</summary>
    public static bool Terminate(int pid) => Kill(pid, SigTerm) == 0;

    /// <summary>The program's path: as given when it holds a '/', else the first match on PATH (else as given, to fail in execve).</summary>
    public static string Resolve(string program)
    {
        ArgumentNullException.ThrowIfNull(program);
        return program.Contains('/', StringComparison.Ordinal) ? program : FindOnPath(program) ?? program;
    }

    /// <summary>The first file named <paramref name="name"/> in a PATH directory, or null.</summary>
    public static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, name))
            .FirstOrDefault(File.Exists);

    // /proc/PID/stat: "PID (COMM) STATE ..."; COMM may hold spaces and parentheses, so the state follows the last ')'.
    private static bool IsStopped(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var close = stat.LastIndexOf(')');
            return close > 0 && close + 2 < stat.Length && stat[close + 2] == 'T';
        }
        catch (IOException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
