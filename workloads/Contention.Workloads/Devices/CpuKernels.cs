using System.Numerics;
using System.Runtime.InteropServices;
using Contention.Workloads.Kernels;

namespace Contention.Workloads.Devices;

/// <summary>The CPU execution model's kernels: vectorised with <see cref="Vector{T}"/>, parallel over rows or chunks.</summary>
internal static class CpuKernels
{
    private const int ChunkElements = 1 << 16;
    private const int RowBlock = 16;

    /// <summary>C[M,N] = A[M,K]·B[K,N]; i-k-j loop order so the inner loop streams rows of B and C.</summary>
    public static void Gemm(ReadOnlyMemory<float> a, ReadOnlyMemory<float> b, Memory<float> c, int m, int n, int k, ParallelOptions parallel)
    {
        var blocks = (m + RowBlock - 1) / RowBlock;
        Parallel.For(0, blocks, parallel, block =>
        {
            var aSpan = a.Span;
            var bSpan = b.Span;
            var cSpan = c.Span;
            var rowEnd = Math.Min(m, (block + 1) * RowBlock);
            for (var i = block * RowBlock; i < rowEnd; i++)
            {
                var cRow = cSpan.Slice(i * n, n);
                cRow.Clear();
                var aRow = aSpan.Slice(i * k, k);
                for (var p = 0; p < k; p++)
                {
                    Axpy(aRow[p], bSpan.Slice(p * n, n), cRow);
                }
            }
        });
    }

    /// <summary>z = f(x, y) over the first <paramref name="count"/> elements.</summary>
    public static void Elementwise(ElementwiseOp op, ReadOnlyMemory<float> x, ReadOnlyMemory<float> y, Memory<float> z, long count, ParallelOptions parallel)
    {
        var chunks = (int)((count + ChunkElements - 1) / ChunkElements);
        Parallel.For(0, chunks, parallel, chunk =>
        {
            var start = chunk * ChunkElements;
            var length = (int)Math.Min(ChunkElements, count - start);
            ElementwiseSpan(op, x.Span.Slice(start, length), y.Span.Slice(start, length), z.Span.Slice(start, length));
        });
    }

    /// <summary>The sum of the first <paramref name="count"/> elements, accumulated per chunk in double.</summary>
    public static float Reduce(ReadOnlyMemory<float> x, long count, ParallelOptions parallel)
    {
        var chunks = (int)((count + ChunkElements - 1) / ChunkElements);
        var partial = new double[chunks];
        Parallel.For(0, chunks, parallel, chunk =>
        {
            var start = chunk * ChunkElements;
            var length = (int)Math.Min(ChunkElements, count - start);
            partial[chunk] = SumSpan(x.Span.Slice(start, length));
        });
        var total = 0.0;
        foreach (var p in partial)
        {
            total += p;
        }

        return (float)total;
    }

    private static void Axpy(float alpha, ReadOnlySpan<float> x, Span<float> y)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            var va = new Vector<float>(alpha);
            var xv = MemoryMarshal.Cast<float, Vector<float>>(x);
            var yv = MemoryMarshal.Cast<float, Vector<float>>(y);
            for (var v = 0; v < xv.Length; v++)
            {
                yv[v] += va * xv[v];
            }

            i = xv.Length * Vector<float>.Count;
        }

        for (; i < x.Length; i++)
        {
            y[i] += alpha * x[i];
        }
    }

    private static void ElementwiseSpan(ElementwiseOp op, ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> z)
    {
        var xv = MemoryMarshal.Cast<float, Vector<float>>(x);
        var yv = MemoryMarshal.Cast<float, Vector<float>>(y);
        var zv = MemoryMarshal.Cast<float, Vector<float>>(z);
        for (var v = 0; v < xv.Length; v++)
        {
            zv[v] = op switch
            {
                ElementwiseOp.Add => xv[v] + yv[v],
                ElementwiseOp.Multiply => xv[v] * yv[v],
                _ => Vector.Max(xv[v] + yv[v], Vector<float>.Zero),
            };
        }

        for (var i = xv.Length * Vector<float>.Count; i < x.Length; i++)
        {
            z[i] = Scalar(op, x[i], y[i]);
        }
    }

    /// <summary>The scalar definition every device must match.</summary>
    public static float Scalar(ElementwiseOp op, float x, float y) => op switch
    {
        ElementwiseOp.Add => x + y,
        ElementwiseOp.Multiply => x * y,
        _ => MathF.Max(x + y, 0f),
    };

    private static double SumSpan(ReadOnlySpan<float> x)
    {
        var acc = Vector<float>.Zero;
        var xv = MemoryMarshal.Cast<float, Vector<float>>(x);
        foreach (var v in xv)
        {
            acc += v;
        }

        double sum = Vector.Sum(acc);
        for (var i = xv.Length * Vector<float>.Count; i < x.Length; i++)
        {
            sum += x[i];
        }

        return sum;
    }
}
