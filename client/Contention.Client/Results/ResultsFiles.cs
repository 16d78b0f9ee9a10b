using System.Globalization;
using System.Text;
using System.Text.Json;
using Contention.Client.Mixes;
using Contention.Grains;

namespace Contention.Client.Results;

/// <summary>
/// The results directory: results.json (envelope and results), tenants.csv (tidy rows),
/// summary.md, threads.csv, syscalls.csv and ioctls.csv (empty where eBPF did not run),
/// phases.csv and phase_syscalls.csv (the phases workers marked in-band). Each
/// write replaces the files atomically (write, then rename), so an interrupted run leaves the last complete snapshot, never a torn file.
/// </summary>
public static class ResultsFiles
{
    /// <summary>File names.</summary>
    public const string Json = "results.json";

    /// <summary>The tidy rows.</summary>
    public const string Csv = "tenants.csv";

    /// <summary>The human summary.</summary>
    public const string Summary = "summary.md";

    /// <summary>Per-thread counters of the workers.</summary>
    public const string ThreadsCsv = "threads.csv";

    /// <summary>System calls per tenant, phase and call (eBPF).</summary>
    public const string SyscallsCsv = "syscalls.csv";

    /// <summary>Decoded ioctls per tenant, phase and kind (eBPF).</summary>
    public const string IoctlsCsv = "ioctls.csv";

    /// <summary>System calls per tenant, phase, worker thread and call (eBPF with --thread-calls; only its header otherwise).</summary>
    public const string ThreadSyscallsCsv = "thread_syscalls.csv";

    /// <summary>The phases the workers marked (start-up, grid points, the run).</summary>
    public const string PhasesCsv = "phases.csv";

    /// <summary>System calls per marked phase (eBPF).</summary>
    public const string PhaseSyscallsCsv = "phase_syscalls.csv";


    /// <summary>Writes all three files into <paramref name="directory"/>.</summary>
    public static void Write(string directory, ResultsDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        Directory.CreateDirectory(directory);
        Replace(Path.Combine(directory, Json), JsonSerializer.Serialize(document, ResultsJson.Default.ResultsDocument));
        var csv = new StringWriter(CultureInfo.InvariantCulture);
        using (var writer = WordConverters.CsvWriter(csv))
        {
            writer.Context.RegisterClassMap<TenantRowMap>();
            writer.WriteRecords(document.Tenants);
        }

        Replace(Path.Combine(directory, Csv), csv.ToString());
        var threads = new StringWriter(CultureInfo.InvariantCulture);
        using (var writer = WordConverters.CsvWriter(threads))
        {
            writer.Context.RegisterClassMap<ThreadRowMap>();
            writer.WriteRecords(document.Threads);
        }

        Replace(Path.Combine(directory, ThreadsCsv), threads.ToString());
        Replace(Path.Combine(directory, SyscallsCsv), Tidy(document.Syscalls));
        Replace(Path.Combine(directory, IoctlsCsv), Tidy(document.Ioctls));
        Replace(Path.Combine(directory, ThreadSyscallsCsv), Tidy(document.ThreadSyscalls));
        Replace(Path.Combine(directory, PhasesCsv), Tidy(document.Phases));
        Replace(Path.Combine(directory, PhaseSyscallsCsv), Tidy(document.PhaseSyscalls));
        Replace(Path.Combine(directory, Summary), Markdown(document));
    }

    /// <summary>Reads results.json from a results directory (or the file itself).</summary>
    /// <exception cref="FileNotFoundException">No results there.</exception>
    public static ResultsDocument Read(string path)
    {
        var file = Directory.Exists(path) ? Path.Combine(path, Json) : path;
        if (!File.Exists(file))
        {
            throw new FileNotFoundException($"{file}: no results here; give the directory a run wrote (contention run MIX --out DIR)");
        }

        return JsonSerializer.Deserialize(File.ReadAllText(file), ResultsJson.Default.ResultsDocument)
            ?? throw new InvalidDataException($"{file} is empty");
    }

    /// <summary>The summary.md text.</summary>
    public static string Markdown(ResultsDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var text = new StringBuilder();
        var e = document.Experiment;
        text.Append(CultureInfo.InvariantCulture, $"# {e.Name} — {e.Id}\n\n");
        text.Append(CultureInfo.InvariantCulture, $"- state: **{e.State}**{(string.IsNullOrEmpty(e.Message) ? "" : $" ({e.Message})")}\n");
        if (document.Validity is { } validity)
        {
            text.Append(validity.Valid ? "- verdict: **valid**\n" : "- verdict: **invalid**\n");
            foreach (var reason in validity.Reasons)
            {
                text.Append(CultureInfo.InvariantCulture, $"  - {reason}\n");
            }
        }

        text.Append(CultureInfo.InvariantCulture, $"- started {e.StartedUtc:u}, ended {(e.EndedUtc is null ? "—" : e.EndedUtc.Value.ToString("u", CultureInfo.InvariantCulture))}; warm-up {e.WarmupSeconds:0.###} s, measurement {e.DurationSeconds:0.###} s\n");
        text.Append(CultureInfo.InvariantCulture, $"- tool {document.Tool.Name} {document.Tool.Version} ({document.Tool.Commit}); host {document.Host.Describe()} ({document.Host.Os})\n");
        foreach (var device in document.Devices)
        {
            text.Append(CultureInfo.InvariantCulture, $"- device {device.Device} on {device.Node}: {device.Description}\n");
        }

        foreach (var (tenant, capacity) in document.Mix.Capacities ?? new Dictionary<string, TenantCapacity>())
        {
            text.Append(CultureInfo.InvariantCulture, $"- {tenant} offered {capacity.Share * 100:0.#} % of its capacity: {capacity.RatePerSecond:0.#} requests/s of {capacity.CapacityPerSecond:0.#} ({capacity.MeasuredBy})\n");
        }

        text.Append("\n## Measurement window\n\n");
        text.Append("| tenant | kind | device | sync | sharing | ops/s | p50 ms | p95 ms | p99 ms | max ms | vol. cs | invol. cs | user s | sys s | state |\n");
        text.Append("|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
        foreach (var r in document.Tenants.Where(r => r.Phase == MeasurementPhase.Measure))
        {
            text.Append(CultureInfo.InvariantCulture, $"| {r.Tenant} | {r.Kind.Word()} | {r.Device} | {r.Sync.Word()} | {r.Sharing.Word()}{(r.GpuSharePercent < 100 ? $" {r.GpuSharePercent}%" : "")}{(r.Arbiter == ArbiterMode.Off ? "" : $" + arbiter ({r.Arbiter.Word()})")} | {r.ThroughputPerSecond:0.##} | {r.P50Ms:0.###} | {r.P95Ms:0.###} | {r.P99Ms:0.###} | {r.MaxMs:0.###} | {r.VoluntarySwitches} | {r.InvoluntarySwitches} | {r.UserCpuSeconds:0.##} | {r.SystemCpuSeconds:0.##} | {r.State} |\n");
        }

        var traced = document.Tenants.Where(r => r.Phase == MeasurementPhase.Measure && r.Traced).ToList();
        if (traced.Count > 0)
        {
            var categories = RowBuilder.UsedCategories(traced);
            text.Append("\n## System calls by category (eBPF), measurement window\n\n");
            text.Append(CultureInfo.InvariantCulture, $"| tenant | calls | seconds in calls | {string.Join(" | ", categories)} | off-CPU s | run-queue s |\n");
            text.Append(CultureInfo.InvariantCulture, $"|---|---:|---:|{string.Concat(categories.Select(_ => "---:|"))}---:|---:|\n");
            foreach (var r in traced)
            {
                text.Append(CultureInfo.InvariantCulture, $"| {r.Tenant} | {r.Syscalls} | {r.SyscallSeconds:0.###} | {string.Join(" | ", categories.Select(c => r.CategoryCalls.GetValueOrDefault(c).ToString(CultureInfo.InvariantCulture)))} | {r.OffCpuSeconds:0.###} | {r.RunQueueSeconds:0.###} |\n");
            }

            if (traced.Where(r => r.TimedCalls > 0 && r.TimedCalls < r.Syscalls).ToList() is { Count: > 0 } sampled)
            {
                text.Append(CultureInfo.InvariantCulture, $"\nSeconds in calls of {string.Join(", ", sampled.Select(r => r.Tenant))} are estimates: threads making calls faster than the tracer's sampling rate had a random sample timed ({string.Join(", ", sampled.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.TimedCalls} of {r.Syscalls}")))} calls; docs/tracer.md).\n");
            }

            if (traced.Max(r => r.EbpfDropped) is > 0 and var lost)
            {
                text.Append(CultureInfo.InvariantCulture, $"\n**{lost} eBPF events were not counted** (the tracer's maps were full): the system-call counts above are lower bounds.\n");
            }

            if (document.Ioctls.Any(i => i.Phase == MeasurementPhase.Measure && i.Device != "-" && !i.Device.StartsWith("dev ", StringComparison.Ordinal)))
            {
                text.Append("\n| tenant | device | ioctl | calls | seconds |\n|---|---|---|---:|---:|\n");
                foreach (var i in document.Ioctls.Where(i => i.Phase == MeasurementPhase.Measure).OrderByDescending(i => i.Count).Take(30))
                {
                    text.Append(CultureInfo.InvariantCulture, $"| {i.Tenant} | {i.Device} | {i.Ioctl} | {i.Count} | {i.Seconds:0.######} |\n");
                }
            }
        }

        if (document.Phases.Count > 0)
        {
            PhasesMarkdown(text, document.Phases);
        }

        if (document.Threads.Count > 0)
        {
            text.Append("\n## Busiest worker threads (whole worker life, start-up included)\n\n");
            text.Append("| tenant | thread | tid | user s | sys s | vol. cs | invol. cs |\n|---|---|---:|---:|---:|---:|---:|\n");
            foreach (var group in document.Threads.GroupBy(t => t.Tenant))
            {
                foreach (var t in group.OrderByDescending(t => t.UserCpuSeconds + t.SystemCpuSeconds).Take(3))
                {
                    text.Append(CultureInfo.InvariantCulture, $"| {t.Tenant} | {t.Name} | {t.Tid} | {t.UserCpuSeconds:0.##} | {t.SystemCpuSeconds:0.##} | {t.VoluntarySwitches} | {t.InvoluntarySwitches} |\n");
                }
            }
        }

        if (document.ThreadSyscalls.Any(c => c.Phase == MeasurementPhase.Measure))
        {
            // Which thread makes which calls while measured (--thread-calls): each tenant's busiest pairs.
            text.Append("\n## System calls by worker thread (measured window; thread_syscalls.csv has every one)\n\n");
            text.Append("| tenant | thread | tid | category | system call | calls | seconds |\n|---|---|---:|---|---|---:|---:|\n");
            foreach (var group in document.ThreadSyscalls.Where(c => c.Phase == MeasurementPhase.Measure).GroupBy(c => c.Tenant))
            {
                foreach (var c in group.OrderByDescending(c => c.Count).Take(8))
                {
                    text.Append(CultureInfo.InvariantCulture, $"| {c.Tenant} | {c.Thread} | {c.Tid} | {c.Category} | {c.Syscall} | {c.Count} | {c.Seconds:0.######} |\n");
                }
            }
        }

        if (document.Failures.Count > 0)
        {
            text.Append("\n## Failures\n\n");
            foreach (var f in document.Failures)
            {
                text.Append(CultureInfo.InvariantCulture, $"- {f.AtUtc:u} {f.Tenant} on {f.Node}: {f.Message} (exit {f.ExitCode}{(f.WillRestart ? ", restarted" : "")})\n");
            }
        }

        return text.ToString();
    }

    /// <summary>The phases workers marked: every one up to a screenful, the rest in phases.csv.</summary>
    private static void PhasesMarkdown(StringBuilder text, List<PhaseRow> phases)
    {
        const int Shown = 60;
        text.Append("\n## Phases marked in-band (start-up, grid points, the run)\n\n");
        text.Append("| tenant | device | # | phase | op | bytes | iterations (run) | wall s | calls | calls/iteration | vol. cs | invol. cs | user s | sys s |\n");
        text.Append("|---|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (var p in phases.Take(Shown))
        {
            var iterations = p.Iterations == 0 ? "" : p.IterationsRun == p.Iterations ? $"{p.Iterations}" : $"{p.Iterations} ({p.IterationsRun})";
            var calls = p.Traced ? p.Syscalls.ToString(CultureInfo.InvariantCulture) : "—";
            var perIteration = p.Traced && p.IterationsRun > 0 ? (p.Syscalls / (double)p.IterationsRun).ToString("0.###", CultureInfo.InvariantCulture) : "";
            text.Append(CultureInfo.InvariantCulture, $"| {p.Tenant} | {p.Device} | {p.Index} | {p.Phase} | {p.Op} | {(p.Bytes == 0 ? "" : Units.FormatBytes(p.Bytes))} | {iterations} | {p.WallSeconds:0.######} | {calls} | {perIteration} | {p.VoluntarySwitches} | {p.InvoluntarySwitches} | {p.UserCpuSeconds:0.###} | {p.SystemCpuSeconds:0.###} |\n");
        }

        if (phases.Count > Shown)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n{phases.Count - Shown} more phases in {PhasesCsv}.\n");
        }

        if (phases.Any(p => p.IterationsRun < p.Iterations))
        {
            text.Append("\nIterations in parentheses: launches made where the point's time limit (`point_limit`) cut the phase short.\n");
        }
    }

    /// <summary>Records as CSV, one column per property, headers in snake_case.</summary>
    internal static string Tidy<T>(IEnumerable<T> records)
    {
        var text = new StringWriter(CultureInfo.InvariantCulture);
        using (var writer = WordConverters.CsvWriter(text))
        {
            writer.Context.RegisterClassMap<SnakeCaseMap<T>>();
            writer.WriteRecords(records);
        }

        return text.ToString();
    }

    /// <summary>Writes <paramref name="path"/> atomically: a reader sees the old file or the new one, never a torn one.</summary>
    internal static void Replace(string path, string content)
    {
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, content);
        File.Move(temporary, path, overwrite: true);
    }
}
