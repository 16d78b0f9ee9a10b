using Contention.Workloads.Kernels;

namespace Contention.Workloads.Sim;

/// <summary>
/// A kernel's GPU time measured on the profiled GPU (<c>contention bench calibrate</c>): the
/// cost model takes it instead of its roofline for exactly this kernel.
/// </summary>
/// <param name="Kind">Gemm, Elementwise or Reduce.</param>
/// <param name="M">GEMM rows (0 otherwise).</param>
/// <param name="N">GEMM columns.</param>
/// <param name="K">GEMM inner dimension.</param>
/// <param name="Elements">Elements (of C for a GEMM).</param>
/// <param name="Op">The element-wise operation.</param>
/// <param name="Ns">Median GPU time, ns.</param>
public sealed record MeasuredKernel(KernelKind Kind, int M, int N, int K, long Elements, ElementwiseOp Op, long Ns)
{
    /// <summary>The kernel measured.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public KernelSpec Spec => new(Kind, M, N, K, Elements, Op);

    /// <summary>A measurement of <paramref name="kernel"/>.</summary>
    public static MeasuredKernel Of(in KernelSpec kernel, long ns) => new(kernel.Kind, kernel.M, kernel.N, kernel.K, kernel.Elements, kernel.Op, ns);
}
