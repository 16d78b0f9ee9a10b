#if !NO_REPORTS
using System.Globalization;
using System.Text.RegularExpressions;
using Contention.Client.Analysis;
using Contention.Client.Results;
using CsvHelper;

namespace Contention.Client.Validation;

/// <summary>
/// Reads one half (real or modelled) of a validation suite's results: for each mix, the sweep
/// directory <c>contention run</c> wrote (sweep.json and the combined tenants.csv), or a single
/// run's directory (tenants.csv). Only the measurement window of completed, valid runs counts;
/// what was left out is said in <see cref="Excluded"/>.
/// </summary>
public sealed partial class ValidationResults
{
    private ValidationResults(IReadOnlyList<ValidationSample> samples, IReadOnlyList<string> excluded, IReadOnlyList<string> invalidIncluded, IReadOnlyList<ResultsSource>? sources = null)
    {
        Samples = samples;
        Excluded = excluded;
        InvalidIncluded = invalidIncluded;
        Sources = sources ?? [];
    }

    /// <summary>
    /// Where each mix's runs came from: its sweep (its id says when it began), the build and the
    /// host that ran it, and how many of its runs were compared; a reader sees how old each half
    /// is and whether one half of a mix ran on another build or host than the other.
    /// </summary>
    public IReadOnlyList<ResultsSource> Sources { get; }

    /// <summary>Runs the verdict called invalid that were compared all the same (<c>--include-invalid</c>), and why they are invalid.</summary>
    public IReadOnlyList<string> InvalidIncluded { get; }

    /// <summary>Every case of every usable run.</summary>
    public IReadOnlyList<ValidationSample> Samples { get; }

    /// <summary>Runs left out, and why, one line each.</summary>
    public IReadOnlyList<string> Excluded { get; }

    /// <summary>
    /// Reads every mix's results under <paramref name="directory"/> (one subdirectory per mix, or
    /// the directory itself holding one); with <paramref name="includeInvalid"/>, completed runs the
    /// verdict calls invalid count too (listed). With <paramref name="pooled"/>, a mix tenant's
    /// latency percentiles in each run are those of its replicas' latency histograms merged (read
    /// from each run's results.json: a sweep's points/ folder), not the median of theirs; rates are
    /// the mean of theirs either way (<see cref="ValidationMetric.Latency"/>). With
    /// <paramref name="only"/>, of a folder of mixes only the subdirectories of those names (the
    /// suite's mixes: a set may hold results of others, which are not this report's).
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The directory holds no results (of those mixes).</exception>
    /// <exception cref="InvalidDataException">Pooled, and a run's histograms are missing.</exception>
    public static ValidationResults Load(string directory, bool includeInvalid = false, bool pooled = false, IReadOnlyCollection<string>? only = null)
    {
        var mixes = IsResults(directory)
            ? [directory]
            : Directory.Exists(directory) ? Directory.GetDirectories(directory).Where(d => IsResults(d) && (only is null || only.Contains(Path.GetFileName(d)))).Order(StringComparer.Ordinal).ToList() : [];
        if (mixes.Count == 0)
        {
            throw new DirectoryNotFoundException($"{directory} holds no results of 'contention run' (a sweep.json or tenants.csv, or subdirectories with them)");
        }

        var samples = new List<ValidationSample>();
        var excluded = new List<string>();
        var invalidIncluded = new List<string>();
        var sources = new List<ResultsSource>();
        foreach (var mix in mixes)
        {
            ReadMix(mix, samples, excluded, includeInvalid ? invalidIncluded : null, pooled, sources);
        }

        return new ValidationResults(samples, excluded, invalidIncluded, sources);
    }

    /// <summary>
    /// Several sets of runs of the same suite taken as one (<c>validate --reference A --reference
    /// B</c>): their samples, exclusions and invalid runs together, as if one sweep had run them
    /// all; each sample's run is named by its set (<c>2:p001-r1</c>), since sweeps number their runs alike.
    /// </summary>
    public static ValidationResults Combine(IReadOnlyList<ValidationResults> sets)
    {
        ArgumentNullException.ThrowIfNull(sets);
        return sets.Count == 1
            ? sets[0]
            : new([.. sets.SelectMany((set, i) => set.Samples.Select(x => x with { Run = $"{i + 1}:{x.Run}" }))], [.. sets.SelectMany(s => s.Excluded)], [.. sets.SelectMany(s => s.InvalidIncluded)], [.. sets.SelectMany(s => s.Sources)]);
    }

    /// <summary>The samples of rows already read (tests, synthetic data).</summary>
    public static ValidationResults Of(IEnumerable<ValidationSample> samples, IEnumerable<string>? excluded = null) => new([.. samples], [.. excluded ?? []], []);

    /// <summary>A mix tenant's name: replicas NAME-0, NAME-1, … are one tenant of the mix.</summary>
    public static string MixTenant(string tenant) => ReplicaSuffix().Replace(tenant, "");

    private static bool IsResults(string directory) => File.Exists(Path.Combine(directory, ResultsFiles.Csv));

    private static void ReadMix(string directory, List<ValidationSample> samples, List<string> excluded, List<string>? invalidIncluded, bool pooled, List<ResultsSource> sources)
    {
        var manifest = SweepFiles.ReadManifest(directory);
        var runs = manifest?.Runs.ToDictionary(r => r.Id);
        string suite = manifest?.Name ?? "";
        var rows = new List<(string Run, string Point, Dictionary<string, string> Fields)>();
        using (var reader = new CsvReader(new StreamReader(Path.Combine(directory, ResultsFiles.Csv)), CultureInfo.InvariantCulture))
        {
            if (!reader.Read() || !reader.ReadHeader() || reader.HeaderRecord is not { } header)
            {
                excluded.Add($"{directory}: tenants.csv is empty");
                sources.Add(ResultsSource.Of(directory, manifest, Path.GetFileName(directory), 0, 0));
                return;
            }

            while (reader.Read())
            {
                var fields = header.Select((name, i) => (name, value: reader.GetField(i) ?? "")).GroupBy(f => f.name).ToDictionary(g => g.Key, g => g.First().value);
                if (fields.GetValueOrDefault("phase") != "measure")
                {
                    continue;
                }

                var run = fields.GetValueOrDefault("run") ?? fields.GetValueOrDefault("experiment") ?? "";
                var point = "";
                if (runs is not null && manifest is not null)
                {
                    if (!runs.TryGetValue(run, out var sweepRun))
                    {
                        continue;
                    }

                    // The sharing axis is the case's sharing mode, a column of its own.
                    point = string.Join(' ', manifest.Axes.Where(a => a != "sharing" && sweepRun.Values.ContainsKey(a)).Select(a => $"{a}={sweepRun.Values[a]}"));
                }

                if (suite.Length == 0)
                {
                    suite = fields.GetValueOrDefault("experiment") is { } id ? SuiteOf(id) : Path.GetFileName(directory);
                }

                rows.Add((run, point, fields));
            }
        }

        var read = rows.Select(r => r.Run).Distinct().Count();
        if (runs is not null)
        {
            foreach (var run in runs.Values)
            {
                if (run.State != "Completed")
                {
                    excluded.Add($"{suite} {run.Id}: {run.State.ToLowerInvariant()}");
                }
                else if (run.Invalid is { Count: > 0 } reasons)
                {
                    (invalidIncluded ?? excluded).Add($"{suite} {run.Id}: invalid: {string.Join("; ", reasons)}");
                }
            }

            rows.RemoveAll(r => runs[r.Run] is var run && (run.State != "Completed" || (invalidIncluded is null && run.Invalid is { Count: > 0 })));
        }

        // Runs measured before the verdict knew stolen CPU time are judged on it here.
        foreach (var run in rows.GroupBy(r => r.Run).ToList())
        {
            var judged = runs is not null && runs[run.Key].Invalid is { Count: > 0 };
            var stolen = run.Select(r => Validity.StolenReason(r.Fields.GetValueOrDefault("node") ?? "", r.Fields.GetValueOrDefault("tenant") ?? "", Number(r.Fields, "node_cpu_steal") ?? 0)).FirstOrDefault(w => w is not null);
            if (judged || stolen is null)
            {
                continue;
            }

            (invalidIncluded ?? excluded).Add($"{suite} {run.Key}: invalid: {stolen}");
            if (invalidIncluded is null)
            {
                rows.RemoveAll(r => r.Run == run.Key);
            }
        }

        var documents = new Dictionary<string, ResultsDocument>(StringComparer.Ordinal);
        foreach (var group in rows.GroupBy(r => (r.Run, r.Point, Tenant: MixTenant(r.Fields.GetValueOrDefault("tenant") ?? ""))))
        {
            var members = group.Select(r => r.Fields).ToList();
            var values = new Dictionary<string, double>();
            foreach (var metric in ValidationMetric.All)
            {
                var per = members.Select(f => Value(metric, f)).Where(v => v is not null).Select(v => v!.Value).ToList();
                if (per.Count == members.Count && per.Count > 0)
                {
                    // Rates add up over replicas: their mean is the tenant's total per replica. A
                    // median would follow whichever replica sits in the middle, and so how evenly
                    // they shared (slowest_replica says that) as much as how much they did.
                    values[metric.Name] = metric.Latency ? Phase1Analysis.Median(per) : per.Average();
                }
            }

            var throughputs = members.Select(f => Value(ValidationMetric.Throughput, f)).ToList();
            if (throughputs.Count >= 2 && throughputs.All(t => t is not null) && throughputs.Average() is > 0 and var mean)
            {
                values[ValidationMetric.SlowestReplica.Name] = throughputs.Min()!.Value / mean;
            }

            LatencyBuckets? latency = null;
            if (pooled)
            {
                if (!documents.TryGetValue(group.Key.Run, out var document))
                {
                    document = RunDocument(directory, runs is null ? null : group.Key.Run);
                    documents[group.Key.Run] = document;
                }

                latency = LatencyBuckets.Merge(members.Select(f => document.MeasuredLatency(f.GetValueOrDefault("tenant") ?? "")).OfType<HdrHistogram.HistogramBase>().Select(LatencyBuckets.Of));
                foreach (var (metric, percentile) in PooledPercentiles)
                {
                    values.Remove(metric.Name);
                    if (latency.Count > 0)
                    {
                        values[metric.Name] = latency.ValueAtPercentile(percentile) / 1e6;
                    }
                }
            }

            var offered = members.Average(f => Number(f, "offered_per_s") ?? 0);
            var overloaded = offered > 0 && values.GetValueOrDefault(ValidationMetric.Throughput.Name) < 0.9 * offered;
            const double defaultTimingPercent = Contention.Workloads.Devices.DeviceOptions.DefaultKernelTimingBudget * 100;
            if (members.Any(f => (f.GetValueOrDefault("device") ?? "").StartsWith("cuda", StringComparison.Ordinal)) && members.Max(f => Number(f, "gpu_timing_pct") ?? 0) is var timing && timing > defaultTimingPercent + 1e-9)
            {
                // Its timed batches waited on the GPU until queued, as often as its raised budget
                // allowed: a delay the modelled GPU does not have. It stands for GPU time alone.
                foreach (var name in values.Keys.Where(k => k != ValidationMetric.Gpu.Name).ToList())
                {
                    values.Remove(name);
                }

                excluded.Add(string.Create(CultureInfo.InvariantCulture, $"{suite} {group.Key.Run} {group.Key.Tenant}: compared for GPU seconds only: a real GPU's kernel timer took up to {timing:0.###} % of its time (gpu_timing above the default {defaultTimingPercent:0.###} %), and each timed batch waited on the GPU until queued, which the modelled GPU does not do"));
            }
            var operations = members.Select(f => Number(f, "completed")).ToList();
            var timed = members.Select(f => Number(f, "gpu_timed_batches")).OfType<double>().ToList();
            var windows = members.Select(f => Number(f, "seconds")).ToList();
            samples.Add(new ValidationSample(suite, group.Key.Point, group.Key.Tenant, members[0].GetValueOrDefault("sharing") ?? "", group.Key.Run, members.Count, values, overloaded, latency, operations.All(o => o is not null) ? (long)operations.Min()!.Value : null, timed.Count > 0 ? (long)timed.Min() : null, windows.All(w => w is > 0) ? windows.Average() : null));
        }

        var inVirtualTime = rows.Count > 0 && rows.All(r => r.Fields.GetValueOrDefault("node") == Commands.SimulateCommand.Node);
        sources.Add(ResultsSource.Of(directory, manifest, suite, rows.Select(r => r.Run).Distinct().Count(), read, inVirtualTime));
    }

    /// <summary>
    /// Each mix whose real runs and modelled runs ran on machines the results describe differently
    /// (<see cref="HostInfo.Describe"/>: another processor, GPU or kernel), with both: its CPU
    /// times, switches and system calls then compare two hosts as much as the model. Halves in
    /// virtual time are left out (their host numbers are the OS model's), and so are results that
    /// do not say where they ran.
    /// </summary>
    public static IReadOnlyList<string> MachineMismatches(ValidationResults real, ValidationResults model)
    {
        ArgumentNullException.ThrowIfNull(real);
        ArgumentNullException.ThrowIfNull(model);
        var modelled = model.Sources.Where(s => !s.InVirtualTime && s.Host.Length > 0).ToLookup(s => s.Mix, StringComparer.Ordinal);
        return [.. real.Sources.Where(s => s.Host.Length > 0).GroupBy(s => s.Mix, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (Mix: g.Key, Real: g.Select(s => s.Host).Distinct().Order(StringComparer.Ordinal).ToList(), Model: modelled[g.Key].Select(s => s.Host).Distinct().Order(StringComparer.Ordinal).ToList()))
            .Where(m => m.Model.Count > 0 && !m.Real.SequenceEqual(m.Model))
            .Select(m => $"{m.Mix}: real runs on {string.Join(" and ", m.Real)}; modelled runs on {string.Join(" and ", m.Model)}")];
    }

    /// <summary>The latency metrics and their percentiles.</summary>
    public static readonly IReadOnlyList<(ValidationMetric Metric, double Percentile)> PooledPercentiles = [(ValidationMetric.P50, 50), (ValidationMetric.P95, 95), (ValidationMetric.P99, 99)];

    // A run's results.json, whose histograms pooled latencies merge (points/RUN/ of a sweep; the
    // directory itself for a single run). A tenant that completed nothing in the window has no
    // histogram: nothing of it to pool.
    private static ResultsDocument RunDocument(string directory, string? run)
    {
        var path = Path.Combine(run is null ? directory : SweepFiles.RunDirectory(directory, run), ResultsFiles.Json);
        return File.Exists(path)
            ? ResultsFiles.Read(path)
            : throw new InvalidDataException($"{path}: missing — pooled latencies need each run's histograms (the sweep's points/ folder, which `contention run` and `contention simulate` write); compare without --pooled, or give results that kept points/");
    }

    private static double? Value(ValidationMetric metric, Dictionary<string, string> f)
    {
        var seconds = Number(f, "seconds");
        double? PerSecond(string column) => Number(f, column) is { } v && seconds is > 0 ? v / seconds : null;

        // System calls are counted only by the eBPF tracer or virtual time's OS model: an untraced
        // run's columns read 0, which is no measurement.
        var callsCounted = Flag(f, "ebpf") || Flag(f, "os_modelled");
        double? Calls(string column) => callsCounted ? PerSecond(column) : null;
        return metric.Name switch
        {
            "throughput" => Number(f, "throughput_per_s"),
            "p50" => Positive(Number(f, "p50_ms")),
            "p95" => Positive(Number(f, "p95_ms")),
            "p99" => Positive(Number(f, "p99_ms")),
            "gpu_s_per_s" => PerSecond("gpu_s"),
            "user_cpu_s_per_s" => PerSecond("user_cpu_s"),
            "system_cpu_s_per_s" => PerSecond("system_cpu_s"),
            "voluntary_switches_per_s" => PerSecond("voluntary_switches"),
            "sync_wait_calls_per_s" => Calls("calls_sync_wait"),
            "file_io_calls_per_s" => Calls("calls_file_io"),
            "syscalls_per_s" => Calls("syscalls"),
            _ => null, // slowest_replica: over the replicas together, above
        };
    }

    private static bool Flag(Dictionary<string, string> fields, string column) =>
        fields.TryGetValue(column, out var text) && bool.TryParse(text, out var value) && value;

    // A latency of 0 is no latency: the tenant completed nothing in the window.
    private static double? Positive(double? value) => value is > 0 ? value : null;

    private static double? Number(Dictionary<string, string> fields, string column) =>
        fields.TryGetValue(column, out var text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) ? value : null;

    // An experiment id is the mix's name (slugged), the time and 16 random bits.
    private static string SuiteOf(string experiment) => ExperimentSuffix().Replace(experiment, "");

    [GeneratedRegex(@"-\d+$")]
    private static partial Regex ReplicaSuffix();

    [GeneratedRegex(@"-\d{8}-\d{6}-[0-9a-f]{4}$")]
    private static partial Regex ExperimentSuffix();
}

/// <summary>Where one mix's runs of a validation half came from (<see cref="ValidationResults.Sources"/>).</summary>
/// <param name="Mix">The mix (the suite's name for it).</param>
/// <param name="Sweep">The sweep's id (it holds the date and time it began), or the run directory's name.</param>
/// <param name="Build">The commit of the build that ran it (empty where the results do not say).</param>
/// <param name="Host">The machine the client ran on (empty where the results do not say).</param>
/// <param name="Runs">Its runs.</param>
/// <param name="Compared">The runs compared: completed and, unless invalid runs were asked for, valid.</param>
/// <param name="InVirtualTime">Whether they were simulated in virtual time (<c>contention simulate</c>: every tenant on node <c>virtual</c>).</param>
public sealed record ResultsSource(string Mix, string Sweep, string Build, string Host, int Runs, int Compared, bool InVirtualTime = false)
{
    /// <summary>
    /// The source of the results in <paramref name="directory"/>: its sweep's manifest where it has
    /// one (its runs the manifest's), else <paramref name="read"/> runs found in its tenants.csv.
    /// </summary>
    public static ResultsSource Of(string directory, SweepManifest? manifest, string mix, int compared, int read, bool inVirtualTime = false) => manifest is null
        ? new(mix, Path.GetFileName(Path.TrimEndingDirectorySeparator(directory)), "", "", read, compared, inVirtualTime)
        : new(mix, manifest.Id, manifest.Tool.Commit[..Math.Min(8, manifest.Tool.Commit.Length)], manifest.Host.Describe(), manifest.Runs.Count, compared, inVirtualTime);
}

#endif
