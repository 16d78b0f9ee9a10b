namespace Contention.Workloads.Sim;

/// <summary>
/// A host's cores shared by the threads of a <see cref="VirtualGpu"/>'s tenants, as a round robin
/// of fixed slices: while <c>D</c> threads want a core and the host has <c>C &lt; D</c>, each of them
/// runs one slice in every <c>D / C</c> (on for a slice, then off for <c>D / C − 1</c> slices), so
/// its CPU work takes longer and a spinning thread notices its GPU work done only when it is next
/// on a core. A thread that wakes (from a blocking wait or a sleep) runs at once and starts its
/// round there (the kernel lets a woken thread preempt). Threads want a core while they launch and
/// while they spin; yielding waiters give theirs to any other runnable thread, and blocked or
/// sleeping ones want none. Approximate by design: each thread's turns are computed from the number
/// of runnable threads when it asks, not from a run queue, so for a moment more than C may run.
/// </summary>
public sealed class VirtualCores
{
    private readonly int cores;
    private readonly long sliceNs;

    /// <summary><paramref name="cores"/> cores (0: as many as the threads want), each thread's turn <paramref name="sliceNs"/> long.</summary>
    public VirtualCores(int cores, long sliceNs)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cores);
        ArgumentOutOfRangeException.ThrowIfLessThan(sliceNs, 1);
        this.cores = cores;
        this.sliceNs = sliceNs;
    }

    /// <summary>The host's cores; 0: as many as the threads want.</summary>
    public int Cores => cores;

    /// <summary>A thread's turn on a core while others wait for one, ns.</summary>
    public long SliceNs => sliceNs;

    /// <summary>Threads that want a core now: launching, or spinning while they wait.</summary>
    public int Runnable { get; private set; }

    /// <summary>Whether the threads outnumber the cores now.</summary>
    public bool Contended => cores > 0 && Runnable > cores;

    /// <summary>A thread starts wanting a core.</summary>
    public void Enter() => Runnable++;

    /// <summary>A thread stops wanting a core (it blocks, sleeps or yields while it waits).</summary>
    public void Leave() => Runnable = Math.Max(0, Runnable - 1);

    /// <summary>
    /// The first time from <paramref name="nowNs"/> that a thread whose turns started at
    /// <paramref name="phaseNs"/> is on a core, while <paramref name="demand"/> threads share the cores.
    /// </summary>
    public long NextOn(long nowNs, long phaseNs, int demand)
    {
        if (cores == 0 || demand <= cores)
        {
            return nowNs;
        }

        var period = (double)sliceNs * demand / cores;
        var position = Position(nowNs, phaseNs, period);
        return position < sliceNs ? nowNs : nowNs + (long)Math.Ceiling(period - position);
    }

    /// <summary>
    /// When <paramref name="cpuNs"/> of CPU work started at <paramref name="nowNs"/> is done by a
    /// thread whose turns started at <paramref name="phaseNs"/>, <see cref="Runnable"/> threads sharing the cores.
    /// </summary>
    public long Finish(long nowNs, long phaseNs, long cpuNs)
    {
        var demand = Runnable;
        if (cores == 0 || demand <= cores)
        {
            return nowNs + cpuNs;
        }

        var period = (double)sliceNs * demand / cores;
        var t = nowNs;
        var left = cpuNs;
        while (true)
        {
            t = NextOn(t, phaseNs, demand);
            var onFor = (long)Math.Max(1, sliceNs - Position(t, phaseNs, period));
            if (left <= onFor)
            {
                return t + left;
            }

            left -= onFor;
            t += onFor;
        }
    }

    private static double Position(long nowNs, long phaseNs, double period)
    {
        var position = (nowNs - phaseNs) % period;
        return position < 0 ? position + period : position;
    }
}
