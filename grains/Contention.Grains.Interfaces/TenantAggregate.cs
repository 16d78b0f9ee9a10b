namespace Contention.Grains;

/// <summary>Everything the collector knows of one tenant in one phase, summed over reports.</summary>
[GenerateSerializer, Immutable, Alias("contention.TenantAggregate")]
public sealed record TenantAggregate
{
    /// <summary>The tenant.</summary>
    [Id(0)] public required string Tenant { get; init; }

    /// <summary>The node of its latest report.</summary>
    [Id(1)] public required string Node { get; init; }

    /// <summary>What the tenant runs.</summary>
    [Id(2)] public required TenantKind Kind { get; init; }

    /// <summary>The device.</summary>
    [Id(3)] public required string Device { get; init; }

    /// <summary>The experiment phase.</summary>
    [Id(4)] public required MeasurementPhase Phase { get; init; }

    /// <summary>Summed interval lengths, seconds.</summary>
    [Id(5)] public double Seconds { get; init; }

    /// <summary>Operations completed.</summary>
    [Id(6)] public long Completed { get; init; }

    /// <summary>The exact merge of every interval's latency histogram (compressed HdrHistogram encoding, ns).</summary>
    [Id(7)] public byte[] Latency { get; init; } = [];

    /// <summary>What /proc saw of the worker.</summary>
    [Id(8)] public OsCounters Os { get; init; } = OsCounters.Zero;

    /// <summary>Reports merged.</summary>
    [Id(9)] public long Reports { get; init; }

    /// <summary>What the eBPF tracer saw, summed; null when no report carried any.</summary>
    [Id(10)] public KernelCounters? Kernel { get; init; }

    /// <summary>Core-seconds the node's CPUs were busy while this tenant was measured in this phase.</summary>
    [Id(11)] public double NodeCpuBusySeconds { get; init; }

    /// <summary>Core-seconds the node's CPUs had meanwhile.</summary>
    [Id(12)] public double NodeCpuSeconds { get; init; }

    /// <summary>Latency lines rejected (see <see cref="TenantDelta.RejectedLines"/>), summed.</summary>
    [Id(13)] public long RejectedLines { get; init; }

    /// <summary>The longest interval between two samples of the tenant in this phase, seconds.</summary>
    [Id(14)] public double LongestIntervalSeconds { get; init; }

    /// <summary>The interval its node was asked to sample at, seconds (the longest asked, over nodes).</summary>
    [Id(15)] public double AskedIntervalSeconds { get; init; }

    /// <summary>GPU time of the tenant's kernels in the phase: exact (a modelled GPU), the reports' <see cref="TenantDelta.GpuSeconds"/> summed; sampled (a real GPU, <see cref="GpuTimedBatches"/> not null), the phase's kernels at the mean time per kernel of the phase's own timed batches, and null where kernels ran but none was timed; null when no report carried it.</summary>
    [Id(16)] public double? GpuSeconds { get; init; }

    /// <summary>Seconds the modelled GPU's thread ran late while the tenant was measured (see <see cref="TenantDelta.ModelLateSeconds"/>).</summary>
    [Id(17)] public double ModelLateSeconds { get; init; }

    /// <summary>The longest late wake of the modelled GPU's thread reported with the phase, ms.</summary>
    [Id(18)] public double ModelLongestLateMs { get; init; }

    /// <summary>Garbage collections of the tenant's worker process (see <see cref="TenantDelta.WorkerGcs"/>), summed.</summary>
    [Id(19)] public long WorkerGcs { get; init; }

    /// <summary>How long they paused it, seconds, summed.</summary>
    [Id(20)] public double WorkerGcPauseSeconds { get; init; }

    /// <summary>The OS counters and system calls are an OS model's predictions (virtual time), not measured.</summary>
    [Id(21)] public bool OsModelled { get; init; }

    /// <summary>Of <see cref="NodeCpuSeconds"/>, the core-seconds the node's hypervisor stole (0 on bare metal).</summary>
    [Id(22)] public double NodeCpuStealSeconds { get; init; }

    /// <summary>Launches of the tenant its GPU's arbiter held in the phase.</summary>
    [Id(23)] public long ArbiterHeld { get; init; }

    /// <summary>How long it held them, seconds.</summary>
    [Id(24)] public double ArbiterHeldSeconds { get; init; }

    /// <summary>The GPU time predicted of the tenant's launches its arbiter let go in the phase, seconds.</summary>
    [Id(25)] public double ArbiterPredictedSeconds { get; init; }

    /// <summary>Batches of the tenant's kernels timed in the phase, which <see cref="GpuSeconds"/> is estimated from (see <see cref="TenantDelta.GpuTimedBatches"/>), summed; null when no report carried them.</summary>
    [Id(26)] public long? GpuTimedBatches { get; init; }

    /// <summary>A best-effort tenant behind an arbiter (real-time, or in virtual time): its duration predictor's correction at the phase's last report (<see cref="TenantDelta.ArbiterCorrection"/>; in virtual time at the window's end); 0 otherwise.</summary>
    [Id(27)] public double ArbiterCorrection { get; init; }

    /// <summary>
    /// Why its node's eBPF tracer stopped while the tenant was followed, in this phase or before it
    /// (the helper exited, or did not answer and was killed); null when it did not: then
    /// <see cref="Kernel"/> holds only what was counted before, not the whole phase.
    /// </summary>
    [Id(28)] public string? KernelLost { get; init; }
}
