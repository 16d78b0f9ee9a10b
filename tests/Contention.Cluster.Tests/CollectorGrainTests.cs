using Contention.Grains;
using Contention.Workloads.Metrics;

namespace Contention.Cluster.Tests;

[Collection(ClusterTests.Name)]
public class CollectorGrainTests(ClusterFixture fixture)
{
    [Fact]
    public async Task Report_TwoNodesAndADuplicate_SumsCountersAndMergesHistogramsExactly()
    {
        var collector = fixture.Grains.GetGrain<ICollectorGrain>(Specs.NewExperiment());
        var whole = Histograms.Create();
        var parts = new[] { Histograms.Create(), Histograms.Create(), Histograms.Create() };
        var random = new Random(9);
        for (var i = 0; i < 30_000; i++)
        {
            var value = (long)(Math.Exp(random.NextDouble() * 15) * 1000);
            whole.RecordValue(value);
            parts[i % 3].RecordValue(value);
        }

        await collector.ReportAsync(new NodeReport("a", 1, [Specs.Delta("t", "a", parts[0], 10)]));
        await collector.ReportAsync(new NodeReport("b", 1, [Specs.Delta("t", "b", parts[1], 20)]));
        await collector.ReportAsync(new NodeReport("a", 2, [Specs.Delta("t", "a", parts[2], 30)]));
        await collector.ReportAsync(new NodeReport("a", 2, [Specs.Delta("t", "a", parts[2], 30)]));

        var snapshot = await collector.GetSnapshotAsync();
        var aggregate = Assert.Single(snapshot.Tenants);
        Assert.Equal(3, snapshot.Reports);
        Assert.Equal(60, aggregate.Os.VoluntarySwitches);
        Assert.Equal(30_000, aggregate.Completed);
        var merged = Histograms.Decode(aggregate.Latency);
        foreach (var p in new[] { 50.0, 90, 99, 99.9, 100 })
        {
            Assert.Equal(whole.GetValueAtPercentile(p), merged.GetValueAtPercentile(p));
        }
    }
}
