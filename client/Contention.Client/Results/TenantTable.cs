using System.Globalization;
using Spectre.Console;

namespace Contention.Client.Results;

/// <summary>The per-tenant table printed at the end of a run and by <c>contention report</c>.</summary>
public static class TenantTable
{
    /// <summary>Renders the measurement-window rows of <paramref name="document"/>.</summary>
    public static void Print(IAnsiConsole console, ResultsDocument document)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(document);
        var e = document.Experiment;
        // What the tracer covered: less than the plan's duration when the run ended early (every
        // tenant finished its work, or the run was interrupted).
        var covered = document.Tenants.Where(r => r.Phase == "measure").Select(r => r.Seconds).DefaultIfEmpty(0).Max();
        var table = new Table().Title($"{Markup.Escape(e.Name)} ({Markup.Escape(e.Id)}): {e.State}, {covered:0.#} s measured");
        string[] right = ["ops/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "vol cs", "invol cs", "user s", "sys s"];
        table.AddColumns("tenant", "kind", "device", "sync");
        foreach (var column in right)
        {
            table.AddColumn(new TableColumn(column).RightAligned());
        }

        table.AddColumn("state");
        var measured = document.Tenants.Where(r => r.Phase == "measure").ToList();
        foreach (var r in measured)
        {
            table.AddRow(
                Markup.Escape(r.Tenant), r.Kind, Markup.Escape(r.Device), r.Sync,
                F(r.ThroughputPerSecond, "0.##"), F(r.P50Ms, "0.###"), F(r.P95Ms, "0.###"), F(r.P99Ms, "0.###"), F(r.MaxMs, "0.###"),
                r.VoluntarySwitches.ToString(CultureInfo.InvariantCulture), r.InvoluntarySwitches.ToString(CultureInfo.InvariantCulture),
                F(r.UserCpuSeconds, "0.##"), F(r.SystemCpuSeconds, "0.##"),
                r.State + (r.Restarts > 0 ? $" ({r.Restarts} restarts)" : ""));
        }

        console.Write(table);
        if (measured.Any(r => r.Traced))
        {
            console.Write(Categories(measured));
            if (measured.Max(r => r.EbpfDropped) is > 0 and var lost)
            {
                console.MarkupLineInterpolated($"[yellow]{lost} eBPF events were not counted[/] (the tracer's maps were full): system-call counts are lower bounds");
            }
        }
        foreach (var failure in document.Failures)
        {
            console.MarkupLineInterpolated($"[red]failure[/] {failure.Tenant} on {failure.Node}: {failure.Message}{(failure.WillRestart ? " (restarted)" : "")}");
        }

        if (document.Validity is { Valid: true })
        {
            console.MarkupLine("verdict: [green]valid[/]");
        }
        else if (document.Validity is { } invalid)
        {
            console.MarkupLine("verdict: [red]invalid[/]");
            foreach (var reason in invalid.Reasons)
            {
                console.MarkupLineInterpolated($"  - {reason}");
            }
        }
    }

    /// <summary>System calls by category (eBPF), per second of the window; only the categories some tenant used.</summary>
    private static Table Categories(List<TenantRow> measured)
    {
        var categories = RowBuilder.UsedCategories(measured);
        var table = new Table().Title("system calls per second by category (eBPF), off-CPU and run-queue time").AddColumn("tenant");
        foreach (var column in categories.Prepend("all").Append("off-cpu s").Append("run-queue s"))
        {
            table.AddColumn(new TableColumn(column).RightAligned());
        }

        foreach (var r in measured)
        {
            double Rate(long calls) => r.Seconds > 0 ? calls / r.Seconds : 0;
            var cells = categories.Select(c => r.Traced ? F(Rate(r.CategoryCalls.GetValueOrDefault(c)), "0.#") : "-")
                .Prepend(r.Traced ? F(Rate(r.Syscalls), "0.#") : "-")
                .Prepend(Markup.Escape(r.Tenant))
                .Append(r.Traced ? F(r.OffCpuSeconds, "0.##") : "-")
                .Append(r.Traced ? F(r.RunQueueSeconds, "0.###") : "-");
            table.AddRow(cells.ToArray());
        }

        return table;
    }

    private static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
