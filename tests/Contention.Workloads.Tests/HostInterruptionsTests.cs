using Contention.Workloads.Devices;
using Contention.Workloads.Sim;

namespace Contention.Workloads.Tests;

public class HostInterruptionsTests
{
    [Fact]
    public void FromGaps_RateOverTheSpanAndTheLengthsQuantiles()
    {
        // 2,000 gaps over 2 s: 1,000 a second; lengths 5,000..6,999 ns evenly.
        long[] gaps = [.. Enumerable.Range(0, 2_000).Select(i => 5_000L + i)];
        var measured = HostInterruptions.FromGaps(gaps, 2_000_000_000);

        Assert.Equal(1_000, measured.PerSecond, 6);
        var p = RoundTripSpread.Probabilities.ToList();
        Assert.Equal(5_000, measured.Durations[0]);
        Assert.Equal(6_000.0, measured.Durations[p.IndexOf(0.5)], 1.0);
        Assert.Equal(6_999, measured.Durations[^1]);
        Assert.InRange(measured.MeanNs, 5_999, 6_000); // the table's area: straight lines between its quantiles
        Assert.Equal(measured.MeanNs * 1e-6, measured.OffCoreShare, 9);
        Assert.Null(measured.Problem());
    }

    [Fact]
    public void FromGaps_NoneOrOne_ZeroRateOrThatOneLength()
    {
        var none = HostInterruptions.FromGaps([], 1_000_000_000);
        Assert.Equal(0, none.PerSecond);
        Assert.All(none.Durations, d => Assert.Equal(0, d));
        Assert.Equal(0, none.HitShare(4_000));

        var one = HostInterruptions.FromGaps([9_000], 500_000_000);
        Assert.Equal(2, one.PerSecond);
        Assert.All(one.Durations, d => Assert.Equal(9_000, d));
    }

    [Theory]
    [InlineData(1_500, 10_000, 4_000, 0.021)] // the H200 host's order: 1.5 % off its core, 0.6 % in launches
    [InlineData(1_500, 10_000, 0, 0.015)]
    [InlineData(100_000, 10_000, 0, 0.5)] // at most a half
    public void HitShare_OffCoreShareAndInterruptionsBeginningInTheLaunch(double perSecond, long lengthNs, long launchCpuNs, double expected)
    {
        var interruptions = new HostInterruptions(perSecond, [.. RoundTripSpread.Probabilities.Select(_ => lengthNs)]);
        Assert.Equal(expected, interruptions.HitShare(launchCpuNs), 9);
    }

    [Fact]
    public void Measure_ThisHost_CountsGapsLongerThanTheThreshold()
    {
        var measured = HostInterruptions.Measure(TimeSpan.FromMilliseconds(300));

        Assert.Null(measured.Problem());
        Assert.True(measured.PerSecond >= 0 && measured.PerSecond < 1e6 / (HostInterruptions.ThresholdNs / 1e3), $"{measured.PerSecond}/s");
        Assert.True(measured.PerSecond == 0 || measured.Durations[0] > HostInterruptions.ThresholdNs, $"shortest {measured.Durations[0]} ns");
    }

    [Theory]
    [InlineData(-1.0, 0, "perSecond must be a number >= 0")]
    [InlineData(10.0, 3, "durations must be ns >= 0 in ascending order; entry 4")]
    public void Profile_BadInterruptions_RejectedNamingTheField(double perSecond, int swapAt, string expected)
    {
        var durations = RoundTripSpread.Probabilities.Select((_, i) => 1_000L * (i + 1)).ToArray();
        if (swapAt > 0)
        {
            (durations[swapAt], durations[swapAt + 1]) = (durations[swapAt + 1], durations[swapAt]);
        }

        var json = (DeviceProfile.Load("h100") with { HostInterruptions = new HostInterruptions(perSecond, durations) }).ToJson();
        var error = Assert.Throws<ArgumentException>(() => DeviceProfile.FromJson(json, "bad.json"));
        Assert.Contains("hostInterruptions." + expected, error.Message, StringComparison.Ordinal);
        Assert.Contains("bad.json", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Profile_WithInterruptions_SurvivesItsJsonWithoutItsDerivedValues()
    {
        var interruptions = HostInterruptions.FromGaps([.. Enumerable.Range(0, 100).Select(i => 8_000L + (100 * i))], 100_000_000);
        var json = (DeviceProfile.Load("h100") with { HostInterruptions = interruptions }).ToJson();

        var read = DeviceProfile.FromJson(json, "test").HostInterruptions!;
        Assert.Equal(interruptions.PerSecond, read.PerSecond);
        Assert.Equal(interruptions.Durations, read.Durations);
        Assert.DoesNotContain("meanNs", json, StringComparison.Ordinal);
        Assert.Null(DeviceProfile.Load("h100").HostInterruptions);
    }

    [Fact]
    public void HostHits_NothingOwed_DrawsAsTheSeededRandomDoes()
    {
        var hits = new HostHits(0.1);
        var a = new Random(7);
        var b = new Random(7);
        for (var k = 0; k < 1000; k++)
        {
            Assert.Equal(b.NextDouble(), hits.Next(a));
        }

        // Lateness up to the threshold is no interruption: still nothing owed.
        Assert.False(hits.Note(HostInterruptions.ThresholdNs));
        Assert.False(hits.Note(-5_000));
        Assert.Equal(0, hits.Owed);
        Assert.Equal(0, hits.Replaced);
        Assert.True(hits.Kept > 50, $"kept {hits.Kept} of 1000 draws with a slowest share of 0.1");
    }

    [Fact]
    public void HostHits_EachLatenessOwed_ReplacesOneDrawInTheSlowestShare()
    {
        // Three interruptions of this host: the next three draws at or over 0.9 are drawn again
        // below 0.9 (from the same random, the second value scaled by 0.9); draws below pass.
        var hits = new HostHits(0.1);
        Assert.True(hits.Note(HostInterruptions.ThresholdNs + 1));
        Assert.True(hits.Note(40_000));
        Assert.True(hits.Note(9_000));
        Assert.Equal(3, hits.Owed);

        var random = new Random(11);
        var mirror = new Random(11);
        var replaced = 0;
        var drawn = new List<double>();
        while (replaced < 3)
        {
            var u = mirror.NextDouble();
            var expected = u;
            if (u >= 0.9)
            {
                expected = mirror.NextDouble() * 0.9;
                replaced++;
            }

            var got = hits.Next(random);
            Assert.Equal(expected, got);
            drawn.Add(got);
        }

        Assert.All(drawn, u => Assert.True(u < 0.9));
        Assert.Equal(0, hits.Owed);
        Assert.Equal(3, hits.Replaced);
        Assert.Equal(3, hits.Noted);

        // Owed again only when late again: the next slow draw stays.
        Assert.Equal(0, hits.Kept);
        var slow = Enumerable.Range(0, 200).Select(_ => hits.Next(random)).ToList();
        Assert.Contains(slow, u => u >= 0.9);
        Assert.Equal(3, hits.Replaced);
        Assert.Equal(slow.Count(u => u >= 0.9), hits.Kept);
    }

    [Fact]
    public void HostHits_ABusierHostThanTheProfiled_ReplacesTheWholeShareAndOwesAtMostTheCap()
    {
        // Late on every round trip: no draw ever lands in the slowest share (the old trim), and
        // what is owed stops at the cap instead of growing without end.
        var hits = new HostHits(0.02);
        var random = new Random(3);
        for (var k = 0; k < 20_000; k++)
        {
            hits.Note(10_000);
            Assert.True(hits.Next(random) < 0.98);
        }

        Assert.Equal(HostHits.MaxOwed, hits.Owed);
        Assert.InRange(hits.Replaced, 300, 500);
        Assert.Throws<ArgumentOutOfRangeException>(() => new HostHits(0.6));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HostHits(-0.1));
    }

    [Theory]
    [InlineData(SyncMode.Spin, false)]
    [InlineData(SyncMode.Spin, true)]
    [InlineData(SyncMode.Block, true)]
    public void Synchronize_ProfileWithInterruptions_SpinningTenantsLateForRealDrawTheSlowShareNoMore(SyncMode mode, bool interrupted)
    {
        // Round trips of 0 (the faster half) to 40 ms (the slowest quarter), mean 15 ms, as in
        // RoundTripTests: with seed 7 some of twelve take 40 ms. A profiled host off its core half
        // the time (10 interruptions a second of 50 ms) puts the slowest half of the spread down
        // to its interruptions. The engine here is a thread looking every 50 us, so a fast round
        // trip's completion reaches the tenant later than drawn: this host's own lateness, noted,
        // and each time one of the tenant's next slow draws is drawn again in the faster half. A
        // blocked tenant's wake-up is not drawn on top of the real one: it keeps no ledger.
        double[] shape = [0, 0, 0, 0, 0, 0, 40, 40, 40, 40, 40, 40, 40, 40, 40];
        var profile = DeviceProfile.Load("h100") with
        {
            LaunchCpuNs = 0,
            RoundTrips = [new(mode, 1_000, 15_000_000, Spread: [.. shape.Select(ms => (long)(ms * 1e6))])],
            HostInterruptions = interrupted ? new HostInterruptions(10, [.. RoundTripSpread.Probabilities.Select(_ => 50_000_000L)]) : null,
        };
        // Drawn in full, four of the twelve take 40 ms (seed 7); replaced, none after the first
        // fast one does (seed 7 draws fast first). Where the draws are replaced, the draws are what
        // is judged: a loaded host lengthens real waits (a CI host made one of 65 ms, another
        // stretched every wait to 88-136 ms), so a wait's length cannot tell a slow draw from a
        // busy host there. Where they are drawn in full, the waits are judged: load only adds.
        using var host = new SimGpuHost(0, 1, profile, TimeSpan.FromMicroseconds(50));
        var channel = host.Acquire();
        using var device = new SimDevice(new DeviceOptions { Id = new DeviceId(DeviceKind.Sim, 0), SyncMode = mode, SimChannel = channel, Seed = 7 });
        var waits = SimDeviceRoundTripTests.TimedSynchronizes(device, 12);
        if (mode == SyncMode.Spin && interrupted)
        {
            var hits = device.HostHits!;
            Assert.Equal(0.5, hits.Share);
            Assert.True(hits.Noted >= 1 && hits.Replaced >= 1, $"noted {hits.Noted}, replaced {hits.Replaced}");
            Assert.True(hits.Kept <= 1, $"{hits.Kept} draws kept in the slowest half (replaced {hits.Replaced}, noted {hits.Noted}); waits {string.Join(", ", waits)} ms");
        }
        else
        {
            Assert.Null(device.HostHits);
            Assert.True(waits.Count(ms => ms >= 39) >= 3, $"waits {string.Join(", ", waits)} ms");
        }
    }
}
