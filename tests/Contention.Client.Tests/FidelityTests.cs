using Contention.Client.Validation;

namespace Contention.Client.Tests;

/// <summary>The model-against-real comparison on synthetic results whose errors are known.</summary>
public class FidelityTests
{
    [Fact]
    public void Compare_ModelOffByKnownFactors_RatiosErrorsAndVerdictsAreThoseFactors()
    {
        // Three cases, three repetitions each side. The model's p99 is 1.2x the real one in two
        // cases and 2.5x in the third; its throughput exact in all.
        var real = new List<ValidationSample>();
        var model = new List<ValidationSample>();
        var factors = new Dictionary<string, double> { ["a"] = 1.2, ["b"] = 1.2, ["c"] = 2.5 };
        foreach (var (tenant, factor) in factors)
        {
            for (var rep = 1; rep <= 3; rep++)
            {
                var tail = 10.0 + rep;
                real.Add(Sample(tenant, "timeslice", rep, throughput: 100 + rep, p99: tail));
                model.Add(Sample(tenant, "timeslice", rep, throughput: 100 + rep, p99: tail * factor));
            }
        }

        var fidelity = Fidelity.Compare(ValidationResults.Of(real), ValidationResults.Of(model));

        var p99Cases = fidelity.Cases.Where(c => c.Metric == ValidationMetric.P99).ToList();
        Assert.Equal([1.2, 1.2, 2.5], p99Cases.Select(c => Math.Round(c.Ratio, 9)));
        Assert.All(p99Cases, c => Assert.InRange(factors[c.Case.Split(" / ")[^1]], c.Low - 1e-9, c.High + 1e-9));
        var p99 = fidelity.Summaries.Single(s => s.Metric == ValidationMetric.P99 && s.Sharing == "all");
        Assert.Equal(0.2, p99.MedianError, 9);
        Assert.Equal("s / c", p99.Worst!.Case);
        Assert.False(p99.Met);
        var throughput = fidelity.Summaries.Single(s => s.Metric == ValidationMetric.Throughput && s.Sharing == "all");
        Assert.Equal((3, 0.0, true), (throughput.Cases, Math.Round(throughput.MedianError, 12), throughput.Met));
        Assert.False(fidelity.AllTargetsMet);
    }

    [Fact]
    public void Compare_WithinTargets_MetPerSharingModeAndOverall()
    {
        var real = new[] { Sample("a", "timeslice", 1, 100, 10), Sample("a", "mps", 1, 100, 4) };
        var model = new[] { Sample("a", "timeslice", 1, 103, 11), Sample("a", "mps", 1, 98, 3.5) };

        var fidelity = Fidelity.Compare(ValidationResults.Of(real), ValidationResults.Of(model));

        Assert.True(fidelity.AllTargetsMet);
        var byMode = fidelity.Summaries.Where(s => s.Metric == ValidationMetric.P99).ToDictionary(s => s.Sharing);
        Assert.Equal(["all", "mps", "timeslice"], byMode.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(0.125, byMode["mps"].MedianError, 9);
        Assert.Equal(0.1125, byMode["all"].MedianError, 9);
        Assert.All(fidelity.Cases, c => Assert.True(double.IsNaN(c.Low), "one repetition a side has no interval"));
    }

    [Fact]
    public void Compare_OverloadedTenant_LatenciesListedButNotCountedThroughputCounted()
    {
        // Offered 200/s, completed 140/s: its p99 measures the queue's growth.
        var real = new[] { Sample("svc", "timeslice", 1, 140, 2000, offeredOverloaded: true) };
        var model = new[] { Sample("svc", "timeslice", 1, 141, 500) };

        var fidelity = Fidelity.Compare(ValidationResults.Of(real), ValidationResults.Of(model));

        var p99 = Assert.Single(fidelity.Cases, c => c.Metric == ValidationMetric.P99);
        Assert.True(p99.Overloaded);
        Assert.False(p99.Counted);
        Assert.Equal(0, fidelity.Summaries.Single(s => s.Metric == ValidationMetric.P99 && s.Sharing == "all").Cases);
        Assert.True(Assert.Single(fidelity.Cases, c => c.Metric == ValidationMetric.Throughput).Counted);
    }

    [Fact]
    public void Compare_CasesOnOneSideOnly_AreListedNotCompared()
    {
        var real = new[] { Sample("a", "mps", 1, 100, 10), Sample("b", "mps", 1, 100, 10) };
        var model = new[] { Sample("a", "mps", 1, 100, 10), Sample("c", "mps", 1, 100, 10) };

        var fidelity = Fidelity.Compare(ValidationResults.Of(real), ValidationResults.Of(model));

        Assert.Equal(["s / b (mps)"], fidelity.OnlyReal);
        Assert.Equal(["s / c (mps)"], fidelity.OnlyModel);
        Assert.All(fidelity.Cases, c => Assert.Equal("s / a", c.Case));
    }

    [Theory]
    [InlineData(1.05, true)]
    [InlineData(0.95, true)]
    [InlineData(1.051, false)]
    public void Target_FivePercent_IsWithinFivePercentEitherWay(double ratio, bool within) =>
        Assert.Equal(within, ValidationMetric.Throughput.Target!.CaseWithin(ratio));

    [Theory]
    [InlineData(2.0, true)]
    [InlineData(0.5, true)]
    [InlineData(0.49, false)]
    [InlineData(2.01, false)]
    public void Target_TwoX_IsWithinAFactorOfTwoEitherWay(double ratio, bool within) =>
        Assert.Equal(within, ValidationMetric.P99.Target!.CaseWithin(ratio));

    [Theory]
    [InlineData(30L, true)]
    [InlineData(99L, true)]
    [InlineData(100L, false)]
    [InlineData(null, false)]
    public void Report_AP99OfFewOperationsAReplica_SaysSoAndWhatToDo(long? operations, bool said)
    {
        // 5,000 operations a replica in every run but one of the model's, which has `operations`.
        var real = Enumerable.Range(1, 3).Select(rep => Sample("train", "mps", rep, 10, 500) with { Operations = 5_000 }).ToList();
        var model = Enumerable.Range(1, 3).Select(rep => Sample("train", "mps", rep, 10, 450) with { Operations = rep == 2 ? operations : 5_000 }).ToList();

        var (fidelity, text) = CompareAndReport(real, model);

        Assert.Equal(operations, fidelity.Cases.Single(c => c.Metric == ValidationMetric.P99).FewestOperations);
        Assert.Equal(said, text.Contains("p99 of few operations", StringComparison.Ordinal));
        Assert.Equal(said, text.Contains($"as few as {operations}", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(4L, true)]
    [InlineData(19L, true)]
    [InlineData(20L, false)]
    [InlineData(null, false)]
    public void Report_GpuSecondsOfFewTimedBatches_SaysSoNamingTheCase(long? timed, bool said)
    {
        // The real side's GPU time from 500 timed batches a run but in one, which has `timed`; the
        // model's exact (none).
        var real = Enumerable.Range(1, 3).Select(rep => Sample("svc", "mps", rep, 50, 1) with { Values = new Dictionary<string, double> { ["throughput"] = 50, ["gpu_s_per_s"] = 0.01 }, GpuTimedBatches = rep == 2 ? timed : 500 }).ToList();
        var model = Enumerable.Range(1, 3).Select(rep => Sample("svc", "mps", rep, 50, 1) with { Values = new Dictionary<string, double> { ["throughput"] = 50, ["gpu_s_per_s"] = 0.02 } }).ToList();

        var (fidelity, text) = CompareAndReport(real, model);

        Assert.Equal(timed ?? 500, fidelity.Cases.Single(c => c.Metric == ValidationMetric.Gpu).FewestTimedBatches);
        Assert.Equal(said, text.Contains("GPU seconds of few timed batches", StringComparison.Ordinal));
        Assert.Equal(said, text.Contains($"s / svc, mps ({timed})", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(1, "svc (mps): 1 of 3 real runs")]
    [InlineData(3, "svc (mps): 3 of 3 real runs")]
    [InlineData(0, null)]
    public void Report_GpuSecondsNotMeasured_ListsTheCaseAndHowManyRuns(int untimed, string? line)
    {
        // Real runs whose GPU timed none of the service's batches have no GPU seconds (as tenants.csv
        // leaves them empty); the ratio rests on the others, and none at all leaves no ratio.
        var real = Enumerable.Range(1, 3).Select(rep => Sample("svc", "mps", rep, 50, 1) with
        {
            Values = rep <= untimed ? new Dictionary<string, double> { ["throughput"] = 50 } : new Dictionary<string, double> { ["throughput"] = 50, ["gpu_s_per_s"] = 0.01 },
            GpuTimedBatches = rep <= untimed ? 0 : 30,
        }).ToList();
        var model = Enumerable.Range(1, 3).Select(rep => Sample("svc", "mps", rep, 50, 1) with { Values = new Dictionary<string, double> { ["throughput"] = 50, ["gpu_s_per_s"] = 0.02 } }).ToList();

        var (fidelity, text) = CompareAndReport(real, model);

        Assert.Equal(line is null ? [] : [$"s / {line}"], fidelity.GpuNotMeasured);
        Assert.Equal(line is not null, text.Contains("## GPU seconds not measured", StringComparison.Ordinal));
        Assert.Equal(untimed < 3, fidelity.Cases.Any(c => c.Metric == ValidationMetric.Gpu));
    }

    [Theory]
    // System CPU over a 5 s window: 0.004 s/s is 2 clock ticks a run, 0.03 s/s 15.
    [InlineData(0.004, 0.002, 5.0, true)]     // 2 ticks against 1: below resolution, whatever the ratio
    [InlineData(0.018, 0.018, 5.0, true)]     // 9 ticks each
    [InlineData(0.004, 0.03, 5.0, false)]     // 2 against 15: the model's 7.5x counts
    [InlineData(0.004, 0.002, 60.0, false)]   // 24 against 12 over a minute
    [InlineData(0.004, 0.002, null, false)]   // windows unknown: counted, as before
    public void Compare_CpuTimeOfAFewClockTicksOnBothSides_ListedNotCounted(double real, double model, double? seconds, bool below)
    {
        ValidationSample Cpu(int rep, double value) => Sample("svc", "mps", rep, 50, 1) with { Values = new Dictionary<string, double> { ["throughput"] = 50, ["system_cpu_s_per_s"] = value }, Seconds = seconds };
        var (fidelity, text) = CompareAndReport([Cpu(1, real), Cpu(2, real)], [Cpu(1, model), Cpu(2, model)]);

        var cpu = fidelity.Cases.Single(c => c.Metric == ValidationMetric.SystemCpu);
        Assert.Equal(model / real, cpu.Ratio, 9);
        Assert.Equal((below, !below), (cpu.BelowResolution, cpu.Counted));
        Assert.Equal(below ? 0 : 1, fidelity.Summaries.Single(s => s.Metric == ValidationMetric.SystemCpu && s.Sharing == "all").Cases);
        Assert.Equal(below, text.Contains("Below the measurement's resolution: in 1 case(s)", StringComparison.Ordinal));
        Assert.Equal(below, text.Contains("svc, mps, system_cpu_s_per_s", StringComparison.Ordinal));
        // Throughput is not measured in steps: always counted.
        Assert.True(fidelity.Cases.Single(c => c.Metric == ValidationMetric.Throughput).Counted);
    }

    // The comparison and its fidelity.md, written to a temporary directory and read back.
    private static (Fidelity Fidelity, string Text) CompareAndReport(List<ValidationSample> real, List<ValidationSample> model)
    {
        var fidelity = Fidelity.Compare(ValidationResults.Of(real), ValidationResults.Of(model));
        var directory = Path.Combine(Path.GetTempPath(), $"contention-fidelity-{Guid.NewGuid():N}");
        try
        {
            FidelityReport.Write(fidelity, ValidationResults.Of(real), ValidationResults.Of(model), new FidelitySources("test", "r", "m", "h200"), directory);
            return (fidelity, File.ReadAllText(Path.Combine(directory, FidelityReport.Markdown)));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static ValidationSample Sample(string tenant, string sharing, int rep, double throughput, double p99, bool offeredOverloaded = false) =>
        new("s", "", tenant, sharing, $"r{rep}", 1, new Dictionary<string, double> { ["throughput"] = throughput, ["p99"] = p99 }, offeredOverloaded);
}
