namespace Contention.Grains;

/// <summary>One tenant of an experiment, as its mix declares it.</summary>
[GenerateSerializer, Immutable, Alias("contention.TenantSpec")]
public sealed record TenantSpec
{
    /// <summary>The experiment the tenant belongs to.</summary>
    [Id(0)] public required string Experiment { get; init; }

    /// <summary>The tenant's name, unique in its experiment.</summary>
    [Id(1)] public required string Name { get; init; }

    /// <summary>What it runs.</summary>
    [Id(2)] public required TenantKind Kind { get; init; }

    /// <summary>The device it needs: <c>cpu</c>, <c>cuda</c>, <c>cuda:N</c>, <c>sim</c> or <c>sim:N</c>.</summary>
    [Id(3)] public required string Device { get; init; }

    /// <summary>How its host thread waits for the device.</summary>
    [Id(4)] public SyncMode SyncMode { get; init; } = SyncMode.Spin;

    /// <summary>Page-locked host buffers.</summary>
    [Id(5)] public bool PinnedHost { get; init; } = true;

    /// <summary>Scheduling priority (higher first) recorded for the arbiter; 0 = best effort.</summary>
    [Id(6)] public int Priority { get; init; }

    /// <summary>A worker process of its own, or a dedicated thread in the silo.</summary>
    [Id(7)] public Isolation Isolation { get; init; } = Isolation.Process;

    /// <summary>Restarts allowed after a crash; 0 = report the failure and stay down.</summary>
    [Id(8)] public int MaxRestarts { get; init; }

    /// <summary>First restart delay; doubles per restart, with jitter.</summary>
    [Id(9)] public double RestartBackoffSeconds { get; init; } = 1;

    /// <summary>resnet50 or mlp.</summary>
    [Id(10)] public string Model { get; init; } = "resnet50";

    /// <summary>Samples per step or request.</summary>
    [Id(11)] public int BatchSize { get; init; } = 32;

    /// <summary>Inference: open-loop Poisson rate; 0 = closed loop.</summary>
    [Id(12)] public double RatePerSecond { get; init; }

    /// <summary>Microbench: copy, elementwise, gemm or reduce.</summary>
    [Id(13)] public string Op { get; init; } = "elementwise";

    /// <summary>Microbench: bytes per operation.</summary>
    [Id(14)] public long Bytes { get; init; } = 1 << 20;

    /// <summary>Microbench: launches per repetition.</summary>
    [Id(15)] public int Iterations { get; init; } = 100;

    /// <summary>Seed of the arrival process.</summary>
    [Id(16)] public int Seed { get; init; } = 1;

    /// <summary>Threads of the cpu device; 0 = one per core.</summary>
    [Id(17)] public int CpuThreads { get; init; }

    /// <summary>Microbench: a grid walked once in the worker, each point a phase; null runs Op over Bytes until stopped.</summary>
    [Id(18)] public IReadOnlyList<GridGroupSpec>? Grid { get; init; }

    /// <summary>Grid: how long one steady phase may take, in milliseconds.</summary>
    [Id(19)] public int PointLimitMs { get; init; } = 1000;

    /// <summary>Grid: warm-up operations of each setup phase.</summary>
    [Id(20)] public int WarmupOperations { get; init; } = 2;

    /// <summary>Allocate the working buffers for every operation (and free them after) instead of once: <c>step</c> or <c>reuse</c>.</summary>
    [Id(21)] public string Allocation { get; init; } = "reuse";

    /// <summary>Command tenants: the program and its arguments (<c>{batch}</c> is replaced by <see cref="BatchSize"/>).</summary>
    [Id(22)] public IReadOnlyList<string>? Command { get; init; }

    /// <summary>Command tenants: a line of the program's output that matches is one operation; group <c>value</c> (or the first group) its latency, group <c>unit</c> (ns, us, ms, s) its unit if present.</summary>
    [Id(23)] public string LatencyPattern { get; init; } = @"^(?:step|latency|request)\b\D*?(?<value>[0-9]+(?:\.[0-9]+)?)\s*(?<unit>ns|us|µs|ms|s)\b";

    /// <summary>Command tenants: the latency's unit when the pattern has no <c>unit</c> group.</summary>
    [Id(24)] public string LatencyUnit { get; init; } = "ms";

    /// <summary>How the tenants of its GPU share it (the experiment's, from the mix's <c>sharing</c>).</summary>
    [Id(25)] public GpuSharing Sharing { get; init; } = GpuSharing.Timeslice;

    /// <summary>Under MPS: the most of the GPU's multiprocessors its kernels may take, percent (MPS's active thread percentage).</summary>
    [Id(26)] public int GpuSharePercent { get; init; } = 100;

    /// <summary>
    /// Inference: when above 0, the open-loop rate as a share of the tenant's capacity (its
    /// requests per second alone, closed loop: <c>rate: 50%</c> is 0.5), which the client measures
    /// before the run and turns into <see cref="RatePerSecond"/>; 0: the rate is absolute.
    /// </summary>
    [Id(27)] public double RateOfCapacity { get; init; }

    /// <summary>What its GPU's arbiter does (the mix's <c>arbiter</c>; every tenant of a GPU the same).</summary>
    [Id(28)] public ArbiterMode Arbiter { get; init; }

    /// <summary>Under an arbiter: the most predicted GPU time of best-effort kernels on the GPU at once, ns (the mix's <c>arbiter_outstanding</c>).</summary>
    [Id(29)] public long ArbiterOutstandingNs { get; init; } = 500_000;

    /// <summary>Under a slicing arbiter: a best-effort kernel's slice length, ns (the mix's <c>arbiter_quantum</c>).</summary>
    [Id(30)] public long ArbiterQuantumNs { get; init; } = 200_000;

    /// <summary>Replay tenants: the kernel trace file (<c>contention record</c> writes one), an absolute path on the node.</summary>
    [Id(31)] public string? Trace { get; init; }

    /// <summary>Replay tenants: how many of the trace's recorded steps one cycle replays, from its first; 0: all.</summary>
    [Id(32)] public int TraceSteps { get; init; }

    /// <summary>
    /// On a real GPU: the most of the tenant's time in its batches (first launch to synchronise)
    /// the kernel timer may take to time a sample of them for its GPU time, as a fraction (the
    /// mix's <c>gpu_timing</c>): 0.001 (the default) times about one batch-1 MLP request in 250;
    /// 1 times and holds every batch; 0 times none (no GPU time). The modelled GPU ignores it.
    /// </summary>
    [Id(33)] public double GpuTimingBudget { get; init; } = 0.001;
}
