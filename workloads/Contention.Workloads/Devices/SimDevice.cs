using System.IO.MemoryMappedFiles;
using Contention.Workloads.Kernels;
using Contention.Workloads.Sim;

namespace Contention.Workloads.Devices;

/// <summary>
/// A tenant's view of a modelled GPU. Launching costs the driver's CPU time on the launching
/// thread and a store into shared memory; waiting is real: spin polls the completion counter,
/// yield calls <c>sched_yield</c> between polls, and a synchronise returns no sooner than the
/// profile's measured round trip for the sync mode and wait length after the last kernel ends
/// (drawn from its measured spread where the profile has one, with the tenant's seed). A blocking
/// wait makes the CUDA driver's calls on the driver's threads (<see cref="SimDriverEvents"/>: the
/// tenant thread's write and futex, <c>sim-EvtHandlr</c>'s <c>epoll_wait</c>, read and futex
/// wake). The GPU thread wakes it that long before the wait is to return (the
/// completion and its round trip): its own recent wake-up latency (<see cref="WakeLead"/>), which
/// it then spins; the measured round trip already holds the profiled host's wake-up, so this
/// host's is not added to it. After idling, the first
/// launch costs the profile's measured extra for that long a gap on the launching thread, and a
/// blocking synchronise whose first kernel found the GPU idle returns its measured extra later
/// (<see cref="DeviceProfile.IdleCosts"/>). Pageable copies are staged through a real host memcpy
/// and hold the thread until the DMA completes, as the CUDA driver does. Like the CUDA driver's
/// event thread, the device's wakes to each of the GPU's completion interrupts, whichever tenant's
/// blocking wait raised it (<see cref="DriverEventWakes"/>).
/// </summary>
public sealed unsafe class SimDevice : IComputeDevice, ISlicingDevice
{
    private readonly SimChannelInfo channel;
    private readonly CostModel model;
    private readonly MemoryMappedFile file;
    private readonly MemoryMappedViewAccessor view;
    private readonly byte* slotPtr;
    private readonly byte* headerPtr;
    private readonly RoundTripCurve idleLaunches;
    private readonly RoundTripCurve idleWaits;
    private readonly Random idleDraws;
    private long lastReturnNs;
    private bool batchStarted;
    private long idleWaitNs;
    private readonly SimDriverEvents driverEvents;
    private double waitDraw = double.NaN; // the current wait's round-trip draw, published with it
    private readonly bool pinned;
    private readonly long launchCpuNs;
    private readonly int queueDepth;
    private readonly Queue<long> memsetsAhead = new(); // ring indexes of launched GEMMs the cuda device would launch after a memset
    private readonly RoundTripCurve roundTrip;
    private readonly Random spread;
    private readonly HostHits? hostHits;
    private readonly WakeLead? wakeLead;
    private readonly HostTimings? timings = HostTimings.Open("sync", ["called_ns", "completed_ns", "noticed_ns", "intended_ns", "returned_ns"]);
    [ThreadStatic] private static bool preciseTimers;
    private float[] hostBuffer = [];
    private float[] staging = [];

    /// <summary>Attaches to the slot named in <c>options.SimChannel</c>.</summary>
    /// <exception cref="InvalidOperationException">No channel was given, or the file is not a modelled GPU.</exception>
    public SimDevice(DeviceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        channel = options.SimChannel ?? throw new InvalidOperationException($"{options.Id} needs the node's modelled GPU: run the tenant through a silo that advertises {options.Id}");
        Id = options.Id;
        SyncMode = options.SyncMode;
        pinned = options.PinnedHost;
        model = new CostModel(channel.Profile);
        launchCpuNs = channel.Profile.LaunchCpuNs;
        queueDepth = channel.Profile.LaunchQueueDepth;
        roundTrip = new RoundTripCurve(channel.Profile, SyncMode, channel.Sharing);
        if (SyncMode is SyncMode.Spin or SyncMode.Yield && roundTrip.Spreads && channel.Profile.HostInterruptions is { } interruptions)
        {
            // This host interrupts this thread for real: each time it makes the tenant late, a
            // round trip the profiled host's interruptions made late (in the measured spread) is
            // drawn again, instead of both counting. A blocked thread's wake-up is the later of
            // the real one and the drawn one: nothing to replace.
            hostHits = new HostHits(interruptions.HitShare(launchCpuNs));
        }
        idleLaunches = RoundTripCurve.IdleLaunches(channel.Profile, channel.Sharing);
        idleWaits = RoundTripCurve.IdleWaits(channel.Profile, channel.Sharing);
        idleDraws = new Random(unchecked(options.Seed ^ IdleSeed));
        spread = new Random(options.Seed);
        wakeLead = SyncMode == SyncMode.Block ? new WakeLead(MonotonicClock.NowNs()) : null;
        file = MemoryMappedFile.CreateFromFile(channel.Path, FileMode.Open, null, 0, MemoryMappedFileAccess.ReadWrite);
        view = file.CreateViewAccessor();
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        pointer += view.PointerOffset;
        if (*(long*)pointer != SimChannelLayout.Magic)
        {
            throw new InvalidOperationException($"{channel.Path} is not a modelled GPU of this version");
        }

        headerPtr = pointer;
        slotPtr = SimChannelLayout.Slot(pointer, channel.Slot);
        Description = $"{channel.Profile.Name} (sim:{options.Id.Index} slot {channel.Slot}, sync {SyncMode.ToString().ToLowerInvariant()}, {(pinned ? "pinned" : "pageable")} host memory)";
        lastReturnNs = MonotonicClock.NowNs();
        try
        {
            driverEvents = new SimDriverEvents(headerPtr, slotPtr, channel.FifoPath);
        }
        catch
        {
            Unmap();
            throw;
        }
    }

    /// <inheritdoc cref="SimDriverEvents.Wakes"/>
    public long DriverEventWakes => driverEvents.Wakes;

    /// <inheritdoc cref="SimDriverEvents.InterruptsSeen"/>
    public long InterruptsSeen => driverEvents.InterruptsSeen;

    /// <summary>
    /// The host-timings diagnostic's record of each sleep of a blocking wait (<c>sleep-*.csv</c>;
    /// null where it is off, <see cref="HostTimings"/>): when its wake was due (the GPU thread's
    /// stamp), when this thread ran, how long it then spun for its work, the lead it had asked, and
    /// 1 where it gave up and went to sleep again (a wait's last sleep has 0, but where its work was
    /// done by the time it was to sleep again: it then returns without another).
    /// </summary>
    internal HostTimings? SleepTimings { get; init; } = HostTimings.Open("sleep", SleepColumns);

    /// <summary>The columns of <see cref="SleepTimings"/>.</summary>
    internal static readonly string[] SleepColumns = ["due_ns", "woke_ns", "spun_ns", "lead_ns", "again"];

    /// <summary>What a tenant's seed is mixed with for its idle-cost draws (their own stream, so the round trips draw as before).</summary>
    internal const int IdleSeed = 0x2545F491;

    /// <inheritdoc />
    public DeviceId Id { get; }

    /// <summary>A spinning or yielding tenant's ledger of this host's interruptions (null: a blocked tenant, or a profile without <see cref="DeviceProfile.HostInterruptions"/> or round-trip spreads).</summary>
    internal HostHits? HostHits => hostHits;

    /// <inheritdoc />
    public string Description { get; }

    /// <inheritdoc />
    public SyncMode SyncMode { get; }

    /// <inheritdoc />
    /// <remarks>Exact: the modelled GPU's own account of the slot (<see cref="IGpuScheduler.KernelNs"/>).</remarks>
    public long? KernelNs => Volatile.Read(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.KernelNs));

    /// <summary>How long before its work's predicted end this (blocking) tenant last asked the GPU thread to wake it, ns (0: at the end; <see cref="WakeLead"/>).</summary>
    public long WakeLeadNs => Volatile.Read(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.WakeLeadNs));

    /// <summary>The cost model the device computes kernel durations with.</summary>
    public CostModel Model => model;

    /// <inheritdoc />
    public void Prepare(IEnumerable<KernelSpec> kernels)
    {
        var need = WorkspaceSize.For(kernels);
        if (hostBuffer.Length < need.Host)
        {
            hostBuffer = new float[need.Host];
            Array.Fill(hostBuffer, 1f);
            staging = pinned ? [] : new float[need.Host];
        }
    }

    /// <inheritdoc />
    public void Release()
    {
        Synchronize();
        hostBuffer = [];
        staging = [];
    }

    /// <inheritdoc />
    public void Launch(in KernelSpec kernel) => Launch(kernel, 0, 1);

    /// <inheritdoc />
    /// <remarks>A compute kernel's parts as the modelled arbiter slices it (<see cref="ArbiterPolicy.MaxParts"/>: a GEMM's waves or depth, another kernel's waves), at most 4,096; 1 for a copy.</remarks>
    public int MaxParts(in KernelSpec kernel)
    {
        var modelled = model.Kernel(kernel);
        return kernel.Kind is KernelKind.CopyToDevice or KernelKind.CopyToHost || modelled.SmShare <= 0 ? 1 : ArbiterPolicy.MaxParts(modelled);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Part of the modelled kernel as the modelled arbiter slices it (<see cref="ArbiterPolicy.Part"/>):
    /// its share of the waves or of its depth, each part with the profile's cost of a part
    /// (<see cref="DeviceProfile.PartCostNs"/>); each part is a
    /// launch, with the launch's CPU time.
    /// </remarks>
    public void LaunchPart(in KernelSpec kernel, int part, int parts) => Launch(kernel, part, parts);

    private void Launch(in KernelSpec kernel, int part, int parts)
    {
        // The launch's CPU time counts from here, and everything the model does for it (costing
        // the kernel, the idle draws, writing the launch queue) is part of it, not added to it:
        // the real driver's per-launch work (argument marshalling, queue bookkeeping; more after
        // the thread idled) is reproduced by running until that long after the call began.
        var started = MonotonicClock.NowNs();
        var idleExtraNs = batchStarted ? 0 : Math.Max(0, idleLaunches.Draw(started - lastReturnNs, idleDraws));
        var modelled = parts == 1 ? model.Kernel(kernel) : ArbiterPolicy.Part(model.Kernel(kernel), part, parts, channel.Profile.PartCostNs());
        var places = parts == 1 && queueDepth > 0 && CudaKernels.LaunchesMemsetFirst(kernel, channel.Profile.Multiprocessors) ? 2 : 1;
        var index = Reserve(ref started, places);
        if (places == 2)
        {
            memsetsAhead.Enqueue(index);
        }

        var due = started + idleExtraNs + launchCpuNs;
        Stage(index, modelled, due);
        var now = MonotonicClock.SpinUntil(due);
        hostHits?.Note(now - due);
        if (kernel.Kind is KernelKind.CopyToDevice or KernelKind.CopyToHost && !pinned)
        {
            // Pageable memory cannot be DMA'd directly: the driver copies through a pinned
            // staging buffer on the calling thread, and the call returns when the copy is done.
            var count = (int)Math.Min(kernel.Elements, hostBuffer.Length);
            hostBuffer.AsSpan(0, count).CopyTo(staging);
            SimChannelLayout.Ring(slotPtr, index, MonotonicClock.NowNs());
            Synchronize();
            return;
        }

        SimChannelLayout.Ring(slotPtr, index, now);
    }

    /// <inheritdoc />
    public void Synchronize()
    {
        var calledNs = MonotonicClock.NowNs();
        var target = Volatile.Read(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.SubmitHead));
        ref var tail = ref SimChannelLayout.Field(slotPtr, SimChannelLayout.CompleteTail);
        switch (SyncMode)
        {
            case SyncMode.Spin:
                // Short pauses between looks (tens of ns): a spinning waiter sees its completion
                // within them, as a real one polling its fence does.
                while (Volatile.Read(ref tail) < target)
                {
                    Thread.SpinWait(1);
                }

                break;
            case SyncMode.Yield:
                while (Volatile.Read(ref tail) < target)
                {
                    Thread.Yield();
                }

                break;
            default:
                BlockUntil(target, calledNs, ahead: true);
                break;
        }

        var noticedNs = timings is null ? 0 : MonotonicClock.NowNs();
        var (completedNs, intendedNs) = CompleteRoundTrip(calledNs);
        lastReturnNs = MonotonicClock.NowNs();
        batchStarted = false;
        idleWaitNs = 0;
        waitDraw = double.NaN;
        timings?.Record(calledNs, completedNs, noticedNs, intendedNs, lastReturnNs);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        timings?.Save();
        SleepTimings?.Save();
        driverEvents.Dispose(); // its thread gone before the file is unmapped
        Unmap();
    }

    private void Unmap()
    {
        view.SafeMemoryMappedViewHandle.ReleasePointer();
        view.Dispose();
        file.Dispose();
    }

    // The launch queue's next entry. A full queue holds the launching thread, yielding its core
    // as the CUDA driver's does: the profile's LaunchQueueDepth of the driver's operations waiting
    // to start (a kernel one place, a GEMM the cuda device launches after a memset two: places), or
    // the modelled ring full. The launch's own work then counts from when there is room (started
    // moves).
    private long Reserve(ref long started, int places)
    {
        var index = Volatile.Read(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.SubmitHead));
        if (HasRoom(index, places))
        {
            return index;
        }

        while (!HasRoom(index, places))
        {
            Thread.Yield();
        }

        started = MonotonicClock.NowNs();
        return index;
    }

    // With a queue depth the operations not yet started bound the launch: the kernels (the engine
    // starts only what it consumed, so they are never fewer than those not yet consumed, and the
    // ring, deeper than any depth a profile may have, cannot fill first) and the memsets before
    // those of them the cuda device launches after one (a memset's place freed with its kernel's
    // start, as the model has no memset of its own). Without one, the ring does.
    private bool HasRoom(long index, int places)
    {
        if (queueDepth <= 0)
        {
            return index - Volatile.Read(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.ConsumedHead)) < SimChannelLayout.RingSize;
        }

        var started = Volatile.Read(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.StartedHead));
        while (memsetsAhead.Count > 0 && memsetsAhead.Peek() < started)
        {
            memsetsAhead.Dequeue();
        }

        return index - started + memsetsAhead.Count + places <= queueDepth;
    }

    // Writes the kernel into entry index (all but its launch time) while the launch's CPU time runs.
    private void Stage(long index, in SimKernel kernel, long dueNs)
    {
        SimChannelLayout.WriteEntry(slotPtr, index, kernel);
        if (!batchStarted)
        {
            // The first kernel since the last synchronise: how long the GPU had idled when it
            // gets there (when the launch is due) sets how much later a blocking wait for this
            // work returns (the engine's view, microseconds old at most). Counted from this
            // thread's last return at the earliest, as the measurement counted its gaps from
            // back-to-back requests: the completion's way back (this wait extra among it) is idle
            // GPU time back-to-back requests have too.
            batchStarted = true;
            var idleSince = Volatile.Read(ref SimChannelLayout.Field(headerPtr, SimChannelLayout.IdleSinceOffset));
            idleWaitNs = SyncMode == SyncMode.Block && idleSince > 0 ? idleWaits.Draw(dueNs - Math.Max(idleSince, lastReturnNs), idleDraws) : 0;
        }
    }

    // Sleeps until the GPU thread wakes this tenant (through the event thread): its lead before
    // the wait is to return, or (asked with no lead) at that time; then spins until its work is
    // done. A wake that proves early by more than the lead again (work arrived ahead of the
    // prediction) sleeps once more, with no lead.
    private void BlockUntil(long target, long calledNs, bool ahead)
    {
        ref var tail = ref SimChannelLayout.Field(slotPtr, SimChannelLayout.CompleteTail);
        if (Volatile.Read(ref tail) >= target)
        {
            return;
        }

        var leadNs = ahead ? wakeLead?.LeadNs(MonotonicClock.NowNs()) ?? 0 : 0;
        ref var asked = ref SimChannelLayout.Field(slotPtr, SimChannelLayout.WakeLeadNs);
        if (Volatile.Read(ref asked) != leadNs)
        {
            Volatile.Write(ref asked, leadNs);
        }

        // What the GPU thread reckons the return from, as CompleteRoundTrip does.
        if (double.IsNaN(waitDraw))
        {
            waitDraw = roundTrip.Spreads ? spread.NextDouble() : 0.5;
        }

        SimChannelLayout.Field(slotPtr, SimChannelLayout.WaitCalledNs) = calledNs;
        SimChannelLayout.Field(slotPtr, SimChannelLayout.WaitDraw) = BitConverter.DoubleToInt64Bits(waitDraw);
        SimChannelLayout.Field(slotPtr, SimChannelLayout.WaitIdleNs) = idleWaitNs;
        ref var waitTarget = ref SimChannelLayout.Field(slotPtr, SimChannelLayout.WaitTarget);

        // A full fence between publishing the wait and reading the tail (the GPU side fences
        // between writing the tail and reading the wait): with plain stores, each side could
        // read the other's old value, and the tenant would sleep with no one to wake it.
        Interlocked.Exchange(ref waitTarget, target);
        if (Volatile.Read(ref tail) >= target && Interlocked.CompareExchange(ref waitTarget, 0, target) == target)
        {
            // Completed between the first check and publishing the wait: the GPU thread never saw it.
            return;
        }

        // Either the GPU thread has taken the wait (and written, or will write, the FIFO) or it will.
        driverEvents.Sleep(target, tellEventThread: ahead);
        var woke = MonotonicClock.NowNs();
        var due = Volatile.Read(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.WokenAtNs));
        wakeLead?.Woke(woke - due);
        if (Volatile.Read(ref tail) >= target)
        {
            SleepTimings?.Record(due, woke, 0, leadNs, 0);
            return;
        }

        var giveUp = woke + (2 * leadNs) + WakeLead.MarginNs;
        var now = woke;
        while (Volatile.Read(ref tail) < target)
        {
            now = MonotonicClock.NowNs();
            if (now > giveUp)
            {
                wakeLead?.Spun(now - woke);
                SleepTimings?.Record(due, woke, now - woke, leadNs, 1);
                BlockUntil(target, calledNs, ahead: false);
                return;
            }

            Thread.SpinWait(1);
        }

        wakeLead?.Spun(now - woke);
        SleepTimings?.Record(due, woke, now - woke, leadNs, 0);
    }

    // Returns the modelled completion and when the model meant the call to return (0: at once).
    private (long CompletedNs, long IntendedNs) CompleteRoundTrip(long calledNs)
    {
        // The real driver's completion reaches the waiting thread a measured while after the
        // GPU's last kernel ends (with the launch's way to the GPU, which the model does not
        // delay), longer the longer a sleeping thread slept, and as spread as measured: return no
        // sooner, waiting as the sync mode waits. Work done before the call costs no round trip.
        var completedNs = Volatile.Read(ref SimChannelLayout.Field(slotPtr, SimChannelLayout.CompletedAtNs));
        if (completedNs <= calledNs)
        {
            return (completedNs, 0);
        }

        var waitedNs = completedNs - calledNs;
        var drawn = hostHits is not null ? roundTrip.Ns(waitedNs, hostHits.Next(spread))
            : double.IsNaN(waitDraw) ? roundTrip.Draw(waitedNs, spread)
            : roundTrip.Ns(waitedNs, waitDraw);
        var until = completedNs + drawn + idleWaitNs;
        var noticed = MonotonicClock.NowNs();
        if (noticed >= until)
        {
            hostHits?.Note(noticed - until);
            return (completedNs, until);
        }

        switch (SyncMode)
        {
            case SyncMode.Spin:
                var returned = MonotonicClock.SpinUntil(until);
                hostHits?.Note(returned - until);
                break;
            case SyncMode.Yield:
                while (MonotonicClock.NowNs() < until)
                {
                    Thread.Yield();
                }

                hostHits?.Note(MonotonicClock.NowNs() - until);
                break;
            default:
                if (!preciseTimers)
                {
                    NativeMethods.UsePreciseTimers();
                    preciseTimers = true;
                }

                // Asleep until the lead before it (the timer's own lateness noted), then spinning.
                var now = MonotonicClock.NowNs();
                var leadNs = wakeLead?.LeadNs(now) ?? 0;
                if (until - now > leadNs)
                {
                    NativeMethods.SleepUntil(until - leadNs);
                    now = MonotonicClock.NowNs();
                    wakeLead?.Woke(now - (until - leadNs));
                }

                if (leadNs > 0 && now < until)
                {
                    MonotonicClock.SpinUntil(until);
                    wakeLead?.Spun(until - now);
                }

                break;
        }

        return (completedNs, until);
    }
}
