namespace Contention.Client.Analysis;

/// <summary>
/// One marked phase of one run, as the analysis reads it: its grid point, the execution model it
/// ran on, and what the OS saw of it (system calls by category, context switches, CPU split).
/// </summary>
public sealed record PhaseObservation
{
    /// <summary>The run (a sweep run id, or the experiment id).</summary>
    public required string Run { get; init; }

    /// <summary>The execution model: the device's kind (cpu, cuda, sim).</summary>
    public required string Exec { get; init; }

    /// <summary>init, setup, steady, teardown, interrupted or run.</summary>
    public required string Phase { get; init; }

    public string Op { get; init; } = "";

    public long Bytes { get; init; }

    /// <summary>Launches asked for.</summary>
    public int Iterations { get; init; }

    /// <summary>Launches made.</summary>
    public int IterationsRun { get; init; }

    /// <summary>Calls by category; categories with none may be missing (read as 0).</summary>
    public IReadOnlyDictionary<string, long> Calls { get; init; } = new Dictionary<string, long>();

    /// <summary>Calls by system call name (gpu-driver and other ioctls apart, as in the categories).</summary>
    public IReadOnlyDictionary<string, long> BySyscall { get; init; } = new Dictionary<string, long>();

    /// <summary>Seconds in calls by category.</summary>
    public IReadOnlyDictionary<string, double> Seconds { get; init; } = new Dictionary<string, double>();

    /// <summary>Whether the eBPF tracer counted the phase's calls.</summary>
    public bool Traced { get; init; } = true;

    public double WallSeconds { get; init; }

    public long VoluntarySwitches { get; init; }

    public long InvoluntarySwitches { get; init; }

    public double UserSeconds { get; init; }

    public double SystemSeconds { get; init; }

    /// <summary>Calls in <paramref name="category"/> (all categories when null).</summary>
    public long CallsIn(string? category) => category is null ? Calls.Values.Sum() : Calls.GetValueOrDefault(category);
}
