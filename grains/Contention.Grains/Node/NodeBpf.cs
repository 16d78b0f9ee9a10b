using System.Diagnostics;
using Contention.Tracer.Bpf;
using Contention.Tracer.Nvidia;
using Contention.Tracer.Processes;
using Contention.Tracer.Trace;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Contention.Grains.Node;

/// <summary>
/// The node's eBPF helper, started once on first use. Where it cannot run (no privilege, no BTF,
/// not built) it says so once and the node goes on with /proc metrics; so it does if the helper
/// dies or does not answer within <see cref="NodeOptions.EbpfAnswerTimeoutSeconds"/> (then it is
/// killed): <see cref="Lost"/> says why, and the tenants it followed are reported with counters
/// that end there. Tenant workers are started through it, so they are traced from their first
/// instruction.
/// </summary>
public sealed partial class NodeBpf : IAsyncDisposable
{
    private readonly NodeOptions options;
    private readonly ILogger<NodeBpf> logger;
    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly Lock snapshotGate = new();
    private BpfTracer? tracer;
    private bool off;
    private TaskCompletionSource<BpfSnapshot?>? nextSnapshot;
    private bool snapshotting;
    private long snapshots;
    private string? unavailable;
    private string? lost;
    private BpfTracer? stopped;

    /// <summary>Creates the service; nothing starts until a worker does.</summary>
    public NodeBpf(IOptions<NodeOptions> options, ILogger<NodeBpf> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.options = options.Value;
        this.logger = logger;
        off = this.options.Ebpf == EbpfMode.Off;
    }

    /// <summary>
    /// What this node's tracer does, in a few words: its mode once it runs, "off" when the node was
    /// started without it, "unavailable: why" when it could not start, and the mode with "(starts
    /// with the first worker)" before any worker asked for it.
    /// </summary>
    public string Describe
    {
        get
        {
            var mode = Words.Word(options.Ebpf);
            mode += options.EbpfThreadCalls ? ", calls per thread" : "";
            return options.Ebpf == EbpfMode.Off ? "off"
                : unavailable is { } why ? $"unavailable: {why}"
                : tracer is not null ? mode
                : $"{mode} (starts with the first worker)";
        }
    }

    /// <summary>
    /// Why the helper stopped after it had run (it exited, or it did not answer in time and was
    /// killed); null while it runs, and where it never ran. Counters of the workers it followed end there.
    /// </summary>
    public string? Lost => Volatile.Read(ref lost);

    /// <summary>The running helper's process id; null where none runs (tests stop it to see a hung helper handled).</summary>
    internal int? HelperProcessId => tracer?.ProcessId;

    /// <summary>NVIDIA device numbers of this host, for decoding ioctls.</summary>
    public NvidiaDevices Devices { get; } = NvidiaDevices.ReadHost();

    /// <summary>
    /// Starts a worker process: traced from its first instruction when eBPF runs, untraced
    /// otherwise; always in a session of its own (the terminal's Ctrl+C is the node's to handle)
    /// and killed by the kernel if the node dies.
    /// </summary>
    public async Task<Process> StartAsync(ProcessStartInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        if (await TracerAsync().ConfigureAwait(false) is { } active)
        {
            try
            {
                return await TracedStart.StartAsync(active, info, WorkerOptions).ConfigureAwait(false);
            }
            catch (BpfUnavailableException ex)
            {
                Disable(ex.Message);
            }
            catch (InvalidOperationException ex)
            {
                // The helper refused this one (it follows 64 process trees at once): the worker
                // runs, untraced, rather than fail its tenant.
                LogNotTraced(logger, options.Name, ex.Message);
            }
        }

        return await ChildStart.StartAsync(info, WorkerOptions).ConfigureAwait(false);
    }

    /// <summary>How every worker of a node starts.</summary>
    public const ChildOptions WorkerOptions = ChildOptions.OwnSession | ChildOptions.DieWithParent;

    /// <summary>Snapshots the helper has taken.</summary>
    public long Snapshots => Interlocked.Read(ref snapshots);

    /// <summary>
    /// Everything the helper counted now — in a snapshot taken after this call — ; null where eBPF
    /// does not run. Callers that ask while a snapshot is being taken share the next one: at a
    /// phase change every tenant of the node flushes at once, and one snapshot each, one after
    /// another, stretched 30 tenants' windows by seconds.
    /// </summary>
    public Task<BpfSnapshot?> SnapshotAsync()
    {
        if (tracer is null)
        {
            return Task.FromResult<BpfSnapshot?>(null);
        }

        lock (snapshotGate)
        {
            nextSnapshot ??= new TaskCompletionSource<BpfSnapshot?>(TaskCreationOptions.RunContinuationsAsynchronously);
            var mine = nextSnapshot.Task;
            if (!snapshotting)
            {
                snapshotting = true;
                _ = Task.Run(TakeSnapshotsAsync);
            }

            return mine;
        }
    }

    /// <summary>Takes snapshots while callers wait for one; each batch gets one begun after they all asked.</summary>
    private async Task TakeSnapshotsAsync()
    {
        while (true)
        {
            TaskCompletionSource<BpfSnapshot?> batch;
            lock (snapshotGate)
            {
                if (nextSnapshot is null)
                {
                    snapshotting = false;
                    return;
                }

                batch = nextSnapshot;
                nextSnapshot = null;
            }

            try
            {
                batch.SetResult(await TakeSnapshotAsync().ConfigureAwait(false));
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                batch.SetException(ex);
            }
        }
    }

    private async Task<BpfSnapshot?> TakeSnapshotAsync()
    {
        if (tracer is not { } active)
        {
            return null;
        }

        try
        {
            var snapshot = await active.SnapshotAsync().ConfigureAwait(false);
            Interlocked.Increment(ref snapshots);
            return snapshot;
        }
        catch (BpfUnavailableException ex)
        {
            Disable(ex.Message);
            return null;
        }
    }

    /// <summary>Stops following a worker that has ended (its counters were reported).</summary>
    public async Task RemoveAsync(int pid)
    {
        if (tracer is { } active)
        {
            try
            {
                await active.RemoveAsync(pid).ConfigureAwait(false);
            }
            catch (BpfUnavailableException ex)
            {
                Disable(ex.Message);
            }
        }
    }

    /// <summary>The tenant's counters in <paramref name="now"/> since <paramref name="since"/> (all of them, or the rows asked for), as a collector message.</summary>
    public KernelCounters Counters(BpfSnapshot now, int pid, BpfSnapshot? since, TraceRows rows = TraceRows.All)
    {
        ArgumentNullException.ThrowIfNull(now);
        var summary = TraceSummary.Of(now, pid, Devices, since, rows);
        return new KernelCounters
        {
            Syscalls = summary.Syscalls.Select(s => new SyscallCount(s.Name, s.Category, s.Count, s.Errors, s.Seconds, s.TimedCalls)).ToList(),
            Ioctls = summary.Ioctls.Select(i => new IoctlCount(i.Device, i.Name, i.Count, i.Errors, i.Seconds, i.TimedCalls)).ToList(),
            OffCpuSeconds = summary.OffCpuSeconds,
            RunQueueLog2 = summary.RunQueueHistogram,
            RunQueueSeconds = summary.RunQueueSeconds,
            Dropped = now.Dropped.Total,
        };
    }

    /// <summary>
    /// The worker's system calls per thread in <paramref name="now"/> since <paramref name="since"/>
    /// (since it was added when null), as <paramref name="phase"/>'s; empty where the helper does
    /// not count them.
    /// </summary>
    public IReadOnlyList<ThreadSyscallCount> ThreadCalls(BpfSnapshot now, int pid, BpfSnapshot? since, MeasurementPhase phase)
    {
        ArgumentNullException.ThrowIfNull(now);

        // The whole summary (its ioctls decoded) only where a thread made an ioctl: ticks take this.
        return [.. TraceSummary.ThreadCallsOf(now, pid, since, () => TraceSummary.IoctlCategory(TraceSummary.Of(now, pid, Devices, since).Syscalls))
            .Select(c => new ThreadSyscallCount(phase, c.Tid, c.Name, c.Syscall, c.Category, c.Count, c.Seconds, c.TimedCalls))];
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (tracer is not null)
        {
            await tracer.DisposeAsync().ConfigureAwait(false);
        }

        if (stopped is not null)
        {
            await stopped.DisposeAsync().ConfigureAwait(false);
        }

        gate.Dispose();
    }

    private async Task<BpfTracer?> TracerAsync()
    {
        if (off || tracer is not null)
        {
            return tracer;
        }

        await gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!off && tracer is null)
            {
                try
                {
                    var mode = options.Ebpf switch { EbpfMode.Exact => BpfMode.Exact, EbpfMode.Counts => BpfMode.Counts, _ => BpfMode.Full };
                    tracer = await BpfTracer.StartAsync(mode: mode, threadCalls: options.EbpfThreadCalls, answerTimeout: TimeSpan.FromSeconds(options.EbpfAnswerTimeoutSeconds)).ConfigureAwait(false);
                    LogStarted(logger, options.Name, options.Ebpf);
                }
                catch (BpfUnavailableException ex)
                {
                    Disable(ex.Message);
                }
            }

            return tracer;
        }
        finally
        {
            gate.Release();
        }
    }

    private void Disable(string why)
    {
        if (!off)
        {
            off = true;
            unavailable = why;
            if (tracer is not null)
            {
                Volatile.Write(ref lost, why);
                stopped = tracer;
            }

            tracer = null;
            LogUnavailable(logger, options.Name, why);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "node {Node}: eBPF tracer running ({Mode}): system calls, ioctls, off-CPU time and run-queue latency per tenant")]
    private static partial void LogStarted(ILogger logger, string node, EbpfMode mode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "node {Node}: a worker runs without eBPF tracing (/proc metrics only): {Why}")]
    private static partial void LogNotTraced(ILogger logger, string node, string why);

    [LoggerMessage(Level = LogLevel.Warning, Message = "node {Node}: {Why}")]
    private static partial void LogUnavailable(ILogger logger, string node, string why);
}
