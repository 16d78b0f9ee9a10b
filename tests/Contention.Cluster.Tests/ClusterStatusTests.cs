using Contention.Client.Commands;
using Contention.Client.Mixes;
using Contention.Grains;
using Spectre.Console;

namespace Contention.Cluster.Tests;

/// <summary>contention status and stop against the test cluster's node (one silo, one modelled GPU).</summary>
[Collection(ClusterTests.Name)]
public class ClusterStatusTests(ClusterFixture fixture)
{
    [Fact]
    public async Task Status_RunningExperiment_ListsTheNodeItsDevicesAndTheExperiment_ThenStopInterruptsIt()
    {
        var experiment = Specs.NewExperiment();
        var plan = new ExperimentPlan("status-mix", [Specs.Inference(experiment, "a"), Specs.Inference(experiment, "b")], 0.5, 60);
        var grain = fixture.Grains.GetGrain<IExperimentGrain>(experiment);
        await grain.StartAsync(plan);
        await Specs.Eventually(() => grain.GetProgressAsync(), p => p.State == ExperimentState.Measuring, TimeSpan.FromSeconds(60), "measurement");

        var registry = fixture.Grains.GetGrain<IClusterStatusGrain>(IClusterStatusGrain.Key);
        var status = await registry.GetAsync(TimeSpan.FromSeconds(10));

        var node = Assert.Single(status.Nodes);
        Assert.Equal("test-node", node.Name);
        Assert.Empty(status.Unanswered);
        Assert.True(node.Cores > 0);
        Assert.Contains(node.Devices, d => d.Device == "cpu");
        var sim = Assert.Single(node.Devices, d => d.Device == "sim:0");
        Assert.Equal(2, sim.Taken);
        Assert.True(sim.Slots >= 2);
        Assert.Equal("timeslice", sim.Sharing);
        var listed = Assert.Single(status.Experiments, e => e.Experiment == experiment);
        Assert.Equal("status-mix", listed.Mix);
        Assert.Equal(ExperimentState.Measuring, listed.Progress!.State);
        Assert.Equal(2, listed.Progress.Tenants.Count(t => t.State == TenantState.Running));

        // Its verdict so far, judged as its results will be (valid or not depends on this host's load).
        var verdicts = await StatusCommand.ValiditySoFarAsync(fixture.Grains, status, TimeSpan.FromSeconds(10));
        Assert.NotNull(verdicts[experiment]);

        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Interactive = InteractionSupport.No, Ansi = AnsiSupport.No });
        console.Profile.Width = 250;
        StatusCommand.Write(status, console, verdicts);
        Assert.Contains("test-node", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("sim:0 (timeslice, 2/", output.ToString(), StringComparison.Ordinal);
        Assert.Contains(experiment, output.ToString(), StringComparison.Ordinal);
        Assert.Contains(verdicts[experiment]!.Valid ? "yes" : "no: ", output.ToString(), StringComparison.Ordinal);
        var json = System.Text.Json.JsonSerializer.Serialize(new StatusReport(status, verdicts), StatusJson.Default.StatusReport);
        using (var parsed = System.Text.Json.JsonDocument.Parse(json))
        {
            Assert.Equal("test-node", parsed.RootElement.GetProperty("status").GetProperty("nodes")[0].GetProperty("name").GetString());
            Assert.Equal(verdicts[experiment]!.Valid, parsed.RootElement.GetProperty("validSoFar").GetProperty(experiment).GetProperty("valid").GetBoolean());
        }

        // Stopped from "another terminal": the experiment ends interrupted, its reason kept.
        var stopped = await StatusCommand.StopAsync(fixture.Grains, experiment, "stopped by the test");
        Assert.Equal(ExperimentState.Interrupted, stopped.State);
        Assert.Equal("stopped by the test", stopped.Message);
        Assert.All(stopped.Tenants, t => Assert.Equal(TenantState.Stopped, t.State));
        status = await registry.GetAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(ExperimentState.Interrupted, Assert.Single(status.Experiments, e => e.Experiment == experiment).Progress!.State);
        Assert.Equal(0, Assert.Single(status.Nodes).Devices.Single(d => d.Device == "sim:0").Taken);

        // Once its results are saved (forgotten), status no longer lists it and stop says it does not know it.
        await grain.ForgetAsync();
        await Specs.Eventually(() => registry.GetAsync(TimeSpan.FromSeconds(10)), s => s.Experiments.All(e => e.Experiment != experiment), TimeSpan.FromSeconds(30), "the forgotten experiment to leave the status");
        var unknown = await Assert.ThrowsAsync<MixException>(() => StatusCommand.StopAsync(fixture.Grains, experiment, "again"));
        Assert.Contains("knows no experiment", unknown.Message, StringComparison.Ordinal);
    }
}
