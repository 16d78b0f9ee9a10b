namespace Contention.Workloads.Devices;

/// <summary>
/// What a device that times a sample of its kernels (a cuda device, <see cref="KernelTimer"/>) has
/// counted so far, or in an interval (the difference of two): every compute kernel launched and
/// synchronised, and of them the batches timed, their kernels and those kernels' measured time.
/// A window's GPU time is then its kernels at the mean time per kernel of its own timed batches
/// (<see cref="EstimateNs"/>): no sample from before the window stands for its kernels.
/// </summary>
/// <param name="Kernels">Compute kernels launched, counted once their batch is synchronised.</param>
/// <param name="TimedBatches">Batches (launches up to a synchronise) timed.</param>
/// <param name="TimedKernels">The kernels of those batches.</param>
/// <param name="TimedNs">Those kernels' times summed, each from its start event to its end event, ns.</param>
public readonly record struct KernelSampling(long Kernels, long TimedBatches, long TimedKernels, long TimedNs)
{
    /// <summary>The counts of an interval: <paramref name="later"/> less <paramref name="earlier"/>.</summary>
    public static KernelSampling operator -(KernelSampling later, KernelSampling earlier) =>
        new(later.Kernels - earlier.Kernels, later.TimedBatches - earlier.TimedBatches, later.TimedKernels - earlier.TimedKernels, later.TimedNs - earlier.TimedNs);

    /// <summary>The counts of two intervals together.</summary>
    public static KernelSampling operator +(KernelSampling a, KernelSampling b) =>
        new(a.Kernels + b.Kernels, a.TimedBatches + b.TimedBatches, a.TimedKernels + b.TimedKernels, a.TimedNs + b.TimedNs);

    /// <summary>The counts of two intervals together (the operator's name for languages without it).</summary>
    public static KernelSampling Add(KernelSampling a, KernelSampling b) => a + b;

    /// <summary>The counts of an interval (the operator's name for languages without it).</summary>
    public static KernelSampling Subtract(KernelSampling later, KernelSampling earlier) => later - earlier;

    /// <summary>
    /// The GPU time of <see cref="Kernels"/> at the mean time per kernel of the timed ones, ns:
    /// 0 without kernels, null where kernels ran but none was timed (not measured).
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public double? EstimateNs => Kernels == 0 ? 0 : TimedKernels > 0 ? (double)Kernels * TimedNs / TimedKernels : null;
}
