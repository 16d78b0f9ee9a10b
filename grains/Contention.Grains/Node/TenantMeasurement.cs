using System.Collections.Concurrent;
using Contention.Tracer;
using Contention.Tracer.Bpf;
using Contention.Workloads.Sim;

namespace Contention.Grains.Node;

/// <summary>
/// What the node tracer keeps about one tenant between its samples. The tracer owns it: it
/// writes every member, under <see cref="ReportLock"/>, from its ticks and flushes. The tenant's
/// runner made it and hands it over at registration; it only reads <see cref="LastThreads"/>
/// (for its status) and adds the phases a thread worker ends (<see cref="AddPhase"/>).
/// </summary>
internal sealed class TenantMeasurement
{
    private readonly ConcurrentQueue<PhaseRecord> pendingPhases = new();

    /// <summary>Serialises the tracer's tick and phase flushes for this tenant.</summary>
    public SemaphoreSlim ReportLock { get; } = new(1, 1);

    /// <summary>The /proc tracer of the current worker and the counters already reported for it.</summary>
    public (ProcTracer Tracer, TaskCounters Reported)? Traced { get; set; }

    /// <summary>When the tracer last sampled the tenant (CLOCK_MONOTONIC ns).</summary>
    public long LastSampleNs { get; set; } = MonotonicClock.NowNs();

    /// <summary>
    /// When the tenant was asked to stop (CLOCK_MONOTONIC ns; null while it runs): its measured
    /// time ends there, however long its worker takes to stop (a PyTorch command's teardown takes
    /// about a second); what it does meanwhile (CPU, switches, the operation in flight) still counts.
    /// </summary>
    public long? StopAskedNs { get; set; }

    /// <summary>
    /// Whether the stopped tenant's final sample was taken: later ticks report nothing more of it
    /// (its measured time ended at the stop, and its calls per thread, which its own counts must
    /// match, are those of that final sample).
    /// </summary>
    public bool Final { get; set; }

    /// <summary>The modelled GPU's late time at the tenant's previous sample, ns (null before the first).</summary>
    public long? LastModelLateNs { get; set; }

    /// <summary>The node's CPU counters at the latest sample.</summary>
    public NodeCpu LastNodeCpu { get; set; } = NodeCpu.Read();

    /// <summary>Per-thread counters of the latest sample.</summary>
    public IReadOnlyList<ThreadSample> LastThreads { get; set; } = [];

    /// <summary>The worker whose phases are being measured and the eBPF snapshot at its last boundary (null: since it started).</summary>
    public (int Pid, BpfSnapshot? Snapshot)? PhaseBaseline { get; set; }

    /// <summary>The worker and the eBPF snapshot its current phase's calls per thread count from (null: since it started); null before the first flush.</summary>
    public (int Pid, BpfSnapshot? Snapshot)? ThreadCallBaseline { get; set; }

    /// <summary>The worker and the newest eBPF snapshot its calls per thread were taken from.</summary>
    public (int Pid, BpfSnapshot Snapshot)? ThreadCallLatest { get; set; }

    /// <summary>The worker's system calls per thread, of each phase so far (replaced whole: the runner reads it for its status).</summary>
    public IReadOnlyList<ThreadSyscallCount> ThreadCalls { get; set; } = [];

    /// <summary>The worker process the eBPF tracer follows and its counters at the last report; null before the first.</summary>
    public (int Pid, BpfSnapshot? Reported)? Kernel { get; set; }

    /// <summary>
    /// Takes the worker's calls per thread of <paramref name="phase"/> up to <paramref name="snapshot"/>
    /// (<paramref name="count"/>: the calls in a snapshot since another, or since the worker started
    /// where that is null): counted from the phase's start, or from the worker's start where it is a
    /// new worker. A snapshot older than one already taken (a tick a phase flush overtook) changes
    /// nothing, but at a <paramref name="boundary"/> the next phase counts from the newest snapshot
    /// taken, whichever that is: the tenant's counters of the phase that ends reached that far (the
    /// tracer reports no snapshot older than one it reported).
    /// </summary>
    public void TakeThreadCalls(int pid, BpfSnapshot snapshot, MeasurementPhase phase, bool boundary, Func<BpfSnapshot, BpfSnapshot?, IReadOnlyList<ThreadSyscallCount>> count)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(count);
        if (!snapshot.ThreadCalls.Any(c => c.Root == pid))
        {
            // The helper does not count calls per thread (or not this worker's yet).
            return;
        }

        var latest = ThreadCallLatest is { } taken && taken.Pid == pid ? taken.Snapshot : null;
        if (latest is null || snapshot.Sequence >= latest.Sequence)
        {
            var since = ThreadCallBaseline is { } baseline && baseline.Pid == pid ? baseline.Snapshot : null;
            if (since is null || snapshot.Sequence > since.Sequence)
            {
                ThreadCalls = [.. ThreadCalls.Where(c => c.Phase != phase), .. count(snapshot, since)];
            }

            latest = snapshot;
            ThreadCallLatest = (pid, snapshot);
        }

        if (boundary)
        {
            ThreadCallBaseline = (pid, latest);
        }
    }

    /// <summary>Queues a phase the worker ended, for the next report.</summary>
    public void AddPhase(PhaseRecord phase) => pendingPhases.Enqueue(phase);

    /// <summary>Every phase queued since the last call, in order.</summary>
    public List<PhaseRecord> TakePhases()
    {
        var taken = new List<PhaseRecord>();
        while (pendingPhases.TryDequeue(out var phase))
        {
            taken.Add(phase);
        }

        return taken;
    }
}
