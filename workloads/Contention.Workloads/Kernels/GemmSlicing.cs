using Contention.Workloads.Devices;

namespace Contention.Workloads.Kernels;

/// <summary>
/// How a GEMM is launched in parts (kernel slicing), on the cuda device and in the model alike.
/// A part can be no shorter than one of its blocks, so parts are taken over the dimension that
/// shortens them: over ranges of row blocks when the kernel runs in several waves (each part some
/// of the waves), else over ranges of K (each part every tile of C over a shallower depth, its
/// blocks proportionally shorter, adding into C). Most of a ResNet-50 training step's GEMMs are one
/// wave of blocks each running for the whole kernel (0.6-1.1 ms on the H200): ranges of their row
/// blocks would leave every part as long as the kernel.
/// </summary>
public static class GemmSlicing
{
    /// <summary>The shallowest range of K a part takes (a multiple of the kernel's K step): shallower blocks would spend more on their loads and adds into C than on their products.</summary>
    public const int MinDepth = 128;

    /// <summary>Row blocks of a GEMM of <paramref name="m"/> rows.</summary>
    public static long RowBlocks(int m) => (m + CudaKernels.Tile - 1) / CudaKernels.Tile;

    /// <summary>Column blocks of a GEMM of <paramref name="n"/> columns.</summary>
    public static int ColumnBlocks(int n) => (n + CudaKernels.Tile - 1) / CudaKernels.Tile;

    /// <summary>Blocks of the whole GEMM's launch on a GPU of <paramref name="multiprocessors"/> (split K included).</summary>
    public static long Blocks(int m, int n, int k, int multiprocessors)
    {
        var slice = CudaKernels.SliceK(m, n, k, multiprocessors);
        return RowBlocks(m) * ColumnBlocks(n) * ((k + slice - 1) / slice);
    }

    /// <summary>The most parts over ranges of row blocks: its row blocks, no more than its waves (a part of less than a wave lasts as long as one).</summary>
    public static long AlongRows(int m, int n, int k, int multiprocessors, int blocksPerMultiprocessor)
    {
        var perWave = (long)multiprocessors * Math.Max(1, blocksPerMultiprocessor);
        var waves = (Blocks(m, n, k, multiprocessors) + perWave - 1) / perWave;
        return Math.Max(1, Math.Min(RowBlocks(m), waves));
    }

    /// <summary>The most parts over ranges of K: its depth in ranges of at least <see cref="MinDepth"/>.</summary>
    public static int AlongDepth(int k) => Math.Max(1, k / MinDepth);

    /// <summary>The most parts the GEMM is worth launching as: over rows or over K, whichever gives more.</summary>
    public static int MaxParts(int m, int n, int k, int multiprocessors, int blocksPerMultiprocessor) =>
        (int)Math.Clamp(Math.Max(AlongRows(m, n, k, multiprocessors, blocksPerMultiprocessor), AlongDepth(k)), 1, int.MaxValue);

    /// <summary>Whether <paramref name="parts"/> parts are taken over row blocks (they fit in its waves); else over K.</summary>
    public static bool ByRows(int parts, int m, int n, int k, int multiprocessors, int blocksPerMultiprocessor) =>
        parts <= AlongRows(m, n, k, multiprocessors, blocksPerMultiprocessor);

    /// <summary>
    /// The depth of each block of a part over <paramref name="depth"/> of K: the part's range in as
    /// many slices as the whole kernel splits K into (<see cref="CudaKernels.SliceK"/>), whole K
    /// steps each, so that the part has the whole kernel's blocks, each as much shallower. (Split
    /// again as the whole kernel would split a GEMM of that depth, a ResNet-50 weight-gradient
    /// GEMM's parts on the H200 had 180 blocks where the kernel has 288, and a trainer sliced at
    /// 50 us ran 6.1 steps/s against 12.7 gated: with fewer blocks on each multiprocessor, each
    /// part did less at once.)
    /// </summary>
    public static int DepthSlice(int m, int n, int k, int depth, int multiprocessors)
    {
        var whole = CudaKernels.SliceK(m, n, k, multiprocessors);
        var slices = (k + whole - 1) / whole;
        var slice = (depth + slices - 1) / slices;
        return Math.Max(CudaKernels.TileK, (slice + CudaKernels.TileK - 1) / CudaKernels.TileK * CudaKernels.TileK);
    }

    /// <summary>
    /// The most blocks a narrow launch of a GEMM holds (the spatial arbiter's, beside a
    /// latency-sensitive tenant's kernels under MPS): two per multiprocessor — what a whole GEMM's
    /// split over K is sized to (<see cref="CudaKernels.SliceK"/>), leaving the rest of each
    /// multiprocessor's places to the other tenant's blocks.
    /// </summary>
    public static long NarrowBlocks(int multiprocessors) => 2L * Math.Max(1, multiprocessors);

    /// <summary>
    /// How a GEMM is launched narrow: as <c>Pieces</c> launches over ranges of its row blocks (every
    /// column block of each), each of at most <see cref="NarrowBlocks"/> blocks where a row block
    /// allows, with K split in slices <c>Slice</c> deep (the whole kernel's split, or fewer,
    /// deeper slices where one row block in the whole kernel's slices would be wider than that).
    /// A GEMM within the bound is one piece, as the whole kernel.
    /// </summary>
    public static (int Pieces, int Slice) Narrow(int m, int n, int k, int multiprocessors)
    {
        var slice = CudaKernels.SliceK(m, n, k, multiprocessors);
        var slices = (long)((k + slice - 1) / slice);
        var columns = (long)ColumnBlocks(n);
        var rows = RowBlocks(m);
        var most = NarrowBlocks(multiprocessors);
        if (rows * columns * slices <= most)
        {
            return (1, slice);
        }

        if (columns * slices > most)
        {
            // One row block a piece, in as many slices as fit (at least one: a row block wider than the bound stays so).
            var fewer = (int)Math.Max(1, most / columns);
            var deeper = (k + fewer - 1) / fewer;
            return ((int)Math.Min(rows, int.MaxValue), Math.Max(CudaKernels.TileK, (deeper + CudaKernels.TileK - 1) / CudaKernels.TileK * CudaKernels.TileK));
        }

        var perPiece = most / (columns * slices);
        return ((int)Math.Min((rows + perPiece - 1) / perPiece, int.MaxValue), slice);
    }

    /// <summary>The range [From, To) of K of part <paramref name="part"/> of <paramref name="parts"/> taken over K: whole K steps, shared out as evenly as can be.</summary>
    public static (int From, int To) DepthRange(int k, int part, int parts)
    {
        var (from, to) = KernelParts.Range(k, part, parts, CudaKernels.TileK);
        return ((int)from, (int)to);
    }
}
