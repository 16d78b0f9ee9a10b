using BenchmarkDotNet.Attributes;
using Contention.Grains;
using Contention.Grains.Hosting;
using Contention.Grains.Node;
using Contention.Workloads.Metrics;
using Orleans.TestingHost;
using Prometheus;

namespace Contention.Benchmarks;

/// <summary>
/// Tenant deltas per second through the collector grain itself, in an in-process Orleans test
/// cluster: node reports of <see cref="TenantsPerReport"/> deltas each (a node reports all its
/// tenants of an experiment in one call). One operation is one tenant delta.
/// </summary>
[MemoryDiagnoser]
[JsonExporterAttribute.Full]
[MarkdownExporterAttribute.GitHub]
public class CollectorGrainBenchmarks
{
    private const int Calls = 200;
    private TestCluster cluster = null!;
    private NodeReport[] reports = [];
    private long round;

    [Params(1, 20)]
    public int TenantsPerReport { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var builder = new TestClusterBuilder { Options = { InitialSilosCount = 1 } };
        builder.AddSiloBuilderConfigurator<Node>();
        cluster = builder.Build();
        cluster.Deploy();
        var random = new Random(1);
        reports = new NodeReport[Calls];
        for (var i = 0; i < Calls; i++)
        {
            var deltas = new List<TenantDelta>();
            for (var t = 0; t < TenantsPerReport; t++)
            {
                var histogram = Histograms.Create();
                for (var r = 0; r < 250; r++)
                {
                    histogram.RecordValue((long)(200_000 * Math.Exp(random.NextDouble() * 3)));
                }

                deltas.Add(new TenantDelta { Tenant = $"tenant-{t}", Node = "node", Kind = TenantKind.Inference, Device = "sim:0", Phase = MeasurementPhase.Measure, IntervalSeconds = 0.5, Completed = 250, Latency = Histograms.Encode(histogram), Os = new OsCounters(100, 3, 0.1, 0.01, 0, 0) });
            }

            reports[i] = new NodeReport("node", i + 1, deltas);
        }
    }

    [GlobalCleanup]
    public void Cleanup() => cluster.StopAllSilos();

    [Benchmark(OperationsPerInvoke = Calls)]
    public async Task ReportAsync()
    {
        // A fresh experiment per invocation, so sequence numbers start over and nothing is dropped as a duplicate.
        var collector = cluster.GrainFactory.GetGrain<ICollectorGrain>($"bench-{Interlocked.Increment(ref round)}");
        foreach (var report in reports)
        {
            await collector.ReportAsync(report);
        }
    }

    /// <summary>Per-delta cost: divide the reported time by this.</summary>
    public int DeltasPerOperation => TenantsPerReport;

    private sealed class Node : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) =>
            siloBuilder.AddContentionNode(new NodeOptions { Name = "bench", SimDevices = 0, DetectCuda = false }, new CollectorRegistry());
    }
}
