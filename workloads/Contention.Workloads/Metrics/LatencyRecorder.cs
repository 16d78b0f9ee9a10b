using HdrHistogram;

namespace Contention.Workloads.Metrics;

/// <summary>
/// Records a tenant's latencies and hands out interval deltas: the recording thread writes into
/// the active histogram; <see cref="TakeInterval"/> swaps in an empty one, so every value lands in
/// exactly one interval and the intervals merge back into the whole run exactly.
/// </summary>
public sealed class LatencyRecorder
{
    private readonly object gate = new();
    private readonly object taking = new();
    private LongHistogram active = Histograms.Create();
    private LongHistogram spare = Histograms.Create();
    private long completed;

    /// <summary>Operations recorded since the start, singly or in encoded batches (never reset).</summary>
    public long Completed => Interlocked.Read(ref completed);

    /// <summary>Records one completed operation that took <paramref name="nanoseconds"/>.</summary>
    public void Record(long nanoseconds)
    {
        var value = Math.Clamp(nanoseconds, 1, Histograms.HighestNs);
        lock (gate)
        {
            active.RecordValue(value);
        }

        Interlocked.Increment(ref completed);
    }

    /// <summary>Records a batch of operations given as an encoded histogram (<see cref="Histograms.Encode"/>).</summary>
    public void Add(ReadOnlySpan<byte> encoded)
    {
        long added;
        lock (gate)
        {
            var before = active.TotalCount;
            Histograms.RecordInto(encoded, active);
            added = active.TotalCount - before;
        }

        Interlocked.Add(ref completed, added);
    }

    /// <summary>
    /// The values recorded since the previous take, encoded (<see cref="Histograms.Encode"/>), and
    /// their count. The interval's histogram is emptied and swapped back in next time, so a
    /// worker reporting twice a second does not allocate a new histogram (about 270 KB) each time:
    /// every allocation brings its garbage collection, which pauses the workload, nearer.
    /// </summary>
    public (long Count, byte[] Encoded) TakeEncodedInterval()
    {
        lock (taking)
        {
            LongHistogram interval;
            lock (gate)
            {
                interval = active;
                active = spare;
            }

            var count = interval.TotalCount;
            var encoded = Histograms.Encode(interval);
            interval.Reset();
            spare = interval;
            return (count, encoded);
        }
    }

    /// <summary>The values recorded since the previous call; the caller owns the returned histogram.</summary>
    public LongHistogram TakeInterval()
    {
        var fresh = Histograms.Create();
        lock (gate)
        {
            var interval = active;
            active = fresh;
            return interval;
        }
    }
}
