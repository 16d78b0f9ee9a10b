using Contention.Grains;
using Contention.Grains.Node;

namespace Contention.Cluster.Tests;

/// <summary>
/// A tenant's worker that does not stop when asked (stopped with SIGSTOP) is killed after the
/// node's stop timeout, and its tenant fails with the failure recorded: its end went unmeasured.
/// A cluster of its own, with a 2-s stop timeout.
/// </summary>
public sealed class WorkerHungTests : OwnNodeCluster
{
    protected override NodeOptions Node => new() { Name = "hung-worker-node", SimDevices = 1, DetectCuda = false, TracerIntervalMs = 200, Ebpf = EbpfMode.Off, WorkerStopTimeoutSeconds = 2 };

    [Fact]
    public async Task Stop_WorkerStoppedWhileMeasured_KilledAfterTheTimeoutAndItsFailureRecorded()
    {
        var experiment = Specs.NewExperiment();
        var plan = new ExperimentPlan("hung-worker", [Specs.Inference(experiment, "frozen"), Specs.Inference(experiment, "fine")], 0.5, 2);
        var grain = Cluster.GrainFactory.GetGrain<IExperimentGrain>(experiment);
        await grain.StartAsync(plan);
        var measuring = await Specs.Eventually(() => grain.GetProgressAsync(), p => p.State == ExperimentState.Measuring, TimeSpan.FromSeconds(60), "measurement");
        var pid = measuring.Tenants.Single(t => t.Tenant == "frozen").Pid;

        ClientProcess.Signal(pid, ClientProcess.SigStop);
        var done = await Specs.Eventually(() => grain.GetProgressAsync(), p => p.IsFinished, TimeSpan.FromSeconds(60), "the experiment to finish");

        Assert.Equal(TenantState.Failed, done.Tenants.Single(t => t.Tenant == "frozen").State);
        Assert.Equal(TenantState.Stopped, done.Tenants.Single(t => t.Tenant == "fine").State);
        var snapshot = await Cluster.GrainFactory.GetGrain<ICollectorGrain>(experiment).GetSnapshotAsync();
        var failure = Assert.Single(snapshot.Failures);
        Assert.Equal(("frozen", $"worker {pid} did not stop within 2 s and was killed", false), (failure.Tenant, failure.Message, failure.WillRestart));
        Assert.False(ClientProcess.Alive(pid), $"the stopped worker {pid} still runs");
    }
}
