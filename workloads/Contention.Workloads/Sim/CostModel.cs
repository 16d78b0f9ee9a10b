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
        memoryBytesPerNs = profile.MemoryBytesPerSecond * profile.MemoryEfficiency / 1e9;
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
    /// multiprocessors its blocks fill (<see cref="KernelGeometry"/>) and the share of the
    /// achievable memory bandwidth it moves while it runs.
    /// </summary>
    public SimKernel Kernel(in KernelSpec kernel)
    {
        var duration = DurationNs(kernel);
        if (kernel.Kind is KernelKind.CopyToDevice or KernelKind.CopyToHost)
        {
            return new SimKernel(duration, 0, 0);
        }

        var busy = Math.Max(1, duration - profile.KernelOverheadNs);
        var geometry = KernelGeometry.For(kernel, profile);
        return new SimKernel(duration, geometry.SmShare(profile.Multiprocessors), Math.Min(1, kernel.Bytes / busy / memoryBytesPerNs), Math.Max(1, duration / geometry.Waves(profile.Multiprocessors)));
    }

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
            _ => throw new ArgumentOutOfRangeException(nameof(kernel), kernel.Kind, "unknown kernel kind"),
        };
        return Math.Max(1, (long)Math.Round(ns));
    }
}
