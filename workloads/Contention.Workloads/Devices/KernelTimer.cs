using System.Diagnostics;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Contention.Workloads.Devices;

/// <summary>
/// A tenant's GPU time on a real GPU: CUDA events recorded on its stream just before and just
/// after each compute kernel, read after the stream is synchronised. Timing is not free: each
/// event costs host time on the tenant's thread (which the tracer would see) and, on the GPU, a
/// timestamp between the kernels that holds up the next one. On the H200 the events around the
/// eight kernels of a batch-1 MLP request made it 27-38 µs (15 %) slower in every sync mode
/// (`contention bench calibrate --round-trips-only`, rows "MLP b1 request" and "every kernel
/// timed"). Timed as often as their host time alone allowed (1 %, before), they cost that service
/// 3-5 % of its throughput on the same host and gave it a tail. So a batch of launches (up to the
/// next synchronisation) is timed only while the timer's cost so far (its host time plus
/// <see cref="EventGpuNs"/> per event) stays within <see cref="Budget"/> of the time the tenant
/// has spent in its batches (first launch to synchronise; an open-loop service's idle gaps earn
/// nothing, so a light service is not timed more often than a busy one); its first batch is never
/// timed (it runs cold). Each batch's kernels count at the mean time per kernel of the latest
/// <see cref="RecentBatches"/> timed batches. A batch-1 MLP request is timed about one in 250, too
/// few to move a 99th percentile; a ResNet-50 training step about one in 14, so a trainer's GPU
/// time over a few seconds rests on a few steps.
/// </summary>
/// <remarks>
/// What events measure: from the moment the stream reaches the event before a kernel to the
/// moment the kernel ends. That includes, on an idle GPU, the microseconds the launch takes to
/// reach the GPU, and under time-slicing any time the context is switched out in the middle of
/// the kernel; it excludes time spent queued behind the tenant's own earlier kernels.
/// </remarks>
internal sealed class KernelTimer : IDisposable
{
    /// <summary>The most the timer may cost, as a fraction of the tenant's wall time.</summary>
    public const double Budget = 0.001;

    /// <summary>What one event is charged for the GPU time it holds up the stream, ns: the low end of the H200's 27-38 µs for the 16 events of a batch-1 MLP request.</summary>
    public const long EventGpuNs = 1_750;

    /// <summary>How many of the latest timed batches the estimate's mean time per kernel comes from.</summary>
    public const int RecentBatches = 8;

    private readonly Accelerator accelerator;
    private readonly IntPtr streamPtr;
    private readonly double budget;
    private readonly List<(IntPtr Begin, IntPtr End)> events = [];
    private readonly (long Ns, int Kernels)[] recent = new (long, int)[RecentBatches];
    private long batchStartTicks;
    private long busyTicks;
    private int recorded;
    private bool batchOpen;
    private bool timing;
    private long costTicks;
    private long kernels;
    private long timedBatches;
    private long estimateNs;
    private double estimated;
    private long estimatedKernels;

    /// <summary>
    /// Times kernels on <paramref name="stream"/> (a CUDA stream) through a pool of events made
    /// once and recorded again and again, within <paramref name="budget"/> (at 1 or more, every kernel).
    /// </summary>
    public KernelTimer(Accelerator accelerator, CudaStream stream, double budget = Budget)
    {
        this.accelerator = accelerator;
        streamPtr = stream.StreamPtr;
        this.budget = budget;
    }

    /// <summary>The estimate of the kernels' GPU time up to the latest <see cref="Collect"/>, ns.</summary>
    public long EstimateNs => Volatile.Read(ref estimateNs);

    /// <summary>Call just before a compute kernel's launch; returns whether it is timed (pass it to <see cref="End"/>).</summary>
    public bool Begin()
    {
        kernels++;
        if (!batchOpen)
        {
            batchOpen = true;
            batchStartTicks = Stopwatch.GetTimestamp();

            // The first batch is never timed: it runs cold (the module's first launch, empty
            // caches), many times slower than the rest, and would stand for them all.
            timing = busyTicks > 0 && (budget >= 1 || costTicks <= budget * busyTicks);
        }

        if (!timing)
        {
            // An untimed launch reads no clock.
            return false;
        }

        if (recorded == events.Count)
        {
            // Made once for the tenant's life: not charged to the budget.
            events.Add((Create(), Create()));
        }

        var before = Stopwatch.GetTimestamp();
        Check(CudaAPI.CurrentAPI.RecordEvent(events[recorded].Begin, streamPtr));
        costTicks += Stopwatch.GetTimestamp() - before + EventTicks;
        return true;
    }

    /// <summary>Call just after the launch whose <see cref="Begin"/> returned <paramref name="timed"/>.</summary>
    public void End(bool timed)
    {
        if (!timed)
        {
            return;
        }

        var before = Stopwatch.GetTimestamp();
        Check(CudaAPI.CurrentAPI.RecordEvent(events[recorded++].End, streamPtr));
        costTicks += Stopwatch.GetTimestamp() - before + EventTicks;
    }

    /// <summary>Call once the stream is synchronised: reads the batch's events and updates the estimate.</summary>
    public void Collect()
    {
        if (batchOpen)
        {
            busyTicks += Stopwatch.GetTimestamp() - batchStartTicks;
        }

        batchOpen = false;
        if (recorded > 0)
        {
            var before = Stopwatch.GetTimestamp();
            long batchNs = 0;
            for (var i = 0; i < recorded; i++)
            {
                Check(CudaAPI.CurrentAPI.ElapsedTime(out var ms, events[i].Begin, events[i].End));
                batchNs += (long)Math.Round(ms * 1e6);
            }

            // The batch replaces the oldest of the recent timed batches.
            var slot = (int)(timedBatches++ % recent.Length);
            recent[slot] = (batchNs, recorded);
            recorded = 0;
            costTicks += Stopwatch.GetTimestamp() - before;
        }

        // Every batch adds its kernels at the mean time per kernel of the recent timed batches: the
        // estimate grows with the work done, batch by batch, never goes back (reports take
        // differences), and follows a change in the tenant's kernel times within a few samples.
        if (timedBatches > 0)
        {
            double ns = 0, count = 0;
            for (var i = 0; i < Math.Min(timedBatches, recent.Length); i++)
            {
                ns += recent[i].Ns;
                count += recent[i].Kernels;
            }

            estimated += (kernels - estimatedKernels) * (ns / count);
            estimatedKernels = kernels;
            Volatile.Write(ref estimateNs, (long)Math.Round(estimated));
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var (begin, end) in events)
        {
            _ = CudaAPI.CurrentAPI.DestroyEvent(begin);
            _ = CudaAPI.CurrentAPI.DestroyEvent(end);
        }

        events.Clear();
    }

    private IntPtr Create()
    {
        // Events belong to the context current when they are made: the accelerator's.
        using var binding = accelerator.BindScoped();
        Check(CudaAPI.CurrentAPI.CreateEvent(out var handle, CudaEventFlags.CU_EVENT_DEFAULT));
        return handle;
    }

    private static readonly long EventTicks = (long)Math.Round(EventGpuNs * Stopwatch.Frequency / 1e9);

    private static void Check(CudaError error)
    {
        if (error != CudaError.CUDA_SUCCESS)
        {
            throw new InvalidOperationException($"timing a kernel with CUDA events failed: {error}");
        }
    }
}
