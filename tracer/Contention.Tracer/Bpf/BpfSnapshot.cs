namespace Contention.Tracer.Bpf;

/// <summary>Everything the eBPF helper counted, at one instant.</summary>
/// <param name="Sequence">Increases by one per snapshot.</param>
/// <param name="KtimeNs">CLOCK_MONOTONIC time of the snapshot.</param>
/// <param name="Syscalls">Per traced root and system call.</param>
/// <param name="DroppedKeys">Calls not counted because the counter map was full.</param>
/// <param name="DroppedInflight">Calls whose duration was not measured because the in-flight map was full.</param>
/// <param name="DroppedChildren">Child processes not followed because the tracking map was full.</param>
public sealed record BpfSnapshot(long Sequence, long KtimeNs, IReadOnlyList<SyscallCounters> Syscalls, long DroppedKeys, long DroppedInflight, long DroppedChildren);
