using ScottPlot;

namespace Contention.Client.Reports;

/// <summary>Saves ScottPlot figures as PNG and SVG side by side.</summary>
internal static class Figures
{
    public const int Width = 900;
    public const int Height = 520;

    /// <summary>The palette, one colour per series, the same in every figure.</summary>
    public static readonly Color[] Palette = [Colors.SteelBlue, Colors.OrangeRed, Colors.SeaGreen, Colors.MediumPurple, Colors.DarkGoldenRod, Colors.SlateGray, Colors.Crimson, Colors.Teal, Colors.Sienna, Colors.Olive, Colors.DeepPink];

    /// <summary>Writes <paramref name="name"/>.png and .svg under <paramref name="directory"/>; returns both names.</summary>
    public static IEnumerable<string> Save(Plot plot, string directory, string name)
    {
        Directory.CreateDirectory(directory);
        plot.SavePng(Path.Combine(directory, name + ".png"), Width, Height);
        plot.SaveSvg(Path.Combine(directory, name + ".svg"), Width, Height);
        return [name + ".png", name + ".svg"];
    }

    /// <summary>A line of points (already in plot coordinates) with a vertical 95% interval at each one that has it.</summary>
    public static void Series(Plot plot, string label, Color color, IReadOnlyList<(double X, double Y, double Low, double High)> points)
    {
        ArgumentNullException.ThrowIfNull(plot);
        ArgumentNullException.ThrowIfNull(points);
        var line = plot.Add.Scatter(points.Select(p => p.X).ToArray(), points.Select(p => p.Y).ToArray(), color);
        line.LegendText = label;
        line.MarkerSize = 7;
        foreach (var p in points.Where(p => double.IsFinite(p.Low) && double.IsFinite(p.High)))
        {
            var interval = plot.Add.Line(p.X, p.Low, p.X, p.High);
            interval.Color = color;
            interval.LineWidth = 2;
        }
    }

    /// <summary>The legend to the right of the data area, where it can cover nothing.</summary>
    public static void LegendOutside(Plot plot)
    {
        ArgumentNullException.ThrowIfNull(plot);
        plot.ShowLegend(Edge.Right);
    }

    /// <summary>Ticks at powers of <paramref name="radix"/> for an axis plotted as log10 of its values.</summary>
    public static void LogTicks(IAxis axis, double min, double max, Func<double, string> label, double radix = 10)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        var step = Math.Log10(radix);
        for (var t = Math.Floor(min / step) * step; t <= max + 1e-9; t += step)
        {
            ticks.AddMajor(t, label(Math.Pow(10, t)));
        }

        axis.TickGenerator = ticks;
    }
}
