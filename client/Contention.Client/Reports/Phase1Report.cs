using System.Globalization;
using System.Text;
using Contention.Client.Analysis;
using Contention.Client.Mixes;
using Contention.Client.Results;
using ScottPlot;

namespace Contention.Client.Reports;

/// <summary>
/// The Phase-1 section of a report: tidy CSVs, LaTeX tables, figures (PNG and SVG) and the
/// Markdown section with the generated findings, from <see cref="Phase1Analysis"/>.
/// </summary>
internal static class Phase1Report
{
    /// <summary>Writes the section's files into <paramref name="directory"/>; returns its Markdown and the files written.</summary>
    public static (string Markdown, List<string> Files) Write(Phase1Result r, IReadOnlyList<PhaseObservation> phases, string directory)
    {
        var files = new List<string>();
        void Text(string name, string content)
        {
            ResultsFiles.Replace(Path.Combine(directory, name), content);
            files.Add(name);
        }

        Text("phase1_phases.csv", ResultsFiles.Tidy(phases.Where(p => p.Traced).SelectMany(p => r.Categories.Select(c => new PhaseCategoryRecord(p.Run, p.Exec, p.Phase, p.Op, p.Bytes, p.Iterations, p.IterationsRun, c, p.CallsIn(c), p.Seconds.GetValueOrDefault(c), p.WallSeconds, p.VoluntarySwitches, p.InvoluntarySwitches, p.UserSeconds, p.SystemSeconds)))));
        Text("phase1_invariance.csv", ResultsFiles.Tidy(r.Invariance.Select(i => new InvarianceRecord(i.Exec, i.Category, i.Phases, i.Bytes.Estimate, i.Bytes.Low, i.Bytes.High, i.Bytes.Verdict, i.Iterations.Estimate, i.Iterations.Low, i.Iterations.High, i.Iterations.Verdict, SlopeEstimate.Threshold))));
        Text("phase1_startup.csv", ResultsFiles.Tidy(r.Startup));
        Text("phase1_steady.csv", ResultsFiles.Tidy(r.Steady));
        Text("phase1_divergence.csv", ResultsFiles.Tidy(r.Divergence));
        Text("phase1_top_syscalls.csv", ResultsFiles.Tidy(r.TopSyscalls));
        Text("phase1_invariance.tex", InvarianceTable(r).ToString());
        Text("phase1_footprint.tex", FootprintTable(r).ToString());
        var figures = Path.Combine(directory, "figures");
        files.AddRange(Figures.Save(CategoryBars(r, steady: false), figures, "phase1_startup_categories").Select(f => "figures/" + f));
        files.AddRange(Figures.Save(CategoryBars(r, steady: true), figures, "phase1_steady_categories").Select(f => "figures/" + f));
        files.AddRange(Figures.Save(CurvePlot(r.BytesCurve, "bytes the operation touches", 4, v => Units.FormatBytes((long)Math.Round(v))), figures, "phase1_bytes").Select(f => "figures/" + f));
        files.AddRange(Figures.Save(CurvePlot(r.IterationsCurve, "launches asked per steady phase", 10, v => v.ToString("0", CultureInfo.InvariantCulture)), figures, "phase1_iterations").Select(f => "figures/" + f));
        return (Markdown(r), files);
    }

    private static string Markdown(Phase1Result r)
    {
        var text = new StringBuilder();
        text.Append("## Phase 1: what the OS sees across bytes, iterations and execution model\n\n");
        text.Append("### Findings\n\n").Append(r.Findings).Append("\n\n");
        text.Append("### Start-up footprint (init phase of each fresh worker process; median [min, max] calls)\n\n");
        text.Append("| category | ").Append(string.Join(" | ", r.Execs)).Append(" |\n|---|").Append(string.Concat(r.Execs.Select(_ => "---:|"))).Append('\n');
        foreach (var c in r.Categories)
        {
            text.Append("| ").Append(c).Append(" | ").Append(string.Join(" | ", r.Execs.Select(e => r.Startup.Single(f => f.Exec == e && f.Category == c)).Select(f => f.Runs == 0 ? "—" : $"{Phase1Analysis.Format(f.Median)} [{f.Min}, {f.Max}]"))).Append(" |\n");
        }

        text.Append("\n| execution model | runs | calls | wall s | user s | sys s | vol. cs | invol. cs |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (var s in r.StartupOs)
        {
            text.Append(CultureInfo.InvariantCulture, $"| {s.Exec} | {s.Runs} | {Phase1Analysis.Format(s.Calls)} | {s.WallSeconds:0.###} | {s.UserSeconds:0.###} | {s.SystemSeconds:0.###} | {Phase1Analysis.Format(s.VoluntarySwitches)} | {Phase1Analysis.Format(s.InvoluntarySwitches)} |\n");
        }

        text.Append("\n![start-up by category](figures/phase1_startup_categories.png)\n\n");
        text.Append("### Steady state (calls per steady phase: mean [95% interval]; median per launch; seconds in the calls per steady phase: mean)\n\n");
        text.Append("| category | ").Append(string.Join(" | ", r.Execs.Select(e => $"{e} per phase | {e} per launch | {e} s per phase"))).Append(" |\n|---|").Append(string.Concat(r.Execs.Select(_ => "---:|---:|---:|"))).Append('\n');
        foreach (var c in r.Categories.Prepend(Phase1Analysis.AllCategories))
        {
            text.Append("| ").Append(c).Append(" | ").Append(string.Join(" | ", r.Execs.Select(e => r.Steady.Single(s => s.Exec == e && s.Category == c)).Select(s => string.Create(CultureInfo.InvariantCulture, $"{Phase1Analysis.Format(s.MeanPerPhase)} [{Phase1Analysis.Format(s.Low)}, {Phase1Analysis.Format(s.High)}] | {s.MedianPerIteration:0.####} | {s.MeanSecondsPerPhase:0.######}")))).Append(" |\n");
        }

        text.Append("\n![steady state by category](figures/phase1_steady_categories.png)\n\n");
        text.Append("Most frequent system calls of steady phases (mean per phase; per second of summed phase wall time; share of phases with the call):\n\n");
        text.Append("| execution model | system call | per phase | per second | phases with it |\n|---|---|---:|---:|---:|\n");
        foreach (var t in r.TopSyscalls)
        {
            text.Append(CultureInfo.InvariantCulture, $"| {t.Exec} | {t.Syscall} | {Phase1Analysis.Format(t.MeanPerPhase)} | {Phase1Analysis.Format(t.PerSecond)} | {t.PhasesWithCall:P0} |\n");
        }

        text.Append('\n');
        text.Append(CultureInfo.InvariantCulture, $"### Invariance (log-log slope of calls per steady phase, operation held; bootstrap 95% interval, {Bootstrap.Resamples} resamples; invariant when the interval lies within ±{SlopeEstimate.Threshold})\n\n");
        text.Append("| execution model | category | phases | bytes slope [95% interval] | verdict | iterations slope [95% interval] | verdict |\n|---|---|---:|---:|---|---:|---|\n");
        foreach (var i in r.Invariance.Where(i => i.Category == Phase1Analysis.AllCategories || r.Steady.Any(s => s.Exec == i.Exec && s.Category == i.Category && s.MeanPerPhase > 0)))
        {
            text.Append(CultureInfo.InvariantCulture, $"| {i.Exec} | {i.Category} | {i.Phases} | {Slope(i.Bytes)} | {i.Bytes.Verdict} | {Slope(i.Iterations)} | {i.Iterations.Verdict} |\n");
        }

        text.Append("\n![calls against bytes](figures/phase1_bytes.png)\n\n![calls against iterations](figures/phase1_iterations.png)\n\n");
        if (r.Divergence.Count > 0)
        {
            text.Append("### Execution models against cpu (mean calls per steady phase; start-up median)\n\n");
            text.Append("| execution model | category | cpu steady | steady | difference [95% interval] | cpu start-up | start-up |\n|---|---|---:|---:|---:|---:|---:|\n");
            foreach (var d in r.Divergence)
            {
                text.Append(CultureInfo.InvariantCulture, $"| {d.Exec} | {d.Category} | {Phase1Analysis.Format(d.CpuSteady)} | {Phase1Analysis.Format(d.ExecSteady)} | {Phase1Analysis.Format(d.Difference)} [{Phase1Analysis.Format(d.Low)}, {Phase1Analysis.Format(d.High)}] | {Phase1Analysis.Format(d.CpuStartup)} | {Phase1Analysis.Format(d.ExecStartup)} |\n");
            }

            text.Append('\n');
        }

        if (r.CutPhases > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"{r.CutPhases} of {r.SteadyPhases} steady phases ran fewer launches than asked (the mix's point_limit); the slopes use the launches made.\n\n");
        }

        return text.ToString();
    }

    private static string Slope(SlopeEstimate s) => double.IsNaN(s.Estimate) ? "—" : string.Create(CultureInfo.InvariantCulture, $"{s.Estimate:0.00} [{s.Low:0.00}, {s.High:0.00}]");

    private static LatexTable InvarianceTable(Phase1Result r)
    {
        var table = new LatexTable(
            $"Steady-state system calls along the Phase-1 axes: log-log slope of calls per phase (operation held) with its bootstrap 95% interval; invariant when the interval lies within ±{SlopeEstimate.Threshold.ToString(CultureInfo.InvariantCulture)}.",
            "tab:phase1-invariance",
            ["Exec.", "Category", "Bytes slope", "Verdict", "Iterations slope", "Verdict"],
            "llrlrl");
        foreach (var exec in r.Execs)
        {
            table.Rule();
            foreach (var i in r.Invariance.Where(i => i.Exec == exec && (i.Category == Phase1Analysis.AllCategories || r.Steady.Any(s => s.Exec == exec && s.Category == i.Category && s.MeanPerPhase > 0))))
            {
                table.Row(exec, i.Category, Slope(i.Bytes), i.Bytes.Verdict, Slope(i.Iterations), i.Iterations.Verdict);
            }
        }

        return table;
    }

    private static LatexTable FootprintTable(Phase1Result r)
    {
        var header = new List<string> { "Category" };
        header.AddRange(r.Execs.SelectMany(e => new[] { $"{e} start-up", $"{e} steady" }));
        var table = new LatexTable(
            "System calls by category: start-up of a fresh worker process (median over processes) and one steady phase (mean over grid points).",
            "tab:phase1-footprint",
            header,
            "l" + string.Concat(r.Execs.Select(_ => "rr")));
        foreach (var c in r.Categories.Append(Phase1Analysis.AllCategories))
        {
            if (c == Phase1Analysis.AllCategories)
            {
                table.Rule();
            }

            var cells = new List<string> { c };
            foreach (var e in r.Execs)
            {
                var startup = c == Phase1Analysis.AllCategories ? r.StartupOs.Single(s => s.Exec == e).Calls : r.Startup.Single(f => f.Exec == e && f.Category == c).Median;
                cells.Add(Phase1Analysis.Format(startup));
                cells.Add(Phase1Analysis.Format(r.Steady.Single(s => s.Exec == e && s.Category == c).MeanPerPhase));
            }

            table.Row([.. cells]);
        }

        return table;
    }

    /// <summary>
    /// Grouped bars on a logarithmic axis: per execution model, one bar per category. Categories
    /// differ by orders of magnitude (thousands of cpu calls against a dozen of sim), which a
    /// stacked linear bar would hide; a category with no call has no bar.
    /// </summary>
    private static Plot CategoryBars(Phase1Result r, bool steady)
    {
        var plot = new Plot();
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        double Value(string exec, string category) => steady ? r.Steady.Single(s => s.Exec == exec && s.Category == category).MeanPerPhase : r.Startup.Single(f => f.Exec == exec && f.Category == category).Median;
        var positive = r.Execs.SelectMany(e => r.Categories.Select(c => Value(e, c))).Where(v => double.IsFinite(v) && v > 0).DefaultIfEmpty(1).ToList();
        var bottom = Math.Floor(Math.Log10(positive.Min()));
        var top = Math.Ceiling(Math.Log10(positive.Max()));
        var width = 0.8 / Math.Max(1, r.Categories.Count);
        for (var x = 0; x < r.Execs.Count; x++)
        {
            for (var c = 0; c < r.Categories.Count; c++)
            {
                var value = Value(r.Execs[x], r.Categories[c]);
                if (double.IsFinite(value) && value > 0)
                {
                    var position = x - 0.4 + (width * (c + 0.5));
                    plot.Add.Bar(new Bar { Position = position, ValueBase = bottom, Value = Math.Log10(value), FillColor = Figures.Palette[c % Figures.Palette.Length], Size = width * 0.9 });
                }
            }

            ticks.AddMajor(x, r.Execs[x]);
        }

        for (var c = 0; c < r.Categories.Count; c++)
        {
            // Only the categories with a bar somewhere.
            if (r.Execs.Any(e => Value(e, r.Categories[c]) > 0))
            {
                plot.Legend.ManualItems.Add(new LegendItem { LabelText = r.Categories[c], FillColor = Figures.Palette[c % Figures.Palette.Length] });
            }
        }

        plot.Axes.Bottom.TickGenerator = ticks;
        Figures.LogTicks(plot.Axes.Left, bottom, top, v => v.ToString("0.###", CultureInfo.InvariantCulture));
        plot.Axes.SetLimitsY(bottom, top);
        plot.Title(steady ? "One steady phase: system calls by category (mean over grid points)" : "Start-up of a fresh worker: system calls by category (median)");
        plot.YLabel(steady ? "calls per steady phase (log scale)" : "calls in start-up (log scale)");
        Figures.LegendOutside(plot);
        return plot;
    }

    /// <summary>
    /// Mean calls per steady phase against an axis, both logarithmic, with 95% intervals. A point
    /// with no call (mean 0) has no place on a log axis and is left out; an interval reaching 0 is
    /// drawn down to the axis.
    /// </summary>
    private static Plot CurvePlot(IReadOnlyList<CurvePoint> curve, string axis, double radix, Func<double, string> label)
    {
        var plot = new Plot();
        var positive = curve.SelectMany(p => new[] { p.Mean, p.Low, p.High }).Where(v => double.IsFinite(v) && v > 0).DefaultIfEmpty(1).ToList();
        var bottom = Math.Floor(Math.Log10(positive.Min()));
        var top = Math.Ceiling(Math.Log10(positive.Max()));
        double Y(double calls) => calls > 0 ? Math.Log10(calls) : bottom;
        var execs = curve.Select(p => p.Exec).Distinct(StringComparer.Ordinal).ToList();
        for (var e = 0; e < execs.Count; e++)
        {
            var points = curve.Where(p => p.Exec == execs[e] && p.Mean > 0).Select(p => (Math.Log10(p.X), Y(p.Mean), double.IsFinite(p.Low) ? Y(p.Low) : double.NaN, Y(p.High))).ToList();
            if (points.Count > 0)
            {
                Figures.Series(plot, execs[e], Figures.Palette[e % Figures.Palette.Length], points);
            }
        }

        var xs = curve.Select(p => Math.Log10(p.X)).DefaultIfEmpty(0).ToList();
        Figures.LogTicks(plot.Axes.Bottom, xs.Min(), xs.Max(), label, radix);
        Figures.LogTicks(plot.Axes.Left, bottom, top, v => v.ToString("0.###", CultureInfo.InvariantCulture));
        plot.Axes.SetLimitsY(bottom, top);
        plot.Title($"System calls per steady phase against {axis} (mean, 95% interval)");
        plot.XLabel(axis + " (log scale)");
        plot.YLabel(curve.Any(p => !(p.Mean > 0)) ? "calls per steady phase (log scale; means of 0 left out)" : "calls per steady phase (log scale)");
        Figures.LegendOutside(plot);
        return plot;
    }
}

/// <summary>phase1_phases.csv: one row per phase and category (zeros included), so every phase shows in every category.</summary>
internal sealed record PhaseCategoryRecord(string Run, string Exec, string Phase, string Op, long Bytes, int Iterations, int IterationsRun, string Category, long Calls, double Seconds, double WallSeconds, long VoluntarySwitches, long InvoluntarySwitches, double UserSeconds, double SystemSeconds);

/// <summary>phase1_invariance.csv: the slopes flat, with the threshold the verdicts used.</summary>
internal sealed record InvarianceRecord(string Exec, string Category, int Phases, double BytesSlope, double BytesLow, double BytesHigh, string BytesVerdict, double IterationsSlope, double IterationsLow, double IterationsHigh, string IterationsVerdict, double Threshold);
