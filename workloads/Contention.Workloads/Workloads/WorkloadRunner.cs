using Contention.Workloads.Devices;
using Contention.Workloads.Kernels;
using Contention.Workloads.Metrics;
using Contention.Workloads.Sim;

namespace Contention.Workloads.Workloads;

/// <summary>
/// Runs a workload on a device on the calling thread until cancelled, recording one latency per
/// training step, inference request or microbenchmark repetition. Call <see cref="Run"/> from a
/// dedicated thread or process, never from a grain turn or the thread pool.
/// </summary>
public sealed class WorkloadRunner
{
    private readonly IComputeDevice device;
    private readonly WorkloadSpec spec;
    private readonly IReadOnlyList<KernelSpec> kernels;

    /// <summary>Prepares <paramref name="spec"/> on <paramref name="device"/> (allocates its buffers).</summary>
    public WorkloadRunner(IComputeDevice device, WorkloadSpec spec)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(spec);
        this.device = device;
        this.spec = spec;
        kernels = KernelsOf(spec);
        device.Prepare(kernels);
    }

    /// <summary>Latencies and the completion count.</summary>
    public LatencyRecorder Latency { get; } = new();

    /// <summary>The kernel sequence of one operation of <paramref name="spec"/>.</summary>
    public static IReadOnlyList<KernelSpec> KernelsOf(WorkloadSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.Kind switch
        {
            WorkloadKind.Training => ModelShapes.TrainingStep(spec.Model, spec.BatchSize),
            WorkloadKind.Inference => ModelShapes.InferenceRequest(spec.Model, spec.BatchSize),
            _ => Enumerable.Repeat(MicrobenchKernel(spec.Op, spec.Bytes), spec.Iterations).ToList(),
        };
    }

    /// <summary>The kernel a microbenchmark of <paramref name="op"/> over <paramref name="bytes"/> launches.</summary>
    public static KernelSpec MicrobenchKernel(MicrobenchOp op, long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bytes, 16);
        switch (op)
        {
            case MicrobenchOp.Gemm:
                var n = Math.Max(1, (int)Math.Sqrt(bytes / 12.0));
                return KernelSpec.Gemm(n, n, n);
            case MicrobenchOp.Elementwise:
                return KernelSpec.Elementwise(Math.Max(1, bytes / 12), ElementwiseOp.Add);
            case MicrobenchOp.Reduce:
                return KernelSpec.Reduce(bytes / 4);
            default:
                return KernelSpec.CopyToDevice(bytes / 4);
        }
    }

    /// <summary>Runs until <paramref name="cancellation"/> fires.</summary>
    public void Run(CancellationToken cancellation)
    {
        if (spec.Kind == WorkloadKind.Inference && spec.RatePerSecond > 0)
        {
            RunOpenLoop(cancellation);
            return;
        }

        while (!cancellation.IsCancellationRequested)
        {
            var start = MonotonicClock.NowNs();
            RunOnce();
            Latency.Record(MonotonicClock.NowNs() - start);
        }
    }

    private void RunOpenLoop(CancellationToken cancellation)
    {
        // Arrivals follow a Poisson process fixed in advance; a request's latency runs from its
        // arrival, so time spent queued behind a slow predecessor counts (no coordinated omission).
        var random = new Random(spec.Seed);
        var meanGapNs = 1e9 / spec.RatePerSecond;
        var arrival = MonotonicClock.NowNs();
        while (!cancellation.IsCancellationRequested)
        {
            arrival += (long)(-Math.Log(1.0 - random.NextDouble()) * meanGapNs);
            PreciseSleep.Until(arrival, cancellation);
            if (cancellation.IsCancellationRequested)
            {
                return;
            }

            RunOnce();
            Latency.Record(MonotonicClock.NowNs() - arrival);
        }
    }

    private void RunOnce()
    {
        for (var i = 0; i < kernels.Count; i++)
        {
            device.Launch(kernels[i]);
        }

        device.Synchronize();
    }
}
