namespace Contention.Client.Mixes;

/// <summary>
/// A mix's parameter sweep: the product of its axes, each point run <see cref="Repetitions"/>
/// times as an experiment of its own (docs/mixes.md, "Sweeps").
/// </summary>
/// <param name="Axes">The axes in the order the mix lists them (the last varies fastest).</param>
/// <param name="Repetitions">Runs of each point.</param>
/// <param name="Points">Every run, in the order they run: all points of repetition 1, then of repetition 2, …</param>
public sealed record Sweep(IReadOnlyList<SweepAxis> Axes, int Repetitions, IReadOnlyList<SweepPoint> Points)
{
    /// <summary>Distinct points (runs divided by repetitions).</summary>
    public int PointCount => Repetitions == 0 ? 0 : Points.Count / Repetitions;

    /// <summary>Points of the product left out because their values leave every tenant out (replicas: 0 on several axes), as <c>axis=value, …</c>; their numbers are skipped.</summary>
    public IReadOnlyList<string> LeftOut { get; init; } = [];
}

/// <summary>One axis: a tenant field for every tenant (<c>sync</c>), for one tenant (<c>infer.rate</c>), or <c>warmup</c> / <c>duration</c>.</summary>
/// <param name="Name">As written in the mix.</param>
/// <param name="Values">The values, as written.</param>
public sealed record SweepAxis(string Name, IReadOnlyList<string> Values);

/// <summary>One run of a sweep: a point of the product and a repetition.</summary>
/// <param name="Index">The point's place in the product, from 1 (the same in every repetition).</param>
/// <param name="Repetition">From 1.</param>
/// <param name="Values">Axis name to value, in axis order.</param>
/// <param name="Mix">The mix this run runs: the sweep's mix with the values applied.</param>
public sealed record SweepPoint(int Index, int Repetition, IReadOnlyList<KeyValuePair<string, string>> Values, Mix Mix)
{
    /// <summary>Deterministic id, e.g. <c>p007-r2</c>: the same for the same mix, so a sweep can resume.</summary>
    public string Id => FormattableString.Invariant($"p{Index:D3}-r{Repetition}");

    /// <summary>How far apart the seeds of a sweep's repetitions are: repetition r draws with the mix's seeds + (r - 1) × this.</summary>
    public const int RepetitionSeedStride = 1_000_003;

    /// <summary>What this repetition adds to its tenants' seeds, so repetitions draw other arrivals and start pauses.</summary>
    public int SeedOffset => SeedOffsetOf(Repetition);

    /// <summary>What repetition <paramref name="repetition"/> (from 1) adds to its tenants' seeds.</summary>
    public static int SeedOffsetOf(int repetition) => unchecked((repetition - 1) * RepetitionSeedStride);

    /// <summary>The mix as this repetition runs it: every tenant's seed moved by <see cref="SeedOffset"/>.</summary>
    public Mix Reseeded() => SeedOffset == 0 ? Mix : Mix with { Tenants = [.. Mix.Tenants.Select(t => t with { Seed = unchecked(t.Seed + SeedOffset) })] };

    /// <summary>The values as <c>axis=value</c> pairs.</summary>
    public string Describe() => string.Join(' ', Values.Select(v => $"{v.Key}={v.Value}"));
}
