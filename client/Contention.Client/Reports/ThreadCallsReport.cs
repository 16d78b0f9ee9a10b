using System.Globalization;
using System.Text;
using Contention.Client.Results;
using Contention.Grains;

namespace Contention.Client.Reports;

/// <summary>
/// Which worker thread makes which system calls in the measured window, for runs made with
/// <c>--thread-calls</c>: per sweep point, tenant, thread and category, calls a second and per
/// operation (request, step, repetition), the mean over the point's repetitions. Threads of one
/// name are taken together (the .NET pool's workers are several); a tenant's own thread (named
/// <c>tenant NAME</c>) reads "tenant thread", so a point's tenants compare.
/// </summary>
internal static class ThreadCallsReport
{
    /// <summary>The tidy table's file.</summary>
    public const string Csv = "thread_calls.csv";

    /// <summary>Rows the Markdown table shows at most (the CSV has every one).</summary>
    private const int MarkdownRows = 120;

    /// <summary>A row the Markdown table shows has at least this many calls an operation or <see cref="MinPerSecond"/> a second.</summary>
    private const double MinPerOperation = 0.1;

    /// <inheritdoc cref="MinPerOperation"/>
    private const double MinPerSecond = 5;

    /// <summary>Whether any run counted its threads' calls in the measured window.</summary>
    public static bool Applies(ReportInput input) =>
        input.Runs.Any(r => r.Document.ThreadSyscalls.Any(c => c.Phase == MeasurementPhase.Measure));

    /// <summary>The section and the files written.</summary>
    public static (string Section, IReadOnlyList<string> Files) Write(ReportInput input, string directory)
    {
        var rows = Rows(input);
        ResultsFiles.Replace(Path.Combine(directory, Csv), ResultsFiles.Tidy(rows));
        var text = new StringBuilder("## System calls by worker thread (measured window)\n\n");
        text.Append("Each tenant's calls per thread and category (runs made with `--thread-calls`): a second of the window and per operation, the mean over the point's repetitions; threads of one name together, the tenant's own thread as \"tenant thread\". Rows under 0.1 calls an operation and 5 a second are left out here");
        text.Append(CultureInfo.InvariantCulture, $" ({Csv} has every one).\n\n");
        text.Append("| point | tenant | thread | category | calls/s | per op | runs |\n|---|---|---|---|---:|---:|---:|\n");
        var shown = rows.Where(r => r.CallsPerOperation >= MinPerOperation || r.CallsPerSecond >= MinPerSecond).ToList();
        foreach (var r in shown.Take(MarkdownRows))
        {
            var perOperation = double.IsNaN(r.CallsPerOperation) ? "-" : r.CallsPerOperation.ToString("0.###", CultureInfo.InvariantCulture);
            text.Append(CultureInfo.InvariantCulture, $"| {r.Point} | {r.Tenant} | {r.Thread} | {r.Category} | {r.CallsPerSecond:0.#} | {perOperation} | {r.Runs} |\n");
        }

        if (shown.Count > MarkdownRows)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n{shown.Count - MarkdownRows} more rows in {Csv}.\n");
        }

        return (text.Append('\n').ToString(), [Csv]);
    }

    /// <summary>The table: by point (in run order), tenant, calls a second (most first).</summary>
    internal static List<ThreadCallsRecord> Rows(ReportInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var perRun = new List<(string Point, string Tenant, string Thread, string Category, double PerSecond, double PerOperation, string Run)>();
        var order = new List<string>();
        foreach (var run in input.Runs)
        {
            var point = string.Join(' ', input.Axes.Select(a => $"{a}={run.Values.GetValueOrDefault(a, "")}"));
            if (!order.Contains(point))
            {
                order.Add(point);
            }

            var measured = run.Document.Tenants.Where(t => t.Phase == MeasurementPhase.Measure).ToDictionary(t => t.Tenant, StringComparer.Ordinal);
            foreach (var group in run.Document.ThreadSyscalls.Where(c => c.Phase == MeasurementPhase.Measure).GroupBy(c => (c.Tenant, Thread: Role(c.Tenant, c.Thread), c.Category)))
            {
                if (!measured.TryGetValue(group.Key.Tenant, out var tenant) || tenant.Seconds <= 0)
                {
                    continue;
                }

                var calls = group.Sum(c => c.Count);
                perRun.Add((point, group.Key.Tenant, group.Key.Thread, group.Key.Category, calls / tenant.Seconds, tenant.Completed > 0 ? (double)calls / tenant.Completed : double.NaN, run.Id));
            }
        }

        // A thread a repetition did not have made no calls in it: the mean counts it as 0.
        var runsAt = perRun.GroupBy(r => r.Point).ToDictionary(g => g.Key, g => g.Select(r => r.Run).Distinct().Count());
        return [.. perRun.GroupBy(r => (r.Point, r.Tenant, r.Thread, r.Category))
            .Select(g => new ThreadCallsRecord(g.Key.Point, g.Key.Tenant, g.Key.Thread, g.Key.Category, g.Sum(r => r.PerSecond) / runsAt[g.Key.Point], g.Any(r => double.IsNaN(r.PerOperation)) ? double.NaN : g.Sum(r => r.PerOperation) / runsAt[g.Key.Point], runsAt[g.Key.Point]))
            .OrderBy(r => order.IndexOf(r.Point)).ThenBy(r => r.Tenant, StringComparer.Ordinal).ThenByDescending(r => r.CallsPerSecond)];
    }

    // The tenant's own thread (WorkerSession.ThreadName), cut to the 15 characters a thread name holds.
    private static string Role(string tenant, string thread)
    {
        var own = Contention.Workloads.Worker.WorkerSession.ThreadName(tenant);
        return thread == own[..Math.Min(own.Length, 15)] ? "tenant thread" : thread.Length == 0 ? "(unnamed)" : thread;
    }
}

/// <summary>One row of thread_calls.csv.</summary>
/// <param name="Point">The sweep point (its axis values; empty for a single run).</param>
/// <param name="Tenant">The tenant.</param>
/// <param name="Thread">The thread's name ("tenant thread" for the tenant's own).</param>
/// <param name="Category">The system calls' category.</param>
/// <param name="CallsPerSecond">Calls a second of the measured window, the mean over the point's runs.</param>
/// <param name="CallsPerOperation">Calls per completed operation, the mean over the point's runs (NaN where one completed none).</param>
/// <param name="Runs">The point's runs with the tenant's calls per thread.</param>
internal sealed record ThreadCallsRecord(string Point, string Tenant, string Thread, string Category, double CallsPerSecond, double CallsPerOperation, int Runs);
