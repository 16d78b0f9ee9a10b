namespace Contention.Grains.Node;

/// <summary>A mix tenant as the workloads library sees it: what a worker runs, and what virtual time simulates.</summary>
public static class TenantWorkload
{
    /// <summary>The workload of <paramref name="spec"/> (not for command tenants).</summary>
    public static Workloads.Workloads.WorkloadSpec Of(TenantSpec spec) => TenantRunner.ToWorkload(spec);

    /// <summary>The device library's sync mode.</summary>
    public static Workloads.Devices.SyncMode Sync(SyncMode mode) => TenantRunner.ToDevice(mode);

    /// <summary>The modelled GPU's sharing mode.</summary>
    public static Workloads.Sim.GpuSharing Sharing(GpuSharing sharing) => TenantRunner.ToDevice(sharing);
}
