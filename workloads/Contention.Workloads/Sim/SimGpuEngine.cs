using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace Contention.Workloads.Sim;

/// <summary>
/// The loop that plays a modelled GPU over its shared-memory file: it applies the resets the node
/// asks for (per-slot control fields, acknowledged), collects launched kernels in launch-time
/// order, runs the sharing policy (<see cref="TimeSliceScheduler"/> or <see cref="SpatialScheduler"/>)
/// on the node's monotonic clock, publishes completions and counters, and wakes tenants that
/// block when their waits are to return, less their own wake-up latency (<see cref="Publish"/>),
/// through their driver event threads (<see cref="Devices.SimDevice"/>). It allocates nothing once running, so a process that runs only this loop
/// (<see cref="RunProcess"/>, the node's default) never stops for a garbage collection.
/// </summary>
public sealed unsafe class SimGpuEngine
{
    private readonly byte* basePtr;
    private readonly int[] fifoFds;
    private readonly long[] seen;
    private readonly long[] applied;
    private readonly long[] drainNs;
    private readonly long[] drainTarget;
    private readonly long[] drainVersion;
    private readonly long[] drainAskedNs;
    private readonly long[] interrupted; // the wait target each slot's last completion interrupt was for
    private readonly SimInterrupts interrupts;
    private readonly (long Target, long DueNs, long ReckonedEndNs)[] predictedWakes; // per slot, the wake diagnostic's: a wake from a prediction, until its wait's work completes (Target 0: none)
    private readonly RoundTripCurve[] roundTrips; // per slot: its blocking waits' round trip under the slot's sharing
    private readonly RoundTripCurve timeslicedTrips;
    private readonly RoundTripCurve mpsTrips;
    private readonly DeviceProfile profile;
    private readonly long pollNs;
    private readonly int parentPid;
    private readonly bool spin;
    private readonly List<(long Timestamp, int Slot, SimKernel Kernel)> arrivals = new(SimChannelLayout.RingSize);
    private IGpuScheduler scheduler;
    private int scanned;
    private long resetsSeen;
    private long switches;
    private long nextEarlyWakeNs = long.MaxValue;
    private long version = 1; // moves whenever the model changes, so blocked tenants' ends are predicted again

    /// <summary>How long a prediction of a blocked tenant's end stands between changes the engine sees (a model with gates can move it without one).</summary>
    internal const long DrainRecheckNs = 20_000;

    /// <summary>An engine over the mapped file at <paramref name="basePtr"/>.</summary>
    /// <param name="basePtr">The mapped channel file.</param>
    /// <param name="fifoFds">Each slot's FIFO, open for writing.</param>
    /// <param name="profile">The hardware modelled.</param>
    /// <param name="pollNs">How often to look for launches while tenants are attached.</param>
    /// <param name="parentPid">Stop when this process is no longer the parent (0: never check).</param>
    /// <param name="spin">Poll without sleeping while tenants are attached (one core, no timer or wake-up latency).</param>
    internal SimGpuEngine(byte* basePtr, int[] fifoFds, DeviceProfile profile, long pollNs, int parentPid, bool spin)
    {
        this.spin = spin;
        this.basePtr = basePtr;
        this.fifoFds = fifoFds;
        this.profile = profile;
        this.pollNs = pollNs;
        this.parentPid = parentPid;
        seen = new long[fifoFds.Length];
        applied = new long[fifoFds.Length];
        drainNs = new long[fifoFds.Length];
        drainTarget = new long[fifoFds.Length];
        drainVersion = new long[fifoFds.Length];
        drainAskedNs = new long[fifoFds.Length];
        interrupted = new long[fifoFds.Length];
        interrupts = new SimInterrupts(basePtr, fifoFds);
        predictedWakes = new (long, long, long)[fifoFds.Length];
        timeslicedTrips = new RoundTripCurve(profile, Devices.SyncMode.Block, GpuSharing.Timeslice);
        mpsTrips = new RoundTripCurve(profile, Devices.SyncMode.Block, GpuSharing.Mps);
        roundTrips = [.. Enumerable.Repeat(timeslicedTrips, fifoFds.Length)];
        scheduler = NewScheduler(GpuSharing.Timeslice, MonotonicClock.NowNs());
    }

    /// <summary>The completion interrupts raised: one for each blocking wait the engine woke.</summary>
    internal int InterruptsRaised => interrupts.Raised;

    /// <summary>
    /// The host-timings diagnostic's record of each blocked tenant's wake (<see cref="HostTimings"/>,
    /// <c>wake-*.csv</c>; null where it is off): its slot, when the wake was due, the end of its
    /// work it was reckoned from (the scheduler's prediction, <see cref="IGpuScheduler.DrainNs"/>;
    /// 0: woken from its completion), the modelled end and the lead the tenant asked (at its
    /// completion, for a predicted one: a tenant that slept again asks none). So a predicted
    /// wake's error is the modelled end less the reckoned one.
    /// </summary>
    internal HostTimings? WakeTimings { get; init; } = HostTimings.Open("wake", WakeColumns);

    /// <summary>The columns of <see cref="WakeTimings"/>.</summary>
    internal static readonly string[] WakeColumns = ["slot", "due_ns", "reckoned_end_ns", "end_ns", "lead_ns"];

    /// <summary>Wakes later than <see cref="SimGpuHost.LateThresholdNs"/>.</summary>
    internal long LateWakes { get; private set; }

    private ref long Header(int offset) => ref SimChannelLayout.Field(basePtr, offset);

    /// <summary>Runs until the node asks it to stop (or its parent process is gone).</summary>
    internal void Run()
    {
        interrupts.Start();
        try
        {
            Loop();
        }
        finally
        {
            interrupts.Stop();
            WakeTimings?.Save();
        }
    }

    private void Loop()
    {
        NativeMethods.UsePreciseTimers();
        var nextParentCheck = 0L;
        var spunAt = 0L;
        while (Volatile.Read(ref Header(SimChannelLayout.StopOffset)) == 0)
        {
            var now = Look();

            // For the node's watchdog (SimGpuHost): a line of its own, which only the node reads.
            Volatile.Write(ref Header(SimChannelLayout.LookedAtOffset), now);
            if (parentPid != 0 && now >= nextParentCheck)
            {
                if (NativeMethods.GetParentPid() != parentPid)
                {
                    return;
                }

                nextParentCheck = now + 100_000_000;
            }

            var anyLeased = Volatile.Read(ref Header(SimChannelLayout.LeasedOffset)) > 0;
            if (anyLeased && spin)
            {
                // A polling engine has no wake to be late for: it is late by a gap between two
                // looks (tens of nanoseconds apart) over the threshold — its thread was off its
                // core (descheduled, a hypervisor's stolen time) or its process stopped. Until
                // 2026-12-05 such gaps went uncounted.
                if (spunAt != 0)
                {
                    CountLate(now - spunAt);
                }

                spunAt = now;

                // Look again at once (a pause of tens of nanoseconds): a launch is seen and a
                // completion published within a look, and no sleep waits for a timer or a wake-up.
                Thread.SpinWait(1);
                continue;
            }

            spunAt = 0;
            var wake = anyLeased ? Math.Min(Math.Min(scheduler.NextEventNs(), nextEarlyWakeNs), now + pollNs) : now + 1_000_000;
            if (wake > MonotonicClock.NowNs())
            {
                NativeMethods.SleepUntil(wake);
            }

            CountLate(MonotonicClock.NowNs() - Math.Max(wake, now));
        }
    }

    /// <summary>Counts a wake (or a polling engine's look) <paramref name="late"/> ns after it was due, where that is over <see cref="SimGpuHost.LateThresholdNs"/>.</summary>
    private void CountLate(long late)
    {
        if (late > SimGpuHost.LateThresholdNs)
        {
            LateWakes++;
            Volatile.Write(ref Header(SimChannelLayout.LateNsOffset), Header(SimChannelLayout.LateNsOffset) + late);
            Volatile.Write(ref Header(SimChannelLayout.LongestLateNsOffset), Math.Max(Header(SimChannelLayout.LongestLateNsOffset), late));
        }
    }

    /// <summary>
    /// One look over the channel: resets applied, launches collected, the model advanced to now,
    /// completions published (tenants that block woken). Returns the time it advanced to. It
    /// costs what a tenant waits beyond its kernel, half a look on average: it reads only the
    /// slots a tenant has had (<see cref="ScannedSlots"/>), the slots' reset requests only
    /// when the node counted a new one, and writes shared lines only when their values change.
    /// </summary>
    internal long Look()
    {
        var reset = ApplyResets();
        var now = MonotonicClock.NowNs();
        CollectArrivals();
        foreach (var (timestamp, slot, kernel) in arrivals)
        {
            scheduler.AdvanceTo(Math.Max(timestamp, scheduler.NowNs));
            scheduler.Enqueue(slot, kernel);
        }

        scheduler.AdvanceTo(now);

        var switched = scheduler.Switches;
        if (reset || arrivals.Count > 0 || switched != switches)
        {
            version++;
        }

        // The GPU goes idle or busy only at a completion, an arrival or a reset.
        var completions = Publish(now);
        if (completions | reset || arrivals.Count > 0)
        {
            PublishIdle();
        }

        if (completions)
        {
            version++;
        }

        if (switched != switches)
        {
            switches = switched;
            Volatile.Write(ref Header(SimChannelLayout.SwitchesOffset), switches);
        }

        return now;
    }

    /// <summary>How many slots each look reads: one past the highest that has had a reset (a tenant attaches through one, lowest free slot first).</summary>
    internal int ScannedSlots => scanned;

    /// <summary>
    /// <c>contention sim-gpu</c>: maps <paramref name="channelPath"/> (made by the node), opens its
    /// slots' FIFOs and runs the engine until the node stops it or dies. Returns the exit code.
    /// </summary>
    public static int RunProcess(string channelPath, string profilePath, long pollNs, int parentPid, bool spin)
    {
        ArgumentException.ThrowIfNullOrEmpty(channelPath);
        var profile = DeviceProfile.Load(profilePath);
        using var file = MemoryMappedFile.CreateFromFile(channelPath, FileMode.Open, null, 0, MemoryMappedFileAccess.ReadWrite);
        using var view = file.CreateViewAccessor();
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        try
        {
            pointer += view.PointerOffset;
            if (*(long*)pointer != SimChannelLayout.Magic)
            {
                Console.Error.WriteLine($"sim-gpu: {channelPath} is not a modelled GPU of this version");
                return 2;
            }

            var slots = (int)*(long*)(pointer + SimChannelLayout.SlotCountOffset);
            var fds = new int[slots];
            for (var i = 0; i < slots; i++)
            {
                fds[i] = NativeMethods.Open($"{channelPath}.{i}.fifo", NativeMethods.ORdWr | NativeMethods.ONonblock | NativeMethods.OCloExec);
                if (fds[i] < 0)
                {
                    Console.Error.WriteLine($"sim-gpu: failed to open {channelPath}.{i}.fifo: errno {Marshal.GetLastPInvokeError()}");
                    return 2;
                }
            }

            var engine = new SimGpuEngine(pointer, fds, profile, pollNs, parentPid, spin);

            // Everything is allocated: collections from here on would only be the runtime's own.
            System.Runtime.GCSettings.LatencyMode = System.Runtime.GCLatencyMode.SustainedLowLatency;
            GC.Collect();
            var collections = GC.CollectionCount(0);
            var allocated = GC.GetAllocatedBytesForCurrentThread();
            engine.Run();
            collections = GC.CollectionCount(0) - collections;
            allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
            foreach (var fd in fds)
            {
                _ = NativeMethods.Close(fd);
            }

            // What the node cannot see: whether the loop kept to its promise of no collections.
            if (collections > 0)
            {
                Console.Error.WriteLine($"sim-gpu {Path.GetFileName(channelPath)}: {collections} garbage collections and {allocated} bytes allocated by the loop; {engine.LateWakes} wakes over {SimGpuHost.LateThresholdNs / 1e6} ms late, {Volatile.Read(ref engine.Header(SimChannelLayout.LateNsOffset)) / 1e6:0.#} ms in total, longest {Volatile.Read(ref engine.Header(SimChannelLayout.LongestLateNsOffset)) / 1e6:0.#} ms");
            }

            return collections == 0 ? 0 : 3;
        }
        finally
        {
            view.SafeMemoryMappedViewHandle.ReleasePointer();
        }
    }

    // Whether any reset was applied.
    private bool ApplyResets()
    {
        // The node bumps the count after writing a request: read before the slots, so a request
        // made during this pass is looked for again next time.
        var requested = Volatile.Read(ref Header(SimChannelLayout.ResetsRequestedOffset));
        if (requested == resetsSeen)
        {
            return false;
        }

        resetsSeen = requested;
        var any = false;
        for (var slot = 0; slot < applied.Length; slot++)
        {
            var slotPtr = SimChannelLayout.Slot(basePtr, slot);
            var request = Volatile.Read(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.ResetRequest));
            if (request == applied[slot])
            {
                continue;
            }

            var mode = (GpuSharing)SimChannelLayout.Field(slotPtr, SimChannelLayout.ResetSharing);
            var context = new SimContext((int)SimChannelLayout.Field(slotPtr, SimChannelLayout.ResetPriority), SimChannelLayout.DoubleField(slotPtr, SimChannelLayout.ResetGpuShare));
            if (mode != (scheduler is SpatialScheduler ? GpuSharing.Mps : GpuSharing.Timeslice))
            {
                // Only the first tenant of an idle GPU changes its mode: nothing runs to carry over.
                scheduler = NewScheduler(mode, scheduler.NowNs);
            }

            scheduler.Reset(slot);
            scheduler.Configure(slot, context);
            roundTrips[slot] = mode == GpuSharing.Mps ? mpsTrips : timeslicedTrips;
            interrupts.Drain(slot);
            seen[slot] = 0;
            interrupted[slot] = 0;
            new Span<byte>(slotPtr, SimChannelLayout.ResetClearBytes).Clear();
            applied[slot] = request;

            // Looked at before the tenant hears of it: a node's watchdog that sees a tenant
            // attached sees a look too (one the loop writes after this look might never come).
            Volatile.Write(ref Header(SimChannelLayout.LookedAtOffset), MonotonicClock.NowNs());
            Volatile.Write(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.ResetAck), request);
            Volatile.Write(ref scanned, Math.Max(scanned, slot + 1));
            interrupts.SlotsInUse = scanned;
            any = true;
        }

        return any;
    }

    private IGpuScheduler NewScheduler(GpuSharing mode, long nowNs) => GpuSchedulers.Create(profile, mode, fifoFds.Length, nowNs);

    private void CollectArrivals()
    {
        arrivals.Clear();
        for (var slot = 0; slot < scanned; slot++)
        {
            var slotPtr = SimChannelLayout.Slot(basePtr, slot);
            var head = Volatile.Read(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.SubmitHead));
            for (var i = seen[slot]; i < head; i++)
            {
                arrivals.Add((SimChannelLayout.EntryTimestamp(slotPtr, i), slot, SimChannelLayout.ReadEntry(slotPtr, i)));
            }

            if (head > seen[slot])
            {
                seen[slot] = head;
                Volatile.Write(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.ConsumedHead), head);
            }
        }

        // Launches from different tenants must enter the model in time order.
        if (arrivals.Count > 1)
        {
            arrivals.Sort(static (x, y) => x.Timestamp.CompareTo(y.Timestamp));
        }
    }

    // Tenants read it at their first launch after a synchronise: a blocking wait for work that
    // found the GPU idle returns later, the longer it idled (DeviceProfile.IdleCosts).
    private void PublishIdle()
    {
        var since = GpuSchedulers.IdleSince(scheduler, scanned);
        if (Volatile.Read(ref Header(SimChannelLayout.IdleSinceOffset)) != since)
        {
            Volatile.Write(ref Header(SimChannelLayout.IdleSinceOffset), since);
        }
    }

    // Wakes a blocked tenant its lead before the time its wait is to return (ReturnNs), once its
    // work's end is known: at its completion, or ahead of it as predicted (a lead asked and every
    // kernel of the wait in the model); else asks the loop to look again then.
    private void WakeWhenDue(int slot, byte* slotPtr, long target, long now)
    {
        var lead = Volatile.Read(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.WakeLeadNs));
        long endNs;
        var done = scheduler.Completed(slot) >= target;
        if (done)
        {
            endNs = scheduler.LastCompletionNs(slot);
        }
        else
        {
            if (lead <= 0)
            {
                return;
            }

            if (drainVersion[slot] != version || drainTarget[slot] != target || now - drainAskedNs[slot] >= DrainRecheckNs)
            {
                // Until every kernel of the wait has reached the model its end is not known.
                drainVersion[slot] = version;
                drainTarget[slot] = target;
                drainAskedNs[slot] = now;
                drainNs[slot] = scheduler.Completed(slot) + scheduler.Pending(slot) >= target ? scheduler.DrainNs(slot) : long.MaxValue;
            }

            if (drainNs[slot] == long.MaxValue)
            {
                return;
            }

            endNs = drainNs[slot];
        }

        var at = ReturnNs(slot, slotPtr, endNs) - Math.Max(0, lead);
        if (at > now)
        {
            nextEarlyWakeNs = Math.Min(nextEarlyWakeNs, at);
        }
        else if (Interlocked.CompareExchange(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.WaitTarget), 0, target) == target)
        {
            Wake(slot, slotPtr, target, at);
            if (WakeTimings is { } wakes && done)
            {
                wakes.Record(slot, at, 0, endNs, lead);
            }
            else if (WakeTimings is not null)
            {
                predictedWakes[slot] = (target, at, endNs); // recorded when its work completes (Publish)
            }
        }
    }

    /// <summary>
    /// When a blocked wait whose work ends at <paramref name="endNs"/> is to return: then, for work
    /// that ended before the call; else the profiled round trip after it (drawn with the tenant's
    /// draw, for as long a wait) and the extra of a wait that found the GPU idle, as
    /// <see cref="Devices.SimDevice"/> reckons it when it returns.
    /// </summary>
    private long ReturnNs(int slot, byte* slotPtr, long endNs)
    {
        var calledNs = Volatile.Read(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.WaitCalledNs));
        if (endNs <= calledNs)
        {
            return endNs;
        }

        var draw = BitConverter.Int64BitsToDouble(Volatile.Read(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.WaitDraw)));
        return endNs + roundTrips[slot].Ns(endNs - calledNs, draw) + Volatile.Read(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.WaitIdleNs));
    }

    // Wakes a tenant blocked in its synchronise for its work up to target, due at dueNs: writes
    // its slot's FIFO, whose edge wakes the tenant's driver event thread (SimDriverEvents), which wakes
    // the tenant; and raises the GPU's completion interrupt, which the interrupt thread (SimInterrupts) passes on
    // to every other slot's FIFO (every tenant's event thread wakes to it, as on the real GPU):
    // once a wait, though a tenant woken ahead whose work proved later sleeps and is woken again.
    // Writing them all costs ~2 µs a woken thread, so the interrupt thread does it; this thread
    // wakes that one only when it sleeps. The stamp is when the wake was due (no earlier than the
    // wait's call): the tenant's lead then covers this thread's lateness as well as the wake-ups'.
    private void Wake(int slot, byte* slotPtr, long target, long dueNs)
    {
        var now = MonotonicClock.NowNs();
        var calledNs = Volatile.Read(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.WaitCalledNs));
        Volatile.Write(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.WokenAtNs), Math.Min(now, Math.Max(dueNs, calledNs)));
        if (interrupted[slot] != target)
        {
            interrupted[slot] = target;
            interrupts.Raise(slot);
        }

        interrupts.Signal(slot);
    }

    /// <summary>
    /// Publishes each slot's completions (and counters) and wakes its tenant if it blocks on them;
    /// returns whether any were. A blocked tenant is woken its lead
    /// (<see cref="SimChannelLayout.WakeLeadNs"/>, 0: none) before the time its wait is to return
    /// (<see cref="ReturnNs"/>: its completion plus the profiled round trip), reckoned from its
    /// completion once published, or ahead of it from its work's predicted end
    /// (<see cref="IGpuScheduler.DrainNs"/>) where it asked a lead: it then waits out the rest
    /// spinning, so it returns when the model means it to instead of a wake-up latency of this
    /// host later (the profiled host's is in the round trip it draws). Ends are predicted
    /// again after the model changed (a completion, an arrival, a reset, a context switch: one
    /// look later at most) or <see cref="DrainRecheckNs"/> after the last prediction.
    /// </summary>
    private bool Publish(long now)
    {
        var any = false;
        nextEarlyWakeNs = long.MaxValue;
        for (var slot = 0; slot < scanned; slot++)
        {
            var slotPtr = SimChannelLayout.Slot(basePtr, slot);
            var started = scheduler.Started(slot);
            ref var startedHead = ref SimChannelLayout.Field(slotPtr, SimChannelLayout.StartedHead);
            if (Volatile.Read(ref startedHead) != started)
            {
                // A launch held for room in the driver's queue may go (SimDevice.Reserve).
                Volatile.Write(ref startedHead, started);
            }

            var done = scheduler.Completed(slot);
            ref var tail = ref SimChannelLayout.Field(slotPtr, SimChannelLayout.CompleteTail);
            if (Volatile.Read(ref tail) != done)
            {
                // The counters before the tail: a tenant that sees its kernels complete reads them current.
                Volatile.Write(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.BusyNs), scheduler.BusyNs(slot));
                Volatile.Write(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.CompletedAtNs), scheduler.LastCompletionNs(slot));
                Volatile.Write(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.KernelNs), scheduler.KernelNs(slot));
                Interlocked.Exchange(ref tail, done);
                any = true;
                if (WakeTimings is { } wakes && predictedWakes[slot] is { Target: > 0 } woken && done >= woken.Target)
                {
                    // How far the end the wake was reckoned from was off the model's.
                    wakes.Record(slot, woken.DueNs, woken.ReckonedEndNs, scheduler.LastCompletionNs(slot), Volatile.Read(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.WakeLeadNs)));
                    predictedWakes[slot] = default;
                }
            }

            // Blocked (a wait published): woken when its return is a lead away.
            var waiting = Volatile.Read(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.WaitTarget));
            if (waiting != 0)
            {
                WakeWhenDue(slot, slotPtr, waiting, now);
            }
        }

        return any;
    }
}
