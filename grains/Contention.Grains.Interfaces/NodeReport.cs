namespace Contention.Grains;

/// <summary>One node's report for one experiment: a delta per tenant it hosts.</summary>
/// <param name="Node">The reporting node.</param>
/// <param name="Sequence">Increases by one per report from this node, so duplicates can be dropped.</param>
/// <param name="Tenants">The deltas.</param>
[GenerateSerializer, Immutable, Alias("contention.NodeReport")]
public sealed record NodeReport(
    [property: Id(0)] string Node,
    [property: Id(1)] long Sequence,
    [property: Id(2)] IReadOnlyList<TenantDelta> Tenants);
