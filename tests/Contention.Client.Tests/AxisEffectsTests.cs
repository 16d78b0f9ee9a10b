using Contention.Client.Analysis;

namespace Contention.Client.Tests;

/// <summary>Effects along sweep axes on synthetic runs whose effects are known.</summary>
public class AxisEffectsTests
{
    private static readonly string[] Variants = ["baseline", "doubled", "same"];

    [Fact]
    public void Analyze_OneKnobDoublesAMetric_DifferenceIntervalHoldsItAndOthersStayUnclear()
    {
        var random = new Random(3);
        var runs = new List<RunMetrics>();
        foreach (var variant in Variants)
        {
            for (var r = 0; r < 5; r++)
            {
                var futex = (variant == "doubled" ? 2000 : 1000) * (0.95 + (0.1 * random.NextDouble()));
                var p99 = 4 + (0.5 * random.NextDouble());
                runs.Add(new RunMetrics($"{variant}-{r}", new Dictionary<string, string> { ["variant"] = variant }, "infer", new Dictionary<string, double> { ["futex/s"] = futex, ["p99 ms"] = p99 }));
            }
        }

        var effects = AxisEffects.Analyze(runs, [("variant", Variants)]);

        var doubled = effects.Single(e => e.Value == "doubled" && e.Metric == "futex/s");
        Assert.InRange(1000, doubled.DifferenceLow, doubled.DifferenceHigh);
        Assert.True(doubled.Clear);
        Assert.InRange(doubled.Ratio, 1.9, 2.1);
        Assert.False(effects.Single(e => e.Value == "same" && e.Metric == "futex/s").Clear);
        Assert.False(effects.Single(e => e.Value == "doubled" && e.Metric == "p99 ms").Clear);
        var findings = AxisEffects.Findings(effects);
        Assert.Contains("variant = doubled against baseline: infer futex/s", findings, StringComparison.Ordinal);
        Assert.Contains("variant = same against baseline: no metric differs beyond its 95% interval", findings, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_TenantCountAxis_P99PerValueMarginalOverTheRuns()
    {
        var runs = new List<RunMetrics>();
        foreach (var trainers in new[] { 0, 1, 2, 3 })
        {
            for (var r = 0; r < AxisEffects.MinimumRuns; r++)
            {
                runs.Add(new RunMetrics($"p{trainers}-{r}", new Dictionary<string, string> { ["train.replicas"] = $"{trainers}" }, "infer", new Dictionary<string, double> { ["p99 ms"] = 1 + (10 * trainers) + r }));
            }
        }

        var effects = AxisEffects.Analyze(runs, [("train.replicas", ["0", "1", "2", "3"])]);

        Assert.Equal([3.0, 13, 23, 33], effects.Where(e => e.Metric == "p99 ms").Select(e => e.Mean));
        Assert.All(effects.Where(e => e.Value != "0"), e => Assert.True(e.Clear));
        Assert.True(double.IsNaN(effects.First(e => e.Value == "0").DifferenceLow), "the baseline has no difference from itself");
    }

    [Fact]
    public void Analyze_TwoRunsPerValue_NeverClearAndTheFindingsSayWhy()
    {
        // A tenfold difference, but two runs a value: the bootstrap interval (three resample
        // means) would exclude 0 however noisy the runs are, so it is not judged.
        var runs = new[] { ("a", 10.0), ("a", 11), ("b", 100), ("b", 120) }
            .Select((x, i) => new RunMetrics($"r{i}", new Dictionary<string, string> { ["sync"] = x.Item1 }, "infer", new Dictionary<string, double> { ["p99 ms"] = x.Item2 }))
            .ToList();

        var effects = AxisEffects.Analyze(runs, [("sync", ["a", "b"])]);

        var b = effects.Single(e => e.Value == "b");
        Assert.True(b.DifferenceLow > 0, "the interval itself excludes 0");
        Assert.False(b.Clear);
        Assert.Contains("sync = b against a: not judged: 2 runs at a value, and a difference needs at least 5", AxisEffects.Findings(effects), StringComparison.Ordinal);
    }

    [Fact]
    public void Findings_TenantOnlyAtTheValue_CountsRunsOfTheTenantsInCommon()
    {
        // A trainer co-located at replicas 1 and absent from the baseline (replicas 0): the runs
        // that are short are the common tenant's three, not the trainer's zero at the baseline.
        var runs = new[] { ("0", "infer"), ("0", "infer"), ("0", "infer"), ("1", "infer"), ("1", "infer"), ("1", "infer"), ("1", "train"), ("1", "train"), ("1", "train") }
            .Select((x, i) => new RunMetrics($"r{i % 6}", new Dictionary<string, string> { ["replicas"] = x.Item1 }, x.Item2, new Dictionary<string, double> { ["p99 ms"] = 1 + i }))
            .ToList();

        var findings = AxisEffects.Findings(AxisEffects.Analyze(runs, [("replicas", ["0", "1"])]));

        Assert.Contains("replicas = 1 against 0: not judged: 3 runs at a value", findings, StringComparison.Ordinal);
    }
}
