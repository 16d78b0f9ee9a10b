using System.Text.Json;
using System.Text.Json.Serialization;
using Contention.Workloads.Workloads;

namespace Contention.Workloads.Worker;

/// <summary>Source-generated JSON for the worker protocol (one object per line).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingDefault, UseStringEnumConverter = true)]
[JsonSerializable(typeof(WorkerStart))]
[JsonSerializable(typeof(WorkerMessage))]
[JsonSerializable(typeof(WorkloadSpec))]
public sealed partial class WorkerJson : JsonSerializerContext
{
    /// <summary>Serialises a message as one line.</summary>
    public static string Line(WorkerMessage message) => JsonSerializer.Serialize(message, Default.WorkerMessage);
}
