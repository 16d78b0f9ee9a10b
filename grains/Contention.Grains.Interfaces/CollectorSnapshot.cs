namespace Contention.Grains;

/// <summary>The collector's view of an experiment.</summary>
/// <param name="Experiment">The experiment.</param>
/// <param name="Tenants">One aggregate per tenant and phase.</param>
/// <param name="Failures">Every failure reported, in order.</param>
/// <param name="Reports">Node reports merged.</param>
/// <param name="Phases">Every phase the tenants' workers marked, by tenant, worker and index.</param>
/// <param name="Activation">Which activation of the collector answered: another one than before means the collector's node left and what it held is gone.</param>
[GenerateSerializer, Immutable, Alias("contention.CollectorSnapshot")]
public sealed record CollectorSnapshot(
    [property: Id(0)] string Experiment,
    [property: Id(1)] IReadOnlyList<TenantAggregate> Tenants,
    [property: Id(2)] IReadOnlyList<TenantFailure> Failures,
    [property: Id(3)] long Reports,
    [property: Id(4)] IReadOnlyList<PhaseRecord> Phases,
    [property: Id(5)] string Activation = "");
