using ILGPU;

namespace Contention.Workloads.Devices;

/// <summary>ILGPU kernels of the cuda device. Each is compiled to PTX once per accelerator.</summary>
internal static class CudaKernels
{
    /// <summary>GEMM tile edge; a group is Tile×Tile threads.</summary>
    public const int Tile = 16;

    /// <summary>Threads per group of the reduction.</summary>
    public const int ReduceGroup = 256;

    /// <summary>
    /// Shared-memory tiled GEMM, C[M,N] = A[M,K]·B[K,N], row-major. Row tiles go on grid X and
    /// column tiles on grid Y because grid Y is limited to 65,535 and implicit-GEMM convolutions
    /// have millions of rows; inside a group X is the column, so global loads are coalesced.
    /// </summary>
    public static void Gemm(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int m, int n, int k)
    {
        var tileA = SharedMemory.Allocate<float>(Tile * Tile);
        var tileB = SharedMemory.Allocate<float>(Tile * Tile);
        var tx = Group.IdxX;
        var ty = Group.IdxY;
        var row = (Grid.IdxX * Tile) + ty;
        var col = (Grid.IdxY * Tile) + tx;
        var sum = 0f;
        for (var t = 0; t < k; t += Tile)
        {
            var aCol = t + tx;
            tileA[(ty * Tile) + tx] = row < m && aCol < k ? a[((long)row * k) + aCol] : 0f;
            var bRow = t + ty;
            tileB[(ty * Tile) + tx] = bRow < k && col < n ? b[((long)bRow * n) + col] : 0f;
            Group.Barrier();
            for (var p = 0; p < Tile; p++)
            {
                sum += tileA[(ty * Tile) + p] * tileB[(p * Tile) + tx];
            }

            Group.Barrier();
        }

        if (row < m && col < n)
        {
            c[((long)row * n) + col] = sum;
        }
    }

    /// <summary>z = f(x, y); <paramref name="op"/> is an <see cref="Kernels.ElementwiseOp"/> value.</summary>
    public static void Elementwise(Index1D i, ArrayView<float> x, ArrayView<float> y, ArrayView<float> z, int op)
    {
        var s = x[i] + y[i];
        z[i] = op switch
        {
            0 => s,
            1 => x[i] * y[i],
            _ => s > 0f ? s : 0f,
        };
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
