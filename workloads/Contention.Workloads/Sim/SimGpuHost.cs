using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace Contention.Workloads.Sim;

/// <summary>
/// One modelled GPU on a node. Its tenants (worker processes or threads) share it through a
/// shared-memory file; a <see cref="SimGpuEngine"/> plays the GPU: it collects launched kernels,
/// runs its sharing policy (<see cref="TimeSliceScheduler"/> or <see cref="SpatialScheduler"/>,
/// chosen by the first tenant to attach while none is) on the node's monotonic clock, publishes
/// completions and wakes tenants that block. The engine runs in a process of its own
/// (<c>contention sim-gpu</c>, which allocates nothing and so never stops for a garbage
/// collection) when the node gives a way to start one, else on a thread of this process. This
/// class is the node's side: the file, its FIFOs, the slots' leases, resets through per-slot
/// control fields the engine acknowledges, and the engine's counters.
/// </summary>
public sealed unsafe partial class SimGpuHost : IDisposable
{
    private readonly MemoryMappedFile file;
    private readonly MemoryMappedViewAccessor view;
    private readonly byte* basePtr;
    private readonly int[] fifoFds;
    private readonly string[] fifoPaths;
    private readonly bool[] leased;
    private readonly long[] resets;
    private GpuSharing sharing;
    private readonly Thread? thread;
    private readonly System.Diagnostics.Process? process;
    private readonly string profilePath;
    private volatile string? engineFailure;
    private readonly TaskCompletionSource<string> engineExit = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool stopping;

    // Callers writing the shared channel outside Read (acquiring and releasing slots): Dispose
    // unmaps the channel only once none is left, and none enters after it began.
    private int mappingUsers;
    private readonly Lock unmap = new();
    private Dictionary<(int Slot, int Offset), long>? unmapped;
    private readonly Timer? watchdog;
    private readonly TimeSpan hangTimeout;

    /// <summary>Creates modelled GPU <paramref name="index"/> with room for <paramref name="slots"/> tenants.</summary>
    /// <param name="index">The GPU ordinal (the N of <c>sim:N</c>).</param>
    /// <param name="slots">The most tenants that can share it at once.</param>
    /// <param name="profile">The hardware it models.</param>
    /// <param name="pollInterval">How often the engine looks for launches while tenants are attached.</param>
    /// <param name="engineProcess">
    /// Given the arguments of <c>contention sim-gpu</c> and the environment it needs, starts it
    /// (this program's executable, in a session of its own so that signals to the node's process
    /// group do not reach it); null runs the engine on a thread of this process.
    /// </param>
    /// <param name="spin">The engine polls without sleeping while tenants are attached (one core busy; no timer or wake-up latency).</param>
    /// <param name="hangTimeout">
    /// How long an engine process may go without looking at its channel while tenants are attached
    /// before it is judged hung (stopped, or stuck) and killed, failing its tenants; <see cref="DefaultHangTimeout"/> when null.
    /// </param>
    public SimGpuHost(int index, int slots, DeviceProfile profile, TimeSpan pollInterval, Func<IReadOnlyList<string>, IReadOnlyDictionary<string, string>, System.Diagnostics.Process>? engineProcess = null, bool spin = false, TimeSpan? hangTimeout = null)
    {
        this.hangTimeout = hangTimeout ?? DefaultHangTimeout;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(this.hangTimeout, TimeSpan.Zero, nameof(hangTimeout));
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(slots);
        Index = index;
        Profile = profile;
        var pollNs = Math.Max(1000, (long)(pollInterval.TotalMilliseconds * 1e6));
        ChannelPath = Path.Combine(ChannelDirectory, $"contention-sim{index}-{Environment.ProcessId}-{Guid.NewGuid():N}");
        profilePath = $"{ChannelPath}.profile.json";
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
            fifoFds[i] = NativeMethods.Open(fifoPaths[i], NativeMethods.ORdWr | NativeMethods.ONonblock | NativeMethods.OCloExec);
            if (fifoFds[i] < 0)
            {
                throw new IOException($"failed to open FIFO {fifoPaths[i]}: errno {Marshal.GetLastPInvokeError()}");
            }
        }

        leased = new bool[slots];
        resets = new long[slots];
        if (engineProcess is null)
        {
            var engine = new SimGpuEngine(basePtr, fifoFds, profile, pollNs, 0, spin);
            thread = new Thread(engine.Run) { IsBackground = true, Name = $"sim:{index} gpu", Priority = ThreadPriority.AboveNormal };
            thread.Start();
            return;
        }

        File.WriteAllText(profilePath, System.Text.Json.JsonSerializer.Serialize(profile, DeviceProfileJson.Default.DeviceProfile));
        // Fully optimised code from the first call: no tiered re-compilation while it runs.
        process = engineProcess(["sim-gpu", ChannelPath, "--profile", profilePath, "--poll-ns", pollNs.ToString(System.Globalization.CultureInfo.InvariantCulture), "--parent", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), .. (spin ? ["--spin"] : Array.Empty<string>())], new Dictionary<string, string> { ["DOTNET_TieredCompilation"] = "0" });
        process.EnableRaisingEvents = true;
        try
        {
            // A higher CPU share (nice -11 for the engine's one thread) where the node may give
            // it: the engine mostly sleeps, and when it is due it should not wait for tenants.
            process.PriorityClass = System.Diagnostics.ProcessPriorityClass.High;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // Not permitted (no CAP_SYS_NICE): it runs at the node's priority.
        }

        process.Exited += (_, _) =>
        {
            if (!stopping)
            {
                // A hung engine the watchdog killed keeps the watchdog's reason.
                engineFailure ??= $"the sim:{index} engine process (pid {process.Id}) exited with code {process.ExitCode}";
                engineExit.TrySetResult(engineFailure);
            }
        };
        var period = TimeSpan.FromMilliseconds(Math.Clamp(this.hangTimeout.TotalMilliseconds / 4, 10, 1000));
        watchdog = new Timer(_ => Watch(), null, period, period);
    }

    /// <summary>How long an engine process may go without looking at its channel while tenants are attached, unless told otherwise.</summary>
    /// <remarks>
    /// Far above its longest pauses on a loaded machine (the default mix on a 2-core VM: 10-20 ms
    /// late at most), far below a run's length: an engine that stops looking (a stopped process, a
    /// stuck one) leaves its tenants waiting forever for completions, and each of their stops for 30 s.
    /// </remarks>
    public static readonly TimeSpan DefaultHangTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The watchdog's tick: kills an engine process that has not looked for <see cref="hangTimeout"/> while tenants are attached.</summary>
    private void Watch()
    {
        if (stopping || engineFailure is not null || process is null)
        {
            return;
        }

        long lookedAt;
        lock (unmap)
        {
            if (unmapped is not null || Volatile.Read(ref SimChannelLayout.Field(basePtr, SimChannelLayout.LeasedOffset)) == 0)
            {
                return;
            }

            lookedAt = Volatile.Read(ref SimChannelLayout.Field(basePtr, SimChannelLayout.LookedAtOffset));
        }

        // 0: it has not looked yet (a fresh process starting on a busy machine: ResetSlot's patience covers it).
        var silent = lookedAt == 0 ? TimeSpan.Zero : TimeSpan.FromTicks((MonotonicClock.NowNs() - lookedAt) / 100);
        if (silent <= hangTimeout)
        {
            return;
        }

        engineFailure = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"the sim:{Index} engine process (pid {process.Id}) did not look at its channel for {silent.TotalSeconds:0.#} s with tenants attached (stopped or stuck; {hangTimeout.TotalSeconds:0.#} s allowed) and was killed");
        try
        {
            process.Kill();
        }
        catch (InvalidOperationException)
        {
            // It exited meanwhile: the exit completes the failure.
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // Not ours to kill: the tenants fail all the same.
        }

        engineExit.TrySetResult(engineFailure);
    }

    /// <summary>Why the engine's process ended before the node stopped it; null while it runs (or when it runs on a thread).</summary>
    public string? EngineFailure => engineFailure;

    /// <summary>Completes, with <see cref="EngineFailure"/>, when the engine's process ends before the node stops it; never otherwise.</summary>
    public Task<string> EngineExited => engineExit.Task;

    /// <summary>The engine's process id; null when it runs on a thread of this process.</summary>
    public int? EngineProcessId => process?.Id;

    /// <summary>Where channel files and their FIFOs live: <c>/dev/shm</c>, else the temporary directory.</summary>
    public static string ChannelDirectory => Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();

    /// <summary>
    /// Deletes the channel files and FIFOs of modelled GPUs whose process is gone (a node killed
    /// before it could remove them); returns how many files it deleted.
    /// </summary>
    public static int RemoveStale() => RemoveStale("contention-sim*", StaleName());

    /// <summary>
    /// Deletes the files of <see cref="ChannelDirectory"/> matching <paramref name="pattern"/> whose
    /// name's first group (<paramref name="name"/>) is the id of a process that is gone; returns
    /// how many it deleted. Another user's leftovers, or files removed meanwhile, are left be.
    /// </summary>
    public static int RemoveStale(string pattern, System.Text.RegularExpressions.Regex name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var removed = 0;
        foreach (var path in Directory.EnumerateFiles(ChannelDirectory, pattern))
        {
            var match = name.Match(Path.GetFileName(path));
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

    [System.Text.RegularExpressions.GeneratedRegex(@"^contention-sim\d+-(\d+)-[0-9a-f]{32}(\.\d+\.fifo|\.profile\.json)?$")]
    private static partial System.Text.RegularExpressions.Regex StaleName();

    /// <summary>The N of <c>sim:N</c>.</summary>
    public int Index { get; }

    /// <summary>The hardware modelled.</summary>
    public DeviceProfile Profile { get; }

    /// <summary>The shared-memory file tenants map.</summary>
    public string ChannelPath { get; }

    /// <summary>Context switches the modelled GPU has made.</summary>
    public long Switches => Read(-1, SimChannelLayout.SwitchesOffset);

    /// <summary>Lateness of the engine below which a wake counts as on time, ns: timer and scheduling jitter.</summary>
    public const long LateThresholdNs = 500_000;

    /// <summary>
    /// How late the engine has run, summed over its wakes later than <see cref="LateThresholdNs"/>,
    /// ns: the time completions reached tenants late because the engine was not running (held by
    /// the CPU scheduler, or stopped for a garbage collection of the process it runs in).
    /// </summary>
    public long LateNs => Read(-1, SimChannelLayout.LateNsOffset);

    /// <summary>The longest of those late wakes, ns.</summary>
    public long LongestLateNs => Read(-1, SimChannelLayout.LongestLateNsOffset);

    /// <summary>The most tenants it holds at once.</summary>
    public int Slots => leased.Length;

    /// <summary>Slots taken by tenants now.</summary>
    public int Taken
    {
        get
        {
            lock (leased)
            {
                return leased.Count(l => l);
            }
        }
    }

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

            if (!EnterMapping())
            {
                why = $"sim:{Index} is stopping with its node";
                return null;
            }

            leased[slot] = true;
            sharing = mode;
            PublishLeases();
        }

        try
        {
            ResetSlot(slot, context, mode);
        }
        finally
        {
            ExitMapping();
        }

        why = "";
        return new SimChannelInfo(ChannelPath, slot, fifoPaths[slot], Profile, mode);
    }

    /// <summary>Returns a context; queued work of its tenant is dropped.</summary>
    public void Release(int slot)
    {
        if (!EnterMapping())
        {
            // The GPU is stopping or gone (a tenant let go after its node began to stop): nothing
            // left to reset, and its channel may be unmapped; the lease is freed all the same.
            lock (leased)
            {
                leased[slot] = false;
            }

            return;
        }

        try
        {
            // A dead engine cannot reset the slot (nor run anything): the lease is freed all the same.
            if (engineFailure is null)
            {
                try
                {
                    ResetSlot(slot, SimContext.Default, Sharing);
                }
                catch (InvalidOperationException) when (engineFailure is not null)
                {
                    // It died while resetting: as above.
                }
            }

            lock (leased)
            {
                leased[slot] = false;
                PublishLeases();
            }
        }
        finally
        {
            ExitMapping();
        }
    }

    private bool EnterMapping()
    {
        lock (unmap)
        {
            if (stopping || unmapped is not null)
            {
                return false;
            }

            mappingUsers++;
            return true;
        }
    }

    private void ExitMapping()
    {
        lock (unmap)
        {
            mappingUsers--;
        }
    }

    /// <summary>When the latest kernel of the tenant in <paramref name="slot"/> completed on the model's timeline (the node's monotonic clock), ns.</summary>
    public long CompletedAtNs(int slot) => Read(slot, SimChannelLayout.CompletedAtNs);

    /// <summary>GPU time the tenant in <paramref name="slot"/> has used, ns.</summary>
    public long BusyNs(int slot) => Read(slot, SimChannelLayout.BusyNs);

    /// <summary>Kernel time of the tenant in <paramref name="slot"/> (<see cref="IGpuScheduler.KernelNs"/>), ns.</summary>
    public long KernelNs(int slot) => Read(slot, SimChannelLayout.KernelNs);

    /// <summary>
    /// A counter of the header (<paramref name="slot"/> -1) or of a slot; after <see cref="Dispose"/>,
    /// the value it had then (a node's tracer may still sample a tenant while the node stops, and
    /// the file is unmapped by then).
    /// </summary>
    private long Read(int slot, int offset)
    {
        lock (unmap)
        {
            if (unmapped is { } last)
            {
                return last.TryGetValue((slot, offset), out var value) ? value : 0;
            }

            var at = slot < 0 ? basePtr : SimChannelLayout.Slot(basePtr, slot);
            return Volatile.Read(ref SimChannelLayout.Field(at, offset));
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (unmap)
        {
            if (stopping)
            {
                return;
            }

            stopping = true;
        }

        watchdog?.Dispose();
        Volatile.Write(ref SimChannelLayout.Field(basePtr, SimChannelLayout.StopOffset), 1);
        thread?.Join();
        if (process is not null)
        {
            if (!process.WaitForExit(5000))
            {
                process.Kill();
                process.WaitForExit(5000);
            }

            process.Dispose();
            File.Delete(profilePath);
        }

        foreach (var fd in fifoFds)
        {
            _ = NativeMethods.Close(fd);
        }

        foreach (var path in fifoPaths)
        {
            File.Delete(path);
        }

        // A slot being acquired or released stops waiting for the engine once stopping is set, and
        // none enters after it: once none is left, none comes.
        SpinWait.SpinUntil(() =>
        {
            lock (unmap)
            {
                return mappingUsers == 0;
            }
        });
        lock (unmap)
        {
            var last = new Dictionary<(int, int), long>
            {
                [(-1, SimChannelLayout.SwitchesOffset)] = Switches,
                [(-1, SimChannelLayout.LateNsOffset)] = LateNs,
                [(-1, SimChannelLayout.LongestLateNsOffset)] = LongestLateNs,
            };
            for (var slot = 0; slot < leased.Length; slot++)
            {
                foreach (var offset in (int[])[SimChannelLayout.CompletedAtNs, SimChannelLayout.BusyNs, SimChannelLayout.KernelNs])
                {
                    last[(slot, offset)] = Read(slot, offset);
                }
            }

            unmapped = last;
            view.SafeMemoryMappedViewHandle.ReleasePointer();
            view.Dispose();
            file.Dispose();
        }

        File.Delete(ChannelPath);
    }

    /// <summary>Tells the engine how many slots are leased (it polls for launches only while any is); under the lock of <see cref="leased"/>.</summary>
    private void PublishLeases() => Volatile.Write(ref SimChannelLayout.Field(basePtr, SimChannelLayout.LeasedOffset), leased.Count(l => l));

    private void ResetSlot(int slot, SimContext context, GpuSharing mode)
    {
        // The engine applies a reset when the slot's request moves past its acknowledgement.
        var slotPtr = SimChannelLayout.Slot(basePtr, slot);
        var request = ++resets[slot];
        SimChannelLayout.RequestReset(basePtr, slot, request, context, mode);

        // A fresh engine process may take a while to start on a busy machine.
        var patience = System.Diagnostics.Stopwatch.StartNew();
        var limit = TimeSpan.FromSeconds(process is null ? 10 : 30);
        var spins = 0;
        while (Volatile.Read(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.ResetAck)) != request)
        {
            if (stopping)
            {
                return; // the engine stops with its GPU: nothing will run in the slot
            }

            if (engineFailure is { } failure)
            {
                throw new InvalidOperationException($"{failure}: sim:{Index} cannot take tenants; see the node's log and start it again");
            }

            if (patience.Elapsed > limit)
            {
                throw new TimeoutException($"the sim:{Index} engine did not answer within {limit.TotalSeconds:0} s");
            }

            if (++spins < 100)
            {
                Thread.Yield();
            }
            else
            {
                Thread.Sleep(1);
            }
        }
    }
}
