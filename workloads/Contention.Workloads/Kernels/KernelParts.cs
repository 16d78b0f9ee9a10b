namespace Contention.Workloads.Kernels;

/// <summary>How a kernel's blocks are shared out among the parts it is launched as (kernel slicing).</summary>
public static class KernelParts
{
    /// <summary>
    /// The units [From, To) of part <paramref name="part"/> of <paramref name="parts"/> over
    /// <paramref name="units"/> units (GEMM row blocks, elements) taken in whole chunks of
    /// <paramref name="chunk"/> units (the last chunk may be shorter): contiguous, disjoint, in
    /// order, covering every unit once; chunks shared out as evenly as can be (the first chunks
    /// mod parts take one more). Parts beyond the chunks' count are empty.
    /// </summary>
    public static (long From, long To) Range(long units, int part, int parts, long chunk = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(units);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(parts);
        ArgumentOutOfRangeException.ThrowIfNegative(part);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(part, parts);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunk);
        var chunks = (units + chunk - 1) / chunk;
        var from = ChunkStart(chunks, part, parts) * chunk;
        var to = ChunkStart(chunks, part + 1, parts) * chunk;
        return (Math.Min(units, from), Math.Min(units, to));
    }

    /// <summary>The parts <paramref name="units"/> in chunks of <paramref name="chunk"/> can be launched as, none empty: the chunks (at least 1).</summary>
    public static int MaxParts(long units, long chunk = 1) => (int)Math.Clamp((units + chunk - 1) / chunk, 1, int.MaxValue);

    private static long ChunkStart(long chunks, int part, int parts) => ((chunks / parts) * part) + Math.Min(part, chunks % parts);
}
