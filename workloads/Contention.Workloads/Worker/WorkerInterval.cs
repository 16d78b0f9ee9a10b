namespace Contention.Workloads.Worker;

/// <summary>What a tenant's workload did since its previous report.</summary>
/// <param name="Completed">Operations completed.</param>
/// <param name="Histogram">Their latencies, compressed HdrHistogram encoding (empty for none).</param>
/// <param name="KernelNs">GPU time of its kernels (<see cref="Devices.IComputeDevice.KernelNs"/>), ns; null where not measured.</param>
public readonly record struct WorkerInterval(long Completed, byte[] Histogram, long? KernelNs);
