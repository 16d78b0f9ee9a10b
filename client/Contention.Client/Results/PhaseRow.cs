using Contention.Grains;

namespace Contention.Client.Results;

/// <summary>
/// One phase of one tenant's worker (phases.csv): what it ran, the worker's getrusage over it,
/// and the eBPF tracer's system calls between its two boundaries (when traced).
/// </summary>
public sealed record PhaseRow
{
    public required string Tenant { get; init; }

    /// <summary>The device the tenant ran on (its kind is the execution model: cpu, cuda, sim).</summary>
    public string Device { get; init; } = "";

    public SyncMode? Sync { get; init; }

    public int Pid { get; init; }

    public int Index { get; init; }

    /// <summary>init, setup, steady, teardown, interrupted or run.</summary>
    public required string Phase { get; init; }

    public string Op { get; init; } = "";

    public long Bytes { get; init; }

    public int Iterations { get; init; }

    public int IterationsRun { get; init; }

    public long Operations { get; init; }

    public double WallSeconds { get; init; }

    public long VoluntarySwitches { get; init; }

    public long InvoluntarySwitches { get; init; }

    public double UserCpuSeconds { get; init; }

    public double SystemCpuSeconds { get; init; }

    public long MinorFaults { get; init; }

    public long MajorFaults { get; init; }

    /// <summary>Whether the eBPF tracer counted this phase's system calls.</summary>
    public bool Traced { get; init; }

    public long Syscalls { get; init; }

    public double SyscallSeconds { get; init; }

    public long TimedCalls { get; init; }
}
