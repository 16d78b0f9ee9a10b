using Contention.Workloads.Sim;

namespace Contention.Workloads.Tests;

public class TimeSliceSchedulerTests
{
    private const long Slice = 2_060_000;
    private const long Switch = 190_000;

    [Fact]
    public void AdvanceTo_OneContext_RunsKernelsBackToBack()
    {
        var gpu = new TimeSliceScheduler(4, Slice, Switch);
        gpu.Enqueue(0, 100);
        gpu.Enqueue(0, 200);

        gpu.AdvanceTo(Switch + 100);
        Assert.Equal(1, gpu.Completed(0));
        gpu.AdvanceTo(Switch + 299);
        Assert.Equal(1, gpu.Completed(0));
        gpu.AdvanceTo(Switch + 300);
        Assert.Equal(2, gpu.Completed(0));
        Assert.Equal(300, gpu.BusyNs(0));
        Assert.Equal(Switch + 300, gpu.LastCompletionNs(0));
    }

    [Fact]
    public void KernelNs_PreemptedKernel_CountsTheTimeItsContextWasSwitchedOut()
    {
        // Slice 1000, switch 100, idle switch 50. 0: a 3000 ns kernel; 1: a 500 ns kernel.
        // 0..50 idle switch to 0; 50..1050 context 0 runs (2000 left); 1050..1150 switch;
        // 1150..1650 context 1's kernel; its queue runs dry: 1650..1700 idle switch back;
        // 1700..3700 the rest of context 0's kernel, which started at 50.
        var gpu = new TimeSliceScheduler(2, 1000, 100, idleSwitchNs: 50);
        gpu.Enqueue(0, 3000);
        gpu.Enqueue(1, 500);

        gpu.AdvanceTo(1650);
        Assert.Equal((0L, 500L), (gpu.KernelNs(0), gpu.KernelNs(1)));
        gpu.AdvanceTo(10_000);

        Assert.Equal(3700, gpu.LastCompletionNs(0));
        Assert.Equal(3700 - 50, gpu.KernelNs(0));
        Assert.Equal(3000, gpu.BusyNs(0));
    }

    [Fact]
    public void Started_AHeadCountsOnceItsContextRunsIt_APreemptedOneStill()
    {
        // Slice 1000, switch 100, idle switch 50. 0: a 3000 ns kernel, then a 100 ns one; 1: two
        // 300 ns kernels. 0..50 idle switch to 0; 50..1050 context 0; 1050..1150 switch;
        // 1150..1450 and 1450..1750 context 1's kernels; 1750..1800 idle switch back;
        // 1800..3800 the rest of context 0's first kernel, 3800..3900 its second.
        var gpu = new TimeSliceScheduler(2, 1000, 100, idleSwitchNs: 50);
        gpu.Enqueue(0, 3000);
        gpu.Enqueue(0, 100);
        gpu.Enqueue(1, 300);
        gpu.Enqueue(1, 300);

        gpu.AdvanceTo(500);
        Assert.Equal((1L, 0L), (gpu.Started(0), gpu.Started(1)));
        gpu.AdvanceTo(1100);
        Assert.Equal((1L, 0L), (gpu.Started(0), gpu.Started(1)));
        gpu.AdvanceTo(1200);
        Assert.Equal((1L, 0L), (gpu.Started(1), gpu.Completed(1)));
        gpu.AdvanceTo(1500);
        Assert.Equal((2L, 1L), (gpu.Started(1), gpu.Completed(1)));
        Assert.Equal((1L, 0L), (gpu.Started(0), gpu.Completed(0)));
        gpu.AdvanceTo(3799);
        Assert.Equal((1L, 0L), (gpu.Started(0), gpu.Completed(0)));
        gpu.AdvanceTo(3850);
        Assert.Equal((2L, 1L), (gpu.Started(0), gpu.Completed(0)));
        gpu.AdvanceTo(4000);
        Assert.Equal((2L, 2L), (gpu.Started(0), gpu.Completed(0)));
    }

    [Fact]
    public void AdvanceTo_WeightedSlices_AWholeShareRunsTwiceAsLongAsAHalf()
    {
        // Weighted, slice 1000, switch 100, no idle switch: context 0 (share 1) runs 1000 ns per
        // turn, context 1 (share 0.5) 500. Both always busy: 0..1000 ctx 0, 1000..1100 switch,
        // 1100..1600 ctx 1, 1600..1700 switch, 1700..2700 ctx 0, ... a round of 1700 ns.
        var gpu = new TimeSliceScheduler(2, 1000, 100, idleSwitchNs: 0, weighted: true);
        gpu.Configure(0, new SimContext(0, 1.0));
        gpu.Configure(1, new SimContext(0, 0.5));
        Assert.Equal((1000L, 500L), (gpu.SliceNs(0), gpu.SliceNs(1)));
        gpu.Enqueue(0, 1_000_000);
        gpu.Enqueue(1, 1_000_000);

        gpu.AdvanceTo(10 * 1700);
        Assert.Equal((10_000L, 5_000L), (gpu.BusyNs(0), gpu.BusyNs(1)));

        // Equal shares (any) are whole slices, as unweighted.
        var equal = new TimeSliceScheduler(2, 1000, 100, idleSwitchNs: 0, weighted: true);
        equal.Configure(0, new SimContext(0, 0.3));
        equal.Configure(1, new SimContext(0, 0.3));
        Assert.Equal((1000L, 1000L), (equal.SliceNs(0), equal.SliceNs(1)));

        // Unweighted, shares are ignored, as the driver ignores them.
        var driver = new TimeSliceScheduler(2, 1000, 100);
        driver.Configure(1, new SimContext(0, 0.5));
        Assert.Equal(1000, driver.SliceNs(1));
    }

    [Fact]
    public void KernelNs_Copies_HoldTheStreamButAreNoKernelTime()
    {
        var gpu = new TimeSliceScheduler(1, Slice, Switch, idleSwitchNs: 0);
        gpu.Enqueue(0, 400, compute: false);
        gpu.Enqueue(0, 100);
        gpu.AdvanceTo(1000);

        Assert.Equal(2, gpu.Completed(0));
        Assert.Equal(500, gpu.BusyNs(0));
        Assert.Equal(100, gpu.KernelNs(0));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void AdvanceTo_SaturatingContexts_ShareGpuEquallyMinusSwitchCost(int contexts)
    {
        var gpu = new TimeSliceScheduler(contexts, Slice, Switch);
        for (var c = 0; c < contexts; c++)
        {
            gpu.Enqueue(c, 10_000_000_000);
        }

        const long horizon = 2_000_000_000;
        gpu.AdvanceTo(horizon);

        // Each context gets Slice/(Slice+Switch)/n of the GPU: 45.8% for 2 (46% measured on an
        // H100), 30.5% for 3 (31-32% measured).
        var expected = (double)Slice / (Slice + Switch) / contexts;
        for (var c = 0; c < contexts; c++)
        {
            Assert.InRange((double)gpu.BusyNs(c) / horizon, expected - 0.003, expected + 0.003);
        }
    }

    [Theory]
    [InlineData(500_000, Slice)] // in its first slice: to its end
    [InlineData(3 * Slice + (Slice / 2), 4 * Slice)] // half way through its fourth
    [InlineData(3 * Slice, 4 * Slice)] // as its fourth begins: a whole one
    public void AdvanceTo_ArrivalBesideAContextRunningAlone_WaitsForTheEndOfItsCurrentSlice(long after, long yieldsAt)
    {
        // Context 0 got the GPU at Switch; alone, its slices follow one another from then (an H100's
        // trainer: requests after 1-20 ms idle ended on a 2.10 ms grid), so a newcomer waits for the
        // end of the one under way, then a switch.
        var gpu = new TimeSliceScheduler(2, Slice, Switch);
        gpu.Enqueue(0, 100_000_000);
        gpu.AdvanceTo(Switch + after);
        gpu.Enqueue(1, 1000);

        gpu.AdvanceTo(Switch + yieldsAt + Switch + 999);
        Assert.Equal(0, gpu.Completed(1));
        gpu.AdvanceTo(Switch + yieldsAt + Switch + 1000);
        Assert.Equal(1, gpu.Completed(1));
        Assert.Equal(yieldsAt, gpu.BusyNs(0));
    }

    [Fact]
    public void AdvanceTo_SecondCompetitorArriving_DoesNotRestartTheSlice()
    {
        // Context 0 got the GPU at 0; 1 arrives at 100 us, 2 at 1 ms: 0 still yields at Slice,
        // the end of the slice it was in; 1 runs next (round-robin), then 2 (idle switches free).
        var gpu = new TimeSliceScheduler(3, Slice, Switch, idleSwitchNs: 0);
        gpu.Enqueue(0, 100_000_000);
        gpu.AdvanceTo(100_000);
        gpu.Enqueue(1, 1000);
        gpu.AdvanceTo(1_000_000);
        gpu.Enqueue(2, 1000);

        gpu.AdvanceTo(Slice + Switch + 999);
        Assert.Equal((0, 0), (gpu.Completed(1), gpu.Completed(2)));
        gpu.AdvanceTo(Slice + Switch + 1000);
        Assert.Equal((1, 0), (gpu.Completed(1), gpu.Completed(2)));
        gpu.AdvanceTo(Slice + Switch + 2000);
        Assert.Equal((1, 1), (gpu.Completed(1), gpu.Completed(2)));
    }

    [Fact]
    public void AdvanceTo_TwoLightContexts_AlternateLosingAnIdleSwitchEachTime()
    {
        // The H200 probes (docs/results/h200/probes): a 9.4 us operation beside another light
        // context completes every 274.8 us = 2 x (128 us idle switch + 9.4 us).
        var gpu = H200Probed();
        gpu.Enqueue(0, 9_400);
        gpu.Enqueue(1, 9_400);

        gpu.AdvanceTo(137_400);
        Assert.Equal((1, 0), (gpu.Completed(0), gpu.Completed(1)));
        gpu.AdvanceTo(274_799);
        Assert.Equal(0, gpu.Completed(1));
        gpu.AdvanceTo(274_800);
        Assert.Equal(1, gpu.Completed(1));
        Assert.Equal(2, gpu.Switches);
    }

    [Fact]
    public void AdvanceTo_LightContextBesideASpinner_WaitsTheSliceAndABusySwitch()
    {
        // The H200 probes: beside a spinner the probe's operation takes 2,418.7 us = 128 (idle
        // switch to the spinner) + 2,064 (its slice) + 218 (preempting it) + 9.4.
        var gpu = H200Probed();
        gpu.Enqueue(0, 1_000_000_000);
        gpu.Enqueue(1, 9_400);

        gpu.AdvanceTo(2_419_399);
        Assert.Equal((0, 2_064_000), (gpu.Completed(1), gpu.BusyNs(0)));
        gpu.AdvanceTo(2_419_400);
        Assert.Equal(1, gpu.Completed(1));
    }

    [Fact]
    public void NextEventNs_Idle_IsNever()
    {
        var gpu = new TimeSliceScheduler(2, Slice, Switch);

        Assert.Equal(long.MaxValue, gpu.NextEventNs());
    }

    [Fact]
    public void Reset_RunningContext_DropsItsWork()
    {
        var gpu = new TimeSliceScheduler(2, Slice, Switch);
        gpu.Enqueue(0, 1_000_000);
        gpu.AdvanceTo(Switch + 10);

        gpu.Reset(0);
        gpu.AdvanceTo(10_000_000);

        Assert.Equal(0, gpu.Completed(0));
        Assert.Equal(0, gpu.Pending(0));
    }

    [Fact]
    public void Reset_WaitingContext_LeavesTheRunningOneAloneForItsWholeKernel()
    {
        // 0 runs a 5 ms kernel (after the 128 µs switch from an idle GPU), 1 waits for its turn;
        // 1's tenant leaves: 0 is alone again and keeps the GPU past its slice (no switch to a
        // context with nothing queued).
        var gpu = H200Probed();
        foreach (var (context, ns) in new[] { (0, 5_000_000L), (1, 1_000_000L) })
        {
            gpu.Enqueue(context, ns);
        }

        gpu.AdvanceTo(200_000);
        gpu.Reset(1);
        gpu.AdvanceTo(20_000_000);

        Assert.Equal((1L, 128_000L + 5_000_000), (gpu.Completed(0), gpu.LastCompletionNs(0)));
        Assert.Equal(1, gpu.Switches);
        Assert.Equal(long.MaxValue, gpu.NextEventNs());
    }

    /// <summary>Time-slicing as the H200 probes measured it (docs/results/h200/probes).</summary>
    private static TimeSliceScheduler H200Probed() => new(2, 2_064_000, 218_000, idleSwitchNs: 128_000);
}
