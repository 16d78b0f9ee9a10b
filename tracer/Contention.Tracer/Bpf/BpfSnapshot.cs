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
/// <param name="ThreadCalls">Per traced thread and system call, when the helper counts them (<see cref="BpfTracer.ThreadCalls"/>); empty otherwise.</param>
public sealed record BpfSnapshot(long Sequence, long KtimeNs, IReadOnlyList<SyscallCounters> Syscalls, IReadOnlyList<IoctlCounters> Ioctls, IReadOnlyList<ThreadSchedCounters> Threads, IReadOnlyList<RunQueueCounters> RunQueues, IReadOnlyList<MarkCounters> Marks, BpfDrops Dropped, IReadOnlyList<ThreadCallCounters>? ThreadCalls = null)
{
    /// <summary>Per traced thread and system call (empty when the helper does not count them).</summary>
    public IReadOnlyList<ThreadCallCounters> ThreadCalls { get; init; } = ThreadCalls ?? [];
}
