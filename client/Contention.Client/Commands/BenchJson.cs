using System.Text.Json.Serialization;

namespace Contention.Client.Commands;

/// <summary>What <c>bench launch --json</c> writes: both loops' samples (µs per launch + synchronise) and our median over the baseline's; with <c>--arbiter</c>, the arbiter's side's samples and its median over ours.</summary>
internal sealed record LaunchBenchResult(string Device, string Sync, int Elements, int Launches, IReadOnlyList<double> Baseline, IReadOnlyList<double> Ours, double Ratio, IReadOnlyList<double>? Arbitrated = null, double? ArbiterRatio = null)
{
    /// <summary>With the arbiter: the device behind it launched directly (ArbiterRatio is the arbiter's side over this).</summary>
    public IReadOnlyList<double>? Direct { get; init; }

    /// <summary>With the arbiter: its bookkeeping alone, without the GPU (µs per launch + synchronise).</summary>
    public IReadOnlyList<double>? Bookkeeping { get; init; }
}

/// <summary>What <c>bench tracer --json</c> writes: each side's ns per call over the repetitions.</summary>
internal sealed record TracerBenchResult(long Calls, long StraceCalls, string Kernel, IReadOnlyList<TracerBenchSeries> Series);

/// <summary>One side of the tracer benchmark.</summary>
internal sealed record TracerBenchSeries(string Side, IReadOnlyList<double> NsPerCall, double Median, double Ratio);

/// <summary>What <c>bench idle --json</c> writes: every request's wake-up, launch and wait times, ns, per gap.</summary>
internal sealed record IdleBenchResult(string Device, string Model, int Batch, bool MpsPipeSet, IReadOnlyList<Contention.Workloads.Benchmarks.IdleGapTimes> Gaps)
{
    /// <summary>The device's kind (cuda, sim); null in files written before it was saved.</summary>
    public string? Kind { get; init; }

    /// <summary>The sync mode the requests waited in; null in files written before it was saved.</summary>
    public string? Sync { get; init; }

    /// <summary>What each request began with (<c>bench idle --prefetch</c>: data, code); null: nothing.</summary>
    public string? Prefetch { get; init; }

    /// <summary>The MB <c>--idle evict</c> streamed before each request; null in files written before it was saved.</summary>
    public int? EvictMb { get; init; }

    /// <summary>How many times it went over them (<c>--evict-passes</c>); null in files written before it was saved.</summary>
    public int? EvictPasses { get; init; }
}

/// <summary>Source-generated JSON for the bench commands' files (camelCase, as before; no reflection).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true)]
[JsonSerializable(typeof(LaunchBenchResult))]
[JsonSerializable(typeof(TracerBenchResult))]
[JsonSerializable(typeof(IdleBenchResult))]
internal sealed partial class BenchJson : JsonSerializerContext;
