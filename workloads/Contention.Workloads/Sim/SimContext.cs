namespace Contention.Workloads.Sim;

/// <summary>What a context (a tenant) asked of the modelled GPU's scheduler.</summary>
/// <param name="Priority">Higher first; 0 for best effort. Spatial sharing serves higher priorities' blocks first; time-slicing ignores it, as the driver's round-robin does.</param>
/// <param name="GpuShare">The most of the GPU's multiprocessors its kernels may take under spatial sharing (MPS's active thread percentage / 100), 0 to 1.</param>
public readonly record struct SimContext(int Priority = 0, double GpuShare = 1)
{
    /// <summary>Best effort, the whole GPU (what <c>default</c> is not: its share would be 0).</summary>
    public static SimContext Default { get; } = new(0, 1);
}
