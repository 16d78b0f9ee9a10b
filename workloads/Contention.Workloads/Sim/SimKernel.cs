namespace Contention.Workloads.Sim;

/// <summary>One kernel as the modelled GPU's schedulers see it.</summary>
/// <param name="DurationNs">Its GPU time when it runs alone, ns (at least 1).</param>
/// <param name="SmShare">
/// The share of the GPU's multiprocessors its blocks fill when it runs alone (0 to 1): a batch-1
/// GEMM of a few blocks leaves most of them free for another context under spatial sharing. 0 for
/// a copy, which runs on a copy engine.
/// </param>
/// <param name="BandwidthShare">The share of the achievable memory bandwidth it uses, on average over its run alone (0 to 1; <see cref="CostModel.BandwidthShare"/>).</param>
/// <param name="WaveNs">
/// How long one wave of its blocks holds the multiprocessors when it runs alone, ns: its duration
/// over its waves (blocks over what the GPU holds at once). Blocks run to their end, so a kernel of
/// a higher-priority client gets multiprocessors a running kernel holds when that kernel's current
/// wave ends. 0: unknown, the kernel's end.
/// </param>
/// <param name="Spread">
/// Its blocks per multiprocessor when it runs alone and they spread evenly: blocks over
/// multiprocessors. A sparse kernel (at most 1: one block to a multiprocessor, most of each idle)
/// is slowed under MPS when other sparse kernels' blocks crowd onto its multiprocessors
/// (<see cref="DeviceProfile.MpsBlockContention"/>); 0: unknown, never crowded.
/// </param>
/// <param name="Parts">
/// The most parts kernel slicing launches it as (<see cref="Kernels.GemmSlicing"/> for a GEMM: its
/// waves, or its depth in ranges of K beyond them); 0: its waves.
/// </param>
/// <param name="PriorNs">
/// What a GPU arbiter's predictor takes this launch to last before its correction, ns: a slice's
/// share of its whole kernel's time, as the real arbiter predicts the parts it launches
/// (<see cref="Arbiter.ArbitratedDevice"/>: the whole kernel's prediction divided among them, the
/// cost each part adds not counted); 0: its duration.
/// </param>
/// <param name="WholeNs">
/// For a part of a sliced kernel, the whole kernel's time alone, ns: the part works on the whole
/// kernel's data, so that is its footprint in the GPU's memory (<see cref="ColdStart"/>); 0: its
/// duration.
/// </param>
/// <param name="BlocksPerMultiprocessor">
/// How many of its blocks one multiprocessor holds at once (its occupancy). With
/// <see cref="Spread"/> it gives the kernel's waves exactly (<see cref="ExactWaves"/>), and so how
/// full its last wave is (<see cref="TailShare"/>); 0: unknown, its last wave as full as the others.
/// </param>
public readonly record struct SimKernel(long DurationNs, double SmShare = 1, double BandwidthShare = 0, long WaveNs = 0, double Spread = 0, int Parts = 0, long PriorNs = 0, long WholeNs = 0, double BlocksPerMultiprocessor = 0)
{
    /// <summary>Its blocks over what the multiprocessors hold at once (<see cref="Spread"/> over <see cref="BlocksPerMultiprocessor"/>): 6.2 for 6 full waves and a fifth of one; 0 where either is unknown.</summary>
    public double ExactWaves => BlocksPerMultiprocessor > 0 && Spread > 0 ? Spread / BlocksPerMultiprocessor : 0;

    /// <summary>
    /// The share of the multiprocessors' room its last wave's blocks fill when it runs alone: the
    /// fraction of a wave past its last whole one (0.2 of 6.2 waves; a kernel of one wave or less,
    /// its <see cref="SmShare"/>; whole waves, 1); 0 where unknown.
    /// </summary>
    public double TailShare
    {
        get
        {
            var waves = Math.Round(ExactWaves, 9); // 6 whole waves, not 6 and a rounding error's
            return waves <= 0 ? 0 : Math.Min(1, waves - (Math.Ceiling(waves) - 1));
        }
    }

    /// <summary>Whether its last wave leaves room free that it otherwise fills: <see cref="TailShare"/> below <see cref="SmShare"/> (a kernel of more than one wave and a partial last one, or a slice of such a kernel, whose waves are the kernel's on average).</summary>
    public bool HasTail => WaveNs > 0 && SmShare > 0 && TailShare > 0 && TailShare < SmShare;

    /// <summary>Its last wave's blocks per multiprocessor, spread evenly (<see cref="TailShare"/> × <see cref="BlocksPerMultiprocessor"/>); its <see cref="Spread"/> where it has no tail.</summary>
    public double TailSpread => HasTail ? TailShare * BlocksPerMultiprocessor : Spread;

    /// <summary>The time alone of the kernel it belongs to: <see cref="WholeNs"/> where set, else <see cref="DurationNs"/>, ns.</summary>
    public long WholeKernelNs => WholeNs > 0 ? WholeNs : DurationNs;

    /// <summary>What an arbiter's predictor takes it to last before its correction: <see cref="PriorNs"/> where set, else <see cref="DurationNs"/>, ns.</summary>
    public long ArbiterPriorNs => PriorNs > 0 ? PriorNs : DurationNs;
}
