using System.Globalization;
using System.Text.Json;
using Contention.Grains;
using Spectre.Console;

namespace Contention.Client.Results;

/// <summary>
/// What an inference tenant given <c>rate: N%</c> was offered: <paramref name="Share"/> of its
/// capacity (its requests per second alone, closed loop), <paramref name="CapacityPerSecond"/>, as
/// <paramref name="RatePerSecond"/>; <paramref name="MeasuredBy"/> says how the capacity was measured;
/// <paramref name="Valid"/>: whether the probe run that measured it was valid (<see cref="Validity"/>).
/// </summary>
public sealed record TenantCapacity(double Share, double CapacityPerSecond, double RatePerSecond, string MeasuredBy, bool Valid = true);

/// <summary>A measured capacity as <c>capacity.json</c> keeps it: requests per second, how it was measured and whether that run was valid.</summary>
public sealed record MeasuredCapacity(double PerSecond, string MeasuredBy, bool Valid = true);

/// <summary>
/// Capacities of the tenants a mix offers a share of their capacity (<see cref="TenantSpec.RateOfCapacity"/>):
/// each distinct tenant (its spec but for its name, seed and rate; where it runs) is measured once
/// by a probe — alone, closed loop — and kept in <c>capacity.json</c> (a run's directory, or a
/// sweep's for all its points), so a sweep over shares and repetitions measures it once.
/// </summary>
public static class Capacities
{
    /// <summary>The probe's warm-up, seconds.</summary>
    public const double WarmupSeconds = 1;

    /// <summary>The probe's measurement window, seconds.</summary>
    public const double DurationSeconds = 5;

    /// <summary>
    /// Probes a capacity is measured by at most: a probe the verdict calls invalid (its host's
    /// hypervisor took CPU time, a busy machine) reads low, and every run offered a share of it is
    /// invalid with it, so it is measured again, up to this many times in all.
    /// </summary>
    public const int Attempts = 3;

    /// <summary>The file a run's or a sweep's capacities are kept in.</summary>
    public const string File = "capacity.json";

    /// <summary>
    /// What decides <paramref name="spec"/>'s capacity, as text: everything but its name,
    /// experiment, seed and rate, and <paramref name="where"/> (the modelled GPU's profile, the cluster).
    /// </summary>
    public static string Key(TenantSpec spec, string where)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return string.Create(CultureInfo.InvariantCulture, $"{spec.Kind.Word()} {spec.Model} batch {spec.BatchSize} on {spec.Device}, sync {spec.SyncMode.Word()}, {(spec.PinnedHost ? "pinned" : "pageable")}, {spec.Isolation.Word()}, {spec.Sharing.Word()}, gpu_share {spec.GpuSharePercent}, priority {spec.Priority}, cpu_threads {spec.CpuThreads}, alloc {spec.Allocation}; {where}");
    }

    /// <summary>The probe of <paramref name="spec"/>: the same tenant, alone and closed loop.</summary>
    public static TenantSpec Probe(TenantSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec with { RatePerSecond = 0, RateOfCapacity = 0 };
    }

    /// <summary>
    /// <paramref name="plan"/> with every capacity-relative tenant's rate set from its capacity:
    /// read from <paramref name="cacheFile"/>, or measured by <paramref name="measure"/> (given
    /// the probe and the key) and added to it. Returns the plan and what each such tenant was offered.
    /// </summary>
    public static async Task<(ExperimentPlan Plan, IReadOnlyDictionary<string, TenantCapacity> Offered)> ResolveAsync(ExperimentPlan plan, string where, string cacheFile, Func<TenantSpec, string, Task<MeasuredCapacity>> measure)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(measure);
        var offered = new Dictionary<string, TenantCapacity>(StringComparer.Ordinal);
        if (plan.Tenants.All(t => t.RateOfCapacity <= 0))
        {
            return (plan, offered);
        }

        var cache = Read(cacheFile);
        var tenants = new List<TenantSpec>();
        foreach (var tenant in plan.Tenants)
        {
            if (tenant.RateOfCapacity <= 0)
            {
                tenants.Add(tenant);
                continue;
            }

            var key = Key(tenant, where);
            if (!cache.TryGetValue(key, out var capacity))
            {
                capacity = await measure(Probe(tenant), key);
                if (!(capacity.PerSecond > 0))
                {
                    throw new InvalidOperationException($"tenant {tenant.Name}: its capacity measured 0 requests per second ({capacity.MeasuredBy}): a share of it offers nothing; give rate in requests per second");
                }

                cache[key] = capacity;
                Write(cacheFile, cache);
            }

            var rate = tenant.RateOfCapacity * capacity.PerSecond;
            offered[tenant.Name] = new TenantCapacity(tenant.RateOfCapacity, capacity.PerSecond, rate, capacity.MeasuredBy, capacity.Valid);
            tenants.Add(tenant with { RatePerSecond = rate });
        }

        return (plan with { Tenants = tenants }, offered);
    }

    /// <summary>
    /// Measures <paramref name="probe"/>'s capacity by <paramref name="run"/> (a mix and a results
    /// directory: on a cluster, or in virtual time): <paramref name="mix"/> with the probe alone,
    /// closed loop, <see cref="WarmupSeconds"/> + <see cref="DurationSeconds"/>, its results kept in
    /// a directory of its own beside <paramref name="cacheFile"/>; its requests per second. A probe
    /// run the verdict calls invalid is run again (in a directory of its own, -2, -3), up to
    /// <see cref="Attempts"/> in all: the first valid one is the capacity; when none is, the
    /// highest of them (what the host took from each lowers it), marked invalid with every probe's reasons.
    /// </summary>
    /// <exception cref="Mixes.MixException">A probe run did not complete.</exception>
    public static async Task<MeasuredCapacity> MeasureAsync(Mixes.Mix mix, TenantSpec probe, string key, string cacheFile, IAnsiConsole console, Func<Mixes.Mix, string, Task<(ExperimentProgress Progress, ResultsDocument Document)>> run)
    {
        ArgumentNullException.ThrowIfNull(mix);
        ArgumentNullException.ThrowIfNull(probe);
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(run);
        var root = Path.GetDirectoryName(Path.GetFullPath(cacheFile))!;
        var first = Path.Combine(root, "capacity", $"{ResultsDirectory.Slug(probe.Name)}-{SweepFiles.Fingerprint(key)[..8]}");
        var alone = mix with { Name = $"{mix.Name}-capacity", Tenants = [probe], WarmupSeconds = WarmupSeconds, DurationSeconds = DurationSeconds, Sweep = null };
        var invalidProbes = new List<(double PerSecond, string Text)>();
        for (var attempt = 1; attempt <= Attempts; attempt++)
        {
            var directory = attempt == 1 ? first : $"{first}-{attempt}";
            console.MarkupLineInterpolated($"{probe.Name}: measuring its capacity ({key}) alone, closed loop, {WarmupSeconds:0.#} s + {DurationSeconds:0.#} s, into {directory}{(attempt > 1 ? $" (probe {attempt} of at most {Attempts})" : "")}");
            var (progress, document) = await run(alone, directory);
            if (progress.State != ExperimentState.Completed)
            {
                throw new Mixes.MixException($"tenant {probe.Name}: its capacity could not be measured: the probe run ended {progress.State} ({progress.Message}); nothing else ran; its results are in {directory}");
            }

            var row = document.Tenants.Single(t => t.Tenant == probe.Name && t.Phase == MeasurementPhase.Measure);
            var measured = string.Create(CultureInfo.InvariantCulture, $"alone, closed loop, {DurationSeconds:0.#} s after {WarmupSeconds:0.#} s of warm-up: {row.ThroughputPerSecond:0.#} requests/s (run {document.Experiment.Id}, {Path.GetRelativePath(root, directory)})");
            if (document.Validity is not { Valid: false } invalid)
            {
                var earlier = invalidProbes.Count == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $"; {invalidProbes.Count} earlier probe(s) invalid and not used: {string.Join(" | ", invalidProbes.Select(p => p.Text))}");
                return new MeasuredCapacity(row.ThroughputPerSecond, measured + earlier);
            }

            var reasons = $"{measured}: invalid: {string.Join("; ", invalid.Reasons)}";
            invalidProbes.Add((row.ThroughputPerSecond, reasons));
            console.MarkupLineInterpolated($"[yellow]warning:[/] {probe.Name}'s capacity probe {attempt} of at most {Attempts} was invalid ({string.Join("; ", invalid.Reasons)}){(attempt < Attempts ? ": measuring again" : "")}");
        }

        var best = invalidProbes.MaxBy(p => p.PerSecond);
        return new MeasuredCapacity(best.PerSecond, string.Create(CultureInfo.InvariantCulture, $"the highest of {Attempts} probes, every one invalid: {best.PerSecond:0.#} requests/s; the probes: {string.Join(" | ", invalidProbes.Select(p => p.Text))}"), false);
    }

    /// <summary>The capacities kept in <paramref name="path"/> (none when it does not exist).</summary>
    public static Dictionary<string, MeasuredCapacity> Read(string path)
    {
        if (!System.IO.File.Exists(path))
        {
            return new(StringComparer.Ordinal);
        }

        try
        {
            return new(JsonSerializer.Deserialize(System.IO.File.ReadAllText(path), ResultsJson.Default.DictionaryStringMeasuredCapacity) ?? [], StringComparer.Ordinal);
        }
        catch (JsonException ex)
        {
            throw new InvalidOperationException($"{path}: not a capacity file ({ex.Message}); delete it to measure the capacities again");
        }
    }

    private static void Write(string path, Dictionary<string, MeasuredCapacity> capacities)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temporary = path + ".tmp";
        System.IO.File.WriteAllText(temporary, JsonSerializer.Serialize(capacities, ResultsJson.Default.DictionaryStringMeasuredCapacity));
        System.IO.File.Move(temporary, path, overwrite: true);
    }
}
