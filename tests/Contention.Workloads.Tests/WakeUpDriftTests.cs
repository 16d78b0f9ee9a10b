using Contention.Workloads.Sim;

namespace Contention.Workloads.Tests;

public class WakeUpDriftTests
{
    [Fact]
    public void Next_ManyTimeScalesApart_LevelsHaveTheStationarySpread()
    {
        var drift = new WakeUpDrift(0.13, 200_000_000);
        var random = new Random(7);
        var level = drift.Next(0, long.MaxValue, random);
        var levels = new List<double>();
        for (var i = 0; i < 20_000; i++)
        {
            level = drift.Next(level, 10 * drift.TimescaleNs, random);
            levels.Add(level);
        }

        var mean = levels.Average();
        var sd = Math.Sqrt(levels.Sum(l => (l - mean) * (l - mean)) / levels.Count);
        Assert.InRange(mean, -0.01, 0.01);
        Assert.InRange(sd, 0.13 * 0.97, 0.13 * 1.03);
    }

    [Fact]
    public void Next_OneTimeScaleOn_LevelsCorrelateByOneOverE()
    {
        // Pairs one time scale apart, each pair from a level drawn fresh.
        var drift = new WakeUpDrift(0.2, 50_000_000);
        var random = new Random(11);
        var first = new List<double>();
        var second = new List<double>();
        for (var i = 0; i < 20_000; i++)
        {
            var a = drift.Next(0, long.MaxValue, random);
            first.Add(a);
            second.Add(drift.Next(a, drift.TimescaleNs, random));
        }

        var (ma, mb) = (first.Average(), second.Average());
        var covariance = first.Zip(second, (a, b) => (a - ma) * (b - mb)).Sum();
        var correlation = covariance / Math.Sqrt(first.Sum(a => (a - ma) * (a - ma)) * second.Sum(b => (b - mb) * (b - mb)));
        Assert.InRange(correlation, Math.Exp(-1) - 0.03, Math.Exp(-1) + 0.03);

        // No time on: the level stays; none before: a fresh draw whatever the level was.
        Assert.Equal(0.3, drift.Next(0.3, 0, random), 12);
        Assert.NotEqual(0.3, drift.Next(0.3, long.MaxValue, random));
    }

    [Fact]
    public void Next_SigmaZero_EveryThreadWakesAlike()
    {
        var drift = new WakeUpDrift(0, 1_000_000);
        var random = new Random(3);
        Assert.Equal(0, drift.Next(0, long.MaxValue, random));
        Assert.Equal(0, drift.Next(0, 5_000_000, random));
    }

    [Theory]
    [InlineData(-0.1, 200_000_000, "sigma")]
    [InlineData(2.5, 200_000_000, "sigma")]
    [InlineData(0.1, 999, "TimescaleNs")]
    public void New_OutOfRange_SaysWhichValueAndWhatItMeans(double sigma, long timescaleNs, string parameter)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new WakeUpDrift(sigma, timescaleNs));
        Assert.Equal(parameter, error.ParamName, ignoreCase: true);
        Assert.Contains("wake-up drift", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Shared_OfASharedPart_IsRefused_AndTheShippedH200HasOne()
    {
        var error = Assert.Throws<ArgumentException>(() => new WakeUpDrift(0.1, 1_000_000) { Shared = new WakeUpDrift(0.1, 1_000_000) { Shared = new WakeUpDrift(0.1, 1_000_000) } });
        Assert.Contains("shared part", error.Message, StringComparison.Ordinal);

        // The profile file carries the part its threads share (read back from its JSON as written).
        var drift = DeviceProfile.Load("h200").WakeUpDrift;
        Assert.NotNull(drift?.Shared);
        Assert.Equal((0.09, 1_200_000_000L), (drift.Shared.Sigma, drift.Shared.TimescaleNs));
        Assert.Null(drift.Shared.Shared);
        var again = DeviceProfile.FromJson(DeviceProfile.Load("h200").ToJson(), "round trip").WakeUpDrift;
        Assert.Equal(drift.Shared, again?.Shared);
    }

    [Fact]
    public void Weight_ShorterSleepsGetLessOfTheLevel_FromFullAtNsOnAll()
    {
        var drift = new WakeUpDrift(0.1, 1_000_000) { FullAtNs = 500_000, LengthExponent = 0.4 };
        Assert.Equal(1, drift.Weight(500_000));
        Assert.Equal(1, drift.Weight(20_000_000));
        Assert.Equal(Math.Pow(0.2, 0.4), drift.Weight(100_000), 12);
        Assert.Equal(Math.Pow(0.002, 0.4), drift.Weight(0), 12); // a microsecond at least, as the futex wait
        Assert.Equal(1, new WakeUpDrift(0.1, 1_000_000).Weight(1_000));
        Assert.Equal(1, new WakeUpDrift(0.1, 1_000_000) { FullAtNs = 500_000 }.Weight(1_000));

        Assert.Equal("FullAtNs", Assert.Throws<ArgumentOutOfRangeException>(() => new WakeUpDrift(0.1, 1_000_000) { FullAtNs = -1 }).ParamName);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new WakeUpDrift(0.1, 1_000_000) { LengthExponent = 3 });
        Assert.Contains("wake-up drift", error.Message, StringComparison.Ordinal);
    }
}
