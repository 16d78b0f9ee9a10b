using System.Diagnostics;
using ILGPU.Runtime;

namespace Contention.Workloads.Devices;

/// <summary>
/// A tenant's GPU time on a real GPU: profiling markers (CUDA events) recorded on its stream just
/// before and just after each compute kernel, read after the stream is synchronised. Recording
/// and reading events costs host time on the tenant's own thread, which would distort what the
/// tracer measures of it, so a batch of launches (up to the next synchronisation) is timed only
/// while the timer's own host time stays within <see cref="Budget"/> of the tenant's wall time;
/// the total is then estimated from the timed kernels, scaled by the count of all kernels. A
/// training step of long kernels is timed every time; a light service's requests one in several.
/// </summary>
/// <remarks>
/// What events measure: from the moment the stream reaches the event before a kernel to the
/// moment the kernel ends. That includes, on an idle GPU, the microseconds the launch takes to
/// reach the GPU, and under time-slicing any time the context is switched out in the middle of
/// the kernel; it excludes time spent queued behind the tenant's own earlier kernels.
/// </remarks>
internal sealed class KernelTimer(AcceleratorStream stream)
{
    /// <summary>The most host time, as a fraction of the tenant's wall time, timing may take.</summary>
    public const double Budget = 0.01;

    private readonly List<(ProfilingMarker Begin, ProfilingMarker End)> marks = [];
    private readonly long startTicks = Stopwatch.GetTimestamp();
    private bool batchOpen;
    private bool timing;
    private long costTicks;
    private long kernels;
    private long timedKernels;
    private long timedNs;
    private long estimateNs;

    /// <summary>The estimate of the kernels' GPU time up to the latest <see cref="Collect"/>, ns.</summary>
    public long EstimateNs => Volatile.Read(ref estimateNs);

    /// <summary>Kernels counted so far, and of them timed.</summary>
    public (long Kernels, long Timed) Counts => (kernels, timedKernels);

    /// <summary>Call just before a compute kernel's launch; returns its start marker, or null when this batch is not timed.</summary>
    public ProfilingMarker? Begin()
    {
        kernels++;
        if (!batchOpen)
        {
            batchOpen = true;
            timing = costTicks <= Budget * (Stopwatch.GetTimestamp() - startTicks);
        }

        if (!timing)
        {
            // An untimed launch reads no clock.
            return null;
        }

        var now = Stopwatch.GetTimestamp();
        var begin = stream.AddProfilingMarker();
        costTicks += Stopwatch.GetTimestamp() - now;
        return begin;
    }

    /// <summary>Call just after the launch whose <see cref="Begin"/> returned <paramref name="begin"/>.</summary>
    public void End(ProfilingMarker? begin)
    {
        if (begin is null)
        {
            return;
        }

        var now = Stopwatch.GetTimestamp();
        marks.Add((begin, stream.AddProfilingMarker()));
        costTicks += Stopwatch.GetTimestamp() - now;
    }

    /// <summary>Call once the stream is synchronised: reads the batch's markers and updates the estimate.</summary>
    public void Collect()
    {
        batchOpen = false;
        if (marks.Count == 0)
        {
            return;
        }

        var now = Stopwatch.GetTimestamp();
        foreach (var (begin, end) in marks)
        {
            timedNs += (end - begin).Ticks * 100;
            begin.Dispose();
            end.Dispose();
        }

        timedKernels += marks.Count;
        marks.Clear();
        costTicks += Stopwatch.GetTimestamp() - now;
        Volatile.Write(ref estimateNs, (long)Math.Round(timedNs * ((double)kernels / timedKernels)));
    }
}
