namespace Contention.Client.Analysis;

/// <summary>
/// Percentile bootstrap: a statistic recomputed on resamples (with replacement) of its
/// observations; the 2.5th and 97.5th percentiles bound its 95% interval. Seeded, so a report
/// is the same every time it is made from the same results.
/// </summary>
public static class Bootstrap
{
    /// <summary>Resamples per interval.</summary>
    public const int Resamples = 2000;

    /// <summary>The seed every interval starts from.</summary>
    public const int Seed = 20261124;

    /// <summary>
    /// The 95% interval of <paramref name="statistic"/> over resamples of <paramref name="count"/>
    /// observations; the statistic gets the indices of one resample. Resamples whose statistic is
    /// not a finite number (a degenerate resample) are left out.
    /// </summary>
    public static (double Low, double High) Interval(int count, Func<int[], double> statistic, int resamples = Resamples, int seed = Seed)
    {
        ArgumentNullException.ThrowIfNull(statistic);
        if (count == 0)
        {
            return (double.NaN, double.NaN);
        }

        var values = Samples(count, resamples, seed).Select(statistic).Where(double.IsFinite).ToList();
        if (values.Count == 0)
        {
            return (double.NaN, double.NaN);
        }

        values.Sort();
        return (Percentile(values, 0.025), Percentile(values, 0.975));
    }

    /// <summary>
    /// The 95% interval of a statistic of two independent samples, each resampled on its own
    /// (a difference of means, say); the statistic gets the indices of one resample of each.
    /// </summary>
    public static (double Low, double High) Interval(int countA, int countB, Func<int[], int[], double> statistic, int resamples = Resamples, int seed = Seed)
    {
        ArgumentNullException.ThrowIfNull(statistic);
        if (countA == 0 || countB == 0)
        {
            return (double.NaN, double.NaN);
        }

        var values = Samples(countA, resamples, seed).Zip(Samples(countB, resamples, seed + 1), statistic).Where(double.IsFinite).Order().ToList();
        return values.Count == 0 ? (double.NaN, double.NaN) : (Percentile(values, 0.025), Percentile(values, 0.975));
    }

    /// <summary>The index sets of <paramref name="resamples"/> resamples of <paramref name="count"/> observations, drawn with replacement.</summary>
    public static IEnumerable<int[]> Samples(int count, int resamples = Resamples, int seed = Seed)
    {
        var random = new Random(seed);
        for (var r = 0; r < resamples; r++)
        {
            var indices = new int[count];
            for (var i = 0; i < count; i++)
            {
                indices[i] = random.Next(count);
            }

            yield return indices;
        }
    }

    /// <summary>Linear-interpolated percentile of sorted values.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double p)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        var position = p * (sorted.Count - 1);
        var lower = (int)Math.Floor(position);
        var upper = Math.Min(lower + 1, sorted.Count - 1);
        return sorted[lower] + ((position - lower) * (sorted[upper] - sorted[lower]));
    }
}
