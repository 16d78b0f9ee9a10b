using System.Globalization;
using Contention.Grains;
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
        var covered = document.Tenants.Where(r => r.Phase == MeasurementPhase.Measure).Select(r => r.Seconds).DefaultIfEmpty(0).Max();
        var sharing = string.Join(", ", document.Tenants.Where(r => !r.Device.StartsWith("cpu", StringComparison.Ordinal)).Select(r => r.Sharing.Word()).Distinct());
        var table = new Table().Border(TableBorder.Simple).Title($"{Markup.Escape(e.Name)} ({Markup.Escape(e.Id)}): {e.State}, {covered:0.#} s measured{(sharing.Length > 0 ? $", GPU sharing {sharing}" : "")}");
        // Fits 110 columns: 3-4 significant digits, switches and CPU time as pairs, no maximum
        // (tenants.csv has it, and p95). Switches and CPU time are the worker process's, all its
        // threads summed; gpu % is the tenant's kernel time over the window ("-" where not measured).
        foreach (var column in new[] { "tenant", "device", "sync" })
        {
            table.AddColumn(Column(column));
        }

        foreach (var column in new[] { "ops/s", "p50 ms", "p99 ms", "cs vol/invol", "cpu usr/sys s", "gpu %" })
        {
            table.AddColumn(Column(column).RightAligned());
        }

        table.AddColumn(Column("state"));
        var measured = document.Tenants.Where(r => r.Phase == MeasurementPhase.Measure).ToList();
        foreach (var r in measured)
        {
            table.AddRow(
                Markup.Escape(r.Tenant), Markup.Escape(r.Device), r.Sync.Word(),
                Significant(r.ThroughputPerSecond), Significant(r.P50Ms), Significant(r.P99Ms),
                $"{Count(r.VoluntarySwitches)}/{Count(r.InvoluntarySwitches)}",
                $"{Significant(r.UserCpuSeconds)}/{Significant(r.SystemCpuSeconds)}",
                r.GpuSeconds is { } gpu && r.Seconds > 0 ? Significant(100 * gpu / r.Seconds) : "-",
                r.State + (r.Restarts > 0 ? $" ({r.Restarts} restarts)" : ""));
        }

        console.Write(table);
        if (measured.Any(r => r.OsModelled))
        {
            console.MarkupLineInterpolated($"switches, CPU time and system calls of {string.Join(", ", measured.Where(r => r.OsModelled).Select(r => r.Tenant))}: [yellow]modelled[/] (the OS cost model), not measured");
        }

        if (measured.Any(r => r.Traced || r.OsModelled))
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

    /// <summary>
    /// System calls by category (eBPF), per second of the window: the categories some tenant used,
    /// busiest first, as many as fit in <see cref="Width"/> columns; the rest summed as "other".
    /// </summary>
    private static Table Categories(List<TenantRow> measured)
    {
        double Rate(TenantRow r, long calls) => r.Seconds > 0 ? calls / r.Seconds : 0;
        var used = RowBuilder.UsedCategories(measured)
            .OrderByDescending(c => measured.Sum(r => Rate(r, r.CategoryCalls.GetValueOrDefault(c))))
            .ToList();
        var tenantWidth = Math.Max(6, measured.Max(r => r.Tenant.Length)) + 2;
        string Cell(TenantRow r, double value, string? format = null) => !(r.Traced || r.OsModelled) ? "-" : format is null ? Significant(value) : F(value, format);
        int ColumnWidth(string header, Func<TenantRow, string> cell) => Math.Max(header.Length, measured.Max(r => cell(r).Length)) + 2;

        // Fixed columns: all, other (when needed), off-CPU and run-queue time.
        var fixedWidth = tenantWidth + ColumnWidth("all", r => Cell(r, Rate(r, r.Syscalls))) + ColumnWidth("off-cpu s", r => Cell(r, r.OffCpuSeconds, "0.##")) + ColumnWidth("runq s", r => Cell(r, r.RunQueueSeconds, "0.###"));
        var shown = new List<string>();
        var width = fixedWidth;
        foreach (var category in used)
        {
            var needed = ColumnWidth(category, r => Cell(r, Rate(r, r.CategoryCalls.GetValueOrDefault(category))));
            var otherWidth = shown.Count + 1 < used.Count ? ColumnWidth("other", r => Cell(r, Rate(r, r.Syscalls))) : 0;
            if (width + needed + otherWidth > Width)
            {
                break;
            }

            shown.Add(category);
            width += needed;
        }

        var rest = used.Except(shown).ToList();
        var table = new Table().Border(TableBorder.Simple).Title(measured.Any(r => r.OsModelled) ? "system calls/s by category (modelled where os_modelled; off-CPU and run-queue not modelled)" : "system calls/s by category (eBPF); off-CPU and run-queue s summed over threads").AddColumn(Column("tenant"));
        foreach (var column in shown.Prepend("all").Concat(rest.Count > 0 ? ["other"] : []).Append("off-cpu s").Append("runq s"))
        {
            table.AddColumn(Column(column).RightAligned());
        }

        foreach (var r in measured)
        {
            var cells = shown.Select(c => Cell(r, Rate(r, r.CategoryCalls.GetValueOrDefault(c))))
                .Prepend(Cell(r, Rate(r, r.Syscalls)))
                .Prepend(Markup.Escape(r.Tenant))
                .Concat(rest.Count > 0 ? [Cell(r, Rate(r, rest.Sum(c => r.CategoryCalls.GetValueOrDefault(c))))] : [])
                .Append(r.OsModelled ? "-" : Cell(r, r.OffCpuSeconds, "0.##"))
                .Append(r.OsModelled ? "-" : Cell(r, r.RunQueueSeconds, "0.###"));
            table.AddRow(cells.ToArray());
        }

        return table;
    }

    /// <summary>The terminal width the tables are made to fit.</summary>
    public const int Width = 110;

    /// <summary>A column two characters from the next (one space of padding, one of the border).</summary>
    private static TableColumn Column(string header) => new TableColumn(header).Padding(0, 0, 1, 0);

    /// <summary>A count in at most 5 characters: 9876, 12.3k, 1.23M.</summary>
    private static string Count(long value) => value switch
    {
        < 10_000 => value.ToString(CultureInfo.InvariantCulture),
        < 1_000_000 => F(value / 1e3, "0.#") + "k",
        _ => F(value / 1e6, "0.##") + "M",
    };

    /// <summary>A value to 3-4 significant digits: 172, 89.1, 7.56, 0.123.</summary>
    internal static string Significant(double value) => F(value, Math.Abs(value) switch
    {
        >= 100 => "0",
        >= 10 => "0.#",
        >= 1 => "0.##",
        _ => "0.###",
    });

    private static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
