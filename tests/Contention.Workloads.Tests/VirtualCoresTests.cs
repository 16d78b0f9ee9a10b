using Contention.Workloads.Devices;
using Contention.Workloads.Sim;
using Contention.Workloads.Workloads;
using HdrHistogram;

namespace Contention.Workloads.Tests;

/// <summary>Host cores shared by virtual tenants' threads, against turns computed by hand.</summary>
public class VirtualCoresTests
{
    private const long Slice = 3_000_000;

    private static VirtualCores Cores(int cores, int runnable)
    {
        var host = new VirtualCores(cores, Slice);
        for (var i = 0; i < runnable; i++)
        {
            host.Enter();
        }

        return host;
    }

    [Fact]
    public void NextOn_EightThreadsOnFourCores_OnOneSliceInTwo()
    {
        // Period 2 slices: on [0, 3 ms), off [3, 6 ms), on again at 6 ms.
        var host = Cores(4, 8);
        Assert.True(host.Contended);
        Assert.Equal(1_000_000, host.NextOn(1_000_000, 0, 8));
        Assert.Equal(6_000_000, host.NextOn(4_000_000, 0, 8));
        Assert.Equal(7_000_000, host.NextOn(4_000_000, 1_000_000, 8));
        Assert.Equal(4_000_000, host.NextOn(4_000_000, 0, 4));
    }

    [Fact]
    public void Finish_WorkCrossingTheEndOfATurn_WaitsOutTheOthersTurns()
    {
        // 2 ms of work from 2 ms: 1 ms in this turn (to 3 ms), the rest from 6 ms: done at 7 ms.
        var host = Cores(4, 8);
        Assert.Equal(7_000_000, host.Finish(2_000_000, 0, 2_000_000));

        // Three turns' worth from 0 on twelve threads (period 3 slices): [0,3) [9,12) [18,21).
        Assert.Equal(21_000_000, Cores(4, 12).Finish(0, 0, 9_000_000));
    }

    [Fact]
    public void Finish_AsManyThreadsAsCoresOrNoLimit_RunsStraightThrough()
    {
        Assert.Equal(2_004_000, Cores(4, 4).Finish(2_000_000, 0, 4_000));
        Assert.False(Cores(4, 4).Contended);
        Assert.Equal(2_004_000, Cores(0, 100).Finish(2_000_000, 0, 4_000));
    }

    [Fact]
    public void LeaveAndEnter_CountTheThreadsThatWantACore()
    {
        var host = Cores(2, 3);
        host.Leave();
        Assert.Equal(2, host.Runnable);
        Assert.False(host.Contended);
        host.Enter();
        Assert.True(host.Contended);
    }
}

/// <summary>Spinning virtual tenants beyond a host's cores, against the turns they take.</summary>
public class VirtualGpuCoresTests
{
    private const long Slice = 1_000_000;

    // Launch CPU 4 us; every synchronise that waits returns 5 us after the last kernel, in every mode; 1 ms turns.
    private static readonly DeviceProfile Profile = DeviceProfile.Load("h100") with
    {
        LaunchCpuNs = 4_000,
        MpsInterference = 0,
        SchedulerSliceNs = Slice,
        RoundTrips = [.. Enum.GetValues<SyncMode>().SelectMany(m => new MeasuredRoundTrip[] { new(m, 1_000, 5_000), new(m, 1_000, 5_000, GpuSharing.Mps) })],
    };

    private static VirtualTenant Tenant(int i, SyncMode sync) =>
        new($"t{i}", new WorkloadSpec { Kind = WorkloadKind.Microbench, Op = MicrobenchOp.Elementwise, Bytes = 1L << 20, Iterations = 1, Seed = i + 1 }, sync, new SimContext(0, 0.1));

    private static VirtualTenantResult[] Run(SyncMode sync, int tenants, int cores)
    {
        var gpu = new VirtualGpu(Profile, GpuSharing.Mps, [.. Enumerable.Range(0, tenants).Select(i => Tenant(i, sync))], cores);
        gpu.Measure(10_000_000, 100_000_000);
        return [.. Enumerable.Range(0, tenants).Select(gpu.Result)];
    }

    [Fact]
    public void Spin_FourThreadsOnTwoCores_EachRunsHalfTheTimeAndAnOperationCutByATurnWaitsItOut()
    {
        // Two at a time on the GPU, as two tenants with a core each.
        var two = Run(SyncMode.Spin, 2, 0);
        var shared = Run(SyncMode.Spin, 4, 2);
        var operation = two[0].Latency.GetValueAtPercentile(50);

        for (var i = 0; i < 4; i++)
        {
            // On a core one turn in two: about half the operations of a thread with a core of its own.
            Assert.InRange(shared[i].Completed / (double)two[0].Completed, 0.45, 0.55);

            // Most operations fit in a turn and take as long as alone; the one a turn's end cuts
            // waits for the thread's next turn (a slice later), about once per turn.
            Assert.Equal(operation, shared[i].Latency.GetValueAtPercentile(50), operation / 100.0);
            Assert.InRange(shared[i].Latency.GetMaxValue(), Slice, Slice + (3 * operation));
            var cut = shared[i].Latency.RecordedValues().Where(v => v.ValueIteratedTo >= Slice / 2).Sum(v => v.CountAtValueIteratedTo);
            Assert.InRange(cut, 40, 55);
        }
    }

    [Fact]
    public void Spin_FourThreadsOnTwoCores_LoseATurnEveryTwoSlices()
    {
        // Period 4 threads × 1 ms / 2 cores = 2 ms: over the 100 ms window each spinning thread
        // is switched out at the end of ~50 turns; with a core each, never.
        foreach (var result in Run(SyncMode.Spin, 4, 2))
        {
            Assert.InRange(result.Host.TurnsLost, 48, 52);
        }

        Assert.All(Run(SyncMode.Spin, 4, 4), r => Assert.Equal(0, r.Host.TurnsLost));

        // Blocked threads want a core only while they launch (4 µs an operation): seldom three at once.
        Assert.All(Run(SyncMode.Block, 4, 2), r => Assert.InRange(r.Host.TurnsLost, 0, 2));
    }

    [Fact]
    public void Block_FourThreadsOnTwoCores_SleepWhileTheyWaitAndKeepUp()
    {
        var alone = Run(SyncMode.Block, 4, 0);
        var shared = Run(SyncMode.Block, 4, 2);
        for (var i = 0; i < 4; i++)
        {
            Assert.InRange(shared[i].Completed / (double)alone[i].Completed, 0.97, 1.03);
            Assert.True(shared[i].Latency.GetMaxValue() < Slice / 2, "no blocked thread waits out a turn");
        }
    }

    [Fact]
    public void Spin_AsManyThreadsAsCores_AsWithoutALimit()
    {
        var alone = Run(SyncMode.Spin, 4, 0);
        var shared = Run(SyncMode.Spin, 4, 4);
        Assert.Equal(alone.Select(r => r.Completed), shared.Select(r => r.Completed));
    }
}
