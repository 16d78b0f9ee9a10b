namespace Contention.Workloads.Kernels;

/// <summary>The operations every device implements.</summary>
public enum KernelKind
{
    /// <summary>C[M,N] = A[M,K] · B[K,N], single precision.</summary>
    Gemm,

    /// <summary>z = f(x, y) over N elements.</summary>
    Elementwise,

    /// <summary>Sum of N elements into one value.</summary>
    Reduce,

    /// <summary>Host-to-device copy of N elements.</summary>
    CopyToDevice,

    /// <summary>Device-to-host copy of N elements.</summary>
    CopyToHost,

    /// <summary>
    /// A recorded kernel, copy or memset replayed (<see cref="KernelSpec.Replay"/>): its GPU time
    /// and footprint as recorded, not computed from a shape.
    /// </summary>
    Replay,
}
