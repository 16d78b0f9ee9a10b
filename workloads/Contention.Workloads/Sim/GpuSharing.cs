namespace Contention.Workloads.Sim;

/// <summary>How contexts share a GPU, real or modelled.</summary>
public enum GpuSharing
{
    /// <summary>The driver's default: one context at a time, time-sliced (<see cref="TimeSliceScheduler"/>).</summary>
    Timeslice,

    /// <summary>Multi-Process Service: kernels of several contexts run at once on the multiprocessors (<see cref="SpatialScheduler"/>).</summary>
    Mps,
}
