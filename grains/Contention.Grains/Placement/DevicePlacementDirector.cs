using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace Contention.Grains.Placement;

/// <summary>
/// Picks, among compatible silos, one whose metadata lists a device satisfying the requirement
/// the caller put in the request context (<see cref="DeviceRequirement"/>). The built-in
/// metadata filters compare with the caller's own metadata, which an external client lacks, so
/// the requirement travels with the call instead.
/// </summary>
internal sealed class DevicePlacementDirector(ISiloMetadataCache metadata) : IPlacementDirector
{
    /// <inheritdoc />
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var silos = context.GetCompatibleSilos(target);
        if (target.RequestContextData is null || !target.RequestContextData.TryGetValue(DeviceRequirement.Key, out var value) || value is not string required)
        {
            if (target.RequestContextData?.TryGetValue(DeviceRequirement.CoordinatorKey, out var named) == true && named is string node)
            {
                // An experiment asked to run on a named node (run --coordinator).
                var byName = silos.Where(silo => NodeName(silo) == node).ToArray();
                return byName.Length > 0 ? Task.FromResult(byName[0])
                    : throw new OrleansException($"no node is named '{node}' (nodes: {string.Join(", ", silos.Select(NodeName))}); give --coordinator one of them");
            }

            return Task.FromResult(silos.Contains(context.LocalSilo) ? context.LocalSilo : silos[Random.Shared.Next(silos.Length)]);
        }

        var matching = silos.Where(silo => Devices(silo).Any(device => DeviceRequirement.Satisfies(device, required))).ToArray();
        if (matching.Length == 0)
        {
            var offered = string.Join("; ", silos.Select(s => $"{s}: {string.Join(",", Devices(s))}"));
            throw new OrleansException($"no node advertises device '{required}' (nodes: {offered}); start a node with that device or change the tenant's device");
        }

        return Task.FromResult(matching[Random.Shared.Next(matching.Length)]);
    }

    private string? NodeName(SiloAddress silo) =>
        metadata.GetSiloMetadata(silo).Metadata.TryGetValue(DeviceRequirement.NodeKey, out var name) ? name : null;

    private string[] Devices(SiloAddress silo) =>
        metadata.GetSiloMetadata(silo).Metadata.TryGetValue(DeviceRequirement.MetadataKey, out var list) ? list.Split(',') : [];
}
