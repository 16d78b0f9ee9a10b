using System.Diagnostics;
using Contention.Client.Commands;
using Contention.Client.Mixes;
using Contention.Client.Results;
using Contention.Cluster.Tests;
using Contention.Grains;
using Contention.Silo;
using Spectre.Console;

namespace Contention.Integration.Tests;

/// <summary>
/// kill -9 of one node of three real <c>contention silo</c> processes sharing Redis, while an
/// experiment runs: the run never claims more than it measured, and no worker outlives its
/// experiment or its node. The tenants run on node-a (the only node with a modelled GPU); the
/// experiment and its collector on node-b (<c>--coordinator</c>); node-c holds nothing of it.
/// </summary>
[Collection(RunsAlone.Name)]
public sealed class NodeLossTests
{
    private const int SigKill = 9;
    // Long: when the node that ran the experiment dies, a loaded 2-core host has taken over two
    // minutes to end the run (detection, then calls that wait out their timeouts); seen twice in
    // full-suite runs, never alone (35 s there).
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(300);

    [Fact]
    public async Task Run_NodeWithTheTenantsKilled_TenantsFailAsLostAndTheRunFails()
    {
        await using var cluster = await ThreeNodes.StartAsync();
        var engines = ClientProcess.Engines(cluster.Tenants.Pid);

        var (code, document, workers) = await KillDuringRunAsync(cluster, cluster.Tenants);

        Assert.Equal(3, code);
        Assert.Equal("Failed", document.Experiment.State);
        Assert.Contains("node node-a left the cluster", document.Experiment.Message, StringComparison.Ordinal);
        Assert.Equal(2, document.Failures.Count(f => f.Message.Contains("left the cluster", StringComparison.Ordinal)));
        Assert.False(document.Validity!.Valid);
        // What the lost tenants measured until their node died is kept.
        Assert.All(document.Tenants.Where(t => t.Phase == MeasurementPhase.Measure), t => Assert.True(t.Completed > 0, $"{t.Tenant}'s measurements were dropped"));
        Assert.All(workers, pid => Assert.False(ClientProcess.Alive(pid), $"worker {pid} outlived its node"));
        Assert.NotEmpty(engines);
        Assert.All(engines, pid => Assert.False(ClientProcess.Alive(pid), $"modelled GPU engine {pid} outlived its node"));
    }

    [Fact]
    public async Task Run_NodeOfTheExperimentKilled_RunFailsAndTheTenantsNodeStopsItsWorkers()
    {
        await using var cluster = await ThreeNodes.StartAsync();

        var (code, document, workers) = await KillDuringRunAsync(cluster, cluster.Coordinator);

        Assert.Equal(3, code);
        Assert.Equal("Failed", document.Experiment.State);
        Assert.Contains("node running the experiment left the cluster", document.Experiment.Message, StringComparison.Ordinal);
        Assert.All(document.Tenants.Where(t => t.Phase == MeasurementPhase.Measure), t => Assert.True(t.Completed > 0, $"{t.Tenant}'s measurements were dropped"));

        // The experiment is gone with its node: node-a, still up, stops the workers itself.
        var clock = Stopwatch.StartNew();
        while (workers.Any(ClientProcess.Alive))
        {
            Assert.True(clock.Elapsed < Patience, $"workers outlived their experiment by {Patience.TotalSeconds} s: {cluster.Tenants.Output}");
            await Task.Delay(250);
        }

        Assert.False(cluster.Tenants.HasExited, "node-a died instead of stopping its workers");
        // Either the experiment grain came back empty elsewhere, or (a busy host: calls to the dead
        // node wait out their timeouts first) it stopped answering for the limit: both are the
        // node stopping the workers of an experiment lost with its node (seen in a CI run).
        Assert.True(
            cluster.Tenants.Output.Contains("its experiment was lost with the node that ran it", StringComparison.Ordinal)
                || cluster.Tenants.Output.Contains("its experiment has not answered for", StringComparison.Ordinal),
            $"node-a did not say why it stopped the workers: {cluster.Tenants.Output}");
    }

    [Fact]
    public async Task Run_NodeWithNothingOfTheExperimentKilled_RunCompletes()
    {
        await using var cluster = await ThreeNodes.StartAsync();

        var (code, document, workers) = await KillDuringRunAsync(cluster, cluster.Bystander, duration: "15s");

        // 4: completed but invalid, which a loaded 2-core CI host can cause (saturated CPUs).
        Assert.True(code is 0 or 4, $"exit {code}: {document.Experiment.Message}; failures: {string.Join("; ", document.Failures.Select(f => f.Message))}");
        Assert.Equal("Completed", document.Experiment.State);
        Assert.Empty(document.Failures);
        Assert.All(document.Tenants.Where(t => t.Phase == MeasurementPhase.Measure), t => Assert.Equal("Stopped", t.State));
        Assert.All(workers, pid => Assert.False(ClientProcess.Alive(pid), $"worker {pid} outlived its experiment"));
    }

    /// <summary>Runs two tenants on node-a, kills <paramref name="victim"/> once both measured, and waits for the run's end.</summary>
    private static async Task<(int Code, ResultsDocument Document, List<int> Workers)> KillDuringRunAsync(ThreeNodes cluster, ClientProcess victim, string duration = "120s")
    {
        var (run, directory) = StartRun(cluster, duration);
        await WaitForMeasurementsAsync(run, directory);
        var workers = ClientProcess.Workers(cluster.Tenants.Pid);
        Assert.Equal(2, workers.Count);

        victim.SignalGroup(SigKill);
        var code = await run.WaitAsync(Patience);
        return (code, ResultsFiles.Read(directory), workers);
    }

    internal static (Task<int> Run, string Directory) StartRun(ThreeNodes cluster, string duration)
    {
        var mix = MixParser.Parse($"""
            name: node-loss
            warmup: 0s
            duration: {duration}
            tenants:
              - name: infer
                kind: inference
                device: sim
                sync: block
                rate: 100
                replicas: 2
            """, "node-loss.yaml");
        var directory = Path.Combine(Path.GetTempPath(), $"contention-loss-{Guid.NewGuid():N}");
        var console = SilentConsole.Create();
        var options = new RunOptions(mix, directory, cluster.Redis.Cluster, 0, 1, s => s, "") { Coordinator = "node-b" };
        return (Task.Run(() => RunCommand.ExecuteAsync(options, console, CancellationToken.None)), directory);
    }

    internal static async Task WaitForMeasurementsAsync(Task<int> run, string directory)
    {
        var clock = Stopwatch.StartNew();
        while (!File.Exists(Path.Combine(directory, ResultsFiles.Json)) || ResultsFiles.Read(directory).Tenants.Count(t => t.Phase == MeasurementPhase.Measure && t.Completed > 0) < 2)
        {
            if (run.IsCompleted)
            {
                Assert.Fail($"the run ended ({await run}) before both tenants measured");
            }

            Assert.True(clock.Elapsed < Patience, "no measurements were saved");
            await Task.Delay(250);
        }
    }

    /// <summary>Redis and three silo processes: node-a with a modelled GPU, node-b and node-c without.</summary>
    internal sealed class ThreeNodes : IAsyncDisposable
    {
        private ThreeNodes(RedisServer redis, ClientProcess[] nodes)
        {
            Redis = redis;
            Nodes = nodes;
        }

        public RedisServer Redis { get; }

        public ClientProcess[] Nodes { get; }

        public ClientProcess Tenants => Nodes[0];

        public ClientProcess Coordinator => Nodes[1];

        public ClientProcess Bystander => Nodes[2];

        /// <summary>Starts Redis and the three nodes; detached runs go to <paramref name="runs"/> (given: the default is under the home directory).</summary>
        public static async Task<ThreeNodes> StartAsync(string? runs = null)
        {
            var redis = await RedisServer.StartAsync();
            var nodes = new List<ClientProcess>();
            try
            {
                foreach (var (name, sims) in new[] { ("node-a", 1), ("node-b", 0), ("node-c", 0) })
                {
                    string[] args = ["silo", "--cluster", redis.Cluster, "--name", name, "--silo-port", $"{FreePort.Next()}", "--gateway-port", $"{FreePort.Next()}", "--metrics-port", "0", "--sim-devices", $"{sims}", "--ebpf", "off", "--no-cuda"];
                    nodes.Add(await ClientProcess.StartAsync(runs is null ? args : [.. args, "--runs-dir", runs]));
                }

                foreach (var (node, name) in nodes.Zip(["node-a", "node-b", "node-c"]))
                {
                    await node.WaitForOutputAsync($"node {name} up", Patience);
                }

                // Each node places tenants from the others' metadata, which spreads with membership.
                foreach (var node in nodes)
                {
                    await node.WaitForOutputAsync("3 nodes with devices known", Patience);
                }

                return new ThreeNodes(redis, [.. nodes]);
            }
            catch
            {
                nodes.ForEach(n => n.Dispose());
                await redis.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var node in Nodes)
            {
                node.Dispose();
            }

            await Redis.DisposeAsync();
        }
    }
}
