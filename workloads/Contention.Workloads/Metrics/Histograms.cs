using System.Buffers;
using HdrHistogram;
using HdrHistogram.Utilities;

namespace Contention.Workloads.Metrics;

/// <summary>
/// The one histogram configuration the whole system uses for latencies, in nanoseconds
/// (1 ns to 1 hour, 3 significant digits), and its wire encoding. Histograms with the same
/// configuration merge exactly by adding bucket counts.
/// </summary>
/// <remarks>
/// On the wire a histogram is sparse: a version byte, the number of non-empty buckets, then per
/// bucket the increase of its value over the previous bucket's and its count, as LEB128
/// varints. Recording each bucket's value with its count into a histogram of this configuration
/// lands in the same bucket, so merging is exact, and the receiver needs no intermediate
/// histogram: HdrHistogram's own compressed encoding must be decoded into a full (≈340 KB)
/// histogram first, which made ingest ~500x slower than merging counters. Results files keep
/// the standard compressed encoding (<see cref="ToCompressedBase64"/>) for other tools.
/// </remarks>
public static class Histograms
{
    /// <summary>Highest trackable latency: one hour in nanoseconds.</summary>
    public const long HighestNs = 3_600_000_000_000;

    /// <summary>Significant decimal digits kept for every value.</summary>
    public const int SignificantDigits = 3;

    private const byte Version = 1;

    /// <summary>A new, empty latency histogram.</summary>
    public static LongHistogram Create() => new(1, HighestNs, SignificantDigits);

    /// <summary>The sparse wire encoding of <paramref name="histogram"/>.</summary>
    public static byte[] Encode(HistogramBase histogram)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        var buckets = new List<(long Value, long Count)>();
        foreach (var bucket in histogram.RecordedValues())
        {
            buckets.Add((bucket.ValueIteratedTo, bucket.CountAtValueIteratedTo));
        }

        var writer = new ArrayBufferWriter<byte>(8 + (buckets.Count * 6));
        writer.GetSpan(1)[0] = Version;
        writer.Advance(1);
        WriteVarint(writer, (ulong)buckets.Count);
        var previous = 0L;
        foreach (var (value, count) in buckets)
        {
            WriteVarint(writer, (ulong)(value - previous));
            WriteVarint(writer, (ulong)count);
            previous = value;
        }

        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes <see cref="Encode"/>'s output into a new histogram.</summary>
    public static LongHistogram Decode(ReadOnlySpan<byte> encoded)
    {
        var result = Create();
        RecordInto(encoded, result);
        return result;
    }

    /// <summary>Adds an encoded histogram's buckets to <paramref name="target"/> without allocating.</summary>
    /// <exception cref="InvalidDataException">The bytes are not this encoding.</exception>
    public static void RecordInto(ReadOnlySpan<byte> encoded, HistogramBase target)
    {
        ArgumentNullException.ThrowIfNull(target);
        var reader = new BucketReader(encoded);
        while (reader.Next(out var value, out var count))
        {
            target.RecordValueWithCount(Math.Clamp(value, 1, HighestNs), count);
        }
    }

    /// <summary>Iterates an encoded histogram's non-empty buckets (value, count).</summary>
    public static BucketReader Buckets(ReadOnlySpan<byte> encoded) => new(encoded);

    /// <summary>HdrHistogram's standard compressed encoding, base64: what other HdrHistogram tools read.</summary>
    public static string ToCompressedBase64(HistogramBase histogram)
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

        return Convert.ToBase64String(bytes);
    }

    /// <summary>Decodes <see cref="ToCompressedBase64"/>'s output.</summary>
    public static HistogramBase FromCompressedBase64(string text) =>
        HistogramEncoding.DecodeFromCompressedByteBuffer(ByteBuffer.Allocate(Convert.FromBase64String(text)), 0);

    private static void WriteVarint(ArrayBufferWriter<byte> writer, ulong value)
    {
        var span = writer.GetSpan(10);
        var i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[i++] = (byte)value;
        writer.Advance(i);
    }

    /// <summary>Reads the buckets of an encoded histogram in order.</summary>
    public ref struct BucketReader
    {
        private readonly ReadOnlySpan<byte> data;
        private int position;
        private ulong remaining;
        private long previous;

        /// <summary>Starts reading <paramref name="encoded"/>; an empty span has no buckets.</summary>
        /// <exception cref="InvalidDataException">The bytes are not this encoding.</exception>
        public BucketReader(ReadOnlySpan<byte> encoded)
        {
            data = encoded;
            if (encoded.IsEmpty)
            {
                return;
            }

            if (encoded[0] != Version)
            {
                throw new InvalidDataException($"not a Contention histogram (version byte {encoded[0]}, expected {Version})");
            }

            position = 1;
            remaining = ReadVarint();
        }

        /// <summary>The next bucket; false when none is left.</summary>
        public bool Next(out long value, out long count)
        {
            if (remaining == 0)
            {
                value = count = 0;
                return false;
            }

            remaining--;
            previous += (long)ReadVarint();
            value = previous;
            count = (long)ReadVarint();
            return true;
        }

        private ulong ReadVarint()
        {
            ulong result = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                if (position >= data.Length)
                {
                    throw new InvalidDataException("truncated histogram");
                }

                var b = data[position++];
                result |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return result;
                }
            }

            throw new InvalidDataException("malformed histogram varint");
        }
    }
}
