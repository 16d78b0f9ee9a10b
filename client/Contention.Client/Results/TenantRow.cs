namespace Contention.Client.Results;

/// <summary>One tenant in one phase: the tidy row of tenants.csv and the per-tenant table.</summary>
public sealed record TenantRow
{
    public required string Experiment { get; init; }

    public required string Tenant { get; init; }

    public string Node { get; init; } = "";

    public string Kind { get; init; } = "";

    public string Device { get; init; } = "";

    public string Sync { get; init; } = "";

    public required string Phase { get; init; }

    /// <summary>Seconds the tracer covered in this phase.</summary>
    public double Seconds { get; init; }

    public long Completed { get; init; }

    /// <summary>Operations per second (steps, requests or repetitions).</summary>
    public double ThroughputPerSecond { get; init; }

    public double P50Ms { get; init; }

    public double P95Ms { get; init; }

    public double P99Ms { get; init; }

    public double MaxMs { get; init; }

    public double MeanMs { get; init; }

    public long VoluntarySwitches { get; init; }

    public long InvoluntarySwitches { get; init; }

    public double UserCpuSeconds { get; init; }

    public double SystemCpuSeconds { get; init; }

    public long MinorFaults { get; init; }

    public long MajorFaults { get; init; }

    /// <summary>The tenant's final state (Stopped, Failed, …).</summary>
    public string State { get; init; } = "";

    public int Restarts { get; init; }

    public string Error { get; init; } = "";
}
