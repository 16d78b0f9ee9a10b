using System.Diagnostics;
using Contention.Grains;
using Contention.Grains.Node;
using Contention.Workloads.Arbiter;
using Contention.Workloads.Devices;

namespace Contention.Cluster.Tests;

[Collection(ClusterTests.Name)]
public class ArbiterTests(ClusterFixture fixture)
{
    [Fact]
    public async Task Run_LatencySensitiveWorkerKilledWithARequestOpen_TheTrainerGoesOnWithinALease()
    {
        // A closed-loop service has a request open nearly all the time, so a trainer behind the
        // arbiter runs only in the gaps between them; SIGKILL leaves its slot open for good. The
        // trainer must go on (the slot of a dead process is freed after a lease) at its full pace.
        var experiment = Specs.NewExperiment();
        var service = Specs.Inference(experiment, "service") with { RatePerSecond = 0, Priority = 10, Model = "mlp", Arbiter = ArbiterMode.Gating };
        var trainer = Specs.Training(experiment, "trainer") with { Arbiter = ArbiterMode.Gating };
        var grain = fixture.Grains.GetGrain<IExperimentGrain>(experiment);
        await grain.StartAsync(new ExperimentPlan("arbiter-kill", [service, trainer], 0.5, 12));
        var running = await Specs.Eventually(() => grain.GetProgressAsync(), p => p.State == ExperimentState.Measuring && p.Tenants.Count == 2, TimeSpan.FromSeconds(60), "measurement");
        var collector = fixture.Grains.GetGrain<ICollectorGrain>(experiment);
        Assert.Contains("arbiter (gating; latency-sensitive", running.Tenants.Single(t => t.Tenant == "service").DeviceDescription, StringComparison.Ordinal);

        // The arbiter holds the trainer while the service's requests are open, and its holds reach the collector.
        var holding = await Specs.Eventually(() => collector.GetSnapshotAsync(), s => s.Tenants.Any(t => t.Tenant == "trainer" && t.ArbiterHeld > 0), TimeSpan.FromSeconds(30), "the trainer's held launches to be reported");
        // (A hold counts where its launch was let go: one begun in the warm-up may outlast the window so far.)
        Assert.All(holding.Tenants.Where(t => t.Tenant == "trainer" && t.ArbiterHeld > 0), t => Assert.True(t.ArbiterHeldSeconds > 0));
        Assert.All(holding.Tenants.Where(t => t.Tenant == "service"), t => Assert.Equal((0L, 0.0), (t.ArbiterHeld, t.ArbiterPredictedSeconds)));
        // What it predicted of the trainer's launches it let go reaches the collector too.
        Assert.Contains(holding.Tenants, t => t.Tenant == "trainer" && t.ArbiterPredictedSeconds > 0);

        Process.GetProcessById(running.Tenants.Single(t => t.Tenant == "service").Pid).Kill();
        var killed = await TrainerStepsAsync(collector);
        var started = Stopwatch.GetTimestamp();

        // The modelled trainer's ResNet-50 batch-8 step is ~20 ms: free, it makes 20 steps in well
        // under a second (a loaded host: a few); held by a dead service, none ever.
        var later = await Specs.Eventually(() => TrainerStepsAsync(collector), steps => steps - killed >= 20, TimeSpan.FromSeconds(5), "the trainer to make 20 steps after the service was killed");
        var elapsed = Stopwatch.GetElapsedTime(started);
        var done = await Specs.Eventually(() => grain.GetProgressAsync(), p => p.IsFinished, TimeSpan.FromSeconds(60), "the experiment to finish");

        Assert.True(later - killed >= 20, $"the trainer made {later - killed} steps in {elapsed.TotalSeconds:0.0} s after the service was killed");
        Assert.Equal(TenantState.Failed, done.Tenants.Single(t => t.Tenant == "service").State);
        Assert.Equal(TenantState.Stopped, done.Tenants.Single(t => t.Tenant == "trainer").State);
    }

    [Fact]
    public void Acquire_PolicyPerGpu_SharedByItsTenants_AndRemovedWithTheLast()
    {
        using var arbiters = new NodeArbiters();
        var sim = new DeviceId(DeviceKind.Sim, 7);

        var first = arbiters.Acquire(sim, 500_000, 0, sensitive: true);
        var second = arbiters.Acquire(sim, 500_000, 0, sensitive: false);
        var conflict = Assert.Throws<InvalidOperationException>(() => arbiters.Acquire(sim, 500_000, 200_000, sensitive: false));
        var cpu = Assert.Throws<InvalidOperationException>(() => arbiters.Acquire(new DeviceId(DeviceKind.Cpu, 0), 500_000, 0, sensitive: false));

        Assert.Equal(first.Path, second.Path);
        Assert.Equal((true, false), (first.Sensitive, second.Sensitive));
        Assert.Contains("sim:7's arbiter runs gating with 500 us outstanding for the tenants on it, and this tenant asks for gating with 500 us outstanding and slicing at 200 us", conflict.Message, StringComparison.Ordinal);
        Assert.Contains("give the tenant device cuda or sim, or arbiter: off", cpu.Message, StringComparison.Ordinal);
        using (var gate = ArbiterGate.Open(first.Path))
        {
            Assert.Equal((500_000, 0, NodeArbiters.SlotsPerGpu), (gate.OutstandingNs, gate.QuantumNs, gate.Slots));
        }

        arbiters.Release(sim);
        Assert.True(File.Exists(first.Path));
        arbiters.Release(sim);
        Assert.False(File.Exists(first.Path));
        Assert.Equal(0, arbiters.Users);
    }

    private static async Task<long> TrainerStepsAsync(ICollectorGrain collector)
    {
        var snapshot = await collector.GetSnapshotAsync();
        return snapshot.Tenants.Where(t => t.Tenant == "trainer").Sum(t => t.Completed);
    }
}
