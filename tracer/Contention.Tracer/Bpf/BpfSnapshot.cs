namespace Contention.Tracer.Bpf;

/// <summary>Everything the eBPF helper counted, at one instant; counters are cumulative since each root was added.</summary>
/// <param name="Sequence">Increases by one per snapshot.</param>
/// <param name="KtimeNs">CLOCK_MONOTONIC time of the snapshot.</param>
/// <param name="Syscalls">Per traced root and system call.</param>
/// <param name="Ioctls">Per traced root and ioctl kind.</param>
/// <param name="Threads">Per traced thread.</param>
/// <param name="RunQueues">Per traced root.</param>
/// <param name="Marks">Per traced root that made phase-marker calls.</param>
/// <param name="Dropped">Events lost to full maps or out of range, never silently.</param>
public sealed record BpfSnapshot(long Sequence, long KtimeNs, IReadOnlyList<SyscallCounters> Syscalls, IReadOnlyList<IoctlCounters> Ioctls, IReadOnlyList<ThreadSchedCounters> Threads, IReadOnlyList<RunQueueCounters> RunQueues, IReadOnlyList<MarkCounters> Marks, BpfDrops Dropped);
