using Contention.Workloads.Benchmarks;
using Contention.Workloads.Devices;

namespace Contention.Workloads.Tests;

public class LaunchBenchmarkTests
{
    [Fact]
    public void PairedRatio_IsOfEachRepetitionsPair_NotOfTheMedians()
    {
        // Medians 20 and 10 (2x), but pair by pair 2x, 2x and 1.5x: a slow stretch of the host
        // that hit both loops of one repetition moves the ratio of medians, not the pairs'.
        var arbiter = new LaunchSeries("arbiter", [10, 20, 30]);
        var direct = new LaunchSeries("direct", [5, 10, 20]);

        Assert.Equal((2.0, 1.5, 2.0), LaunchBenchmark.PairedRatio(arbiter, direct));
    }

    [GpuFact]
    public void RunAll_WithTheArbiter_WarmsUpUntilTheJitIsDone_AndTimesEverySide()
    {
        var series = LaunchBenchmark.RunAll(0, SyncMode.Spin, 1 << 16, 50, 3, arbiter: true);

        Assert.Equal(5, series.Count);
        Assert.All(series, s => Assert.Equal(3, s.Samples.Count));
        Assert.InRange(LaunchBenchmark.LastWarmRounds, LaunchBenchmark.MinWarmRounds, LaunchBenchmark.MaxWarmRounds - 1);
    }
}
