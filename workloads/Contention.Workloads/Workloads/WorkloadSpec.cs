namespace Contention.Workloads.Workloads;

/// <summary>The parameters of a tenant's workload, as a mix file gives them.</summary>
public sealed record WorkloadSpec
{
    /// <summary>Training, inference or microbench.</summary>
    public WorkloadKind Kind { get; init; } = WorkloadKind.Training;

    /// <summary>The model whose kernel shapes are used: <c>resnet50</c> or <c>mlp</c>.</summary>
    public string Model { get; init; } = "resnet50";

    /// <summary>Samples per training step or inference request.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Inference: mean request rate of the open-loop Poisson arrivals; 0 runs closed-loop.</summary>
    public double RatePerSecond { get; init; }

    /// <summary>Microbench: the operation.</summary>
    public MicrobenchOp Op { get; init; } = MicrobenchOp.Elementwise;

    /// <summary>Microbench: bytes the operation touches.</summary>
    public long Bytes { get; init; } = 1 << 20;

    /// <summary>Microbench: launches per repetition (one synchronise per repetition).</summary>
    public int Iterations { get; init; } = 100;

    /// <summary>
    /// Microbench: a grid walked once in this worker, each point a phase of its own; null runs
    /// <see cref="Op"/> over <see cref="Bytes"/> until stopped. The tenant finishes when the walk does.
    /// </summary>
    public IReadOnlyList<MicrobenchGroup>? Grid { get; init; }

    /// <summary>
    /// Grid: how long one steady phase may take; launches beyond what fits (judged from the
    /// warm-up operation's time) are left out and the phase records how many ran (at least one).
    /// </summary>
    public int PointLimitMs { get; init; } = 1000;

    /// <summary>Grid: operations (launch + synchronise) of each setup phase, after allocation.</summary>
    public int WarmupOperations { get; init; } = 2;

    /// <summary>
    /// Allocate the working buffers (device and host, page-locked when pinned) before every
    /// operation and free them after it, as a framework without a caching allocator does;
    /// false reuses one allocation.
    /// </summary>
    public bool AllocatePerOperation { get; init; }

    /// <summary>Replay: the kernel trace file (docs/replay.md).</summary>
    public string? Trace { get; init; }

    /// <summary>Replay: how many of the trace's recorded steps one cycle replays, from its first; 0: all.</summary>
    public int TraceSteps { get; init; }

    /// <summary>Seed of the arrival process, so runs are repeatable.</summary>
    public int Seed { get; init; } = 1;
}
