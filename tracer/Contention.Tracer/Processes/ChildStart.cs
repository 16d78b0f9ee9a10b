using System.Collections.Concurrent;
using System.Diagnostics;
using Contention.Tracer.Bpf;

namespace Contention.Tracer.Processes;

/// <summary>
/// Starts programs as a shell would start them — default signal dispositions, an empty signal
/// mask (the .NET runtime ignores SIGPIPE, and an ignored signal survives execve) — through the
/// native wrapper <c>contention-exec-stopped</c>, optionally stopped, in a session of their own
/// and tied to this process's life (<see cref="ChildOptions"/>).
/// </summary>
/// <remarks>
/// Every start happens on one long-lived thread: the kernel sends a child its parent-death signal
/// when the thread that forked it ends, not the process, and a thread-pool thread may retire at
/// any time. Without the wrapper (not built) programs start plainly, in a session of their own
/// through util-linux <c>setsid</c> where asked; <see cref="Degraded"/> then says what is missing.
/// </remarks>
public static class ChildStart
{
    /// <summary>The wrapper's file name; it is built beside the eBPF helper.</summary>
    public const string WrapperName = "contention-exec-stopped";

    private static readonly BlockingCollection<Request> Requests = StartThread();

    /// <summary>Null when the wrapper is found; otherwise what programs started here lack, and how to mend it.</summary>
    public static string? Degraded => FindWrapper() is null
        ? $"{WrapperName} is not built (run 'make -C tracer/native'): programs start with this process's ignored signals, and they can outlive it if it is killed"
        : null;

    /// <summary>The wrapper: <c>CONTENTION_EXEC_WRAPPER</c>, else beside the eBPF helper; null when neither exists.</summary>
    public static string? FindWrapper()
    {
        var configured = Environment.GetEnvironmentVariable("CONTENTION_EXEC_WRAPPER");
        if (!string.IsNullOrEmpty(configured))
        {
            return File.Exists(configured) ? configured : null;
        }

        var beside = Path.Combine(AppContext.BaseDirectory, WrapperName);
        if (File.Exists(beside))
        {
            return beside;
        }

        return BpfTracer.FindHelper() is { } helper && Path.Combine(Path.GetDirectoryName(helper)!, WrapperName) is var wrapper && File.Exists(wrapper)
            ? wrapper
            : BpfTracer.FindInSourceTree(WrapperName);
    }

    /// <summary>Starts <paramref name="info"/>'s program as <paramref name="options"/> say; its streams are as <paramref name="info"/> says.</summary>
    /// <exception cref="InvalidOperationException"><see cref="ChildOptions.Stopped"/> was asked and the wrapper is not built.</exception>
    /// <exception cref="System.ComponentModel.Win32Exception">The program (or the wrapper) could not be started.</exception>
    public static Task<Process> StartAsync(ProcessStartInfo info, ChildOptions options)
    {
        ArgumentNullException.ThrowIfNull(info);
        var request = new Request(info, options, new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously));
        Requests.Add(request);
        return request.Started.Task;
    }

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

    private static BlockingCollection<Request> StartThread()
    {
        var requests = new BlockingCollection<Request>();
        var thread = new Thread(() =>
        {
            foreach (var request in requests.GetConsumingEnumerable())
            {
                try
                {
                    request.Started.SetResult(Start(request.Info, request.Options));
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    request.Started.SetException(ex);
                }
            }
        })
        {
            IsBackground = true,
            Name = "contention child starts",
        };
        thread.Start();
        return requests;
    }

    private static Process Start(ProcessStartInfo info, ChildOptions options)
    {
        var wrapper = FindWrapper();
        var program = info.FileName;
        var prefix = new List<string>();
        if (wrapper is not null)
        {
            prefix.Add(wrapper);
            if (!options.HasFlag(ChildOptions.Stopped))
            {
                prefix.Add("--no-stop");
            }

            if (!options.HasFlag(ChildOptions.OwnSession))
            {
                prefix.Add("--no-session");
            }

            if (options.HasFlag(ChildOptions.DieWithParent))
            {
                prefix.Add("--die-with-parent");
            }

            // The wrapper execs a path: a PATH search there would be counted, one failed execve per entry.
            // A program that cannot run fails here, as Process.Start fails, not as the wrapper's exit.
            var path = Resolve(program);
            if (!File.Exists(path))
            {
                throw new System.ComponentModel.Win32Exception(2, $"no such program: {program}");
            }

            if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) == 0)
            {
                throw new System.ComponentModel.Win32Exception(13, $"not executable: {path}");
            }

            prefix.Add(path);
        }
        else if (options.HasFlag(ChildOptions.Stopped))
        {
            throw new InvalidOperationException($"{WrapperName} is not built beside the eBPF helper: run 'make -C tracer/native'");
        }
        else if (options.HasFlag(ChildOptions.OwnSession) && FindOnPath("setsid") is { } setsid)
        {
            prefix.Add(setsid);
            prefix.Add(program);
        }

        if (prefix.Count == 0)
        {
            return Process.Start(info) ?? throw new InvalidOperationException($"failed to start {program}");
        }

        info.FileName = prefix[0];
        for (var i = prefix.Count - 1; i >= 1; i--)
        {
            info.ArgumentList.Insert(0, prefix[i]);
        }

        try
        {
            return Process.Start(info) ?? throw new InvalidOperationException($"failed to start {info.FileName}");
        }
        finally
        {
            // The caller's start info is left as it came, so it can start the program otherwise.
            info.FileName = program;
            for (var i = 1; i < prefix.Count; i++)
            {
                info.ArgumentList.RemoveAt(0);
            }
        }
    }

    private sealed record Request(ProcessStartInfo Info, ChildOptions Options, TaskCompletionSource<Process> Started);
}
