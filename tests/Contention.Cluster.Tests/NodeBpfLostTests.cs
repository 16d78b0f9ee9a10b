using Contention.Grains;
using Contention.Grains.Node;
using Microsoft.Extensions.DependencyInjection;

namespace Contention.Cluster.Tests;

/// <summary>
/// A node whose eBPF helper hangs mid-run (stopped with SIGSTOP) kills it once its answer timeout
/// has passed and goes on sampling with /proc: the run finishes, and the tenants it followed are
/// reported with counts that end there, saying why. A cluster of its own: its helper is lost for good.
/// </summary>
[Trait("Category", "Bpf")]
public sealed class NodeBpfLostTests : OwnNodeCluster
{
    protected override NodeOptions Node => new() { Name = "hung-helper-node", SimDevices = 1, DetectCuda = false, TracerIntervalMs = 200, EbpfAnswerTimeoutSeconds = 1 };

    [BpfFact]
    public async Task Run_HelperHangsWhileMeasuring_RunFinishesAndTheTenantsCountsSayWhereTheyEnd()
    {
        var bpf = Services.GetRequiredService<NodeBpf>();
        var experiment = Specs.NewExperiment();
        var plan = new ExperimentPlan("hung-helper", [Specs.Inference(experiment, "infer")], 1, 4);
        var grain = Cluster.GrainFactory.GetGrain<IExperimentGrain>(experiment);
        await grain.StartAsync(plan);
        await Specs.Eventually(() => grain.GetProgressAsync(), p => p.State == ExperimentState.Measuring, TimeSpan.FromSeconds(60), "measurement");
        var helper = bpf.HelperProcessId ?? throw new InvalidOperationException("no eBPF helper runs");
        // Some of the window counted first.
        await Task.Delay(1000);

        ClientProcess.Signal(helper, ClientProcess.SigStop);
        var done = await Specs.Eventually(() => grain.GetProgressAsync(), p => p.IsFinished, TimeSpan.FromSeconds(60), "the experiment to finish");

        Assert.Equal(ExperimentState.Completed, done.State);
        Assert.Contains($"the eBPF helper (pid {helper}) did not answer", bpf.Lost, StringComparison.Ordinal);
        Assert.Null(bpf.HelperProcessId);
        Assert.False(ClientProcess.Alive(helper), $"the hung helper {helper} still runs");
        var snapshot = await Cluster.GrainFactory.GetGrain<ICollectorGrain>(experiment).GetSnapshotAsync();
        var phases = snapshot.Tenants.Where(t => t.Tenant == "infer").ToDictionary(t => t.Phase);
        // Warm-up ended before the helper stopped: counted whole, and said to be.
        Assert.NotNull(phases[MeasurementPhase.Warmup].Kernel);
        Assert.Null(phases[MeasurementPhase.Warmup].KernelLost);
        var measured = phases[MeasurementPhase.Measure];
        Assert.Equal(bpf.Lost, measured.KernelLost);
        Assert.True(measured.Kernel!.TotalCalls > 0, "nothing counted in the window before the helper stopped");
        // /proc sampling went on to the end of the window.
        Assert.InRange(measured.Seconds, 3.0, 8.0);
        Assert.True(measured.Completed > 100, $"{measured.Completed} requests measured");
    }
}
