using System.Globalization;
using System.Text;
using Contention.Client.Analysis;
using Contention.Client.Results;
using Contention.Grains;
using ScottPlot;

namespace Contention.Client.Reports;

/// <summary>
/// The effects section of a sweep's report: each axis value against the axis's first value, per
/// tenant and metric (effects.csv, a table and a LaTeX table per axis, p99 and OS-metric figures).
/// </summary>
internal static class EffectsReport
{
    private const string P99 = "p99 ms";
    private static readonly string[] Headline = ["ops/s", P99, "vol. cs/s", "invol. cs/s", "user CPU s/s", "sys CPU s/s", "calls/s", "calls/op"];
    private static readonly string[] WaitCalls = ["sched_yield", "futex", "poll"];
    private static readonly string[] OsMetrics = ["vol. cs/s", "invol. cs/s", "user CPU s/s", "sys CPU s/s", "calls/s"];

    /// <summary>Each run's tenants' measurement windows as metrics: the headline ones and the rate of <paramref name="frequent"/> system calls.</summary>
    public static List<RunMetrics> Metrics(ReportInput input, IReadOnlyList<string> frequent)
    {
        ArgumentNullException.ThrowIfNull(input);
        return input.Runs.SelectMany(run =>
        {
            var calls = run.Document.Syscalls.Where(s => s.Phase == MeasurementPhase.Measure).GroupBy(s => (s.Tenant, s.Syscall)).ToDictionary(g => g.Key, g => g.Sum(s => s.Count));
            return run.Document.Tenants.Where(t => t.Phase == MeasurementPhase.Measure && t.Seconds > 0).Select(t => (Tenant: t, Calls: calls));
        }, (run, x) =>
        {
            var (t, calls) = x;
            var metrics = new Dictionary<string, double>(StringComparer.Ordinal)
            {
                ["ops/s"] = t.ThroughputPerSecond,
                ["vol. cs/s"] = t.VoluntarySwitches / t.Seconds,
                ["invol. cs/s"] = t.InvoluntarySwitches / t.Seconds,
                ["user CPU s/s"] = t.UserCpuSeconds / t.Seconds,
                ["sys CPU s/s"] = t.SystemCpuSeconds / t.Seconds,
            };
            if (t.Completed > 0)
            {
                metrics["p50 ms"] = t.P50Ms;
                metrics[P99] = t.P99Ms;
            }

            if (t.Traced)
            {
                metrics["calls/s"] = t.Syscalls / t.Seconds;
                if (t.Completed > 0)
                {
                    metrics["calls/op"] = t.Syscalls / (double)t.Completed;
                }

                foreach (var name in frequent)
                {
                    metrics[$"{name}/s"] = calls.GetValueOrDefault((t.Tenant, name)) / t.Seconds;
                }
            }

            return new RunMetrics(run.Id, run.Values, t.Tenant, metrics);
        }).ToList();
    }

    /// <summary>Writes effects.csv, the LaTeX tables and figures; returns the Markdown section, the findings and the files.</summary>
    public static (string Markdown, string Findings, List<string> Files) Write(ReportInput input, string directory)
    {
        var frequent = TopSyscalls(input);
        var runs = Metrics(input, frequent);
        var axes = input.Axes.Select(a => (a, (IReadOnlyList<string>)input.Runs.Select(r => r.Values.GetValueOrDefault(a, "")).Distinct(StringComparer.Ordinal).ToList())).ToList();
        var effects = AxisEffects.Analyze(runs, axes);
        var files = new List<string>();
        ResultsFiles.Replace(Path.Combine(directory, "effects.csv"), ResultsFiles.Tidy(effects.Select(e => new EffectRecord(e.Axis, e.Value, e.Baseline, e.Tenant, e.Metric, e.Runs, e.Mean, e.Low, e.High, e.BaselineMean, e.Difference, e.DifferenceLow, e.DifferenceHigh, e.Ratio, e.BaselineRuns, e.Clear))));
        files.Add("effects.csv");
        var findings = AxisEffects.Findings(effects);
        var text = new StringBuilder("## Effects along the sweep's axes (each value against the axis's first)\n\n");
        text.Append("### Findings\n\n").Append(findings).Append("\n\n");
        var metricOrder = Headline.Concat(frequent.Select(s => $"{s}/s")).ToList();
        foreach (var (axis, values) in axes.Where(a => a.Item2.Count > 1))
        {
            var slug = Slug(axis);
            text.Append(CultureInfo.InvariantCulture, $"### {axis} (baseline {values[0]})\n\n");
            foreach (var tenant in effects.Where(e => e.Axis == axis).Select(e => e.Tenant).Distinct(StringComparer.Ordinal))
            {
                var shown = metricOrder.Where(m => effects.Any(e => e.Axis == axis && e.Tenant == tenant && e.Metric == m)).ToList();
                text.Append(CultureInfo.InvariantCulture, $"Tenant **{tenant}** (mean [95% interval] over runs; † the difference from {values[0]} is clear of 0, judged with at least {AxisEffects.MinimumRuns} runs at both values):\n\n");
                text.Append("| ").Append(axis).Append(" | runs | ").Append(string.Join(" | ", shown)).Append(" |\n|---|---:|").Append(string.Concat(shown.Select(_ => "---:|"))).Append('\n');
                foreach (var value in values)
                {
                    var row = effects.Where(e => e.Axis == axis && e.Tenant == tenant && e.Value == value).ToDictionary(e => e.Metric, StringComparer.Ordinal);
                    if (row.Count == 0)
                    {
                        continue;
                    }

                    text.Append(CultureInfo.InvariantCulture, $"| {value} | {row.Values.First().Runs} | ");
                    text.Append(string.Join(" | ", shown.Select(m => row.TryGetValue(m, out var e) ? $"{Phase1Analysis.Format(e.Mean)} [{Phase1Analysis.Format(e.Low)}, {Phase1Analysis.Format(e.High)}]{(e.Clear ? " †" : "")}" : "—"))).Append(" |\n");
                }

                text.Append('\n');
            }

            ResultsFiles.Replace(Path.Combine(directory, $"effects_{slug}.tex"), Latex(effects, axis, values, metricOrder).ToString());
            files.Add($"effects_{slug}.tex");
            var figures = Path.Combine(directory, "figures");
            if (effects.Any(e => e.Axis == axis && e.Metric == P99))
            {
                files.AddRange(Figures.Save(P99Plot(effects, axis, values), figures, $"effects_{slug}_p99").Select(f => "figures/" + f));
                text.Append(CultureInfo.InvariantCulture, $"![p99 against {axis}](figures/effects_{slug}_p99.png)\n\n");
            }

            files.AddRange(Figures.Save(OsPlot(effects, axis, values, metricOrder), figures, $"effects_{slug}_os").Select(f => "figures/" + f));
            text.Append(CultureInfo.InvariantCulture, $"![OS metrics against {values[0]}](figures/effects_{slug}_os.png)\n\n");
        }

        return (text.ToString(), findings, files);
    }

    /// <summary>
    /// The calls a GPU runtime waits with (sched_yield, futex, poll: the sync modes' footprints) where
    /// the sweep made any, then the most frequent others, six in all at least.
    /// </summary>
    private static List<string> TopSyscalls(ReportInput input)
    {
        var counts = input.Runs.SelectMany(r => r.Document.Syscalls.Where(s => s.Phase == MeasurementPhase.Measure)).GroupBy(s => s.Syscall, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Sum(s => s.Count), StringComparer.Ordinal);
        var waits = WaitCalls.Where(counts.ContainsKey).ToList();
        return [.. waits, .. counts.Where(c => !waits.Contains(c.Key)).OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).Take(Math.Max(3, 6 - waits.Count)).Select(c => c.Key)];
    }

    private static string Slug(string axis) => new([.. axis.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-')]);

    private static LatexTable Latex(List<Effect> effects, string axis, IReadOnlyList<string> values, List<string> metricOrder)
    {
        var metrics = metricOrder.Where(m => effects.Any(e => e.Axis == axis && e.Metric == m)).Take(7).ToList();
        var table = new LatexTable(
            $"Effects along {axis}: mean over runs per tenant (95% bootstrap interval of the difference from {values[0]} in brackets).",
            $"tab:effects-{Slug(axis)}",
            ["Tenant", axis, .. metrics],
            "ll" + new string('r', metrics.Count));
        foreach (var tenant in effects.Where(e => e.Axis == axis).Select(e => e.Tenant).Distinct(StringComparer.Ordinal))
        {
            table.Rule();
            foreach (var value in values)
            {
                var row = effects.Where(e => e.Axis == axis && e.Tenant == tenant && e.Value == value).ToDictionary(e => e.Metric, StringComparer.Ordinal);
                if (row.Count > 0)
                {
                    table.Row([tenant, value, .. metrics.Select(m => row.TryGetValue(m, out var e) ? e.Value == e.Baseline ? Phase1Analysis.Format(e.Mean) : $"{Phase1Analysis.Format(e.Mean)} [{Phase1Analysis.Format(e.DifferenceLow)}, {Phase1Analysis.Format(e.DifferenceHigh)}]" : "—")]);
                }
            }
        }

        return table;
    }

    /// <summary>p99 per tenant against the axis's values (numeric axes to scale), with 95% intervals.</summary>
    private static Plot P99Plot(List<Effect> effects, string axis, IReadOnlyList<string> values)
    {
        var plot = new Plot();
        var numeric = values.All(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
        double X(string value) => numeric ? double.Parse(value, CultureInfo.InvariantCulture) : values.ToList().IndexOf(value);
        var tenants = effects.Where(e => e.Axis == axis && e.Metric == P99).Select(e => e.Tenant).Distinct(StringComparer.Ordinal).ToList();

        // Tenants at every value of the axis (the one the axis acts on): replicas come and go.
        var everywhere = tenants.Where(t => values.All(v => effects.Any(e => e.Axis == axis && e.Metric == P99 && e.Tenant == t && e.Value == v))).ToList();
        tenants = everywhere.Count > 0 ? everywhere : tenants;
        var shown = effects.Where(e => e.Axis == axis && e.Metric == P99 && tenants.Contains(e.Tenant) && e.Mean > 0).ToList();

        // Latencies an order of magnitude and more apart (a tenant alone, then queued behind
        // others) are drawn on a logarithmic axis, so the smallest stay readable.
        var logarithmic = shown.Count > 0 && shown.Max(e => e.High) / shown.Min(e => Math.Max(e.Low, 1e-6)) > 20;
        double Y(double ms) => logarithmic ? Math.Log10(Math.Max(ms, 1e-6)) : ms;
        for (var t = 0; t < tenants.Count; t++)
        {
            var points = shown.Where(e => e.Tenant == tenants[t]).OrderBy(e => X(e.Value)).Select(e => (X(e.Value), Y(e.Mean), double.IsFinite(e.Low) ? Y(e.Low) : double.NaN, Y(e.High))).ToList();
            Figures.Series(plot, tenants[t], Figures.Palette[t % Figures.Palette.Length], points);
        }

        if (logarithmic)
        {
            var low = Math.Floor(shown.Min(e => Y(Math.Max(e.Low, 1e-6))));
            var high = Math.Ceiling(shown.Max(e => Y(e.High)));
            Figures.LogTicks(plot.Axes.Left, low, high, ms => ms.ToString("0.###", CultureInfo.InvariantCulture));
        }

        // A tick at each value the sweep ran, and none between.
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        foreach (var value in values)
        {
            ticks.AddMajor(X(value), value);
        }

        plot.Axes.Bottom.TickGenerator = ticks;

        plot.Title($"p99 latency against {axis} (mean over runs, 95% interval)");
        plot.XLabel(axis);
        plot.YLabel(logarithmic ? "p99 (ms, log scale)" : "p99 (ms)");
        Figures.LegendOutside(plot);
        return plot;
    }

    /// <summary>OS metrics of each value as a multiple of the baseline's (log scale), per tenant and metric, with 95% intervals of the mean.</summary>
    private static Plot OsPlot(List<Effect> effects, string axis, IReadOnlyList<string> values, List<string> metricOrder)
    {
        var plot = new Plot();
        var metrics = metricOrder.Where(m => (OsMetrics.Contains(m) || m.EndsWith("/s", StringComparison.Ordinal)) && m != "ops/s" && effects.Any(e => e.Axis == axis && e.Metric == m && e.BaselineMean > 0)).ToList();
        var tenant = effects.Where(e => e.Axis == axis).Select(e => e.Tenant).FirstOrDefault() ?? "";
        var others = values.Skip(1).ToList();
        var width = 0.8 / Math.Max(1, others.Count);
        static double Log(double ratio) => Math.Log2(Math.Max(ratio, 1.0 / 1024));
        for (var v = 0; v < others.Count; v++)
        {
            var color = Figures.Palette[(v + 1) % Figures.Palette.Length];
            for (var m = 0; m < metrics.Count; m++)
            {
                var e = effects.FirstOrDefault(x => x.Axis == axis && x.Tenant == tenant && x.Metric == metrics[m] && x.Value == others[v]);
                if (e is null || !(e.BaselineMean > 0))
                {
                    continue;
                }

                var x = m - 0.4 + (width * (v + 0.5));
                plot.Add.Bar(new Bar { Position = x, ValueBase = 0, Value = Log(e.Ratio), FillColor = color, Size = width * 0.9 });
                var interval = plot.Add.Line(x, Log(e.Low / e.BaselineMean), x, Log(e.High / e.BaselineMean));
                interval.Color = Colors.Black;
            }

            plot.Legend.ManualItems.Add(new LegendItem { LabelText = others[v], FillColor = color });
        }

        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (var m = 0; m < metrics.Count; m++)
        {
            ticks.AddMajor(m, metrics[m]);
        }

        plot.Axes.Bottom.TickGenerator = ticks;
        plot.Axes.Bottom.TickLabelStyle.Rotation = 30;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.UpperLeft;
        plot.Axes.Bottom.MinimumSize = 90;
        var yTicks = new ScottPlot.TickGenerators.NumericManual();
        for (var k = -14; k <= 14; k++)
        {
            yTicks.AddMajor(k, k >= 0 ? $"×{Math.Pow(2, k):0}" : $"×1/{Math.Pow(2, -k):0}");
        }

        plot.Axes.Left.TickGenerator = yTicks;
        plot.Title($"{tenant}: OS metrics against {axis} = {values[0]} (ratio of means, log scale; 95% interval)");
        plot.YLabel($"multiple of {values[0]}");
        Figures.LegendOutside(plot);
        return plot;
    }
}

/// <summary>effects.csv: one row per axis value, tenant and metric.</summary>
internal sealed record EffectRecord(string Axis, string Value, string Baseline, string Tenant, string Metric, int Runs, double Mean, double Low, double High, double BaselineMean, double Difference, double DifferenceLow, double DifferenceHigh, double Ratio, int BaselineRuns, bool Clear);
