using System.Collections.Concurrent;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace Contention.Workloads.Sim;

/// <summary>
/// One modelled GPU on a node. Its tenants (worker processes or threads) share it through a
/// shared-memory file; a dedicated thread plays the GPU: it collects launched kernels, runs its
/// sharing policy (<see cref="TimeSliceScheduler"/> or <see cref="SpatialScheduler"/>, chosen by
/// the first tenant to attach while none is) on the node's monotonic clock, publishes completions
/// and wakes tenants that block. Submissions carry their launch timestamp, so the model's timeline is
/// exact; a tenant sees a completion at most one poll interval late.
/// </summary>
public sealed unsafe partial class SimGpuHost : IDisposable
{
    private readonly MemoryMappedFile file;
    private readonly MemoryMappedViewAccessor view;
    private readonly byte* basePtr;
    private readonly int[] fifoFds;
    private readonly string[] fifoPaths;
    private readonly bool[] leased;
    private readonly long[] seen;
    private readonly ConcurrentQueue<(int Slot, SimContext Context, GpuSharing Sharing, ManualResetEventSlim Done)> resets = new();
    private IGpuScheduler scheduler;
    private GpuSharing sharing;
    private readonly Thread thread;
    private readonly long pollNs;
    private readonly List<(long Timestamp, int Slot, SimKernel Kernel)> arrivals = [];
    private volatile bool stopping;

    /// <summary>Creates modelled GPU <paramref name="index"/> with room for <paramref name="slots"/> tenants.</summary>
    /// <param name="index">The GPU ordinal (the N of <c>sim:N</c>).</param>
    /// <param name="slots">The most tenants that can share it at once.</param>
    /// <param name="profile">The hardware it models.</param>
    /// <param name="pollInterval">How often the GPU thread looks for launches while tenants are attached.</param>
    public SimGpuHost(int index, int slots, DeviceProfile profile, TimeSpan pollInterval)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(slots);
        Index = index;
        Profile = profile;
        pollNs = Math.Max(1000, (long)(pollInterval.TotalMilliseconds * 1e6));
        ChannelPath = Path.Combine(ChannelDirectory, $"contention-sim{index}-{Environment.ProcessId}-{Guid.NewGuid():N}");
        file = MemoryMappedFile.CreateFromFile(ChannelPath, FileMode.CreateNew, null, SimChannelLayout.FileBytes(slots), MemoryMappedFileAccess.ReadWrite);
        view = file.CreateViewAccessor();
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        basePtr = pointer + view.PointerOffset;
        new Span<byte>(basePtr, (int)SimChannelLayout.FileBytes(slots)).Clear();
        *(long*)(basePtr + SimChannelLayout.MagicOffset) = SimChannelLayout.Magic;
        *(long*)(basePtr + SimChannelLayout.SlotCountOffset) = slots;

        fifoFds = new int[slots];
        fifoPaths = new string[slots];
        for (var i = 0; i < slots; i++)
        {
            fifoPaths[i] = $"{ChannelPath}.{i}.fifo";
            if (NativeMethods.MkFifo(fifoPaths[i], Convert.ToUInt32("600", 8)) != 0)
            {
                throw new IOException($"failed to create FIFO {fifoPaths[i]}: errno {Marshal.GetLastPInvokeError()}");
            }

            // O_RDWR: opening a FIFO for writing alone would block until a reader arrives.
            fifoFds[i] = NativeMethods.Open(fifoPaths[i], NativeMethods.ORdWr | NativeMethods.OCloExec);
            if (fifoFds[i] < 0)
            {
                throw new IOException($"failed to open FIFO {fifoPaths[i]}: errno {Marshal.GetLastPInvokeError()}");
            }
        }

        leased = new bool[slots];
        seen = new long[slots];
        scheduler = NewScheduler(GpuSharing.Timeslice, MonotonicClock.NowNs());
        thread = new Thread(Run) { IsBackground = true, Name = $"sim:{index} gpu", Priority = ThreadPriority.AboveNormal };
        thread.Start();
    }

    /// <summary>Where channel files and their FIFOs live: <c>/dev/shm</c>, else the temporary directory.</summary>
    public static string ChannelDirectory => Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();

    /// <summary>
    /// Deletes the channel files and FIFOs of modelled GPUs whose process is gone (a node killed
    /// before it could remove them); returns how many files it deleted.
    /// </summary>
    public static int RemoveStale()
    {
        var removed = 0;
        foreach (var path in Directory.EnumerateFiles(ChannelDirectory, "contention-sim*"))
        {
            var match = StaleName().Match(Path.GetFileName(path));
            if (match.Success && int.TryParse(match.Groups[1].ValueSpan, System.Globalization.CultureInfo.InvariantCulture, out var pid) && !Directory.Exists($"/proc/{pid}"))
            {
                try
                {
                    File.Delete(path);
                    removed++;
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // Another user's leftover, or removed meanwhile: not ours to mend.
                }
            }
        }

        return removed;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^contention-sim\d+-(\d+)-[0-9a-f]{32}(\.\d+\.fifo)?$")]
    private static partial System.Text.RegularExpressions.Regex StaleName();

    /// <summary>The N of <c>sim:N</c>.</summary>
    public int Index { get; }

    /// <summary>The hardware modelled.</summary>
    public DeviceProfile Profile { get; }

    /// <summary>The shared-memory file tenants map.</summary>
    public string ChannelPath { get; }

    /// <summary>Context switches the modelled GPU has made.</summary>
    public long Switches => Volatile.Read(ref switches);

    private long switches;
    private long lateNs;
    private long longestLateNs;

    /// <summary>Lateness of the GPU thread below which a wake counts as on time, ns: timer and scheduling jitter.</summary>
    public const long LateThresholdNs = 500_000;

    /// <summary>
    /// How late the GPU thread has run, summed over its wakes later than <see cref="LateThresholdNs"/>,
    /// ns: the time completions reached tenants late because the thread was not running (held by
    /// the CPU scheduler or stopped for a garbage collection of the node's process).
    /// </summary>
    public long LateNs => Volatile.Read(ref lateNs);

    /// <summary>The longest of those late wakes, ns.</summary>
    public long LongestLateNs => Volatile.Read(ref longestLateNs);

    /// <summary>The most tenants it holds at once.</summary>
    public int Slots => leased.Length;

    /// <summary>How the GPU is shared now: as its first tenant asked, while any is attached.</summary>
    public GpuSharing Sharing
    {
        get
        {
            lock (leased)
            {
                return sharing;
            }
        }
    }

    /// <summary>Whether tenants on the GPU share it in a mode other than <paramref name="mode"/>, so it cannot take one asking for it.</summary>
    public bool SharedOtherwise(GpuSharing mode)
    {
        lock (leased)
        {
            return Array.IndexOf(leased, true) >= 0 && sharing != mode;
        }
    }

    /// <summary>Reserves a time-sliced, best-effort context for a tenant.</summary>
    /// <exception cref="InvalidOperationException">Every slot is taken, or the GPU is shared otherwise.</exception>
    public SimChannelInfo Acquire() => Acquire(GpuSharing.Timeslice, SimContext.Default);

    /// <summary>Reserves a context for a tenant asking for <paramref name="mode"/> and <paramref name="context"/>.</summary>
    /// <exception cref="InvalidOperationException">Every slot is taken, or the GPU is shared otherwise.</exception>
    public SimChannelInfo Acquire(GpuSharing mode, SimContext context) => TryAcquire(mode, context, out var why) ?? throw new InvalidOperationException(why);

    /// <summary>Reserves a time-sliced, best-effort context; null when every slot is taken or the GPU is shared otherwise.</summary>
    public SimChannelInfo? TryAcquire() => TryAcquire(GpuSharing.Timeslice, SimContext.Default, out _);

    /// <summary>
    /// Reserves a context for a tenant; null (and <paramref name="why"/>) when every slot is taken,
    /// or when tenants already on the GPU share it in another mode (the first tenant to attach to
    /// an idle GPU sets its mode).
    /// </summary>
    public SimChannelInfo? TryAcquire(GpuSharing mode, SimContext context, out string why)
    {
        int slot;
        lock (leased)
        {
            if (Array.IndexOf(leased, true) >= 0 && sharing != mode)
            {
                why = $"sim:{Index} is shared by {sharing.ToString().ToLowerInvariant()} by the tenants on it, and this tenant asks for {mode.ToString().ToLowerInvariant()}; give the experiments on one modelled GPU the same sharing, or put them on different ones (sim:N)";
                return null;
            }

            slot = Array.IndexOf(leased, false);
            if (slot < 0)
            {
                why = $"sim:{Index} already has {leased.Length} tenants; start the node with more --sim-slots, or let tenants take any modelled GPU (device: sim) of a node with more --sim-devices";
                return null;
            }

            leased[slot] = true;
            sharing = mode;
        }

        ResetSlot(slot, context, mode);
        why = "";
        return new SimChannelInfo(ChannelPath, slot, fifoPaths[slot], Profile, mode);
    }

    /// <summary>Returns a context; queued work of its tenant is dropped.</summary>
    public void Release(int slot)
    {
        ResetSlot(slot, SimContext.Default, Sharing);
        lock (leased)
        {
            leased[slot] = false;
        }
    }

    /// <summary>When the latest kernel of the tenant in <paramref name="slot"/> completed on the model's timeline (the node's monotonic clock), ns.</summary>
    public long CompletedAtNs(int slot) => Volatile.Read(ref SimChannelLayout.Field(SimChannelLayout.Slot(basePtr, slot), SimChannelLayout.CompletedAtNs));

    /// <summary>GPU time the tenant in <paramref name="slot"/> has used, ns.</summary>
    public long BusyNs(int slot) => Volatile.Read(ref SimChannelLayout.Field(SimChannelLayout.Slot(basePtr, slot), SimChannelLayout.BusyNs));

    /// <summary>Kernel time of the tenant in <paramref name="slot"/> (<see cref="IGpuScheduler.KernelNs"/>), ns.</summary>
    public long KernelNs(int slot) => Volatile.Read(ref SimChannelLayout.Field(SimChannelLayout.Slot(basePtr, slot), SimChannelLayout.KernelNs));

    /// <inheritdoc />
    public void Dispose()
    {
        stopping = true;
        thread.Join();
        foreach (var fd in fifoFds)
        {
            _ = NativeMethods.Close(fd);
        }

        foreach (var path in fifoPaths)
        {
            File.Delete(path);
        }

        view.SafeMemoryMappedViewHandle.ReleasePointer();
        view.Dispose();
        file.Dispose();
        File.Delete(ChannelPath);
    }

    private void ResetSlot(int slot, SimContext context, GpuSharing mode)
    {
        using var done = new ManualResetEventSlim();
        resets.Enqueue((slot, context, mode, done));
        if (!done.Wait(TimeSpan.FromSeconds(10)))
        {
            throw new TimeoutException($"the sim:{Index} GPU thread did not answer within 10 s");
        }
    }

    private void Run()
    {
        NativeMethods.UsePreciseTimers();
        while (!stopping)
        {
            ApplyResets();
            var now = MonotonicClock.NowNs();
            CollectArrivals();
            foreach (var (timestamp, slot, kernel) in arrivals)
            {
                scheduler.AdvanceTo(Math.Max(timestamp, scheduler.NowNs));
                scheduler.Enqueue(slot, kernel);
            }

            scheduler.AdvanceTo(now);
            Publish();
            Volatile.Write(ref switches, scheduler.Switches);

            var anyLeased = false;
            lock (leased)
            {
                anyLeased = Array.IndexOf(leased, true) >= 0;
            }

            var wake = anyLeased ? Math.Min(scheduler.NextEventNs(), now + pollNs) : now + 1_000_000;
            if (wake > MonotonicClock.NowNs())
            {
                NativeMethods.SleepUntil(wake);
            }

            var late = MonotonicClock.NowNs() - Math.Max(wake, now);
            if (late > LateThresholdNs)
            {
                Volatile.Write(ref lateNs, lateNs + late);
                Volatile.Write(ref longestLateNs, Math.Max(longestLateNs, late));
            }

        }
    }

    private void ApplyResets()
    {
        while (resets.TryDequeue(out var reset))
        {
            var slotPtr = SimChannelLayout.Slot(basePtr, reset.Slot);
            if (reset.Sharing != (scheduler is SpatialScheduler ? GpuSharing.Mps : GpuSharing.Timeslice))
            {
                // Only the first tenant of an idle GPU changes its mode: nothing runs to carry over.
                scheduler = NewScheduler(reset.Sharing, scheduler.NowNs);
            }

            scheduler.Reset(reset.Slot);
            scheduler.Configure(reset.Slot, reset.Context);
            DrainFifo(reset.Slot);
            seen[reset.Slot] = 0;
            new Span<byte>(slotPtr, SimChannelLayout.RingOffset).Clear();
            reset.Done.Set();
        }
    }

    private IGpuScheduler NewScheduler(GpuSharing mode, long nowNs) =>
        mode == GpuSharing.Mps
        ? new SpatialScheduler(leased.Length, nowNs)
        : new TimeSliceScheduler(leased.Length, Profile.TimesliceNs, Profile.ContextSwitchNs, nowNs, Profile.IdleSwitchNs);

    private void DrainFifo(int slot)
    {
        // A tenant that died between being signalled and reading leaves a byte behind; the next
        // tenant of this slot must not be woken by it.
        if (NativeMethods.Ioctl(fifoFds[slot], NativeMethods.FionRead, out var available) == 0 && available > 0)
        {
            var buffer = stackalloc byte[available];
            _ = NativeMethods.Read(fifoFds[slot], buffer, available);
        }
    }

    private void CollectArrivals()
    {
        arrivals.Clear();
        for (var slot = 0; slot < seen.Length; slot++)
        {
            var slotPtr = SimChannelLayout.Slot(basePtr, slot);
            var head = Volatile.Read(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.SubmitHead));
            for (var i = seen[slot]; i < head; i++)
            {
                arrivals.Add((SimChannelLayout.EntryTimestamp(slotPtr, i), slot, new SimKernel(SimChannelLayout.EntryDuration(slotPtr, i), SimChannelLayout.EntrySmShare(slotPtr, i), SimChannelLayout.EntryBandwidthShare(slotPtr, i), SimChannelLayout.EntryWaveNs(slotPtr, i))));
            }

            if (head > seen[slot])
            {
                seen[slot] = head;
                Volatile.Write(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.ConsumedHead), head);
            }
        }

        // Launches from different tenants must enter the model in time order.
        arrivals.Sort((x, y) => x.Timestamp.CompareTo(y.Timestamp));
    }

    private void Publish()
    {
        for (var slot = 0; slot < seen.Length; slot++)
        {
            var slotPtr = SimChannelLayout.Slot(basePtr, slot);
            var done = scheduler.Completed(slot);
            ref var tail = ref SimChannelLayout.Field(slotPtr, SimChannelLayout.CompleteTail);
            if (Volatile.Read(ref tail) == done)
            {
                continue;
            }

            // The counters before the tail: a tenant that sees its kernels complete reads them current.
            Volatile.Write(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.BusyNs), scheduler.BusyNs(slot));
            Volatile.Write(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.CompletedAtNs), scheduler.LastCompletionNs(slot));
            Volatile.Write(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.KernelNs), scheduler.KernelNs(slot));
            Volatile.Write(ref tail, done);
            ref var waitTarget = ref SimChannelLayout.Field(slotPtr, SimChannelLayout.WaitTarget);
            var target = Volatile.Read(ref waitTarget);
            if (target != 0 && done >= target && Interlocked.CompareExchange(ref waitTarget, 0, target) == target)
            {
                byte signal = 1;
                _ = NativeMethods.Write(fifoFds[slot], &signal, 1);
            }
        }
    }
}
