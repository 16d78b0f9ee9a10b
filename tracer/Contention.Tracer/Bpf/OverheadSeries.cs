namespace Contention.Tracer.Bpf;

/// <summary>One side of the overhead benchmark: ns per system call, one value per repetition.</summary>
/// <param name="Side">untraced, empty, counts, full or strace.</param>
/// <param name="NsPerCall">The samples.</param>
public sealed record OverheadSeries(string Side, IReadOnlyList<double> NsPerCall)
{
    /// <summary>The median.</summary>
    public double Median
    {
        get
        {
            var sorted = NsPerCall.Order().ToArray();
            return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
        }
    }

    /// <summary>The fastest repetition.</summary>
    public double Min => NsPerCall.Min();

    /// <summary>The slowest repetition.</summary>
    public double Max => NsPerCall.Max();
}
