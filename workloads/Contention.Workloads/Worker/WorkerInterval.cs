namespace Contention.Workloads.Worker;

/// <summary>What a tenant's workload did since its previous report.</summary>
/// <param name="Completed">Operations completed.</param>
/// <param name="Histogram">Their latencies, compressed HdrHistogram encoding (empty for none).</param>
/// <param name="KernelNs">GPU time of its kernels (<see cref="Devices.IComputeDevice.KernelNs"/>), ns; null where not measured.</param>
/// <param name="Gcs">Garbage collections of the .NET process the workload runs in (every one pauses its thread); 0 where not known (commands).</param>
/// <param name="GcPauseNs">How long they paused the process, ns.</param>
/// <param name="ArbiterHeld">Launches its GPU's arbiter held (a best-effort tenant behind one).</param>
/// <param name="ArbiterHeldNs">How long they were held, ns.</param>
/// <param name="ArbiterPredictedNs">The GPU time the arbiter was told to expect of the launches it let go (their predictions), ns.</param>
/// <param name="ArbiterCorrection">A best-effort tenant behind an arbiter: its duration predictor's correction at the report (measured over the profile's time, <see cref="Arbiter.DurationPredictor.Correction"/>); 0 otherwise.</param>
/// <param name="Sampling">Its kernels in the interval and the batches of them the device timed, where <paramref name="KernelNs"/> is estimated from such a sample (<see cref="Devices.IComputeDevice.Sampling"/>); null otherwise.</param>
public readonly record struct WorkerInterval(long Completed, byte[] Histogram, long? KernelNs, int Gcs = 0, long GcPauseNs = 0, long ArbiterHeld = 0, long ArbiterHeldNs = 0, long ArbiterPredictedNs = 0, Devices.KernelSampling? Sampling = null, double ArbiterCorrection = 0);
