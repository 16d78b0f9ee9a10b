namespace Contention.Tracer.Bpf;

/// <summary>Scheduling counters of one traced thread, from sched_switch and sched_wakeup, cumulative.</summary>
/// <param name="Root">The tgid the node registered.</param>
/// <param name="Tgid">The thread's process (the root or a child of it).</param>
/// <param name="Tid">The thread.</param>
/// <param name="Voluntary">Switched out while waiting (not runnable).</param>
/// <param name="Involuntary">Switched out while runnable (preempted).</param>
/// <param name="OffCpuNs">Time switched out, summed (waiting and queued for a CPU alike).</param>
/// <param name="RunQueueNs">Time runnable but not running (after a wakeup or a preemption), summed.</param>
/// <param name="RunQueueCount">Waits for a CPU that ended.</param>
/// <param name="Name">The thread's name (comm) at its last switch.</param>
public sealed record ThreadSchedCounters(int Root, int Tgid, int Tid, long Voluntary, long Involuntary, long OffCpuNs, long RunQueueNs, long RunQueueCount, string Name);
