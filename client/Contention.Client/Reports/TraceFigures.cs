using System.Globalization;
using System.Text;
using CsvHelper;
using CsvHelper.Configuration;
using ScottPlot;

namespace Contention.Client.Reports;

/// <summary>
/// <c>contention report</c> of a trace simulation's results (<c>contention simulate TRACE</c>):
/// the distribution over the inference pods of their p99 against alone, one line per placement
/// policy and sharing mode (snapshot: <c>tenants-POLICY-SHARING.csv</c>; timeline:
/// <c>tenants-timeline-POLICY-SHARING.csv</c>), and of the host CPU the nodes' tenants burn
/// (<c>nodes-POLICY-SHARING.csv</c>, modelled); report.md lists them with each line's median.
/// </summary>
internal static class TraceFigures
{
    /// <summary>Whether <paramref name="directory"/> holds a trace simulation's results.</summary>
    public static bool Holds(string directory) => Directory.Exists(directory) && Directory.EnumerateFiles(directory, "tenants-*.csv").Any();

    /// <summary>Writes the figures and report.md into <paramref name="output"/>; returns the files and the findings.</summary>
    public static (IReadOnlyList<string> Files, IReadOnlyList<string> Findings) Write(string directory, string output)
    {
        Directory.CreateDirectory(output);
        var files = new List<string>();
        var findings = new List<string>();
        var text = new StringBuilder($"# Trace simulation: {Path.GetFileName(Path.GetFullPath(directory))}\n\n");
        var tails = Directory.EnumerateFiles(directory, "tenants-*.csv").Order(StringComparer.Ordinal)
            .Select(f => (Name: Path.GetFileNameWithoutExtension(f)["tenants-".Length..], Values: TailRatios(f)))
            .Where(t => t.Values.Ratios.Count > 0 || t.Values.Overloaded > 0)
            .ToList();
        if (tails.Count > 0)
        {
            var plot = new Plot();
            var index = 0;
            text.AppendLine("## Inference pods' p99 against alone");
            text.AppendLine();
            text.AppendLine("![CDF of p99 / alone](trace-p99-cdf.png)");
            text.AppendLine();
            text.AppendLine("| policy-sharing | inference pods | median p99 / alone (of those keeping up) | 90th percentile (likewise) | at most 2x | overloaded |");
            text.AppendLine("|---|---:|---:|---:|---:|---:|");
            foreach (var (name, (ratios, overloaded)) in tails)
            {
                var sorted = ratios.Order().ToArray();
                if (sorted.Length > 0)
                {
                    var xs = sorted.Select(r => Math.Log10(Math.Max(r, 1e-3))).ToArray();
                    var ys = Enumerable.Range(1, sorted.Length).Select(i => (double)i / (sorted.Length + overloaded)).ToArray();
                    var line = plot.Add.ScatterLine(xs, ys, Figures.Palette[index % Figures.Palette.Length]);
                    line.LegendText = name;
                    line.LinePattern = name.EndsWith("-mps", StringComparison.Ordinal) ? LinePattern.Dashed : LinePattern.Solid;
                    line.LineWidth = 2;
                }

                index++;
                double Quantile(double q) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Floor(q * sorted.Length))];
                var within = sorted.Count(r => r <= 2);
                text.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {sorted.Length + overloaded} | {Quantile(0.5):0.00}x | {Quantile(0.9):0.00}x | {within} ({100.0 * within / Math.Max(1, sorted.Length + overloaded):0.0} %) | {overloaded} |");
                findings.Add(string.Create(CultureInfo.InvariantCulture, $"{name}: median inference p99 {Quantile(0.5):0.00}x alone, 90th percentile {Quantile(0.9):0.00}x, {overloaded} overloaded"));
            }

            plot.Title("inference pods' p99 / p99 alone (CDF; overloaded ones off the right)");
            plot.XLabel("p99 / p99 alone (log scale)");
            plot.YLabel("share of inference pods");
            Figures.LogTicks(plot.Axes.Bottom, -0.5, 3, v => v.ToString("0.##", CultureInfo.InvariantCulture) + "x");
            plot.Axes.SetLimitsY(0, 1);
            Figures.LegendOutside(plot);
            files.AddRange(Figures.Save(plot, output, "trace-p99-cdf"));
            text.AppendLine();
        }

        var nodes = Directory.EnumerateFiles(directory, "nodes-*.csv").Order(StringComparer.Ordinal)
            .Select(f => (Name: Path.GetFileNameWithoutExtension(f)["nodes-".Length..], Cores: Column(f, "cpu_cores_modelled")))
            .Where(n => n.Cores.Count > 0)
            .ToList();
        if (nodes.Count > 0)
        {
            var plot = new Plot();
            text.AppendLine("## Host CPU the nodes' tenants burn (modelled)");
            text.AppendLine();
            text.AppendLine("![CDF of cores burned per node](trace-node-cpu-cdf.png)");
            text.AppendLine();
            text.AppendLine("| policy-sharing | nodes with pods | cores burned, all nodes | per node, median | most on a node |");
            text.AppendLine("|---|---:|---:|---:|---:|");
            for (var i = 0; i < nodes.Count; i++)
            {
                var sorted = nodes[i].Cores.Order().ToArray();
                var line = plot.Add.ScatterLine(sorted, Enumerable.Range(1, sorted.Length).Select(k => (double)k / sorted.Length).ToArray(), Figures.Palette[i % Figures.Palette.Length]);
                line.LegendText = nodes[i].Name;
                line.LinePattern = nodes[i].Name.EndsWith("-mps", StringComparison.Ordinal) ? LinePattern.Dashed : LinePattern.Solid;
                line.LineWidth = 2;
                text.AppendLine(CultureInfo.InvariantCulture, $"| {nodes[i].Name} | {sorted.Length} | {sorted.Sum():0.0} | {sorted[sorted.Length / 2]:0.000} | {sorted[^1]:0.000} |");
            }

            plot.Title("host CPU burned per node (modelled; CDF over nodes with pods)");
            plot.XLabel("cores");
            plot.YLabel("share of nodes");
            Figures.LegendOutside(plot);
            files.AddRange(Figures.Save(plot, output, "trace-node-cpu-cdf"));
        }

        if (files.Count == 0)
        {
            throw new InvalidOperationException($"{directory} holds no inference pods' results and no node CPU: nothing to draw");
        }

        File.WriteAllText(Path.Combine(output, "report.md"), text.ToString());
        files.Insert(0, "report.md");
        return (files, findings);
    }

    // Inference pods' p99 / alone (pods that kept up), and how many did not keep up.
    private static (List<double> Ratios, int Overloaded) TailRatios(string file)
    {
        var ratios = new List<double>();
        var overloaded = 0;
        using var reader = new CsvReader(new StreamReader(file), new CsvConfiguration(CultureInfo.InvariantCulture));
        reader.Read();
        reader.ReadHeader();
        var header = reader.HeaderRecord ?? [];
        while (reader.Read())
        {
            if (reader.GetField("kind") != "inference")
            {
                continue;
            }

            var over = header.Contains("overloaded") ? reader.GetField("overloaded") == "true" : Number(reader.GetField("overloaded_s")) > 0;
            var ratio = Number(reader.GetField("p99_ms")) / Number(reader.GetField("alone_p99_ms"));
            if (over || !double.IsFinite(ratio))
            {
                overloaded++;
            }
            else
            {
                ratios.Add(ratio);
            }
        }

        return (ratios, overloaded);
    }

    private static List<double> Column(string file, string column)
    {
        using var reader = new CsvReader(new StreamReader(file), new CsvConfiguration(CultureInfo.InvariantCulture));
        reader.Read();
        reader.ReadHeader();
        var values = new List<double>();
        while (reader.Read())
        {
            if (Number(reader.GetField(column)) is var v && double.IsFinite(v))
            {
                values.Add(v);
            }
        }

        return values;
    }

    private static double Number(string? text) => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN;
}
