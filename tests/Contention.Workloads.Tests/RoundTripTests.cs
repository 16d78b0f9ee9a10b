using System.Diagnostics;
using Contention.Workloads.Benchmarks;
using Contention.Workloads.Devices;
using Contention.Workloads.Kernels;
using Contention.Workloads.Sim;

namespace Contention.Workloads.Tests;

public class RoundTripTests
{
    private static readonly DeviceProfile Profile = DeviceProfile.Load("h100") with
    {
        RoundTrips =
        [
            new(SyncMode.Block, 10_000, 20_000),
            new(SyncMode.Block, 2_000, 15_000),
            new(SyncMode.Block, 110_000, 40_000),
            new(SyncMode.Spin, 2_000, 4_000),
            new(SyncMode.Block, 2_000, 9_000, GpuSharing.Mps),
        ],
    };

    [Theory]
    [InlineData(0, 15_000)] // below the first point: flat
    [InlineData(2_000, 15_000)]
    [InlineData(6_000, 17_500)] // halfway between 2 and 10 us
    [InlineData(60_000, 30_000)] // halfway between 10 and 110 us
    [InlineData(1_000_000, 40_000)] // beyond the last point: flat
    public void Ns_BlockCurve_InterpolatesBetweenPointsInAnyOrderAndIsFlatBeyond(long waitNs, long expected) =>
        Assert.Equal(expected, new RoundTripCurve(Profile, SyncMode.Block).Ns(waitNs));

    [Fact]
    public void Ns_ModeOrSharingWithoutPoints_FallsBackAsDocumented()
    {
        Assert.Equal(0, new RoundTripCurve(Profile, SyncMode.Yield).Ns(5_000));
        Assert.Equal(4_000, new RoundTripCurve(Profile, SyncMode.Spin, GpuSharing.Mps).Ns(5_000));
        Assert.Equal(9_000, new RoundTripCurve(Profile, SyncMode.Block, GpuSharing.Mps).Ns(50_000));
        Assert.Equal(0, new RoundTripCurve(DeviceProfile.Load("h100"), SyncMode.Block).Ns(5_000));
    }

    [Fact]
    public void RoundTripResult_SyntheticLoops_FitsRoundTripsCopyLatencyAndReplacesOnlyItsSharingsPoints()
    {
        // Launch CPU 4 us; wait kernels of 2 and 100 us GPU time; block loops take 26 and 150 us
        // (round trips 20 and 46 us), spin 10 and 108 (4 us each); copies 4 us of transfer take 4
        // (launch) + the 2-us-wait round trip + 4 (transfer) + 1 (latency).
        static ModeRoundTrips Mode(SyncMode mode, double shortLoop, double longLoop, double roundTrip) => new(mode,
        [
            new(Calibration.WaitName(0), shortLoop, 1), new(Calibration.WaitName(1), longLoop, 1),
            new(Calibration.ToDevice, 4_000 + roundTrip + 4_000 + 1_000, 1), new(Calibration.ToHost, 4_000 + roundTrip + 4_000 + 1_000, 1),
        ]);
        var result = new RoundTripResult(4_000, [2_000, 100_000], [Mode(SyncMode.Spin, 10_000, 108_000, 4_000), Mode(SyncMode.Block, 26_000, 150_000, 20_000)], 100_000, 4_000, 4_000, GpuSharing.Mps);

        Assert.Equal(
            [new MeasuredRoundTrip(SyncMode.Spin, 2_000, 4_000, GpuSharing.Mps), new(SyncMode.Spin, 100_000, 4_000, GpuSharing.Mps), new(SyncMode.Block, 2_000, 20_000, GpuSharing.Mps), new(SyncMode.Block, 100_000, 46_000, GpuSharing.Mps)],
            result.Points);
        Assert.Equal(33_000, result.RoundTripNs(SyncMode.Block, 51_000));
        Assert.Equal(1_000, result.CopyLatencyNs, 6);

        var baseline = Profile with { CopyLatencyNs = 7_000 };
        var applied = result.ApplyTo(baseline, "NVIDIA H200");
        Assert.Equal(4, applied.RoundTrips.Count(p => p.Sharing == GpuSharing.Timeslice));
        Assert.Equal(result.Points, applied.RoundTrips.Where(p => p.Sharing == GpuSharing.Mps));
        Assert.Equal(7_000, applied.CopyLatencyNs); // measured under MPS: the copy latency stays the time-sliced one
        Assert.Contains("round trips of an MPS client", applied.Source, StringComparison.Ordinal);
        Assert.Equal(1_000, (result with { Sharing = GpuSharing.Timeslice }).ApplyTo(baseline, "NVIDIA H200").CopyLatencyNs);

        // Calibrated again, time-sliced and under MPS: each kind of measurement is named once.
        var timesliced = result with { Sharing = GpuSharing.Timeslice };
        var twice = result.ApplyTo(timesliced.ApplyTo(result.ApplyTo(timesliced.ApplyTo(baseline, "NVIDIA H200"), "NVIDIA H200"), "NVIDIA H200"), "NVIDIA H200");
        Assert.Equal(1, Count(twice.Source, "round trips of an MPS client measured"));
        Assert.Equal(1, Count(twice.Source, "round trips measured"));
        Assert.Equal(1, Count(twice.Source, "copy latency"));
        Assert.StartsWith(baseline.Source.Split("; ")[0], twice.Source, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "kind x", "kind x")]
    [InlineData("a; kind one (p; q); b", "kind two", "a; b; kind two")]
    [InlineData("kind one; a (kind: not this one); kind two", "kind three", "a (kind: not this one); kind three")]
    [InlineData("a (b; c", "kind x", "a (b; c; kind x")]
    public void SourceWith_EarlierSegmentsOfTheKind_Replaced(string source, string segment, string expected)
    {
        Assert.Equal(expected, new DeviceProfile { Source = source }.SourceWith("kind", segment));
    }

    private static int Count(string text, string part) => (text.Length - text.Replace(part, "", StringComparison.Ordinal).Length) / part.Length;

    [Fact]
    public void DeviceProfile_WithRoundTrips_SurvivesItsJson()
    {
        var json = System.Text.Json.JsonSerializer.Serialize(Profile, DeviceProfileJson.Default.DeviceProfile);
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, json);
            Assert.Equal(Profile.RoundTrips, DeviceProfile.Load(path).RoundTrips);
            Assert.Contains("\"sharing\": \"Mps\"", json, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    // A table linear in the probability (entry = 1000 p - 300): its mean is the line's, 200.
    private static readonly long[] Linear = [.. RoundTripSpread.Probabilities.Select(p => (long)Math.Round((1000 * p) - 300))];

    [Fact]
    public void Measure_EvenlySpacedIterations_QuantilesLessTheirMean()
    {
        // 1..101 ns in any order: mean 51; the 0.99 quantile is the 100th value, the 0.995 halfway between the 100th and the 101st.
        var iterations = Enumerable.Range(1, 101).Select(v => (long)v).Reverse().ToArray();
        var spread = RoundTripSpread.Measure(iterations);

        Assert.Equal(RoundTripSpread.Probabilities.Count, spread.Length);
        Assert.Equal(-50, spread[0]);
        Assert.Equal(0, spread[RoundTripSpread.Probabilities.ToList().IndexOf(0.5)]);
        Assert.Equal(49, spread[RoundTripSpread.Probabilities.ToList().IndexOf(0.99)]);
        Assert.Equal(50, spread[^1]);
        Assert.Throws<ArgumentException>(() => RoundTripSpread.Measure([5]));
    }

    [Fact]
    public void Quantile_AndMean_StraightLinesBetweenEntries()
    {
        Assert.Equal(200, RoundTripSpread.Mean(Linear), 6);
        Assert.Equal(-300, RoundTripSpread.Quantile(Linear, 0), 6);
        Assert.Equal(95, RoundTripSpread.Quantile(Linear, 0.395), 6);
        Assert.Equal(690, RoundTripSpread.Quantile(Linear, 0.99), 6);
        Assert.Equal(690 - 200, RoundTripSpread.Sample(Linear, 0.99), 6);
        Assert.Equal(7, RoundTripSpread.Mean([.. RoundTripSpread.Probabilities.Select(_ => 7L)]), 6);
        Assert.Throws<ArgumentException>(() => RoundTripSpread.Mean([1, 2, 3]));
    }

    [Fact]
    public void Ns_WithSpread_DrawsAroundTheMeanInterpolatedBetweenPoints()
    {
        // Block points at 2 and 10 us wait (means 15 and 20 us); the first spreads as the linear
        // table (centred: 1000 p - 500), the second twice as wide (2000 p - 1000).
        var doubled = Linear.Select(v => 2 * v).ToArray();
        var profile = Profile with { RoundTrips = [new(SyncMode.Block, 2_000, 15_000, Spread: Linear), new(SyncMode.Block, 10_000, 20_000, Spread: doubled)] };
        var curve = new RoundTripCurve(profile, SyncMode.Block);

        Assert.True(curve.Spreads);
        Assert.Equal(15_000 + 490, curve.Ns(2_000, 0.99));
        Assert.Equal(15_000 - 500, curve.Ns(1_000, 0)); // below the first point: its spread
        Assert.Equal(20_000 + 980, curve.Ns(50_000, 0.99)); // beyond the last: its spread
        Assert.Equal(17_500 + 735, curve.Ns(6_000, 0.99)); // halfway: halfway between 490 and 980
        Assert.Equal(curve.Ns(6_000), curve.Ns(6_000, 0.5));

        // Over uniform draws the mean is the mean round trip.
        const int draws = 100_000;
        Assert.Equal(curve.Ns(6_000), Enumerable.Range(0, draws).Average(i => curve.Ns(6_000, (i + 0.5) / draws)), 0.5);

        // Never below zero; without a spread on every point, every draw is the mean.
        var wide = Profile with { RoundTrips = [new(SyncMode.Block, 2_000, 100, Spread: doubled)] };
        Assert.Equal(0, new RoundTripCurve(wide, SyncMode.Block).Ns(2_000, 0));
        var partly = profile with { RoundTrips = [profile.RoundTrips[0], new(SyncMode.Block, 10_000, 20_000)] };
        Assert.False(new RoundTripCurve(partly, SyncMode.Block).Spreads);
        Assert.Equal(17_500, new RoundTripCurve(partly, SyncMode.Block).Ns(6_000, 0.99));
    }

    [Fact]
    public void RoundTripResult_IterationsKept_PointsCarryTheirSpread()
    {
        long[] iterations = [.. Enumerable.Range(0, 201).Select(i => 26_000L + (i % 2 == 0 ? 0 : 1_000))];
        var mode = new ModeRoundTrips(SyncMode.Block, [new(Calibration.WaitName(0), 26_500, 1, IterationsNs: iterations), new(Calibration.ToDevice, 40_000, 1), new(Calibration.ToHost, 40_000, 1)]);
        var point = new RoundTripResult(4_000, [2_000], [mode], 100_000, 4_000, 4_000).Points.Single();

        Assert.Equal(RoundTripSpread.Measure(iterations), point.Spread);
        Assert.Equal(20_500, point.Ns);
        Assert.Contains("spread of its single iterations around their mean (at least 201 per point)", new RoundTripResult(4_000, [2_000], [mode], 100_000, 4_000, 4_000).ApplyTo(Profile, "NVIDIA H200").Source, StringComparison.Ordinal);
    }

    [Fact]
    public void DeviceProfile_WithSpread_SurvivesItsJson()
    {
        var profile = Profile with { RoundTrips = [new(SyncMode.Block, 2_000, 15_000, Spread: Linear)] };
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(profile, DeviceProfileJson.Default.DeviceProfile));
            Assert.Equal(Linear, DeviceProfile.Load(path).RoundTrips.Single().Spread);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ShippedH200_HasRoundTripsForEverySyncModeUnderBothSharings()
    {
        var h200 = DeviceProfile.Load("h200");
        foreach (var sharing in Enum.GetValues<GpuSharing>())
        {
            foreach (var mode in Enum.GetValues<SyncMode>())
            {
                Assert.True(h200.RoundTrips.Count(p => p.Sync == mode && p.Sharing == sharing) >= 4, $"{mode} under {sharing}");
            }
        }

        // A sleeping thread's wake-up is the slow one, and slower after long waits.
        var block = new RoundTripCurve(h200, SyncMode.Block);
        var spin = new RoundTripCurve(h200, SyncMode.Spin);
        Assert.True(block.Ns(2_000) > spin.Ns(2_000));
        Assert.True(block.Ns(500_000) > block.Ns(2_000));
    }

    [Fact]
    public void WakeUps_LinearBetweenSleepLengthsFlatBeyondAndZeroWithoutPoints()
    {
        var profile = DeviceProfile.Load("h100") with { WakeUps = [new(5_000_000, 40_000), new(1_000_000, 20_000)] };
        var curve = RoundTripCurve.WakeUps(profile);

        Assert.Equal(20_000, curve.Ns(10_000));
        Assert.Equal(30_000, curve.Ns(3_000_000));
        Assert.Equal(40_000, curve.Ns(60_000_000));
        Assert.False(curve.Spreads);
        Assert.Equal(0, RoundTripCurve.WakeUps(DeviceProfile.Load("h100")).Ns(3_000_000));
    }

    [Fact]
    public void WakeUps_SeveralCountsOfSleepers_InterpolatedBetweenThemNearestBeyond()
    {
        // One sleeper: 100 us late, spread -10..+10 us; five: 300 us late, spread three times as wide.
        long[] narrow = [.. RoundTripSpread.Probabilities.Select(p => (long)Math.Round((p - 0.5) * 20_000))];
        long[] wide = [.. narrow.Select(v => 3 * v)];
        var profile = DeviceProfile.Load("h100") with { WakeUps = [new(20_000_000, 100_000, narrow, 1), new(20_000_000, 300_000, wide, 5)] };

        // Three sleepers: halfway, the mean and every quantile of the spread.
        var three = RoundTripCurve.WakeUps(profile, 3);
        Assert.Equal(200_000, three.Ns(20_000_000));
        Assert.Equal(200_000 + (2 * narrow[^1]), three.Ns(20_000_000, 1.0));
        Assert.Equal(200_000 + (2 * narrow[0]), three.Ns(20_000_000, 0.0));

        Assert.Equal(100_000, RoundTripCurve.WakeUps(profile, 1).Ns(20_000_000));
        Assert.Equal(300_000, RoundTripCurve.WakeUps(profile, 30).Ns(20_000_000));
        Assert.Equal(300_000 + wide[^1], RoundTripCurve.WakeUps(profile, 30).Ns(20_000_000, 1.0));

        // A profile of one count (as the shipped ones, measured with 4 threads) is the same for any.
        var single = DeviceProfile.Load("h100") with { WakeUps = [new(20_000_000, 100_000, narrow)] };
        Assert.Equal(RoundTripCurve.WakeUps(single, 1).Ns(20_000_000, 0.99), RoundTripCurve.WakeUps(single, 30).Ns(20_000_000, 0.99));
    }

    [Fact]
    public void Calibration_WakeUpPoints_MeanAndSpreadOverEverySleeper()
    {
        // Two sleepers, two lengths: 10 and 30 us late after 1 ms, 50 and 70 after 20 ms.
        long[][] first = [[10_000, 10_000], [50_000, 50_000]];
        long[][] second = [[30_000, 30_000], [70_000, 70_000]];
        var points = Contention.Workloads.Benchmarks.Calibration.WakeUpPoints([1_000_000, 20_000_000], [first, second], 2);

        Assert.Equal([(1_000_000L, 20_000L, 2), (20_000_000L, 60_000L, 2)], points.Select(p => (p.SleepNs, p.Ns, p.Sleepers)));
        Assert.Equal(-10_000, points[0].Spread![0]);
        Assert.Equal(10_000, points[0].Spread![^1]);
        Assert.Throws<ArgumentException>(() => Contention.Workloads.Benchmarks.Calibration.WakeUpPoints([1_000_000], [first], 1));
    }

    [Fact]
    public void ShippedH200_WakesLaterAfterLongerSleepsAndKeepsTheMeasuredSpread()
    {
        var h200 = DeviceProfile.Load("h200");
        Assert.True(h200.WakeUps.Count >= 4);
        var curve = RoundTripCurve.WakeUps(h200);
        Assert.True(curve.Spreads);
        Assert.True(curve.Ns(20_000_000) > curve.Ns(50_000));
        Assert.True(curve.Ns(20_000_000, 0.99) > curve.Ns(20_000_000, 0.5));
        Assert.InRange(curve.Ns(20_000_000), 1_000, 1_000_000);

        // The scaled profiles keep their host's wake-ups (the source says so).
        Assert.Equal(h200.WakeUps.Select(p => (p.SleepNs, p.Ns)), DeviceProfile.Load("t4").WakeUps.Select(p => (p.SleepNs, p.Ns)));
    }

    [Fact]
    public void Calibration_WakeUps_MeasuresEachSleepLengthOnThisHost()
    {
        // Two sleepers, one after the other (bench calibrate runs them as processes at once).
        long[] sleeps = [200_000, 2_000_000];
        var points = Contention.Workloads.Benchmarks.Calibration.WakeUpPoints(sleeps, [Contention.Workloads.Benchmarks.Calibration.WakeUpLateness(sleeps, 0.05, 0), Contention.Workloads.Benchmarks.Calibration.WakeUpLateness(sleeps, 0.05, 0.5)], 2);

        Assert.Equal([200_000L, 2_000_000L], points.Select(p => p.SleepNs));
        Assert.All(points, p => Assert.Equal(2, p.Sleepers));
        foreach (var point in points)
        {
            // Never early (an absolute deadline), and below a second even on a busy machine.
            Assert.InRange(point.Ns, 0, 1_000_000_000);
            Assert.Equal(RoundTripSpread.Probabilities.Count, point.Spread!.Count);
            Assert.True(point.Ns + point.Spread[0] >= 0, "the earliest wake-up is not before its deadline");
        }
    }
}

[Collection(SimTiming.Name)]
public sealed class SimDeviceRoundTripTests : IDisposable
{
    // Round trips far above any scheduling noise: a synchronise that waits must take at least
    // the kernel plus the round trip of its sync mode and sharing.
    private readonly SimGpuHost host = new(0, 2, DeviceProfile.Load("h100") with
    {
        LaunchCpuNs = 0,
        RoundTrips = [new(SyncMode.Block, 1_000, 30_000_000), new(SyncMode.Spin, 1_000, 30_000_000), new(SyncMode.Block, 1_000, 80_000_000, GpuSharing.Mps)],
    }, TimeSpan.FromMicroseconds(50));

    [Theory]
    [InlineData(SyncMode.Block, GpuSharing.Timeslice, 30)]
    [InlineData(SyncMode.Spin, GpuSharing.Timeslice, 30)]
    [InlineData(SyncMode.Block, GpuSharing.Mps, 80)]
    public void Synchronize_Waiting_ReturnsNoSoonerThanTheRoundTripAfterTheKernel(SyncMode mode, GpuSharing sharing, double roundTripMs)
    {
        var channel = host.Acquire(sharing, SimContext.Default);
        try
        {
            using var device = new SimDevice(new DeviceOptions { Id = new DeviceId(DeviceKind.Sim, 0), SyncMode = mode, SimChannel = channel });
            var kernel = KernelSpec.Elementwise(50_000_000);
            device.Prepare([kernel]);

            var watch = Stopwatch.StartNew();
            device.Launch(kernel);
            device.Synchronize();

            Assert.True(watch.Elapsed.TotalMilliseconds >= (device.Model.DurationNs(kernel) / 1e6) + roundTripMs, $"took {watch.Elapsed.TotalMilliseconds} ms");
        }
        finally
        {
            host.Release(channel.Slot);
        }
    }

    [Fact]
    public void Synchronize_WorkDoneBeforeTheCall_CostsNoRoundTrip()
    {
        var channel = host.Acquire();
        try
        {
            using var device = new SimDevice(new DeviceOptions { Id = new DeviceId(DeviceKind.Sim, 0), SyncMode = SyncMode.Block, SimChannel = channel });
            var kernel = KernelSpec.Elementwise(1_000_000);
            device.Prepare([kernel]);
            device.Launch(kernel);
            while (host.CompletedAtNs(channel.Slot) == 0)
            {
                Thread.Sleep(1);
            }

            var watch = Stopwatch.StartNew();
            device.Synchronize();

            Assert.True(watch.Elapsed.TotalMilliseconds < 25, $"took {watch.Elapsed.TotalMilliseconds} ms");
        }
        finally
        {
            host.Release(channel.Slot);
        }
    }

    [Fact]
    public void Synchronize_ProfileWithSpread_DrawsEachRoundTripFromIt()
    {
        // Under MPS round trips spread from 0 (the faster half) to 40 ms (the slowest quarter),
        // mean 15 ms: with the fixed seed some of twelve waits take none and some take 40 ms.
        double[] shape = [0, 0, 0, 0, 0, 0, 40, 40, 40, 40, 40, 40, 40, 40, 40];
        using var spreading = new SimGpuHost(0, 1, DeviceProfile.Load("h100") with
        {
            LaunchCpuNs = 0,
            RoundTrips = [new(SyncMode.Block, 1_000, 15_000_000, GpuSharing.Mps, [.. shape.Select(ms => (long)(ms * 1e6))])],
        }, TimeSpan.FromMicroseconds(50));
        var channel = spreading.Acquire(GpuSharing.Mps, SimContext.Default);
        using var device = new SimDevice(new DeviceOptions { Id = new DeviceId(DeviceKind.Sim, 0), SyncMode = SyncMode.Block, SimChannel = channel, Seed = 7 });
        var waits = TimedSynchronizes(device, 12);

        Assert.Contains(waits, ms => ms >= 40);
        Assert.Contains(waits, ms => ms < 10);
    }

    /// <summary>Launches a 1 M-element kernel and synchronises <paramref name="count"/> times: each launch-to-return, ms.</summary>
    internal static List<double> TimedSynchronizes(SimDevice device, int count)
    {
        var kernel = KernelSpec.Elementwise(1_000_000);
        device.Prepare([kernel]);
        var waits = new List<double>();
        for (var i = 0; i < count; i++)
        {
            var watch = Stopwatch.StartNew();
            device.Launch(kernel);
            device.Synchronize();
            waits.Add(watch.Elapsed.TotalMilliseconds);
        }

        return waits;
    }

    public void Dispose() => host.Dispose();
}
