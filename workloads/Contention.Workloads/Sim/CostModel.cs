using System.Collections.Concurrent;
using Contention.Workloads.Kernels;

namespace Contention.Workloads.Sim;

/// <summary>
/// Kernel durations on a modelled GPU: the time measured on the profiled GPU for kernels the
/// profile has timed (<see cref="DeviceProfile.KernelTimes"/>: every kernel of the shipped models
/// at the calibrated batch sizes); otherwise a roofline (the slower of compute at the achievable
/// FLOP rate and memory traffic at the achievable bandwidth) plus a fixed per-kernel cost; copies
/// move bytes at the bus rate plus a fixed DMA cost. A GEMM's achievable FLOP rate is that of the
/// <see cref="NearestGemms"/> timed GEMMs nearest in shape where the profile has timed as many
/// (<see cref="GemmEfficiency"/>), else the profile's one <see cref="DeviceProfile.GemmEfficiency"/>.
/// An untimed element-wise kernel takes the time of the timed element-wise kernels of its size,
/// interpolated over their sizes (<see cref="TimedElementwiseNs"/>), where the profile has timed
/// two sizes or more.
/// </summary>
public sealed class CostModel
{
    private readonly DeviceProfile profile;
    private readonly double streamFlopsPerNs;
    private readonly double memoryBytesPerNs;
    private readonly double toDeviceBytesPerNs;
    private readonly double toHostBytesPerNs;
    private readonly Dictionary<KernelSpec, long> measured;
    private readonly (double Blocks, double Depth, double Size, double Efficiency)[] timedGemms;

    // The timed element-wise kernels by size: ascending element counts and the median time of the
    // kernels of each count (every operation moves 12 bytes an element).
    private readonly (long Elements, double Ns)[] timedElementwise;

    // Each untimed GEMM shape's efficiency, found once: the real-time model costs a kernel at each launch.
    private readonly ConcurrentDictionary<KernelSpec, double> gemmEfficiencies = new();

    /// <summary>How many timed GEMMs nearest in shape give an untimed GEMM its efficiency (the median of theirs).</summary>
    public const int NearestGemms = 5;

    /// <summary>A cost model for <paramref name="profile"/>.</summary>
    public CostModel(DeviceProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        this.profile = profile;
        streamFlopsPerNs = profile.Fp32FlopsPerSecond / 1e9;
        memoryBytesPerNs = profile.AchievableMemoryBytesPerNs();
        toDeviceBytesPerNs = profile.HostToDevicePinnedBytesPerSecond / 1e9;
        toHostBytesPerNs = profile.DeviceToHostPinnedBytesPerSecond / 1e9;
        measured = new Dictionary<KernelSpec, long>();
        foreach (var kernel in profile.KernelTimes)
        {
            measured[kernel.Spec] = Math.Max(1, kernel.Ns);
        }

        timedGemms = [.. profile.KernelTimes
            .Where(k => k.Spec.Kind == KernelKind.Gemm && k.Ns > profile.KernelOverheadNs && k.Spec.M > 0 && k.Spec.N > 0 && k.Spec.K > 0)
            .Select(k =>
            {
                var (blocks, depth, size) = GemmShape(k.Spec);
                return (blocks, depth, size, k.Spec.Flops / ((k.Ns - profile.KernelOverheadNs) * streamFlopsPerNs));
            })];
        timedElementwise = [.. profile.KernelTimes
            .Where(k => k.Kind == KernelKind.Elementwise && k.Elements > 0)
            .GroupBy(k => k.Elements)
            .Select(g => (g.Key, Numbers.Median(g.Select(k => (double)Math.Max(1, k.Ns)))))
            .OrderBy(t => t.Key)];
    }

    /// <summary>
    /// An untimed element-wise kernel's time from the profile's timed element-wise kernels (the
    /// shipped models' own, timed back to back on the same buffers, so with the L2 cache as a
    /// stream of them leaves it), interpolated between the two timed sizes around its element
    /// count on log scales; below the smallest timed size the smallest's time (the fixed cost
    /// alone: on the H200 1,000 to 4,000 elements take 2.1 µs), above the largest the largest's
    /// time per element. Null where the profile has timed fewer than two sizes (then the roofline).
    /// On the H200 the roofline takes the timed kernels 1.6-1.8x as long up to 28 MB (a kernel in
    /// a stream of them costs 2.1 µs fixed, not the 3.6 µs measured over a lone tiny kernel's
    /// launches, and at 19-28 MB they move 3.0-3.3 TB/s, from the L2 cache, against the memory's
    /// 2.75), 1.28x at 38 MB and 1.04x from 77 MB on: a 16 MiB kernel passed over again and again
    /// took 9.7 µs where the H200 takes about 6.
    /// </summary>
    public double? TimedElementwiseNs(long elements)
    {
        if (timedElementwise.Length < 2 || elements <= 0)
        {
            return null;
        }

        var first = timedElementwise[0];
        var last = timedElementwise[^1];
        if (elements <= first.Elements)
        {
            return first.Ns;
        }

        if (elements >= last.Elements)
        {
            return last.Ns * elements / last.Elements;
        }

        var above = 1;
        while (timedElementwise[above].Elements < elements)
        {
            above++;
        }

        var (lowElements, lowNs) = timedElementwise[above - 1];
        var (highElements, highNs) = timedElementwise[above];
        var at = Math.Log((double)elements / lowElements) / Math.Log((double)highElements / lowElements);
        return Math.Exp(Math.Log(lowNs) + (at * Math.Log(highNs / lowNs)));
    }

    /// <summary>
    /// The share of the FP32 peak an untimed GEMM of <paramref name="kernel"/>'s shape reaches: the
    /// median of the <see cref="NearestGemms"/> timed GEMMs nearest to it in blocks, depth of K a
    /// block and FLOPs (log scales, the FLOPs' at half weight), each timed GEMM's time less the
    /// fixed per-kernel cost; the profile's <see cref="DeviceProfile.GemmEfficiency"/> where it has
    /// fewer timed GEMMs. On the shipped h200's 280 timed GEMMs, each predicted from the others, the
    /// roofline's times are off by 1.09x (geometric mean; the one efficiency's 1.40x), and a 4096³
    /// GEMM, timed by the calibration at 13.72 TFLOP/s (10.0 ms), takes 10.5 ms from the table
    /// without it (the one efficiency's 12.5 ms).
    /// </summary>
    public double GemmEfficiency(in KernelSpec kernel) =>
        FromNearestGemms(kernel)
            ? gemmEfficiencies.GetOrAdd(kernel, static (spec, model) => model.NearestEfficiency(spec), this)
            : profile.GemmEfficiency;

    // Whether an untimed GEMM's efficiency is its nearest timed GEMMs' (a GEMM of a shape, enough timed ones).
    private bool FromNearestGemms(in KernelSpec kernel) =>
        timedGemms.Length >= NearestGemms && kernel.Kind == KernelKind.Gemm && kernel.M > 0 && kernel.N > 0 && kernel.K > 0;

    private double NearestEfficiency(KernelSpec kernel)
    {
        var (blocks, depth, size) = GemmShape(kernel);
        var nearest = timedGemms
            .OrderBy(t => Square(t.Blocks - blocks) + Square(t.Depth - depth) + Square(t.Size - size))
            .Take(NearestGemms)
            .Select(t => t.Efficiency)
            .Order()
            .ToArray();
        return Math.Clamp(nearest[NearestGemms / 2], 0.001, 1);

        static double Square(double x) => x * x;
    }

    // A GEMM's shape as its efficiency depends on it: its blocks (split K included), the depth of K
    // each block runs, and its FLOPs at half weight, all log2.
    private (double Blocks, double Depth, double Size) GemmShape(in KernelSpec kernel) =>
        (Math.Log2(GemmSlicing.Blocks(kernel.M, kernel.N, kernel.K, profile.Multiprocessors)),
         Math.Log2(Devices.CudaKernels.SliceK(kernel.M, kernel.N, kernel.K, profile.Multiprocessors)),
         Math.Log2(Math.Max(1, kernel.Flops)) / 2);

    /// <summary>Whether the profile holds a measured time for <paramref name="kernel"/> (else it is costed from the table's other kernels or by the roofline: <see cref="Basis"/>).</summary>
    public bool IsMeasured(in KernelSpec kernel) => measured.ContainsKey(kernel);

    /// <summary>
    /// Where <see cref="DurationNs"/> takes <paramref name="kernel"/>'s time from: <c>table</c> (timed),
    /// <c>nearest GEMMs</c>, <c>element-wise sizes</c> (interpolated), <c>recorded</c> (a replay's
    /// op) or <c>roofline</c>.
    /// </summary>
    public string Basis(in KernelSpec kernel) => kernel.Kind switch
    {
        _ when measured.ContainsKey(kernel) => "table",
        KernelKind.Replay => "recorded",
        KernelKind.Gemm when FromNearestGemms(kernel) => "nearest GEMMs",
        KernelKind.Elementwise when TimedElementwiseNs(kernel.Elements) is not null => "element-wise sizes",
        _ => "roofline",
    };

    /// <summary>The profile the model was built from.</summary>
    public DeviceProfile Profile => profile;

    /// <summary>
    /// One kernel as the modelled GPU's schedulers take it: its time alone, the share of the
    /// multiprocessors its blocks fill, its waves and how full its last one is
    /// (<see cref="KernelGeometry"/>) and the share of the achievable memory bandwidth it moves, on
    /// average over its run (<see cref="BandwidthShare"/>).
    /// </summary>
    public SimKernel Kernel(in KernelSpec kernel)
    {
        var duration = DurationNs(kernel);
        if (kernel.Kind is KernelKind.CopyToDevice or KernelKind.CopyToHost || (kernel.Kind == KernelKind.Replay && kernel.M == 0))
        {
            return new SimKernel(duration, 0, 0);
        }

        var geometry = KernelGeometry.For(kernel, profile);
        var parts = kernel.Kind == KernelKind.Gemm ? GemmSlicing.MaxParts(kernel.M, kernel.N, kernel.K, profile.Multiprocessors, profile.GemmBlocksPerMultiprocessor) : 0;
        return new SimKernel(duration, geometry.SmShare(profile.Multiprocessors), BandwidthShare(kernel.Bytes, duration), Math.Max(1, duration / geometry.Waves(profile.Multiprocessors)), (double)geometry.Blocks / profile.Multiprocessors, parts, BlocksPerMultiprocessor: geometry.BlocksPerMultiprocessor);
    }

    /// <summary>
    /// The share of the achievable memory bandwidth a kernel moving <paramref name="bytes"/> in
    /// <paramref name="durationNs"/> uses on average over its run: its traffic's time at that
    /// bandwidth over its duration (at most 1). Streaming kernels use about all of it; a kernel of a
    /// few kilobytes, whose microseconds are launch and latency, next to none, so it neither slows
    /// nor is slowed by another context's memory traffic. (Before 2026-12-01 the traffic's time
    /// was taken over the duration less the profile's fixed per-kernel cost, an upper bound larger
    /// than many measured kernels: those counted as saturating the bandwidth, and two 4 KiB probes
    /// under MPS ran each other at half speed.)
    /// </summary>
    public double BandwidthShare(double bytes, long durationNs) =>
        durationNs <= 0 ? 0 : Math.Min(1, bytes / memoryBytesPerNs / durationNs);

    /// <summary>
    /// GPU time of one kernel in nanoseconds (at least 1): measured on the profiled GPU where the
    /// profile has it; an element-wise kernel the profile has not timed from those it has
    /// (<see cref="TimedElementwiseNs"/>); else <see cref="RooflineNs"/>.
    /// </summary>
    public long DurationNs(in KernelSpec kernel)
    {
        if (measured.TryGetValue(kernel, out var ns))
        {
            return ns;
        }

        return kernel.Kind == KernelKind.Elementwise && TimedElementwiseNs(kernel.Elements) is { } timed
            ? Math.Max(1, (long)Math.Round(timed))
            : RooflineNs(kernel);
    }

    /// <summary>The roofline's time for one kernel, ns (at least 1).</summary>
    public long RooflineNs(in KernelSpec kernel)
    {
        double ns = kernel.Kind switch
        {
            KernelKind.Gemm => profile.KernelOverheadNs + Math.Max(kernel.Flops / (streamFlopsPerNs * GemmEfficiency(kernel)), kernel.Bytes / memoryBytesPerNs),
            KernelKind.Elementwise or KernelKind.Reduce => profile.KernelOverheadNs + Math.Max(kernel.Flops / streamFlopsPerNs, kernel.Bytes / memoryBytesPerNs),
            KernelKind.CopyToDevice => profile.CopyLatencyNs + (kernel.Bytes / toDeviceBytesPerNs),
            KernelKind.CopyToHost => profile.CopyLatencyNs + (kernel.Bytes / toHostBytesPerNs),
            KernelKind.Replay => kernel.ReplayNs,
            _ => throw new ArgumentOutOfRangeException(nameof(kernel), kernel.Kind, "unknown kernel kind"),
        };
        return Math.Max(1, (long)Math.Round(ns));
    }
}
