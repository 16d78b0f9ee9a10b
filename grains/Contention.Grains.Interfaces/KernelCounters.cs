namespace Contention.Grains;

/// <summary>
/// What the node's eBPF tracer saw of a tenant's worker (its process tree) over an interval:
/// system calls by name and category, NVIDIA ioctls decoded, off-CPU time and run-queue latency.
/// </summary>
[GenerateSerializer, Immutable, Alias("contention.KernelCounters")]
public sealed record KernelCounters
{
    /// <summary>Slots of <see cref="RunQueueLog2"/>: slot i counts waits in [2^i, 2^(i+1)) ns.</summary>
    public const int HistogramSlots = 32;

    /// <summary>By system call (and, for ioctl, by gpu-driver / other-ioctl).</summary>
    [Id(0)] public IReadOnlyList<SyscallCount> Syscalls { get; init; } = [];

    /// <summary>By decoded ioctl kind.</summary>
    [Id(1)] public IReadOnlyList<IoctlCount> Ioctls { get; init; } = [];

    /// <summary>Time the worker's threads spent switched out, summed over threads.</summary>
    [Id(2)] public double OffCpuSeconds { get; init; }

    /// <summary>Waits for a CPU (runnable to running) by log2 of their ns; empty when none.</summary>
    [Id(3)] public long[] RunQueueLog2 { get; init; } = [];

    /// <summary>Waits for a CPU, summed.</summary>
    [Id(4)] public double RunQueueSeconds { get; init; }

    /// <summary>eBPF events the tracer could not count on the node so far (full maps); 0 when none.</summary>
    [Id(5)] public long Dropped { get; init; }

    /// <summary>Calls in all categories.</summary>
    public long TotalCalls => Syscalls.Sum(s => s.Count);
}
