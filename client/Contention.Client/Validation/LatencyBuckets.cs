using HdrHistogram;

namespace Contention.Client.Validation;

/// <summary>
/// A latency histogram as its non-empty buckets (each bucket's highest equivalent value, ns, and
/// its count), so that many can be merged cheaply — over a mix tenant's replicas and over
/// repetitions, and again for each bootstrap resample. Its percentiles are HdrHistogram's
/// (<see cref="HistogramBase.GetValueAtPercentile"/>): the same numbers as the merged histogram's,
/// so a pooled p99 is the p99 a run would report had one tenant made all those operations.
/// </summary>
public sealed class LatencyBuckets
{
    private readonly long[] values;
    private readonly long[] counts;

    private LatencyBuckets(long[] values, long[] counts)
    {
        this.values = values;
        this.counts = counts;
        Count = counts.Sum();
    }

    /// <summary>Operations counted.</summary>
    public long Count { get; }

    /// <summary>The buckets of <paramref name="histogram"/>.</summary>
    public static LatencyBuckets Of(HistogramBase histogram)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        var values = new List<long>();
        var counts = new List<long>();
        foreach (var bucket in histogram.RecordedValues())
        {
            values.Add(histogram.HighestEquivalentValue(bucket.ValueIteratedTo));
            counts.Add(bucket.CountAtValueIteratedTo);
        }

        return new([.. values], [.. counts]);
    }

    /// <summary>All of <paramref name="parts"/> together (buckets of one configuration add exactly).</summary>
    public static LatencyBuckets Merge(IEnumerable<LatencyBuckets> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        var merged = new SortedDictionary<long, long>();
        foreach (var part in parts)
        {
            for (var i = 0; i < part.values.Length; i++)
            {
                merged[part.values[i]] = merged.GetValueOrDefault(part.values[i]) + part.counts[i];
            }
        }

        return new([.. merged.Keys], [.. merged.Values]);
    }

    /// <summary>The value at <paramref name="percentile"/> (0-100), ns, as HdrHistogram reads it; 0 when empty.</summary>
    public long ValueAtPercentile(double percentile)
    {
        if (Count == 0)
        {
            return 0;
        }

        var wanted = Math.Max(1, (long)((Math.Min(percentile, 100.0) / 100.0 * Count) + 0.5));
        long seen = 0;
        for (var i = 0; i < values.Length; i++)
        {
            seen += counts[i];
            if (seen >= wanted)
            {
                return values[i];
            }
        }

        return values[^1];
    }
}
