namespace Contention.Tracer.Bpf;

/// <summary>Run-queue latency of one traced process tree: from becoming runnable to running, cumulative.</summary>
/// <param name="Root">The tgid the node registered.</param>
/// <param name="Count">Waits for a CPU that ended.</param>
/// <param name="TotalNs">Their time, summed.</param>
/// <param name="Histogram">Waits by log2 of their time in ns (slot i: [2^i, 2^(i+1)) ns).</param>
public sealed record RunQueueCounters(int Root, long Count, long TotalNs, long[] Histogram);
