using Contention.Grains;
using Contention.Grains.Collector;
using Contention.Workloads.Metrics;
using Prometheus;

namespace Contention.Cluster.Tests;

/// <summary>A long-lived node exports recent experiments only: series that stop changing go after the retention.</summary>
public class MetricsRetentionTests
{
    [Fact]
    public async Task Observe_ThenNothingForTheRetention_SeriesAreRemovedAndAnotherExperimentsStay()
    {
        var registry = new CollectorRegistry();
        var metrics = new ContentionMetrics(registry, TimeSpan.FromSeconds(1));
        var latency = Histograms.Create();
        latency.RecordValue(2_000_000);

        metrics.Observe("old", Specs.Delta("t", "n", latency, 1));
        metrics.Failure("old", new TenantFailure("t", "n", "crashed", 1, DateTimeOffset.UtcNow, false));
        Assert.Contains("experiment=\"old\"", await ExportAsync(registry), StringComparison.Ordinal);

        // "new" keeps changing (every 200 ms, as a node reports, and just before each export: a
        // stalled machine must not let its series age past the retention); "old" does not.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        string text;
        do
        {
            Assert.True(DateTime.UtcNow < deadline, "the old experiment's series were still exported after 30 s");
            await Task.Delay(200);
            metrics.Observe("new", Specs.Delta("t", "n", latency, 1));
            text = await ExportAsync(registry);
        }
        while (text.Contains("experiment=\"old\"", StringComparison.Ordinal));

        Assert.Contains("contention_tenant_operations_total{experiment=\"new\"", text, StringComparison.Ordinal);
        Assert.Contains("contention_tenant_latency_seconds_bucket{experiment=\"new\"", text, StringComparison.Ordinal);
    }

    private static async Task<string> ExportAsync(CollectorRegistry registry)
    {
        using var stream = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(stream);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
