using Contention.Workloads.Kernels;

namespace Contention.Workloads.Arbiter;

/// <summary>
/// A tenant's prediction of its kernels' GPU time, for its GPU's arbiter: per kernel and shape,
/// the calibrated cost model's time for it (<paramref name="prior"/>: the profile's measured time
/// where it has one, else its roofline), times a correction learnt online from the tenant's own
/// measured GPU time — after each synchronise, the GPU time its device measured for the kernels
/// since the last one over what the prior predicted for them, smoothed (the latest batch weighs
/// <see cref="Smoothing"/>). On a modelled GPU the prior is the model itself and the correction
/// stays 1; on a real GPU it takes up what the profile's GPU and this one differ by, and what the
/// tenant's neighbours stretch its kernels by.
/// </summary>
/// <param name="prior">A kernel's predicted time before any measurement, ns.</param>
public sealed class DurationPredictor(Func<KernelSpec, long> prior)
{
    /// <summary>The weight of the latest batch in the correction.</summary>
    public const double Smoothing = 0.2;

    /// <summary>The correction's range: a measurement further off than this is taken as this.</summary>
    public const double MaxCorrection = 20;

    private readonly Dictionary<KernelSpec, long> priors = [];
    private long batchPriorNs;
    private bool corrected;

    /// <summary>The measured-to-prior ratio the predictions are multiplied by.</summary>
    public double Correction { get; private set; } = 1;

    /// <summary>Batches measured so far.</summary>
    public long Observations { get; private set; }

    /// <summary>The prior of <paramref name="kernel"/>, ns (computed once per shape).</summary>
    public long Prior(in KernelSpec kernel)
    {
        if (!priors.TryGetValue(kernel, out var ns))
        {
            ns = Math.Max(1, prior(kernel));
            priors[kernel] = ns;
        }

        return ns;
    }

    /// <summary>The predicted GPU time of <paramref name="kernel"/>, ns; counted into the batch the next <see cref="Observe"/> measures.</summary>
    public long Predict(in KernelSpec kernel)
    {
        var ns = Prior(kernel);
        batchPriorNs += ns;
        return Math.Max(1, (long)Math.Round(ns * Correction));
    }

    /// <summary>
    /// The batch since the last call took <paramref name="measuredNs"/> of GPU time as measured
    /// (nothing is learnt from a batch without a measurement: 0 or less).
    /// </summary>
    public void Observe(long measuredNs)
    {
        var priorNs = batchPriorNs;
        batchPriorNs = 0;
        if (measuredNs <= 0 || priorNs <= 0)
        {
            return;
        }

        var ratio = Math.Clamp(measuredNs / (double)priorNs, 1 / MaxCorrection, MaxCorrection);
        Correction = corrected ? Correction + (Smoothing * (ratio - Correction)) : ratio;
        corrected = true;
        Observations++;
    }
}
