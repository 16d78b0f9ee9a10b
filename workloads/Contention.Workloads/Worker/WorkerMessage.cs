namespace Contention.Workloads.Worker;

/// <summary>
/// A line a tenant worker writes on standard output. <see cref="Type"/> is <c>ready</c>,
/// <c>report</c>, <c>phase</c>, <c>finished</c>, <c>error</c> or <c>stopped</c>; a report carries
/// the operations completed and the latency histogram of the interval since the previous report;
/// a phase message the phase that just ended (the worker waits for <c>phase-ok INDEX</c>).
/// </summary>
public sealed record WorkerMessage
{
    /// <summary>ready, report, phase, finished, error or stopped.</summary>
    public required string Type { get; init; }

    /// <summary>The worker's process id (ready).</summary>
    public int Pid { get; init; }

    /// <summary>The worker thread's id, for per-thread tracing (ready).</summary>
    public int Tid { get; init; }

    /// <summary>The device's description (ready).</summary>
    public string? Description { get; init; }

    /// <summary>Operations completed in the interval (report).</summary>
    public long Completed { get; init; }

    /// <summary>The interval's latency histogram, compressed HdrHistogram encoding (report).</summary>
    public byte[]? Histogram { get; init; }

    /// <summary>GPU time of the tenant's kernels in the interval, ns; null where not measured (report).</summary>
    public long? KernelNs { get; init; }

    /// <summary>The tenant's kernels in the interval and the batches of them timed, where <see cref="KernelNs"/> is estimated from such a sample; null otherwise (report).</summary>
    public Devices.KernelSampling? Sampling { get; init; }

    /// <summary>Garbage collections of the worker process in the interval (report).</summary>
    public int Gcs { get; init; }

    /// <summary>How long they paused the worker, ns (report).</summary>
    public long GcPauseNs { get; init; }

    /// <summary>Launches the GPU's arbiter held in the interval (report).</summary>
    public long ArbiterHeld { get; init; }

    /// <summary>How long it held them, ns (report).</summary>
    public long ArbiterHeldNs { get; init; }

    /// <summary>The GPU time it was told to expect of the launches it let go in the interval (their predictions), ns (report).</summary>
    public long ArbiterPredictedNs { get; init; }

    /// <summary>A best-effort tenant behind an arbiter: its duration predictor's correction at the report; 0 otherwise (report).</summary>
    public double ArbiterCorrection { get; init; }

    /// <summary>The flush request this report answers; 0 for periodic reports.</summary>
    public long Flush { get; init; }

    /// <summary>The phase that just ended (phase).</summary>
    public PhaseSample? Phase { get; init; }

    /// <summary>What went wrong (error).</summary>
    public string? Message { get; init; }
}
