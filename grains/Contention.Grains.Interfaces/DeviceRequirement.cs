namespace Contention.Grains;

/// <summary>
/// Carries a tenant's device requirement to the placement director through the request context:
/// set it around the first call to a tenant grain, which decides where the grain activates.
/// </summary>
public static class DeviceRequirement
{
    /// <summary>The request-context key.</summary>
    public const string Key = "contention.device";

    /// <summary>The silo-metadata key under which a node lists its devices, comma-separated.</summary>
    public const string MetadataKey = "contention.devices";

    /// <summary>The silo-metadata key under which a node says how many tenants each of its modelled GPUs holds.</summary>
    public const string SimSlotsKey = "contention.sim-slots";

    /// <summary>The silo-metadata key under which a node gives its name.</summary>
    public const string NodeKey = "contention.node";

    /// <summary>The request-context key naming the node an experiment (and its collector) should run on.</summary>
    public const string CoordinatorKey = "contention.coordinator";

    /// <summary>Sets the requirement for calls made from this async flow.</summary>
    public static void Set(string device) => RequestContext.Set(Key, device);

    /// <summary>Clears it.</summary>
    public static void Clear() => RequestContext.Remove(Key);

    /// <summary>Whether a node advertising <paramref name="advertised"/> satisfies <paramref name="required"/> (<c>sim</c> matches any <c>sim:N</c>).</summary>
    public static bool Satisfies(string advertised, string required)
    {
        ArgumentNullException.ThrowIfNull(advertised);
        ArgumentNullException.ThrowIfNull(required);
        return required.Contains(':', StringComparison.Ordinal)
            ? string.Equals(advertised, required, StringComparison.OrdinalIgnoreCase)
            : advertised.Split(':')[0].Equals(required, StringComparison.OrdinalIgnoreCase);
    }
}
