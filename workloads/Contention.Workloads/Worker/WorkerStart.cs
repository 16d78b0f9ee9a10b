using Contention.Workloads.Devices;
using Contention.Workloads.Sim;
using Contention.Workloads.Workloads;

namespace Contention.Workloads.Worker;

/// <summary>The first line a tenant worker reads: what to run and on which device.</summary>
public sealed record WorkerStart
{
    /// <summary>The tenant's name (for error messages).</summary>
    public required string Tenant { get; init; }

    /// <summary>The device name: <c>cpu</c>, <c>cuda:N</c> or <c>sim:N</c>.</summary>
    public required string Device { get; init; }

    /// <summary>How the host thread waits for the device.</summary>
    public SyncMode SyncMode { get; init; } = SyncMode.Spin;

    /// <summary>Page-locked host buffers.</summary>
    public bool PinnedHost { get; init; } = true;

    /// <summary>The CUDA ordinal to open when it is not the device's index (under a private MPS daemon: 0).</summary>
    public int? CudaOrdinal { get; init; }

    /// <summary>A cuda device's stream gets the context's greatest priority (a tenant with a positive <c>priority</c>).</summary>
    public bool HighPriorityStream { get; init; }

    /// <summary>The most a cuda device's kernel timer may cost, as a fraction of the tenant's time in its batches (<see cref="DeviceOptions.KernelTimingBudget"/>); 0 times no kernel.</summary>
    public double KernelTimingBudget { get; init; } = DeviceOptions.DefaultKernelTimingBudget;

    /// <summary>Threads of the cpu device; 0 = one per core.</summary>
    public int CpuThreads { get; init; }

    /// <summary>The modelled GPU's channel, for sim devices.</summary>
    public SimChannelInfo? SimChannel { get; init; }

    /// <summary>The GPU's arbiter the tenant's launches go through; null: none.</summary>
    public Arbiter.ArbiterOptions? Arbiter { get; init; }

    /// <summary>The workload.</summary>
    public required WorkloadSpec Workload { get; init; }

    /// <summary>
    /// How often the worker reports without being asked, milliseconds; 0 (the default) reports
    /// only when asked (<c>flush N</c>), so report I/O is not added to what the tracer measures.
    /// </summary>
    public int ReportIntervalMs { get; init; }
}
