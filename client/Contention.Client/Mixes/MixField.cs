using Contention.Grains;

namespace Contention.Client.Mixes;

/// <summary>One field of the mix schema (<see cref="MixSchema"/>).</summary>
/// <param name="Name">As written in a mix.</param>
/// <param name="Scope">Where it appears.</param>
/// <param name="Expected">What it accepts, as errors say it ("a whole number from 1 to 4096").</param>
/// <param name="Default">Its default as docs/mixes.md writes it; "—" for a required field.</param>
public sealed record MixField(string Name, MixScope Scope, string Expected, string Default)
{
    /// <summary>A tenant field that <c>defaults</c> cannot give.</summary>
    public bool TenantOnly { get; init; }

    /// <summary>A sweep axis or variant may set it (scalar fields).</summary>
    public bool Sweepable { get; init; } = Scope == MixScope.Tenant;

    /// <summary>The tenant kinds it applies to; empty for every kind.</summary>
    public IReadOnlyList<TenantKind> Kinds { get; init; } = [];
}
