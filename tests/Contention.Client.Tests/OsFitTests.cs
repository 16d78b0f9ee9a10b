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
    public void Features_ThreeTenants_EachSeesItsOwnSwitchesInAndTheOthersWaits()
    {
        SimTenantOutcome Tenant(string name, long waits, long switchesIn) => new(name, 10, 1_000_000, 1, 2, 3, 4, 2, [], new SimHostCounters(100, 50, waits, 1_000_000, 0, 400_000, switchesIn));
        var unit = new SimUnitOutcome("u", 2_000_000_000, 2_000_000_000, 1000, [Tenant("a", 30, 7), Tenant("b", 200, 0), Tenant("c", 5, 1)]);

        var a = OsFit.Features(unit, 0);
        var b = OsFit.Features(unit, 1);

        Assert.Equal((30.0, 7.0, 205.0), (a.Waits, a.SwitchesIn, a.OthersWaits));
        Assert.Equal((200.0, 0.0, 35.0), (b.Waits, b.SwitchesIn, b.OthersWaits));
        Assert.Equal(102.5, a.PerSecond()[Contention.Workloads.Sim.OsFeatures.Names.ToList().IndexOf("others_waits")]);
    }

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
