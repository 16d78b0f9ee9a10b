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

    /// <summary>
    /// Busy-waits on the calling thread until <paramref name="deadlineNs"/> (its core stays awake;
    /// no system call), looking at the clock every few tens of nanoseconds: a coarser pause
    /// (<c>Thread.SpinWait(16)</c>, ~0.6 µs) overshot each deadline by ~0.3 µs on average.
    /// Returns the time it last read, at or after the deadline (one clock read saved for a
    /// caller that needs it).
    /// </summary>
    public static long SpinUntil(long deadlineNs)
    {
        long now;
        while ((now = NowNs()) < deadlineNs)
        {
            Thread.SpinWait(1);
        }

        return now;
    }
}
