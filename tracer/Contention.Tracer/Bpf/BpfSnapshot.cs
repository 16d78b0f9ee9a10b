namespace Contention.Tracer.Bpf;

/// <summary>Everything the eBPF helper counted, at one instant.</summary>
/// <param name="Sequence">Increases by one per snapshot.</param>
/// <param name="KtimeNs">CLOCK_MONOTONIC time of the snapshot.</param>
/// <param name="Syscalls">Per traced root and system call.</param>
/// <param name="DroppedStorage">Calls not counted because a traced task got no task-local storage.</param>
/// <param name="DroppedChildren">Child processes not followed because the tracking map was full.</param>
/// <param name="UnknownNumbers">Calls with a number beyond the helper's table (not counted per call).</param>
public sealed record BpfSnapshot(long Sequence, long KtimeNs, IReadOnlyList<SyscallCounters> Syscalls, long DroppedStorage, long DroppedChildren, long UnknownNumbers);
