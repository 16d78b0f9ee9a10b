using Contention.Workloads.Devices;
using Contention.Workloads.Kernels;
using Contention.Workloads.Sim;
using Contention.Workloads.Workloads;

namespace Contention.Workloads.Benchmarks;

/// <summary>How the requesting thread spends the gap before each request.</summary>
public enum IdleWay
{
    /// <summary>A timed sleep to the next request (as an open-loop tenant): the CPU the thread ran on may go idle.</summary>
    Sleep,

    /// <summary>A busy wait to the next request: the CPU stays busy, only the device idles.</summary>
    Spin,

    /// <summary>
    /// First an element-wise kernel on the device (by default over 2^26 floats: 768 MB through its
    /// memory, ~0.25 ms on an H200, after which its L2 holds none of the request's data, as after
    /// another tenant's kernels), synchronised, then a busy wait of the gap.
    /// </summary>
    Evict,

    /// <summary>
    /// First a 4,096³ GEMM on the device (~10 ms on an H200: every multiprocessor busy, the L2 cold,
    /// the power drawn as beside a trainer), synchronised, then a busy wait of the gap.
    /// </summary>
    Gemm,
}

/// <summary>The requests after one idle gap, ns each.</summary>
/// <param name="GapNs">The gap before each request (0: back to back, a closed loop).</param>
/// <param name="Way">How the thread spent the gap.</param>
/// <param name="WakeNs">How late each request started after its deadline (0 without a gap).</param>
/// <param name="LaunchNs">From the request's start until its last launch returned.</param>
/// <param name="WaitNs">From then until the synchronise returned.</param>
/// <param name="KernelNs">
/// Where the device timed each request's kernels on the GPU (a cuda device timing every batch,
/// <c>bench idle --time-kernels</c>): their times summed, one per request in order (-1 for a request
/// it did not time); null where it timed none.
/// </param>
/// <param name="SpanNs">The same requests' spans on the GPU, from the first kernel's start event to the last one's end (their kernels and the gaps between them), -1 where not timed; null with <paramref name="KernelNs"/>.</param>
public sealed record IdleGapTimes(long GapNs, IdleWay Way, IReadOnlyList<long> WakeNs, IReadOnlyList<long> LaunchNs, IReadOnlyList<long> WaitNs, IReadOnlyList<long>? KernelNs = null, IReadOnlyList<long>? SpanNs = null);

/// <summary>
/// What an idle gap costs the next request on a device: the request's launches and synchronise,
/// after gaps of growing length spent asleep or busy-waiting, split into the launches' host time
/// and the wait that follows. A closed-loop request (no gap) is the baseline: an open-loop
/// service that sleeps between requests can take longer on a real GPU than its closed-loop
/// round trip, and a model that knows only the latter misses the difference.
/// </summary>
public static class IdleBenchmark
{
    /// <summary>The gaps measured by default, ns: back to back, then a fast service's gaps to a slow one's.</summary>
    public static IReadOnlyList<long> Gaps { get; } = [0, 200_000, 1_000_000, 5_000_000, 20_000_000, 100_000_000];

    /// <summary>The floats <see cref="IdleWay.Evict"/>'s element-wise kernel goes over by default: 2^26 (768 MB read and written).</summary>
    public const long EvictElements = 1L << 26;

    /// <summary>
    /// The kernel a way runs on the device before its gap (<see cref="IdleWay.Evict"/>: element-wise
    /// over <paramref name="evictElements"/> floats, 12 bytes each through memory; <see cref="IdleWay.Gemm"/>); null for the others.
    /// </summary>
    public static KernelSpec? Before(IdleWay way, long evictElements = EvictElements) => way switch
    {
        IdleWay.Evict => KernelSpec.Elementwise(evictElements),
        IdleWay.Gemm => KernelSpec.Gemm(4096, 4096, 4096),
        _ => null,
    };

    /// <summary>
    /// Times requests of <paramref name="request"/> on <paramref name="device"/>, each after a gap of
    /// <paramref name="gapNs"/> spent <paramref name="way"/>, for about <paramref name="seconds"/>
    /// (at least <paramref name="minimumRequests"/>), on the calling thread, after a few unmeasured
    /// requests that load the kernels; <see cref="IdleWay.Evict"/> goes over <paramref name="evictElements"/> floats
    /// <paramref name="evictPasses"/> times (the same span, its bytes moved that many times: a small
    /// span passed over many times moves as many bytes as one large one, and leaves more of the L2 as it was).
    /// </summary>
    public static IdleGapTimes Measure(IComputeDevice device, IReadOnlyList<KernelSpec> request, long gapNs, IdleWay way, double seconds, int minimumRequests = 50, long evictElements = EvictElements, int evictPasses = 1, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentOutOfRangeException.ThrowIfNegative(gapNs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(seconds);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(evictPasses);
        NativeMethods.UsePreciseTimers();
        var before = Before(way, evictElements);
        device.Prepare(before is { } kernel ? [.. request, kernel] : request);
        var warm = new long[10];
        for (var i = 0; i < warm.Length; i++)
        {
            var from = MonotonicClock.NowNs();
            device.LaunchAndSynchronize(request);
            warm[i] = MonotonicClock.NowNs() - from;
        }

        // The loop is sized by the request's own time (the median of the last five unmeasured
        // ones: the first load the kernels), so a long request (ResNet-50 at batch 32, tens of ms)
        // lasts about the seconds asked too. The other work first: a 4,096³ GEMM ~10 ms on an
        // H200, an eviction 12 bytes a float at ~3 TB/s (1 ns per 250 floats).
        var requestNs = Math.Max(1_000, warm[5..].Order().ElementAt(2));
        var passes = way == IdleWay.Evict ? evictPasses : 1;
        var beforeNs = before is null ? 0 : way == IdleWay.Gemm ? 10_000_000 : passes * evictElements / 250;
        var count = (int)Math.Clamp(seconds * 1e9 / (gapNs + requestNs + beforeNs), minimumRequests, 20_000);
        var wake = new long[count];
        var launch = new long[count];
        var wait = new long[count];
        var timing = device as IBatchTiming;
        var kernelNs = new long[count];
        var spanNs = new long[count];
        var anyTimed = false;
        var done = 0;
        for (; done < count && !cancellation.IsCancellationRequested; done++)
        {
            if (before is { } first)
            {
                // The other work first, done before the gap begins: the request finds the device as it left it.
                for (var p = 0; p < passes; p++)
                {
                    device.Launch(first);
                }

                device.Synchronize();
            }

            var deadline = MonotonicClock.NowNs() + gapNs;
            if (gapNs > 0 && way == IdleWay.Sleep)
            {
                // As an open-loop tenant sleeps to its next arrival.
                PreciseSleep.Until(deadline, cancellation);
            }
            else if (gapNs > 0)
            {
                MonotonicClock.SpinUntil(deadline);
            }

            var started = MonotonicClock.NowNs();
            for (var k = 0; k < request.Count; k++)
            {
                device.Launch(request[k]);
            }

            var launched = MonotonicClock.NowNs();
            var timedBefore = timing?.LastTimedBatch?.Number ?? 0;
            device.Synchronize();
            var ended = MonotonicClock.NowNs();
            wake[done] = gapNs > 0 || before is not null ? started - deadline : 0;
            launch[done] = launched - started;
            wait[done] = ended - launched;
            (kernelNs[done], spanNs[done]) = timing?.LastTimedBatch is { } batch && batch.Number > timedBefore ? (batch.KernelNs, batch.SpanNs) : (-1, -1);
            anyTimed |= kernelNs[done] >= 0;
        }

        return new IdleGapTimes(gapNs, way, wake[..done], launch[..done], wait[..done], anyTimed ? kernelNs[..done] : null, anyTimed ? spanNs[..done] : null);
    }

    /// <summary>
    /// The idle costs of <paramref name="times"/> (requests with a blocking synchronise) for a profile:
    /// per gap spent asleep, at the thread's mean idle time (the gap and its wake-up's lateness, from
    /// the previous synchronise's return to the request's start), the mean launch and wait times
    /// less the back-to-back requests' (the gap-0 entry, which must be there), never below 0, with
    /// the spread of single requests' launch and wait times around their means at that gap; the
    /// baseline itself as a point at 0.
    /// </summary>
    /// <exception cref="ArgumentException">No back-to-back requests to measure against.</exception>
    public static IReadOnlyList<MeasuredIdleCost> Costs(IReadOnlyList<IdleGapTimes> times, GpuSharing sharing)
    {
        ArgumentNullException.ThrowIfNull(times);
        var baseline = times.FirstOrDefault(t => t.GapNs == 0 && Before(t.Way) is null && t.LaunchNs.Count > 0)
            ?? throw new ArgumentException("idle costs are measured against back-to-back requests: include a gap of 0", nameof(times));
        var launch = baseline.LaunchNs.Average(v => (double)v);
        var wait = baseline.WaitNs.Average(v => (double)v);
        var none = new long[RoundTripSpread.Probabilities.Count];
        return [new MeasuredIdleCost(0, 0, 0, sharing, none, none), .. times
            .Where(t => t.GapNs > 0 && t.Way == IdleWay.Sleep && t.LaunchNs.Count > 0)
            .OrderBy(t => t.GapNs)
            .Select(t => new MeasuredIdleCost(
                t.GapNs + (long)Math.Round(t.WakeNs.Average(v => (double)v)),
                (long)Math.Round(Math.Max(0, t.LaunchNs.Average(v => (double)v) - launch)),
                (long)Math.Round(Math.Max(0, t.WaitNs.Average(v => (double)v) - wait)),
                sharing,
                t.LaunchNs.Count > 1 ? RoundTripSpread.Measure(t.LaunchNs) : null,
                t.WaitNs.Count > 1 ? RoundTripSpread.Measure(t.WaitNs) : null))];
    }

    /// <summary>
    /// A kernel that brings <paramref name="request"/>'s data back into the GPU's caches at once: an
    /// element-wise kernel over its largest buffer's length (it reads the operands' buffers and
    /// writes the results', on every multiprocessor), where the request's own batch-1 kernels,
    /// on a few multiprocessors each, would fetch it from memory kernel by kernel.
    /// </summary>
    public static KernelSpec Prefetch(IReadOnlyList<KernelSpec> request)
    {
        var size = WorkspaceSize.For(request);
        return KernelSpec.Elementwise(Math.Max(size.A, Math.Max(size.B, size.C)), ElementwiseOp.Add);
    }

    /// <summary>
    /// Kernels that bring <paramref name="request"/>'s code back instead of its data: one launch of
    /// each kind of compute kernel it has, on one element (a 1x1x1 GEMM, an element-wise kernel
    /// and a reduction of one float): the same kernel functions, next to no data.
    /// </summary>
    public static IReadOnlyList<KernelSpec> WarmCode(IReadOnlyList<KernelSpec> request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return [.. request.Select(k => k.Kind).Distinct().Select(kind => kind switch
        {
            KernelKind.Gemm => KernelSpec.Gemm(1, 1, 1),
            KernelKind.Elementwise => KernelSpec.Elementwise(1, ElementwiseOp.Add),
            KernelKind.Reduce => KernelSpec.Reduce(1),
            _ => (KernelSpec?)null,
        }).OfType<KernelSpec>()];
    }
}
