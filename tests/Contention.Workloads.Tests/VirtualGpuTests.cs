using Contention.Workloads.Devices;
using Contention.Workloads.Sim;
using Contention.Workloads.Workloads;
using HdrHistogram;

namespace Contention.Workloads.Tests;

/// <summary>The virtual-time GPU against timelines computed by hand from the profile's costs.</summary>
public class VirtualGpuTests
{
    private const long Launch = 4_000;
    private const long RoundTrip = 5_000;

    // Launch CPU 4 us; every spin synchronise that waits returns 5 us after the last kernel; no MPS interference.
    private static readonly DeviceProfile Profile = DeviceProfile.Load("h100") with
    {
        LaunchCpuNs = Launch,
        MpsInterference = 0,
        RoundTrips = [new(SyncMode.Spin, 1_000, RoundTrip), new(SyncMode.Spin, 1_000, RoundTrip, GpuSharing.Mps)],
    };

    private static WorkloadSpec Microbench(long bytes, int iterations, int seed = 1) =>
        new() { Kind = WorkloadKind.Microbench, Op = MicrobenchOp.Elementwise, Bytes = bytes, Iterations = iterations, Seed = seed };

    private static long DurationOf(WorkloadSpec spec) => new CostModel(Profile).Kernel(WorkloadRunner.KernelsOf(spec)[0]).DurationNs;

    private static VirtualTenant Tenant(WorkloadSpec spec, string name = "t") => new(name, spec, SyncMode.Spin, SimContext.Default);

    // The first kernel of a context waits for the GPU to switch to it (from no context): once.
    private static readonly long FirstSwitch = Profile.IdleSwitchNs;

    [Fact]
    public void RunUntil_ClosedLoopOneKernel_EachOperationIsLaunchKernelAndRoundTrip()
    {
        var spec = Microbench(64L << 20, 1);
        var kernel = DurationOf(spec);
        var operation = Launch + kernel + RoundTrip;
        var first = operation + FirstSwitch;
        var gpu = new VirtualGpu(Profile, GpuSharing.Timeslice, [Tenant(spec)], 0, startPause: StartPause.None);

        gpu.RunUntil(first);
        Assert.Equal(1, gpu.Result(0).Completed);
        Assert.Equal(first, gpu.Result(0).Latency.GetMaxValue(), first / 500.0);
        gpu.Mark();
        gpu.RunUntil(first + (10 * operation) + (operation / 2));
        var result = gpu.Result(0);

        Assert.Equal(10, result.Completed);
        Assert.Equal(operation, result.Latency.GetValueAtPercentile(0), operation / 500.0);
        Assert.Equal(operation, result.Latency.GetMaxValue(), operation / 500.0);
        Assert.Equal(10 * kernel, result.KernelNs);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    public void RunUntil_ClosedLoop_PausesAfterTheSecondOperationAsAWorkloadRunnerDoes(int seed)
    {
        // Operations of launch + kernel + round trip back to back, but after the second the
        // thread sleeps WorkloadRunner.StartPauseNs of its seed and that operation's length.
        var spec = Microbench(64L << 20, 1, seed);
        var operation = Launch + DurationOf(spec) + RoundTrip;
        var second = FirstSwitch + (2 * operation);
        var pause = WorkloadRunner.StartPauseNs(seed, operation);
        var gpu = new VirtualGpu(Profile, GpuSharing.Timeslice, [Tenant(spec)]);

        gpu.RunUntil(second);
        Assert.Equal(2, gpu.Result(0).Completed);
        gpu.Mark();
        gpu.RunUntil(second + pause + operation - 1);
        Assert.Equal(0, gpu.Result(0).Completed);
        gpu.RunUntil(second + pause + operation);
        Assert.Equal(1, gpu.Result(0).Completed);

        // The pause is no operation's latency.
        Assert.Equal(operation, gpu.Result(0).Latency.GetMaxValue(), operation / 500.0);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void RunUntil_PauseFirst_SleepsTheDrawOverOneOperationAloneThenRunsBackToBack(int seed)
    {
        // The same draw as a worker's, over one operation alone (launch and kernel): the first
        // operation starts there, the rest follow back to back with no pause among them.
        var spec = Microbench(64L << 20, 1, seed);
        var kernel = DurationOf(spec);
        var operation = Launch + kernel + RoundTrip;
        var start = WorkloadRunner.StartPauseNs(seed, Launch + kernel);
        var gpu = new VirtualGpu(Profile, GpuSharing.Timeslice, [Tenant(spec)], 0, startPause: StartPause.BeforeFirstOperation);

        gpu.RunUntil(start + FirstSwitch + operation - 1);
        Assert.Equal(0, gpu.Result(0).Completed);
        gpu.RunUntil(start + FirstSwitch + operation);
        Assert.Equal(1, gpu.Result(0).Completed);
        gpu.Mark();
        gpu.RunUntil(start + FirstSwitch + (6 * operation));

        Assert.Equal(5, gpu.Result(0).Completed);
        Assert.Equal(operation, gpu.Result(0).Latency.GetMaxValue(), operation / 500.0);
    }

    [Fact]
    public void RunUntil_OpenLoop_NoStartPause()
    {
        // An open-loop tenant's requests start at their arrivals, pauses or not.
        var spec = new WorkloadSpec { Kind = WorkloadKind.Inference, Model = "mlp", BatchSize = 1, RatePerSecond = 500, Seed = 3 };
        var with = new VirtualGpu(Profile, GpuSharing.Timeslice, [Tenant(spec)]);
        var without = new VirtualGpu(Profile, GpuSharing.Timeslice, [Tenant(spec)], 0, startPause: StartPause.None);

        with.RunUntil(200_000_000);
        without.RunUntil(200_000_000);

        Assert.True(with.Result(0).Completed > 50);
        Assert.Equal(without.Result(0).Completed, with.Result(0).Completed);
        Assert.Equal(without.Result(0).Latency.GetMaxValue(), with.Result(0).Latency.GetMaxValue());
    }

    [Fact]
    public void RunUntil_KernelsLongerThanLaunches_QueueAndTheSynchroniseWaitsForTheLast()
    {
        // Three launches 4 us apart of kernels longer than that: the kernels run back to back from
        // the first launch's end, the synchronise (called after the third launch) waits for the
        // last and returns a round trip later; the next operation starts then.
        var spec = Microbench(64L << 20, 3);
        var kernel = DurationOf(spec);
        Assert.True(kernel > Launch);
        var operation = Launch + (3 * kernel) + RoundTrip;
        var gpu = new VirtualGpu(Profile, GpuSharing.Timeslice, [Tenant(spec)], 0, startPause: StartPause.None);

        gpu.RunUntil(FirstSwitch + operation);
        gpu.Mark();
        gpu.RunUntil(FirstSwitch + (5 * operation));

        Assert.Equal(4, gpu.Result(0).Completed);
        Assert.Equal(operation, gpu.Result(0).Latency.GetMaxValue(), operation / 500.0);
    }

    [Fact]
    public void RunUntil_KernelsShorterThanLaunches_DoneBeforeTheSynchroniseCostNoRoundTrip()
    {
        // Tiny kernels finish before the next launch; the last ends kernel-time after the third
        // launch, after the call: one round trip. A kernel done before the call costs none.
        var spec = Microbench(4096, 3);
        var kernel = DurationOf(spec);
        Assert.True(kernel < Launch);
        var gpu = new VirtualGpu(Profile, GpuSharing.Timeslice, [Tenant(spec)]);

        gpu.RunUntil(500_000);
        gpu.Mark();
        gpu.RunUntil(1_000_000);

        Assert.Equal((3 * Launch) + kernel + RoundTrip, gpu.Result(0).Latency.GetMaxValue(), 10.0);
        Assert.Equal((3 * Launch) + kernel + RoundTrip, gpu.Result(0).Latency.GetValueAtPercentile(0), 10.0);
    }

    [Fact]
    public void RunUntil_OpenLoop_RequestsArriveAsThePoissonProcessOfTheSeedAndWaitFromArrival()
    {
        // 1,000 MLP requests/s: each request's latency is its own launches, copies, kernels and
        // round trip (none queues behind another); the arrivals are WorkloadRunner's for seed 7.
        var spec = new WorkloadSpec { Kind = WorkloadKind.Inference, Model = "mlp", BatchSize = 1, RatePerSecond = 1_000, Seed = 7 };
        var random = new Random(7);
        var arrival = 0L;
        var arrivals = new List<long>();
        while (arrival < 1_000_000_000)
        {
            arrival += (long)(-Math.Log(1.0 - random.NextDouble()) * 1e6);
            arrivals.Add(arrival);
        }

        var gpu = new VirtualGpu(Profile, GpuSharing.Timeslice, [Tenant(spec)]);
        gpu.RunUntil(arrivals[0] + 1_000_000);
        gpu.Mark();
        gpu.RunUntil(1_000_000_000);
        var result = gpu.Result(0);

        // One server with a constant service time S (a request alone: the shortest latency); a
        // request that arrives while the last is served waits for it (from its arrival, Lindley:
        // end = max(arrival, previous end) + S).
        var service = result.Latency.GetValueAtPercentile(0);
        Assert.True(service < 200_000, $"{service} ns");
        var previous = 0L;
        var expected = new List<long>();
        foreach (var a in arrivals)
        {
            previous = Math.Max(a, previous) + service;
            if (a > arrivals[0] && previous <= 1_000_000_000)
            {
                expected.Add(previous - a);
            }
        }

        expected.Sort();
        Assert.InRange(result.Completed - expected.Count, -1, 1);
        Assert.True(expected[^1] > service, "some requests queue at 1,000/s");
        Assert.Equal(expected[^1], result.Latency.GetMaxValue(), expected[^1] / 500.0);
        // The 99th percentile: the same request as by hand, give or take the one at the window's edge.
        var p99 = (int)Math.Ceiling(0.99 * expected.Count) - 1;
        Assert.InRange(result.Latency.GetValueAtPercentile(99), expected[p99 - 1] * 0.999, expected[p99 + 1] * 1.001);
    }

    [Fact]
    public void RunUntil_OpenLoopWithWakeUps_ARequestTheThreadSleptForStartsAWakeUpLate()
    {
        // The profile's host wakes 30 us late from every timed sleep: a request that arrives
        // while the server idles starts 30 us after its arrival (end = arrival + 30 us + S); one
        // that arrives while the last is served starts when it ends, with no sleep (end = previous end + S).
        const long wake = 30_000;
        var profile = Profile with { WakeUps = [new(1_000, wake), new(100_000_000, wake)] };
        var spec = new WorkloadSpec { Kind = WorkloadKind.Inference, Model = "mlp", BatchSize = 1, RatePerSecond = 2_000, Seed = 11 };
        var alone = new VirtualGpu(Profile, GpuSharing.Timeslice, [Tenant(spec)]);
        alone.Measure(10_000_000, 500_000_000);
        var service = alone.Result(0).Latency.GetValueAtPercentile(0);

        var random = new Random(11);
        var arrival = 0L;
        var previous = 0L;
        var expected = new List<long>();
        while (true)
        {
            arrival += (long)(-Math.Log(1.0 - random.NextDouble()) * 5e5);
            previous = (arrival > previous ? arrival + wake : previous) + service;
            if (previous > 510_000_000)
            {
                break;
            }

            if (previous > 10_000_000)
            {
                expected.Add(previous - arrival);
            }
        }

        var gpu = new VirtualGpu(profile, GpuSharing.Timeslice, [Tenant(spec)]);
        gpu.Measure(10_000_000, 500_000_000);
        var result = gpu.Result(0);

        expected.Sort();
        Assert.InRange(result.Completed - expected.Count, -1, 1);
        Assert.Equal(expected[0], result.Latency.GetValueAtPercentile(0), expected[0] / 500.0);
        Assert.True(expected.Count(l => l >= service + wake) > expected.Count / 2, "most requests find the thread asleep");
        Assert.True(expected[^1] > service + wake, "some requests queue at 2,000/s");
        Assert.Equal(expected[^1], result.Latency.GetMaxValue(), expected[^1] / 500.0);
        Assert.Equal(expected[expected.Count / 2], result.Latency.GetValueAtPercentile(50), expected[expected.Count / 2] / 100.0);
    }

    [Fact]
    public void Host_SwitchesIn_CountsTheGpuComingBackToAWaitingTenantAfterAnotherRan()
    {
        // A waits on ten long kernels (1.6 ms, within a slice); B's short ones slip in whenever A's
        // queue runs dry, so the GPU comes back to A about once per wait, while A waits. Alone,
        // or under MPS, it never leaves A.
        var longWaits = Microbench(256L << 20, 10);
        var shortOps = Microbench(4096, 1, seed: 2);
        VirtualHostCounters Run(GpuSharing sharing, bool both)
        {
            var gpu = new VirtualGpu(Profile, sharing, both ? [Tenant(longWaits, "a"), Tenant(shortOps, "b")] : [Tenant(longWaits, "a")]);
            gpu.Measure(10_000_000, 200_000_000);
            return gpu.Result(0).Host;
        }

        var sliced = Run(GpuSharing.Timeslice, true);
        Assert.InRange(sliced.SwitchesIn, sliced.Waits * 9 / 10, sliced.Waits * 2);
        Assert.Equal(0, Run(GpuSharing.Timeslice, false).SwitchesIn);
        Assert.Equal(0, Run(GpuSharing.Mps, true).SwitchesIn);
    }

    [Fact]
    public void RunUntil_TwoSmallTenants_OverlapUnderMpsAndPaySwitchesTimeSliced()
    {
        // Tiny kernels: under MPS two tenants' kernels run side by side, so together they do more
        // than one alone; time-sliced, each hand-over from a context whose queue ran dry costs an
        // idle switch, so together they do less than under MPS.
        var spec = Microbench(4096, 1);
        long Completed(GpuSharing sharing, int tenants)
        {
            var gpu = new VirtualGpu(Profile, sharing, [.. Enumerable.Range(0, tenants).Select(i => Tenant(spec with { Seed = i + 1 }, $"t{i}"))]);
            gpu.RunUntil(1_000_000);
            gpu.Mark();
            gpu.RunUntil(11_000_000);
            return Enumerable.Range(0, tenants).Sum(i => gpu.Result(i).Completed);
        }

        var alone = Completed(GpuSharing.Mps, 1);
        var mps = Completed(GpuSharing.Mps, 2);
        var sliced = Completed(GpuSharing.Timeslice, 2);

        Assert.True(mps > 1.3 * alone, $"two under MPS {mps}, one alone {alone}");
        Assert.True(sliced < mps / 2, $"two time-sliced {sliced}, under MPS {mps}");
    }

    [Fact]
    public void RunUntil_TwoGpuFillingTenantsTimeSliced_ShareTheGpuAndPaySwitches()
    {
        // Kernels that fill the GPU for longer than a slice: alone a tenant runs them back to back;
        // two alternate slice by slice, each losing a switch per slice, so each gets under half.
        var spec = Microbench(1L << 31, 1);
        var alone = new VirtualGpu(Profile, GpuSharing.Timeslice, [Tenant(spec)]);
        var two = new VirtualGpu(Profile, GpuSharing.Timeslice, [Tenant(spec, "a"), Tenant(spec, "b")]);

        alone.RunUntil(2_000_000_000);
        two.RunUntil(2_000_000_000);

        var share = two.Result(0).KernelNs / (double)alone.Result(0).KernelNs;
        Assert.InRange(share, 0.40, 0.5);
        Assert.InRange(two.Result(0).Completed - two.Result(1).Completed, -1, 1);
    }

    [Fact]
    public void RunUntil_PageableCopies_HoldTheThreadUntilEachIsDone()
    {
        // An MLP request with pageable host memory: the input copy is waited for (a round trip
        // after it) before the kernels are launched, so the request takes longer than pinned.
        var spec = new WorkloadSpec { Kind = WorkloadKind.Inference, Model = "mlp", BatchSize = 1 };
        var pinned = new VirtualGpu(Profile, GpuSharing.Timeslice, [Tenant(spec)]);
        var pageable = new VirtualGpu(Profile, GpuSharing.Timeslice, [Tenant(spec) with { PinnedHost = false }]);

        pinned.RunUntil(100_000_000);
        pageable.RunUntil(100_000_000);

        Assert.True(pageable.Result(0).Latency.GetMaxValue() >= pinned.Result(0).Latency.GetMaxValue() + RoundTrip);
    }

    [Fact]
    public void Mark_StartsTheWindow_AndTheSameTenantsGiveTheSameResults()
    {
        VirtualGpu Run()
        {
            var gpu = new VirtualGpu(DeviceProfile.Load("h200"), GpuSharing.Mps,
            [
                new("svc", new WorkloadSpec { Kind = WorkloadKind.Inference, Model = "mlp", BatchSize = 1, RatePerSecond = 200, Seed = 3 }, SyncMode.Block, new SimContext(10, 1)),
                new("train", new WorkloadSpec { Kind = WorkloadKind.Training, Model = "resnet50", BatchSize = 32 }, SyncMode.Block, SimContext.Default),
            ]);
            gpu.RunUntil(500_000_000);
            gpu.Mark();
            gpu.RunUntil(1_500_000_000);
            return gpu;
        }

        var first = Run();
        var second = Run();

        Assert.InRange(first.Result(0).Completed, 170, 230); // 200/s over the 1-s window
        Assert.InRange(first.Result(1).Completed, 10, 15); // about 75 ms a step
        Assert.Equal(first.Events, second.Events);
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(first.Result(i).Completed, second.Result(i).Completed);
            Assert.Equal(first.Result(i).Latency.GetValueAtPercentile(99), second.Result(i).Latency.GetValueAtPercentile(99));
            Assert.Equal(first.Result(i).KernelNs, second.Result(i).KernelNs);
        }
    }

    [Theory]
    [InlineData(GpuSharing.Timeslice)]
    [InlineData(GpuSharing.Mps)]
    public void RunUntil_InWindows_GivesWhatOneRunGives(GpuSharing sharing)
    {
        // The coordinator of a distributed simulation advances every GPU window by window: the
        // windows must not change a thing, whatever their length.
        VirtualGpu Create() => new(DeviceProfile.Load("h200"), sharing,
        [
            new("svc", new WorkloadSpec { Kind = WorkloadKind.Inference, Model = "mlp", BatchSize = 1, RatePerSecond = 500, Seed = 5 }, SyncMode.Block, new SimContext(10, 0.3)),
            new("train", new WorkloadSpec { Kind = WorkloadKind.Training, Model = "resnet50", BatchSize = 32 }, SyncMode.Spin, new SimContext(0, 0.5)),
            new("closed", new WorkloadSpec { Kind = WorkloadKind.Inference, Model = "resnet50", BatchSize = 8, Seed = 2 }, SyncMode.Yield, new SimContext(0, 0.2)),
        ]);
        var whole = Create();
        whole.Measure(200_000_000, 800_000_000);
        foreach (var window in new long[] { 1_000_003, 37_000_000, 100_000_000 })
        {
            var stepped = Create();
            for (var t = window; t < 200_000_000; t += window)
            {
                stepped.RunUntil(t);
            }

            stepped.RunUntil(200_000_000);
            stepped.Mark();
            for (var t = 200_000_000 + window; t < 1_000_000_000; t += window)
            {
                stepped.RunUntil(t);
            }

            stepped.RunUntil(1_000_000_000);
            Assert.Equal(whole.Events, stepped.Events);
            for (var i = 0; i < 3; i++)
            {
                Assert.Equal(whole.Result(i).Completed, stepped.Result(i).Completed);
                Assert.Equal(whole.Result(i).KernelNs, stepped.Result(i).KernelNs);
                Assert.Equal(whole.Result(i).Latency.GetValueAtPercentile(99), stepped.Result(i).Latency.GetValueAtPercentile(99));
                Assert.Equal(whole.Result(i).Latency.GetMaxValue(), stepped.Result(i).Latency.GetMaxValue());
            }
        }
    }

    [Fact]
    public void New_MicrobenchGrid_SaysWhatToGive()
    {
        var grid = Microbench(4096, 1) with { Grid = [new MicrobenchGroup(MicrobenchOp.Elementwise, 4096, [1])] };

        var error = Assert.Throws<ArgumentException>(() => new VirtualGpu(Profile, GpuSharing.Timeslice, [Tenant(grid)]));
        Assert.Contains("grid cannot run in virtual time", error.Message, StringComparison.Ordinal);
    }
}
