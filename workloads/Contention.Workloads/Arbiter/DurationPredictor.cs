using Contention.Workloads.Kernels;

namespace Contention.Workloads.Arbiter;

/// <summary>
/// A tenant's prediction of its kernels' GPU time, for its GPU's arbiter: per kernel and shape,
/// the calibrated cost model's time for it (<paramref name="prior"/>: the profile's measured time
/// where it has one, else its roofline), times a correction learnt online from the tenant's own
/// measured GPU time — after each synchronise, the GPU time its device measured for the kernels
/// since the last one over what the prior predicted for them; the correction is the least such
/// ratio of the latest <see cref="Window"/> batches. Sharing only stretches a kernel's measured
/// time (time-sliced out, or short of multiprocessors under MPS), so the least stretched recent
/// batch is the best estimate of the tenant's time alone — what the arbiter's outstanding bound
/// counts; a mean would learn its neighbours' interference and hold the tenant the longer for it.
/// On a modelled GPU the prior is the model itself; on a real GPU the correction takes up what the
/// profile's GPU and this one differ by.
/// </summary>
/// <param name="prior">A kernel's predicted time before any measurement, ns.</param>
public sealed class DurationPredictor(Func<KernelSpec, long> prior)
{
    /// <summary>How many of the latest measured batches the correction is the least ratio of.</summary>
    public const int Window = 16;

    /// <summary>The correction's range: a measurement further off than this is taken as this.</summary>
    public const double MaxCorrection = 20;

    private readonly Dictionary<KernelSpec, long> priors = [];
    private readonly double[] ratios = new double[Window];
    private long batchPriorNs;

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
    public long Predict(in KernelSpec kernel) => PredictFrom(Prior(kernel));

    /// <summary>
    /// The predicted GPU time of a kernel whose prior is <paramref name="priorNs"/> (the modelled
    /// arbiter knows its kernels' modelled times), ns; counted into the batch the next <see cref="Observe"/> measures.
    /// </summary>
    public long PredictFrom(long priorNs)
    {
        var ns = Math.Max(1, priorNs);
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

        ratios[Observations % Window] = Math.Clamp(measuredNs / (double)priorNs, 1 / MaxCorrection, MaxCorrection);
        Observations++;
        var least = double.MaxValue;
        foreach (var ratio in ratios.AsSpan(0, (int)Math.Min(Observations, Window)))
        {
            least = Math.Min(least, ratio);
        }

        Correction = least;
    }
}
