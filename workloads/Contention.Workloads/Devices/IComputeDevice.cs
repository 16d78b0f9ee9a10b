using Contention.Workloads.Kernels;

namespace Contention.Workloads.Devices;

/// <summary>
/// A device a tenant runs kernels on. Launches are asynchronous where the device is (cuda, sim)
/// and <see cref="Synchronize"/> waits in the device's <see cref="SyncMode"/>, so the host-side
/// behaviour of waiting is real whatever the device.
/// </summary>
public interface IComputeDevice : IDisposable
{
    /// <summary>The device this instance drives.</summary>
    DeviceId Id { get; }

    /// <summary>A one-line description (hardware name, back end, sync mode) for result envelopes.</summary>
    string Description { get; }

    /// <summary>How <see cref="Synchronize"/> waits.</summary>
    SyncMode SyncMode { get; }

    /// <summary>Allocates device and host working buffers large enough for every kernel given.</summary>
    /// <remarks>Buffers are reused across launches; call again to grow them.</remarks>
    void Prepare(IEnumerable<KernelSpec> kernels);

    /// <summary>
    /// Waits for launched work, then frees the working buffers <see cref="Prepare"/> allocated; the
    /// next <see cref="Prepare"/> allocates afresh (a microbenchmark grid's teardown).
    /// </summary>
    void Release();

    /// <summary>Enqueues one kernel on the tenant's stream.</summary>
    void Launch(in KernelSpec kernel);

    /// <summary>Waits until every launched kernel has finished.</summary>
    void Synchronize();

    /// <summary>
    /// An operation (a request, a step) begins: its kernels follow, up to the synchronise before
    /// <see cref="EndOperation"/>. Only a GPU's arbiter listens (a latency-sensitive tenant's
    /// open request holds best-effort launches); a device alone does nothing.
    /// </summary>
    void BeginOperation()
    {
    }

    /// <summary>The operation <see cref="BeginOperation"/> began has ended (its work synchronised).</summary>
    void EndOperation()
    {
    }

    /// <summary>
    /// An open-loop service's next request arrives at <paramref name="arrivalNs"/> (CLOCK_MONOTONIC
    /// ns), told before the current request's work. Only a GPU's arbiter listens (the stream gate's
    /// <c>CONTENTION_PAUSE=stream-next</c>); a device alone does nothing.
    /// </summary>
    void NextArrival(long arrivalNs)
    {
    }

    /// <summary>
    /// GPU time of the tenant's compute kernels so far, ns: per kernel, from its start to its end
    /// as CUDA events around it measure it (copies excluded); counted up to the latest
    /// <see cref="Synchronize"/>. An estimate where the device times a sample of its kernels;
    /// null where the device has no GPU time (cpu).
    /// </summary>
    long? KernelNs { get; }

    /// <summary>
    /// Where <see cref="KernelNs"/> is an estimate from a sample of batches of its kernels
    /// (launches up to a synchronise; a cuda device): the kernels so far and the sample, so a
    /// window's GPU time can rest on that window's timed batches alone; null where the GPU time is
    /// exact (a modelled GPU) or absent.
    /// </summary>
    KernelSampling? Sampling => null;
}
