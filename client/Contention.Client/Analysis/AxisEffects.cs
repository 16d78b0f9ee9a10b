using System.Globalization;
using System.Text;

namespace Contention.Client.Analysis;

/// <summary>
/// Effects along a sweep's axes: for each axis value, tenant and metric, the mean over runs
/// (marginal over the other axes) and its difference from the axis's first value with bootstrap
/// 95% intervals — intervention effect sizes, or a tenant's p99 against the number of tenants
/// next to it. Pure: runs in, effects and a findings paragraph out.
/// </summary>
public static class AxisEffects
{
    /// <summary>
    /// Runs needed at a value and at its baseline before a difference is judged: a percentile
    /// bootstrap over fewer runs gives intervals far too narrow (two runs have three resample
    /// means), so such differences are shown with their intervals but never called clear.
    /// </summary>
    public const int MinimumRuns = 5;

    /// <summary>Every effect of every axis in <paramref name="axes"/>.</summary>
    public static List<Effect> Analyze(IReadOnlyList<RunMetrics> runs, IReadOnlyList<(string Name, IReadOnlyList<string> Values)> axes)
    {
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentNullException.ThrowIfNull(axes);
        var effects = new List<Effect>();
        foreach (var (axis, values) in axes.Where(a => a.Values.Count > 1))
        {
            var baseline = values[0];
            foreach (var tenant in runs.Select(r => r.Tenant).Distinct(StringComparer.Ordinal))
            {
                var metrics = runs.Where(r => r.Tenant == tenant).SelectMany(r => r.Metrics.Keys).Distinct(StringComparer.Ordinal).ToList();
                foreach (var metric in metrics)
                {
                    double[] At(string value) => [.. runs.Where(r => r.Tenant == tenant && r.Values.GetValueOrDefault(axis) == value && r.Metrics.ContainsKey(metric)).Select(r => r.Metrics[metric])];
                    var base0 = At(baseline);
                    foreach (var value in values)
                    {
                        var sample = At(value);
                        if (sample.Length == 0)
                        {
                            continue;
                        }

                        var (low, high) = Bootstrap.Interval(sample.Length, s => s.Average(i => sample[i]));
                        var baseMean = base0.Length == 0 ? double.NaN : base0.Average();
                        var (dLow, dHigh) = value == baseline || base0.Length == 0 ? (double.NaN, double.NaN) : Bootstrap.Interval(base0.Length, sample.Length, (a, b) => b.Average(i => sample[i]) - a.Average(i => base0[i]));
                        effects.Add(new Effect(axis, value, baseline, tenant, metric, sample.Length, sample.Average(), low, high, baseMean, sample.Average() - baseMean, dLow, dHigh, base0.Length));
                    }
                }
            }
        }

        return effects;
    }

    /// <summary>The findings paragraph: for each axis value, the metrics whose difference from the baseline is clear, largest relative change first.</summary>
    public static string Findings(IReadOnlyList<Effect> effects, int perValue = 4)
    {
        ArgumentNullException.ThrowIfNull(effects);
        var text = new StringBuilder();
        foreach (var group in effects.Where(e => e.Value != e.Baseline).GroupBy(e => (e.Axis, e.Value)))
        {
            var clear = group.Where(e => e.Clear && double.IsFinite(e.Difference))
                .OrderByDescending(e => double.IsFinite(e.Ratio) ? Math.Abs(Math.Log(Math.Max(e.Ratio, 1e-9))) : double.MaxValue)
                .Take(perValue).ToList();
            text.Append(CultureInfo.InvariantCulture, $"{group.Key.Axis} = {group.Key.Value} against {group.First().Baseline}: ");
            if (!group.Any(e => double.IsFinite(e.BaselineMean)))
            {
                text.Append("no tenant in common to compare. ");
                continue;
            }

            if (!group.Any(e => e.Judged))
            {
                // Over the tenants both values have: one only the value has (a co-located trainer
                // against a baseline without it) has no baseline runs, and is not what is short.
                var fewest = group.Where(e => double.IsFinite(e.BaselineMean)).Min(e => Math.Min(e.Runs, e.BaselineRuns));
                text.Append(CultureInfo.InvariantCulture, $"not judged: {fewest} run{(fewest == 1 ? "" : "s")} at a value, and a difference needs at least {MinimumRuns} at each (set the sweep's repetitions to {MinimumRuns} or more). ");
                continue;
            }

            if (clear.Count == 0)
            {
                text.Append("no metric differs beyond its 95% interval. ");
                continue;
            }

            text.AppendList(clear.Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.Tenant} {e.Metric} {Phase1Analysis.Format(e.BaselineMean)} → {Phase1Analysis.Format(e.Mean)} ({(double.IsFinite(e.Ratio) ? $"×{e.Ratio:0.##}" : "from 0")}; difference 95% interval {Phase1Analysis.Format(e.DifferenceLow)} to {Phase1Analysis.Format(e.DifferenceHigh)})")).ToList()).Append(". ");
        }

        if (text.Length > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"(Means over runs, marginal over any other axis; intervals: percentile bootstrap over runs, {Bootstrap.Resamples} resamples; a difference is reported when its interval excludes 0 and there are at least {MinimumRuns} runs at both values.)");
        }

        return text.ToString();
    }
}
