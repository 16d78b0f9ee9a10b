using Contention.Client.Commands;
using Contention.Client.Mixes;
using Contention.Client.Results;
using Contention.Grains;

namespace Contention.Integration.Tests;

/// <summary>
/// contention status and stop on three real <c>contention silo</c> processes sharing Redis, while
/// a run started by another client measures (issue 14).
/// </summary>
[Collection(RunsAlone.Name)]
public sealed class ClusterStatusRedisTests
{
    [Fact]
    public async Task Status_ListsTheThreeNodesAndTheRun_StopFromASecondClientEndsItInterruptedWithItsFilesComplete()
    {
        await using var cluster = await NodeLossTests.ThreeNodes.StartAsync();
        var (run, directory) = NodeLossTests.StartRun(cluster, "120s");
        await NodeLossTests.WaitForMeasurementsAsync(run, directory);

        var status = await StatusCommand.AskAsync(cluster.Redis.Cluster, TimeSpan.FromSeconds(10));

        Assert.Equal(["node-a", "node-b", "node-c"], status.Nodes.Select(n => n.Name));
        Assert.Empty(status.Unanswered);
        var sim = Assert.Single(status.Nodes[0].Devices, d => d.Device == "sim:0");
        Assert.Equal(2, sim.Taken);
        Assert.DoesNotContain(status.Nodes[1].Devices, d => d.Device.StartsWith("sim", StringComparison.Ordinal));
        Assert.All(status.Nodes, n => Assert.Equal("off", n.Ebpf));
        var experiment = Assert.Single(status.Experiments);
        Assert.Equal("node-loss", experiment.Mix);
        Assert.Equal(ExperimentState.Measuring, experiment.Progress!.State);
        Assert.Equal(2, experiment.Progress.Tenants.Count(t => t.State == TenantState.Running));

        // A second client stops it; the first, still running it, saves what was measured.
        await using (var second = await ClusterConnection.JoinAsync(cluster.Redis.Cluster, ClusterConnection.JoinTimeout))
        {
            var stopped = await StatusCommand.StopAsync(second.Client, experiment.Experiment, "stopped from a second client");
            Assert.Equal(ExperimentState.Interrupted, stopped.State);
        }

        Assert.Equal(130, await run.WaitAsync(TimeSpan.FromSeconds(120)));
        var document = ResultsFiles.Read(directory);
        Assert.Equal("Interrupted", document.Experiment.State);
        Assert.Equal("stopped from a second client", document.Experiment.Message);
        Assert.Equal(2, document.Tenants.Count(t => t.Phase == MeasurementPhase.Measure && t.Completed > 0));
        Assert.True(File.Exists(Path.Combine(directory, "tenants.csv")), "tenants.csv was not written");
        Assert.True(File.Exists(Path.Combine(directory, "summary.md")), "summary.md was not written");

        // Saved, so forgotten: the cluster no longer lists it, and stop says it does not know it.
        status = await StatusCommand.AskAsync(cluster.Redis.Cluster, TimeSpan.FromSeconds(10));
        Assert.Empty(status.Experiments);
        await using var third = await ClusterConnection.JoinAsync(cluster.Redis.Cluster, ClusterConnection.JoinTimeout);
        await Assert.ThrowsAsync<MixException>(() => StatusCommand.StopAsync(third.Client, experiment.Experiment, "again"));
    }

    [Fact]
    public async Task Status_NoNodeUp_SaysSoInOneLineWithinItsWait()
    {
        await using var redis = await RedisServer.StartAsync();
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<MixException>(() => StatusCommand.AskAsync(redis.Cluster, TimeSpan.FromSeconds(3)));

        Assert.Contains("no node answered within 3 s", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"took {clock.Elapsed}");
    }
}
