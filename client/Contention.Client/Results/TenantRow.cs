using Contention.Grains;

namespace Contention.Client.Results;

/// <summary>One tenant in one phase: the tidy row of tenants.csv and the per-tenant table.</summary>
public sealed record TenantRow
{
    public required string Experiment { get; init; }

    public required string Tenant { get; init; }

    public string Node { get; init; } = "";

    public TenantKind Kind { get; init; }

    public string Device { get; init; } = "";

    public SyncMode Sync { get; init; }

    public required MeasurementPhase Phase { get; init; }

    /// <summary>How the tenants of its GPU shared it.</summary>
    public GpuSharing Sharing { get; init; }

    /// <summary>Under MPS: the most of the GPU's multiprocessors its kernels could take, percent.</summary>
    public int GpuSharePercent { get; init; } = 100;

    /// <summary>What its GPU's arbiter did (<c>off</c>: none; absent in results written before arbiters).</summary>
    public ArbiterMode Arbiter { get; init; }

    /// <summary>Under an arbiter: the most predicted best-effort GPU time on the GPU at once, µs (0 without one).</summary>
    public double ArbiterOutstandingUs { get; init; }

    /// <summary>Under a slicing arbiter: a best-effort kernel's slice length, µs (0 without slicing).</summary>
    public double ArbiterQuantumUs { get; init; }

    /// <summary>Launches its GPU's arbiter held in the phase (a best-effort tenant behind one; 0 otherwise, and in virtual time).</summary>
    public long ArbiterHeld { get; init; }

    /// <summary>How long it held them, seconds.</summary>
    public double ArbiterHeldSeconds { get; init; }

    /// <summary>The GPU time its arbiter predicted of the launches it let go, seconds (against <see cref="GpuSeconds"/>, the measured; 0 but for a best-effort tenant on a real-time GPU).</summary>
    public double ArbiterPredictedSeconds { get; init; }

    /// <summary>A best-effort tenant behind an arbiter (real-time, or in virtual time): its duration predictor's correction at the phase's end — its kernels' measured GPU time over the profile's, the least of its latest batches (docs/mixes.md); 0 otherwise.</summary>
    public double ArbiterCorrection { get; init; }

    /// <summary>Batches of its kernels timed in this phase, which <see cref="GpuSeconds"/> is estimated from (a real GPU times a sample of them, docs/metrics.md): the phase's kernels count at the mean time per kernel of these batches, and at 0 the GPU time is not measured (empty); null where the GPU time is exact (a modelled GPU) or absent.</summary>
    public long? GpuTimedBatches { get; init; }

    /// <summary>The most of its time in its batches a real GPU's kernel timer may take for it, percent (the mix's <c>gpu_timing</c>; 0: off): above the default 0.1 % its GPU time rests on more timed batches, and its timed requests wait on the GPU until queued.</summary>
    public double GpuTimingPercent { get; init; } = Contention.Workloads.Devices.DeviceOptions.DefaultKernelTimingBudget * 100;

    /// <summary>Seconds the tracer covered in this phase.</summary>
    public double Seconds { get; init; }

    public long Completed { get; init; }

    /// <summary>Operations per second (steps, requests or repetitions).</summary>
    public double ThroughputPerSecond { get; init; }

    public double P50Ms { get; init; }

    public double P95Ms { get; init; }

    public double P99Ms { get; init; }

    public double MaxMs { get; init; }

    public double MeanMs { get; init; }

    public long VoluntarySwitches { get; init; }

    public long InvoluntarySwitches { get; init; }

    public double UserCpuSeconds { get; init; }

    public double SystemCpuSeconds { get; init; }

    public long MinorFaults { get; init; }

    public long MajorFaults { get; init; }

    /// <summary>The tenant's final state (Stopped, Failed, …).</summary>
    public string State { get; init; } = "";

    public int Restarts { get; init; }

    public string Error { get; init; } = "";

    /// <summary>Requests per second offered to an open-loop inference tenant (its rate); 0 for a closed loop and other kinds.</summary>
    public double OfferedPerSecond { get; init; }

    /// <summary>GPU time of the tenant's kernels, seconds (per kernel, start to end: CUDA events around a sample of kernels on a real GPU, exact on the modelled one); null where not measured (cpu devices, commands, and a real GPU's phase in which none of the tenant's batches was timed: <see cref="GpuTimedBatches"/> 0).</summary>
    public double? GpuSeconds { get; init; }

    /// <summary>Seconds the modelled GPU's thread ran late while this tenant was measured: its kernels' completions reached tenants that much late (0 off a modelled GPU).</summary>
    public double ModelLateSeconds { get; init; }

    /// <summary>The longest late wake of the modelled GPU's thread, ms.</summary>
    public double ModelLongestLateMs { get; init; }

    /// <summary>Garbage collections of the .NET process the tenant's workload ran in (its worker; the silo for a thread tenant), each pausing the workload; 0 for commands.</summary>
    public long WorkerGcs { get; init; }

    /// <summary>How long those collections paused the process, ms.</summary>
    public double WorkerGcPauseMs { get; init; }

    /// <summary>The eBPF tracer followed the worker (else the system-call columns are empty: /proc only).</summary>
    public bool Traced { get; init; }

    /// <summary>The CPU, switch and system-call columns are the OS model's predictions (a simulation in virtual time), not measurements.</summary>
    public bool OsModelled { get; init; }

    /// <summary>System calls (eBPF).</summary>
    public long Syscalls { get; init; }

    /// <summary>Time in system calls, entry to exit, summed (eBPF); estimated from a sample when <see cref="TimedCalls"/> is below <see cref="Syscalls"/>.</summary>
    public double SyscallSeconds { get; init; }

    /// <summary>System calls whose time was measured (all, unless a thread made them faster than the tracer's sampling rate; 0 without timing).</summary>
    public long TimedCalls { get; init; }

    /// <summary>System calls by category (docs/syscall-categories.md).</summary>
    public Dictionary<string, long> CategoryCalls { get; init; } = [];

    /// <summary>Time in system calls by category.</summary>
    public Dictionary<string, double> CategorySeconds { get; init; } = [];

    /// <summary>Time the worker's threads spent switched out, summed over threads (eBPF).</summary>
    public double OffCpuSeconds { get; init; }

    /// <summary>Time the worker's threads waited for a CPU (eBPF).</summary>
    public double RunQueueSeconds { get; init; }

    /// <summary>Events the node's eBPF tracer could not count (full maps), node-wide, by the end of the phase; 0 normally.</summary>
    public long EbpfDropped { get; init; }

    /// <summary>
    /// Why the node's eBPF tracer stopped while it followed the tenant, in this phase or before
    /// (its helper exited, or did not answer and was killed); empty when it did not. Then the row's
    /// system-call columns are empty (<see cref="Traced"/> is false): syscalls.csv keeps only what
    /// was counted before it stopped.
    /// </summary>
    public string EbpfLost { get; init; } = "";

    /// <summary>Share (0 to 1) of the node's CPU time that was busy (any process) while this tenant was measured in this phase.</summary>
    public double NodeCpuBusy { get; init; }

    /// <summary>Share (0 to 1) of the node's CPU time its hypervisor stole while this tenant was measured in this phase (part of <see cref="NodeCpuBusy"/>; 0 on bare metal): every thread on a stolen core stalls, whatever it does.</summary>
    public double NodeCpuSteal { get; init; }

    /// <summary>Output lines of a command tenant that matched its latency pattern but held no usable latency (negative, not finite, beyond an hour): not counted as operations.</summary>
    public long RejectedLines { get; init; }

    /// <summary>The longest interval between two of the node's samples of this tenant in the phase, seconds; far above <see cref="AskedIntervalSeconds"/> when the node's timers ran late.</summary>
    public double LongestIntervalSeconds { get; init; }

    /// <summary>The interval the node was asked to sample at (its tracer interval), seconds.</summary>
    public double AskedIntervalSeconds { get; init; }
}
