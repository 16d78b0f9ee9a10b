using System.Text.Json.Serialization;
using Contention.Grains;

namespace Contention.Client.Results;

/// <summary>
/// Source-generated JSON for what a run, a sweep and a trace write (indented camelCase, enums by
/// name; the vocabulary enums as their lower-case words): no reflection, so a trimmed build reads
/// and writes the same files.
/// </summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true,
    Converters = [typeof(WordConverters.Json<TenantKind>), typeof(WordConverters.Json<SyncMode>), typeof(WordConverters.Json<MeasurementPhase>), typeof(WordConverters.Json<GpuSharing>), typeof(WordConverters.Json<ArbiterMode>)])]
[JsonSerializable(typeof(ResultsDocument))]
[JsonSerializable(typeof(SweepManifest))]
[JsonSerializable(typeof(Dictionary<string, MeasuredCapacity>))]
internal sealed partial class ResultsJson : JsonSerializerContext;

/// <summary>Source-generated JSON for trace.json (indented camelCase).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(TraceDocument))]
internal sealed partial class TraceJson : JsonSerializerContext;
