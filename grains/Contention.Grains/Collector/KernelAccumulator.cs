namespace Contention.Grains.Collector;

/// <summary>Sums <see cref="KernelCounters"/> of one tenant and phase, by system call and by ioctl kind.</summary>
internal sealed class KernelAccumulator
{
    private readonly Dictionary<(string Name, string Category), (long Count, long Errors, double Seconds, long Timed)> syscalls = [];
    private readonly Dictionary<(string Device, string Name), (long Count, long Errors, double Seconds, long Timed)> ioctls = [];
    private readonly long[] runQueue = new long[KernelCounters.HistogramSlots];
    private double offCpuSeconds;
    private double runQueueSeconds;
    private long dropped;

    public void Add(KernelCounters counters)
    {
        foreach (var s in counters.Syscalls)
        {
            var key = (s.Name, s.Category);
            var (count, errors, seconds, timed) = syscalls.GetValueOrDefault(key);
            syscalls[key] = (count + s.Count, errors + s.Errors, seconds + s.Seconds, timed + s.TimedCalls);
        }

        foreach (var i in counters.Ioctls)
        {
            var key = (i.Device, i.Name);
            var (count, errors, seconds, timed) = ioctls.GetValueOrDefault(key);
            ioctls[key] = (count + i.Count, errors + i.Errors, seconds + i.Seconds, timed + i.TimedCalls);
        }

        for (var slot = 0; slot < Math.Min(runQueue.Length, counters.RunQueueLog2.Length); slot++)
        {
            runQueue[slot] += counters.RunQueueLog2[slot];
        }

        offCpuSeconds += counters.OffCpuSeconds;
        runQueueSeconds += counters.RunQueueSeconds;
        dropped = Math.Max(dropped, counters.Dropped);
    }

    public KernelCounters ToCounters() => new()
    {
        Syscalls = syscalls.OrderByDescending(s => s.Value.Count).ThenBy(s => s.Key.Name, StringComparer.Ordinal)
            .Select(s => new SyscallCount(s.Key.Name, s.Key.Category, s.Value.Count, s.Value.Errors, s.Value.Seconds, s.Value.Timed)).ToList(),
        Ioctls = ioctls.OrderByDescending(i => i.Value.Count).ThenBy(i => i.Key.Name, StringComparer.Ordinal)
            .Select(i => new IoctlCount(i.Key.Device, i.Key.Name, i.Value.Count, i.Value.Errors, i.Value.Seconds, i.Value.Timed)).ToList(),
        OffCpuSeconds = offCpuSeconds,
        RunQueueLog2 = [.. runQueue],
        RunQueueSeconds = runQueueSeconds,
        Dropped = dropped,
    };
}
