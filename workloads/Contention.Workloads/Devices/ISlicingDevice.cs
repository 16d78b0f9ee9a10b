using Contention.Workloads.Kernels;

namespace Contention.Workloads.Devices;

/// <summary>
/// A device whose compute kernels can be launched in parts, each over a disjoint range of the
/// kernel's blocks, together computing what the whole kernel does (an arbiter's kernel slicing:
/// a latency-sensitive kernel then waits behind at most one part).
/// </summary>
public interface ISlicingDevice
{
    /// <summary>
    /// The most parts <paramref name="kernel"/> is worth launching as: its waves of blocks (a part
    /// shorter than one wave runs as long as a wave, on fewer multiprocessors) and no more than it
    /// has block ranges; 1 where it cannot be sliced (a copy).
    /// </summary>
    int MaxParts(in KernelSpec kernel);

    /// <summary>Launches part <paramref name="part"/> (from 0) of <paramref name="parts"/> of <paramref name="kernel"/>, at most <see cref="MaxParts"/>.</summary>
    void LaunchPart(in KernelSpec kernel, int part, int parts);

    /// <summary>
    /// How many launches <paramref name="kernel"/> takes launched narrow (the spatial arbiter: each
    /// holding at most a share of the GPU's places for blocks, so that another tenant's kernel
    /// finds room beside it); 1 where it is narrow enough as it is, or cannot be narrowed (the
    /// default: a device that does not narrow).
    /// </summary>
    int NarrowParts(in KernelSpec kernel) => 1;

    /// <summary>Launches piece <paramref name="piece"/> (from 0) of <paramref name="pieces"/> (<see cref="NarrowParts"/>) of <paramref name="kernel"/> launched narrow; the default launches it whole (one piece).</summary>
    void LaunchNarrow(in KernelSpec kernel, int piece, int pieces) => LaunchPart(kernel, piece, pieces);
}
