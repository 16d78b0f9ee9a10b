using Contention.Workloads.Sim;

namespace Contention.Workloads.Devices;

/// <summary>Everything needed to open a device for one tenant.</summary>
public sealed record DeviceOptions
{
    /// <summary>The device to open.</summary>
    public required DeviceId Id { get; init; }

    /// <summary>How the tenant waits for device work.</summary>
    public SyncMode SyncMode { get; init; } = SyncMode.Spin;

    /// <summary>Page-locked (true) or pageable (false) host buffers for copies.</summary>
    public bool PinnedHost { get; init; } = true;

    /// <summary>Worker threads for the cpu device; 0 means one per core.</summary>
    public int CpuThreads { get; init; }

    /// <summary>
    /// For cuda devices: the ordinal the driver shows this process for the device, when it is not
    /// <see cref="DeviceId.Index"/> (under a GPU's private MPS daemon the one GPU is device 0).
    /// </summary>
    public int? CudaOrdinal { get; init; }

    /// <summary>For cuda devices: a stream of the context's greatest priority (a tenant with a positive <c>priority</c>), else one of default priority.</summary>
    public bool HighPriorityStream { get; init; }

    /// <summary>For sim devices: the shared-memory channel of the node's modelled GPU.</summary>
    public SimChannelInfo? SimChannel { get; init; }

    /// <summary>For cuda and sim devices: the GPU's arbiter the tenant's launches go through (<c>sharing: arbiter</c>); null: none.</summary>
    public Arbiter.ArbiterOptions? Arbiter { get; init; }

    /// <summary>For sim devices: the seed of the draws from the profile's measured round-trip spread (the tenant's seed, so runs repeat).</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Whether a cuda device times a sample of its kernels for the tenant's GPU time (<see cref="IComputeDevice.KernelNs"/>); off for calibration, which times kernels itself.</summary>
    public bool TimeKernels { get; init; } = true;

    /// <summary>The most that timing may cost a cuda tenant, as a fraction of its wall time (<see cref="KernelTimer"/>); 1 times every kernel.</summary>
    public double KernelTimingBudget { get; init; } = DefaultKernelTimingBudget;

    /// <summary>Whether a cuda device's timed batches wait on the GPU until their kernels are queued, so their events time the kernels and not the launches' way to the GPU (<see cref="KernelTimer"/>); off only to show what that hold removes (<see cref="Checks.DeviceCheck.KernelTimingAfterSleep"/>).</summary>
    public bool HoldTimedBatches { get; init; } = true;

    /// <summary>The default of <see cref="KernelTimingBudget"/>: 0.1 %.</summary>
    public const double DefaultKernelTimingBudget = KernelTimer.Budget;
}
