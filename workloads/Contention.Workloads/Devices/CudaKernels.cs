using Contention.Workloads.Kernels;
using ILGPU;
using ILGPU.Runtime.Cuda;

namespace Contention.Workloads.Devices;

/// <summary>ILGPU kernels of the cuda device. Each is compiled to PTX once per accelerator.</summary>
internal static class CudaKernels
{
    /// <summary>Edge of the block of C one group computes.</summary>
    public const int Tile = 64;

    /// <summary>Depth of the K slice staged in shared memory per step.</summary>
    public const int TileK = 16;

    /// <summary>Threads per GEMM group along each axis (16×16 threads, 4×4 outputs each).</summary>
    public const int GemmThreads = 16;

    /// <summary>Threads per group of the reduction.</summary>
    public const int ReduceGroup = 256;

    /// <summary>
    /// Register-blocked GEMM, C[M,N] = A[M,K]·B[K,N], row-major. A group of 16×16 threads
    /// computes a <see cref="Tile"/>×<see cref="Tile"/> block of C, each thread 4×4 outputs strided
    /// by 16 so that loads from shared memory are conflict-free and stores to C coalesce. Row
    /// blocks go on grid X because grid Y is limited to 65,535 and implicit-GEMM convolutions
    /// have millions of rows. <paramref name="rowBlockOffset"/>: the row block of the grid's first
    /// (a kernel launched in parts over ranges of its row blocks; 0 for a whole one).
    /// [<paramref name="kFrom"/>, <paramref name="kTo"/>): the range of K the grid's slices cover
    /// (a kernel launched in parts over ranges of K; [0, k) for a whole one); a grid that covers
    /// less than all of K, or in more than one slice, adds into C atomically.
    /// </summary>
    public static void Gemm(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int m, int n, int k, int kSlice, int rowBlockOffset, int kFrom, int kTo)
    {
        var tileA = SharedMemory.Allocate<float>(TileK * Tile);
        var tileB = SharedMemory.Allocate<float>(TileK * Tile);
        // Split-K: grid Z selects a slice of the inner dimension; slices add into C atomically.
        var kStart = kFrom + (Grid.IdxZ * kSlice);
        var kEnd = Math.Min(kTo, kStart + kSlice);
        var split = kFrom > 0 || kTo < k || kSlice < kTo - kFrom;
        GemmTile(a, b, c, tileA, tileB, m, n, k, (Grid.IdxX + rowBlockOffset) * Tile, Grid.IdxY * Tile, kStart, kEnd, split, default, 0, 1, 0);
    }

    /// <summary>
    /// <see cref="Gemm"/> (all of K, in slices <paramref name="kSlice"/> deep) by blocks that keep
    /// to the multiprocessors of <paramref name="smRange"/> (<see cref="SmRange.Packed"/>, by
    /// <c>%smid</c>): a block that lands on another leaves at once; the others take tiles (row block, column block, K
    /// slice) from <paramref name="counter"/>[0] (zero before the launch) until none is left, so
    /// the multiprocessors outside the range stay free for another tenant's blocks, whatever the
    /// launch's grid. On ILGPU's CPU emulator (tests) no block knows its multiprocessor: none leaves.
    /// A group pauses in place (keeping its partial sums) every <paramref name="lookSteps"/> steps
    /// of K while a stop word is not 0: <paramref name="stop"/>[0] where it has an element, else
    /// the 32-bit word at the device address <paramref name="stopAddress"/> (host memory mapped
    /// for the device, or another process's device word opened through CUDA IPC; 0 for none; read
    /// on a GPU only). A group that has looked <paramref name="maxLooks"/> times in one pause goes
    /// on whatever the word says: a setter that died with the word set stalls no one for long.
    /// </summary>
    public static void GemmAvoiding(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int m, int n, int k, int kSlice, ArrayView<int> counter, int smRange, ArrayView<int> stop, long stopAddress, int lookSteps, int maxLooks)
    {
        var tileA = SharedMemory.Allocate<float>(TileK * Tile);
        var tileB = SharedMemory.Allocate<float>(TileK * Tile);
        var next = SharedMemory.Allocate<int>(1);
        if (OffRange(smRange))
        {
            return;
        }

        var rowBlocks = (m + Tile - 1) / Tile;
        var columnBlocks = (n + Tile - 1) / Tile;
        var slices = (k + kSlice - 1) / kSlice;
        var tiles = rowBlocks * columnBlocks * slices;
        while (true)
        {
            if (Group.IdxX == 0 && Group.IdxY == 0)
            {
                next[0] = Atomic.Add(ref counter[0], 1);
            }

            Group.Barrier();
            var tile = next[0];
            Group.Barrier();
            if (tile >= tiles)
            {
                return;
            }

            // In the whole kernel's grid order (row blocks, then column blocks, then K slices):
            // tiles taken together add into different parts of C, not all into one.
            var rest = tile / rowBlocks;
            var kStart = rest / columnBlocks * kSlice;
            GemmTile(a, b, c, tileA, tileB, m, n, k, tile % rowBlocks * Tile, rest % columnBlocks * Tile, kStart, Math.Min(k, kStart + kSlice), slices > 1, stop, stopAddress, lookSteps, maxLooks);
        }
    }

    // Whether a kernel has a stop word to look at: an element of stop, or an address (read on a GPU only).
    private static bool Pausable(ArrayView<int> stop, long stopAddress) => stop.Length > 0 || (stopAddress != 0 && CudaAsm.IsSupported);

    // Returns once the stop word reads 0, or after maxLooks looks: stop[0] where it has an element
    // (read atomically), else the word at stopAddress (a volatile load: memory another process
    // writes), napping 1 us between looks on a GPU.
    private static void WaitWhileStopped(ArrayView<int> stop, long stopAddress, int maxLooks)
    {
        for (var look = 0; look < maxLooks; look++)
        {
            uint word;
            if (stop.Length > 0)
            {
                word = (uint)Atomic.Or(ref stop[0], 0);
            }
            else
            {
                // Through a register: where the address is a constant (0 in the plain GEMM, which
                // never comes here) ILGPU writes it into the instruction, and ptxas refuses an
                // immediate global address ("allowed only for .local"), failing the whole module.
                CudaAsm.Emit("{ .reg .u64 %%stop; mov.u64 %%stop, %1; ld.volatile.global.u32 %0, [%%stop]; }", out word, stopAddress);
            }

            if (word == 0)
            {
                return;
            }

            if (CudaAsm.IsSupported)
            {
                CudaAsm.Emit("nanosleep.u32 1000;");
            }
        }
    }

    // Whether this group runs on a multiprocessor (%smid) outside the packed range; never on the CPU emulator.
    private static bool OffRange(int smRange)
    {
        if (!CudaAsm.IsSupported)
        {
            return false;
        }

        CudaAsm.Emit("mov.u32 %0, %%smid;", out uint sm);
        return SmRange.Outside(smRange, sm);
    }

    /// <summary>Steps of K (<see cref="TileK"/> deep each) between a pausable GEMM group's looks at its stop word, by default.</summary>
    public const int StopLookSteps = 4;

    // One group's Tile x Tile block of C at (rowBase, colBase) over K in [kStart, kEnd), adding into
    // C when add; pausing at every lookSteps-th step of K while the stop word is set (none: an
    // empty stop and address 0).
    private static void GemmTile(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> tileA, ArrayView<float> tileB, int m, int n, int k, int rowBase, int colBase, int kStart, int kEnd, bool add, ArrayView<int> stop, long stopAddress, int lookSteps, int maxLooks)
    {
        var pausable = Pausable(stop, stopAddress);
        var tx = Group.IdxX;
        var ty = Group.IdxY;
        var tid = (ty * 16) + tx;
        float c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        float c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        for (var t = kStart; t < kEnd; t += TileK)
        {
            if (pausable && (t - kStart) / TileK % lookSteps == 0)
            {
                if (tid == 0)
                {
                    WaitWhileStopped(stop, stopAddress, maxLooks);
                }

                Group.Barrier();
            }

            for (var l = 0; l < 4; l++)
            {
                var index = tid + (256 * l);
                var r = index / TileK;
                var q = index % TileK;
                var row = rowBase + r;
                var col = t + q;
                tileA[(q * Tile) + r] = row < m && col < kEnd ? a[((long)row * k) + col] : 0f;
                var br = index / Tile;
                var bc = index % Tile;
                var bRow = t + br;
                var bCol = colBase + bc;
                tileB[(br * Tile) + bc] = bRow < kEnd && bCol < n ? b[((long)bRow * n) + bCol] : 0f;
            }

            Group.Barrier();
            for (var p = 0; p < TileK; p++)
            {
                var a0 = tileA[(p * Tile) + ty];
                var a1 = tileA[(p * Tile) + ty + 16];
                var a2 = tileA[(p * Tile) + ty + 32];
                var a3 = tileA[(p * Tile) + ty + 48];
                var b0 = tileB[(p * Tile) + tx];
                var b1 = tileB[(p * Tile) + tx + 16];
                var b2 = tileB[(p * Tile) + tx + 32];
                var b3 = tileB[(p * Tile) + tx + 48];
                c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
                c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
                c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
                c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
            }

            Group.Barrier();
        }

        Store(c, m, n, rowBase + ty, colBase + tx, add, c00, c01, c02, c03);
        Store(c, m, n, rowBase + ty + 16, colBase + tx, add, c10, c11, c12, c13);
        Store(c, m, n, rowBase + ty + 32, colBase + tx, add, c20, c21, c22, c23);
        Store(c, m, n, rowBase + ty + 48, colBase + tx, add, c30, c31, c32, c33);
    }

    /// <summary>
    /// Whether the cuda device launches <paramref name="kernel"/>, whole, as a memset of its result
    /// and a kernel: a GEMM it splits over K (<see cref="SliceK"/>) on a GPU of
    /// <paramref name="multiprocessors"/> multiprocessors. The memset takes a place in the driver's
    /// launch queue of its own.
    /// </summary>
    public static bool LaunchesMemsetFirst(in KernelSpec kernel, int multiprocessors) =>
        kernel.Kind == KernelKind.Gemm && SliceK(kernel.M, kernel.N, kernel.K, multiprocessors) < kernel.K;

    /// <summary>
    /// K elements per slice for a GEMM: enough slices that the grid has about two groups per
    /// multiprocessor, each slice at least 256 deep. Weight-gradient GEMMs (small M×N, K =
    /// batch·H·W in the hundreds of thousands) would otherwise run on a handful of groups.
    /// </summary>
    public static int SliceK(int m, int n, int k, int multiprocessors)
    {
        var groups = (long)((m + Tile - 1) / Tile) * ((n + Tile - 1) / Tile);
        return Slice(k, (int)Math.Min(Math.Max(1, ((2L * multiprocessors) + groups - 1) / groups), Math.Max(1, k / 256)));
    }

    /// <summary>
    /// K elements per slice for a GEMM cut into no more than <paramref name="tiles"/> tiles (row
    /// block, column block, K slice) where K allows, each slice at least 256 deep; one slice
    /// where its row and column blocks are that many already.
    /// </summary>
    public static int SliceKAtMost(int m, int n, int k, long tiles)
    {
        var groups = (long)((m + Tile - 1) / Tile) * ((n + Tile - 1) / Tile);
        return Slice(k, (int)Math.Min(Math.Max(1, tiles / groups), Math.Max(1, k / 256)));
    }

    // K in slices of whole TileK steps, no more than wanted of them.
    private static int Slice(int k, int wanted)
    {
        var slice = (k + wanted - 1) / wanted;
        return (slice + TileK - 1) / TileK * TileK;
    }

    private static void Store(ArrayView<float> c, int m, int n, int row, int col, bool add, float v0, float v1, float v2, float v3)
    {
        if (row >= m)
        {
            return;
        }

        var offset = (long)row * n;
        Put(c, offset + col, col < n, add, v0);
        Put(c, offset + col + 16, col + 16 < n, add, v1);
        Put(c, offset + col + 32, col + 32 < n, add, v2);
        Put(c, offset + col + 48, col + 48 < n, add, v3);
    }

    private static void Put(ArrayView<float> c, long index, bool inside, bool add, float value)
    {
        if (!inside)
        {
            return;
        }

        if (add)
        {
            Atomic.Add(ref c[index], value);
        }
        else
        {
            c[index] = value;
        }
    }

    /// <summary>Edge of the square tile of <see cref="GemmTiled"/>; a group is 16×16 threads, one output each.</summary>
    public const int SimpleTile = 16;

    /// <summary>
    /// Shared-memory tiled GEMM with one output per thread: simpler than <see cref="Gemm"/> and
    /// kept as the comparison point of <c>contention bench gemm</c>.
    /// </summary>
    public static void GemmTiled(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int m, int n, int k)
    {
        var tileA = SharedMemory.Allocate<float>(SimpleTile * SimpleTile);
        var tileB = SharedMemory.Allocate<float>(SimpleTile * SimpleTile);
        var tx = Group.IdxX;
        var ty = Group.IdxY;
        var row = (Grid.IdxX * SimpleTile) + ty;
        var col = (Grid.IdxY * SimpleTile) + tx;
        var sum = 0f;
        for (var t = 0; t < k; t += SimpleTile)
        {
            var aCol = t + tx;
            tileA[(ty * SimpleTile) + tx] = row < m && aCol < k ? a[((long)row * k) + aCol] : 0f;
            var bRow = t + ty;
            tileB[(ty * SimpleTile) + tx] = bRow < k && col < n ? b[((long)bRow * n) + col] : 0f;
            Group.Barrier();
            for (var p = 0; p < SimpleTile; p++)
            {
                sum += tileA[(ty * SimpleTile) + p] * tileB[(p * SimpleTile) + tx];
            }

            Group.Barrier();
        }

        if (row < m && col < n)
        {
            c[((long)row * n) + col] = sum;
        }
    }

    /// <summary>
    /// z = f(x, y) at element <paramref name="offset"/> + i; <paramref name="op"/> is an
    /// <see cref="Kernels.ElementwiseOp"/> value (a kernel launched in parts over ranges of its
    /// elements; offset 0 for a whole one).
    /// </summary>
    public static void Elementwise(Index1D i, ArrayView<float> x, ArrayView<float> y, ArrayView<float> z, int op, int offset)
    {
        var e = i + offset;
        z[e] = Combine(x[e], y[e], op);
    }

    // An element-wise kernel's f(x, y) for op (an ElementwiseOp value): the sum, the product, or the sum's ReLU.
    private static float Combine(float x, float y, int op) => op switch
    {
        0 => x + y,
        1 => x * y,
        _ => x + y > 0f ? x + y : 0f,
    };

    /// <summary>Elements one group takes at a time in <see cref="ElementwiseAvoiding"/>: its 256 threads, 16 each.</summary>
    public const int AvoidingChunk = 4096;

    /// <summary>
    /// <see cref="Elementwise"/> over <paramref name="count"/> elements by groups of 256 that keep
    /// to the multiprocessors of <paramref name="smRange"/> (as <see cref="GemmAvoiding"/>): they
    /// take <see cref="AvoidingChunk"/> elements at a time from <paramref name="counter"/>[0] (zero before the launch) until none is left. Before each
    /// chunk a group waits while the stop word is set, as <see cref="GemmAvoiding"/>'s do.
    /// </summary>
    public static void ElementwiseAvoiding(ArrayView<float> x, ArrayView<float> y, ArrayView<float> z, int count, int op, ArrayView<int> counter, int smRange, ArrayView<int> stop, long stopAddress, int maxLooks)
    {
        var next = SharedMemory.Allocate<int>(1);
        if (OffRange(smRange))
        {
            return;
        }

        var pausable = Pausable(stop, stopAddress);
        while (true)
        {
            if (Group.IdxX == 0)
            {
                // The chunk is taken first: its atomic and the stop word's load are in flight together.
                var taken = Atomic.Add(ref counter[0], 1);
                if (pausable)
                {
                    WaitWhileStopped(stop, stopAddress, maxLooks);
                }

                next[0] = taken;
            }

            Group.Barrier();
            var start = (long)next[0] * AvoidingChunk;
            Group.Barrier();
            if (start >= count)
            {
                return;
            }

            var end = Math.Min(count, start + AvoidingChunk);
            for (var e = start + Group.IdxX; e < end; e += Group.DimX)
            {
                z[e] = Combine(x[e], y[e], op);
            }
        }
    }

    /// <summary>
    /// A replayed kernel's stand-in (docs/replay.md): each block's first thread busy-waits
    /// <paramref name="spinNs"/> on the GPU's nanosecond timer (<c>%globaltimer</c>) while the
    /// block's other threads wait for it at a barrier, so the launch holds as many blocks of as
    /// many threads, each as long, as the recorded kernel's; block 0's thread 0 writes how long
    /// it waited to <paramref name="sink"/>[0]. On ILGPU's CPU
    /// emulator (tests) the blocks do not wait: they only write <paramref name="spinNs"/>.
    /// </summary>
    public static void Busy(ArrayView<long> sink, long spinNs)
    {
        // One thread a block reads the timer; the block's other threads wait at the barrier,
        // resident as the recorded kernel's were. (Every thread reading it made the reads queue:
        // on the H200 a single wave of 2,048 such threads a multiprocessor took twice its wait.)
        if (Group.IdxX == 0)
        {
            var waited = spinNs;
            if (CudaAsm.IsSupported)
            {
                CudaAsm.Emit("mov.u64 %0, %%globaltimer;", out long start);
                long now;
                do
                {
                    CudaAsm.Emit("mov.u64 %0, %%globaltimer;", out now);
                }
                while (now - start < spinNs);
                waited = now - start;
            }

            if (Grid.IdxX == 0)
            {
                sink[0] = waited;
            }
        }

        Group.Barrier();
    }

    /// <summary>
    /// Grid-stride sum: each group reduces its partial sums in shared memory and adds one value
    /// atomically to <paramref name="result"/>[0], which the caller zeroes first.
    /// </summary>
    public static void Reduce(ArrayView<float> x, ArrayView<float> result, int count)
    {
        var shared = SharedMemory.Allocate<float>(ReduceGroup);
        var sum = 0f;
        var stride = Grid.DimX * Group.DimX;
        for (var i = (Grid.IdxX * Group.DimX) + Group.IdxX; i < count; i += stride)
        {
            sum += x[i];
        }

        shared[Group.IdxX] = sum;
        Group.Barrier();
        for (var half = ReduceGroup / 2; half > 0; half /= 2)
        {
            if (Group.IdxX < half)
            {
                shared[Group.IdxX] += shared[Group.IdxX + half];
            }

            Group.Barrier();
        }

        if (Group.IdxX == 0)
        {
            Atomic.Add(ref result[0], shared[0]);
        }
    }
}
