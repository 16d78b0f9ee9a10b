namespace Contention.Grains.Node;

/// <summary>A mix tenant as the workloads library sees it: what a worker runs, and what virtual time simulates.</summary>
public static class TenantWorkload
{
    /// <summary>The workload of <paramref name="spec"/> (not for command tenants).</summary>
    public static Workloads.Workloads.WorkloadSpec Of(TenantSpec spec) => TenantRunner.ToWorkload(spec);

    /// <summary>The device library's sync mode.</summary>
    public static Workloads.Devices.SyncMode Sync(SyncMode mode) => TenantRunner.ToDevice(mode);

    /// <summary>
    /// <paramref name="spec"/> as a tenant of a virtual-time GPU (<see cref="Workloads.Sim.VirtualGpu"/>):
    /// its workload with its seed moved by <paramref name="seedOffset"/>, its sync mode, priority and
    /// host memory, and <paramref name="gpuShare"/> (0-1) of the GPU.
    /// </summary>
    public static Workloads.Sim.VirtualTenant Virtual(TenantSpec spec, string name, int seedOffset, double gpuShare)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var workload = Of(spec);
        return new(name, workload with { Seed = workload.Seed + seedOffset }, Sync(spec.SyncMode), new Workloads.Sim.SimContext(spec.Priority, gpuShare), spec.PinnedHost);
    }

    /// <summary>The modelled GPU's sharing mode.</summary>
    public static Workloads.Sim.GpuSharing Sharing(GpuSharing sharing) => TenantRunner.ToDevice(sharing);
}
