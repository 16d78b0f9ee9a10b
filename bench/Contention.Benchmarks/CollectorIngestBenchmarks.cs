using BenchmarkDotNet.Attributes;
using Contention.Grains;
using Contention.Grains.Collector;
using Contention.Workloads.Metrics;
using Prometheus;

namespace Contention.Benchmarks;

/// <summary>
/// What the collector grain does per node report: merge each tenant delta (counters, and the
/// latency histogram decoded and added bucket by bucket) and export it to Prometheus. One
/// operation ingests <see cref="Reports"/> reports of one tenant delta each, with a latency
/// histogram of a realistic interval (a few hundred requests). The baseline merges counters only.
/// </summary>
[MemoryDiagnoser]
[JsonExporterAttribute.Full]
[MarkdownExporterAttribute.GitHub]
public class CollectorIngestBenchmarks
{
    private const int Reports = 1000;
    private NodeReport[] withLatency = [];
    private NodeReport[] countersOnly = [];
    private ContentionMetrics metrics = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        withLatency = new NodeReport[Reports];
        countersOnly = new NodeReport[Reports];
        for (var i = 0; i < Reports; i++)
        {
            var histogram = Histograms.Create();
            for (var r = 0; r < 250; r++)
            {
                histogram.RecordValue((long)(200_000 * Math.Exp(random.NextDouble() * 3)));
            }

            var delta = new TenantDelta
            {
                Tenant = $"tenant-{i % 16}",
                Node = "node",
                Kind = TenantKind.Inference,
                Device = "sim:0",
                Phase = MeasurementPhase.Measure,
                IntervalSeconds = 0.5,
                Completed = histogram.TotalCount,
                Latency = Histograms.Encode(histogram),
                Os = new OsCounters(100, 3, 0.1, 0.01, 0, 0),
            };
            withLatency[i] = new NodeReport("node", i + 1, [delta]);
            countersOnly[i] = new NodeReport("node", i + 1, [delta with { Latency = [] }]);
        }

        metrics = new ContentionMetrics(new CollectorRegistry());
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Reports, Description = "counters only")]
    public long CountersOnly() => Ingest(countersOnly, export: false);

    [Benchmark(OperationsPerInvoke = Reports, Description = "counters + histogram merge")]
    public long WithHistograms() => Ingest(withLatency, export: false);

    [Benchmark(OperationsPerInvoke = Reports, Description = "counters + histogram merge + Prometheus export (the grain's path)")]
    public long WithExport() => Ingest(withLatency, export: true);

    private long Ingest(NodeReport[] reports, bool export)
    {
        var state = new CollectorState();
        foreach (var report in reports)
        {
            state.Apply(report, export ? delta => metrics.Observe("bench", delta) : null);
        }

        return state.Deltas;
    }
}
