namespace Contention.Client.Mixes;

/// <summary>Where a mix field appears.</summary>
public enum MixScope
{
    /// <summary>The document itself.</summary>
    Top,

    /// <summary>A tenant, or the mix's <c>defaults</c>.</summary>
    Tenant,

    /// <summary>A tenant's <c>restart</c>.</summary>
    Restart,

    /// <summary>A block of a microbench tenant's <c>grid</c>.</summary>
    Grid,
}
