using Contention.Grains;

namespace Contention.Cluster.Tests;

/// <summary>
/// In-band phases: a grid tenant walks its points in one worker, each point's setup, steady
/// phases and teardown a phase of its own, measured by the worker (getrusage) and, on an eBPF
/// node, by the tracer between the boundaries; the experiment ends when the walk does.
/// </summary>
[Collection(ClusterTests.Name)]
public class PhaseTests(ClusterFixture fixture)
{
    private static readonly string[] Walk = ["init", .. Enumerable.Repeat<string[]>(["setup", "steady", "steady", "teardown"], 4).SelectMany(p => p)];

    [Fact]
    public async Task Start_GridTenant_EndsEarlyWithEveryPhaseInOrder()
    {
        var (progress, snapshot) = await RunAsync(Specs.Grid(Specs.NewExperiment(), "grid"));

        Assert.Equal(ExperimentState.Completed, progress.State);
        Assert.True(progress.EndedUtc - progress.StartedUtc < TimeSpan.FromSeconds(60), "the experiment ran its whole duration instead of ending with the walk");
        var phases = snapshot.Phases.Where(p => p.Tenant == "grid").ToList();
        Assert.Equal(Walk, phases.Select(p => p.Name));
        Assert.Equal(Enumerable.Range(0, Walk.Length), phases.Select(p => p.Index));
        var steady = phases.Where(p => p.Name == "steady").ToList();
        Assert.Equal([10, 100, 10, 100, 10, 100, 10, 100], steady.Select(p => p.Iterations));
        Assert.All(steady, p => Assert.Equal(p.Iterations, p.IterationsRun));
        Assert.Equal(["copy", "copy", "copy", "copy", "elementwise", "elementwise", "elementwise", "elementwise"], steady.Select(p => p.Op));
        Assert.Equal([4096L, 4096, 65536, 65536, 4096, 4096, 65536, 65536], steady.Select(p => p.Bytes));
        Assert.All(phases, p => Assert.True(p.WallSeconds > 0, $"phase {p.Index} has no wall time"));
        // Start-up (runtime, device, modelled GPU channel) costs far more CPU than any grid point.
        Assert.True(phases[0].Os.UserSeconds + phases[0].Os.SystemSeconds > steady.Max(p => p.Os.UserSeconds + p.Os.SystemSeconds));
    }

    [Fact]
    public async Task Start_GridTenantOnAThread_RecordsItsPhasesWithoutStartUp()
    {
        var (progress, snapshot) = await RunAsync(Specs.Grid(Specs.NewExperiment(), "grid", isolation: Isolation.Thread));

        Assert.Equal(ExperimentState.Completed, progress.State);
        var phases = snapshot.Phases.Where(p => p.Tenant == "grid").ToList();
        Assert.Equal(Walk[1..], phases.Select(p => p.Name));
        Assert.All(phases, p => Assert.Null(p.Kernel));
    }

    [BpfFact]
    public async Task Start_GridTenantOnEbpfNode_CountsEachPhaseBetweenItsBoundaries()
    {
        var (_, snapshot) = await RunAsync(Specs.Grid(Specs.NewExperiment(), "grid"));

        var phases = snapshot.Phases.Where(p => p.Tenant == "grid").ToList();
        Assert.All(phases, p => Assert.NotNull(p.Kernel));
        // Traced from its first instruction: the worker's execve, once, in start-up.
        Assert.Equal(1, phases[0].Kernel!.Syscalls.Where(s => s.Name == "execve").Sum(s => s.Count));
        Assert.DoesNotContain(phases.Skip(1).SelectMany(p => p.Kernel!.Syscalls), s => s.Name == "execve");
        // The phases hold the workload's calls only: with the handshakes' calls (held) they make the tenant's whole count.
        var total = snapshot.Tenants.Where(t => t.Tenant == "grid" && t.Kernel is not null).Sum(t => t.Kernel!.TotalCalls);
        var marked = phases.Sum(p => p.Kernel!.TotalCalls);
        Assert.InRange(marked, phases[0].Kernel!.TotalCalls, total);
        // Waits (futex, sched_yield, poll) are left out: a busy host decides how many a phase makes.
        static long Work(PhaseRecord p) => p.Kernel!.Syscalls.Where(s => s.Category != "sync-wait").Sum(s => s.Count);
        Assert.True(Work(phases[0]) > phases.Skip(1).Max(Work), $"start-up is not the phase with the most system calls besides waits: {string.Join(", ", phases.Select(p => $"{p.Name} {Work(p)}"))}");
    }

    private async Task<(ExperimentProgress Progress, CollectorSnapshot Snapshot)> RunAsync(TenantSpec spec)
    {
        var plan = new ExperimentPlan("grid", [spec], 0, 120);
        var grain = fixture.Grains.GetGrain<IExperimentGrain>(spec.Experiment);
        await grain.StartAsync(plan);
        var done = await Specs.Eventually(() => grain.GetProgressAsync(), p => p.IsFinished, TimeSpan.FromSeconds(90), "the grid walk to end the experiment");
        return (done, await fixture.Grains.GetGrain<ICollectorGrain>(spec.Experiment).GetSnapshotAsync());
    }
}
