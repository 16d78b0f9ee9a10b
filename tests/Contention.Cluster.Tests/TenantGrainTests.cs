using System.Diagnostics;
using Contention.Grains;
using Contention.Grains.Node;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Contention.Cluster.Tests;

[Collection(ClusterTests.Name)]
public class TenantGrainTests(ClusterFixture fixture)
{
    [Theory]
    [InlineData(Isolation.Process)]
    [InlineData(Isolation.Thread)]
    public async Task StartStop_SimTenant_RunsReportsAndStops(Isolation isolation)
    {
        var experiment = Specs.NewExperiment();
        var spec = Specs.Inference(experiment, "infer", isolation);
        DeviceRequirement.Set(spec.Device);
        var tenant = fixture.Grains.GetGrain<ITenantGrain>($"{experiment}/infer");
        var started = await tenant.StartAsync(spec);
        DeviceRequirement.Clear();

        Assert.Equal(TenantState.Running, started.State);
        Assert.Equal("sim:0", started.Device);
        Assert.Equal("test-node", started.Node);
        Assert.NotEqual(0, started.Pid);
        if (isolation == Isolation.Process)
        {
            Assert.NotEqual(Environment.ProcessId, started.Pid);
        }

        var collector = fixture.Grains.GetGrain<ICollectorGrain>(experiment);
        // CPU time comes in clock ticks (10 ms): 20 quick requests may have none yet, so wait for both.
        var snapshot = await Specs.Eventually(
            () => collector.GetSnapshotAsync(),
            s => s.Tenants.Sum(t => t.Completed) >= 20 && s.Tenants.Sum(t => t.Os.UserSeconds + t.Os.SystemSeconds) > 0 && s.Tenants.Sum(t => t.Os.VoluntarySwitches) > 0 && s.Tenants.Sum(t => t.GpuSeconds) > 0,
            TimeSpan.FromSeconds(30),
            "20 completed requests, with CPU time, voluntary switches and GPU seconds reported");

        var stopped = await tenant.StopAsync();

        Assert.Equal(TenantState.Stopped, stopped.State);
        var aggregate = Assert.Single(snapshot.Tenants);
        Assert.Equal(MeasurementPhase.Warmup, aggregate.Phase);
        Assert.True(aggregate.Os.UserSeconds + aggregate.Os.SystemSeconds > 0);
        Assert.True(aggregate.Os.VoluntarySwitches > 0);
        Assert.True(aggregate.GpuSeconds > 0, $"GPU seconds {aggregate.GpuSeconds}");
        if (isolation == Isolation.Process)
        {
            Assert.Throws<ArgumentException>(() => Process.GetProcessById(started.Pid));
        }
    }

    [Fact]
    public async Task Start_DeviceNoNodeHas_FailsSayingWhichDevicesExist()
    {
        var experiment = Specs.NewExperiment();
        var spec = Specs.Inference(experiment, "gpu") with { Device = "cuda" };
        DeviceRequirement.Set("cuda");
        var tenant = fixture.Grains.GetGrain<ITenantGrain>($"{experiment}/gpu");

        var error = await Assert.ThrowsAnyAsync<Exception>(() => tenant.StartAsync(spec));
        DeviceRequirement.Clear();

        Assert.Contains("no node advertises device 'cuda'", error.Message, StringComparison.Ordinal);
        Assert.Contains("sim:0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_ModelledGpuFull_FailsWithReasonAndRecordsIt()
    {
        var sim = ((InProcessSiloHandle)fixture.Cluster.Primary!).SiloHost.Services.GetRequiredService<NodeDevices>().Sims[0];
        var taken = new List<int>();
        try
        {
            while (true)
            {
                taken.Add(sim.Acquire().Slot);
            }
        }
        catch (InvalidOperationException)
        {
        }

        try
        {
            var experiment = Specs.NewExperiment();
            var spec = Specs.Inference(experiment, "crowded");
            DeviceRequirement.Set(spec.Device);
            var status = await fixture.Grains.GetGrain<ITenantGrain>($"{experiment}/crowded").StartAsync(spec);
            DeviceRequirement.Clear();

            Assert.Equal(TenantState.Failed, status.State);
            Assert.Contains("tenants", status.LastError, StringComparison.Ordinal);
            var failure = Assert.Single((await fixture.Grains.GetGrain<ICollectorGrain>(experiment).GetSnapshotAsync()).Failures);
            Assert.Equal(status.LastError, failure.Message);
        }
        finally
        {
            taken.ForEach(sim.Release);
        }
    }

    [Fact]
    public async Task SetPhase_Measure_SplitsAggregatesByPhase()
    {
        var experiment = Specs.NewExperiment();
        var spec = Specs.Inference(experiment, "phased");
        DeviceRequirement.Set(spec.Device);
        var tenant = fixture.Grains.GetGrain<ITenantGrain>($"{experiment}/phased");
        await tenant.StartAsync(spec);
        DeviceRequirement.Clear();
        var collector = fixture.Grains.GetGrain<ICollectorGrain>(experiment);
        await Specs.Eventually(() => collector.GetSnapshotAsync(), s => s.Tenants.Sum(t => t.Completed) >= 10, TimeSpan.FromSeconds(30), "warm-up requests");

        await tenant.SetPhaseAsync(MeasurementPhase.Measure);
        var atSwitch = (await collector.GetSnapshotAsync()).Tenants.Single(t => t.Phase == MeasurementPhase.Warmup).Completed;
        await Specs.Eventually(() => collector.GetSnapshotAsync(), s => s.Tenants.Any(t => t.Phase == MeasurementPhase.Measure && t.Completed >= 10), TimeSpan.FromSeconds(30), "measured requests");
        await tenant.StopAsync();

        var final = await collector.GetSnapshotAsync();
        Assert.Equal(atSwitch, final.Tenants.Single(t => t.Phase == MeasurementPhase.Warmup).Completed);
        Assert.True(final.Tenants.Single(t => t.Phase == MeasurementPhase.Measure).Completed >= 10);
    }
}
