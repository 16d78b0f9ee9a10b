using Contention.Workloads.Kernels;

namespace Contention.Workloads.Sim;

/// <summary>
/// Kernel durations on a modelled GPU: the time measured on the profiled GPU for kernels the
/// profile has timed (<see cref="DeviceProfile.KernelTimes"/>: every kernel of the shipped models
/// at the calibrated batch sizes); otherwise a roofline (the slower of compute at the achievable
/// FLOP rate and memory traffic at the achievable bandwidth) plus a fixed per-kernel cost; copies
/// move bytes at the bus rate plus a fixed DMA cost.
/// </summary>
public sealed class CostModel
{
    private readonly DeviceProfile profile;
    private readonly double gemmFlopsPerNs;
    private readonly double streamFlopsPerNs;
    private readonly double memoryBytesPerNs;
    private readonly double toDeviceBytesPerNs;
    private readonly double toHostBytesPerNs;
    private readonly Dictionary<KernelSpec, long> measured;

    /// <summary>A cost model for <paramref name="profile"/>.</summary>
    public CostModel(DeviceProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        this.profile = profile;
        gemmFlopsPerNs = profile.Fp32FlopsPerSecond * profile.GemmEfficiency / 1e9;
        streamFlopsPerNs = profile.Fp32FlopsPerSecond / 1e9;
        memoryBytesPerNs = profile.AchievableMemoryBytesPerNs();
        toDeviceBytesPerNs = profile.HostToDevicePinnedBytesPerSecond / 1e9;
        toHostBytesPerNs = profile.DeviceToHostPinnedBytesPerSecond / 1e9;
        measured = new Dictionary<KernelSpec, long>();
        foreach (var kernel in profile.KernelTimes)
        {
            measured[kernel.Spec] = Math.Max(1, kernel.Ns);
        }
    }

    /// <summary>Whether the profile holds a measured time for <paramref name="kernel"/> (else it is costed by the roofline).</summary>
    public bool IsMeasured(in KernelSpec kernel) => measured.ContainsKey(kernel);

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

    /// <summary>GPU time of one kernel in nanoseconds (at least 1): measured on the profiled GPU where the profile has it, else <see cref="RooflineNs"/>.</summary>
    public long DurationNs(in KernelSpec kernel) => measured.TryGetValue(kernel, out var ns) ? ns : RooflineNs(kernel);

    /// <summary>The roofline's time for one kernel, ns (at least 1).</summary>
    public long RooflineNs(in KernelSpec kernel)
    {
        double ns = kernel.Kind switch
        {
            KernelKind.Gemm => profile.KernelOverheadNs + Math.Max(kernel.Flops / gemmFlopsPerNs, kernel.Bytes / memoryBytesPerNs),
            KernelKind.Elementwise or KernelKind.Reduce => profile.KernelOverheadNs + Math.Max(kernel.Flops / streamFlopsPerNs, kernel.Bytes / memoryBytesPerNs),
            KernelKind.CopyToDevice => profile.CopyLatencyNs + (kernel.Bytes / toDeviceBytesPerNs),
            KernelKind.CopyToHost => profile.CopyLatencyNs + (kernel.Bytes / toHostBytesPerNs),
            KernelKind.Replay => kernel.ReplayNs,
            _ => throw new ArgumentOutOfRangeException(nameof(kernel), kernel.Kind, "unknown kernel kind"),
        };
        return Math.Max(1, (long)Math.Round(ns));
    }
}
