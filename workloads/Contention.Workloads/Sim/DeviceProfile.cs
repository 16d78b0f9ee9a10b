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

    /// <summary>
    /// How many of the driver's operations of one context (a kernel, or a memset before a GEMM the
    /// cuda device splits over K) may wait to start (queued, not yet running) before the driver
    /// holds the next launch until one of them starts, the launching thread yielding its core
    /// (<c>sched_yield</c>) meanwhile: time-sliced, a context switched out for longer than its
    /// launches take to fill the queue is held so. 0: no bound but the modelled queue's
    /// (<see cref="SimChannelLayout.RingSize"/>). Measured by <c>contention bench calibrate</c>
    /// (<c>--launch-queue-only</c>): tiny kernels launched behind a long one until a launch is held.
    /// </summary>
    [Range(0, SimChannelLayout.RingSize - 1)] public int LaunchQueueDepth { get; init; }

    /// <summary>How long a context runs before another runnable context gets the GPU, ns.</summary>
    [Range(1000, 1e10)] public long TimesliceNs { get; init; }

    /// <summary>The GPU time lost when the GPU preempts a context that still has work, ns.</summary>
    [Range(0, 1e9)] public long ContextSwitchNs { get; init; }

    /// <summary>The GPU time lost when the GPU changes from a context whose queue ran dry, ns.</summary>
    [Range(0, 1e9)] public long IdleSwitchNs { get; init; }

    /// <summary>Streaming multiprocessors (SMs).</summary>
    [Range(1, 10_000)] public int Multiprocessors { get; init; } = 132;

    /// <summary>
    /// A thread's turn on a host core while more threads want one than there are, ns: in virtual
    /// time with a limited number of cores (<see cref="VirtualCores"/>). Default: Linux's (EEVDF's
    /// base slice, 0.75 ms, times 1 + log2 of the CPUs up to 8: 3 ms on hosts of 8 or more), also
    /// where a profile says 0 or nothing.
    /// </summary>
    [Range(0, 1e9)]
    public long SchedulerSliceNs
    {
        get => schedulerSliceNs > 0 ? schedulerSliceNs : DefaultSchedulerSliceNs;
        init => schedulerSliceNs = value;
    }

    /// <summary>Linux's scheduler slice on a host of 8 or more CPUs, ns (<see cref="SchedulerSliceNs"/>).</summary>
    public const long DefaultSchedulerSliceNs = 3_000_000;

    private readonly long schedulerSliceNs;

    /// <summary>GEMM blocks (256 threads, 8 KiB of shared memory) resident on one multiprocessor at once.</summary>
    [Range(1, 64)] public int GemmBlocksPerMultiprocessor { get; init; } = 4;

    /// <summary>
    /// Under MPS, how much slower each kernel runs while kernels of other clients run beside it
    /// (0 to 0.9): they share the L2 cache and the memory system below its peak, which the
    /// multiprocessor and bandwidth shares alone do not capture. Fitted by
    /// <c>contention bench calibrate --mps</c> to ResNet-50 trainers run as two MPS clients at once.
    /// </summary>
    [Range(0, 0.9)] public double MpsInterference { get; init; }

    /// <summary>
    /// Under MPS, how much slower a dense kernel (more blocks than multiprocessors) runs while
    /// another client's dense kernel runs beside it (0 to 0.9); <see cref="MpsInterference"/> where
    /// not given (null), as for every other pair. Fitted by <c>contention bench calibrate --mps</c>
    /// to ResNet-50 batch-32 trainers (dense kernels) as one and as two MPS clients at once, in the
    /// profile's whole MPS model (<see cref="Benchmarks.Calibration.ModelledCoRunStepNs"/>). On the
    /// H200 0.177: two trainers 1.59x one, three 2.28x measured (2.32x modelled with it); with
    /// <see cref="MpsInterference"/>'s 0.098 for them, which was fitted to the same runs in a model
    /// without the MPS rules of 2026-12-04, the model had 1.50x and 2.18x (docs/sim.md, "Sharing").
    /// </summary>
    [Range(0, 0.9)] public double? MpsDenseInterference { get; init; }

    /// <summary>
    /// Under MPS, how much slower a sparse kernel (no more blocks than multiprocessors: alone, one
    /// block to a multiprocessor) runs for each more block on its multiprocessor when other
    /// clients' sparse kernels run beside it (0 to 5): their blocks crowd onto the same
    /// multiprocessors and share their issue slots, load units and L1. By 1 + this × (the running
    /// sparse kernels' blocks per multiprocessor − 1), where that exceeds 1. Fitted to 1, 2, 4 and
    /// 8 closed-loop MLP batch-1 clients under MPS (64-block GEMMs on 132 multiprocessors), whose
    /// requests' kernels ran 1.28x and 1.81x longer with 4 and 8 clients than alone on the H200
    /// (docs/sim.md, "Sharing"; <c>bench calibrate --mps</c>, <see cref="Benchmarks.Calibration.FitMpsBlockContention"/>);
    /// 0 leaves them side by side at full speed.
    /// </summary>
    [Range(0, 5)] public double MpsBlockContention { get; init; }

    /// <summary>
    /// Under MPS, whether a higher-priority kernel waiting for lower-priority kernels'
    /// multiprocessors takes them as their blocks end one by one past their first wave (as on
    /// the H200: an MLP batch-1 request beside a 4096³ GEMM of ~1.7 ms waves took 1.5-1.7 ms, not
    /// the ~10 ms of waiting for each wave's end) rather than at the end of a wave (false: the
    /// model before 2026-12-04). The shipped h200 sets it (docs/sim.md, "Sharing").
    /// </summary>
    public bool MpsStaggeredBlocks { get; init; }

    /// <summary>
    /// Under MPS, how much slower a sparse kernel runs for each resident block a multiprocessor
    /// holds of other clients' running dense kernels (more blocks than multiprocessors; at most 2
    /// counted a multiprocessor): their blocks are on every multiprocessor, and the sparse kernel's
    /// share them (0 to 5; 0: none, the model before 2026-12-04). Chosen against the probe mixes
    /// (`mixes/validation/cold-starts.yaml` and `mps-neighbours.yaml`: batch-1 requests beside
    /// GEMM and element-wise neighbours took 1.3-2.9x their time alone on the H200; the shipped
    /// h200 had 0.5, and 0.75 since kernels' partial last waves are modelled).
    /// </summary>
    [Range(0, 5)] public double MpsDenseCrowding { get; init; }

    /// <summary>
    /// What each part of a kernel the arbiter slices costs on the GPU beyond its share of the
    /// kernel, ns (0: <see cref="KernelOverheadNs"/>, a kernel's fixed cost). On the H200 one
    /// ResNet-50 batch-32 trainer sliced at 50 us ran 109.5 ms a step against 82.5 ms gated, its
    /// 323 kernels launched as 1,464 parts: 24 us a part more, whether the next part waited to be
    /// let go or was queued behind it (1 ms outstanding), spinning or blocking; at 200 us slices
    /// (602 parts) 34 us (docs/results/h200/arbiter, "Slicing over K"). Where it goes is not
    /// measured yet: each part over K adds its products into all of C (more atomic adds than the
    /// whole kernel), and each is a launch of its own.
    /// </summary>
    [Range(0, 1e9)] public long SlicePartNs { get; init; }

    /// <summary>The memory bandwidth kernels achieve, bytes a ns: the peak times <see cref="MemoryEfficiency"/>.</summary>
    public double AchievableMemoryBytesPerNs() => MemoryBytesPerSecond * MemoryEfficiency / 1e9;

    /// <summary>What each part of a sliced kernel costs on the GPU beyond its share: <see cref="SlicePartNs"/>, else <see cref="KernelOverheadNs"/>.</summary>
    public long PartCostNs() => SlicePartNs > 0 ? SlicePartNs : KernelOverheadNs;

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
    /// Timed sleeps' lateness measured on the profiled GPU's host per sleep length: in virtual time
    /// an open-loop tenant that slept until its next request's arrival starts it that much later
    /// (<see cref="RoundTripCurve.WakeUps"/>; the real-time model's and a real GPU's tenants meet
    /// their host's own). None: at the arrival.
    /// </summary>
    public IReadOnlyList<MeasuredWakeUp> WakeUps
    {
        get => wakeUps;
        init => wakeUps = value ?? [];
    }

    private readonly IReadOnlyList<MeasuredWakeUp> wakeUps = [];

    /// <summary>
    /// How the profiled GPU's host interrupts a thread that never sleeps (<see cref="Sim.HostInterruptions"/>):
    /// the real-time modelled GPU draws its spinning and yielding tenants' round trips without
    /// the share of them these interrupted, as its own host interrupts its threads for real.
    /// None: it draws them as measured.
    /// </summary>
    [ValidHostInterruptions] public HostInterruptions? HostInterruptions { get; init; }

    /// <summary>
    /// How the profiled GPU's host's threads differ in how late they wake, for a while
    /// (<see cref="Sim.WakeUpDrift"/>): in virtual time best-effort threads racing behind a GPU
    /// arbiter wake each at its own level. None: every thread wakes alike.
    /// </summary>
    public WakeUpDrift? WakeUpDrift { get; init; }

    /// <summary>
    /// What a kernel pays after other contexts' kernels moved bytes through the profiled GPU's
    /// memory, per bytes moved (<see cref="MeasuredColdStart"/>, <see cref="Sim.ColdStart"/>), in
    /// rising order of bytes. None: a kernel finds the GPU as its own work left it.
    /// </summary>
    [ValidColdStarts]
    public IReadOnlyList<MeasuredColdStart> ColdStarts
    {
        get => coldStarts;
        init => coldStarts = value ?? [];
    }

    private readonly IReadOnlyList<MeasuredColdStart> coldStarts = [];

    /// <summary>
    /// What an idle gap costs the next request on the profiled GPU, per gap and sharing mode
    /// (<see cref="MeasuredIdleCost"/>): the modelled GPU's tenants spend the launch share before
    /// the first launch after their thread idled that long, and a blocking synchronise whose first
    /// kernel found the GPU idle that long returns the wait share later. None: idling costs nothing.
    /// </summary>
    public IReadOnlyList<MeasuredIdleCost> IdleCosts
    {
        get => idleCosts;
        init => idleCosts = value ?? [];
    }

    private readonly IReadOnlyList<MeasuredIdleCost> idleCosts = [];

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
    public static IReadOnlyList<string> BuiltInNames { get; } = ["h100", "h200", .. GpuDatasheet.Known.Select(d => d.Name)];

    /// <summary>The calibrated profile the datasheet-scaled ones (<see cref="GpuDatasheet.Known"/>) are made from.</summary>
    public const string ScaledFrom = "h200";

    /// <summary>
    /// This profile scaled to the GPU of <paramref name="sheet"/> by its datasheet peaks: FP32 rate,
    /// memory bandwidth, multiprocessors and host link (at this profile's measured share of its own
    /// link's peak, taken as PCIe 5.0 x16, 63 GB/s); each measured kernel time split into its
    /// roofline and what it took beyond (latency, occupancy), the roofline part replaced by the
    /// scaled GPU's and the rest kept (<see cref="ScaleMeasured"/>); the
    /// efficiencies, occupancy, launch, round-trip and wake-up costs, time-slicing costs, MPS
    /// interference and block contention and a sliced kernel's part cost kept (this host's and this
    /// GPU's: an assumption). The source says so.
    /// </summary>
    public DeviceProfile ScaledTo(GpuDatasheet sheet)
    {
        ArgumentNullException.ThrowIfNull(sheet);
        const double ownLink = 63e9;
        var linkShare = (HostToDevicePinnedBytesPerSecond + DeviceToHostPinnedBytesPerSecond) / 2 / ownLink;
        var scaled = this with
        {
            Name = $"{sheet.Product} (modelled, scaled from {Name.Replace(" (modelled)", "", StringComparison.Ordinal)})",
            Fp32FlopsPerSecond = sheet.Fp32FlopsPerSecond,
            MemoryBytesPerSecond = sheet.MemoryBytesPerSecond,
            Multiprocessors = sheet.Multiprocessors,
            HostToDevicePinnedBytesPerSecond = sheet.HostLinkBytesPerSecond * Math.Min(1, linkShare),
            DeviceToHostPinnedBytesPerSecond = sheet.HostLinkBytesPerSecond * Math.Min(1, linkShare),
            KernelTimes = [],
        };
        var from = new CostModel(this with { KernelTimes = [] });
        var to = new CostModel(scaled);
        scaled = scaled with
        {
            KernelTimes = [.. KernelTimes.Select(k => k with { Ns = ScaleMeasured(k.Ns, from.RooflineNs(k.Spec), to.RooflineNs(k.Spec)) })],
            Source = $"scaled from the calibrated '{Name}' by the datasheet peaks of the {sheet.Product} (FP32 {sheet.Fp32FlopsPerSecond / 1e12:0.0} TFLOP/s, memory {sheet.MemoryBytesPerSecond / 1e9:0} GB/s, {sheet.Multiprocessors} multiprocessors, host link {sheet.HostLinkBytesPerSecond / 1e9:0.##} GB/s at the calibrated GPU's measured share of its link, {linkShare:P0}){(sheet.Note.Length > 0 ? $"; {sheet.Note}" : "")}; its {KernelTimes.Count} measured kernel times scaled in their roofline part (the time beyond the calibrated GPU's roofline, latency and occupancy, kept); efficiencies, occupancy, launch, round-trip, wake-up, idle and time-slicing costs, MPS interference and block contention and the cost of a sliced kernel's part are the calibrated GPU's and its host's (assumed, not measured on this GPU). The calibrated profile's source: {Source}",
        };
        return scaled;
    }

    /// <summary>
    /// A kernel measured at <paramref name="measuredNs"/> whose roofline is <paramref name="fromRooflineNs"/>
    /// here and <paramref name="toRooflineNs"/> on the scaled GPU: the measured time less the roofline
    /// plus the scaled roofline (a big GEMM, near its roofline, scales by the rate ratio; a tiny
    /// kernel, mostly latency, hardly changes); one measured below its roofline scales in proportion.
    /// </summary>
    public static long ScaleMeasured(long measuredNs, long fromRooflineNs, long toRooflineNs) =>
        Math.Max(1, measuredNs >= fromRooflineNs ? measuredNs - fromRooflineNs + toRooflineNs : (long)Math.Round(measuredNs * (toRooflineNs / (double)fromRooflineNs)));

    /// <summary>Loads a shipped profile by name (<c>h100</c>), a datasheet-scaled one (<c>t4</c>: <see cref="GpuDatasheet.Known"/>) or a profile JSON file by path.</summary>
    /// <exception cref="ArgumentException">Neither a shipped profile nor a readable, valid file.</exception>
    public static DeviceProfile Load(string nameOrPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(nameOrPath);
        if (GpuDatasheet.Find(nameOrPath) is { } sheet && !File.Exists(nameOrPath))
        {
            return Load(ScaledFrom).ScaledTo(sheet);
        }

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

        return FromJson(json, nameOrPath);
    }

    /// <summary>A profile from its JSON document (<see cref="ToJson"/>), validated; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="ArgumentException">Empty or invalid.</exception>
    public static DeviceProfile FromJson(string json, string source)
    {
        ArgumentNullException.ThrowIfNull(json);
        var profile = JsonSerializer.Deserialize(json, DeviceProfileJson.Default.DeviceProfile)
            ?? throw new ArgumentException($"device profile '{source}' is empty", nameof(json));
        var errors = new List<ValidationResult>();
        if (!Validator.TryValidateObject(profile, new ValidationContext(profile), errors, validateAllProperties: true))
        {
            throw new ArgumentException($"device profile '{source}' is invalid: {string.Join("; ", errors.Select(e => e.ErrorMessage))}", nameof(json));
        }

        return profile;
    }

    /// <summary>This profile as a JSON document, as a profile file holds it.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, DeviceProfileJson.Default.DeviceProfile);
}

/// <summary>Source-generated JSON for device profiles: read case-insensitively with comments, written indented camelCase (no reflection: a trimmed build loads them).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, PropertyNameCaseInsensitive = true, ReadCommentHandling = JsonCommentHandling.Skip, UseStringEnumConverter = true)]
[JsonSerializable(typeof(DeviceProfile))]
public sealed partial class DeviceProfileJson : JsonSerializerContext;
