using Contention.Client.Commands;
using Contention.Client.Mixes;
using Contention.Client.Results;
using Contention.Grains;
using Contention.Grains.Node;
using Contention.Silo;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Prometheus;

namespace Contention.Integration.Tests;

[Collection(RunsAlone.Name)]
public class RedisClusterTests
{
    [Fact]
    public async Task Run_TwoNodesSharingRedis_PlacesTenantsOnTheNodeWithTheirDevice()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var cpuOnly = Node(redis, "node-cpu", simDevices: 0);
        await using var twoSims = Node(redis, "node-sims", simDevices: 2);
        await cpuOnly.StartAsync();
        await twoSims.StartAsync();
        await WaitForMetadataAsync([cpuOnly, twoSims]);

        var mix = MixParser.Parse("""
            name: redis
            warmup: 500ms
            duration: 2s
            tenants:
              - name: modelled
                kind: inference
                device: sim:1
                sync: block
                rate: 100
              - name: host
                kind: microbench
                device: cpu
                op: elementwise
                bytes: 1MiB
                iterations: 10
                cpu_threads: 1
            """, "redis.yaml");
        var directory = Path.Combine(Path.GetTempPath(), $"contention-redis-{Guid.NewGuid():N}");
        var console = SilentConsole.Create();

        var code = await RunCommand.ExecuteAsync(new RunOptions(mix, directory, redis.Cluster, 0, 1, s => s, ""), console, CancellationToken.None);

        // 4: completed but invalid, which a loaded 2-core CI host can cause (saturated CPUs).
        Assert.True(code is 0 or 4, $"exit {code}");
        Assert.Equal("Completed", ResultsFiles.Read(directory).Experiment.State);
        var rows = ResultsFiles.Read(directory).Tenants.Where(r => r.Phase == MeasurementPhase.Measure).ToDictionary(r => r.Tenant);
        Assert.Equal(("node-sims", "sim:1"), (rows["modelled"].Node, rows["modelled"].Device));
        Assert.Equal("cpu", rows["host"].Device);
        Assert.All(rows.Values, r => Assert.True(r.Completed > 0, $"{r.Tenant} completed nothing"));
        Directory.Delete(directory, true);
    }

    [Fact]
    public async Task Run_ClusterGoesAway_EndsFailedKeepingTheLastSnapshot()
    {
        await using var redis = await RedisServer.StartAsync();
        var node = Node(redis, "doomed", simDevices: 1);
        await node.StartAsync();
        await WaitForMetadataAsync([node]);
        var mix = MixParser.Parse("""
            name: doomed
            warmup: 0s
            duration: 10m
            tenants:
              - name: infer
                kind: inference
                device: sim
                sync: block
                rate: 100
            """, "doomed.yaml");
        var directory = Path.Combine(Path.GetTempPath(), $"contention-doomed-{Guid.NewGuid():N}");
        var console = SilentConsole.Create();
        var run = RunCommand.ExecuteAsync(new RunOptions(mix, directory, redis.Cluster, 0, 1, s => s, ""), console, CancellationToken.None);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        // The measurement window's own: a loaded host's first saved requests can all be the
        // warm-up's (the phase changes a moment after the start even with no warm-up; seen in CI).
        while (!File.Exists(Path.Combine(directory, ResultsFiles.Json)) || !ResultsFiles.Read(directory).Tenants.Any(t => t.Phase == MeasurementPhase.Measure && t.Completed > 0))
        {
            Assert.True(DateTime.UtcNow < deadline, "no measurements were saved while the cluster was up");
            await Task.Delay(250);
        }

        await node.StopAsync();
        await node.DisposeAsync();
        // As NodeLossTests: a loaded 2-core host has taken over two minutes to end a run whose cluster died.
        var code = await run.WaitAsync(TimeSpan.FromSeconds(300));

        Assert.Equal(3, code);
        var document = ResultsFiles.Read(directory);
        Assert.Equal("Failed", document.Experiment.State);
        // Calls fail while the node stops ("lost contact" after 30 s), or the experiment comes back
        // empty from a reactivation as the node goes ("left the cluster"): either way it says so.
        Assert.Matches("lost contact|node running the experiment left the cluster", document.Experiment.Message);
        Assert.True(document.Tenants.Single(t => t.Phase == MeasurementPhase.Measure).Completed > 0, "the last snapshot's measurements were not kept");
        Directory.Delete(directory, true);
    }

    [Fact]
    public async Task Run_RedisWithNoLiveNode_GivesUpWithOneLineAfterTheStatedTime()
    {
        await using var redis = await RedisServer.StartAsync();
        var mix = MixParser.Parse("name: lonely\ntenants:\n  - name: a\n    kind: inference\n", "lonely.yaml");
        var directory = Path.Combine(Path.GetTempPath(), $"contention-lonely-{Guid.NewGuid():N}");
        var console = SilentConsole.Create();
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var refused = await Assert.ThrowsAsync<MixException>(() => RunCommand.ExecuteAsync(new RunOptions(mix, directory, redis.Cluster, 0, 1, s => s, ""), console, CancellationToken.None));

        Assert.Contains($"no node answered within {ClusterConnection.JoinTimeout.TotalSeconds:0} s", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', refused.Message);
        Assert.InRange(clock.Elapsed, ClusterConnection.JoinTimeout, ClusterConnection.JoinTimeout + TimeSpan.FromSeconds(30));
        // Refused before anything ran: the directory it made is gone again.
        Assert.False(Directory.Exists(directory));
    }

    [Fact]
    public async Task Run_MetricsPortTaken_OneLineBeforeAnythingStarts()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        var mix = MixParser.Parse("name: ported\ntenants:\n  - name: a\n    kind: inference\n", "ported.yaml");
        var directory = Path.Combine(Path.GetTempPath(), $"contention-ported-{Guid.NewGuid():N}");
        var console = SilentConsole.Create();

        var refused = await Assert.ThrowsAsync<MixException>(() => RunCommand.ExecuteAsync(new RunOptions(mix, directory, null, port, 1, s => s, ""), console, CancellationToken.None));

        Assert.StartsWith($"--metrics-port {port}: cannot listen on 127.0.0.1:{port}", refused.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(directory));
    }

    private static WebApplication Node(RedisServer redis, string name, int simDevices) => ContentionSilo.Build(
        new SiloSettings
        {
            Cluster = redis.Cluster,
            SiloPort = FreePort.Next(),
            GatewayPort = FreePort.Next(),
            MetricsPort = 0,
            Node = new NodeOptions { Name = name, SimDevices = simDevices, DetectCuda = false },
        },
        LogLevel.Warning,
        new CollectorRegistry(),
        embedded: true);

    private static async Task WaitForMetadataAsync(WebApplication[] nodes)
    {
        // Placement reads other silos' metadata from a cache filled as membership spreads.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var ready = true;
            foreach (var node in nodes)
            {
                var management = node.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0);
                var hosts = await management.GetHosts(onlyActive: true);
                var cache = node.Services.GetRequiredService<ISiloMetadataCache>();
                ready &= hosts.Count == nodes.Length && hosts.Keys.All(silo => cache.GetSiloMetadata(silo).Metadata.ContainsKey(DeviceRequirement.MetadataKey));
            }

            if (ready)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, "the two nodes never saw each other's devices through Redis membership");
            await Task.Delay(250);
        }
    }
}
