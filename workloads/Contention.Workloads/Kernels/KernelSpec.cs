namespace Contention.Workloads.Kernels;

/// <summary>One kernel launch of a workload's sequence; sizes are in float32 elements.</summary>
/// <param name="Kind">The operation.</param>
/// <param name="M">GEMM rows of A and C.</param>
/// <param name="N">GEMM columns of B and C.</param>
/// <param name="K">GEMM inner dimension.</param>
/// <param name="Elements">Element count for element-wise, reduction and copy kernels.</param>
/// <param name="Op">The element-wise function.</param>
public readonly record struct KernelSpec(KernelKind Kind, int M, int N, int K, long Elements, ElementwiseOp Op = ElementwiseOp.Add)
{
    /// <summary>A GEMM of the given shape.</summary>
    public static KernelSpec Gemm(int m, int n, int k) => new(KernelKind.Gemm, m, n, k, (long)m * n);

    /// <summary>An element-wise kernel over <paramref name="elements"/> values.</summary>
    public static KernelSpec Elementwise(long elements, ElementwiseOp op = ElementwiseOp.AddRelu) => new(KernelKind.Elementwise, 0, 0, 0, elements, op);

    /// <summary>A sum reduction over <paramref name="elements"/> values.</summary>
    public static KernelSpec Reduce(long elements) => new(KernelKind.Reduce, 0, 0, 0, elements);

    /// <summary>A host-to-device copy.</summary>
    public static KernelSpec CopyToDevice(long elements) => new(KernelKind.CopyToDevice, 0, 0, 0, elements);

    /// <summary>A device-to-host copy.</summary>
    public static KernelSpec CopyToHost(long elements) => new(KernelKind.CopyToHost, 0, 0, 0, elements);

    /// <summary>
    /// A recorded op replayed (docs/replay.md): <paramref name="durationNs"/> of GPU time alone,
    /// <paramref name="blocks"/> blocks of <paramref name="threads"/> threads of which a
    /// multiprocessor holds <paramref name="residentBlocks"/> at once; no blocks for a copy or a
    /// memset (an engine's work, beside the multiprocessors).
    /// </summary>
    public static KernelSpec Replay(long durationNs, long blocks, int threads, int residentBlocks) =>
        new(KernelKind.Replay, (int)Math.Clamp(blocks, 0, int.MaxValue), Math.Max(0, threads), Math.Max(1, residentBlocks), Math.Max(1, durationNs));

    /// <summary>Floating-point operations the kernel performs.</summary>
    public double Flops => Kind switch
    {
        KernelKind.Gemm => 2.0 * M * N * K,
        KernelKind.Elementwise or KernelKind.Reduce => Elements,
        _ => 0,
    };

    /// <summary>A replayed op's GPU time alone, ns (<see cref="Replay"/>).</summary>
    public long ReplayNs => Kind == KernelKind.Replay ? Elements : 0;

    /// <summary>Bytes the kernel reads and writes in device memory (or moves over the bus for copies).</summary>
    public double Bytes => Kind switch
    {
        KernelKind.Gemm => 4.0 * (((double)M * K) + ((double)K * N) + ((double)M * N)),
        KernelKind.Elementwise => 12.0 * Elements,
        KernelKind.Replay => 0,
        _ => 4.0 * Elements,
    };
}
