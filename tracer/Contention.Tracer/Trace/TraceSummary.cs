using System.Globalization;
using Contention.Tracer.Bpf;
using Contention.Tracer.Nvidia;

namespace Contention.Tracer.Trace;

/// <summary>
/// What the eBPF helper saw of one traced process tree over an interval (the difference of two
/// snapshots, or everything since it was added), with names and categories.
/// </summary>
/// <param name="Syscalls">By system call, most frequent first.</param>
/// <param name="Ioctls">By decoded ioctl kind, most frequent first.</param>
/// <param name="Categories">Every category, in <see cref="SyscallCategories.All"/> order (zeros included).</param>
/// <param name="Threads">By thread.</param>
/// <param name="RunQueueHistogram">Waits for a CPU by log2 of their time in ns.</param>
/// <param name="RunQueueSeconds">Waits for a CPU, summed.</param>
/// <param name="ThreadCalls">By thread and system call, where the helper counted them (<see cref="BpfTracer.ThreadCalls"/>) and the summary is of all rows (empty otherwise): by thread, most frequent first.</param>
public sealed record TraceSummary(IReadOnlyList<SyscallRow> Syscalls, IReadOnlyList<IoctlRow> Ioctls, IReadOnlyList<CategoryRow> Categories, IReadOnlyList<ThreadRow> Threads, long[] RunQueueHistogram, double RunQueueSeconds, IReadOnlyList<ThreadCallRow>? ThreadCalls = null)
{
    /// <summary>By thread and system call (empty where the helper did not count them).</summary>
    public IReadOnlyList<ThreadCallRow> ThreadCalls { get; init; } = ThreadCalls ?? [];

    private const double NsPerSecond = 1e9;

    /// <summary>Calls in all categories.</summary>
    public long TotalCalls => Categories.Sum(c => c.Count);

    /// <summary>Off-CPU time of all threads.</summary>
    public double OffCpuSeconds => Threads.Sum(t => t.OffCpuSeconds);

    /// <summary>
    /// Summarises root <paramref name="root"/> in <paramref name="now"/>, minus what <paramref name="since"/> had counted:
    /// all its calls, or only those made outside (<see cref="TraceRows.Workload"/>) or inside (<see cref="TraceRows.Held"/>)
    /// held phase boundaries.
    /// </summary>
    public static TraceSummary Of(BpfSnapshot now, int root, NvidiaDevices devices, BpfSnapshot? since = null, TraceRows rows = TraceRows.All)
    {
        ArgumentNullException.ThrowIfNull(now);
        ArgumentNullException.ThrowIfNull(devices);
        var before = since is null ? [] : SyscallsIn(since, root, rows).ToDictionary(s => s.Number);
        var syscalls = new List<(string Name, long Count, long Errors, long Ns, long Timed)>();
        foreach (var s in SyscallsIn(now, root, rows))
        {
            before.TryGetValue(s.Number, out var b);
            if (s.Count - (b?.Count ?? 0) > 0)
            {
                syscalls.Add((s.Name, s.Count - (b?.Count ?? 0), s.Errors - (b?.Errors ?? 0), s.TotalNs - (b?.TotalNs ?? 0), s.Timed - (b?.Timed ?? 0)));
            }
        }

        var beforeIoctls = since is null ? [] : IoctlsIn(since, root, rows).ToDictionary(Key);
        var ioctls = new List<(IoctlRow Row, bool Nvidia, long Ns)>();
        foreach (var i in IoctlsIn(now, root, rows))
        {
            beforeIoctls.TryGetValue(Key(i), out var b);
            var count = i.Count - (b?.Count ?? 0);
            if (count <= 0)
            {
                continue;
            }

            var decoded = NvidiaIoctlDecoder.Decode(i, devices);
            var ns = i.TotalNs - (b?.TotalNs ?? 0);
            ioctls.Add((new IoctlRow(decoded.Device, decoded.Operation, decoded.Detail, Key(i), count, i.Errors - (b?.Errors ?? 0), ns / NsPerSecond, i.Timed - (b?.Timed ?? 0)), decoded.Nvidia, ns));
        }

        var table = new List<SyscallRow>();
        foreach (var (name, count, errors, ns, timed) in syscalls)
        {
            if (name != "ioctl")
            {
                table.Add(new SyscallRow(name, SyscallCategories.Of(name), count, errors, ns / NsPerSecond, timed));
                continue;
            }

            // ioctl is counted on entry, its kinds on return: a call in flight at the snapshot is
            // in the first and not yet in the second, so the gpu-driver share is bounded by both.
            var gpu = ioctls.Where(i => i.Nvidia).ToList();
            var gpuCount = Math.Min(count, gpu.Sum(i => i.Row.Count));
            var gpuNs = Math.Min(ns, gpu.Sum(i => i.Ns));
            var gpuErrors = Math.Min(errors, gpu.Sum(i => i.Row.Errors));
            var gpuTimed = Math.Min(timed, gpu.Sum(i => i.Row.TimedCalls));
            if (gpuCount > 0)
            {
                table.Add(new SyscallRow(name, SyscallCategories.GpuDriver, gpuCount, gpuErrors, gpuNs / NsPerSecond, gpuTimed));
            }

            if (count - gpuCount > 0)
            {
                table.Add(new SyscallRow(name, SyscallCategories.OtherIoctl, count - gpuCount, errors - gpuErrors, (ns - gpuNs) / NsPerSecond, timed - gpuTimed));
            }
        }

        var categories = SyscallCategories.All
            .Select(c => new CategoryRow(c, table.Where(r => r.Category == c).Sum(r => r.Count), table.Where(r => r.Category == c).Sum(r => r.Seconds)))
            .ToList();
        var beforeThreads = since?.Threads.Where(t => t.Root == root).ToDictionary(t => t.Tid) ?? [];
        var threads = now.Threads.Where(t => t.Root == root).Select(t =>
        {
            beforeThreads.TryGetValue(t.Tid, out var b);
            return new ThreadRow(t.Tgid, t.Tid, t.Name, t.Voluntary - (b?.Voluntary ?? 0), t.Involuntary - (b?.Involuntary ?? 0), (t.OffCpuNs - (b?.OffCpuNs ?? 0)) / NsPerSecond, (t.RunQueueNs - (b?.RunQueueNs ?? 0)) / NsPerSecond);
        }).Where(t => t.Voluntary + t.Involuntary > 0 || t.OffCpuSeconds > 0).OrderBy(t => t.Tid).ToList();
        var runq = now.RunQueues.FirstOrDefault(r => r.Root == root);
        var runqBefore = since?.RunQueues.FirstOrDefault(r => r.Root == root);
        var histogram = new long[32];
        for (var i = 0; i < histogram.Length; i++)
        {
            histogram[i] = (runq?.Histogram[i] ?? 0) - (runqBefore?.Histogram[i] ?? 0);
        }

        // The helper counts a thread's calls in both rows together: only a summary of all rows has them.
        var threadCalls = rows == TraceRows.All ? ThreadCallsOf(now, root, since, () => IoctlCategory(table)) : [];

        return new TraceSummary(
            table.OrderByDescending(r => r.Count).ThenBy(r => r.Name, StringComparer.Ordinal).ToList(),
            ioctls.Select(i => i.Row).OrderByDescending(r => r.Count).ThenBy(r => r.Raw, StringComparer.Ordinal).ToList(),
            categories,
            threads,
            histogram,
            ((runq?.TotalNs ?? 0) - (runqBefore?.TotalNs ?? 0)) / NsPerSecond,
            threadCalls);
    }

    /// <summary>
    /// Root <paramref name="root"/>'s calls per thread in <paramref name="now"/> minus what
    /// <paramref name="since"/> had counted (both rows), by thread, most frequent first; empty where
    /// the helper does not count them. <paramref name="ioctlCategory"/> is asked only where a thread
    /// made an ioctl: per thread ioctls cannot be told apart by device (the helper keys them by root).
    /// </summary>
    public static List<ThreadCallRow> ThreadCallsOf(BpfSnapshot now, int root, BpfSnapshot? since, Func<string> ioctlCategory)
    {
        ArgumentNullException.ThrowIfNull(now);
        ArgumentNullException.ThrowIfNull(ioctlCategory);
        var calls = now.ThreadCalls.Where(c => c.Root == root).ToList();
        if (calls.Count == 0)
        {
            return [];
        }

        var names = now.Threads.Where(t => t.Root == root).GroupBy(t => t.Tid).ToDictionary(g => g.Key, g => g.First().Name);
        var callsBefore = since?.ThreadCalls.Where(c => c.Root == root).ToDictionary(c => (c.Tid, c.Number)) ?? [];
        var ioctl = new Lazy<string>(ioctlCategory);
        return [.. calls.Select(c =>
        {
            callsBefore.TryGetValue((c.Tid, c.Number), out var b);
            var name = c.Name;
            return new ThreadCallRow(c.Tgid, c.Tid, names.GetValueOrDefault(c.Tid) ?? "", name, name == "ioctl" ? ioctl.Value : SyscallCategories.Of(name), c.Count - (b?.Count ?? 0), (c.TotalNs - (b?.TotalNs ?? 0)) / NsPerSecond, c.Timed - (b?.Timed ?? 0));
        }).Where(c => c.Count > 0).OrderBy(c => c.Tid).ThenByDescending(c => c.Count).ThenBy(c => c.Syscall, StringComparer.Ordinal)];
    }

    /// <summary>The category a thread's ioctls take: the GPU driver's where every ioctl of the root's calls was, else other.</summary>
    public static string IoctlCategory(IEnumerable<SyscallRow> syscalls)
    {
        ArgumentNullException.ThrowIfNull(syscalls);
        var table = syscalls.ToList();
        return table.Any(r => r.Category == SyscallCategories.OtherIoctl) || !table.Any(r => r.Category == SyscallCategories.GpuDriver)
            ? SyscallCategories.OtherIoctl
            : SyscallCategories.GpuDriver;
    }

    private static bool Wanted(bool held, TraceRows rows) => rows == TraceRows.All || held == (rows == TraceRows.Held);

    /// <summary>The root's system calls in the rows asked for, one per number (the two rows summed).</summary>
    private static IEnumerable<SyscallCounters> SyscallsIn(BpfSnapshot snapshot, int root, TraceRows rows) =>
        snapshot.Syscalls.Where(s => s.Root == root && Wanted(s.Held, rows))
            .GroupBy(s => s.Number)
            .Select(g => g.Aggregate((a, b) => a with
            {
                Count = a.Count + b.Count,
                Errors = a.Errors + b.Errors,
                TotalNs = a.TotalNs + b.TotalNs,
                Timed = a.Timed + b.Timed,
                Histogram = [.. a.Histogram.Zip(b.Histogram, (x, y) => x + y)],
            }));

    private static IEnumerable<IoctlCounters> IoctlsIn(BpfSnapshot snapshot, int root, TraceRows rows) =>
        snapshot.Ioctls.Where(i => i.Root == root && Wanted(i.Held, rows))
            .GroupBy(Key)
            .Select(g => g.Aggregate((a, b) => a with { Count = a.Count + b.Count, Errors = a.Errors + b.Errors, TotalNs = a.TotalNs + b.TotalNs, Timed = a.Timed + b.Timed }));

    private static string Key(IoctlCounters i) => string.Create(CultureInfo.InvariantCulture, $"{i.Major}:{i.Minor}/0x{i.Request:x}/0x{i.Escape:x}/{i.Size}/{(i.Sub is { } sub ? $"0x{sub:x}" : i.Unreadable ? "?" : "-")}");
}
