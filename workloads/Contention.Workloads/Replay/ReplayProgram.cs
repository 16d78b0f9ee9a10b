using Contention.Workloads.Kernels;

namespace Contention.Workloads.Replay;

/// <summary>
/// One step of a replay as a tenant's thread plays it: before launch k the thread is busy on the
/// host for <see cref="BeforeNs"/>[k] (the recorded gap: the job's Python and framework time, less
/// the profiler's own cost when the trace has a <see cref="TraceHostCorrection"/>);
/// the launch itself costs what a launch costs on the device (its own launch time stands for the
/// recorded call, which the profiler lengthened); after a launch with <see cref="SyncAfter"/> the
/// thread is busy <see cref="SyncGapNs"/> more, then waits for the GPU; after the last launch's
/// synchronise (there always is one: a replayed step ends when its GPU work is done) it is busy
/// <see cref="TailNs"/>.
/// </summary>
/// <param name="Kernels">Its kernels, copies and memsets (<see cref="KernelSpec.Replay"/>).</param>
/// <param name="BeforeNs">Host time before each launch, ns.</param>
/// <param name="SyncAfter">Whether the thread waits for the GPU after the launch (a recorded sync, a pageable copy, the step's end).</param>
/// <param name="SyncGapNs">Host time between such a launch and the wait, ns.</param>
/// <param name="TailNs">Host time after the step's last wait, ns.</param>
public sealed record ReplayStep(KernelSpec[] Kernels, long[] BeforeNs, bool[] SyncAfter, long[] SyncGapNs, long TailNs);

/// <summary>
/// A kernel trace made ready to replay: each recorded step (<see cref="Order"/>: in turn, each as
/// often as it was recorded) as a <see cref="ReplayStep"/>; each kernel a <see cref="KernelSpec.Replay"/>
/// of its recorded GPU time, blocks and threads, and the blocks the recording GPU held on one
/// multiprocessor (<see cref="TraceDevice.ResidentBlocks"/>); copies and memsets of their recorded
/// time without blocks (an engine's work). Streams are not kept apart: a replay issues every op on
/// its tenant's one stream in launch order.
/// </summary>
public sealed class ReplayProgram
{
    private ReplayProgram(KernelTrace trace, IReadOnlyList<ReplayStep> steps, int[] order)
    {
        Trace = trace;
        Steps = steps;
        Order = order;
    }

    /// <summary>The trace it came from.</summary>
    public KernelTrace Trace { get; }

    /// <summary>The trace's steps, each as played.</summary>
    public IReadOnlyList<ReplayStep> Steps { get; }

    /// <summary>One cycle of the replay: indices into <see cref="Steps"/>, each step as often as recorded, cut to the steps asked for.</summary>
    public IReadOnlyList<int> Order { get; }

    /// <summary>The step played as operation <paramref name="operation"/> (from 0): the cycle repeats.</summary>
    public ReplayStep StepOf(long operation) => Steps[Order[(int)(operation % Order.Count)]];

    /// <summary>Every distinct op of the program (what a device prepares for).</summary>
    public IReadOnlyList<KernelSpec> Kernels => [.. Steps.SelectMany(s => s.Kernels).Distinct()];

    /// <summary>Reads <paramref name="path"/> and makes it ready; <paramref name="steps"/> as <see cref="From"/>.</summary>
    /// <exception cref="KernelTraceException">The file is not a valid kernel trace, or has fewer steps than asked.</exception>
    public static ReplayProgram Load(string path, int steps = 0) => From(KernelTraceFile.Read(path), steps);

    /// <summary>The replay of <paramref name="trace"/>'s first <paramref name="steps"/> recorded steps (repeats counted; 0: all).</summary>
    /// <exception cref="KernelTraceException">It has fewer recorded steps than asked.</exception>
    public static ReplayProgram From(KernelTrace trace, int steps = 0)
    {
        ArgumentNullException.ThrowIfNull(trace);
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        if (steps > trace.RecordedSteps)
        {
            throw new KernelTraceException($"trace {trace.Name}: {steps} steps asked for, it recorded {trace.RecordedSteps}");
        }

        var order = trace.Steps.SelectMany((s, i) => Enumerable.Repeat(i, s.Repeat)).ToArray();
        return new ReplayProgram(trace, [.. trace.Steps.Select((s, i) => Step(trace, s, i))], steps == 0 ? order : order[..steps]);
    }

    private static ReplayStep Step(KernelTrace trace, TraceStep step, int index)
    {
        var kernels = new List<KernelSpec>();
        var before = new List<long>();
        var syncAfter = new List<bool>();
        var syncGap = new List<long>();
        long pending = 0;
        var usPerEvent = trace.UsPerEvent;
        foreach (var op in step.Ops)
        {
            var gap = Ns(TraceHostCorrection.Corrected(op.GapUs, op.Events, usPerEvent));
            if (op.Kind == TraceOpKind.Sync)
            {
                if (kernels.Count > 0 && !syncAfter[^1])
                {
                    // The wait after the last launch, once the host has spent the gaps since.
                    syncAfter[^1] = true;
                    syncGap[^1] = pending + gap;
                    pending = 0;
                }
                else
                {
                    // Nothing launched since the last wait: it returns at once, the host's time goes on.
                    pending += gap;
                }

                continue;
            }

            kernels.Add(Spec(trace, op));
            before.Add(pending + gap);
            pending = 0;

            // A pageable copy holds the host until it is done.
            syncAfter.Add(op.Kind == TraceOpKind.Copy && !op.Pinned);
            syncGap.Add(0);
        }

        if (kernels.Count == 0)
        {
            throw new KernelTraceException($"trace {trace.Name}: step {index} launches nothing to replay");
        }

        var tail = pending + Ns(TraceHostCorrection.Corrected(step.TailUs, step.TailEvents, usPerEvent));
        if (!syncAfter[^1])
        {
            // The step ends when its GPU work is done: the host's tail, then a wait.
            syncAfter[^1] = true;
            syncGap[^1] = tail;
            tail = 0;
        }

        return new ReplayStep([.. kernels], [.. before], [.. syncAfter], [.. syncGap], tail);
    }

    /// <summary>The replayed op of a recorded kernel, copy or memset.</summary>
    public static KernelSpec Spec(KernelTrace trace, TraceOp op)
    {
        ArgumentNullException.ThrowIfNull(trace);
        ArgumentNullException.ThrowIfNull(op);
        if (op.Kind != TraceOpKind.Kernel)
        {
            return KernelSpec.Replay(Ns(op.DurationUs), 0, 0, 1);
        }

        var kernel = trace.Kernels[op.Kernel];
        return KernelSpec.Replay(Ns(op.DurationUs), kernel.Blocks, kernel.Threads, trace.Device.ResidentBlocks(kernel));
    }

    private static long Ns(double us) => (long)Math.Round(us * 1000);
}
