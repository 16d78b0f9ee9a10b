using System.Globalization;
using Contention.Grains;

namespace Contention.Client.Mixes;

/// <summary>
/// The mix schema in one place: every field a mix may have, where it may appear, what it accepts
/// and its default. <see cref="MixParser"/> and <see cref="SweepParser"/> read mixes by it, the
/// fuzz tests mutate mixes with it, and a test holds docs/mixes.md's field table to it.
/// </summary>
public static class MixSchema
{
    /// <summary>What <c>rate</c> takes: requests per second, or a share of the tenant's capacity.</summary>
    public const string RateExpected = "a number of at least 0, or a share of the tenant's capacity (its rate alone, closed loop) from 1% to 1000% such as 50%";

    /// <summary>What <c>gpu_timing</c> takes.</summary>
    public const string GpuTimingExpected = "off, or a share of the tenant's time in its batches from 0.01% to 100% such as 1%";

    /// <summary>The smallest share of its time a tenant's kernel timer may be given, percent.</summary>
    public const double MinGpuTimingPercent = 0.01;

    /// <summary>The largest share of its capacity a tenant may be offered, percent.</summary>
    public const double MaxCapacityPercent = 1000;

    // Declared first: the field lists below are built from them (static initialisers run in order).
    private static readonly TenantSpec Example = new() { Experiment = "", Name = "", Kind = TenantKind.Training, Device = "" };

    /// <summary>The longest a grid's steady phase may be given.</summary>
    public const double MaxPointLimitSeconds = 3600;

    /// <summary>Models a training or inference tenant may run.</summary>
    public static IReadOnlyList<string> Models { get; } = ["resnet50", "mlp"];

    /// <summary>Operations of a microbench tenant.</summary>
    public static IReadOnlyList<string> Ops { get; } = ["copy", "elementwise", "gemm", "reduce"];

    /// <summary>Buffer allocation: once (<c>reuse</c>) or around every operation (<c>step</c>).</summary>
    public static IReadOnlyList<string> Allocations { get; } = ["reuse", "step"];

    /// <summary>Units of a command tenant's latency.</summary>
    public static IReadOnlyList<string> LatencyUnits { get; } = ["ns", "us", "ms", "s"];

    /// <summary>Copies of one tenant.</summary>
    public static MixRange Replicas { get; } = new(0, 1000);

    /// <summary>Samples per step or request.</summary>
    public static MixRange Batch { get; } = new(1, 4096);

    /// <summary>Scheduling priority.</summary>
    public static MixRange Priority { get; } = new(-1000, 1000);

    /// <summary>Launches per repetition or grid point.</summary>
    public static MixRange Iterations { get; } = new(1, 100_000_000);

    /// <summary>Threads of the cpu device.</summary>
    public static MixRange CpuThreads { get; } = new(0, 4096);

    /// <summary>Warm-up operations of a grid's setup phase.</summary>
    public static MixRange WarmupOperations { get; } = new(1, 1000);

    /// <summary>Under MPS, the percentage of the GPU's multiprocessors a tenant's kernels may take.</summary>
    public static MixRange GpuShare { get; } = new(1, 100);

    /// <summary>Restarts after crashes.</summary>
    public static MixRange Restarts { get; } = new(0, 1000);

    /// <summary>Fields of the document itself.</summary>
    public static IReadOnlyList<MixField> Top { get; } =
    [
        new("name", MixScope.Top, "a non-empty string", "—"),
        new("description", MixScope.Top, "a non-empty string", "none"),
        new("warmup", MixScope.Top, Duration(false), "5s") { Sweepable = true },
        new("duration", MixScope.Top, Duration(true), "20s") { Sweepable = true },
        new("sharing", MixScope.Top, OneOf(Words.All<GpuSharing>()), GpuSharing.Timeslice.Word()) { Sweepable = true },
        new("arbiter", MixScope.Top, OneOf(Words.All<ArbiterMode>()), ArbiterMode.Off.Word()) { Sweepable = true },
        new("arbiter_outstanding", MixScope.Top, Duration(false, 1), "500us") { Sweepable = true },
        new("arbiter_quantum", MixScope.Top, Duration(true, 1), "200us") { Sweepable = true },
        new("defaults", MixScope.Top, "a mapping of tenant fields", "none"),
        new("tenants", MixScope.Top, "a non-empty list of tenants", "—"),
        new("sweep", MixScope.Top, "a mapping with axes and/or variants, and repetitions", "none"),
        new("quick", MixScope.Top, "a mapping merged into the mix by --quick", "none"),
    ];

    /// <summary>Fields of a tenant (and, unless <see cref="MixField.TenantOnly"/>, of <c>defaults</c>).</summary>
    public static IReadOnlyList<MixField> Tenant { get; } =
    [
        new("name", MixScope.Tenant, "a non-empty string, unique in the mix", "—") { TenantOnly = true, Sweepable = false },
        new("kind", MixScope.Tenant, OneOf(Words.All<TenantKind>()), "—"),
        new("device", MixScope.Tenant, "auto, cpu, cuda, cuda:N, sim or sim:N", "auto"),
        new("sync", MixScope.Tenant, OneOf(Words.All<SyncMode>()), SyncMode.Spin.Word()),
        new("pinned", MixScope.Tenant, "true or false", "true"),
        new("priority", MixScope.Tenant, Priority.Expected, "0"),
        new("isolation", MixScope.Tenant, OneOf(Words.All<Isolation>()), Isolation.Process.Word()),
        new("replicas", MixScope.Tenant, Replicas.Expected, "1") { TenantOnly = true },
        new("model", MixScope.Tenant, OneOf(Models), "resnet50"),
        new("batch", MixScope.Tenant, Batch.Expected, "32 (training), 1 (inference)"),
        new("rate", MixScope.Tenant, RateExpected, "0") { Kinds = [TenantKind.Inference, TenantKind.Replay] },
        new("op", MixScope.Tenant, OneOf(Ops), "elementwise") { Kinds = [TenantKind.Microbench] },
        new("bytes", MixScope.Tenant, Sizes, "1MiB") { Kinds = [TenantKind.Microbench] },
        new("iterations", MixScope.Tenant, Iterations.Expected, "100") { Kinds = [TenantKind.Microbench] },
        new("seed", MixScope.Tenant, "a whole number", "1"),
        new("cpu_threads", MixScope.Tenant, CpuThreads.Expected, "0"),
        new("gpu_share", MixScope.Tenant, GpuShare.Expected, "100"),
        new("gpu_timing", MixScope.Tenant, GpuTimingExpected, "0.1%"),
        new("restart", MixScope.Tenant, "a mapping with max and backoff", "none") { Sweepable = false },
        new("grid", MixScope.Tenant, "a mapping with op, bytes and iterations, or a list of them", "none") { TenantOnly = true, Sweepable = false, Kinds = [TenantKind.Microbench] },
        new("point_limit", MixScope.Tenant, Duration(true, MaxPointLimitSeconds), "1s") { Kinds = [TenantKind.Microbench] },
        new("warmup_ops", MixScope.Tenant, WarmupOperations.Expected, "2") { Kinds = [TenantKind.Microbench] },
        new("alloc", MixScope.Tenant, OneOf(Allocations), "reuse"),
        new("command", MixScope.Tenant, "the program and its arguments: a list of strings, or one string split at spaces", "—") { TenantOnly = true, Kinds = [TenantKind.Command] },
        new("latency", MixScope.Tenant, "a regular expression with a group holding the latency", Example.LatencyPattern) { TenantOnly = true, Kinds = [TenantKind.Command] },
        new("latency_unit", MixScope.Tenant, OneOf(LatencyUnits), "ms") { TenantOnly = true, Kinds = [TenantKind.Command] },
        new("trace", MixScope.Tenant, "a kernel trace file (contention record writes one; relative to the mix file's directory)", "—") { TenantOnly = true, Sweepable = false, Kinds = [TenantKind.Replay] },
        new("steps", MixScope.Tenant, "all, or a whole number of at least 1", "all") { TenantOnly = true, Sweepable = false, Kinds = [TenantKind.Replay] },
    ];

    /// <summary>Fields of a tenant's <c>restart</c>.</summary>
    public static IReadOnlyList<MixField> Restart { get; } =
    [
        new("max", MixScope.Restart, Restarts.Expected, "0"),
        new("backoff", MixScope.Restart, Duration(false), "1s"),
    ];

    /// <summary>Fields of one block of a microbench tenant's <c>grid</c>; each takes a value or a list.</summary>
    public static IReadOnlyList<MixField> Grid { get; } =
    [
        new("op", MixScope.Grid, OneOf(Ops), "—"),
        new("bytes", MixScope.Grid, Sizes, "—"),
        new("iterations", MixScope.Grid, Iterations.Expected, "—"),
    ];

    /// <summary>The smallest buffer a microbench tenant may touch.</summary>
    public const long MinimumBytes = 16;

    /// <summary>Every field a sweep axis (or variant) may set for every tenant or one (<c>TENANT.FIELD</c>).</summary>
    public static IReadOnlyList<string> TenantAxes { get; } = Tenant.Where(f => f.Sweepable).Select(f => f.Name).ToList();

    /// <summary>Top-level fields a sweep axis may set.</summary>
    public static IReadOnlyList<string> TopAxes { get; } = Top.Where(f => f.Sweepable).Select(f => f.Name).ToList();

    /// <summary>The names of <paramref name="fields"/>.</summary>
    public static string[] Names(IEnumerable<MixField> fields) => fields.Select(f => f.Name).ToArray();

    /// <summary>The field of a tenant named <paramref name="name"/>.</summary>
    public static MixField TenantField(string name) => Tenant.Single(f => f.Name == name);

    private const string Sizes = "a size of at least 16 bytes such as 4KiB, 64MiB or 1GiB";

    /// <summary>What a duration field accepts, as errors say it.</summary>
    public static string Duration(bool positive, double maxSeconds = double.PositiveInfinity) =>
        $"a duration{(positive ? " above zero" : "")}{(double.IsFinite(maxSeconds) ? string.Create(CultureInfo.InvariantCulture, $" up to {maxSeconds}s") : "")} such as 500ms, 3s or 2m";

    /// <summary>"one of: a, b, c".</summary>
    public static string OneOf(IEnumerable<string> words) => $"one of: {string.Join(", ", words)}";
}
