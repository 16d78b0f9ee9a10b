using Contention.Grains;

namespace Contention.Cluster.Tests;

internal static class Specs
{
    public static string NewExperiment() => $"test-{Guid.NewGuid():N}"[..17];

    public static TenantSpec Inference(string experiment, string name, Isolation isolation = Isolation.Process, int maxRestarts = 0) => new()
    {
        Experiment = experiment,
        Name = name,
        Kind = TenantKind.Inference,
        Device = "sim",
        SyncMode = SyncMode.Block,
        Isolation = isolation,
        Model = "resnet50",
        BatchSize = 1,
        RatePerSecond = 200,
        MaxRestarts = maxRestarts,
        RestartBackoffSeconds = 0.05,
    };

    public static TenantSpec Training(string experiment, string name) => new()
    {
        Experiment = experiment,
        Name = name,
        Kind = TenantKind.Training,
        Device = "sim",
        SyncMode = SyncMode.Block,
        Model = "resnet50",
        BatchSize = 8,
    };

    /// <summary>A microbenchmark grid: copy and elementwise over 4 KiB and 64 KiB, 10 and 100 launches each.</summary>
    public static TenantSpec Grid(string experiment, string name, string device = "sim", Isolation isolation = Isolation.Process) => new()
    {
        Experiment = experiment,
        Name = name,
        Kind = TenantKind.Microbench,
        Device = device,
        SyncMode = SyncMode.Block,
        Isolation = isolation,
        Grid = [new("copy", 4096, [10, 100]), new("copy", 65536, [10, 100]), new("elementwise", 4096, [10, 100]), new("elementwise", 65536, [10, 100])],
        // Far above what 100 launches take: a busy machine must not cut a phase the tests count.
        PointLimitMs = 60_000,
    };

    /// <summary>A node's interval of one inference tenant with <paramref name="histogram"/>'s latencies and <paramref name="switches"/> voluntary switches.</summary>
    public static TenantDelta Delta(string tenant, string node, HdrHistogram.LongHistogram histogram, long switches) => new()
    {
        Tenant = tenant,
        Node = node,
        Kind = TenantKind.Inference,
        Device = "sim:0",
        Phase = MeasurementPhase.Measure,
        IntervalSeconds = 1,
        Completed = histogram.TotalCount,
        Latency = Contention.Workloads.Metrics.Histograms.Encode(histogram),
        Os = new OsCounters(switches, 0, 0, 0, 0, 0),
    };

    /// <summary>Polls <paramref name="condition"/> until it holds; fails after <paramref name="timeout"/>.</summary>
    public static async Task<T> Eventually<T>(Func<Task<T>> probe, Func<T, bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var value = await probe();
            if (condition(value))
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out waiting for {what}; last value: {value}");
            }

            await Task.Delay(100);
        }
    }
}
