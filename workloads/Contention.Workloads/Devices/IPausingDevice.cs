namespace Contention.Workloads.Devices;

/// <summary>
/// A device whose best-effort GEMMs pause in place while another tenant's stop word is set
/// (issue 13, experimental: <c>CONTENTION_PAUSE=1</c> under the spatial arbiter). The word is one
/// 32-bit word of the latency-sensitive tenant's device memory: its stream sets it before the
/// first kernel of an operation and clears it after the last, so the best-effort tenants' running
/// GEMMs stop (keeping their places and partial sums) only while its work is on the GPU; they
/// reach the word through CUDA IPC, its handle passed through the GPU's arbiter file.
/// </summary>
public interface IPausingDevice
{
    /// <summary>Allocates this tenant's stop word (0) and returns the IPC handle other processes open it by.</summary>
    /// <exception cref="InvalidOperationException">The driver would not allocate or export it.</exception>
    byte[] ShareStopWord();

    /// <summary>Queues on this tenant's stream the write of its stop word: set (1) or cleared (0), after the work queued before.</summary>
    /// <exception cref="InvalidOperationException">No stop word was shared, or the driver refused the write.</exception>
    void SetStopWord(bool stopped);

    /// <summary>
    /// From now on this tenant's GEMMs pause while the stop word of <paramref name="handle"/> (another
    /// process's, from <see cref="ShareStopWord"/>) is set; an empty handle: no word (the one before
    /// closed; the caller asks only when the word changed). From the first call on, the GEMMs are launched so that they can pause (persistent,
    /// a group's place left free on every multiprocessor), word or none. A place one tenant's GEMM
    /// leaves another best-effort tenant's groups may take (MPS runs their kernels side by side):
    /// with several, keep multiprocessors off as well (<c>CONTENTION_RESERVE_SMS</c>), so that the
    /// latency-sensitive tenant's blocks always find room.
    /// </summary>
    /// <exception cref="InvalidOperationException">The driver would not open the handle.</exception>
    void PauseAt(ReadOnlySpan<byte> handle);

    /// <summary>
    /// From now on this tenant's stream waits, on the GPU, before each of its kernels and copies
    /// until the stop word of <paramref name="handle"/> is clear (<c>cuStreamWaitValue32</c>): its
    /// kernels are launched as they would be and its host goes on queueing; a kernel already
    /// running when the word is set runs to its end. An empty handle: no word (the one before
    /// closed). Unlike <see cref="PauseAt"/>, nothing here bounds the wait: a publisher that dies
    /// with its word set holds this stream until someone clears the word (<see cref="ClearWaitedWord"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException">The driver would not open the handle.</exception>
    void WaitAt(ReadOnlySpan<byte> handle);

    /// <summary>
    /// Clears the stop word this tenant waits at (<see cref="WaitAt"/>) from a stream of its own, and
    /// waits until that is done: for a word whose publisher died with it set. Callable from any thread;
    /// returns false when no word is open.
    /// </summary>
    bool ClearWaitedWord();
}
