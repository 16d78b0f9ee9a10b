namespace Contention.Workloads.Replay;

/// <summary>
/// A recorded job's GPU work, step by step: each kernel, copy and memset it launched (with the host
/// time before the launch and the launch call's own time), the synchronisations its host waited
/// in, and what each took on the recording GPU. Written and read by <see cref="KernelTraceFile"/>
/// (docs/replay.md); made by <c>contention record</c> from a PyTorch profiler trace
/// (<see cref="ChromeTraceImport"/>).
/// </summary>
/// <param name="Name">What was recorded (e.g. resnet50-train-b32).</param>
/// <param name="Kind">Training steps or inference requests: how a replay tenant runs it by default.</param>
/// <param name="Recorded">How, where and when it was recorded.</param>
/// <param name="Device">The recording GPU's limits, which give each kernel its footprint.</param>
/// <param name="Kernels">The distinct kernels (name, grid, block, registers, shared memory) that ops refer to by index.</param>
/// <param name="Steps">The steps in order; each replayed <see cref="TraceStep.Repeat"/> times.</param>
public sealed record KernelTrace(string Name, TraceKind Kind, TraceRecording Recorded, TraceDevice Device, IReadOnlyList<TraceKernel> Kernels, IReadOnlyList<TraceStep> Steps)
{
    /// <summary>The job's own step time, timed by the recording hook without the profiler; null when not known (a profiler trace made elsewhere).</summary>
    public TraceReference? Reference { get; init; }

    /// <summary>The profiler's own host cost taken out of the gaps when replayed; null: the gaps as profiled.</summary>
    public TraceHostCorrection? HostCorrection { get; init; }

    /// <summary>What <see cref="HostCorrection"/> takes from each profiler event in a gap, µs (0 without one).</summary>
    public double UsPerEvent => HostCorrection?.UsPerEvent ?? 0;

    /// <summary>The steps' recorded count, repeats counted.</summary>
    public int RecordedSteps => Steps.Sum(s => s.Repeat);

    /// <summary>The median recorded step's host time from its start to its end, µs (weighted by repeats).</summary>
    public double MedianStepUs
    {
        get
        {
            var weighted = Steps.SelectMany(s => Enumerable.Repeat(s.DurationUs, s.Repeat)).Order().ToList();
            return weighted.Count == 0 ? 0 : weighted[weighted.Count / 2];
        }
    }
}

/// <summary>The recorded job's own step time: what a replay of it alone is set against.</summary>
/// <param name="StepUs">The median host time of a step without the profiler, µs.</param>
/// <param name="Steps">The steps it is the median of.</param>
/// <param name="From">Which steps they were (after the recording, or the warm-up's last).</param>
/// <param name="ProfiledStepUs">The median step while profiled, µs (the profiler's own cost is the difference).</param>
public sealed record TraceReference(double StepUs, int Steps, string From, double ProfiledStepUs);

/// <summary>
/// The profiler's own cost on the host, taken out of a trace's gaps when it is replayed: each gap
/// less <see cref="UsPerEvent"/> for each event the profiler recorded in it (operators and runtime
/// calls: <see cref="TraceOp.Events"/>, <see cref="TraceStep.TailEvents"/>), never below 0.
/// </summary>
/// <param name="UsPerEvent">Host time the profiler added per recorded event, µs.</param>
/// <param name="From">How it was found (e.g. fitted so the replay alone in virtual time matches the job's own step).</param>
public sealed record TraceHostCorrection(double UsPerEvent, string From)
{
    /// <summary>A gap of <paramref name="gapUs"/> with <paramref name="events"/> profiler events in it, corrected by <paramref name="usPerEvent"/>, µs.</summary>
    public static double Corrected(double gapUs, int events, double usPerEvent) => Math.Max(0, gapUs - (events * usPerEvent));
}

/// <summary>What a trace's steps are.</summary>
public enum TraceKind
{
    /// <summary>Training steps (a step ends when an optimizer's step returns).</summary>
    Training,

    /// <summary>Inference requests (a step is one top-level forward pass).</summary>
    Inference,
}

/// <summary>How a trace was made.</summary>
/// <param name="Source">The recorder (e.g. "torch.profiler, torch 2.11.0+cu130").</param>
/// <param name="Command">The recorded command line, as given.</param>
/// <param name="Utc">When, ISO 8601.</param>
/// <param name="Host">The host's name.</param>
/// <param name="Tool">The Contention build that wrote the trace.</param>
public sealed record TraceRecording(string Source, string Command, string Utc, string Host, string Tool);

/// <summary>The recording GPU's limits (CUDA's device properties).</summary>
/// <param name="Name">Its name (e.g. NVIDIA H200).</param>
/// <param name="Multiprocessors">Streaming multiprocessors.</param>
/// <param name="MaxThreadsPerMultiprocessor">Threads resident on one multiprocessor at most.</param>
/// <param name="RegistersPerMultiprocessor">32-bit registers of one multiprocessor.</param>
/// <param name="SharedMemoryPerMultiprocessor">Shared memory of one multiprocessor, bytes.</param>
/// <param name="MaxBlocksPerMultiprocessor">Blocks resident on one multiprocessor at most (32 on compute capability 8.0 and 9.0).</param>
public sealed record TraceDevice(string Name, int Multiprocessors, int MaxThreadsPerMultiprocessor, int RegistersPerMultiprocessor, int SharedMemoryPerMultiprocessor, int MaxBlocksPerMultiprocessor)
{
    /// <summary>
    /// How many blocks of <paramref name="kernel"/> one multiprocessor holds at once, as CUDA's
    /// occupancy calculator counts them for compute capability 8.x-9.x: the least of the block
    /// limit, the warps (threads in whole warps), the registers (allocated 256 per warp at a time)
    /// and the shared memory (1 KiB reserved per block); at least 1.
    /// </summary>
    public int ResidentBlocks(TraceKernel kernel)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        var warps = Math.Max(1, (kernel.Threads + 31) / 32);
        var limit = MaxBlocksPerMultiprocessor;
        limit = Math.Min(limit, MaxThreadsPerMultiprocessor / 32 / warps);
        if (kernel.Registers > 0)
        {
            var perWarp = ((kernel.Registers * 32) + 255) / 256 * 256;
            limit = Math.Min(limit, RegistersPerMultiprocessor / (perWarp * warps));
        }

        if (kernel.SharedMemory > 0)
        {
            limit = Math.Min(limit, SharedMemoryPerMultiprocessor / (kernel.SharedMemory + 1024));
        }

        return Math.Max(1, limit);
    }
}

/// <summary>A kernel's launch configuration and resources, as recorded.</summary>
/// <param name="Name">Its (demangled) name.</param>
/// <param name="Grid">Blocks in x, y, z.</param>
/// <param name="Block">Threads per block in x, y, z.</param>
/// <param name="Registers">Registers per thread (0: unknown).</param>
/// <param name="SharedMemory">Shared memory per block, static and dynamic, bytes.</param>
public sealed record TraceKernel(string Name, Dim3 Grid, Dim3 Block, int Registers, int SharedMemory)
{
    /// <summary>Blocks launched.</summary>
    public long Blocks => (long)Grid.X * Grid.Y * Grid.Z;

    /// <summary>Threads per block.</summary>
    public int Threads => Block.X * Block.Y * Block.Z;
}

/// <summary>A launch dimension.</summary>
public readonly record struct Dim3(int X, int Y, int Z);

/// <summary>One recorded step.</summary>
/// <param name="Repeat">How many recorded steps it stands for (steps with the same ops folded into one: each time the median of theirs).</param>
/// <param name="DurationUs">Its host time from its start to the next step's start, µs.</param>
/// <param name="TailUs">Host time after its last op's call returned until its end, µs.</param>
/// <param name="Ops">Its launches and synchronisations in the order the host made them.</param>
/// <param name="TailEvents">Events the profiler recorded in the tail (operators and runtime calls).</param>
public sealed record TraceStep(int Repeat, double DurationUs, double TailUs, IReadOnlyList<TraceOp> Ops, int TailEvents = 0)
{
    /// <summary>GPU time of its kernels, copies and memsets, µs.</summary>
    public double GpuUs => Ops.Where(o => o.Kind != TraceOpKind.Sync).Sum(o => o.DurationUs);

    /// <summary>Host time between its ops (the gaps and the tail), µs, as profiled.</summary>
    public double HostUs => HostUsCorrected(0);

    /// <summary>Host time between its ops with <paramref name="usPerEvent"/> taken for each profiler event (<see cref="TraceHostCorrection"/>), µs.</summary>
    public double HostUsCorrected(double usPerEvent) =>
        Ops.Sum(o => TraceHostCorrection.Corrected(o.GapUs, o.Events, usPerEvent)) + TraceHostCorrection.Corrected(TailUs, TailEvents, usPerEvent);

    /// <summary>Events the profiler recorded between its ops (gaps and tail).</summary>
    public int Events => Ops.Sum(o => o.Events) + TailEvents;
}

/// <summary>What an op does.</summary>
public enum TraceOpKind
{
    /// <summary>A kernel launch.</summary>
    Kernel,

    /// <summary>A memory copy (host to device, device to host or device to device).</summary>
    Copy,

    /// <summary>A memset.</summary>
    Memset,

    /// <summary>The host waited for the GPU (a device, stream or event synchronise, or a synchronous copy's wait).</summary>
    Sync,
}

/// <summary>A copy's direction.</summary>
public enum CopyDirection
{
    /// <summary>Not a copy.</summary>
    None,

    /// <summary>Host to device.</summary>
    HostToDevice,

    /// <summary>Device to host.</summary>
    DeviceToHost,

    /// <summary>Device to device.</summary>
    DeviceToDevice,
}

/// <summary>One launch or synchronisation of a step.</summary>
/// <param name="Kind">What it is.</param>
/// <param name="Kernel">A kernel op's index into <see cref="KernelTrace.Kernels"/>; -1 otherwise.</param>
/// <param name="Stream">The stream it went to (a sync: the stream waited for, -1 for the whole device).</param>
/// <param name="GapUs">Host time from the previous op's call returning (or the step's start) to this op's call, µs.</param>
/// <param name="CallUs">The call's own host time, µs (a sync: how long the host waited).</param>
/// <param name="StartUs">When it began on the GPU, µs from the step's start (a sync: when the wait began).</param>
/// <param name="DurationUs">Its GPU time, µs (a sync: 0).</param>
/// <param name="Bytes">A copy's or memset's bytes.</param>
/// <param name="Direction">A copy's direction.</param>
/// <param name="Pinned">A copy's host memory was page-locked (a pageable copy holds the host until done).</param>
/// <param name="Events">Events the profiler recorded in the gap (operators and runtime calls, this op's call among them): what its own cost there scales with.</param>
public sealed record TraceOp(TraceOpKind Kind, int Kernel, int Stream, double GapUs, double CallUs, double StartUs, double DurationUs, long Bytes = 0, CopyDirection Direction = CopyDirection.None, bool Pinned = true, int Events = 0);
