namespace Contention.Workloads.Worker;

/// <summary>
/// One phase of a tenant's worker as the worker itself measured it, between two in-band
/// boundaries: what it ran, for how long, and what the OS charged the process meanwhile
/// (getrusage: the whole process, or the workload thread alone when it runs inside the silo).
/// </summary>
public sealed record PhaseSample
{
    /// <summary>0 for the first phase (start-up), then one more per boundary.</summary>
    public int Index { get; init; }

    /// <summary><c>init</c>, <c>setup</c>, <c>steady</c>, <c>teardown</c>, <c>run</c> or <c>idle</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Microbenchmark grid: the operation (lower case); null outside a grid point.</summary>
    public string? Op { get; init; }

    /// <summary>Microbenchmark grid: bytes the operation touches.</summary>
    public long Bytes { get; init; }

    /// <summary>Steady phase: launches asked for.</summary>
    public int Iterations { get; init; }

    /// <summary>Steady phase: launches made (fewer than asked when the point's time limit cut them).</summary>
    public int IterationsRun { get; init; }

    /// <summary>Operations completed in the phase (setup: warm-up operations; steady: 1; run: every operation).</summary>
    public long Operations { get; init; }

    /// <summary>Wall time of the phase.</summary>
    public long WallNs { get; init; }

    /// <summary>Context switches: waits.</summary>
    public long VoluntarySwitches { get; init; }

    /// <summary>Context switches: preemptions.</summary>
    public long InvoluntarySwitches { get; init; }

    /// <summary>User-mode CPU time (microsecond resolution).</summary>
    public long UserNs { get; init; }

    /// <summary>Kernel-mode CPU time (microsecond resolution).</summary>
    public long SystemNs { get; init; }

    /// <summary>Page faults served without I/O.</summary>
    public long MinorFaults { get; init; }

    /// <summary>Page faults that needed I/O.</summary>
    public long MajorFaults { get; init; }
}
