using Contention.Workloads.Kernels;

namespace Contention.Workloads.Devices;

/// <summary>
/// The buffer sizes (in float32 elements) a kernel sequence needs: operand A, operand B,
/// result C and the host staging buffer. Every kernel of a sequence reuses these buffers.
/// </summary>
/// <param name="A">Elements of the first operand (GEMM A, element-wise x, reduction input, copy target).</param>
/// <param name="B">Elements of the second operand (GEMM B, element-wise y).</param>
/// <param name="C">Elements of the result (GEMM C, element-wise z).</param>
/// <param name="Host">Elements of the host buffer used by copies.</param>
public readonly record struct WorkspaceSize(long A, long B, long C, long Host)
{
    /// <summary>The largest buffer a device can hold in one .NET array or ILGPU 1-D view.</summary>
    public const long MaxElements = int.MaxValue;

    /// <summary>The smallest workspace covering every kernel given.</summary>
    /// <exception cref="ArgumentException">A kernel needs a buffer beyond <see cref="MaxElements"/>.</exception>
    public static WorkspaceSize For(IEnumerable<KernelSpec> kernels)
    {
        ArgumentNullException.ThrowIfNull(kernels);
        long a = 1, b = 1, c = 1, host = 1;
        foreach (var kernel in kernels)
        {
            switch (kernel.Kind)
            {
                case KernelKind.Gemm:
                    a = Math.Max(a, (long)kernel.M * kernel.K);
                    b = Math.Max(b, (long)kernel.K * kernel.N);
                    c = Math.Max(c, (long)kernel.M * kernel.N);
                    break;
                case KernelKind.Elementwise:
                    a = Math.Max(a, kernel.Elements);
                    b = Math.Max(b, kernel.Elements);
                    c = Math.Max(c, kernel.Elements);
                    break;
                case KernelKind.Reduce:
                    a = Math.Max(a, kernel.Elements);
                    break;
                case KernelKind.Replay:
                    // Its time and footprint are recorded; it needs no operands.
                    break;
                default:
                    a = Math.Max(a, kernel.Elements);
                    host = Math.Max(host, kernel.Elements);
                    break;
            }
        }

        var size = new WorkspaceSize(a, b, c, host);
        if (Math.Max(Math.Max(a, b), Math.Max(c, host)) > MaxElements)
        {
            throw new ArgumentException($"a kernel needs a buffer of more than {MaxElements} floats ({size}); use a smaller batch size", nameof(kernels));
        }

        return size;
    }

    /// <summary>True when every buffer of this size is at least as large as in <paramref name="other"/>.</summary>
    public bool Covers(WorkspaceSize other) => A >= other.A && B >= other.B && C >= other.C && Host >= other.Host;

    /// <summary>Element-wise maximum of two sizes.</summary>
    public WorkspaceSize Union(WorkspaceSize other) => new(Math.Max(A, other.A), Math.Max(B, other.B), Math.Max(C, other.C), Math.Max(Host, other.Host));
}
