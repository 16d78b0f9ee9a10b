using Contention.Client.Commands;
using Contention.Workloads.Sim;

namespace Contention.Client.Tests;

public class BenchCalibrateCommandTests
{
    [Fact]
    public async Task InterruptionsOnly_NoGpu_WritesTheBaseWithThisHostsInterruptions()
    {
        var path = Path.Combine(Path.GetTempPath(), $"contention-int-{Guid.NewGuid():N}.json");
        try
        {
            Assert.Equal(0, await BenchCommand.Create().Parse(["calibrate", "--interruptions-only", "--base", "h200", "--out", path]).InvokeAsync());

            var written = DeviceProfile.Load(path);
            var h200 = DeviceProfile.Load("h200");
            Assert.NotNull(written.HostInterruptions);
            Assert.Null(written.HostInterruptions.Problem());
            Assert.Contains("host interruptions measured by 'contention bench calibrate --interruptions-only'", written.Source, StringComparison.Ordinal);
            // Everything else is the base's.
            Assert.Equal(h200.RoundTrips.Count, written.RoundTrips.Count);
            Assert.Equal(h200 with { HostInterruptions = null, Source = "" }, written with { HostInterruptions = null, Source = "" }, new JsonEquality());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task WakeUpsOnly_TwoCountsOfSleepers_EachLengthMeasuredWithEachCountOfProcesses()
    {
        var path = Path.Combine(Path.GetTempPath(), $"contention-wake-{Guid.NewGuid():N}.json");
        try
        {
            // Separate processes of this program (bench wake-probe), 1 and then 2 at once.
            Assert.Equal(0, await BenchCommand.Create().Parse(["calibrate", "--wake-ups-only", "--base", "h200", "--wake-up-sleepers", "2,1", "--wake-up-seconds", "0.01", "--out", path]).InvokeAsync());

            var written = DeviceProfile.Load(path);
            var lengths = Contention.Workloads.Benchmarks.Calibration.WakeUpSleeps;
            Assert.Equal([.. lengths.Select(s => (1, s)), .. lengths.Select(s => (2, s))], written.WakeUps.Select(p => (p.Sleepers, p.SleepNs)));
            Assert.All(written.WakeUps, p => Assert.True(p.Ns + p.Spread![0] >= 0, "a wake-up before its deadline"));
            Assert.Contains("1, 2 processes at once", written.Source, StringComparison.Ordinal);
            Assert.Equal(DeviceProfile.Load("h200").RoundTrips.Count, written.RoundTrips.Count);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("0")]
    [InlineData("4,x")]
    [InlineData("300")]
    public void WakeUpSleepers_NotCountsOf1To256_IsAParseErrorSayingWhatToGive(string value)
    {
        var parse = BenchCommand.Create().Parse(["calibrate", "--wake-ups-only", "--wake-up-sleepers", value]);

        Assert.Contains(parse.Errors, e => e.Message.Contains("--wake-up-sleepers: give counts of 1 to 256", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("--wake-ups-only")]
    [InlineData("--kernels-only")]
    public void InterruptionsOnly_WithAnotherOnly_SaysTheyExcludeEachOther(string other)
    {
        var parse = BenchCommand.Create().Parse(["calibrate", "--interruptions-only", other]);

        Assert.Contains(parse.Errors, e => e.Message.Contains("exclude each other", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("--kernels-only", "exclude each other")]
    [InlineData("--interruptions-only", "exclude each other")]
    [InlineData("--mps", "leave out --mps and --time-slicing")]
    [InlineData("--time-slicing", "leave out --mps and --time-slicing")]
    public void LaunchQueueOnly_WithAnotherMeasurement_SaysWhatToLeaveOut(string other, string said)
    {
        var parse = BenchCommand.Create().Parse(["calibrate", "--launch-queue-only", other]);

        Assert.Contains(parse.Errors, e => e.Message.Contains(said, StringComparison.Ordinal));
        Assert.Empty(BenchCommand.Create().Parse(["calibrate", "--launch-queue-only", "--base", "h200"]).Errors);
    }

    // Profiles compare by their JSON: their lists are read back as new lists.
    private sealed class JsonEquality : IEqualityComparer<DeviceProfile>
    {
        public bool Equals(DeviceProfile? x, DeviceProfile? y) => x?.ToJson() == y?.ToJson();

        public int GetHashCode(DeviceProfile obj) => obj.ToJson().GetHashCode(StringComparison.Ordinal);
    }
}
