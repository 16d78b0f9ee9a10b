using Contention.Grains;

namespace Contention.Client.Mixes;

/// <summary>A parsed tenant mix: an experiment's tenants and its timing.</summary>
public sealed record Mix
{
    /// <summary>The mix's name.</summary>
    public required string Name { get; init; }

    /// <summary>Free text.</summary>
    public string Description { get; init; } = "";

    /// <summary>Seconds the tenants run before measurement.</summary>
    public double WarmupSeconds { get; init; }

    /// <summary>Seconds of measurement.</summary>
    public double DurationSeconds { get; init; }

    /// <summary>The tenants, replicas expanded; <see cref="TenantSpec.Experiment"/> is filled in by <see cref="ToPlan"/>.</summary>
    public required IReadOnlyList<TenantSpec> Tenants { get; init; }

    /// <summary>The file it came from.</summary>
    public string Source { get; init; } = "";

    /// <summary>The file's text, kept for the results envelope.</summary>
    public string Text { get; init; } = "";

    /// <summary>The mix's sweep, when it declares one; its points are the runs.</summary>
    public Sweep? Sweep { get; init; }

    /// <summary>The plan the experiment grain runs, with the overrides of the command line applied.</summary>
    public ExperimentPlan ToPlan(string experiment, Func<TenantSpec, TenantSpec>? adjust = null) => new(
        Name,
        Tenants.Select(t => (adjust ?? (x => x))(t with { Experiment = experiment })).ToList(),
        WarmupSeconds,
        DurationSeconds);
}
