using Contention.Workloads.Sim;

namespace Contention.Workloads.Tests;

/// <summary>
/// <see cref="IGpuScheduler.DrainNs"/>: when a context's queued work will be done if nothing else
/// arrives, where a policy can say — what the real-time engine wakes a blocked tenant ahead of.
/// Each prediction is checked against the model run on to that context's last completion.
/// </summary>
public class DrainTests
{
    [Fact]
    public void TimeSlice_ContextAlone_EndsWhenItsQueueDoes()
    {
        // Idle switch 50, then 100 + 200 + 300 back to back: the last ends at 650.
        var gpu = new TimeSliceScheduler(2, 1000, 100, idleSwitchNs: 50);
        Assert.Equal(long.MaxValue, gpu.DrainNs(0));
        gpu.Enqueue(0, 100);
        gpu.Enqueue(0, 200);
        gpu.Enqueue(0, 300);
        gpu.AdvanceTo(0);
        Assert.Equal(650, gpu.DrainNs(0));
        gpu.AdvanceTo(220);
        Assert.Equal(650, gpu.DrainNs(0));
        Assert.Equal(long.MaxValue, gpu.DrainNs(1));
        AssertEndsAt(gpu, 0, 650);
        Assert.Equal(long.MaxValue, gpu.DrainNs(0));
    }

    [Fact]
    public void TimeSlice_OthersWaiting_KnownOnlyForTheRunningContextWithinItsSlice()
    {
        // Slice 1000, switch 100, idle switch 50. 0: 300 + 300 (ends within its slice at 650);
        // 1: 500, waiting for the GPU: not known until it has it.
        var gpu = new TimeSliceScheduler(2, 1000, 100, idleSwitchNs: 50);
        gpu.Enqueue(0, 300);
        gpu.Enqueue(0, 300);
        gpu.Enqueue(1, 500);
        gpu.AdvanceTo(10);
        Assert.Equal(650, gpu.DrainNs(0));
        Assert.Equal(long.MaxValue, gpu.DrainNs(1));

        // 0's queue runs dry at 650; an idle switch 650..700 to 1, whose kernel then ends at 1200.
        gpu.AdvanceTo(660);
        Assert.Equal(1200, gpu.DrainNs(1));
        AssertEndsAt(gpu, 1, 1200);
    }

    [Fact]
    public void TimeSlice_QueueLongerThanItsSliceWithOthersWaiting_IsNotKnown()
    {
        var gpu = new TimeSliceScheduler(2, 1000, 100, idleSwitchNs: 50);
        gpu.Enqueue(0, 800);
        gpu.Enqueue(0, 800);
        gpu.AdvanceTo(10);
        Assert.Equal(1650, gpu.DrainNs(0)); // alone: no slice ends it
        gpu.Enqueue(1, 100);
        Assert.Equal(long.MaxValue, gpu.DrainNs(0)); // 1 waits: 0 is preempted before 1650
    }

    [Fact]
    public void Spatial_KernelAlone_EndsAtItsTimeThenTheRestAtTheirs()
    {
        var gpu = new SpatialScheduler(2);
        gpu.Enqueue(0, new SimKernel(1_000));
        gpu.Enqueue(0, new SimKernel(500));
        Assert.Equal(1_500, gpu.DrainNs(0));
        gpu.AdvanceTo(400);
        Assert.Equal(1_500, gpu.DrainNs(0));
        AssertEndsAt(gpu, 0, 1_500);
    }

    [Fact]
    public void Spatial_KernelWaitingForMultiprocessors_NotKnownUntilItHasThem()
    {
        // Two kernels that each fill the GPU: the second waits for the first's multiprocessors.
        var gpu = new SpatialScheduler(2);
        gpu.Enqueue(0, new SimKernel(1_000));
        gpu.Enqueue(1, new SimKernel(1_000));
        Assert.Equal(1_000, gpu.DrainNs(0));
        Assert.Equal(long.MaxValue, gpu.DrainNs(1));
        gpu.AdvanceTo(1_000);
        Assert.Equal(2_000, gpu.DrainNs(1));
        AssertEndsAt(gpu, 1, 2_000);
    }

    [Fact]
    public void Spatial_RestOfTheQueue_BeforeAnyOfItsKernelsEnded_CountedAtItsTimeAlone_SoNoLaterThanTheModel()
    {
        var gpu = new SpatialScheduler(2);
        gpu.Enqueue(0, new SimKernel(1_000));
        gpu.Enqueue(0, new SimKernel(1_000));
        gpu.Enqueue(1, new SimKernel(3_000));
        var predicted = gpu.DrainNs(0);
        gpu.AdvanceTo(100_000);
        Assert.True(predicted <= gpu.LastCompletionNs(0), $"predicted {predicted}, ended {gpu.LastCompletionNs(0)}");
    }

    [Fact]
    public void Spatial_RestOfTheQueue_AtTheSlowdownItsKernelsHadBesideTheOthers_TheModelsEnd()
    {
        // Half the multiprocessors each and 0.5 interference: every kernel of context 0 takes
        // twice its 1,000 ns beside context 1's long one. Once two have ended (at 4,000) the third
        // runs to 6,000 and the fourth is counted at that slowdown: 8,000 (alone times: 7,000).
        var gpu = new SpatialScheduler(2, interference: 0.5);
        gpu.Enqueue(1, new SimKernel(1_000_000, 0.5));
        for (var i = 0; i < 4; i++)
        {
            gpu.Enqueue(0, new SimKernel(1_000, 0.5));
        }

        Assert.Equal(1, gpu.Slowdown(0));
        gpu.AdvanceTo(4_000);
        Assert.Equal(2, gpu.Completed(0));
        Assert.Equal(2, gpu.Slowdown(0), 9);
        Assert.Equal(8_000, gpu.DrainNs(0));
        AssertEndsAt(gpu, 0, 8_000);
    }

    [Fact]
    public void Spatial_Slowdown_LeavesColdStartsOut_AndWeighsRecentKernelsMost()
    {
        // Context 1's kernel moves 1 MB (1,000 ns at the whole 1,000 bytes/ns) while context 0 is
        // idle: context 0's next kernel pays the curve's 500 ns, its own and not the rest's.
        var cold = new SpatialScheduler(2, coldStart: new ColdStart([new MeasuredColdStart(1_000, 500)], 2, 1_000));
        cold.Enqueue(1, new SimKernel(1_000, 1, BandwidthShare: 1));
        cold.AdvanceTo(1_000);
        for (var i = 0; i < 3; i++)
        {
            cold.Enqueue(0, new SimKernel(1_000));
        }

        Assert.Equal(4_500, cold.DrainNs(0));
        cold.AdvanceTo(2_500);
        Assert.Equal(1, cold.Completed(0));
        Assert.Equal(1, cold.Slowdown(0));
        Assert.Equal(4_500, cold.DrainNs(0));

        // A kernel that took 3x then one that took 1x: (3,000 x 15/16 + 1,000) / (1,000 x 15/16 + 1,000).
        var gpu = new SpatialScheduler(2, interference: 2.0 / 3);
        gpu.Enqueue(1, new SimKernel(2_000, 0.5));
        gpu.Enqueue(0, new SimKernel(1_000, 0.5));
        gpu.AdvanceTo(3_000);
        Assert.Equal(3, gpu.Slowdown(0), 9);
        gpu.AdvanceTo(10_000);
        gpu.Enqueue(0, new SimKernel(1_000, 0.5));
        gpu.AdvanceTo(11_000);
        Assert.Equal(((3_000 * SpatialScheduler.SlowdownDecay) + 1_000) / ((1_000 * SpatialScheduler.SlowdownDecay) + 1_000), gpu.Slowdown(0), 9);
    }

    [Fact]
    public void Arbiter_HeldWork_IsNotKnown_ASensitiveTenantsIs()
    {
        var gpu = new ArbiterScheduler(new SpatialScheduler(2), 2, new ArbiterPolicy(OutstandingNs: 1_000));
        gpu.Configure(0, new SimContext(1, 1));
        gpu.Configure(1, SimContext.Default);
        gpu.MarkOpen(0, true);
        gpu.Enqueue(0, new SimKernel(2_000));
        gpu.Enqueue(1, new SimKernel(2_000));
        Assert.Equal(2_000, gpu.DrainNs(0));
        Assert.Equal(long.MaxValue, gpu.DrainNs(1));
    }

    private static void AssertEndsAt(IGpuScheduler gpu, int context, long expected)
    {
        while (gpu.Pending(context) > 0)
        {
            gpu.AdvanceTo(Math.Min(gpu.NextEventNs(), expected + 1_000_000));
        }

        Assert.Equal(expected, gpu.LastCompletionNs(context));
    }
}
