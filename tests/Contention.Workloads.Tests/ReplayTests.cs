using Contention.Workloads.Devices;
using Contention.Workloads.Kernels;
using Contention.Workloads.Replay;
using Contention.Workloads.Sim;
using Contention.Workloads.Workloads;
using HdrHistogram;

namespace Contention.Workloads.Tests;

/// <summary>Kernel traces made ready to replay, and replayed in virtual time against timelines computed by hand.</summary>
public sealed class ReplayTests : IDisposable
{
    private const long Launch = 4_000;
    private const long RoundTrip = 5_000;

    // Launch CPU 4 us; every spin synchronise that waits returns 5 us after the last kernel; no idle costs.
    private static readonly DeviceProfile Profile = DeviceProfile.Load("h100") with
    {
        LaunchCpuNs = Launch,
        MpsInterference = 0,
        RoundTrips = [new(SyncMode.Spin, 1_000, RoundTrip), new(SyncMode.Spin, 1_000, RoundTrip, GpuSharing.Mps)],
    };

    private static readonly TraceDevice H200 = new("NVIDIA H200", 132, 2048, 65536, 233472, 32);

    // 264 blocks, 2 a multiprocessor (128 registers, 8 warps): one wave of the whole GPU; 66 blocks of 1,024 threads, 2 a multiprocessor: a quarter.
    private static readonly TraceKernel Wide = new("wide", new Dim3(66, 4, 1), new Dim3(256, 1, 1), 128, 49152);
    private static readonly TraceKernel Narrow = new("narrow", new Dim3(66, 1, 1), new Dim3(1024, 1, 1), 32, 0);

    private readonly string directory = Directory.CreateTempSubdirectory("contention-replay-test-").FullName;

    public void Dispose() => Directory.Delete(directory, true);

    private static TraceOp K(int kernel, double gap, double duration) => new(TraceOpKind.Kernel, kernel, 7, gap, 5, 0, duration);

    private static TraceOp Sync(double gap) => new(TraceOpKind.Sync, -1, -1, gap, 100, 0, 0);

    private static KernelTrace Trace(params TraceStep[] steps) =>
        new("t", TraceKind.Training, new TraceRecording("test", "job", "2026-12-02T00:00:00Z", "host", "test"), H200, [Wide, Narrow], steps);

    private string Written(KernelTrace trace)
    {
        var path = Path.Combine(directory, $"{Guid.NewGuid():N}.ktrace.json");
        KernelTraceFile.Write(trace, path);
        return path;
    }

    private VirtualTenant Tenant(KernelTrace trace, double rate = 0, int steps = 0) =>
        new("r", new WorkloadSpec { Kind = WorkloadKind.Replay, Trace = Written(trace), TraceSteps = steps, RatePerSecond = rate }, SyncMode.Spin, SimContext.Default);

    [Fact]
    public void From_Ops_HostTimeGoesBeforeTheNextLaunchOrWait_AndEveryStepEndsWaiting()
    {
        // A wait with nothing launched, a kernel, a pageable copy (it holds the host), a kernel,
        // two waits (the second has nothing to wait for), a kernel, then the tail.
        var copy = new TraceOp(TraceOpKind.Copy, -1, 7, 1, 5, 0, 8, 4096, CopyDirection.DeviceToHost, Pinned: false);
        var step = new TraceStep(1, 500, 7, [Sync(5), K(0, 10, 100), copy, K(1, 2, 20), Sync(3), Sync(4), K(0, 6, 100)]);

        var played = Assert.Single(ReplayProgram.From(Trace(step)).Steps);

        Assert.Equal([15_000L, 1_000, 2_000, 10_000], played.BeforeNs);
        Assert.Equal([false, true, true, true], played.SyncAfter);
        Assert.Equal([0L, 0, 3_000, 7_000], played.SyncGapNs);
        Assert.Equal(0, played.TailNs);
        Assert.Equal(KernelSpec.Replay(100_000, 264, 256, 2), played.Kernels[0]);
        Assert.Equal(KernelSpec.Replay(8_000, 0, 0, 1), played.Kernels[1]);
        Assert.Equal(KernelSpec.Replay(20_000, 66, 1024, 2), played.Kernels[2]);

        // Ending in a wait, the tail comes after it.
        var ending = Assert.Single(ReplayProgram.From(Trace(new TraceStep(1, 500, 7, [K(0, 10, 100), Sync(3)]))).Steps);
        Assert.Equal([true], ending.SyncAfter);
        Assert.Equal([3_000L], ending.SyncGapNs);
        Assert.Equal(7_000, ending.TailNs);
    }

    [Fact]
    public void From_HostCorrection_EachGapLessItsEventsCost_NeverBelowZero()
    {
        // 2 µs an event: 10 µs with 3 events → 4; 5 µs with 4 → 0 (not below); 20 µs with none stays;
        // the sync's 9 µs with 2 → 5; the tail's 30 µs with 5 → 20.
        var step = new TraceStep(1, 500, 30, [K(0, 10, 100) with { Events = 3 }, K(1, 5, 20) with { Events = 4 }, K(0, 20, 50), Sync(9) with { Events = 2 }], TailEvents: 5);
        var trace = Trace(step) with { HostCorrection = new TraceHostCorrection(2, "test") };

        var played = Assert.Single(ReplayProgram.From(trace).Steps);

        Assert.Equal([4_000L, 0, 20_000], played.BeforeNs);
        Assert.Equal([0L, 0, 5_000], played.SyncGapNs);
        Assert.Equal(20_000, played.TailNs);
        Assert.Equal(4 + 0 + 20 + 5 + 20, step.HostUsCorrected(2));

        // Without a correction the gaps are as profiled.
        var asProfiled = Assert.Single(ReplayProgram.From(trace with { HostCorrection = null }).Steps);
        Assert.Equal([10_000L, 5_000, 20_000], asProfiled.BeforeNs);
        Assert.Equal(30_000, asProfiled.TailNs);
    }

    [Fact]
    public void From_RepeatedSteps_OrderCyclesThemAsRecorded_CutToTheStepsAskedFor()
    {
        var trace = Trace(new TraceStep(2, 500, 0, [K(0, 1, 10)]), new TraceStep(1, 500, 0, [K(1, 1, 10)]));

        var program = ReplayProgram.From(trace);
        Assert.Equal([0, 0, 1], program.Order);
        Assert.Same(program.Steps[1], program.StepOf(5));
        Assert.Same(program.Steps[0], program.StepOf(6));
        Assert.Equal([0, 0], ReplayProgram.From(trace, 2).Order);
        var error = Assert.Throws<KernelTraceException>(() => ReplayProgram.From(trace, 4));
        Assert.Contains("4 steps asked for, it recorded 3", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CostModel_ReplayedKernel_LastsItsRecordedTimeWithItsRecordedFootprint()
    {
        var model = new CostModel(Profile);

        var wide = model.Kernel(KernelSpec.Replay(100_000, 264, 256, 2));
        var quarter = model.Kernel(KernelSpec.Replay(100_000, 66, 1024, 2));
        var twoWaves = model.Kernel(KernelSpec.Replay(100_000, 528, 256, 2));
        var copy = model.Kernel(KernelSpec.Replay(8_000, 0, 0, 1));

        Assert.Equal((100_000L, 1.0, 100_000L, 0.0), (wide.DurationNs, wide.SmShare, wide.WaveNs, wide.BandwidthShare));
        Assert.Equal(0.25, quarter.SmShare, 9);
        Assert.Equal(50_000, twoWaves.WaveNs);
        Assert.Equal((8_000L, 0.0), (copy.DurationNs, copy.SmShare));
    }

    [Fact]
    public void VirtualGpu_ReplayedStep_GapsLaunchesKernelsAndWaitsAsComputedByHand()
    {
        // Kernel A 10 us after the step starts (100 us), kernel B 20 us after A's launch (50 us),
        // a wait 30 us after B's launch, a 40 us tail. The host reaches A at 10 + 4 (launch), B at
        // 14 + 20 + 4 = 38, waits from 68; the GPU runs A 14-114, B 114-164; the wait returns at
        // 164 + 5 (round trip), the step ends 40 later: 209 us (the first also waits for the GPU's first switch).
        var trace = Trace(new TraceStep(1, 300, 40, [K(0, 10, 100), K(1, 20, 50), Sync(30)]));
        var gpu = new VirtualGpu(Profile, GpuSharing.Timeslice, [Tenant(trace)], 0, startPause: StartPause.None);
        const long step = 209_000;
        var first = step + Profile.IdleSwitchNs;

        gpu.RunUntil(first);
        Assert.Equal(1, gpu.Result(0).Completed);
        Assert.Equal(first, gpu.Result(0).Latency.GetMaxValue(), first / 500.0);
        gpu.Mark();
        gpu.RunUntil(first + (10 * step) + (step / 2));
        var result = gpu.Result(0);

        Assert.Equal(10, result.Completed);
        Assert.Equal(step, result.Latency.GetValueAtPercentile(0), step / 500.0);
        Assert.Equal(step, result.Latency.GetMaxValue(), step / 500.0);
        Assert.Equal(10 * 150_000, result.KernelNs);
        // Counted when made: the 11th step, half done at the window's end, has launched both kernels and called its wait.
        Assert.Equal((22L, 11L), (result.Host.Launches, result.Host.Synchronises));

        // The recorded host time (10 + 20 + 30 + 40 us a step), counted as each busy stretch begins: the
        // first step in the window began its first at the mark (before it), the half-done one has begun three.
        Assert.Equal(90_000 + (9 * 100_000) + 60_000, result.Host.HostBusyNs);
    }

    [Fact]
    public void VirtualGpu_HostBoundStep_TheWaitReturnsAtOnceAndTheStepIsTheHostsTime()
    {
        // A 5 us kernel launched at 14 us is done long before the wait at 44 us: no round trip; then a 40 us tail: 84 us.
        var trace = Trace(new TraceStep(1, 100, 40, [K(1, 10, 5), Sync(30)]));
        var gpu = new VirtualGpu(Profile, GpuSharing.Timeslice, [Tenant(trace)], 0, startPause: StartPause.None);

        gpu.RunUntil(1_000_000);
        gpu.Mark();
        gpu.RunUntil(1_000_000 + (10 * 84_000));
        var result = gpu.Result(0);

        Assert.InRange(result.Completed, 9, 11);
        Assert.Equal(84_000, result.Latency.GetValueAtPercentile(50), 84_000 / 500.0);
    }

    [Fact]
    public void VirtualGpu_TwoRecordedSteps_PlayedInTurnAsOftenAsRecorded()
    {
        // Step 0 (recorded twice) is the 209 us step above, step 1 the 84 us host-bound one: a cycle of 209 + 209 + 84 us.
        var trace = Trace(new TraceStep(2, 300, 40, [K(0, 10, 100), K(1, 20, 50), Sync(30)]), new TraceStep(1, 100, 40, [K(1, 10, 5), Sync(30)]));
        var gpu = new VirtualGpu(Profile, GpuSharing.Timeslice, [Tenant(trace)], 0, startPause: StartPause.None);
        var cycle = 209_000 + 209_000 + 84_000;

        gpu.RunUntil(cycle + Profile.IdleSwitchNs);
        gpu.Mark();
        gpu.RunUntil(cycle + Profile.IdleSwitchNs + (4 * cycle));
        var result = gpu.Result(0);

        Assert.Equal(12, result.Completed);
        Assert.Equal(84_000, result.Latency.GetValueAtPercentile(0), 84_000 / 500.0);
        Assert.Equal(209_000, result.Latency.GetMaxValue(), 209_000 / 500.0);
        Assert.Equal(209_000, result.Latency.GetValueAtPercentile(50), 209_000 / 500.0);
        Assert.Equal(4 * ((2 * 150_000) + 5_000), result.KernelNs);
    }

    [Fact]
    public void VirtualGpu_ReplayAtARate_RequestsArriveOpenLoop()
    {
        // 100 requests a second of an 84 us step: each request takes its step's time from its arrival.
        var trace = Trace(new TraceStep(1, 100, 40, [K(1, 10, 5), Sync(30)]));
        var gpu = new VirtualGpu(Profile, GpuSharing.Timeslice, [Tenant(trace, rate: 100)], 0, startPause: StartPause.None);

        gpu.Measure(1_000_000_000, 10_000_000_000);
        var result = gpu.Result(0);

        Assert.InRange(result.Completed, 900, 1100);
        Assert.True(result.Latency.GetValueAtPercentile(50) >= 84_000, $"p50 {result.Latency.GetValueAtPercentile(50)} ns");
        Assert.True(result.Host.IdleNs > 9_000_000_000, "an open-loop replay idles between requests");
    }
}
