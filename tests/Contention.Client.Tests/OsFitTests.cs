using Contention.Client.Results;
using Contention.Client.Simulation;
using Contention.Grains;

namespace Contention.Client.Tests;

public class OsFitTests
{
    private static SimUnitOutcome Unit(long measuredNs) => new("u", measuredNs, measuredNs, 1000, [new("t", 400, 1_000_000, 1, 2, 3, 4, 2, [], new SimHostCounters(4000, 400, 300, 2_000_000_000, 1_000_000_000, 16_000_000))]);

    private static TenantRow Row(double seconds, bool traced) => new()
    {
        Experiment = "e",
        Tenant = "t",
        Phase = MeasurementPhase.Measure,
        Sync = SyncMode.Block,
        Seconds = seconds,
        UserCpuSeconds = 2,
        SystemCpuSeconds = 1,
        VoluntarySwitches = 800,
        InvoluntarySwitches = 40,
        Traced = traced,
        CategoryCalls = new Dictionary<string, long> { ["sync-wait"] = 1200 },
    };

    [Fact]
    public void FitWindow_RunShorterThanTheSimulatedWindow_MeasuredBroughtToItsLength()
    {
        // The unit ran 10 s (the longest run's window); the real run measured 4 s: its totals
        // stand for 4 s, so over the unit's 10 s they are 2.5 times as large.
        var (sync, features, measured) = OsFit.FitWindow(Unit(10_000_000_000), new OsFit.Window("r", Row(4, traced: true), "u", 0), cpu: true);

        Assert.Equal(Contention.Workloads.Devices.SyncMode.Block, sync);
        Assert.Equal((10.0, 400.0, 4000.0, 300.0, 2.0, 1.0), (features.Seconds, features.Operations, features.Launches, features.Waits, features.WaitSeconds, features.IdleSeconds));
        Assert.Equal(5, measured["user_cpu_s"], 9);
        Assert.Equal(2000, measured["voluntary_switches"], 9);
        Assert.Equal(3000, measured["calls_sync-wait"], 9);
    }

    [Fact]
    public void FitWindow_UntracedOrCpuLeftOut_OnlyWhatWasMeasured()
    {
        var (_, _, untraced) = OsFit.FitWindow(Unit(4_000_000_000), new OsFit.Window("r", Row(4, traced: false), "u", 0), cpu: true);
        var (_, _, callsOnly) = OsFit.FitWindow(Unit(4_000_000_000), new OsFit.Window("r", Row(4, traced: true), "u", 0), cpu: false);

        Assert.DoesNotContain(untraced.Keys, k => k.StartsWith("calls_", StringComparison.Ordinal)); // no eBPF, no system calls
        Assert.Equal(2, untraced["user_cpu_s"], 9);
        Assert.DoesNotContain("user_cpu_s", callsOnly.Keys);
        Assert.Equal(1200, callsOnly["calls_sync-wait"], 9);
    }
}
