using Contention.Grains;

namespace Contention.Integration.Tests;

public class PrometheusScrapeTests
{
    [Fact]
    public async Task Scrape_RunningExperiment_TenantLatencyAndSwitchCountersPresentAndIncreasing()
    {
        await using var silo = await MetricsSilo.StartAsync("prom-node", "prom", experiment => [
            new TenantSpec { Experiment = experiment, Name = "infer", Kind = TenantKind.Inference, Device = "sim", SyncMode = SyncMode.Block, BatchSize = 1, RatePerSecond = 200 },
            new TenantSpec { Experiment = experiment, Name = "train", Kind = TenantKind.Training, Device = "sim", SyncMode = SyncMode.Yield, BatchSize = 8 },
        ]);
        var experiment = silo.Experiment;
        await using var prometheus = await PrometheusServer.StartAsync($"127.0.0.1:{silo.MetricsPort}");

        var latency = $"sum by (tenant) (contention_tenant_latency_seconds_count{{experiment=\"{experiment}\"}})";
        var switches = $"sum by (tenant) (contention_tenant_context_switches_total{{experiment=\"{experiment}\"}})";
        var first = await WaitForTenantsAsync(prometheus, latency, 2);
        var firstSwitches = await WaitForTenantsAsync(prometheus, switches, 2);
        var later = await WaitAsync(prometheus, latency, r => r.Count == 2 && r.All(s => s.Value > first[s.Labels["tenant"]]));
        var laterSwitches = await WaitAsync(prometheus, switches, r => r.Count == 2 && r.All(s => s.Value > firstSwitches[s.Labels["tenant"]]));

        Assert.All(later, s => Assert.True(s.Value > first[s.Labels["tenant"]]));
        Assert.All(laterSwitches, s => Assert.True(s.Value > firstSwitches[s.Labels["tenant"]]));
        var p99 = await prometheus.QueryAsync($"histogram_quantile(0.99, sum by (le, tenant) (rate(contention_tenant_latency_seconds_bucket{{experiment=\"{experiment}\"}}[5s])))");
        Assert.Equal(2, p99.Count);
        Assert.All(p99, s => Assert.True(s.Value > 0 && s.Value < 10, $"p99 {s.Value} s for {s.Labels["tenant"]}"));
        var labels = (await prometheus.QueryAsync($"contention_tenant_cpu_seconds_total{{experiment=\"{experiment}\",tenant=\"infer\",mode=\"user\"}}")).Single().Labels;
        Assert.Equal("prom-node", labels["node"]);
        Assert.Equal("inference", labels["kind"]);
        Assert.Equal("sim:0", labels["device"]);

        // GPU time per tenant: a training step holds the modelled GPU far longer than a light
        // request, even one that waited out the trainer's time slice (its totals alone depend on
        // how soon each worker started and how the busy host let each launch).
        var gpu = await WaitForTenantsAsync(prometheus, $"sum by (tenant) (contention_tenant_gpu_seconds_total{{experiment=\"{experiment}\"}})", 2);
        var operations = await WaitForTenantsAsync(prometheus, latency, 2);
        var perStep = gpu["train"] / operations["train"];
        var perRequest = gpu["infer"] / operations["infer"];
        Assert.True(perStep > 2 * perRequest, $"GPU seconds: train {gpu["train"]} over {operations["train"]} steps, infer {gpu["infer"]} over {operations["infer"]} requests");
        if (Contention.Tracer.Bpf.BpfTracer.FindHelper() is not null && Environment.UserName == "root")
        {
            // The node's eBPF tracer: system calls by category, off-CPU time and run-queue waits per tenant.
            var calls = await WaitForTenantsAsync(prometheus, $"sum by (tenant) (contention_tenant_syscalls_total{{experiment=\"{experiment}\",category=\"sync-wait\"}})", 2);
            Assert.All(calls.Values, v => Assert.True(v > 0));
            await WaitForTenantsAsync(prometheus, $"sum by (tenant) (contention_tenant_offcpu_seconds_total{{experiment=\"{experiment}\"}})", 2);
            await WaitForTenantsAsync(prometheus, $"sum by (tenant) (contention_tenant_runqueue_latency_seconds_count{{experiment=\"{experiment}\"}})", 2);
        }

    }

    private static async Task<Dictionary<string, double>> WaitForTenantsAsync(PrometheusServer prometheus, string query, int count) =>
        (await WaitAsync(prometheus, query, r => r.Count == count && r.All(s => s.Value > 0))).ToDictionary(s => s.Labels["tenant"], s => s.Value);

    private static async Task<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)>> WaitAsync(PrometheusServer prometheus, string query, Func<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)>, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var result = await prometheus.QueryAsync(query);
            if (done(result))
            {
                return result;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"PromQL '{query}' never satisfied the condition; last result: {string.Join(", ", result.Select(r => $"{string.Join(",", r.Labels.Select(l => $"{l.Key}={l.Value}"))}={r.Value}"))}");
            }

            await Task.Delay(500);
        }
    }
}
