using Contention.Grains;
using Contention.Workloads.Metrics;

namespace Contention.Cluster.Tests;

/// <summary>
/// Command tenants: an external program as the tenant's worker; its latency lines are its
/// operations, its exit ends it (finished, or a failure with its output), a stop ends it.
/// </summary>
[Collection(ClusterTests.Name)]
public class CommandTenantTests(ClusterFixture fixture)
{
    [Fact]
    public async Task Start_ProgramPrintingStepLines_RecordsEachAsAnOperationAndFinishes()
    {
        var spec = Command("steps", "i=0; while [ $i -lt 40 ]; do echo \"step $((i % 4 + 1)).5 ms\"; echo noise; i=$((i+1)); sleep 0.005; done");

        var (done, snapshot) = await RunAsync(spec);

        Assert.Equal(ExperimentState.Completed, done.State);
        Assert.Equal(TenantState.Stopped, done.Tenants.Single().State);
        var window = snapshot.Tenants.Where(t => t.Tenant == "steps");
        var latency = Histograms.Create();
        foreach (var t in window.Where(t => t.Latency.Length > 0))
        {
            Histograms.RecordInto(t.Latency, latency);
        }

        Assert.Equal(40, latency.TotalCount);
        Assert.InRange(latency.GetValueAtPercentile(50) / 1e6, 2.4, 2.6);
        Assert.InRange(latency.GetValueAtPercentile(100) / 1e6, 4.4, 4.6);
        Assert.Empty(snapshot.Failures);
    }

    [Fact]
    public async Task Start_GarbageLatencyLines_AreNotRecorded()
    {
        // Negative, non-finite and beyond-an-hour values are no latencies; only the 2 ms lines count.
        var spec = Command("garbage", "for v in -5 2 inf nan 1e300 99999999999 2 -0.5; do echo \"step $v ms\"; done");

        var (done, snapshot) = await RunAsync(spec);

        Assert.Equal(ExperimentState.Completed, done.State);
        var latency = Histograms.Create();
        foreach (var t in snapshot.Tenants.Where(t => t.Tenant == "garbage" && t.Latency.Length > 0))
        {
            Histograms.RecordInto(t.Latency, latency);
        }

        Assert.Equal(2, latency.TotalCount);
        Assert.InRange(HdrHistogram.HistogramExtensions.GetMaxValue(latency) / 1e6, 1.99, 2.01);
        // Lines the pattern matched without a usable latency (-5, 99999999999 and -0.5 ms) are
        // counted; those it does not match (inf, nan, 1e300) are the program's other output.
        Assert.Equal(3, snapshot.Tenants.Where(t => t.Tenant == "garbage").Sum(t => t.RejectedLines));
    }

    [Fact]
    public async Task Start_ProgramThatFails_RecordsItsStatusAndOutput()
    {
        var spec = Command("broken", "echo 'torch is not installed'; exit 3");

        var (done, snapshot) = await RunAsync(spec);

        Assert.Equal(ExperimentState.Failed, done.State);
        Assert.Contains("every tenant failed", done.Message, StringComparison.Ordinal);
        var failure = Assert.Single(snapshot.Failures);
        Assert.Equal(3, failure.ExitCode);
        Assert.Contains("torch is not installed", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stop_LongRunningProgram_EndsItWithSigterm()
    {
        var marker = Path.Combine(Path.GetTempPath(), $"contention-term-{Guid.NewGuid():N}");
        var spec = Command("forever", $"trap 'touch {marker}; exit 0' TERM; while true; do echo 'latency 1 ms'; sleep 0.01; done") with { Experiment = Specs.NewExperiment() };
        var plan = new ExperimentPlan("command", [spec], 0, 1);
        var grain = fixture.Grains.GetGrain<IExperimentGrain>(spec.Experiment);

        await grain.StartAsync(plan);
        var done = await Specs.Eventually(() => grain.GetProgressAsync(), p => p.IsFinished, TimeSpan.FromSeconds(60), "the experiment to stop the command");

        Assert.Equal(ExperimentState.Completed, done.State);
        Assert.True(File.Exists(marker), "the program did not get SIGTERM");
        File.Delete(marker);
    }

    [Fact]
    public async Task Stop_ProgramSlowToExit_ItsMeasuredTimeEndsAtTheStop()
    {
        // A 1-s window; the program takes 3 s to exit after SIGTERM (as a PyTorch job tears down).
        var spec = Command("slow", "trap 'sleep 3; exit 0' TERM; while true; do echo 'latency 1 ms'; sleep 0.01; done") with { Experiment = Specs.NewExperiment() };
        var grain = fixture.Grains.GetGrain<IExperimentGrain>(spec.Experiment);

        await grain.StartAsync(new ExperimentPlan("command", [spec], 0, 1));
        var done = await Specs.Eventually(() => grain.GetProgressAsync(), p => p.IsFinished, TimeSpan.FromSeconds(60), "the experiment to stop the command");

        Assert.Equal(ExperimentState.Completed, done.State);
        var measured = (await fixture.Grains.GetGrain<ICollectorGrain>(spec.Experiment).GetSnapshotAsync()).Tenants.Where(t => t.Tenant == "slow" && t.Phase == MeasurementPhase.Measure).Sum(t => t.Seconds);

        // Counted to the exit it would be 4 s or more; the window's own slack on a busy machine stays under 2.5.
        Assert.InRange(measured, 0.5, 2.5);
    }

    private static TenantSpec Command(string name, string script) => new()
    {
        Experiment = Specs.NewExperiment(),
        Name = name,
        Kind = TenantKind.Command,
        Device = "cpu",
        Command = ["sh", "-c", script],
    };

    private async Task<(ExperimentProgress Progress, CollectorSnapshot Snapshot)> RunAsync(TenantSpec spec)
    {
        var grain = fixture.Grains.GetGrain<IExperimentGrain>(spec.Experiment);
        await grain.StartAsync(new ExperimentPlan("command", [spec], 0, 60));
        var done = await Specs.Eventually(() => grain.GetProgressAsync(), p => p.IsFinished, TimeSpan.FromSeconds(60), "the command to end the experiment");
        return (done, await fixture.Grains.GetGrain<ICollectorGrain>(spec.Experiment).GetSnapshotAsync());
    }
}
