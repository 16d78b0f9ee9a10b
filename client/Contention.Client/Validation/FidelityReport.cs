#if !NO_REPORTS
using System.Globalization;
using System.Text;
using Contention.Client.Reports;
using CsvHelper;
using ScottPlot;

namespace Contention.Client.Validation;

/// <summary>What a fidelity report says about where its numbers come from.</summary>
/// <param name="Command">The command that made it.</param>
/// <param name="Real">Where the real GPU's results are.</param>
/// <param name="Model">Where the modelled GPU's results are.</param>
/// <param name="Profile">The modelled GPU's profile.</param>
public sealed record FidelitySources(string Command, string Real, string Model, string Profile);

/// <summary>
/// Writes a <see cref="Fidelity"/>: fidelity.md (summary per metric and sharing mode against the
/// targets, then every case), fidelity.csv (one tidy row per case and metric) and two figures of
/// model against real on log axes with the y = x line and the 2x band.
/// </summary>
public static class FidelityReport
{
    /// <summary>The report's Markdown file.</summary>
    public const string Markdown = "fidelity.md";

    /// <summary>Operations a replica completes in a run below which the report says its p99 rests on its few longest (<see cref="FidelityCase.FewestOperations"/>).</summary>
    public const long FewOperations = 100;

    /// <summary>Timed batches a replica's GPU time in a run rests on below which the report says its GPU-seconds ratio says little (<see cref="FidelityCase.FewestTimedBatches"/>).</summary>
    public const long FewTimedBatches = 20;

    /// <summary>Its tidy table.</summary>
    public const string Csv = "fidelity.csv";

    /// <summary>Writes the report into <paramref name="directory"/>; returns the files' names.</summary>
    public static IReadOnlyList<string> Write(Fidelity fidelity, ValidationResults real, ValidationResults model, FidelitySources sources, string directory)
    {
        ArgumentNullException.ThrowIfNull(fidelity);
        ArgumentNullException.ThrowIfNull(real);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(sources);
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, Markdown), Text(fidelity, real, model, sources));
        WriteCsv(fidelity, Path.Combine(directory, Csv));
        var files = new List<string> { Markdown, Csv };
        files.AddRange(Figure(fidelity, directory, "fidelity-latency", "latency percentiles (ms)", c => c.Metric.Latency));
        files.AddRange(Figure(fidelity, directory, "fidelity-rates", "throughput, GPU, CPU, switches and system calls (per second)", c => !c.Metric.Latency));
        return files;
    }

    /// <summary>The summary lines a terminal shows: one per metric with a target, overall.</summary>
    public static IEnumerable<string> Headlines(Fidelity fidelity)
    {
        ArgumentNullException.ThrowIfNull(fidelity);
        return fidelity.Summaries.Where(s => s.Sharing == "all" && s.Cases > 0).Select(s =>
            Invariant($"{s.Metric.Name}: {s.Cases} cases, median error {s.MedianError * 100:0.#} %, worst {s.Worst!.Ratio:0.###}x ({s.Worst.Case}, {s.Worst.Sharing})")
            + (s.Metric.Target is { } t ? $"; target {t.Describe()}: {(s.Met == true ? "met" : "NOT met")}" : ""));
    }

    private static string Text(Fidelity fidelity, ValidationResults real, ValidationResults model, FidelitySources sources)
    {
        var text = new StringBuilder();
        text.AppendLine("# Fidelity of the modelled GPU");
        text.AppendLine();
        text.AppendLine(Invariant($"Made by `{sources.Command}`. Real GPU: `{sources.Real}`; modelled GPU: `{sources.Model}`, profile {sources.Profile}."));
        text.AppendLine();
        text.AppendLine("Each case is a mix tenant at one sweep point, its replicas together: rates (throughput, GPU and CPU seconds, switches a second) the mean over them, the tenant's total per replica; latencies the median over them; slowest_replica the slowest one's throughput over that mean (how evenly they shared; no target); its value per run is from the measurement window; the ratio is the modelled mean over the real mean over repetitions, with a 95 % bootstrap interval when both sides have two or more. The error is |ratio - 1|. Latencies of a tenant that completed under 90 % of its offered requests on either side (overloaded) are no tail: listed, left out of the summary.");
        if (fidelity.Pooled)
        {
            text.AppendLine();
            text.AppendLine("Latencies pooled (`--pooled`): a case's p50, p95 and p99 on each side are the percentiles of every operation of its replicas in every run together (their histograms merged), not means over repetitions of the median over replicas; their intervals resample whole runs. More operations per estimate: a tail made of a few rare stalls is read from all of them instead of a mean of per-run extremes.");
        }

        text.AppendLine();
        text.AppendLine("## Summary");
        text.AppendLine();
        text.AppendLine("| metric | sharing | cases | median error | worst case (ratio) | target | met |");
        text.AppendLine("|---|---|---:|---:|---|---|---|");
        foreach (var s in fidelity.Summaries.Where(s => s.Cases > 0))
        {
            text.AppendLine(Invariant($"| {s.Metric.Name} | {s.Sharing} | {s.Cases} | {s.MedianError * 100:0.#} % | {s.Worst!.Case} ({s.Worst.Ratio:0.###}x) | {s.Metric.Target?.Describe() ?? "-"} | {(s.Met is null ? "-" : s.Met.Value ? "yes" : "**no**")} |"));
        }

        text.AppendLine();
        text.AppendLine("## Cases");
        text.AppendLine();
        text.AppendLine("Model/real ratio per metric (95 % interval); `ovl`: overloaded, its latencies not counted; `res`: below the measurement's resolution, not counted (below).");
        text.AppendLine();
        var metrics = fidelity.Cases.Select(c => c.Metric).Distinct().OrderBy(m => ValidationMetricIndex(m)).ToList();
        text.AppendLine("| case | sharing | " + string.Join(" | ", metrics.Select(m => m.Name)) + " |");
        text.AppendLine("|---|---|" + string.Concat(metrics.Select(_ => "---:|")));
        foreach (var group in fidelity.Cases.GroupBy(c => (c.Case, c.Sharing)))
        {
            var byMetric = group.ToDictionary(c => c.Metric);
            var cells = metrics.Select(m => byMetric.TryGetValue(m, out var c) ? Cell(c) : "");
            text.AppendLine($"| {group.Key.Case}{(group.First().Overloaded ? " (ovl)" : "")} | {group.Key.Sharing} | {string.Join(" | ", cells)} |");
        }

        var thin = fidelity.Pooled ? [] : fidelity.Cases.Where(c => c.Metric == ValidationMetric.P99 && c.Counted && c.FewestOperations < FewOperations).ToList();
        if (thin.Count > 0)
        {
            text.AppendLine();
            text.AppendLine(Invariant($"p99 of few operations: in {thin.Count} case(s) a replica completed fewer than {FewOperations} operations in a run (as few as {thin.Min(c => c.FewestOperations)}), so its p99 there is about its longest operation, and a mean of such extremes moves a lot between sets of runs: {string.Join("; ", thin.Select(c => $"{c.Case} ({c.FewestOperations})"))}. `--pooled` reads their percentiles from every run's operations together (it needs the runs' points/ folders), or run longer windows."));
        }

        var unresolved = fidelity.Cases.Where(c => c.BelowResolution).ToList();
        if (unresolved.Count > 0)
        {
            text.AppendLine();
            text.AppendLine(Invariant($"Below the measurement's resolution: in {unresolved.Count} case(s) both sides' mean a replica a run was under {Fidelity.ResolvedSteps:0} steps of its measurement — for CPU time, /proc's clock ticks of {ValidationMetric.ClockTickSeconds * 1000:0} ms, so under {Fidelity.ResolvedSteps * ValidationMetric.ClockTickSeconds:0.##} s of CPU in a run, each run's value rounded by up to a tick — so rounding moves their ratios as much as the model's error does: listed with their ratios (`res`), left out of the summary: {string.Join("; ", unresolved.Select(c => $"{c.Case}, {c.Sharing}, {c.Metric.Name} ({c.Steps:0.#} ticks, {c.Ratio:0.##}x)"))}. Longer windows resolve them."));
        }

        var sampled = fidelity.Cases.Where(c => c.Metric == ValidationMetric.Gpu && c.FewestTimedBatches < FewTimedBatches).ToList();
        if (sampled.Count > 0)
        {
            text.AppendLine();
            text.AppendLine(Invariant($"GPU seconds of few timed batches: in {sampled.Count} case(s) a replica's GPU time in a run was estimated from fewer than {FewTimedBatches} timed batches of its kernels (as few as {sampled.Min(c => c.FewestTimedBatches)}; a real GPU times a sample within the tenant's `gpu_timing`, 0.1 % of its time by default, and the window's kernels count at the mean time per kernel of its timed batches: docs/metrics.md), so its ratio there rests on few samples: {string.Join("; ", sampled.Select(c => $"{c.Case}, {c.Sharing} ({c.FewestTimedBatches})"))}."));
        }

        text.AppendLine();
        text.AppendLine("## Real and modelled values");
        text.AppendLine();
        text.AppendLine(fidelity.Pooled ? "Means over repetitions, latencies pooled over them (runs on each side in brackets)." : "Means over repetitions (runs on each side in brackets).");
        text.AppendLine();
        text.AppendLine("| case | sharing | metric | real | model |");
        text.AppendLine("|---|---|---|---:|---:|");
        foreach (var c in fidelity.Cases)
        {
            text.AppendLine(Invariant($"| {c.Case} | {c.Sharing} | {c.Metric.Name} ({c.Metric.Unit}) | {Results.TenantTable.Significant(c.RealValue)} ({c.Real.Count}) | {Results.TenantTable.Significant(c.ModelValue)} ({c.Model.Count}) |"));
        }

        void List(string title, IEnumerable<string> lines)
        {
            var all = lines.ToList();
            if (all.Count == 0)
            {
                return;
            }

            text.AppendLine();
            text.AppendLine($"## {title}");
            text.AppendLine();
            all.ForEach(l => text.AppendLine($"- {l}"));
        }

        if (real.Sources.Count + model.Sources.Count > 0)
        {
            // Each half's runs by mix: when and where they ran, so a stale or mismatched half shows.
            text.AppendLine();
            text.AppendLine("## Runs compared");
            text.AppendLine();
            text.AppendLine("Each mix's sweep on each side: its id (the date and time it began), the build and host that ran it, its runs compared of all.");
            text.AppendLine();
            text.AppendLine("| mix | side | sweep | build | host | runs compared |");
            text.AppendLine("|---|---|---|---|---|---:|");
            foreach (var (source, side) in real.Sources.Select(x => (x, "real")).Concat(model.Sources.Select(x => (x, "model"))).OrderBy(x => x.Item1.Mix, StringComparer.Ordinal))
            {
                text.AppendLine(Invariant($"| {source.Mix} | {side} | {source.Sweep} | {(source.Build.Length > 0 ? source.Build : "-")} | {(source.Host.Length > 0 ? source.Host : "-")} | {source.Compared} of {source.Runs} |"));
            }
        }

        List("Mixes whose halves ran on different machines (their CPU times, switches and system calls compare two hosts as well as the model)", fidelity.MachineMismatches);
        List("GPU seconds not measured (a real GPU timed none of a replica's batches in a run, within the tenant's `gpu_timing`: a light service, or a tenant whose timed batch costs more than its budget earns in the window, as one of thousands of sliced launches does; docs/metrics.md)", fidelity.GpuNotMeasured);
        List("Cases only the real GPU has", fidelity.OnlyReal);
        List("Cases only the modelled GPU has", fidelity.OnlyModel);
        List("Real runs left out", real.Excluded);
        List("Modelled runs left out", model.Excluded);
        List("Real runs compared although invalid (--include-invalid)", real.InvalidIncluded);
        List("Modelled runs compared although invalid (--include-invalid)", model.InvalidIncluded);
        return text.ToString();
    }

    private static int ValidationMetricIndex(ValidationMetric metric) => ValidationMetric.All.ToList().IndexOf(metric);

    private static string Cell(FidelityCase c)
    {
        var cell = Invariant($"{c.Ratio:0.###}");
        if (double.IsFinite(c.Low))
        {
            cell += Invariant($" ({c.Low:0.##}-{c.High:0.##})");
        }

        return c.Counted ? cell : cell + (c.BelowResolution ? " res" : " ovl");
    }

    private static void WriteCsv(Fidelity fidelity, string path)
    {
        using var writer = new CsvWriter(new StreamWriter(path), CultureInfo.InvariantCulture);
        foreach (var name in new[] { "case", "sharing", "metric", "unit", "real_runs", "real_mean", "model_runs", "model_mean", "ratio", "ratio_low", "ratio_high", "overloaded", "counted", "below_resolution" })
        {
            writer.WriteField(name);
        }

        writer.NextRecord();
        foreach (var c in fidelity.Cases)
        {
            writer.WriteField(c.Case);
            writer.WriteField(c.Sharing);
            writer.WriteField(c.Metric.Name);
            writer.WriteField(c.Metric.Unit);
            writer.WriteField(c.Real.Count);
            writer.WriteField(c.RealValue);
            writer.WriteField(c.Model.Count);
            writer.WriteField(c.ModelValue);
            writer.WriteField(c.Ratio);
            writer.WriteField(double.IsFinite(c.Low) ? c.Low.ToString("R", CultureInfo.InvariantCulture) : "");
            writer.WriteField(double.IsFinite(c.High) ? c.High.ToString("R", CultureInfo.InvariantCulture) : "");
            writer.WriteField(c.Overloaded);
            writer.WriteField(c.Counted);
            writer.WriteField(c.BelowResolution);
            writer.NextRecord();
        }
    }

    private static IEnumerable<string> Figure(Fidelity fidelity, string directory, string name, string what, Func<FidelityCase, bool> include)
    {
        var cases = fidelity.Cases.Where(c => include(c) && c.RealValue > 0 && c.ModelValue > 0).ToList();
        if (cases.Count == 0)
        {
            return [];
        }

        var plot = new Plot();
        var all = cases.SelectMany(c => new[] { Math.Log10(c.RealValue), Math.Log10(c.ModelValue) }).ToList();
        var (low, high) = (Math.Floor(all.Min()), Math.Ceiling(all.Max()));
        if (high <= low)
        {
            high = low + 1;
        }

        // Solid lines only: SkiaSharp's SVG canvas has no dash effects.
        foreach (var (factor, color) in new[] { (1.0, Colors.DimGray), (2.0, Colors.LightGray), (0.5, Colors.LightGray) })
        {
            var line = plot.Add.Line(low, low + Math.Log10(factor), high, high + Math.Log10(factor));
            line.Color = color;
            line.LineWidth = factor == 1 ? 2 : 1;
        }

        var metrics = cases.Select(c => c.Metric).Distinct().ToList();
        for (var i = 0; i < metrics.Count; i++)
        {
            var of = cases.Where(c => c.Metric == metrics[i]).ToList();
            var counted = of.Where(c => c.Counted).ToList();
            var points = plot.Add.ScatterPoints(counted.Select(c => Math.Log10(c.RealValue)).ToArray(), counted.Select(c => Math.Log10(c.ModelValue)).ToArray(), Figures.Palette[i % Figures.Palette.Length]);
            points.LegendText = $"{metrics[i].Name} ({metrics[i].Unit})";
            points.MarkerSize = 8;
            // Not counted: a latency's where the tenant was overloaded, a metric measured in steps'
            // where it is below their resolution (no metric is both).
            var uncounted = of.Where(c => !c.Counted).ToList();
            if (uncounted.Count > 0)
            {
                var hollow = plot.Add.ScatterPoints(uncounted.Select(c => Math.Log10(c.RealValue)).ToArray(), uncounted.Select(c => Math.Log10(c.ModelValue)).ToArray(), Figures.Palette[i % Figures.Palette.Length]);
                hollow.MarkerShape = MarkerShape.OpenCircle;
                hollow.MarkerSize = 8;
                hollow.LegendText = $"{metrics[i].Name}, {(metrics[i].Resolution is null ? "overloaded" : "below resolution")}";
            }
        }

        Figures.LogTicks(plot.Axes.Bottom, low, high, Label);
        Figures.LogTicks(plot.Axes.Left, low, high, Label);
        plot.Axes.SetLimits(low, high, low, high);
        plot.Title($"Modelled against real GPU: {what}; lines y = x (dark), 2x and 0.5x");
        plot.XLabel("real GPU (log scale)");
        plot.YLabel("modelled GPU (log scale)");
        Figures.LegendOutside(plot);
        return Figures.Save(plot, directory, name);
    }

    private static string Label(double value) => value.ToString(value >= 1 ? "0" : "0.###", CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => FormattableString.Invariant(text);
}
#endif
