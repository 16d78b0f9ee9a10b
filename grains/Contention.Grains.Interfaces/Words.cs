using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;

namespace Contention.Grains;

/// <summary>
/// The one spelling of the vocabulary enums (<see cref="TenantKind"/>, <see cref="SyncMode"/>,
/// <see cref="Isolation"/>, <see cref="MeasurementPhase"/>, <see cref="EbpfMode"/>) outside the
/// code: the member's name in lower case, as mixes, options, results and metric labels write it.
/// </summary>
public static class Words
{
    /// <summary>The value's word: <c>TenantKind.Microbench</c> is <c>microbench</c>.</summary>
    public static string Word<T>(this T value)
        where T : struct, Enum => Cache<T>.ToWord.TryGetValue(value, out var word) ? word : value.ToString().ToLowerInvariant();

    /// <summary>Every word of <typeparamref name="T"/>, in declaration order.</summary>
    public static IReadOnlyList<string> All<T>()
        where T : struct, Enum => Cache<T>.Ordered;

    /// <summary>Every word of <typeparamref name="T"/>, comma separated (for "expected one of: …").</summary>
    public static string List<T>()
        where T : struct, Enum => string.Join(", ", Cache<T>.Ordered);

    /// <summary>The value <paramref name="word"/> names, in any case; false for anything else (numbers included).</summary>
    public static bool TryParse<T>(string? word, out T value)
        where T : struct, Enum => Cache<T>.FromWord.TryGetValue(word ?? "", out value);

    /// <summary>The value <paramref name="word"/> names, in any case.</summary>
    /// <exception cref="FormatException">Not one of the words.</exception>
    public static T Parse<T>(string? word)
        where T : struct, Enum => TryParse<T>(word, out var value) ? value : throw new FormatException($"'{word}' is not one of: {List<T>()}");

    [SuppressMessage("Design", "CA1812", Justification = "Static holder")]
    private static class Cache<T>
        where T : struct, Enum
    {
        public static readonly string[] Ordered = Enum.GetValues<T>().Select(v => v.ToString().ToLowerInvariant()).ToArray();
        public static readonly FrozenDictionary<T, string> ToWord = Enum.GetValues<T>().ToFrozenDictionary(v => v, v => v.ToString().ToLowerInvariant());
        public static readonly FrozenDictionary<string, T> FromWord = Enum.GetValues<T>().ToFrozenDictionary(v => v.ToString().ToLowerInvariant(), v => v, StringComparer.OrdinalIgnoreCase);
    }
}
