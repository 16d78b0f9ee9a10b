using Contention.Workloads.Devices;
using Contention.Workloads.Sim;

namespace Contention.Workloads.Kernels;

/// <summary>
/// How a kernel is launched on the cuda device (<see cref="CudaDevice"/>): its blocks and how many
/// fit on one multiprocessor at once. It tells the modelled GPU what share of the GPU a kernel
/// fills: a batch-1 GEMM of a few tiles leaves most multiprocessors idle.
/// </summary>
/// <param name="Blocks">Thread blocks launched.</param>
/// <param name="BlocksPerMultiprocessor">Blocks resident on one multiprocessor at once.</param>
public readonly record struct KernelGeometry(long Blocks, int BlocksPerMultiprocessor)
{
    /// <summary>Threads of a reduction block.</summary>
    private const int ReduceThreads = CudaKernels.ReduceGroup;

    /// <summary>The launch of <paramref name="kernel"/> on a GPU like <paramref name="profile"/>; no blocks for a copy (a copy engine moves it).</summary>
    public static KernelGeometry For(in KernelSpec kernel, DeviceProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var sms = profile.Multiprocessors;
        switch (kernel.Kind)
        {
            case KernelKind.Gemm:
                return new(GemmSlicing.Blocks(kernel.M, kernel.N, kernel.K, sms), profile.GemmBlocksPerMultiprocessor);
            case KernelKind.Elementwise:
                var threads = profile.ElementwiseThreadsPerBlock;
                return new((kernel.Elements + threads - 1) / threads, Math.Max(1, 2048 / threads));
            case KernelKind.Reduce:
                // As CudaDevice launches it: four blocks per multiprocessor, grid-strided.
                return new(4L * sms, 2048 / ReduceThreads);
            case KernelKind.Replay:
                // As recorded: its blocks, and how many of them a multiprocessor held.
                return new(kernel.M, Math.Max(1, kernel.K));
            default:
                return new(0, 1);
        }
    }

    /// <summary>How many waves its blocks run in: blocks over what the multiprocessors hold at once (at least 1).</summary>
    public long Waves(int multiprocessors) => Math.Max(1, (Blocks + ((long)multiprocessors * BlocksPerMultiprocessor) - 1) / ((long)multiprocessors * BlocksPerMultiprocessor));

    /// <summary>The share of the GPU's multiprocessors the kernel fills (one wave or more: 1).</summary>
    public double SmShare(int multiprocessors) => Math.Min(1.0, (double)Blocks / ((double)multiprocessors * BlocksPerMultiprocessor));
}
