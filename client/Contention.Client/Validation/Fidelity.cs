#if !NO_REPORTS
using Contention.Client.Analysis;

namespace Contention.Client.Validation;

/// <summary>One case and metric: the real and modelled values over repetitions and their ratio.</summary>
/// <param name="Case">The case (<see cref="ValidationSample.Case"/>).</param>
/// <param name="Sharing">Its GPU sharing mode.</param>
/// <param name="Metric">The metric.</param>
/// <param name="Real">The real GPU's value in each repetition.</param>
/// <param name="Model">The modelled GPU's value in each repetition.</param>
/// <param name="Ratio">Mean modelled over mean real.</param>
/// <param name="Low">2.5th percentile of the ratio over bootstrap resamples of both sides' repetitions (NaN with fewer than two on a side).</param>
/// <param name="High">97.5th percentile of the same.</param>
/// <param name="Overloaded">The tenant could not keep up with its offered load on one side: a latency is no tail here, and is left out of the summaries.</param>
/// <param name="RealPooled">A pooled latency (<c>validate --pooled</c>): the real side's percentile of every run's operations together, ms; null otherwise.</param>
/// <param name="ModelPooled">The same of the modelled side.</param>
/// <param name="FewestOperations">The fewest operations one replica completed in one run of either side (null where not known): a tail percentile of fewer than 100 is that run's longest operation.</param>
/// <param name="FewestTimedBatches">The fewest batches one replica's GPU time in one run was estimated from, either side (a real GPU's sampled timing; null where every run's is exact or not known).</param>
/// <param name="Steps">For a metric measured in steps (<see cref="ValidationMetric.Resolution"/>): the larger side's mean a replica a run, in steps (CPU time: /proc's clock ticks); null otherwise or where a side's windows are not known.</param>
public sealed record FidelityCase(string Case, string Sharing, ValidationMetric Metric, IReadOnlyList<double> Real, IReadOnlyList<double> Model, double Ratio, double Low, double High, bool Overloaded, double? RealPooled = null, double? ModelPooled = null, long? FewestOperations = null, long? FewestTimedBatches = null, double? Steps = null)
{
    /// <summary>The real side's value the ratio is of: the pooled percentile, else the mean over repetitions.</summary>
    public double RealValue => RealPooled ?? Real.Average();

    /// <summary>The modelled side's value the ratio is of.</summary>
    public double ModelValue => ModelPooled ?? Model.Average();

    /// <summary>How far the ratio is from 1: |ratio - 1|.</summary>
    public double Error => Math.Abs(Ratio - 1);

    /// <summary>
    /// Whether both sides' runs are so few steps of the measurement that its rounding alone moves
    /// the ratio by more than a tenth (<see cref="Fidelity.ResolvedSteps"/>): a few clock ticks of
    /// CPU time against a few.
    /// </summary>
    public bool BelowResolution => Steps < Fidelity.ResolvedSteps;

    /// <summary>Whether the case counts in the summaries: not an overloaded tenant's latency, nor below the measurement's resolution.</summary>
    public bool Counted => !(Overloaded && Metric.Latency) && !BelowResolution;
}

/// <summary>A metric's ratios over the cases of one sharing mode (or all: <see cref="Sharing"/> "all").</summary>
/// <param name="Metric">The metric.</param>
/// <param name="Sharing">timeslice, mps or all.</param>
/// <param name="Cases">Cases compared (overloaded latencies left out).</param>
/// <param name="MedianError">Median over cases of |ratio - 1|.</param>
/// <param name="Worst">The case farthest from 1 (in log terms), if any.</param>
/// <param name="Met">Whether the metric's target holds; null where it has none.</param>
public sealed record FidelitySummary(ValidationMetric Metric, string Sharing, int Cases, double MedianError, FidelityCase? Worst, bool? Met);

/// <summary>
/// The modelled GPU against the real one over a validation suite: each case (mix, sweep point,
/// mix tenant) and metric present on both sides gets the ratio of their means over repetitions,
/// with a bootstrap interval; each metric the median absolute error and the worst case, overall
/// and per sharing mode, checked against its target (<see cref="ValidationMetric.Target"/>).
/// </summary>
public sealed class Fidelity
{
    private Fidelity(IReadOnlyList<FidelityCase> cases, IReadOnlyList<FidelitySummary> summaries, IReadOnlyList<string> onlyReal, IReadOnlyList<string> onlyModel, bool pooled, IReadOnlyList<string> gpuNotMeasured, IReadOnlyList<string> machineMismatches)
    {
        GpuNotMeasured = gpuNotMeasured;
        MachineMismatches = machineMismatches;
        Pooled = pooled;
        Cases = cases;
        Summaries = summaries;
        OnlyReal = onlyReal;
        OnlyModel = onlyModel;
    }

    /// <summary>Whether latency percentiles were pooled over each side's runs and replicas (<c>validate --pooled</c>).</summary>
    public bool Pooled { get; }

    /// <summary>Every case and metric compared.</summary>
    public IReadOnlyList<FidelityCase> Cases { get; }

    /// <summary>Per metric: overall first, then per sharing mode.</summary>
    public IReadOnlyList<FidelitySummary> Summaries { get; }

    /// <summary>Cases only the real half has (the model's runs are missing or were left out).</summary>
    public IReadOnlyList<string> OnlyReal { get; }

    /// <summary>Cases only the modelled half has.</summary>
    public IReadOnlyList<string> OnlyModel { get; }

    /// <summary>Cases where a replica's GPU time in a run was not measured: a real GPU timed none of its batches in the window (<see cref="ValidationSample.GpuTimedBatches"/> 0), so its GPU seconds are missing there (and the case's GPU-seconds ratio, where no run had them).</summary>
    public IReadOnlyList<string> GpuNotMeasured { get; }

    /// <summary>The mixes whose halves ran on machines described differently (<see cref="ValidationResults.MachineMismatches"/>).</summary>
    public IReadOnlyList<string> MachineMismatches { get; }

    /// <summary>
    /// The steps of its measurement (<see cref="ValidationMetric.Resolution"/>) a case's larger side
    /// must reach a replica a run, on the mean, to count: a run's value is within a step of the truth
    /// (CPU time: /proc rounds to clock ticks), so with fewer on both sides the ratio is as much
    /// rounding as model error (under 10 ticks of 10 ms: 0.1 s of CPU in a run).
    /// </summary>
    public const double ResolvedSteps = 10;

    /// <summary>Whether every metric with a target meets it (and there was something to compare).</summary>
    public bool AllTargetsMet => Cases.Count > 0 && Summaries.Where(s => s.Sharing == "all").All(s => s.Met != false);

    /// <summary>
    /// Compares <paramref name="model"/> with <paramref name="real"/>. With <paramref name="pooled"/>
    /// (both sides loaded pooled), a latency's ratio is of its percentile over every run's
    /// operations together on each side, its interval from resampling runs; other metrics as without.
    /// </summary>
    public static Fidelity Compare(ValidationResults real, ValidationResults model, bool pooled = false)
    {
        ArgumentNullException.ThrowIfNull(real);
        ArgumentNullException.ThrowIfNull(model);
        var realCases = real.Samples.GroupBy(s => (s.Case, s.Sharing)).ToDictionary(g => g.Key, g => g.ToList());
        var modelCases = model.Samples.GroupBy(s => (s.Case, s.Sharing)).ToDictionary(g => g.Key, g => g.ToList());
        var cases = new List<FidelityCase>();
        var gpuNotMeasured = new List<string>();
        foreach (var ((name, sharing), realSamples) in realCases.OrderBy(c => c.Key.Case, StringComparer.Ordinal).ThenBy(c => c.Key.Sharing, StringComparer.Ordinal))
        {
            if (!modelCases.TryGetValue((name, sharing), out var modelSamples))
            {
                continue;
            }

            var overloaded = realSamples.Concat(modelSamples).Any(s => s.Overloaded);
            var counts = realSamples.Concat(modelSamples).Select(s => s.Operations).ToList();
            var fewest = counts.All(c => c is not null) ? counts.Min() : null;
            var timedBatches = realSamples.Concat(modelSamples).Select(s => s.GpuTimedBatches).OfType<long>().ToList();
            long? fewestTimed = timedBatches.Count > 0 ? timedBatches.Min() : null;
            var untimed = new[] { (Side: "real", Samples: realSamples), (Side: "modelled", Samples: modelSamples) }
                .Select(x => (x.Side, x.Samples.Count, Untimed: x.Samples.Count(s => s.GpuTimedBatches == 0)))
                .Where(x => x.Untimed > 0)
                .Select(x => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{x.Untimed} of {x.Count} {x.Side} runs"))
                .ToList();
            if (untimed.Count > 0)
            {
                gpuNotMeasured.Add($"{name} ({sharing}): {string.Join(", ", untimed)}");
            }

            foreach (var metric in ValidationMetric.All)
            {
                var r = realSamples.Where(s => s.Values.ContainsKey(metric.Name)).Select(s => s.Values[metric.Name]).ToList();
                var m = modelSamples.Where(s => s.Values.ContainsKey(metric.Name)).Select(s => s.Values[metric.Name]).ToList();
                if (r.Count == 0 || m.Count == 0 || r.Average() <= 0)
                {
                    continue;
                }

                if (pooled && Percentile(metric) is { } percentile)
                {
                    cases.Add(PooledCase(name, sharing, metric, percentile, realSamples, modelSamples, r, m, overloaded, fewest));
                    continue;
                }

                var ratio = m.Average() / r.Average();
                var (low, high) = r.Count >= 2 && m.Count >= 2
                    ? Bootstrap.Interval(m.Count, r.Count, (a, b) => a.Average(i => m[i]) / b.Average(i => r[i]))
                    : (double.NaN, double.NaN);
                cases.Add(new FidelityCase(name, sharing, metric, r, m, ratio, low, high, overloaded, FewestOperations: fewest, FewestTimedBatches: fewestTimed, Steps: Steps(metric, realSamples, modelSamples)));
            }
        }

        var summaries = new List<FidelitySummary>();
        foreach (var metric in ValidationMetric.All)
        {
            var ofMetric = cases.Where(c => c.Metric == metric && c.Counted).ToList();
            summaries.Add(Summarise(metric, "all", ofMetric));
            foreach (var mode in ofMetric.Select(c => c.Sharing).Distinct().Order(StringComparer.Ordinal))
            {
                summaries.Add(Summarise(metric, mode, ofMetric.Where(c => c.Sharing == mode).ToList()));
            }
        }

        var onlyReal = realCases.Keys.Where(k => !modelCases.ContainsKey(k)).Select(k => $"{k.Case} ({k.Sharing})").Order(StringComparer.Ordinal).ToList();
        var onlyModel = modelCases.Keys.Where(k => !realCases.ContainsKey(k)).Select(k => $"{k.Case} ({k.Sharing})").Order(StringComparer.Ordinal).ToList();
        return new Fidelity(cases, summaries, onlyReal, onlyModel, pooled, gpuNotMeasured, ValidationResults.MachineMismatches(real, model));
    }

    // The larger side's mean value a replica a run in its measurement's steps (null where the
    // metric has none, or a side's windows are not known).
    private static double? Steps(ValidationMetric metric, List<ValidationSample> real, List<ValidationSample> model)
    {
        if (metric.Resolution is not { } step)
        {
            return null;
        }

        double? Of(List<ValidationSample> samples)
        {
            var runs = samples.Where(s => s.Values.ContainsKey(metric.Name)).ToList();
            return runs.All(s => s.Seconds is > 0) ? runs.Average(s => s.Values[metric.Name] * s.Seconds!.Value / step) : null;
        }

        return Of(real) is { } r && Of(model) is { } m ? Math.Max(r, m) : null;
    }

    private static double? Percentile(ValidationMetric metric) =>
        ValidationResults.PooledPercentiles.Where(p => p.Metric == metric).Select(p => (double?)p.Percentile).FirstOrDefault();

    // A latency percentile of each side's runs' operations together; the interval resamples runs
    // (whole runs, as the tenant's operations within one run are not independent of each other).
    private static FidelityCase PooledCase(string name, string sharing, ValidationMetric metric, double percentile, List<ValidationSample> realSamples, List<ValidationSample> modelSamples, List<double> r, List<double> m, bool overloaded, long? fewest)
    {
        var realRuns = realSamples.Select(s => s.Latency ?? throw new InvalidOperationException($"{name}: the real side was not loaded pooled")).Where(l => l.Count > 0).ToList();
        var modelRuns = modelSamples.Select(s => s.Latency ?? throw new InvalidOperationException($"{name}: the modelled side was not loaded pooled")).Where(l => l.Count > 0).ToList();
        static double Of(IEnumerable<LatencyBuckets> runs, double percentile) => LatencyBuckets.Merge(runs).ValueAtPercentile(percentile) / 1e6;
        var realValue = Of(realRuns, percentile);
        var modelValue = Of(modelRuns, percentile);
        var (low, high) = realRuns.Count >= 2 && modelRuns.Count >= 2
            ? Bootstrap.Interval(modelRuns.Count, realRuns.Count, (a, b) => Of(a.Select(i => modelRuns[i]), percentile) / Of(b.Select(i => realRuns[i]), percentile))
            : (double.NaN, double.NaN);
        return new FidelityCase(name, sharing, metric, r, m, modelValue / realValue, low, high, overloaded, realValue, modelValue, fewest);
    }

    private static FidelitySummary Summarise(ValidationMetric metric, string sharing, List<FidelityCase> cases)
    {
        if (cases.Count == 0)
        {
            return new FidelitySummary(metric, sharing, 0, double.NaN, null, null);
        }

        var median = Phase1Analysis.Median(cases.Select(c => c.Error));
        var worst = cases.MaxBy(c => Math.Abs(Math.Log(c.Ratio)));
        bool? met = metric.Target is { } target
            ? (target.MedianError is not { } m || median <= m + 1e-9) && cases.All(c => target.CaseWithin(c.Ratio))
            : null;
        return new FidelitySummary(metric, sharing, cases.Count, median, worst, met);
    }
}
#endif
