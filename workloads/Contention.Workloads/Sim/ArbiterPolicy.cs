namespace Contention.Workloads.Sim;

/// <summary>
/// What a per-GPU arbiter lets best-effort tenants do (issue 13): how much of their predicted GPU
/// time may be on the GPU at once, and how long a held launch takes to reach the GPU once let go.
/// </summary>
/// <param name="OutstandingNs">
/// The most predicted GPU time of best-effort kernels let onto the GPU and not yet completed, ns:
/// a latency-sensitive request that opens waits behind at most about this much (one kernel more
/// where a single kernel is longer: a kernel alone is always let go).
/// </param>
/// <param name="ReleaseNs">How long a held launch takes to reach the GPU once let go: the launching thread's launch, ns.</param>
/// <param name="QuantumNs">
/// Kernel slicing: a best-effort kernel predicted longer than this is launched as several, each
/// over a disjoint range of its blocks of about this length (<see cref="Slice"/>); 0: no slicing.
/// </param>
/// <param name="SliceOverheadNs">What each slice beyond the first adds on the GPU (a kernel's fixed cost), ns.</param>
/// <param name="HoldWhileOpen">
/// Whether best-effort kernels are held while a latency-sensitive request is open or its work is
/// on the GPU; false (the spatial arbiter): only the outstanding bound holds them, and their
/// slices run beside the request's kernels as the sharing mode runs them.
/// </param>
/// <param name="QueuePerTenant">
/// Whether each best-effort tenant's predicted work is a queue of its own, bounded alone (under
/// MPS their kernels run side by side: a request waits behind the longest, not their sum), as the
/// real arbiter's tenants count it with <c>CONTENTION_ARBITER_QUEUE=tenant</c>
/// (<see cref="Arbiter.ArbiterMember.RequestedQueuePerTenant"/>); else one queue for the GPU.
/// </param>
public sealed record ArbiterPolicy(long OutstandingNs = 500_000, long ReleaseNs = 0, long QuantumNs = 0, long SliceOverheadNs = 0, bool HoldWhileOpen = true, bool QueuePerTenant = false)
{
    /// <summary>Why this policy cannot run, or null.</summary>
    public string? Problem() =>
        OutstandingNs < 0 ? $"the arbiter's outstanding work must be 0 or more, not {OutstandingNs} ns"
        : ReleaseNs < 0 ? $"the arbiter's release time must be 0 or more, not {ReleaseNs} ns"
        : QuantumNs < 0 ? $"the arbiter's slice quantum must be 0 (no slicing) or more, not {QuantumNs} ns"
        : SliceOverheadNs < 0 ? $"the arbiter's slice overhead must be 0 or more, not {SliceOverheadNs} ns"
        : null;

    /// <summary>
    /// <paramref name="kernel"/> as the arbiter launches it for a best-effort tenant: as it is when
    /// slicing is off, it is a copy, or it is predicted within <see cref="QuantumNs"/>; else as
    /// min(⌈duration / quantum⌉, its parts) slices (<see cref="SimKernel.Parts"/>; blocks run to
    /// their end, so slices are whole waves of its blocks or, for a GEMM of fewer waves than
    /// slices, ranges of its depth, each as wide as the kernel and as much shorter), each the
    /// kernel's fixed cost (<see cref="SliceOverheadNs"/>, at most half the kernel) plus its share
    /// of the rest (<see cref="Part"/>).
    /// </summary>
    public SimKernel[] Slice(in SimKernel kernel)
    {
        var count = SliceCount(kernel);
        if (count <= 1)
        {
            return [kernel];
        }

        var slices = new SimKernel[count];
        for (var i = 0; i < count; i++)
        {
            slices[i] = Part(kernel, i, count, SliceOverheadNs);
        }

        return slices;
    }

    /// <summary>How many slices <see cref="Slice"/> launches <paramref name="kernel"/> as: min(⌈duration / quantum⌉, its parts), 1 when it is not sliced.</summary>
    public int SliceCount(in SimKernel kernel) => SliceCount(kernel, 1);

    /// <summary>
    /// How many slices a tenant whose predictions are corrected by <paramref name="correction"/>
    /// launches <paramref name="kernel"/> as, as the real arbiter's tenant counts them
    /// (<see cref="Arbiter.ArbitratedDevice.Parts"/>): min(⌈predicted / quantum⌉, its parts), the
    /// prediction its prior (<see cref="SimKernel.ArbiterPriorNs"/>) times the correction; 1 when
    /// it is not sliced.
    /// </summary>
    public int SliceCount(in SimKernel kernel, double correction)
    {
        var predicted = (long)Math.Round(kernel.ArbiterPriorNs * Math.Max(0, correction));
        return QuantumNs <= 0 || kernel.SmShare <= 0 || predicted <= QuantumNs
            ? 1
            : (int)Math.Max(1, Math.Min((predicted + QuantumNs - 1) / QuantumNs, MaxParts(kernel)));
    }

    /// <summary>The most parts <paramref name="kernel"/> is sliced into: <see cref="SimKernel.Parts"/> where it says, else its waves; at most 4,096.</summary>
    public static int MaxParts(in SimKernel kernel) => (int)Math.Min(kernel.Parts > 0 ? kernel.Parts : Waves(kernel), 4096);

    /// <summary>The waves of <paramref name="kernel"/>'s blocks (unbounded where it says none).</summary>
    public static long Waves(in SimKernel kernel) =>
        kernel.WaveNs <= 0 ? long.MaxValue : Math.Max(1, (long)Math.Round(kernel.DurationNs / (double)kernel.WaveNs));

    /// <summary>
    /// Slice <paramref name="part"/> of <paramref name="parts"/> of <paramref name="kernel"/>: its
    /// share of the waves (the first waves mod parts slices take one more), the kernel's fixed cost
    /// (<paramref name="overheadNs"/>, at most half the kernel) plus that share of the rest, and
    /// that share of its blocks; in more slices than waves (a GEMM's ranges of K,
    /// <see cref="Kernels.GemmSlicing"/>), an equal share each, every slice with all of the
    /// kernel's blocks, one wave of them (its last wave's room not known). A slice of waves keeps
    /// the kernel's occupancy, so its last wave is as full as the kernel's waves are on average
    /// (<see cref="SimKernel.TailShare"/>). Each slice's <see cref="SimKernel.PriorNs"/> is its equal
    /// share of the whole kernel's prior and the parts' cost (<paramref name="overheadNs"/> for
    /// each part beyond the first), as the real arbiter predicts them
    /// (<see cref="Arbiter.ArbitratedDevice.PartsPriorNs"/>): so the tenant's predictor learns its
    /// kernels' speed, not the slicing's cost, which would otherwise raise every prediction and,
    /// with it, the parts the next kernels are cut into. Its <see cref="SimKernel.WholeNs"/> is the
    /// whole kernel's time (its footprint).
    /// </summary>
    public static SimKernel Part(in SimKernel kernel, int part, int parts, long overheadNs)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(parts);
        ArgumentOutOfRangeException.ThrowIfNegative(part);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(part, parts);
        if (parts == 1)
        {
            return kernel;
        }

        var overhead = Math.Min(Math.Max(0, overheadNs), kernel.DurationNs / 2);
        var work = kernel.DurationNs - overhead;
        var waves = Waves(kernel);
        var whole = kernel.ArbiterPriorNs + ((parts - 1) * overhead);
        var prior = Math.Max(1, ((whole * (part + 1)) / parts) - ((whole * part) / parts));
        if (waves != long.MaxValue && parts > waves)
        {
            // Over its depth: every block in each slice, each block shallower.
            var deep = Math.Max(1, overhead + (long)Math.Round(work / (double)parts));
            return kernel with { DurationNs = deep, WaveNs = deep, PriorNs = prior, WholeNs = kernel.WholeKernelNs, BlocksPerMultiprocessor = 0 };
        }

        var total = waves == long.MaxValue ? parts : waves;
        var share = (total / parts) + (part < total % parts ? 1 : 0);
        var fraction = share / (double)total;
        return kernel with
        {
            DurationNs = Math.Max(1, overhead + (long)Math.Round(work * fraction)),
            Spread = kernel.Spread * fraction,
            PriorNs = prior,
            WholeNs = kernel.WholeKernelNs,
        };
    }
}
