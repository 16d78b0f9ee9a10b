using System.Text.Json.Serialization;

namespace Contention.Client.Results;

/// <summary>
/// Source-generated JSON for what a run, a sweep and a trace write (indented camelCase, enums by
/// name): no reflection, so a trimmed build reads and writes the same files.
/// </summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true)]
[JsonSerializable(typeof(ResultsDocument))]
[JsonSerializable(typeof(SweepManifest))]
internal sealed partial class ResultsJson : JsonSerializerContext;

/// <summary>Source-generated JSON for trace.json (indented camelCase).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(TraceDocument))]
internal sealed partial class TraceJson : JsonSerializerContext;
