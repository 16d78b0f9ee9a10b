namespace Contention.Client.Results;

/// <summary>One thread of a tenant's worker over the worker's whole life: a row of threads.csv.</summary>
public sealed record ThreadRow
{
    public required string Tenant { get; init; }

    public int Tid { get; init; }

    public string Name { get; init; } = "";

    public long VoluntarySwitches { get; init; }

    public long InvoluntarySwitches { get; init; }

    public double UserCpuSeconds { get; init; }

    public double SystemCpuSeconds { get; init; }

    public bool Exited { get; init; }
}
