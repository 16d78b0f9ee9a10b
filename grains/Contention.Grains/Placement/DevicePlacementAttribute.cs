using Orleans.Placement;

namespace Contention.Grains.Placement;

/// <summary>Marks a grain class for <see cref="DevicePlacementStrategy"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class DevicePlacementAttribute : PlacementAttribute
{
    /// <summary>Creates the attribute.</summary>
    public DevicePlacementAttribute()
        : base(DevicePlacementStrategy.Instance)
    {
    }
}
