namespace Contention.Grains;

/// <summary>An experiment as the experiment grain runs it: tenants, warm-up, measurement window.</summary>
/// <param name="Name">The mix's name.</param>
/// <param name="Tenants">The tenants to start.</param>
/// <param name="WarmupSeconds">Time before measurement starts.</param>
/// <param name="DurationSeconds">The measurement window.</param>
[GenerateSerializer, Immutable, Alias("contention.ExperimentPlan")]
public sealed record ExperimentPlan(
    [property: Id(0)] string Name,
    [property: Id(1)] IReadOnlyList<TenantSpec> Tenants,
    [property: Id(2)] double WarmupSeconds,
    [property: Id(3)] double DurationSeconds);
