using Contention.Grains;
using Contention.Grains.Hosting;
using Contention.Grains.Simulation;
using Orleans.TestingHost;

namespace Contention.Cluster.Tests;

/// <summary>A virtual-time simulation spread over test clusters of one and three silos: the same results, windows and groups notwithstanding; an interrupted one keeps what it simulated.</summary>
public sealed class SimulationCoordinatorTests
{
    private const long Warmup = 200_000_000;
    private const long Duration = 600_000_000;

    private static SimUnit Unit(string id, GpuSharing sharing, int trainers, int seed) => new(
        id,
        "h200",
        sharing,
        [
            new(Specs.Inference("sim", "svc") with { Model = "mlp", RatePerSecond = 400, Priority = 10, Seed = seed }, "svc", 0, 0.5),
            .. Enumerable.Range(0, trainers).Select(t => new SimUnitTenant(Specs.Training("sim", $"train-{t}") with { BatchSize = 16 }, $"train-{t}", t + 1, 0.5 / trainers)),
        ]);

    private static readonly SimUnit[] Units =
    [
        Unit("ts-1", GpuSharing.Timeslice, 1, 1),
        Unit("ts-2", GpuSharing.Timeslice, 2, 2),
        Unit("mps-1", GpuSharing.Mps, 1, 3),
        Unit("mps-3", GpuSharing.Mps, 3, 4),
        Unit("alone", GpuSharing.Timeslice, 0, 5),
    ];

    private static async Task<SimulationOutcome> RunAsync(int silos, int groups, long step, IProgress<SimulationProgress>? progress = null, CancellationToken cancellation = default)
    {
        var builder = new TestClusterBuilder { Options = { InitialSilosCount = (short)silos } };
        builder.AddSiloBuilderConfigurator<SimulatingNode>();
        var cluster = builder.Build();
        await cluster.DeployAsync(CancellationToken.None);
        try
        {
            return await SimulationCoordinator.RunAsync(cluster.GrainFactory, new SimulationRequest($"test-{Guid.NewGuid():N}", Units, Warmup, Duration, step, Histograms: true, Groups: groups), progress, cancellation);
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    [Fact]
    public async Task Run_OneSiloAndThree_GiveTheSameResults()
    {
        var one = await RunAsync(1, 1, 100_000_000);
        var three = await RunAsync(3, 4, 37_000_000);

        Assert.Single(one.Silos);
        Assert.Equal(3, three.Silos.Count); // the groups spread over every silo
        Assert.False(one.Interrupted);
        Assert.Equal(one.Progress.Events, three.Progress.Events);
        Assert.Equal(Units.Length, three.Units.Count);
        for (var u = 0; u < Units.Length; u++)
        {
            Assert.Equal(Units[u].Id, three.Units[u].Id);
            Assert.Equal(Warmup + Duration, three.Units[u].NowNs);
            Assert.Equal(Duration, three.Units[u].MeasuredNs);
            Assert.Equal(one.Units[u].Events, three.Units[u].Events);
            for (var t = 0; t < Units[u].Tenants.Count; t++)
            {
                var a = one.Units[u].Tenants[t];
                var b = three.Units[u].Tenants[t];
                Assert.True(a.Completed > 0, $"{Units[u].Id}/{a.Name} completed nothing");
                Assert.Equal(a.Completed, b.Completed);
                Assert.Equal(a.KernelNs, b.KernelNs);
                Assert.Equal(a.P99Ns, b.P99Ns);
                Assert.Equal(a.MaxNs, b.MaxNs);
                Assert.Equal(a.Histogram, b.Histogram);
            }
        }

        // Each unit's loop time is counted, and the groups' busy time is their sum; the heaviest names one.
        foreach (var outcome in new[] { one, three })
        {
            Assert.All(outcome.Units, u => Assert.True(u.BusyNs > 0, $"{u.Id}: no loop time"));
            Assert.Equal(outcome.BusyNs, outcome.Units.Sum(u => u.BusyNs));
            Assert.Equal(outcome.Units.Max(u => u.BusyNs) / 1e9, outcome.Heaviest.Seconds);
            Assert.Contains(outcome.Heaviest.Unit, outcome.DescribeHeaviest(), StringComparison.Ordinal);
        }

        // Sharing shows: the service beside two time-sliced trainers waits far longer than alone.
        Assert.True(one.Units[1].Tenants[0].P99Ns > 5 * one.Units[4].Tenants[0].P99Ns);
    }

    [Fact]
    public async Task Run_CancelledInTheWindow_KeepsWhatWasSimulated()
    {
        using var cancel = new CancellationTokenSource();
        var reports = new List<SimulationProgress>();
        var outcome = await RunAsync(1, 2, 100_000_000, new Stop(p =>
        {
            reports.Add(p);
            if (p.NowNs >= Warmup + 300_000_000)
            {
                cancel.Cancel();
            }
        }), cancel.Token);

        Assert.True(outcome.Interrupted);
        Assert.Equal(Warmup + 300_000_000, outcome.Progress.NowNs);
        Assert.Equal([100_000_000, 200_000_000, 300_000_000, 400_000_000, 500_000_000], reports.Select(r => r.NowNs));
        Assert.All(outcome.Units, u => Assert.Equal(300_000_000, u.MeasuredNs));
        var service = outcome.Units[4].Tenants[0];
        Assert.InRange(service.Completed, 80, 160); // 400/s over 0.3 s
        Assert.NotEmpty(service.Histogram);
    }

    [Fact]
    public async Task Run_WithConvergence_SteadyUnitsStopEarlyAndAnOverloadedOneRunsTheWindow()
    {
        // A service alone at 400/s settles within seconds; one offered 5,000/s beside a time-sliced
        // trainer cannot keep up, its queue and p99 grow for ever: it runs the whole window.
        var busy = Unit("overloaded", GpuSharing.Timeslice, 1, 2);
        busy = busy with { Tenants = [busy.Tenants[0] with { Spec = busy.Tenants[0].Spec with { RatePerSecond = 5_000 } }, busy.Tenants[1]] };
        SimUnit[] units = [Unit("steady", GpuSharing.Timeslice, 0, 1), busy];
        var builder = new TestClusterBuilder { Options = { InitialSilosCount = 1 } };
        builder.AddSiloBuilderConfigurator<SimulatingNode>();
        var cluster = builder.Build();
        await cluster.DeployAsync(CancellationToken.None);
        SimulationOutcome outcome;
        try
        {
            outcome = await SimulationCoordinator.RunAsync(cluster.GrainFactory, new SimulationRequest($"test-{Guid.NewGuid():N}", units, Warmup, 20_000_000_000, 100_000_000, Convergence: SimConvergence.Default with { FirstCheckNs = 1_000_000_000 }));
        }
        finally
        {
            await cluster.DisposeAsync();
        }

        var steady = outcome.Units[0];
        var overloaded = outcome.Units[1];
        Assert.True(steady.Converged);
        // Checks at 1, 2, 4, 8 s: 1,000 requests need 2.5 s, so not before the 4-s check; 400/s is steady soon after.
        Assert.Contains(steady.MeasuredNs, new long[] { 4_000_000_000, 8_000_000_000 });
        Assert.InRange(steady.Tenants[0].Completed / (steady.MeasuredNs / 1e9), 380, 420);
        Assert.False(overloaded.Converged);
        Assert.Equal(20_000_000_000, overloaded.MeasuredNs);
        Assert.False(outcome.Interrupted);
        Assert.Equal(Warmup + 20_000_000_000, outcome.Progress.NowNs);
    }

    private sealed class Stop(Action<SimulationProgress> report) : IProgress<SimulationProgress>
    {
        public void Report(SimulationProgress value) => report(value);
    }

    private sealed class SimulatingNode : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) => siloBuilder.AddContentionSimulation();
    }
}
