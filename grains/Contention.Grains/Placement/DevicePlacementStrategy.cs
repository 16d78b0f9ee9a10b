namespace Contention.Grains.Placement;

/// <summary>Place a grain on a node that advertises the device named in the request context.</summary>
[GenerateSerializer, Immutable, Alias("contention.DevicePlacementStrategy")]
public sealed class DevicePlacementStrategy : PlacementStrategy
{
    /// <summary>The shared instance.</summary>
    public static DevicePlacementStrategy Instance { get; } = new();
}
