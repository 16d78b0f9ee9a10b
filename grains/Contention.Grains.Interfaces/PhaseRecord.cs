namespace Contention.Grains;

/// <summary>
/// One phase of a tenant's worker, between two in-band boundaries: what it ran and what the OS
/// did for it meanwhile — getrusage from the worker, and the system calls the node's eBPF tracer
/// counted between the two boundaries (none of the boundary handshake's own).
/// </summary>
[GenerateSerializer, Immutable, Alias("contention.PhaseRecord")]
public sealed record PhaseRecord
{
    /// <summary>The tenant.</summary>
    [Id(0)] public required string Tenant { get; init; }

    /// <summary>The worker process (a restarted tenant's phases start again at 0 under a new one).</summary>
    [Id(1)] public int Pid { get; init; }

    /// <summary>0 for start-up, then one more per boundary.</summary>
    [Id(2)] public int Index { get; init; }

    /// <summary>init, setup, steady, teardown, interrupted or run.</summary>
    [Id(3)] public required string Name { get; init; }

    /// <summary>Grid point: the operation; empty outside a grid.</summary>
    [Id(4)] public string Op { get; init; } = "";

    /// <summary>Grid point: bytes the operation touches.</summary>
    [Id(5)] public long Bytes { get; init; }

    /// <summary>Steady phase: launches asked for.</summary>
    [Id(6)] public int Iterations { get; init; }

    /// <summary>Steady phase: launches made (fewer when the point's time limit cut them).</summary>
    [Id(7)] public int IterationsRun { get; init; }

    /// <summary>Operations completed in the phase.</summary>
    [Id(8)] public long Operations { get; init; }

    /// <summary>Wall time.</summary>
    [Id(9)] public double WallSeconds { get; init; }

    /// <summary>getrusage over the phase (the process; the thread for a tenant inside the silo).</summary>
    [Id(10)] public OsCounters Os { get; init; } = OsCounters.Zero;

    /// <summary>The eBPF tracer's counts over the phase; null where it does not run.</summary>
    [Id(11)] public KernelCounters? Kernel { get; init; }

    /// <summary>The node.</summary>
    [Id(12)] public string Node { get; init; } = "";
}
