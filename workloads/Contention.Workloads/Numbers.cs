namespace Contention.Workloads;

/// <summary>Small statistics the library's measurements and models share.</summary>
internal static class Numbers
{
    /// <summary>The median of <paramref name="values"/> (of an even count, the mean of the middle two).</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
