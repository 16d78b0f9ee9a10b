using System.Globalization;

namespace Contention.Client.Mixes;

/// <summary>The whole numbers a mix field accepts.</summary>
/// <param name="Min">The smallest.</param>
/// <param name="Max">The largest.</param>
public sealed record MixRange(int Min, int Max)
{
    /// <summary>As errors say it.</summary>
    public string Expected => string.Create(CultureInfo.InvariantCulture, $"a whole number from {Min} to {Max}");

    /// <summary>Whether <paramref name="value"/> is in the range.</summary>
    public bool Contains(int value) => value >= Min && value <= Max;
}
