namespace Contention.Grains;

/// <summary>
/// What one tenant did in one report interval on its node: operations completed with their
/// latencies, and what /proc (and, where it runs, the eBPF tracer) saw of its worker.
/// </summary>
[GenerateSerializer, Immutable, Alias("contention.TenantDelta")]
public sealed record TenantDelta
{
    /// <summary>The tenant.</summary>
    [Id(0)] public required string Tenant { get; init; }

    /// <summary>The node it ran on.</summary>
    [Id(1)] public required string Node { get; init; }

    /// <summary>What the tenant runs.</summary>
    [Id(2)] public required TenantKind Kind { get; init; }

    /// <summary>The device it ran on.</summary>
    [Id(3)] public required string Device { get; init; }

    /// <summary>The experiment phase the interval belongs to.</summary>
    [Id(4)] public required MeasurementPhase Phase { get; init; }

    /// <summary>Length of the interval, seconds.</summary>
    [Id(5)] public double IntervalSeconds { get; init; }

    /// <summary>Operations completed.</summary>
    [Id(6)] public long Completed { get; init; }

    /// <summary>Latency histogram of those operations, nanoseconds, compressed HdrHistogram encoding.</summary>
    [Id(7)] public byte[] Latency { get; init; } = [];

    /// <summary>What /proc saw of the worker.</summary>
    [Id(8)] public OsCounters Os { get; init; } = OsCounters.Zero;

    /// <summary>What the eBPF tracer saw of the worker; null where eBPF is unavailable (then /proc only).</summary>
    [Id(9)] public KernelCounters? Kernel { get; init; }

    /// <summary>Phases the tenant's worker ended since the previous report, in order.</summary>
    [Id(10)] public IReadOnlyList<PhaseRecord> Phases { get; init; } = [];

    /// <summary>Core-seconds the whole node's CPUs were busy over the interval (every process, not only this tenant's).</summary>
    [Id(11)] public double NodeCpuBusySeconds { get; init; }

    /// <summary>Core-seconds the node's CPUs had over the interval (its length times its cores).</summary>
    [Id(12)] public double NodeCpuSeconds { get; init; }

    /// <summary>Output lines of a command tenant that matched its latency pattern but held no usable latency (negative, not finite, beyond an hour, unknown unit): not operations, counted here instead.</summary>
    [Id(13)] public long RejectedLines { get; init; }

    /// <summary>How often the node was asked to sample (its tracer interval), seconds: an interval far longer means its timers ran late.</summary>
    [Id(14)] public double AskedIntervalSeconds { get; init; }

    /// <summary>GPU time of the tenant's kernels in the interval (CUDA events on a real GPU, exact on the modelled one), seconds; null where not measured (cpu devices, command tenants).</summary>
    [Id(15)] public double? GpuSeconds { get; init; }

    /// <summary>Seconds the modelled GPU's thread ran late over the interval (0 off a modelled GPU): its completions reached tenants that much late.</summary>
    [Id(16)] public double ModelLateSeconds { get; init; }

    /// <summary>The longest late wake of the modelled GPU's thread since the node started, ms (0 off a modelled GPU).</summary>
    [Id(17)] public double ModelLongestLateMs { get; init; }

    /// <summary>Garbage collections of the tenant's .NET worker process in the interval (each paused its workload; the silo's for a thread tenant; 0 for commands).</summary>
    [Id(18)] public long WorkerGcs { get; init; }

    /// <summary>How long they paused it, seconds.</summary>
    [Id(19)] public double WorkerGcPauseSeconds { get; init; }

    /// <summary>Of the node's core-seconds in this interval, those its hypervisor stole (0 on bare metal).</summary>
    [Id(20)] public double NodeCpuStealSeconds { get; init; }

    /// <summary>Launches of the tenant its GPU's arbiter held in the interval (a best-effort tenant behind one; 0 otherwise).</summary>
    [Id(21)] public long ArbiterHeld { get; init; }

    /// <summary>How long it held them, seconds.</summary>
    [Id(22)] public double ArbiterHeldSeconds { get; init; }

    /// <summary>The GPU time predicted of the tenant's launches its arbiter let go in the interval, seconds (against <see cref="GpuSeconds"/>, the measured).</summary>
    [Id(23)] public double ArbiterPredictedSeconds { get; init; }

    /// <summary>Batches of the tenant's kernels its device timed in the interval, which <see cref="GpuSeconds"/> is estimated from (a real GPU samples them); null where the GPU time is exact or absent.</summary>
    [Id(24)] public long? GpuTimedBatches { get; init; }

    /// <summary>Where the GPU time is sampled (<see cref="GpuTimedBatches"/> not null): the tenant's compute kernels in the interval, counted once their batch was synchronised.</summary>
    [Id(25)] public long? GpuKernels { get; init; }

    /// <summary>Where the GPU time is sampled: the kernels of the interval's timed batches.</summary>
    [Id(26)] public long? GpuTimedKernels { get; init; }

    /// <summary>Where the GPU time is sampled: those kernels' measured time, seconds. A phase's GPU time is its kernels at the mean time per kernel of its own timed batches, not <see cref="GpuSeconds"/>'s running estimate, whose mean reaches back before the phase.</summary>
    [Id(27)] public double? GpuTimedSeconds { get; init; }

    /// <summary>A best-effort tenant behind an arbiter (real-time, or in virtual time): its duration predictor's correction (measured GPU time over the profile's) as last reported; 0 otherwise.</summary>
    [Id(28)] public double ArbiterCorrection { get; init; }

    /// <summary>
    /// Why the node's eBPF tracer stopped after it followed the worker (it exited, or did not answer
    /// and was killed): <see cref="Kernel"/> is null from then on, and the worker's counts end there;
    /// null while it runs, and for a worker it never followed.
    /// </summary>
    [Id(29)] public string? KernelLost { get; init; }
}
