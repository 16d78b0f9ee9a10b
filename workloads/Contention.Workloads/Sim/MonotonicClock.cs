using System.Diagnostics;

namespace Contention.Workloads.Sim;

/// <summary>
/// CLOCK_MONOTONIC in nanoseconds, the clock every process on a node shares: the modelled GPU
/// and its tenants' worker processes compare timestamps taken in different processes.
/// </summary>
public static class MonotonicClock
{
    private static readonly double TicksToNs = 1e9 / Stopwatch.Frequency;

    /// <summary>Now, in nanoseconds.</summary>
    public static long NowNs() => Stopwatch.Frequency == 1_000_000_000 ? Stopwatch.GetTimestamp() : (long)(Stopwatch.GetTimestamp() * TicksToNs);
}
