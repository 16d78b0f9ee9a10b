using Contention.Grains;

namespace Contention.Client.Results;

/// <summary>results.json: the envelope (tool, host, devices, times, the mix) and the results.</summary>
public sealed record ResultsDocument
{
    /// <summary>Format identifier, bumped on incompatible changes.</summary>
    public string Schema { get; init; } = "contention.results/1";

    public required ToolInfo Tool { get; init; }

    public required HostInfo Host { get; init; }

    public required ExperimentInfo Experiment { get; init; }

    /// <summary>The run's verdict (<see cref="Results.Validity"/>); null in documents written before verdicts existed.</summary>
    public Validity? Validity { get; init; }

    public List<DeviceInfo> Devices { get; init; } = [];

    public required MixInfo Mix { get; init; }

    public List<TenantRow> Tenants { get; init; } = [];

    public List<TenantFailure> Failures { get; init; } = [];

    /// <summary>Per-thread counters of each tenant's worker over its whole life (start-up and warm-up included).</summary>
    public List<ThreadRow> Threads { get; init; } = [];

    /// <summary>Merged latency histograms (compressed HdrHistogram, base64, ns) keyed <c>tenant/phase</c>, so reports can recompute any percentile exactly.</summary>
    public Dictionary<string, string> Histograms { get; init; } = [];

    /// <summary><paramref name="tenant"/>'s latencies in the measurement window (<see cref="Histograms"/>), ns; null where it has none (nothing completed).</summary>
    public HdrHistogram.HistogramBase? MeasuredLatency(string tenant) =>
        Histograms.TryGetValue($"{tenant}/{MeasurementPhase.Measure.Word()}", out var text) ? Contention.Workloads.Metrics.Histograms.FromCompressedBase64(text) : null;

    /// <summary>System calls per tenant, phase and call (eBPF; empty where it did not run).</summary>
    public List<SyscallRecord> Syscalls { get; init; } = [];

    /// <summary>System calls per tenant, phase, worker thread and call (eBPF with --thread-calls; empty otherwise).</summary>
    public List<ThreadSyscallRecord> ThreadSyscalls { get; init; } = [];

    /// <summary>Decoded ioctls per tenant, phase and kind (eBPF).</summary>
    public List<IoctlRecord> Ioctls { get; init; } = [];

    /// <summary>The phases the tenants' workers marked in-band (start-up, grid points, the run), in order.</summary>
    public List<PhaseRow> Phases { get; init; } = [];

    /// <summary>System calls per marked phase (eBPF; empty where it did not run).</summary>
    public List<PhaseSyscallRecord> PhaseSyscalls { get; init; } = [];
}

/// <summary>The tool that wrote the results.</summary>
public sealed record ToolInfo(string Name, string Version, string Commit);

/// <summary>The machine the client ran on.</summary>
/// <param name="Name">Its host name.</param>
/// <param name="Os">Its operating system.</param>
/// <param name="Kernel">Its kernel release.</param>
/// <param name="Cpus">Its logical CPUs.</param>
/// <param name="Runtime">The .NET runtime.</param>
/// <param name="Cpu">Its processor's model (/proc/cpuinfo; empty in results written before 2026-12-05).</param>
/// <param name="Gpus">Its NVIDIA GPUs' models (the driver's /proc/driver/nvidia/gpus; null in results written before 2026-12-05, empty on a host without one).</param>
public sealed record HostInfo(string Name, string Os, string Kernel, int Cpus, string Runtime, string Cpu = "", IReadOnlyList<string>? Gpus = null)
{
    /// <summary>
    /// The machine in a few words — name, CPUs and their model, GPUs, kernel — as far as the
    /// results say: two results on the same words ran on the same kind of machine.
    /// </summary>
    public string Describe()
    {
        var cpus = Cpu.Length > 0 ? $"{Cpus} CPUs ({Cpu})" : $"{Cpus} CPUs";
        var gpus = Gpus is null ? "" : Gpus.Count == 0 ? ", no NVIDIA GPU" : ", " + string.Join(", ", Gpus.GroupBy(g => g, StringComparer.Ordinal).Select(g => g.Count() > 1 ? $"{g.Count()}x {g.Key}" : g.Key));
        return $"{Name}, {cpus}{gpus}, Linux {Kernel}";
    }
}

/// <summary>The experiment's identity and outcome.</summary>
public sealed record ExperimentInfo
{
    public required string Id { get; init; }

    public required string Name { get; init; }

    public string State { get; init; } = "";

    public string? Message { get; init; }

    public DateTimeOffset? StartedUtc { get; init; }

    public DateTimeOffset? EndedUtc { get; init; }

    public double WarmupSeconds { get; init; }

    public double DurationSeconds { get; init; }

    public string Cluster { get; init; } = "";
}

/// <summary>A device a tenant ran on.</summary>
public sealed record DeviceInfo(string Node, string Device, string Description);

/// <summary>The mix as run.</summary>
/// <param name="File">The mix file.</param>
/// <param name="Text">Its text.</param>
/// <param name="Overrides">Command-line overrides applied to it.</param>
/// <param name="Seeds">Each tenant's seed as run (a sweep's repetition moves the mix's: <see cref="Mixes.SweepPoint.Reseeded"/>); absent in results written before it was kept.</param>
/// <param name="Capacities">What each tenant given a share of its capacity (<c>rate: 50%</c>) was offered, and its capacity; absent where none was.</param>
public sealed record MixInfo(string File, string Text, string Overrides, IReadOnlyDictionary<string, int>? Seeds = null, IReadOnlyDictionary<string, TenantCapacity>? Capacities = null)
{
    /// <summary>The mix as <paramref name="mix"/> runs it, with <paramref name="overrides"/>, its capacity-relative tenants offered as <paramref name="capacities"/> says.</summary>
    public static MixInfo Of(Mixes.Mix mix, string overrides, IReadOnlyDictionary<string, TenantCapacity>? capacities = null) =>
        new(mix.Source, mix.Text, overrides, mix.Tenants.ToDictionary(t => t.Name, t => t.Seed), capacities is { Count: > 0 } ? capacities : null);
}
