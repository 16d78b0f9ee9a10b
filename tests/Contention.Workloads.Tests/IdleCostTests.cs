using System.Diagnostics;
using Contention.Workloads.Benchmarks;
using Contention.Workloads.Devices;
using Contention.Workloads.Kernels;
using Contention.Workloads.Sim;
using Contention.Workloads.Workloads;
using HdrHistogram;

namespace Contention.Workloads.Tests;

/// <summary>What an idle gap costs the next request: measured (bench idle), kept in a profile, played by both modelled GPUs.</summary>
// The real-time case is timed against the modelled GPU: not beside the other timed tests on a 2-core machine.
[Collection(SimTiming.Name)]
public class IdleCostTests
{
    private const long Launch = 4_000;

    [Fact]
    public void Costs_SleptGaps_MeanTimesLessBackToBackAtTheThreadsIdleTime()
    {
        var times = new[]
        {
            new IdleGapTimes(0, IdleWay.Sleep, [0, 0], [50_000, 60_000], [150_000, 170_000]),
            new IdleGapTimes(1_000_000, IdleWay.Sleep, [10_000, 30_000], [70_000, 90_000], [200_000, 220_000]),
            new IdleGapTimes(1_000_000, IdleWay.Spin, [0, 0], [500_000, 500_000], [500_000, 500_000]),
            new IdleGapTimes(200_000, IdleWay.Sleep, [4_000, 6_000], [40_000, 50_000], [160_000, 160_000]),
        };

        var costs = IdleBenchmark.Costs(times, GpuSharing.Mps);

        // Back to back: launches 55 us, waits 160 us. Busy-waited gaps are not an open-loop service's:
        // left out. Each point's spread: its requests' times less their mean (two: at 0 and 1).
        Assert.Equal(
            [(0L, 0L, 0L, GpuSharing.Mps), (205_000, 0, 0, GpuSharing.Mps), (1_020_000, 25_000, 50_000, GpuSharing.Mps)],
            costs.Select(c => (c.GapNs, c.LaunchNs, c.WaitNs, c.Sharing)));
        Assert.All(costs[0].LaunchSpread!.Concat(costs[0].WaitSpread!), v => Assert.Equal(0, v));
        Assert.Equal([-10_000, 10_000], new[] { costs[2].LaunchSpread![0], costs[2].LaunchSpread![^1] });
        Assert.Equal([-5_000, 5_000], new[] { costs[1].LaunchSpread![0], costs[1].LaunchSpread![^1] });
        Assert.Equal([-10_000, 10_000], new[] { costs[2].WaitSpread![0], costs[2].WaitSpread![^1] });
        Assert.Throws<ArgumentException>(() => IdleBenchmark.Costs(times[1..], GpuSharing.Timeslice));
    }

    [Fact]
    public void Measure_EvictAndGemm_TheirKernelPreparedAndRunBeforeEachRequestNothingForTheOthers()
    {
        var request = ModelShapes.InferenceRequest("mlp", 1);
        foreach (var way in Enum.GetValues<IdleWay>())
        {
            var device = new Recorder();

            var times = IdleBenchmark.Measure(device, request, 0, way, 1e-6, minimumRequests: 3);

            Assert.Equal(3, times.LaunchNs.Count);
            var before = IdleBenchmark.Before(way);
            Assert.Equal(before is null ? request.Count : request.Count + 1, device.Prepared.Count);
            // Ten unmeasured requests, then each measured one, behind its own synchronised kernel.
            var expected = Enumerable.Repeat(Request(request.Count), 10)
                .Concat(Enumerable.Repeat((before is null ? "" : "K S ") + Request(request.Count), 3));
            Assert.Equal(string.Join(' ', expected), string.Join(' ', device.Calls.Select(c => c == before?.ToString() ? "K" : c)));
        }

        Assert.Equal(KernelSpec.Elementwise(1L << 26), IdleBenchmark.Before(IdleWay.Evict));
        Assert.Equal(KernelSpec.Gemm(4096, 4096, 4096), IdleBenchmark.Before(IdleWay.Gemm));
    }

    [Fact]
    public void Measure_EvictPasses_TheSameKernelThatManyTimesThenOneSynchronise_OnlyForEvict()
    {
        var request = ModelShapes.InferenceRequest("mlp", 1);
        var evict = new Recorder();
        var gemm = new Recorder();

        IdleBenchmark.Measure(evict, request, 0, IdleWay.Evict, 1e-6, minimumRequests: 2, evictElements: 1_000, evictPasses: 3);
        IdleBenchmark.Measure(gemm, request, 0, IdleWay.Gemm, 1e-6, minimumRequests: 2, evictPasses: 3);

        var kernel = KernelSpec.Elementwise(1_000).ToString();
        var measured = string.Join(' ', Enumerable.Repeat("K K K S " + Request(request.Count), 2));
        Assert.EndsWith(measured, string.Join(' ', evict.Calls.Select(c => c == kernel ? "K" : c)), StringComparison.Ordinal);
        var once = string.Join(' ', Enumerable.Repeat("K S " + Request(request.Count), 2));
        Assert.EndsWith(once, string.Join(' ', gemm.Calls.Select(c => c == IdleBenchmark.Before(IdleWay.Gemm)!.ToString() ? "K" : c)), StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => IdleBenchmark.Measure(evict, request, 0, IdleWay.Evict, 1e-6, evictPasses: 0));
    }

    [Fact]
    public void Costs_BaselineIsBackToBackNotARequestAfterOtherWork()
    {
        var times = new[]
        {
            new IdleGapTimes(0, IdleWay.Evict, [0, 0], [90_000, 90_000], [400_000, 400_000]),
            new IdleGapTimes(0, IdleWay.Sleep, [0, 0], [50_000, 60_000], [150_000, 170_000]),
            new IdleGapTimes(1_000_000, IdleWay.Sleep, [10_000, 30_000], [70_000, 90_000], [200_000, 220_000]),
        };

        var costs = IdleBenchmark.Costs(times, GpuSharing.Timeslice);

        Assert.Equal([(0L, 0L, 0L), (1_020_000, 25_000, 50_000)], costs.Select(c => (c.GapNs, c.LaunchNs, c.WaitNs)));
        Assert.Throws<ArgumentException>(() => IdleBenchmark.Costs([times[0], times[2]], GpuSharing.Timeslice));
    }

    private static string Request(int kernels) => string.Join(' ', Enumerable.Repeat("L", kernels)) + " S";

    [Fact]
    public void Measure_ALongRequest_IsTimedForAboutTheSecondsAsked_NotAsIfItTookASmallOnesTime()
    {
        // Each synchronise takes at least 2 ms here: 0.1 s holds at most 50 requests (fewer on a
        // busy host, never more). Sized for a 0.3 ms request, as before, it ran 333.
        var device = new Recorder { SynchronizeNs = 2_000_000 };

        var times = IdleBenchmark.Measure(device, ModelShapes.InferenceRequest("mlp", 1), 0, IdleWay.Spin, 0.1, minimumRequests: 1);

        Assert.InRange(times.LaunchNs.Count, 1, 50);
    }

    [Fact]
    public void Measure_ADeviceThatTimesBatches_KeepsEachTimedRequestsKernelsAndSpan_MinusOneForTheOthers()
    {
        // Every other synchronise times a batch (numbered on), the first of the measured requests not.
        var device = new BatchTimer();

        var times = IdleBenchmark.Measure(device, ModelShapes.InferenceRequest("mlp", 1), 0, IdleWay.Spin, 1e-6, minimumRequests: 4);

        Assert.Equal(4, times.LaunchNs.Count);
        var expected = Enumerable.Range(0, 4).Select(i => device.TimedAt.Contains(10 + i + 1) ? device.TimedAt.IndexOf(10 + i + 1) + 1 : -1).ToArray();
        Assert.Equal(expected.Select(n => n < 0 ? -1L : n * 1_000L), times.KernelNs);
        Assert.Equal(expected.Select(n => n < 0 ? -1L : (n * 1_000L) + 500), times.SpanNs);
        Assert.Contains(-1L, times.KernelNs!);
        Assert.Contains(times.KernelNs!, v => v > 0);

        // A device that times nothing: no columns.
        Assert.Null(IdleBenchmark.Measure(new Recorder(), ModelShapes.InferenceRequest("mlp", 1), 0, IdleWay.Spin, 1e-6, minimumRequests: 2).KernelNs);
    }

    // Times every other synchronised batch: batch n (from 1) took n us of kernels over a span 0.5 us longer.
    private sealed class BatchTimer : IComputeDevice, IBatchTiming
    {
        private int synchronizations;

        public List<int> TimedAt { get; } = [];

        public TimedBatch? LastTimedBatch { get; private set; }

        public DeviceId Id => DeviceId.Parse("cpu");

        public string Description => "batch timer";

        public SyncMode SyncMode => SyncMode.Spin;

        public long? KernelNs => null;

        public void Prepare(IEnumerable<KernelSpec> kernels)
        {
        }

        public void Release()
        {
        }

        public void Launch(in KernelSpec kernel)
        {
        }

        public void Synchronize()
        {
            // The 10 warm requests are synchronisations 1-10; the measured ones 11 on.
            if (++synchronizations % 2 == 0)
            {
                TimedAt.Add(synchronizations);
                LastTimedBatch = new TimedBatch(TimedAt.Count, 8, TimedAt.Count * 1_000L, (TimedAt.Count * 1_000L) + 500);
            }
        }

        public void Dispose()
        {
        }
    }

    // Records launches (L; a kernel other than the request's as its text) and synchronisations (S; each
    // taking SynchronizeNs).
    private sealed class Recorder : IComputeDevice
    {
        private readonly HashSet<KernelSpec> requestKernels = [.. ModelShapes.InferenceRequest("mlp", 1)];

        public List<string> Calls { get; } = [];

        public List<KernelSpec> Prepared { get; } = [];

        public DeviceId Id => DeviceId.Parse("cpu");

        public string Description => "recording";

        public SyncMode SyncMode => SyncMode.Spin;

        public long? KernelNs => null;

        public void Prepare(IEnumerable<KernelSpec> kernels) => Prepared.AddRange(kernels);

        public void Release()
        {
        }

        public void Launch(in KernelSpec kernel) => Calls.Add(requestKernels.Contains(kernel) ? "L" : kernel.ToString());

        public long SynchronizeNs { get; init; }

        public void Synchronize()
        {
            Calls.Add("S");
            MonotonicClock.SpinUntil(MonotonicClock.NowNs() + SynchronizeNs);
        }

        public void Dispose()
        {
        }
    }

    [Fact]
    public void IdleCurves_LinearFromNothingBackToBackFlatBeyondMpsFallingBackToTimeSliced()
    {
        var profile = DeviceProfile.Load("h100") with
        {
            IdleCosts = [new(1_000_000, 20_000, 60_000), new(10_000_000, 80_000, 100_000), new(1_000_000, 5_000, 7_000, GpuSharing.Mps)],
        };

        var launches = RoundTripCurve.IdleLaunches(profile, GpuSharing.Timeslice);
        var waits = RoundTripCurve.IdleWaits(profile, GpuSharing.Timeslice);
        Assert.Equal([0, 10_000, 20_000, 50_000, 80_000, 80_000], new long[] { 0, 500_000, 1_000_000, 5_500_000, 10_000_000, 500_000_000 }.Select(g => launches.Ns(g)));
        Assert.Equal([0, 30_000, 60_000, 80_000, 100_000], new long[] { 0, 500_000, 1_000_000, 5_500_000, 20_000_000 }.Select(g => waits.Ns(g)));
        Assert.Equal(2_500, RoundTripCurve.IdleLaunches(profile, GpuSharing.Mps).Ns(500_000));
        Assert.Equal(7_000, RoundTripCurve.IdleWaits(profile, GpuSharing.Mps).Ns(50_000_000));
        var timesliced = profile with { IdleCosts = [.. profile.IdleCosts.Where(c => c.Sharing == GpuSharing.Timeslice)] };
        Assert.Equal(30_000, RoundTripCurve.IdleWaits(timesliced, GpuSharing.Mps).Ns(500_000));
        Assert.Equal(0, RoundTripCurve.IdleWaits(DeviceProfile.Load("h100"), GpuSharing.Timeslice).Ns(50_000_000));
    }

    [Fact]
    public void IdleCurves_PointsWithSpreads_DrawAroundTheMeanAndNothingBackToBack()
    {
        // Spread tables rising evenly from -10 us to +10 us (their mean 0): at the point, the
        // slowest draw is the mean + 10 us; halfway to back to back, half of each; at 0 nothing.
        // A point the profile has at 0 is not read: back to back costs nothing by definition.
        var spread = RoundTripSpread.Probabilities.Select(p => (long)Math.Round((p * 20_000) - 10_000)).ToArray();
        var profile = DeviceProfile.Load("h100") with
        {
            IdleCosts = [new(0, 99_000, 99_000), new(1_000_000, 20_000, 60_000, GpuSharing.Timeslice, spread, spread)],
        };

        var waits = RoundTripCurve.IdleWaits(profile, GpuSharing.Timeslice);
        Assert.True(waits.Spreads);
        Assert.Equal(70_000, waits.Ns(1_000_000, 1));
        Assert.Equal(50_000, waits.Ns(1_000_000, 0));
        Assert.Equal(35_000, waits.Ns(500_000, 1));
        Assert.Equal(0, waits.Ns(0, 1));
        Assert.Equal(5_000, RoundTripCurve.IdleLaunches(profile, GpuSharing.Timeslice).Ns(500_000, 0));
        Assert.Equal(0, RoundTripCurve.IdleLaunches(profile, GpuSharing.Timeslice).Ns(0));
    }

    [Fact]
    public void DeviceProfile_WithIdleCosts_SurvivesItsJsonAndTheShippedH200HasBothSharings()
    {
        var spread = RoundTripSpread.Probabilities.Select(p => (long)(p * 1_000)).ToArray();
        var profile = DeviceProfile.Load("h100") with { IdleCosts = [new(1_000_000, 20_000, 60_000, GpuSharing.Mps, null, spread)] };
        var read = Assert.Single(DeviceProfile.FromJson(profile.ToJson(), "test").IdleCosts);
        Assert.Equal((1_000_000L, 20_000L, 60_000L, GpuSharing.Mps), (read.GapNs, read.LaunchNs, read.WaitNs, read.Sharing));
        Assert.Null(read.LaunchSpread);
        Assert.Equal(spread, read.WaitSpread);

        var h200 = DeviceProfile.Load("h200");
        foreach (var sharing in new[] { GpuSharing.Timeslice, GpuSharing.Mps })
        {
            var points = h200.IdleCosts.Where(c => c.Sharing == sharing && c.GapNs > 0).ToList();
            Assert.True(points.Count >= 4, $"{sharing}: {points.Count} points");
            Assert.True(RoundTripCurve.IdleLaunches(h200, sharing).Ns(20_000_000) > RoundTripCurve.IdleLaunches(h200, sharing).Ns(1_000_000), "launches cost more after longer sleeps");
            Assert.True(RoundTripCurve.IdleWaits(h200, sharing).Ns(20_000_000) > 0);
            Assert.True(RoundTripCurve.IdleWaits(h200, sharing).Spreads, "single waits spread as measured");
        }

        Assert.Contains("bench idle --out", h200.Source, StringComparison.Ordinal);
        Assert.Equal(h200.IdleCosts.Select(c => (c.GapNs, c.WaitNs)), DeviceProfile.Load("t4").IdleCosts.Select(c => (c.GapNs, c.WaitNs)));
    }

    [Theory]
    [InlineData(SyncMode.Block)]
    [InlineData(SyncMode.Spin)]
    public void VirtualGpu_OpenLoop_EachRequestPaysTheLaunchCostOfItsThreadsGapAndABlockingWaitOfTheGpusGap(SyncMode sync)
    {
        // Launch extras linear to 30 us at a 1 ms gap of the thread, wait extras linear to 60 us at
        // a 1 ms gap of the GPU, flat beyond; no round trips or wake-ups. By hand, request by
        // request (a Lindley recursion with the extras): it starts at max(arrival, last end); its
        // thread idled g = start - last end; its first kernel reaches the GPU L(g) + a launch
        // later, the GPU's gap counted from the last end (the thread's return: the last wait
        // extra is not counted again); it ends L(g) + S + W later, S being a request alone
        // without extras and W the wait extra of the GPU's gap for a blocking wait, none for a spinning one.
        var profile = DeviceProfile.Load("h100") with { LaunchCpuNs = Launch, MpsInterference = 0, RoundTrips = [], WakeUps = [] };
        var costly = profile with { IdleCosts = [new(1_000_000, 30_000, 60_000), new(100_000_000, 30_000, 60_000)] };
        var spec = new WorkloadSpec { Kind = WorkloadKind.Inference, Model = "mlp", BatchSize = 1, RatePerSecond = 2_000, Seed = 5 };
        var tenant = new VirtualTenant("svc", spec, sync, SimContext.Default);
        var alone = new VirtualGpu(profile, GpuSharing.Timeslice, [tenant]);
        alone.Measure(10_000_000, 100_000_000);
        var service = alone.Result(0).Latency.GetValueAtPercentile(0);
        static long Linear(long gapNs, long top) => (long)Math.Round(Math.Min(gapNs, 1_000_000) / 1e6 * top);

        var random = new Random(5);
        var arrival = 0L;
        var end = 0L;
        var expected = new List<long>();
        while (true)
        {
            arrival += WorkloadRunner.NextGapNs(random, 5e5);
            var start = Math.Max(arrival, end);
            var launch = Linear(start - end, 30_000);
            var gpuGap = start + launch + Launch - end;
            end = start + launch + service + (sync == SyncMode.Block ? Linear(gpuGap, 60_000) : 0);
            if (end > 510_000_000)
            {
                break;
            }

            if (end > 10_000_000)
            {
                expected.Add(end - arrival);
            }
        }

        var gpu = new VirtualGpu(costly, GpuSharing.Timeslice, [tenant]);
        gpu.Measure(10_000_000, 500_000_000);
        var result = gpu.Result(0);

        expected.Sort();
        Assert.InRange(result.Completed - expected.Count, -1, 1);
        Assert.Equal(expected[0], result.Latency.GetValueAtPercentile(0), expected[0] / 500.0);
        Assert.Equal(expected[expected.Count / 2], result.Latency.GetValueAtPercentile(50), expected[expected.Count / 2] / 100.0);
        Assert.Equal(expected[^1], result.Latency.GetMaxValue(), expected[^1] / 500.0);
        Assert.True(result.Latency.GetValueAtPercentile(50) > alone.Result(0).Latency.GetValueAtPercentile(50) + (sync == SyncMode.Block ? 15_000 : 3_000), "idling costs the requests");
    }

    [Fact]
    public void VirtualGpu_ClosedLoop_PaysNoLaunchCostAndOnlyTheWaitOfTheGpusShortGaps()
    {
        // A closed-loop thread never idles; the GPU's gap counts from the thread's return to the
        // next request's first kernel: a launch (not the wait extra before it, or each request's
        // extra would lengthen the next one's gap).
        var profile = DeviceProfile.Load("h100") with { LaunchCpuNs = Launch, RoundTrips = [], WakeUps = [] };
        var spec = new WorkloadSpec { Kind = WorkloadKind.Inference, Model = "mlp", BatchSize = 1, Seed = 5 };
        var tenant = new VirtualTenant("svc", spec, SyncMode.Block, SimContext.Default);
        var alone = new VirtualGpu(profile, GpuSharing.Timeslice, [tenant]);
        alone.Measure(1_000_000, 20_000_000);
        var costly = new VirtualGpu(profile with { IdleCosts = [new(1_000_000, 1_000_000, 1_000_000)] }, GpuSharing.Timeslice, [tenant]);
        costly.Measure(1_000_000, 20_000_000);

        // W(one launch) = 1 ms x 4 us / 1 ms = 4 us more per request; L(0) = 0.
        var extra = costly.Result(0).Latency.GetValueAtPercentile(50) - alone.Result(0).Latency.GetValueAtPercentile(50);
        Assert.InRange(extra, 3_900, 4_100);
    }

    [Fact]
    public void SimDevice_AfterSleeping_LaunchesAndABlockingWaitTakeTheProfilesExtras()
    {
        // Extras of 3 ms (launches) and 300 ms (waits) after 10 ms idle, linear below. Both are
        // spent to deadlines, so a loaded machine can only lengthen them: after 20 ms asleep the
        // first launch takes at least 3 ms and a blocking request at least 300 ms; back to back, at
        // least one of 20 launches is quick and one request far shorter; a spinning request pays
        // no wait extra (far below 150 ms, however busy the machine).
        var profile = DeviceProfile.Load("h100") with { LaunchCpuNs = 0, IdleCosts = [new(10_000_000, 3_000_000, 300_000_000), new(100_000_000, 3_000_000, 300_000_000)] };
        using var host = new SimGpuHost(7, 2, profile, TimeSpan.FromMicroseconds(50));
        foreach (var mode in new[] { SyncMode.Block, SyncMode.Spin })
        {
            var channel = host.Acquire();
            try
            {
                using var device = new SimDevice(new DeviceOptions { Id = new DeviceId(DeviceKind.Sim, 7), SyncMode = mode, SimChannel = channel });
                // Milliseconds of GPU time: done before the synchronise is called (a preempted
                // thread), a kernel would cost no wait at all, as on a real GPU.
                var kernel = KernelSpec.Gemm(2048, 2048, 2048);
                device.Prepare([kernel]);
                var backToBack = new List<(double Launch, double Request)>();
                for (var i = 0; i < 20; i++)
                {
                    backToBack.Add(Time(device, kernel));
                }

                Thread.Sleep(20);
                var (launch, request) = Time(device, kernel);
                Assert.True(backToBack.Min(t => t.Launch) < 2, $"{mode}: back-to-back launches took {backToBack.Min(t => t.Launch):0.000} ms at least");
                Assert.True(launch >= 2.9, $"{mode}: the launch after sleeping took {launch:0.000} ms");
                if (mode == SyncMode.Block)
                {
                    Assert.True(backToBack.Min(t => t.Request) < 100, $"back-to-back requests took {backToBack.Min(t => t.Request):0.00} ms at least");
                    Assert.True(request >= 300, $"a blocking request after sleeping took {request:0.00} ms");
                }
                else
                {
                    Assert.True(request < 150, $"a spinning wait pays no wait extra: {request:0.00} ms after sleeping");
                }
            }
            finally
            {
                host.Release(channel.Slot);
            }
        }
    }

    private static (double Launch, double Request) Time(SimDevice device, KernelSpec kernel)
    {
        var watch = Stopwatch.StartNew();
        device.Launch(kernel);
        var launch = watch.Elapsed.TotalMilliseconds;
        device.Synchronize();
        return (launch, watch.Elapsed.TotalMilliseconds);
    }
}
