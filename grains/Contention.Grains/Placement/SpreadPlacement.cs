using System.Globalization;
using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace Contention.Grains.Placement;

/// <summary>
/// Place a grain keyed <c>NAME/K</c> on the K-th compatible silo (by address) modulo their number:
/// the groups of a simulation spread evenly over the cluster whatever its size.
/// </summary>
[GenerateSerializer, Immutable, Alias("contention.SpreadPlacementStrategy")]
public sealed class SpreadPlacementStrategy : PlacementStrategy
{
    /// <summary>The shared instance.</summary>
    public static SpreadPlacementStrategy Instance { get; } = new();
}

/// <summary>Marks a grain class for <see cref="SpreadPlacementStrategy"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SpreadPlacementAttribute : PlacementAttribute
{
    /// <summary>Creates the attribute.</summary>
    public SpreadPlacementAttribute()
        : base(SpreadPlacementStrategy.Instance)
    {
    }
}

/// <summary>Picks the silo of <see cref="SpreadPlacementStrategy"/>; a key without <c>/K</c> goes to the calling silo.</summary>
internal sealed class SpreadPlacementDirector : IPlacementDirector
{
    /// <inheritdoc />
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var silos = context.GetCompatibleSilos(target).OrderBy(s => s.ToParsableString(), StringComparer.Ordinal).ToArray();
        var key = target.GrainIdentity.Key.ToString() ?? "";
        var slash = key.LastIndexOf('/');
        if (slash < 0 || !int.TryParse(key.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var index))
        {
            return Task.FromResult(silos.Contains(context.LocalSilo) ? context.LocalSilo : silos[0]);
        }

        return Task.FromResult(silos[index % silos.Length]);
    }
}
