using Contention.Client.Commands;
using Contention.Client.Mixes;
using Contention.Client.Validation;
using Contention.Workloads.Metrics;

namespace Contention.Client.Tests;

/// <summary>Latency percentiles pooled over a case's replicas and runs (<c>validate --pooled</c>).</summary>
public class PooledLatencyTests
{
    [Fact]
    public void Merge_PercentilesAreThoseOfTheMergedHistogram()
    {
        // Three histograms of heavy-tailed latencies; their buckets merged must read as HdrHistogram
        // reads the histogram that recorded all of them.
        var random = new Random(7);
        var parts = Enumerable.Range(0, 3).Select(_ => Histograms.Create()).ToList();
        var all = Histograms.Create();
        foreach (var (histogram, i) in parts.Select((h, i) => (h, i)))
        {
            for (var n = 0; n < 500 + (i * 300); n++)
            {
                var value = (long)(100_000 * Math.Exp(random.NextDouble() * 6 * (i + 1) / 3));
                histogram.RecordValue(value);
                all.RecordValue(value);
            }
        }

        var merged = LatencyBuckets.Merge(parts.Select(LatencyBuckets.Of));

        Assert.Equal(all.TotalCount, merged.Count);
        foreach (var percentile in new[] { 0.0, 0.1, 1, 10, 50, 90, 95, 99, 99.9, 100 })
        {
            Assert.Equal(all.GetValueAtPercentile(percentile), merged.ValueAtPercentile(percentile));
        }

        Assert.Equal(0, LatencyBuckets.Merge([]).ValueAtPercentile(99));
    }

    [Fact]
    public void Compare_Pooled_RatioIsOfThePercentileOfEveryRunTogether()
    {
        // Each side: four runs. Three of the real side's runs are 1,000 operations of 10 ms, the
        // fourth 960 of 10 ms and 40 of 100 ms: its own p99 is 100 ms, the others' 10 ms (mean
        // 32.5 ms), while over all 4,000 operations 1 % is 40 operations: the p99 is 10 ms. The
        // model's runs are the same at 1.5x. The per-run values the samples carry (their p99
        // column) say otherwise on purpose: pooled, the buckets decide.
        ValidationSample Run(int rep, double scale, bool slow)
        {
            var histogram = Histograms.Create();
            histogram.RecordValueWithCount((long)(10_000_000 * scale), slow ? 960 : 1_000);
            if (slow)
            {
                histogram.RecordValueWithCount((long)(100_000_000 * scale), 40);
            }

            var values = new Dictionary<string, double> { ["throughput"] = 100, ["p50"] = 5, ["p95"] = 5, ["p99"] = 5 };
            return new ValidationSample("s", "", "train", "mps", $"r{rep}", 3, values, false, LatencyBuckets.Of(histogram));
        }

        var real = ValidationResults.Of(Enumerable.Range(1, 4).Select(rep => Run(rep, 1, rep == 4)));
        var model = ValidationResults.Of(Enumerable.Range(1, 4).Select(rep => Run(rep, 1.5, rep == 2)));

        var pooled = Fidelity.Compare(real, model, pooled: true);
        var p99 = pooled.Cases.Single(c => c.Metric == ValidationMetric.P99);
        Assert.True(pooled.Pooled);
        Assert.Equal(10, p99.RealPooled!.Value, 0.02);
        Assert.Equal(15, p99.ModelPooled!.Value, 0.03);
        Assert.Equal(1.5, p99.Ratio, 0.003);
        Assert.InRange(1.5, p99.Low - 0.003, p99.High + 0.003);
        // p99.9 of all of them would be the slow operations; p95 the fast ones.
        Assert.Equal(1.5, pooled.Cases.Single(c => c.Metric == ValidationMetric.P95).Ratio, 0.003);
        Assert.Equal(1.0, pooled.Cases.Single(c => c.Metric == ValidationMetric.Throughput).Ratio, 9);

        var plain = Fidelity.Compare(real, model);
        Assert.False(plain.Pooled);
        Assert.Equal(1.0, plain.Cases.Single(c => c.Metric == ValidationMetric.P99).Ratio, 9);
        Assert.Null(plain.Cases.Single(c => c.Metric == ValidationMetric.P99).RealPooled);
    }

    [Fact]
    public async Task Load_Pooled_MergesEachRunsReplicasFromItsPoints()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"contention-pooled-{Guid.NewGuid():N}");
        try
        {
            var mix = MixParser.Parse(Mix, "pool.yaml");
            Assert.Equal(0, await SimulateCommand.ExecuteAsync(new RunOptions(mix, directory, null, 0, 1, spec => spec, "") { SimProfile = "h200" }, Consoles.Plain(new StringWriter()), CancellationToken.None));

            var plain = ValidationResults.Load(directory);
            var pooled = ValidationResults.Load(directory, pooled: true);

            var samples = pooled.Samples.Where(s => s.Tenant == "train").ToList();
            Assert.Equal(2, samples.Count);
            foreach (var sample in samples)
            {
                // The run's three trainers' steps, all of them: the run's results.json read directly.
                var document = Results.ResultsFiles.Read(Path.Combine(directory, Results.SweepFiles.Points, sample.Run, Results.ResultsFiles.Json));
                var steps = Enumerable.Range(0, 3).Sum(i => Histograms.FromCompressedBase64(document.Histograms[$"train-{i}/measure"]).TotalCount);
                Assert.Equal(steps, sample.Latency!.Count);
                Assert.Equal(sample.Latency.ValueAtPercentile(99) / 1e6, sample.Values["p99"], 9);
                var median = plain.Samples.Single(s => s.Run == sample.Run && s.Tenant == "train");
                Assert.Equal(median.Values["throughput"], sample.Values["throughput"]);
                Assert.Null(median.Latency);
            }

            // Without points/ pooling cannot be done: said, with what to do.
            Directory.Delete(Path.Combine(directory, Results.SweepFiles.Points), recursive: true);
            var error = Assert.Throws<InvalidDataException>(() => ValidationResults.Load(directory, pooled: true));
            Assert.Contains("points/", error.Message);
            Assert.Contains("without --pooled", error.Message);
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    private const string Mix = """
        name: pool
        warmup: 500ms
        duration: 3s
        defaults:
          device: sim
          sync: block
        tenants:
          - name: train
            kind: training
            batch: 8
            replicas: 3
        sweep:
          repetitions: 2
          axes:
            sync: [block]
        """;
}
