using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Contention.Workloads.Sim;

/// <summary>
/// The parameters of a modelled GPU: peak rates, efficiencies, fixed costs and the time-slicing
/// policy. Rates are per second, times in nanoseconds. H100 values ship as <c>h100</c>.
/// </summary>
public sealed record DeviceProfile
{
    /// <summary>A human-readable name written into result envelopes.</summary>
    [Required] public string Name { get; init; } = "";

    /// <summary>Peak single-precision (non-tensor-core) rate, FLOP/s.</summary>
    [Range(1e6, 1e18)] public double Fp32FlopsPerSecond { get; init; }

    /// <summary>Fraction of the peak a GEMM kernel reaches.</summary>
    [Range(0.001, 1.0)] public double GemmEfficiency { get; init; }

    /// <summary>Peak device-memory bandwidth, bytes/s.</summary>
    [Range(1e6, 1e15)] public double MemoryBytesPerSecond { get; init; }

    /// <summary>Fraction of the memory peak a streaming kernel reaches.</summary>
    [Range(0.001, 1.0)] public double MemoryEfficiency { get; init; }

    /// <summary>Host-to-device rate from page-locked memory, bytes/s.</summary>
    [Range(1e6, 1e14)] public double HostToDevicePinnedBytesPerSecond { get; init; }

    /// <summary>Device-to-host rate into page-locked memory, bytes/s.</summary>
    [Range(1e6, 1e14)] public double DeviceToHostPinnedBytesPerSecond { get; init; }

    /// <summary>Fixed cost of a copy (DMA set-up), ns.</summary>
    [Range(0, 1e9)] public long CopyLatencyNs { get; init; }

    /// <summary>Fixed GPU-side cost of a kernel (launch to first instruction, tail), ns.</summary>
    [Range(0, 1e9)] public long KernelOverheadNs { get; init; }

    /// <summary>CPU time the launching thread spends per launch in the driver, ns.</summary>
    [Range(0, 1e9)] public long LaunchCpuNs { get; init; }

    /// <summary>How long a context runs before another runnable context gets the GPU, ns.</summary>
    [Range(1000, 1e10)] public long TimesliceNs { get; init; }

    /// <summary>The GPU time lost when the GPU preempts a context that still has work, ns.</summary>
    [Range(0, 1e9)] public long ContextSwitchNs { get; init; }

    /// <summary>The GPU time lost when the GPU changes from a context whose queue ran dry, ns.</summary>
    [Range(0, 1e9)] public long IdleSwitchNs { get; init; }

    /// <summary>Streaming multiprocessors (SMs).</summary>
    [Range(1, 10_000)] public int Multiprocessors { get; init; } = 132;

    /// <summary>GEMM blocks (256 threads, 8 KiB of shared memory) resident on one multiprocessor at once.</summary>
    [Range(1, 64)] public int GemmBlocksPerMultiprocessor { get; init; } = 4;

    /// <summary>
    /// Under MPS, how much slower each kernel runs while kernels of other clients run beside it
    /// (0 to 0.9): they share the L2 cache and the memory system below its peak, which the
    /// multiprocessor and bandwidth shares alone do not capture. Fitted by
    /// <c>contention bench calibrate --mps</c> to ResNet-50 trainers run as two MPS clients at once.
    /// </summary>
    [Range(0, 0.9)] public double MpsInterference { get; init; }

    /// <summary>Threads per block of an element-wise kernel.</summary>
    [Range(32, 1024)] public int ElementwiseThreadsPerBlock { get; init; } = 1024;

    /// <summary>Where the value of each parameter comes from.</summary>
    public string Source { get; init; } = "";

    /// <summary>
    /// Kernels timed on the profiled GPU (the shipped models' shapes at several batch sizes): the
    /// cost model takes these times for exactly these kernels, its roofline for the rest.
    /// </summary>
    public IReadOnlyList<MeasuredKernel> KernelTimes
    {
        get => kernelTimes;
        init => kernelTimes = value ?? [];
    }

    private readonly IReadOnlyList<MeasuredKernel> kernelTimes = [];

    /// <summary>
    /// Synchronise round trips measured on the profiled GPU per sync mode and wait length: the
    /// modelled device returns from a synchronise that waited no sooner than the round trip
    /// after its last kernel ends (<see cref="RoundTripCurve"/>). None: it returns when the
    /// model's own wake-up reaches it.
    /// </summary>
    public IReadOnlyList<MeasuredRoundTrip> RoundTrips
    {
        get => roundTrips;
        init => roundTrips = value ?? [];
    }

    private readonly IReadOnlyList<MeasuredRoundTrip> roundTrips = [];


    /// <summary>
    /// <see cref="Source"/> with <paramref name="segment"/> in place of every earlier segment that
    /// starts with <paramref name="kind"/>, or added at the end: a profile calibrated again says
    /// once where each value comes from. Segments are separated by "; " outside parentheses.
    /// </summary>
    public string SourceWith(string kind, string segment)
    {
        ArgumentException.ThrowIfNullOrEmpty(kind);
        ArgumentNullException.ThrowIfNull(segment);
        var kept = new List<string>();
        var depth = 0;
        var start = 0;
        for (var i = 0; i <= Source.Length; i++)
        {
            if (i == Source.Length || (depth == 0 && string.CompareOrdinal(Source, i, "; ", 0, 2) == 0))
            {
                var part = Source[start..i];
                if (part.Length > 0 && !part.StartsWith(kind, StringComparison.Ordinal))
                {
                    kept.Add(part);
                }

                start = i + 2;
                i++;
                continue;
            }

            depth += Source[i] switch { '(' => 1, ')' => depth > 0 ? -1 : 0, _ => 0 };
        }

        kept.Add(segment);
        return string.Join("; ", kept);
    }

    /// <summary>The names of the profiles shipped inside the assembly.</summary>
    public static IReadOnlyList<string> BuiltInNames { get; } = ["h100", "h200"];

    /// <summary>Loads a shipped profile by name (<c>h100</c>) or a profile JSON file by path.</summary>
    /// <exception cref="ArgumentException">Neither a shipped profile nor a readable, valid file.</exception>
    public static DeviceProfile Load(string nameOrPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(nameOrPath);
        string json;
        var resource = $"Contention.Profiles.{nameOrPath.ToLowerInvariant()}.json";
        using (var stream = typeof(DeviceProfile).Assembly.GetManifestResourceStream(resource))
        {
            if (stream is not null)
            {
                using var reader = new StreamReader(stream);
                json = reader.ReadToEnd();
            }
            else if (File.Exists(nameOrPath))
            {
                json = File.ReadAllText(nameOrPath);
            }
            else
            {
                throw new ArgumentException($"no device profile '{nameOrPath}': give a shipped name ({string.Join(", ", BuiltInNames)}) or the path of a profile JSON file", nameof(nameOrPath));
            }
        }

        var profile = JsonSerializer.Deserialize(json, DeviceProfileJson.Default.DeviceProfile)
            ?? throw new ArgumentException($"device profile '{nameOrPath}' is empty", nameof(nameOrPath));
        var errors = new List<ValidationResult>();
        if (!Validator.TryValidateObject(profile, new ValidationContext(profile), errors, validateAllProperties: true))
        {
            throw new ArgumentException($"device profile '{nameOrPath}' is invalid: {string.Join("; ", errors.Select(e => e.ErrorMessage))}", nameof(nameOrPath));
        }

        return profile;
    }
}

/// <summary>Source-generated JSON for device profiles: read case-insensitively with comments, written indented camelCase (no reflection: a trimmed build loads them).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, PropertyNameCaseInsensitive = true, ReadCommentHandling = JsonCommentHandling.Skip, UseStringEnumConverter = true)]
[JsonSerializable(typeof(DeviceProfile))]
public sealed partial class DeviceProfileJson : JsonSerializerContext;
