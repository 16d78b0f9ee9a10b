namespace Contention.Tracer.Trace;

/// <summary>Scheduling of one traced thread over an interval.</summary>
/// <param name="Tgid">Its process.</param>
/// <param name="Tid">The thread.</param>
/// <param name="Name">Its name (comm).</param>
/// <param name="Voluntary">Switched out while waiting.</param>
/// <param name="Involuntary">Switched out while runnable (preempted).</param>
/// <param name="OffCpuSeconds">Time switched out.</param>
/// <param name="RunQueueSeconds">Time runnable but waiting for a CPU.</param>
public sealed record ThreadRow(int Tgid, int Tid, string Name, long Voluntary, long Involuntary, double OffCpuSeconds, double RunQueueSeconds);
