using System.Globalization;
using Contention.Grains.Placement;
using Contention.Tracer.Processes;
using Microsoft.Extensions.Options;

namespace Contention.Grains.Node;

/// <summary>
/// A detached run on this node (<see cref="IDetachedRunGrain"/>): <c>contention run MIX --cluster
/// (this node's cluster) --out (its directory)/results</c> started as a process of its own session
/// through <c>/bin/sh</c>, which writes the run's output to <c>run.log</c> and, when it ends, its
/// exit code to <c>exit</c> — so the run needs no client, outlives a restart of this node, and how
/// it ended is known after one. Everything is files in the run's directory
/// (<see cref="NodeOptions.RunsDirectory"/>), so a new activation after a restart finds it again.
/// </summary>
[DevicePlacement]
internal sealed class DetachedRunGrain(IOptions<NodeOptions> options) : Grain, IDetachedRunGrain
{
    private const int MostBytes = 1 << 20;
    private string directory = "";

    private string Results => Path.Combine(directory, "results");

    private string Log => Path.Combine(directory, "run.log");

    private string ExitFile => Path.Combine(directory, "exit");

    private string PidFile => Path.Combine(directory, "pid");

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        directory = Path.Combine(options.Value.RunsDirectory, string.Join('_', this.GetPrimaryKeyString().Split('/', '\\')));
        return base.OnActivateAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async Task<DetachedRunStatus> StartAsync(string mixFile, string mixText, IReadOnlyList<string> arguments, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(mixFile);
        ArgumentNullException.ThrowIfNull(mixText);
        ArgumentNullException.ThrowIfNull(arguments);
        if (File.Exists(PidFile))
        {
            return Status();
        }

        var cluster = options.Value.Cluster ?? throw new InvalidOperationException($"node {options.Value.Name} is not part of a Redis cluster, so a run it starts could not join one; detach runs on nodes started with 'contention silo --cluster redis://…'");
        Directory.CreateDirectory(directory);
        var mix = Path.Combine(directory, Path.GetFileName(mixFile));
        await File.WriteAllTextAsync(mix, mixText, cancellationToken);
        var run = WorkerCommand.Resolve(options.Value.WorkerPath).StartInfo(["run", mix, "--cluster", cluster, "--out", Results, .. arguments]);
        // sh runs it in the background and waits: the exit code is written whether or not this node
        // is still up then, whole (renamed into place), and the shell's own pid first — between the
        // run's end and its code being written the run is gone but its waiter is not (a run seen
        // then as lost, on a loaded CI host, had exited 0).
        var start = new System.Diagnostics.ProcessStartInfo("/bin/sh") { UseShellExecute = false, WorkingDirectory = directory };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(WaitScript);
        start.ArgumentList.Add(run.FileName);
        foreach (var argument in run.ArgumentList)
        {
            start.ArgumentList.Add(argument);
        }

        using var shell = await ChildStart.StartAsync(start, ChildOptions.OwnSession);
        for (var waited = 0; !File.Exists(PidFile) && waited < 100; waited++)
        {
            await Task.Delay(50, cancellationToken);
        }

        return Status();
    }

    /// <inheritdoc />
    public Task<DetachedRunStatus> GetAsync(CancellationToken cancellationToken = default) => Task.FromResult(Status());

    /// <inheritdoc />
    public Task<byte[]> ReadLogAsync(long offset, int count, CancellationToken cancellationToken = default) => Task.FromResult(Read(Log, offset, count));

    /// <inheritdoc />
    public Task<byte[]> ReadFileAsync(string file, long offset, int count, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(file);
        var root = Path.GetFullPath(Results) + Path.DirectorySeparatorChar;
        var path = Path.GetFullPath(Path.Combine(Results, file));
        if (!path.StartsWith(root, StringComparison.Ordinal))
        {
            throw new ArgumentException($"{file} is not a file of the run's results");
        }

        return Task.FromResult(Read(path, offset, count));
    }

    /// <inheritdoc />
    public Task<DetachedRunStatus> StopAsync(CancellationToken cancellationToken = default)
    {
        if (Pid() is { } pid && !File.Exists(ExitFile))
        {
            _ = Contention.Tracer.Bpf.TracedStart.Terminate(pid);
        }

        return Task.FromResult(Status());
    }

    private DetachedRunStatus Status()
    {
        var node = options.Value.Name;
        var id = this.GetPrimaryKeyString();
        if (!File.Exists(PidFile))
        {
            return new DetachedRunStatus(id, node, "unknown", null, 0, [], directory);
        }

        var (state, exit) = StateIn(directory);
        var files = Directory.Exists(Results)
            ? Directory.EnumerateFiles(Results, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(Results, f)).Order(StringComparer.Ordinal).ToList()
            : [];
        var log = File.Exists(Log) ? new FileInfo(Log).Length : 0;
        return new DetachedRunStatus(id, node, state, exit, log, files, directory);
    }

    /// <summary>
    /// The <c>sh -c</c> script a detached run is started by (the run's program and arguments after
    /// it): it records its own pid (<c>waiter</c>) and the run's (<c>pid</c>), runs it in the
    /// background into <c>run.log</c>, waits, and renames its exit code into <c>exit</c>.
    /// </summary>
    internal const string WaitScript = "echo $$ >waiter; \"$0\" \"$@\" >run.log 2>&1 & echo $! >pid; wait $!; echo $? >exit.part; mv exit.part exit";

    /// <summary>
    /// A run's state from its directory (<see cref="WaitScript"/>'s files): exited (with its code)
    /// once the code is in place; running while the run or its waiter lives; else lost.
    /// </summary>
    internal static (string State, int? Exit) StateIn(string directory)
    {
        // Life first, the code after: a waiter seen gone had put its code in place before it went.
        var alive = Alive(ReadPid(Path.Combine(directory, "pid"))) || Alive(ReadPid(Path.Combine(directory, "waiter")));
        var exitFile = Path.Combine(directory, "exit");
        int? exit = File.Exists(exitFile) && int.TryParse(File.ReadAllText(exitFile).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var code) ? code : null;
        return (exit is not null ? "exited" : alive ? "running" : "lost", exit);
    }

    private int? Pid() => ReadPid(PidFile);

    private static int? ReadPid(string file) => File.Exists(file) && int.TryParse(File.ReadAllText(file).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid) ? pid : null;

    private static bool Alive(int? pid) => pid is { } p && Workloads.Arbiter.ArbiterGate.ProcessAlive(p);

    private static byte[] Read(string path, long offset, int count)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        if (offset >= stream.Length)
        {
            return [];
        }

        stream.Seek(offset, SeekOrigin.Begin);
        var buffer = new byte[(int)Math.Min(Math.Min(count, MostBytes), stream.Length - offset)];
        stream.ReadExactly(buffer);
        return buffer;
    }
}
