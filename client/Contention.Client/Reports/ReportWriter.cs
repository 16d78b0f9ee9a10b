using System.Globalization;
using System.Text;
using Contention.Client.Analysis;
using Contention.Client.Results;
using Contention.Grains;

namespace Contention.Client.Reports;

/// <summary>
/// <c>contention report</c>'s output: report.md, tidy CSVs, LaTeX tables and figures in one
/// directory, from a sweep or a single run. Sections appear where the data supports them: the
/// Phase-1 analysis for microbenchmark grids; the runs table always.
/// </summary>
public static class ReportWriter
{
    /// <summary>The report's Markdown file.</summary>
    public const string Markdown = "report.md";

    /// <summary>Writes the report of <paramref name="input"/> into <paramref name="directory"/>; returns the files written and each section's findings paragraph (none when no analysis applied).</summary>
    public static (IReadOnlyList<string> Files, IReadOnlyList<string> Findings) Write(ReportInput input, string directory)
    {
        ArgumentNullException.ThrowIfNull(input);
        Directory.CreateDirectory(directory);
        var files = new List<string>();
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"# {input.Name}: report\n\n");
        text.Append(CultureInfo.InvariantCulture, $"- results: `{input.Directory}` ({input.Runs.Count} run{(input.Runs.Count == 1 ? "" : "s")} with results{(input.IncludesInvalid || input.Invalid.Count == 0 ? "" : $" counted, {input.Invalid.Count} more left out as invalid")}");
        text.Append(input.Missing.Count > 0 ? $"; without results: {string.Join(", ", input.Missing)}" : "").Append(")\n");
        if (input.Invalid.Count > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"- {input.Invalid.Count} run{(input.Invalid.Count == 1 ? "" : "s")} judged invalid, {(input.IncludesInvalid ? "kept in every number below (`--include-invalid`)" : "left out of every number below (`--include-invalid` keeps them)")}:\n");
            foreach (var (run, reasons) in input.Invalid)
            {
                text.Append(CultureInfo.InvariantCulture, $"  - {run}: {string.Join("; ", reasons)}\n");
            }
        }

        text.Append(CultureInfo.InvariantCulture, $"- written by {input.Tool.Name} {input.Tool.Version} ({input.Tool.Commit}) on {input.Host.Describe()} ({input.Host.Os})\n");
        if (input.Overrides.Length > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"- command-line overrides: `{input.Overrides}`\n");
        }

        foreach (var device in input.Runs.SelectMany(r => r.Document.Devices).Select(d => $"{d.Device}: {d.Description}").Distinct(StringComparer.Ordinal))
        {
            text.Append(CultureInfo.InvariantCulture, $"- device {device}\n");
        }

        text.Append("- every number below is computed by `contention report` from the runs' results; the findings paragraphs are generated from those numbers.\n\n");
        var findings = new List<string>();
        var phases = input.Phases();
        if (phases.Any(p => p.Traced && p.Phase == "steady"))
        {
            var result = Phase1Analysis.Analyze(phases);
            var (section, written) = Phase1Report.Write(result, phases, directory);
            text.Append(section);
            files.AddRange(written);
            findings.Add(result.Findings);
        }
        else if (phases.Any(p => p.Phase == "steady"))
        {
            text.Append("Grid phases were recorded without the eBPF tracer (not root, or --ebpf off): no system-call analysis; phases.csv of each run has the worker's own measurements.\n\n");
        }

        if (input.Axes.Count > 0 && input.Runs.Count > 1)
        {
            var (section, effectFindings, written) = EffectsReport.Write(input, directory);
            text.Append(section);
            files.AddRange(written);
            if (effectFindings.Length > 0)
            {
                findings.Add(effectFindings);
            }
        }

        if (ColocationReport.Applies(input))
        {
            var (section, colocationFindings, written) = ColocationReport.Write(input, directory);
            text.Append(section);
            files.AddRange(written);
            findings.Add(colocationFindings);
        }

        if (ThreadCallsReport.Applies(input))
        {
            var (section, written) = ThreadCallsReport.Write(input, directory);
            text.Append(section);
            files.AddRange(written);
        }

        var runs = RunRows(input);
        ResultsFiles.Replace(Path.Combine(directory, "runs.csv"), ResultsFiles.Tidy(runs));
        files.Add("runs.csv");
        text.Append(RunsMarkdown(input, runs));
        ResultsFiles.Replace(Path.Combine(directory, Markdown), text.ToString());
        files.Insert(0, Markdown);
        return (files, findings);
    }

    private static List<RunRecord> RunRows(ReportInput input) =>
        input.Runs.SelectMany(run => run.Document.Tenants.Where(t => t.Phase == MeasurementPhase.Measure).Select(t => new RunRecord(
            run.Id,
            string.Join(' ', input.Axes.Select(a => $"{a}={run.Values.GetValueOrDefault(a, "")}")),
            run.Document.Experiment.State,
            t.Tenant,
            t.Kind,
            t.Device,
            t.Sync,
            t.Seconds,
            t.Completed,
            t.ThroughputPerSecond,
            t.P50Ms,
            t.P99Ms,
            t.VoluntarySwitches,
            t.InvoluntarySwitches,
            t.UserCpuSeconds,
            t.SystemCpuSeconds,
            t.Syscalls))).ToList();

    private static string RunsMarkdown(ReportInput input, List<RunRecord> runs)
    {
        var text = new StringBuilder("## Runs (measurement window of each tenant)\n\n");
        text.Append("| run | point | state | tenant | device | sync | s | ops/s | p50 ms | p99 ms | vol. cs | invol. cs | user s | sys s | calls |\n");
        text.Append("|---|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (var r in runs)
        {
            text.Append(CultureInfo.InvariantCulture, $"| {r.Run} | {r.Point} | {r.State} | {r.Tenant} | {r.Device} | {r.Sync.Word()} | {r.Seconds:0.#} | {r.ThroughputPerSecond:0.##} | {r.P50Ms:0.###} | {r.P99Ms:0.###} | {r.VoluntarySwitches} | {r.InvoluntarySwitches} | {r.UserCpuSeconds:0.##} | {r.SystemCpuSeconds:0.##} | {r.Syscalls} |\n");
        }

        if (input.Runs.SelectMany(r => r.Document.Failures).ToList() is { Count: > 0 } failures)
        {
            text.Append("\n### Failures\n\n");
            foreach (var f in failures)
            {
                text.Append(CultureInfo.InvariantCulture, $"- {f.AtUtc:u} {f.Tenant} on {f.Node}: {f.Message}\n");
            }
        }

        return text.ToString();
    }
}

/// <summary>runs.csv: one row per run and tenant, its measurement window.</summary>
public sealed record RunRecord(string Run, string Point, string State, string Tenant, TenantKind Kind, string Device, SyncMode Sync, double Seconds, long Completed, double ThroughputPerSecond, double P50Ms, double P99Ms, long VoluntarySwitches, long InvoluntarySwitches, double UserCpuSeconds, double SystemCpuSeconds, long Syscalls);
