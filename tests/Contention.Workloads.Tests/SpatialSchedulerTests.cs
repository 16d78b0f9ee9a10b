using Contention.Workloads.Sim;

namespace Contention.Workloads.Tests;

/// <summary>The MPS-like policy against timelines computed by hand (ns).</summary>
public class SpatialSchedulerTests
{
    [Fact]
    public void AdvanceTo_TwoHalfGpuKernels_RunTogetherAtFullSpeed()
    {
        var gpu = new SpatialScheduler(2);
        gpu.Enqueue(0, new SimKernel(1000, 0.5));
        gpu.Enqueue(1, new SimKernel(1000, 0.5));

        gpu.AdvanceTo(999);
        Assert.Equal((0, 0), (gpu.Completed(0), gpu.Completed(1)));
        gpu.AdvanceTo(1000);

        Assert.Equal((1, 1), (gpu.Completed(0), gpu.Completed(1)));
        Assert.Equal((1000, 1000), (gpu.BusyNs(0), gpu.BusyNs(1)));
        Assert.Equal(0, gpu.Switches);
    }

    [Fact]
    public void AdvanceTo_TwoFullGpuKernels_ShareTheMultiprocessorsEqually()
    {
        var gpu = new SpatialScheduler(2);
        gpu.Enqueue(0, new SimKernel(1000));
        gpu.Enqueue(1, new SimKernel(1000));

        Assert.Equal(0.5, gpu.Rate(0));
        Assert.Equal(2000, gpu.NextEventNs());
        gpu.AdvanceTo(1999);
        Assert.Equal(0, gpu.Completed(0));
        gpu.AdvanceTo(2000);
        Assert.Equal((1, 1), (gpu.Completed(0), gpu.Completed(1)));
    }

    [Fact]
    public void AdvanceTo_ArrivalMidKernel_SlowsBothFromThen()
    {
        // 0..500: A alone at full speed (500 of 1000 done). 500..1500: A and B at half speed; A's
        // last 500 take 1000, B has done 500 by 1500. 1500..2000: B alone finishes its last 500.
        var gpu = new SpatialScheduler(2);
        gpu.Enqueue(0, new SimKernel(1000));
        gpu.AdvanceTo(500);
        gpu.Enqueue(1, new SimKernel(1000));

        Assert.Equal(1500, gpu.NextEventNs());
        gpu.AdvanceTo(1500);
        Assert.Equal((1, 0), (gpu.Completed(0), gpu.Completed(1)));
        Assert.Equal(2000, gpu.NextEventNs());
        gpu.AdvanceTo(2000);
        Assert.Equal(1, gpu.Completed(1));
        Assert.Equal((1500, 1500), (gpu.BusyNs(0), gpu.BusyNs(1)));
        Assert.Equal((1500, 2000), (gpu.LastCompletionNs(0), gpu.LastCompletionNs(1)));
    }

    [Fact]
    public void AdvanceTo_HigherPriority_TakesWhatItWantsFirst()
    {
        // The high-priority kernel fills 75%: it runs at full speed; the best-effort one gets the
        // other 25% of the multiprocessors it would fill, a quarter of its speed, until 1000 (250
        // done), then all of them: its last 750 end at 1750.
        var gpu = new SpatialScheduler(2);
        gpu.Configure(1, new SimContext(Priority: 1));
        gpu.Enqueue(0, new SimKernel(1000));
        gpu.Enqueue(1, new SimKernel(1000, 0.75));

        Assert.Equal((0.25, 1.0), (gpu.Rate(0), gpu.Rate(1)));
        gpu.AdvanceTo(1000);
        Assert.Equal((0, 1), (gpu.Completed(0), gpu.Completed(1)));
        Assert.Equal(1750, gpu.NextEventNs());
    }

    [Fact]
    public void AdvanceTo_HigherPriorityFillingTheGpu_StarvesBestEffortWithoutCountingItsTime()
    {
        var gpu = new SpatialScheduler(2);
        gpu.Configure(0, new SimContext(Priority: 5));
        gpu.Enqueue(0, new SimKernel(1000));
        gpu.Enqueue(1, new SimKernel(400));

        gpu.AdvanceTo(1000);
        Assert.Equal((1, 0), (gpu.Completed(0), gpu.Completed(1)));
        Assert.Equal(0, gpu.BusyNs(1));
        gpu.AdvanceTo(1400);
        Assert.Equal(1, gpu.Completed(1));
        Assert.Equal(400, gpu.BusyNs(1));
    }

    [Fact]
    public void AdvanceTo_GpuShareCap_SlowsAKernelAloneToItsShare()
    {
        // Active thread percentage 40: a kernel that would fill the GPU runs on 40% of it.
        var gpu = new SpatialScheduler(1);
        gpu.Configure(0, new SimContext(GpuShare: 0.4));
        gpu.Enqueue(0, new SimKernel(1000));

        Assert.Equal(2500, gpu.NextEventNs());
    }

    [Fact]
    public void AdvanceTo_SmallWantsFirst_MaxMinFair()
    {
        // Wants 0.2, 0.6, 0.6 of one GPU: 0.2 is met, the other two split the remaining 0.8.
        var gpu = new SpatialScheduler(3);
        gpu.Enqueue(0, new SimKernel(1000, 0.2));
        gpu.Enqueue(1, new SimKernel(1000, 0.6));
        gpu.Enqueue(2, new SimKernel(1000, 0.6));

        Assert.Equal(1.0, gpu.Rate(0));
        Assert.Equal(0.4 / 0.6, gpu.Rate(1), 12);
        Assert.Equal(0.4 / 0.6, gpu.Rate(2), 12);
        gpu.AdvanceTo(1000);
        Assert.Equal(1, gpu.Completed(0));
        // Then 1 and 2 want 0.6 each of a free GPU: 0.5 each, 5/6 speed; 1000 - 1000 * 2/3 = 333.3
        // left, done in 400 more.
        Assert.Equal(1400, gpu.NextEventNs());
    }

    [Fact]
    public void AdvanceTo_MemoryBandwidthOversubscribed_SlowsEveryKernelInProportion()
    {
        // Two half-GPU kernels each using 80% of the bandwidth alone: together 160%, so each runs
        // at 1/1.6 of its speed: done at 1600.
        var gpu = new SpatialScheduler(2);
        gpu.Enqueue(0, new SimKernel(1000, 0.5, 0.8));
        gpu.Enqueue(1, new SimKernel(1000, 0.5, 0.8));

        Assert.Equal(1600, gpu.NextEventNs());
        gpu.AdvanceTo(1600);
        Assert.Equal((1, 1), (gpu.Completed(0), gpu.Completed(1)));
    }

    [Fact]
    public void AdvanceTo_OneContext_KeepsStreamOrder()
    {
        var gpu = new SpatialScheduler(2);
        gpu.Enqueue(0, new SimKernel(100, 0.1));
        gpu.Enqueue(0, new SimKernel(200, 0.1));

        gpu.AdvanceTo(100);
        Assert.Equal(1, gpu.Completed(0));
        gpu.AdvanceTo(299);
        Assert.Equal(1, gpu.Completed(0));
        gpu.AdvanceTo(300);
        Assert.Equal(2, gpu.Completed(0));
    }

    [Fact]
    public void AdvanceTo_Copy_RunsBesideAKernelFillingTheGpu()
    {
        var gpu = new SpatialScheduler(2);
        gpu.Configure(0, new SimContext(Priority: 1));
        gpu.Enqueue(0, new SimKernel(1000));
        gpu.Enqueue(1, new SimKernel(300, 0, 0));

        gpu.AdvanceTo(300);

        Assert.Equal(1, gpu.Completed(1));
    }

    [Fact]
    public void Reset_Context_ForgetsItsWorkAndSettings()
    {
        var gpu = new SpatialScheduler(2);
        gpu.Configure(0, new SimContext(GpuShare: 0.1));
        gpu.Enqueue(0, new SimKernel(1000));
        gpu.Enqueue(1, new SimKernel(1000));
        gpu.AdvanceTo(100);

        gpu.Reset(0);

        Assert.Equal(0, gpu.Pending(0));
        Assert.Equal(1.0, gpu.Rate(1));
        gpu.Enqueue(0, new SimKernel(1000));
        Assert.Equal(0.5, gpu.Rate(0));
    }

    [Fact]
    public void NextEventNs_Idle_IsNever()
    {
        Assert.Equal(long.MaxValue, new SpatialScheduler(3).NextEventNs());
    }
}
