namespace Contention.Tracer.Bpf;

/// <summary>What the eBPF helper could not count, since it loaded.</summary>
/// <param name="Storage">Calls not counted because a traced task got no task-local storage.</param>
/// <param name="Children">Child processes not followed because the tracking map was full.</param>
/// <param name="UnknownNumbers">Calls with a number beyond the helper's table.</param>
/// <param name="Ioctls">ioctls not counted because the ioctl map was full.</param>
/// <param name="Threads">Switches not counted because the thread map was full.</param>
/// <param name="ThreadCalls">Calls not counted per thread because the map of threads' calls was full (their roots' counts have them).</param>
public sealed record BpfDrops(long Storage, long Children, long UnknownNumbers, long Ioctls, long Threads, long ThreadCalls = 0)
{
    /// <summary>Everything lost, of every kind.</summary>
    public long Total => Storage + Children + UnknownNumbers + Ioctls + Threads + ThreadCalls;

    /// <summary>Nothing was lost.</summary>
    public bool None => Total == 0;
}
