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
    public void AdvanceTo_TwoFullGpuKernels_TheEarlierHeadHoldsTheGpuUntilItEnds()
    {
        var gpu = new SpatialScheduler(2);
        gpu.Enqueue(1, new SimKernel(1000));
        gpu.AdvanceTo(10);
        gpu.Enqueue(0, new SimKernel(1000));

        Assert.Equal((0.0, 1.0), (gpu.Rate(0), gpu.Rate(1)));
        gpu.AdvanceTo(1010);
        Assert.Equal((0, 1), (gpu.Completed(0), gpu.Completed(1)));
        Assert.Equal(2000, gpu.NextEventNs());
    }

    [Fact]
    public void Started_AKernelWaitingForMultiprocessors_NotUntilItGetsThem()
    {
        // Context 1's full-GPU kernel runs 0..1000; context 0's, at its stream's head from 10,
        // waits for its multiprocessors until 1000, then runs to 2000; its second is queued.
        var gpu = new SpatialScheduler(2);
        gpu.Enqueue(1, new SimKernel(1000));
        gpu.AdvanceTo(10);
        gpu.Enqueue(0, new SimKernel(1000));
        gpu.Enqueue(0, new SimKernel(500));

        gpu.AdvanceTo(999);
        Assert.Equal((0L, 1L), (gpu.Started(0), gpu.Started(1)));
        gpu.AdvanceTo(1500);
        Assert.Equal((1L, 0L), (gpu.Started(0), gpu.Completed(0)));
        gpu.AdvanceTo(2100);
        Assert.Equal((2L, 1L), (gpu.Started(0), gpu.Completed(0)));
    }

    [Fact]
    public void KernelNs_KernelWaitingForMultiprocessors_CountsFromWhenItBecameItsStreamsHead()
    {
        // As CUDA events measure it: the event before the light kernel completes at once, the
        // kernel then waits 1000 ns for the GPU-filling one and runs 400 ns. A copy is no kernel time.
        var gpu = new SpatialScheduler(2);
        gpu.Enqueue(0, new SimKernel(1000));
        gpu.Enqueue(1, new SimKernel(400, 0.5));
        gpu.Enqueue(1, new SimKernel(300, 0));
        gpu.AdvanceTo(5000);

        Assert.Equal((1000L, 1400L), (gpu.KernelNs(0), gpu.KernelNs(1)));
        Assert.Equal(1700, gpu.LastCompletionNs(1));
        Assert.Equal(700, gpu.BusyNs(1));
    }

    [Fact]
    public void AdvanceTo_HigherPriorityKernelBesideARunningOne_GetsItsMultiprocessorsAtTheNextWaveBoundary()
    {
        // Context 0: a GPU-filling kernel of 1000 ns in waves of 100 ns, from 0. Context 1
        // (priority 1) arrives at 250 with a kernel of 50 ns on a tenth of the GPU: it waits for
        // the wave ending at 300, then runs 300..350 while context 0 runs at 0.9; context 0 had
        // 700 left at 300, 655 at 350, and ends at 1005.
        var gpu = new SpatialScheduler(2);
        gpu.Configure(1, new SimContext(1, 1.0));
        gpu.Enqueue(0, new SimKernel(1000, 1.0, 0, WaveNs: 100));
        gpu.AdvanceTo(250);
        gpu.Enqueue(1, new SimKernel(50, 0.1));

        Assert.Equal((1.0, 0.0), (gpu.Rate(0), gpu.Rate(1)));
        Assert.Equal(300, gpu.NextEventNs());
        gpu.AdvanceTo(300);
        Assert.Equal((0.9, 1.0), (Math.Round(gpu.Rate(0), 9), gpu.Rate(1)));
        gpu.AdvanceTo(10_000);

        Assert.Equal((1005L, 350L), (gpu.LastCompletionNs(0), gpu.LastCompletionNs(1)));
        Assert.Equal(100, gpu.KernelNs(1));
    }

    [Theory]
    [InlineData(250, 50, 0L, 260L)] // past the first wave: a tenth of the GPU frees in 10 ns (a wave's tenth), then 50 ns
    [InlineData(50, 50, 0L, 100L)] // in the first wave, whose blocks began together: its end, as without staggering
    [InlineData(250, 400, 100L, 282L)] // a kernel of 4 waves on half the GPU: half frees in 50 ns, it starts after (1 + 1/4) / 2 of that
    public void AdvanceTo_StaggeredBlocks_HigherPriorityKernelTakesMultiprocessorsAsBlocksEnd(long arrivalNs, long durationNs, long waveNs, long startNs)
    {
        // Context 0: a GPU-filling kernel of 1000 ns in waves of 100 ns, from 0; context 1
        // (priority 1) arrives with a kernel on a tenth of the GPU (half for the 4-wave one).
        var gpu = new SpatialScheduler(2) { StaggeredBlocks = true };
        gpu.Configure(1, new SimContext(1, 1.0));
        gpu.Enqueue(0, new SimKernel(1000, 1.0, 0, WaveNs: 100));
        gpu.AdvanceTo(arrivalNs);
        gpu.Enqueue(1, new SimKernel(durationNs, waveNs > 0 ? 0.5 : 0.1, 0, WaveNs: waveNs));

        Assert.Equal(0.0, gpu.Rate(1));
        Assert.Equal(startNs, gpu.NextEventNs());
        gpu.AdvanceTo(startNs);
        Assert.Equal(1.0, gpu.Rate(1));
        gpu.AdvanceTo(10_000);

        Assert.Equal(startNs + durationNs, gpu.LastCompletionNs(1));
        Assert.Equal(startNs + durationNs - arrivalNs, gpu.KernelNs(1));
    }

    [Theory]
    [InlineData(0, 1025L)] // last wave unknown: it holds the GPU to its end, and loses half of it 900..950
    [InlineData(2, 1000L)] // 9.25 waves: its last (900..1000) fills a quarter of the GPU, the rest is free
    public void AdvanceTo_LastWave_APartialLastWaveHoldsOnlyItsShare(double blocksPerMultiprocessor, long endNs)
    {
        // Context 0: a GPU-filling kernel of 1000 ns in waves of 100 ns from 0, 18.5 blocks a
        // multiprocessor. Context 1 (priority 1) arrives at 850 with 50 ns on half the GPU: it gets
        // its half at the wave end at 900 and runs 900..950; context 0 keeps its speed only where
        // its last wave leaves that half free.
        var gpu = BesideAGpuFillingKernel(staggered: false, blocksPerMultiprocessor, 850);
        gpu.Enqueue(1, new SimKernel(50, 0.5));
        gpu.AdvanceTo(10_000);

        Assert.Equal((endNs, 950L), (gpu.LastCompletionNs(0), gpu.LastCompletionNs(1)));
    }

    [Theory]
    [InlineData(905, 0, 955L)] // last wave unknown: half frees in 50 ns (past the first wave, blocks end one by one)
    [InlineData(905, 2, 905L)] // the last wave (900..1000) fills a quarter: three quarters are free, it starts at once
    [InlineData(860, 2, 900L)] // before it: the wave end at 900, which is the last wave's start
    public void AdvanceTo_StaggeredBlocks_AWaitingKernelStartsWhenTheLastWaveFreesWhatItLacks(long arrivalNs, double blocksPerMultiprocessor, long startNs)
    {
        var gpu = BesideAGpuFillingKernel(staggered: true, blocksPerMultiprocessor, arrivalNs);
        gpu.Enqueue(1, new SimKernel(50, 0.5));
        gpu.AdvanceTo(10_000);

        Assert.Equal(startNs + 50, gpu.LastCompletionNs(1));
        Assert.Equal(startNs + 50 - arrivalNs, gpu.KernelNs(1));
    }

    [Theory]
    [InlineData(250, 0, 370L)] // blocks still to start: they take the first kernel's tenth when it ends; the second waits 10 ns more
    [InlineData(905, 2, 1005L)] // in the last wave nothing refills it: the second starts at once (905 + 50 + 50)
    public void AdvanceTo_StaggeredBlocks_ALowerPriorityKernelsWaitingBlocksRefillWhatTheFirstKernelFreed(long arrivalNs, double blocksPerMultiprocessor, long endNs)
    {
        // Context 1 (priority 1) queues two kernels of 50 ns on a tenth of the GPU each beside
        // context 0's GPU-filling kernel (1000 ns, waves of 100): the first starts 10 ns after
        // arriving (past the first wave a tenth frees in 10 ns), or at once in the last wave.
        var gpu = BesideAGpuFillingKernel(staggered: true, blocksPerMultiprocessor, arrivalNs);
        gpu.Enqueue(1, new SimKernel(50, 0.1));
        gpu.Enqueue(1, new SimKernel(50, 0.1));
        gpu.AdvanceTo(10_000);

        Assert.Equal(endNs, gpu.LastCompletionNs(1));
    }

    // Context 0 runs a GPU-filling kernel of 1000 ns in waves of 100 ns from 0, 18.5 blocks a
    // multiprocessor (9.25 waves at 2 blocks a multiprocessor: its last, 900..1000, fills a
    // quarter of the room; 0: not known); context 1, of priority 1, comes at arrivalNs.
    private static SpatialScheduler BesideAGpuFillingKernel(bool staggered, double blocksPerMultiprocessor, long arrivalNs)
    {
        var gpu = new SpatialScheduler(2) { StaggeredBlocks = staggered };
        gpu.Configure(1, new SimContext(1, 1.0));
        gpu.Enqueue(0, new SimKernel(1000, 1.0, 0, WaveNs: 100, Spread: 18.5, BlocksPerMultiprocessor: blocksPerMultiprocessor));
        gpu.AdvanceTo(arrivalNs);
        return gpu;
    }

    [Fact]
    public void AdvanceTo_LastWave_ADenseKernelsLastWaveCrowdsBySpreadOfItsOwnBlocks()
    {
        // Context 1's dense kernel (1000 ns, waves of 100, 18.5 blocks a multiprocessor, 2 at
        // once: a last wave of a quarter of the room, half a block a multiprocessor) beside
        // context 0's sparse one from 900: as dense blocks it would crowd by 1 + 0.25 x 2;
        // its last wave's half block a multiprocessor is sparse, and crowds as such (none here).
        var gpu = new SpatialScheduler(2) { DenseCrowding = 0.25 };
        gpu.Enqueue(1, new SimKernel(1000, 1.0, 0, WaveNs: 100, Spread: 18.5, BlocksPerMultiprocessor: 2));
        gpu.AdvanceTo(900);
        gpu.Enqueue(0, new SimKernel(50, 0.1, Spread: 0.5));

        Assert.Equal(1.0, gpu.Rate(0));
        gpu.AdvanceTo(10_000);
        Assert.Equal((950L, 1000L), (gpu.LastCompletionNs(0), gpu.LastCompletionNs(1)));
    }

    [Fact]
    public void AdvanceTo_StaggeredBlocks_AGateIsCountedFromTheKernelsArrivalNotFromEachRefresh()
    {
        // As the first case above, and a third context's short kernel comes and goes meanwhile
        // (arrivals and completions recompute the gates): the waiting kernel still starts at 260.
        var gpu = new SpatialScheduler(3) { StaggeredBlocks = true };
        gpu.Configure(1, new SimContext(1, 1.0));
        gpu.Enqueue(0, new SimKernel(1000, 1.0, 0, WaveNs: 100));
        gpu.AdvanceTo(250);
        gpu.Enqueue(1, new SimKernel(50, 0.1));
        gpu.AdvanceTo(255);
        gpu.Enqueue(2, new SimKernel(1, 0.01));
        gpu.AdvanceTo(259);

        Assert.Equal(260, gpu.NextEventNs());
        gpu.AdvanceTo(10_000);
        Assert.Equal(310, gpu.LastCompletionNs(1));
    }

    [Theory]
    [InlineData(1.5, 1375)] // 1.5 resident blocks a multiprocessor of the dense kernel: 1 + 0.25 x 1.5
    [InlineData(3, 1500)] // more blocks than fit: 2 counted, 1 + 0.25 x 2
    public void AdvanceTo_DenseCrowding_SparseKernelBesideAnotherContextsDenseOneRunsSlower(double denseSpread, long endNs)
    {
        // A sparse kernel (1000 ns alone, a tenth of the GPU, spread 0.5) beside another context's
        // dense one (3000 ns, 0.4 of the GPU): the sparse one slows, the dense one does not.
        var gpu = new SpatialScheduler(2) { DenseCrowding = 0.25 };
        gpu.Enqueue(0, new SimKernel(1000, 0.1, Spread: 0.5));
        gpu.Enqueue(1, new SimKernel(3000, 0.4, Spread: denseSpread));

        Assert.Equal(1000.0 / endNs, gpu.Rate(0), 9);
        Assert.Equal(1.0, gpu.Rate(1));
        gpu.AdvanceTo(10_000);
        Assert.Equal((endNs, 3000L), (gpu.LastCompletionNs(0), gpu.LastCompletionNs(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SpatialScheduler(1) { DenseCrowding = 6 });
    }

    [Fact]
    public void AdvanceTo_HigherPriorityKernelBesideKernelsOnHalfTheGpuEach_WaitsForAWaveOfItsOwnLength()
    {
        // Contexts 0 and 1 (MPS share 50 % each) run GPU-filling kernels of 1000 ns in waves of
        // 100 ns from 0, each at half speed: more waves, each still 100 ns. Context 2 (priority 1)
        // arrives at 250 with a kernel of 50 ns on a tenth of the GPU: it gets the multiprocessors
        // of the waves ending at 300 (not 400, as if half the multiprocessors made blocks twice as
        // long) and runs 300..350, context 1 then at 0.4 of its speed alone.
        var gpu = new SpatialScheduler(3);
        gpu.Configure(0, new SimContext(0, 0.5));
        gpu.Configure(1, new SimContext(0, 0.5));
        gpu.Configure(2, new SimContext(1, 1.0));
        gpu.Enqueue(0, new SimKernel(1000, 1.0, 0, WaveNs: 100));
        gpu.Enqueue(1, new SimKernel(1000, 1.0, 0, WaveNs: 100));
        gpu.AdvanceTo(250);
        gpu.Enqueue(2, new SimKernel(50, 0.1));

        Assert.Equal((0.5, 0.5, 0.0), (gpu.Rate(0), gpu.Rate(1), gpu.Rate(2)));
        Assert.Equal(300, gpu.NextEventNs());
        gpu.AdvanceTo(300);
        Assert.Equal((0.5, 0.4, 1.0), (gpu.Rate(0), Math.Round(gpu.Rate(1), 9), gpu.Rate(2)));
        gpu.AdvanceTo(10_000);

        Assert.Equal(350, gpu.LastCompletionNs(2));
    }

    [Fact]
    public void AdvanceTo_SamePriorityKernelBesideARunningOne_WaitsForItsEndNotAWave()
    {
        var gpu = new SpatialScheduler(2);
        gpu.Enqueue(0, new SimKernel(1000, 1.0, 0, WaveNs: 100));
        gpu.AdvanceTo(250);
        gpu.Enqueue(1, new SimKernel(50, 0.1));
        gpu.AdvanceTo(10_000);

        Assert.Equal((1000L, 1050L), (gpu.LastCompletionNs(0), gpu.LastCompletionNs(1)));
    }

    [Fact]
    public void AdvanceTo_LightKernelBesideAGpuFillingStream_WaitsForTheRunningKernelThenGoesFirst()
    {
        // As measured on an H200 (docs/results/h200/probes): the spinner's stream has its next
        // kernel queued, yet the probe's kernel, waiting since 100, starts when the running one
        // ends at 386 — before the spinner's next kernel, which became head only then.
        var gpu = new SpatialScheduler(2);
        gpu.Enqueue(0, new SimKernel(386));
        gpu.Enqueue(0, new SimKernel(386));
        gpu.AdvanceTo(100);
        gpu.Enqueue(1, new SimKernel(9, 0.01));

        gpu.AdvanceTo(394);
        Assert.Equal(0, gpu.Completed(1));
        gpu.AdvanceTo(395);

        Assert.Equal(1, gpu.Completed(1));
        Assert.Equal(395, gpu.LastCompletionNs(1));
        // Meanwhile (386..395) the spinner's next kernel ran on the 99 % the probe left.
        Assert.Equal(1.0, gpu.Rate(0));
        Assert.Equal(1, gpu.Completed(0));
    }

    [Fact]
    public void AdvanceTo_ArrivalMidKernel_TakesWhatIsLeft()
    {
        // 0..500: A (wants 60 %) alone. B (wants all) arrives at 500 and gets the 40 % A leaves:
        // 0.4 of its speed until A ends at 1000 (200 done), then all of it: done at 1800.
        var gpu = new SpatialScheduler(2);
        gpu.Enqueue(0, new SimKernel(1000, 0.6));
        gpu.AdvanceTo(500);
        gpu.Enqueue(1, new SimKernel(1000));

        Assert.Equal(0.4, gpu.Rate(1), 12);
        gpu.AdvanceTo(1000);
        Assert.Equal((1, 0), (gpu.Completed(0), gpu.Completed(1)));
        Assert.Equal(1800, gpu.NextEventNs());
        gpu.AdvanceTo(1800);
        Assert.Equal(1, gpu.Completed(1));
        Assert.Equal((1000, 1300), (gpu.BusyNs(0), gpu.BusyNs(1)));
        Assert.Equal((1000, 1800), (gpu.LastCompletionNs(0), gpu.LastCompletionNs(1)));
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
    public void AdvanceTo_SameArrival_EachTakesWhatItWantsOfWhatIsLeftInContextOrder()
    {
        // Wants 0.2, 0.6, 0.6 at once: 0.2 and 0.6 are met, the third gets the last 0.2 (a third
        // of its speed: 333.3 done by 1000), then all it wants: done 666.7 later, at 1667.
        var gpu = new SpatialScheduler(3);
        gpu.Enqueue(0, new SimKernel(1000, 0.2));
        gpu.Enqueue(1, new SimKernel(1000, 0.6));
        gpu.Enqueue(2, new SimKernel(1000, 0.6));

        Assert.Equal((1.0, 1.0), (gpu.Rate(0), gpu.Rate(1)));
        Assert.Equal(1.0 / 3, gpu.Rate(2), 12);
        gpu.AdvanceTo(1000);
        Assert.Equal((1, 1, 0), (gpu.Completed(0), gpu.Completed(1), gpu.Completed(2)));
        Assert.Equal(1667, gpu.NextEventNs());
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

    [Theory]
    [InlineData(2, false, 1000)] // 0.5 + 0.5 blocks per multiprocessor: each block still has one to itself
    [InlineData(4, false, 1500)] // 2 blocks per multiprocessor, one more than alone: 1 + 0.5 x 1
    [InlineData(3, true, 1250)] // 1.5 blocks per multiprocessor; the dense kernel neither counts nor slows
    public void AdvanceTo_SparseKernelsOfSeveralContexts_CrowdOntoMultiprocessorsAndRunSlower(int sparse, bool dense, long endNs)
    {
        // Each sparse kernel: 1000 ns alone, a tenth of the block slots, its blocks on half the
        // multiprocessors (spread 0.5). The dense one: more blocks than multiprocessors (spread 2).
        var gpu = new SpatialScheduler(sparse + 1, blockContention: 0.5);
        for (var c = 0; c < sparse; c++)
        {
            gpu.Enqueue(c, new SimKernel(1000, 0.1, Spread: 0.5));
        }

        if (dense)
        {
            gpu.Enqueue(sparse, new SimKernel(1000, 0.4, Spread: 2));
        }

        Assert.Equal(1000.0 / endNs, gpu.Rate(0), 9);
        gpu.AdvanceTo(endNs - 1);
        Assert.Equal(0, gpu.Completed(sparse - 1));
        gpu.AdvanceTo(endNs);
        Assert.All(Enumerable.Range(0, sparse), c => Assert.Equal(1, gpu.Completed(c)));
        Assert.Equal(dense ? 1 : 0, gpu.Completed(sparse));
        Assert.Equal(dense ? 1000 : 0, gpu.LastCompletionNs(sparse));
    }

    [Fact]
    public void AdvanceTo_SparseKernelGivenHalfItsShare_CrowdsWithHalfItsBlocks()
    {
        // Context 0 may use 0.05 of the GPU: its kernel (share 0.1, spread 1) has half its blocks
        // resident, runs at half speed, and brings 0.5 blocks per multiprocessor; with two
        // others of spread 0.5 that makes 1.5: all three 1.25x slower. Context 0's kernel: 1000
        // ns at 0.5 / 1.25 = 0.4 of its speed, 2500 ns; the others 1250 ns.
        var gpu = new SpatialScheduler(3, blockContention: 0.5);
        gpu.Configure(0, new SimContext(0, 0.05));
        gpu.Enqueue(0, new SimKernel(1000, 0.1, Spread: 1));
        gpu.Enqueue(1, new SimKernel(1000, 0.1, Spread: 0.5));
        gpu.Enqueue(2, new SimKernel(1000, 0.1, Spread: 0.5));

        Assert.Equal(0.4, gpu.Rate(0), 9);
        gpu.AdvanceTo(1250);
        Assert.Equal((0, 1, 1), (gpu.Completed(0), gpu.Completed(1), gpu.Completed(2)));
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
        // Context 1's kernel has been at its head since 0: it keeps the GPU.
        Assert.Equal((0.0, 1.0), (gpu.Rate(0), gpu.Rate(1)));
    }

    [Fact]
    public void NextEventNs_Idle_IsNever()
    {
        Assert.Equal(long.MaxValue, new SpatialScheduler(3).NextEventNs());
    }
}
