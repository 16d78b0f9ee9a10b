namespace Contention.Client.Validation;

/// <summary>
/// A quantity <c>contention validate</c> compares between the real and the modelled GPU, read
/// from a tenants.csv row of the measurement window. Counters are per second of the window, so
/// runs whose windows differ slightly compare.
/// </summary>
/// <param name="Name">Its name in the report (tidy: snake_case).</param>
/// <param name="Unit">Its unit.</param>
/// <param name="Latency">A latency percentile: not a tail where the tenant was overloaded; a mix
/// tenant's replicas together give the median of theirs (or, pooled, the percentile of all their
/// operations). Every other metric is a rate, and replicas together give the mean of theirs: the
/// tenant's total per replica, which one replica held back moves as it moves the total.</param>
/// <param name="Target">What the model must meet (null: reported, no target).</param>
/// <param name="Resolution">The step a run's measurement moves by, in the metric's unit times
/// seconds of the window (a CPU time's: /proc counts it in clock ticks of 10 ms); null where it is
/// fine-grained. A case whose runs are a few steps on both sides is not counted
/// (<c>Fidelity.ResolvedSteps</c>).</param>
public sealed record ValidationMetric(string Name, string Unit, bool Latency, FidelityTarget? Target, double? Resolution = null)
{
    /// <summary>/proc's clock tick, in which it counts a process's user and system CPU time (USER_HZ, 100 on Linux), s.</summary>
    public const double ClockTickSeconds = 0.01;

    /// <summary>Operations per second (steps, requests, repetitions).</summary>
    public static readonly ValidationMetric Throughput = new("throughput", "ops/s", false, new FidelityTarget(null, 0.05));

    /// <summary>Latency percentiles.</summary>
    public static readonly ValidationMetric P50 = new("p50", "ms", true, new FidelityTarget(0.25, 1.0));

    /// <inheritdoc cref="P50"/>
    public static readonly ValidationMetric P95 = new("p95", "ms", true, null);

    /// <inheritdoc cref="P50"/>
    public static readonly ValidationMetric P99 = new("p99", "ms", true, new FidelityTarget(0.25, 1.0));

    /// <summary>GPU time of the tenant's kernels per second of the window.</summary>
    public static readonly ValidationMetric Gpu = new("gpu_s_per_s", "s/s", false, null);

    /// <summary>CPU time of the worker per second of the window (from /proc: whole clock ticks).</summary>
    public static readonly ValidationMetric UserCpu = new("user_cpu_s_per_s", "s/s", false, null, ClockTickSeconds);

    /// <inheritdoc cref="UserCpu"/>
    public static readonly ValidationMetric SystemCpu = new("system_cpu_s_per_s", "s/s", false, null, ClockTickSeconds);

    /// <summary>Voluntary context switches of the worker per second of the window.</summary>
    public static readonly ValidationMetric VoluntarySwitches = new("voluntary_switches_per_s", "1/s", false, null);

    /// <summary>
    /// System calls of the worker's threads per second of the window in the sync-wait category
    /// (futex, poll, sched_yield, clock_nanosleep, ...: a GPU wait's calls in block and yield
    /// sync), where the side counted them: an eBPF-traced run (tenants.csv <c>ebpf</c>) or virtual
    /// time's OS model (<c>os_modelled</c>). No target.
    /// </summary>
    public static readonly ValidationMetric SyncWaitCalls = new("sync_wait_calls_per_s", "1/s", false, null);

    /// <summary>The same in the file-io category (read, write, ...: a blocking GPU wait's reads and writes of the driver's pipes).</summary>
    public static readonly ValidationMetric FileIoCalls = new("file_io_calls_per_s", "1/s", false, null);

    /// <summary>The same over every category.</summary>
    public static readonly ValidationMetric Syscalls = new("syscalls_per_s", "1/s", false, null);

    /// <summary>
    /// How evenly a tenant's replicas shared: the slowest replica's throughput over the mean of the
    /// replicas' (1: all alike), for a mix tenant of two or more replicas in a run. No target.
    /// </summary>
    public static readonly ValidationMetric SlowestReplica = new("slowest_replica", "of mean", false, null);

    /// <summary>Every metric, in report order.</summary>
    public static readonly IReadOnlyList<ValidationMetric> All = [Throughput, P50, P95, P99, Gpu, UserCpu, SystemCpu, VoluntarySwitches, SyncWaitCalls, FileIoCalls, Syscalls, SlowestReplica];
}

/// <summary>
/// What a metric's model/real ratios must meet: a median absolute error (|ratio - 1| over the
/// cases) at most <paramref name="MedianError"/>, and every case within a factor: for
/// <paramref name="WorstError"/> below 1 at most that far from 1 (0.05: within 5 %), from 1 on
/// within a factor of 1 + it (1: within 2x).
/// </summary>
public sealed record FidelityTarget(double? MedianError, double WorstError)
{
    /// <summary>Whether one case's ratio is within the per-case bound.</summary>
    /// <remarks>Bounds are inclusive, with a margin of 1e-9 for rounding (1.05 is within 5 %).</remarks>
    public bool CaseWithin(double ratio) => WorstError < 1
        ? Math.Abs(ratio - 1) <= WorstError + Tolerance
        : ratio <= 1 + WorstError + Tolerance && ratio >= (1 / (1 + WorstError)) - Tolerance;

    private const double Tolerance = 1e-9;

    /// <summary>The target in words.</summary>
    public string Describe() =>
        (MedianError is { } m ? FormattableString.Invariant($"median error <= {m * 100:0} %, ") : "")
        + (WorstError < 1 ? FormattableString.Invariant($"every case within {WorstError * 100:0} %") : FormattableString.Invariant($"every case within {1 + WorstError:0.#}x"));
}
