namespace Contention.Grains;

/// <summary>How the tenants of one GPU share it (written in lower case in mixes and results).</summary>
[GenerateSerializer]
public enum GpuSharing
{
    /// <summary>The driver's default: one context at a time, time-sliced.</summary>
    Timeslice,

    /// <summary>Multi-Process Service: kernels of several tenants run at once on the multiprocessors.</summary>
    Mps,
}
