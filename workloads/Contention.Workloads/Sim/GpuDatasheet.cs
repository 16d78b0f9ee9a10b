namespace Contention.Workloads.Sim;

/// <summary>
/// A GPU's peaks as its vendor's datasheet gives them: what a calibrated profile is scaled by to
/// model a GPU nobody has calibrated (<see cref="DeviceProfile.ScaledTo"/>).
/// </summary>
/// <param name="Name">The profile name it answers to (e.g. <c>t4</c>), lower case.</param>
/// <param name="Product">The product, as the datasheet names it.</param>
/// <param name="Fp32FlopsPerSecond">Peak FP32 (non-tensor) rate.</param>
/// <param name="MemoryBytesPerSecond">Peak memory bandwidth.</param>
/// <param name="Multiprocessors">Streaming multiprocessors.</param>
/// <param name="HostLinkBytesPerSecond">The host link's peak per direction (PCIe 3.0 x16 15.75 GB/s, 4.0 x16 31.5 GB/s).</param>
/// <param name="Note">What was assumed where the trace or the datasheet leaves a choice.</param>
public sealed record GpuDatasheet(string Name, string Product, double Fp32FlopsPerSecond, double MemoryBytesPerSecond, int Multiprocessors, double HostLinkBytesPerSecond, string Note = "")
{
    private const double Pcie3 = 15.75e9;
    private const double Pcie4 = 31.5e9;

    /// <summary>
    /// The GPU models of the Alibaba GPU trace v2023 that have a datasheet (its G2 and G3 are
    /// undisclosed internal codes and have none).
    /// </summary>
    public static IReadOnlyList<GpuDatasheet> Known { get; } =
    [
        new("t4", "NVIDIA T4", 8.1e12, 320e9, 40, Pcie3),
        new("p100", "NVIDIA Tesla P100 PCIe 16 GB", 9.3e12, 732e9, 56, Pcie3, "the trace says P100 only: the PCIe card assumed (the SXM2 one has 10.6 TFLOP/s)"),
        new("v100m16", "NVIDIA Tesla V100 SXM2 16 GB", 15.7e12, 900e9, 80, Pcie3, "the trace says V100M16 only: the SXM2 card assumed (the PCIe one has 14 TFLOP/s)"),
        new("v100m32", "NVIDIA Tesla V100 SXM2 32 GB", 15.7e12, 900e9, 80, Pcie3, "the trace says V100M32 only: the SXM2 card assumed (the PCIe one has 14 TFLOP/s)"),
        new("a10", "NVIDIA A10", 31.2e12, 600e9, 72, Pcie4),
    ];

    /// <summary>The datasheet answering to <paramref name="name"/> (any case), or null.</summary>
    public static GpuDatasheet? Find(string name) => Known.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase));
}
