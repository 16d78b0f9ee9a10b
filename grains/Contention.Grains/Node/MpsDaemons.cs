using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Contention.Tracer.Processes;

namespace Contention.Grains.Node;

/// <summary>
/// The node's private MPS control daemons, one per real GPU while tenants share it by MPS: each
/// with its own pipe and log directories under <see cref="Root"/> (named by the node's pid and the
/// GPU), <c>CUDA_VISIBLE_DEVICES</c> pinned to that GPU, started when the first tenant asks and
/// quit when the last leaves or the node stops. No GPU setting (compute mode or any other) is
/// touched. Daemons of a node of ours that died (its pid gone) are quit at the next start. A
/// daemon that exits while tenants use it is noticed within <see cref="WatchInterval"/>: its
/// tenants fail, naming it (<see cref="Lost"/>), and the next tenant starts a new one.
/// </summary>
public sealed partial class MpsDaemons : IDisposable
{
    /// <summary>The control program's file name.</summary>
    public const string ControlName = "nvidia-cuda-mps-control";

    /// <summary>How often a running daemon is checked for life.</summary>
    public static readonly TimeSpan WatchInterval = TimeSpan.FromMilliseconds(200);

    private const string PidFile = "nvidia-cuda-mps-control.pid";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(15);
    private readonly string? control;
    private readonly Dictionary<int, Daemon> daemons = [];
    private readonly SemaphoreSlim gate = new(1, 1);

    // One control command at a time: thirty workers checked at once made the control program
    // answer some of them with nothing (seen on an H200).
    private readonly SemaphoreSlim commands = new(1, 1);

    /// <summary>Daemons for this node's GPUs; quits those of dead nodes under <paramref name="root"/>.</summary>
    /// <param name="controlPath">The control program; null to look on PATH and in <c>/usr/local/nvidia/bin</c>.</param>
    /// <param name="root">Where daemons' directories live.</param>
    public MpsDaemons(string? controlPath, string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        control = Find(controlPath);
        Root = root;
        StaleStopped = RemoveStale();
    }

    /// <summary>Where the daemons' pipe and log directories live.</summary>
    public string Root { get; }

    /// <summary>Daemons of dead nodes stopped (or found already gone) at the start.</summary>
    public int StaleStopped { get; }

    /// <summary>The control program, or null when MPS is not installed here.</summary>
    public string? Control => control;

    /// <summary>The control program: <paramref name="configured"/>, else on PATH, else in <c>/usr/local/nvidia/bin</c>; null when none exists.</summary>
    public static string? Find(string? configured)
    {
        if (!string.IsNullOrEmpty(configured))
        {
            return File.Exists(configured) ? Path.GetFullPath(configured) : null;
        }

        var nvidia = Path.Combine("/usr/local/nvidia/bin", ControlName);
        return ChildStart.FindOnPath(ControlName) ?? (File.Exists(nvidia) ? nvidia : null);
    }

    /// <summary>
    /// The daemon of GPU <paramref name="gpu"/> (<c>cuda:N</c> as this node numbers it), started when
    /// it is not running; each call is one user until <see cref="ReleaseAsync"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">MPS is not installed, or its daemon would not start.</exception>
    public async Task<MpsLease> AcquireAsync(int gpu)
    {
        await gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!daemons.TryGetValue(gpu, out var daemon) || !Alive(daemon.Pid))
            {
                daemon = await StartAsync(gpu).ConfigureAwait(false);
                daemons[gpu] = daemon;
            }

            daemon.Users++;
            return new MpsLease(gpu, daemon.Pipe, daemon.Log, daemon.Pid);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// One user of GPU <paramref name="gpu"/>'s daemon is done; the last quits it. With
    /// <paramref name="daemonPid"/> (<see cref="MpsLease.DaemonPid"/>), a lease of a daemon that
    /// has died and been replaced since leaves the new one alone.
    /// </summary>
    public async Task ReleaseAsync(int gpu, int daemonPid = 0)
    {
        await gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (daemons.TryGetValue(gpu, out var daemon) && (daemonPid == 0 || daemon.Pid == daemonPid) && --daemon.Users <= 0)
            {
                daemons.Remove(gpu);
                await StopAsync(daemon).ConfigureAwait(false);
            }
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Completes, with what happened, when the daemon of <paramref name="lease"/> exits without
    /// being quit (the node's own quits do not count); never while it runs.
    /// </summary>
    public Task<string> Lost(MpsLease lease)
    {
        ArgumentNullException.ThrowIfNull(lease);
        gate.Wait();
        try
        {
            return daemons.TryGetValue(lease.Gpu, out var daemon) && daemon.Pid == lease.DaemonPid
                ? daemon.Died.Task
                : Task.FromResult($"cuda:{lease.Gpu}'s MPS control daemon (pid {lease.DaemonPid}) is gone");
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Whether GPU <paramref name="gpu"/>'s daemon runs.</summary>
    public bool IsRunning(int gpu)
    {
        gate.Wait();
        try
        {
            return daemons.TryGetValue(gpu, out var daemon) && Alive(daemon.Pid);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// The processes connected to GPU <paramref name="gpu"/>'s MPS servers, as the daemon lists
    /// them. A CUDA program that cannot reach the daemon silently runs without MPS: this is how a
    /// node knows a worker really shares the GPU by MPS.
    /// </summary>
    public async Task<IReadOnlySet<int>> ClientsAsync(int gpu)
    {
        Daemon? daemon;
        await gate.WaitAsync().ConfigureAwait(false);
        try
        {
            daemons.TryGetValue(gpu, out daemon);
        }
        finally
        {
            gate.Release();
        }

        var clients = new HashSet<int>();
        if (daemon is null)
        {
            return clients;
        }

        var servers = await CommandAsync(daemon.Directory, "get_server_list").ConfigureAwait(false);
        foreach (var server in Numbers(servers.Output))
        {
            clients.UnionWith(Numbers((await CommandAsync(daemon.Directory, $"get_client_list {server.ToString(CultureInfo.InvariantCulture)}").ConfigureAwait(false)).Output));
        }

        return clients;
    }

    /// <summary>The environment of a worker that shares the GPU by MPS: the daemon's directories, its share and priority; no <c>CUDA_VISIBLE_DEVICES</c> (the daemon shows its one GPU as device 0).</summary>
    public static void SetClientEnvironment(IDictionary<string, string?> environment, MpsLease lease, int gpuSharePercent, int priority)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(lease);
        environment.Remove("CUDA_VISIBLE_DEVICES");
        environment["CUDA_MPS_PIPE_DIRECTORY"] = lease.PipeDirectory;
        environment["CUDA_MPS_LOG_DIRECTORY"] = lease.LogDirectory;
        environment["CUDA_MPS_ACTIVE_THREAD_PERCENTAGE"] = Math.Clamp(gpuSharePercent, 1, 100).ToString(CultureInfo.InvariantCulture);
        // MPS has two client priorities: 0 (normal) and 1 (below normal). A tenant with a
        // positive priority is normal, the rest (best effort) below it.
        environment["CUDA_MPS_CLIENT_PRIORITY"] = priority > 0 ? "0" : "1";
    }

    /// <inheritdoc />
    public void Dispose()
    {
        gate.Wait();
        try
        {
            foreach (var daemon in daemons.Values)
            {
                StopAsync(daemon).GetAwaiter().GetResult();
            }

            daemons.Clear();
        }
        finally
        {
            gate.Release();
        }

        gate.Dispose();
        commands.Dispose();
    }

    /// <summary>The physical GPU for this node's <c>cuda:N</c>: the N-th of the node's own <c>CUDA_VISIBLE_DEVICES</c> when it has one.</summary>
    internal static string PhysicalDevice(int gpu)
    {
        var visible = Environment.GetEnvironmentVariable("CUDA_VISIBLE_DEVICES");
        var entries = visible?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return entries is { Length: > 0 } && gpu < entries.Length ? entries[gpu] : gpu.ToString(CultureInfo.InvariantCulture);
    }

    private async Task<Daemon> StartAsync(int gpu)
    {
        if (control is null)
        {
            throw new InvalidOperationException($"sharing: mps needs NVIDIA's MPS ({ControlName}), found neither on PATH nor in /usr/local/nvidia/bin; install it with the driver's utilities, or run with sharing: timeslice");
        }

        var directory = Path.Combine(Root, $"{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}-cuda{gpu.ToString(CultureInfo.InvariantCulture)}");
        if (Directory.Exists(directory))
        {
            // A daemon of ours for this GPU that died: clear what it left.
            await StopAsync(directory, ReadPid(directory)).ConfigureAwait(false);
        }

        var pipe = Path.Combine(directory, "pipe");
        var log = Path.Combine(directory, "log");
        Directory.CreateDirectory(pipe);
        Directory.CreateDirectory(log);
        var started = await RunAsync(directory, "-d", null, PhysicalDevice(gpu)).ConfigureAwait(false);
        if (started.ExitCode != 0)
        {
            var reason = Reason(started, directory);
            Directory.Delete(directory, recursive: true);
            throw new InvalidOperationException($"the MPS control daemon for cuda:{gpu} did not start ({ControlName} -d exited {started.ExitCode}): {reason}");
        }

        var pid = 0;
        for (var waited = 0; waited < 100 && (pid = ReadPid(directory)) == 0; waited++)
        {
            await Task.Delay(50).ConfigureAwait(false);
        }

        if (pid == 0 || !Alive(pid))
        {
            var reason = Reason(started, directory);
            await StopAsync(directory, pid).ConfigureAwait(false);
            throw new InvalidOperationException($"the MPS control daemon for cuda:{gpu} did not stay up: {reason}");
        }

        var daemon = new Daemon(directory, pipe, log, pid);
        _ = WatchAsync(gpu, daemon);
        return daemon;
    }

    /// <summary>Checks <paramref name="daemon"/> for life until the node quits it; a death completes <see cref="Daemon.Died"/> with the reason and the end of its log.</summary>
    private static async Task WatchAsync(int gpu, Daemon daemon)
    {
        try
        {
            while (Alive(daemon.Pid))
            {
                await Task.Delay(WatchInterval, daemon.Stopping.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            return;
        }

        if (!daemon.Stopping.IsCancellationRequested)
        {
            daemon.Died.TrySetResult($"cuda:{gpu}'s MPS control daemon (pid {daemon.Pid}) exited while tenants shared the GPU through it{LogTail(daemon.Log)}; its log directory: {daemon.Log}");
        }
    }

    /// <summary>The last lines of the daemon's control log, as a clause; empty when there is none.</summary>
    private static string LogTail(string log)
    {
        try
        {
            var path = Path.Combine(log, "control.log");
            if (!File.Exists(path))
            {
                return "";
            }

            var lines = File.ReadLines(path).TakeLast(3).Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
            return lines.Count == 0 ? "" : $" (its log ends: {string.Join(" | ", lines)})";
        }
        catch (IOException)
        {
            return "";
        }
    }

    /// <summary>Quits <paramref name="daemon"/>: no longer watched, then as <see cref="StopAsync(string, int)"/>.</summary>
    private async Task StopAsync(Daemon daemon)
    {
        await daemon.Stopping.CancelAsync().ConfigureAwait(false);
        await StopAsync(daemon.Directory, daemon.Pid).ConfigureAwait(false);
        daemon.Stopping.Dispose();
    }

    /// <summary>Quits the daemon of <paramref name="directory"/> (its servers with it), kills what is left of it, and removes the directory.</summary>
    private async Task StopAsync(string directory, int pid)
    {
        if (control is not null && Directory.Exists(Path.Combine(directory, "pipe")))
        {
            try
            {
                await CommandAsync(directory, "quit").ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is TimeoutException or System.ComponentModel.Win32Exception or IOException)
            {
                // Killed below.
            }
        }

        for (var waited = 0; waited < 100 && pid > 0 && Alive(pid); waited++)
        {
            await Task.Delay(50).ConfigureAwait(false);
        }

        // Whatever still holds the pipe directory in its environment (the daemon, its servers).
        var pipe = $"CUDA_MPS_PIPE_DIRECTORY={Path.Combine(directory, "pipe")}";
        foreach (var holder in Holders(pipe).Append(pid).Where(p => p > 0 && Alive(p)).Distinct())
        {
            try
            {
                using var process = Process.GetProcessById(holder);
                process.Kill();
                process.WaitForExit(5000);
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Gone meanwhile.
            }
        }

        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left for the next start to remove.
        }
    }

    private int RemoveStale()
    {
        if (!Directory.Exists(Root))
        {
            return 0;
        }

        var stopped = 0;
        foreach (var directory in Directory.EnumerateDirectories(Root))
        {
            var match = DaemonDirectory().Match(Path.GetFileName(directory));
            if (match.Success && int.TryParse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture, out var owner) && !Alive(owner))
            {
                StopAsync(directory, ReadPid(directory)).GetAwaiter().GetResult();
                stopped++;
            }
        }

        return stopped;
    }

    private async Task<(int ExitCode, string Output, string Error)> CommandAsync(string directory, string command)
    {
        await commands.WaitAsync().ConfigureAwait(false);
        try
        {
            return await RunAsync(directory, null, command + "\n", null).ConfigureAwait(false);
        }
        finally
        {
            commands.Release();
        }
    }

    private async Task<(int ExitCode, string Output, string Error)> RunAsync(string directory, string? argument, string? input, string? device)
    {
        var info = new ProcessStartInfo(control!)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (argument is not null)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["CUDA_MPS_PIPE_DIRECTORY"] = Path.Combine(directory, "pipe");
        info.Environment["CUDA_MPS_LOG_DIRECTORY"] = Path.Combine(directory, "log");
        if (device is not null)
        {
            info.Environment["CUDA_VISIBLE_DEVICES"] = device;
        }

        // In a session of its own, with default signal dispositions: the daemon (-d forks it)
        // must not see a terminal's Ctrl+C; the node quits it.
        using var process = await ChildStart.StartAsync(info, ChildOptions.OwnSession).ConfigureAwait(false);
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input).ConfigureAwait(false);
        }

        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(CommandTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new TimeoutException($"{ControlName} {argument ?? input?.Trim()} did not answer within {CommandTimeout.TotalSeconds} s");
        }

        return (process.ExitCode, await output.ConfigureAwait(false), await error.ConfigureAwait(false));
    }

    private static string Reason((int ExitCode, string Output, string Error) result, string directory)
    {
        var log = Path.Combine(directory, "log", "control.log");
        var tail = File.Exists(log) ? File.ReadLines(log).TakeLast(3) : [];
        var text = string.Join(" | ", new[] { result.Error.Trim(), result.Output.Trim() }.Concat(tail).Where(s => s.Length > 0));
        return text.Length == 0 ? "no message" : text;
    }

    private static int ReadPid(string directory)
    {
        try
        {
            var path = Path.Combine(directory, "pipe", PidFile);
            return File.Exists(path) && int.TryParse(File.ReadAllText(path).Trim(), CultureInfo.InvariantCulture, out var pid) ? pid : 0;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static bool Alive(int pid) => ProcessState.IsAlive(pid);

    /// <summary>Processes whose environment holds <paramref name="entry"/>.</summary>
    private static IEnumerable<int> Holders(string entry)
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), CultureInfo.InvariantCulture, out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            string environment;
            try
            {
                environment = File.ReadAllText(Path.Combine(directory, "environ"));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            if (environment.Split('\0').Contains(entry, StringComparer.Ordinal))
            {
                yield return pid;
            }
        }
    }

    private static IEnumerable<int> Numbers(string text) =>
        text.Split((char[])['\n', ' ', '\t', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(t => int.TryParse(t, CultureInfo.InvariantCulture, out var n) ? n : 0).Where(n => n > 0);

    [GeneratedRegex(@"^(\d+)-cuda\d+$")]
    private static partial Regex DaemonDirectory();

    private sealed class Daemon(string directory, string pipe, string log, int pid)
    {
        public string Directory { get; } = directory;

        public string Pipe { get; } = pipe;

        public string Log { get; } = log;

        public int Pid { get; } = pid;

        public int Users { get; set; }

        /// <summary>Completes when the daemon exits without being quit.</summary>
        public TaskCompletionSource<string> Died { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Cancelled when the node quits the daemon: its exit is then no death.</summary>
        public CancellationTokenSource Stopping { get; } = new();
    }
}
