namespace Contention.Workloads.Devices;

/// <summary>How a host thread waits for device work to finish (CUDA's scheduling flags).</summary>
public enum SyncMode
{
    /// <summary>Busy-wait on the completion flag: no system call, one core burnt.</summary>
    Spin,

    /// <summary>Poll the completion flag and call <c>sched_yield</c> between polls.</summary>
    Yield,

    /// <summary>Sleep in the kernel until the device signals completion.</summary>
    Block,
}
