using Contention.Workloads.Metrics;
using FsCheck.Xunit;

namespace Contention.Workloads.Tests;

public class HistogramsTests
{
    [Property(MaxTest = 200)]
    public bool Merge_OfEncodedParts_HasTheSamePercentilesAsOneHistogram(long[] values, int parts)
    {
        var all = Histograms.Create();
        var partCount = Math.Clamp(Math.Abs(parts % 7) + 1, 1, 7);
        var pieces = Enumerable.Range(0, partCount).Select(_ => Histograms.Create()).ToArray();
        for (var i = 0; i < values.Length; i++)
        {
            var v = Math.Clamp(Math.Abs(values[i] % 10_000_000_000), 1, Histograms.HighestNs);
            all.RecordValue(v);
            pieces[i % partCount].RecordValue(v);
        }

        var merged = Histograms.Create();
        foreach (var piece in pieces)
        {
            merged.Add(Histograms.Decode(Histograms.Encode(piece)));
        }

        if (values.Length == 0)
        {
            return merged.TotalCount == 0;
        }

        double[] percentiles = [0, 1, 25, 50, 90, 95, 99, 99.9, 100];
        return merged.TotalCount == all.TotalCount && percentiles.All(p => merged.GetValueAtPercentile(p) == all.GetValueAtPercentile(p));
    }

    [Fact]
    public void ToCompressedBase64_RoundTrip_KeepsEveryBucket()
    {
        var histogram = Histograms.Create();
        for (var i = 1; i < 5000; i++)
        {
            histogram.RecordValue(i * 997L);
        }

        var back = Histograms.FromCompressedBase64(Histograms.ToCompressedBase64(histogram));

        Assert.Equal(histogram.TotalCount, back.TotalCount);
        Assert.Equal(histogram.GetValueAtPercentile(99.9), back.GetValueAtPercentile(99.9));
    }

    [Fact]
    public void RecordInto_ForeignBytes_SaysWhatIsWrong()
    {
        var error = Assert.Throws<InvalidDataException>(() => Histograms.RecordInto(new byte[] { 0x1c, 0x84 }, Histograms.Create()));

        Assert.Contains("not a Contention histogram", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TakeInterval_TwoIntervals_PartitionTheRecordedValues()
    {
        var recorder = new LatencyRecorder();
        recorder.Record(1000);
        recorder.Record(2000);
        var first = recorder.TakeInterval();
        recorder.Record(3000);
        var second = recorder.TakeInterval();

        Assert.Equal(2, first.TotalCount);
        Assert.Equal(1, second.TotalCount);
        Assert.Equal(3, recorder.Completed);
        Assert.Equal(0, recorder.TakeInterval().TotalCount);
    }

    [Fact]
    public void TakeEncodedInterval_IntervalsAfterTheFirst_PartitionTheValuesWithoutANewHistogram()
    {
        var recorder = new LatencyRecorder();
        recorder.Record(1000);
        recorder.Record(2000);
        var first = recorder.TakeEncodedInterval();
        recorder.Record(3000);
        _ = recorder.TakeEncodedInterval();
        recorder.Record(4000);

        // The histogram taken before is emptied and recorded into again: no new one is made.
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var third = recorder.TakeEncodedInterval();
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;

        Assert.Equal(2, first.Count);
        Assert.Equal(2, Histograms.Decode(first.Encoded).TotalCount);
        Assert.Equal(1, third.Count);
        var values = Histograms.Decode(third.Encoded);
        Assert.Equal(1, values.TotalCount);
        Assert.InRange(HdrHistogram.HistogramExtensions.GetMaxValue(values), 3990, 4010);
        Assert.InRange(allocated, 0, 20_000); // a new histogram is about 270 KB
        Assert.Equal(0, recorder.TakeEncodedInterval().Count);
    }
}
