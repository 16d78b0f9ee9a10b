using System.Text.Json.Serialization;

namespace Contention.Client.Commands;

/// <summary>What <c>bench launch --json</c> writes: both loops' samples (µs per launch + synchronise) and our median over the baseline's.</summary>
internal sealed record LaunchBenchResult(string Device, string Sync, int Elements, int Launches, IReadOnlyList<double> Baseline, IReadOnlyList<double> Ours, double Ratio);

/// <summary>What <c>bench tracer --json</c> writes: each side's ns per call over the repetitions.</summary>
internal sealed record TracerBenchResult(long Calls, long StraceCalls, string Kernel, IReadOnlyList<TracerBenchSeries> Series);

/// <summary>One side of the tracer benchmark.</summary>
internal sealed record TracerBenchSeries(string Side, IReadOnlyList<double> NsPerCall, double Median, double Ratio);

/// <summary>Source-generated JSON for the bench commands' files (camelCase, as before; no reflection).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(LaunchBenchResult))]
[JsonSerializable(typeof(TracerBenchResult))]
internal sealed partial class BenchJson : JsonSerializerContext;
