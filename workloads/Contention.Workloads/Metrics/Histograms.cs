using HdrHistogram;
using HdrHistogram.Utilities;

namespace Contention.Workloads.Metrics;

/// <summary>
/// The one histogram configuration the whole system uses for latencies, in nanoseconds
/// (1 ns to 1 hour, 3 significant digits), and its compact wire encoding. Histograms with the
/// same configuration merge exactly by adding bucket counts.
/// </summary>
public static class Histograms
{
    /// <summary>Highest trackable latency: one hour in nanoseconds.</summary>
    public const long HighestNs = 3_600_000_000_000;

    /// <summary>Significant decimal digits kept for every value.</summary>
    public const int SignificantDigits = 3;

    /// <summary>A new, empty latency histogram.</summary>
    public static LongHistogram Create() => new(1, HighestNs, SignificantDigits);

    /// <summary>The compressed HdrHistogram encoding of <paramref name="histogram"/>.</summary>
    public static byte[] Encode(HistogramBase histogram)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        var buffer = ByteBuffer.Allocate(histogram.GetNeededByteBufferCapacity());
        var length = histogram.EncodeIntoCompressedByteBuffer(buffer);
        var bytes = new byte[length];
        buffer.Position = 0;
        for (var i = 0; i < length; i++)
        {
            bytes[i] = buffer.Get();
        }

        return bytes;
    }

    /// <summary>Decodes <see cref="Encode"/>'s output.</summary>
    public static LongHistogram Decode(byte[] encoded)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        var result = Create();
        if (encoded.Length == 0)
        {
            return result;
        }

        var buffer = ByteBuffer.Allocate(encoded);
        result.Add(HistogramEncoding.DecodeFromCompressedByteBuffer(buffer, 0));
        return result;
    }
}
