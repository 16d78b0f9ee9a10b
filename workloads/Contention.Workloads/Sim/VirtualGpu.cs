using Contention.Workloads.Devices;
using Contention.Workloads.Kernels;
using Contention.Workloads.Metrics;
using Contention.Workloads.Replay;
using Contention.Workloads.Workloads;
using HdrHistogram;

namespace Contention.Workloads.Sim;

/// <summary>One tenant of a <see cref="VirtualGpu"/>: its workload and how it uses the GPU, as a mix gives them.</summary>
/// <param name="Name">The tenant's name.</param>
/// <param name="Workload">What it runs: training steps or inference requests (closed loop, or open loop at its rate); a microbenchmark's repeated kernel, closed loop.</param>
/// <param name="Sync">How its thread waits for the GPU.</param>
/// <param name="Context">Its priority and GPU share.</param>
/// <param name="PinnedHost">Page-locked host memory (copies asynchronous) or pageable (each copy holds the thread until done).</param>
/// <param name="Replay">A replay workload's program when the caller has it already (null: read from the workload's trace file).</param>
public sealed record VirtualTenant(string Name, WorkloadSpec Workload, SyncMode Sync, SimContext Context, bool PinnedHost = true, Replay.ReplayProgram? Replay = null);

/// <summary>What a <see cref="VirtualGpu"/> tenant did since the last <see cref="VirtualGpu.Mark"/>.</summary>
/// <param name="Completed">Operations (steps, requests) that ended in the window.</param>
/// <param name="Latency">Their latencies, ns: from the operation's start (closed loop) or its scheduled arrival (open loop) to its end.</param>
/// <param name="KernelNs">GPU time of its compute kernels that completed in the window, ns (as <see cref="IGpuScheduler.KernelNs"/>).</param>
/// <param name="Host">What its thread did on the host in the window (the OS side is modelled from it).</param>
public sealed record VirtualTenantResult(long Completed, LongHistogram Latency, long KernelNs, VirtualHostCounters Host);

/// <summary>What a virtual tenant's thread did on the host in a window.</summary>
/// <param name="Launches">Kernels and copies it launched.</param>
/// <param name="Synchronises">Synchronises it called.</param>
/// <param name="Waits">Of those, the ones that waited for the GPU (a kernel still running when called).</param>
/// <param name="WaitNs">Time in those waits, ns (from the call to the return).</param>
/// <param name="IdleNs">Time an open-loop tenant waited for its next request, ns.</param>
/// <param name="LaunchCpuNs">CPU time of its launches, ns.</param>
/// <param name="SwitchesIn">Time-slice switches that gave the GPU back to its context while its thread waited in a synchronise (another tenant had run in between).</param>
/// <param name="TurnsLost">
/// Turns on a host core it lost while it wanted one and the threads wanting one outnumbered the
/// cores (<see cref="VirtualCores"/>): each ends with the thread switched out, an involuntary switch.
/// </param>
/// <param name="HostBusyNs">Host time a replay's thread spent busy as the recorded job's host was (its gaps and tails; 0 for other tenants), ns: CPU time by definition.</param>
/// <param name="ArbiterHeld">A best-effort tenant's launches its GPU's arbiter let go later than its thread asked (<see cref="ArbiterScheduler.Tally"/>; 0 without an arbiter).</param>
/// <param name="ArbiterHeldNs">How long they waited, ns.</param>
/// <param name="ArbiterPredictedNs">The predicted GPU time of the launches the arbiter let go, ns.</param>
/// <param name="ArbiterSleeps">Sleeps of its held launches (futex waits).</param>
/// <param name="ArbiterWakes">Wake-ups of other tenants' sleeping launches it made (futex wakes).</param>
/// <param name="ArbiterCorrection">A best-effort tenant's duration-predictor correction when the window ended (<see cref="ArbiterScheduler.Correction"/>); 0 for a latency-sensitive tenant or without an arbiter.</param>
public sealed record VirtualHostCounters(long Launches, long Synchronises, long Waits, long WaitNs, long IdleNs, long LaunchCpuNs, long SwitchesIn = 0, double TurnsLost = 0, long HostBusyNs = 0, long ArbiterHeld = 0, long ArbiterHeldNs = 0, long ArbiterPredictedNs = 0, long ArbiterSleeps = 0, long ArbiterWakes = 0, double ArbiterCorrection = 0);

/// <summary>How a <see cref="VirtualGpu"/>'s closed-loop tenants come to start at unrelated phases.</summary>
public enum StartPause
{
    /// <summary>None does: all start at time 0 (timelines computed by hand).</summary>
    None,

    /// <summary>Each pauses after its second operation as a worker does (<see cref="WorkloadRunner.StartPauseNs"/>): a run's simulation draws the run's phases.</summary>
    AfterSecondOperation,

    /// <summary>
    /// Each sleeps first for the same draw over one operation alone (its kernels' times and
    /// launches): its phase without a pause among its operations, for a cluster's pods, whose
    /// operations may be longer than the warm-up (a trainer's step on a T4 takes ~0.6 s alone).
    /// </summary>
    BeforeFirstOperation,
}

/// <summary>
/// A modelled GPU and its tenants in virtual time: a discrete-event simulation on the same code as
/// the real-time modelled GPU — the kernels of <see cref="WorkloadRunner.KernelsOf"/>, their
/// durations from <see cref="CostModel"/>, the sharing policy of <see cref="GpuSchedulers.Create"/>
/// — with each tenant's thread played as <see cref="WorkloadRunner"/> and <see cref="SimDevice"/>
/// run it: each launch costs the profile's launch CPU time before the kernel reaches the GPU, a
/// synchronise waits for the context's last kernel and returns a round trip after it (drawn from
/// the profile's spread with the tenant's seed), an open-loop tenant's arrivals are the same
/// Poisson process from the same seed, a thread that slept until an arrival runs a measured
/// wake-up's lateness after it (<see cref="RoundTripCurve.WakeUps"/>), the first launch after an
/// idle gap and a blocking synchronise whose first kernel found the GPU idle cost the profile's
/// measured extras (<see cref="DeviceProfile.IdleCosts"/>), a pageable copy holds
/// the thread until it is done, and a closed-loop thread pauses once after its second operation
/// (<see cref="WorkloadRunner.StartPauseNs"/>; or first: <see cref="StartPause"/>). Nothing else of the host is in it: scheduling delays, wake-ups
/// beyond the measured ones and the real-time engine's polling are not. Deterministic: the same tenants give the same results.
/// </summary>
public sealed class VirtualGpu
{
    private readonly IGpuScheduler gpu;
    private readonly Tenant[] tenants;
    private long events;

    /// <summary>A GPU of <paramref name="profile"/> shared by <paramref name="sharing"/>, its tenants starting at time 0.</summary>
    /// <exception cref="ArgumentException">A tenant runs what the virtual GPU cannot play (a microbenchmark grid).</exception>
    public VirtualGpu(DeviceProfile profile, GpuSharing sharing, IReadOnlyList<VirtualTenant> tenants)
        : this(profile, sharing, tenants, 0)
    {
    }

    /// <summary>
    /// A GPU of <paramref name="profile"/> shared by <paramref name="sharing"/>, its tenants
    /// starting at time 0, their threads sharing <paramref name="hostCores"/> host cores
    /// (<see cref="VirtualCores"/>, turns of the profile's <see cref="DeviceProfile.SchedulerSliceNs"/>; 0: a core each);
    /// time-sliced with <paramref name="weightedSlices"/>, each tenant's slice in proportion to its GPU share.
    /// Closed-loop tenants start at unrelated phases as <paramref name="startPause"/> says (by
    /// default as workers do).
    /// </summary>
    /// <exception cref="ArgumentException">A tenant runs what the virtual GPU cannot play (a microbenchmark grid).</exception>
    public VirtualGpu(DeviceProfile profile, GpuSharing sharing, IReadOnlyList<VirtualTenant> tenants, int hostCores, bool weightedSlices = false, StartPause startPause = StartPause.AfterSecondOperation, ArbiterPolicy? arbiter = null)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(tenants);
        ArgumentOutOfRangeException.ThrowIfZero(tenants.Count);
        // An arbiter's held tenants go as their threads look, each thread waking as the host's
        // timed sleeps do (drawn from a random of the tenants' seeds).
        var arbiterWaits = arbiter is null ? null : ArbiterWaits.Of(profile, tenants.Count, tenants.Aggregate(0x41524249, (h, t) => unchecked((h * 31) + t.Workload.Seed)));
        gpu = GpuSchedulers.Create(profile, sharing, tenants.Count, 0, weightedSlices, arbiter, arbiterWaits);
        if (HostTimings.ConfiguredDirectory is { } timings)
        {
            // The host-timings diagnostic: the arbiter's launches as the real tenants record theirs.
            (gpu as ArbiterScheduler)?.RecordAdmitsInto(timings);
        }
        var model = new CostModel(profile);
        // Each tenant is a process whose thread sleeps and wakes on the host (the GPU's own
        // tenants stand for the node's).
        var wakeUps = RoundTripCurve.WakeUps(profile, tenants.Count);
        var idle = (RoundTripCurve.IdleLaunches(profile, sharing), RoundTripCurve.IdleWaits(profile, sharing));
        var cores = new VirtualCores(hostCores, profile.SchedulerSliceNs);
        this.tenants = new Tenant[tenants.Count];
        for (var i = 0; i < tenants.Count; i++)
        {
            var tenant = tenants[i];
            if (tenant.Workload.Grid is not null)
            {
                throw new ArgumentException($"tenant {tenant.Name}: a microbenchmark grid cannot run in virtual time; give it a single op", nameof(tenants));
            }

            gpu.Configure(i, tenant.Context);
            var (programs, order) = Programs(tenant, model);
            this.tenants[i] = new Tenant(
                i,
                tenant,
                programs,
                order,
                new RoundTripCurve(profile, tenant.Sync, sharing),
                wakeUps,
                idle,
                cores,
                profile.LaunchCpuNs,
                tenants.Count,
                startPause,
                gpu,
                arbiter is { QuantumNs: > 0 } && tenant.Context.Priority <= 0 ? arbiter : null);
        }
    }

    /// <summary>
    /// What a tenant's thread plays, operation by operation: the same kernels every operation (a
    /// pageable copy holding the thread), or a replay's recorded steps in turn, each with the
    /// host's recorded time around its launches and its waits (<see cref="ReplayStep"/>).
    /// </summary>
    private static (Program[] Programs, int[] Order) Programs(VirtualTenant tenant, CostModel model)
    {
        if (tenant.Workload.Kind == WorkloadKind.Replay)
        {
            var replay = tenant.Replay ?? WorkloadRunner.ReplayOf(tenant.Workload);
            return ([.. replay.Steps.Select(s => new Program([.. s.Kernels.Select(k => model.Kernel(k))], s.SyncAfter, s.BeforeNs, s.SyncGapNs, s.TailNs))], [.. replay.Order]);
        }

        var kernels = WorkloadRunner.KernelsOf(tenant.Workload);
        bool[] syncAfter = [.. kernels.Select(k => !tenant.PinnedHost && k.Kind is KernelKind.CopyToDevice or KernelKind.CopyToHost)];
        syncAfter[^1] = true;
        return ([new Program([.. kernels.Select(k => model.Kernel(k))], syncAfter, new long[kernels.Count], new long[kernels.Count], 0)], [0]);
    }

    /// <summary>One operation's kernels as the thread plays them (<see cref="ReplayStep"/>'s fields; the last kernel always waits).</summary>
    private sealed record Program(SimKernel[] Kernels, bool[] SyncAfter, long[] BeforeNs, long[] SyncGapNs, long TailNs);

    /// <summary>Virtual time reached, ns.</summary>
    public long NowNs { get; private set; }

    /// <summary>Events handled so far: launches, synchronises, arrivals, ends of operations and the GPU's own events.</summary>
    public long Events => events;

    /// <summary>Starts a measurement window now: each tenant's completions, latencies and GPU time count from here.</summary>
    public void Mark()
    {
        foreach (var tenant in tenants)
        {
            tenant.Window.Clear();
            tenant.KernelNsAtMark = gpu.KernelNs(tenant.Index);
            tenant.ArbiterAtMark = (gpu as ArbiterScheduler)?.Tally(tenant.Index) ?? default;
            tenant.ResetHost();
        }
    }

    /// <summary>What tenant <paramref name="index"/> (in the order given) did since <see cref="Mark"/> or the start.</summary>
    public VirtualTenantResult Result(int index)
    {
        var tenant = tenants[index];
        var latency = Histograms.Create();
        foreach (var ns in tenant.Window)
        {
            latency.RecordValue(ns);
        }

        var host = tenant.Host();
        if (gpu is ArbiterScheduler arbiter)
        {
            // What the arbiter held of its launches in the window, as a real tenant reports it.
            var tally = arbiter.Tally(index).Since(tenant.ArbiterAtMark);
            host = host with { ArbiterHeld = tally.Held, ArbiterHeldNs = tally.HeldNs, ArbiterPredictedNs = tally.PredictedNs, ArbiterSleeps = tally.Sleeps, ArbiterWakes = tally.Wakes, ArbiterCorrection = arbiter.IsSensitive(index) ? 0 : arbiter.Correction(index) };
        }

        return new VirtualTenantResult(tenant.Window.Count, latency, gpu.KernelNs(index) - tenant.KernelNsAtMark, host);
    }

    /// <summary>From the start: <paramref name="warmupNs"/> of warm-up, then a measurement window (<see cref="Mark"/>) of <paramref name="windowNs"/>.</summary>
    public void Measure(long warmupNs, long windowNs)
    {
        RunUntil(warmupNs);
        Mark();
        RunUntil(warmupNs + windowNs);
    }

    /// <summary>Writes what the host-timings diagnostic recorded (an arbiter's launches, <see cref="ArbiterScheduler.RecordAdmitsInto"/>), once; the files' paths.</summary>
    public IReadOnlyList<string> SaveTimings() => (gpu as ArbiterScheduler)?.SaveAdmits() ?? [];

    /// <summary>Runs every event up to and including <paramref name="endNs"/>, then stands at that time.</summary>
    public void RunUntil(long endNs)
    {
        while (true)
        {
            var host = long.MaxValue;
            var next = -1;
            for (var i = 0; i < tenants.Length; i++)
            {
                if (tenants[i].NextNs < host)
                {
                    host = tenants[i].NextNs;
                    next = i;
                }
            }

            var device = gpu.NextEventNs();
            if (Math.Min(host, device) > endNs)
            {
                break;
            }

            // The GPU first at equal times: a completion at t is seen by a thread acting at t.
            if (device <= host)
            {
                gpu.AdvanceTo(device);
                NowNs = device;
                events++;
                foreach (var tenant in tenants)
                {
                    if (tenant.Waiting)
                    {
                        tenant.TryWake(gpu);
                    }
                }

                continue;
            }

            gpu.AdvanceTo(host);
            NowNs = host;
            events++;
            tenants[next].Act(gpu, host);
        }

        gpu.AdvanceTo(Math.Max(endNs, gpu.NowNs));
        NowNs = Math.Max(NowNs, endNs);
    }

    /// <summary>One tenant's thread: where it is in its operation and when it acts next.</summary>
    private sealed class Tenant
    {
        private readonly IGpuScheduler gpu;
        private readonly Program[] programs;
        private readonly int[] order;
        private long played;
        private Program program;
        private bool syncDue;
        private bool tailDue;
        private long hostBusyNs;
        private readonly RoundTripCurve roundTrip;
        private readonly RoundTripCurve wakeUp;
        private readonly RoundTripCurve idleLaunches;
        private readonly RoundTripCurve idleWaits;
        private readonly Random idleDraws;
        private readonly int contexts;
        private long lastReturnNs;
        private bool batchStarted;
        private long idleWaitNs;
        private readonly long launchCpuNs;
        private readonly VirtualCores cores;
        private readonly SyncMode sync;
        private readonly Random arrivals;
        private readonly Random spread;
        private readonly Random lateness;
        private readonly bool open;
        private readonly int seed;
        private readonly int pauseAfter;
        private long operations;
        private readonly double meanGapNs;
        private long arrivalNs;
        private long operationStartNs;
        private int nextKernel;
        private readonly ArbiterPolicy? slicing;
        private int parts;
        private int nextPart;
        private long submitted;
        private long calledNs = -1;
        private bool inOperation;
        private long launches;
        private long synchronises;
        private long waits;
        private long waitNs;
        private long idleNs;
        private long switchesIn;
        private long switchesAtCall;
        private long phaseNs;
        private bool runnable;
        private double turnsLost;
        private long accountedNs;

        public Tenant(int index, VirtualTenant spec, Program[] programs, int[] order, RoundTripCurve roundTrip, RoundTripCurve wakeUp, (RoundTripCurve Launches, RoundTripCurve Waits) idle, VirtualCores cores, long launchCpuNs, int contexts, StartPause startPause, IGpuScheduler gpu, ArbiterPolicy? slicing)
        {
            this.gpu = gpu;
            this.slicing = slicing;
            (idleLaunches, idleWaits) = idle;
            this.contexts = contexts;
            this.cores = cores;
            sync = spec.Sync;
            Index = index;
            this.programs = programs;
            this.order = order;
            program = programs[order[0]];
            this.roundTrip = roundTrip;
            this.wakeUp = wakeUp;
            this.launchCpuNs = launchCpuNs;

            // As WorkloadRunner draws arrivals and SimDevice round trips: each from the tenant's seed.
            arrivals = new Random(spec.Workload.Seed);
            spread = new Random(spec.Workload.Seed);

            // Wake-ups from their own stream, so that the round trips draw as SimDevice's do.
            lateness = new Random(unchecked(spec.Workload.Seed ^ 0x5BD1E995));
            idleDraws = new Random(unchecked(spec.Workload.Seed ^ SimDevice.IdleSeed));
            open = spec.Workload.Kind is WorkloadKind.Inference or WorkloadKind.Replay && spec.Workload.RatePerSecond > 0;
            seed = spec.Workload.Seed;
            pauseAfter = open || startPause != StartPause.AfterSecondOperation ? 0 : WorkloadRunner.StartPauseAfter;
            meanGapNs = open ? 1e9 / spec.Workload.RatePerSecond : 0;
            if (open)
            {
                NextArrival(0);
            }
            else if (startPause == StartPause.BeforeFirstOperation)
            {
                PauseUntil(0, WorkloadRunner.StartPauseNs(seed, program.Kernels.Sum(k => k.DurationNs + launchCpuNs) + program.BeforeNs.Sum() + program.SyncGapNs.Sum() + program.TailNs));
            }
            else
            {
                // Closed-loop threads start their turns one slice after another, as many at once as there are cores.
                Wake(-index * cores.SliceNs / Math.Max(1, cores.Cores));
                StartOperation(0, 0);
            }
        }

        public int Index { get; }

        /// <summary>When the thread acts next; <see cref="long.MaxValue"/> while it waits for the GPU.</summary>
        public long NextNs { get; private set; }

        public bool Waiting { get; private set; }

        // The window's latencies as they come (a histogram, about 300 KB, is made only when asked
        // for: a cluster of thousands of tenants would otherwise hold one each).
        public List<long> Window { get; } = [];

        public long KernelNsAtMark { get; set; }

        /// <summary>The arbiter's tally of its launches at the window's start (<see cref="ArbiterScheduler.Tally"/>).</summary>
        public ArbiterTally ArbiterAtMark { get; set; }

        public VirtualHostCounters Host() => new(launches, synchronises, waits, waitNs, idleNs, launches * launchCpuNs, switchesIn, turnsLost, hostBusyNs);

        public void ResetHost()
        {
            launches = synchronises = waits = waitNs = idleNs = switchesIn = hostBusyNs = 0;
            turnsLost = 0;
        }

        /// <summary>The thread's next action, at <paramref name="nowNs"/>.</summary>
        public void Act(IGpuScheduler gpu, long nowNs)
        {
            Account(nowNs);
            if (!inOperation)
            {
                // An open-loop request arrived (or was queued behind the last one): its latency runs from the arrival; or a closed-loop thread's start pause ended.
                if (!runnable)
                {
                    Wake(nowNs);
                }

                StartOperation(arrivalNs, nowNs);
                return;
            }

            if (tailDue)
            {
                // The host's time after the operation's last wait is spent.
                tailDue = false;
                EndOperation(nowNs);
                return;
            }

            if (syncDue)
            {
                // The host's time between a launch and its wait is spent: it waits now.
                syncDue = false;
                CallSynchronise(gpu, nowNs);
                return;
            }

            if (calledNs >= 0)
            {
                // Back from a synchronise: a pageable copy's, a replay's, or the operation's last
                // (an arbiter's best-effort tenant learns its kernels' times from it).
                (gpu as ArbiterScheduler)?.Synchronised(Index);
                calledNs = -1;
                lastReturnNs = nowNs;
                batchStarted = false;
                if (nextKernel < program.Kernels.Length)
                {
                    NextNs = cores.Finish(nowNs, phaseNs, launchCpuNs + Busy(program.BeforeNs[nextKernel]));
                    return;
                }

                if (program.TailNs > 0)
                {
                    tailDue = true;
                    NextNs = cores.Finish(nowNs, phaseNs, Busy(program.TailNs));
                    return;
                }

                EndOperation(nowNs);
                return;
            }

            // A launch's CPU time is spent: the kernel reaches the GPU now.
            if (!batchStarted)
            {
                // The first since the last synchronise: a blocking wait for this work returns
                // later the longer the GPU had idled when it got there, counted from the thread's
                // last return at the earliest (as SimDevice counts it).
                batchStarted = true;
                var idleSince = GpuSchedulers.IdleSince(gpu, contexts);
                idleWaitNs = this.sync == SyncMode.Block && idleSince > 0 ? idleWaits.Draw(nowNs - Math.Max(idleSince, lastReturnNs), idleDraws) : 0;
            }

            // A best-effort tenant behind a slicing arbiter launches a long kernel as its slices, as
            // many as its prediction then (its tenant's correction learnt so far) takes quanta
            // (ArbitratedDevice.Parts); each slice a launch.
            var kernel = program.Kernels[nextKernel];
            if (slicing is not null && nextPart == 0)
            {
                parts = slicing.SliceCount(kernel, (gpu as ArbiterScheduler)?.Correction(Index) ?? 1);
            }

            gpu.Enqueue(Index, slicing is not null && parts > 1 ? ArbiterPolicy.Part(kernel, nextPart, parts, slicing.SliceOverheadNs) : kernel);
            submitted++;
            launches++;
            if (slicing is not null && ++nextPart < parts)
            {
                NextNs = cores.Finish(nowNs, phaseNs, launchCpuNs);
                return;
            }

            nextPart = 0;

            var sync = program.SyncAfter[nextKernel];
            var gapNs = program.SyncGapNs[nextKernel];
            nextKernel++;
            if (!sync)
            {
                NextNs = cores.Finish(nowNs, phaseNs, launchCpuNs + Busy(program.BeforeNs[nextKernel]));
                return;
            }

            if (gapNs > 0)
            {
                syncDue = true;
                NextNs = cores.Finish(nowNs, phaseNs, Busy(gapNs));
                return;
            }

            CallSynchronise(gpu, nowNs);
        }

        // The thread calls a synchronise at nowNs: it waits until its context's kernels are done.
        private void CallSynchronise(IGpuScheduler gpu, long nowNs)
        {
            calledNs = nowNs;
            synchronises++;
            switchesAtCall = gpu.SwitchesTo(Index);
            Waiting = true;
            NextNs = long.MaxValue;
            if (this.sync != SyncMode.Spin)
            {
                // A blocked thread sleeps; a yielding one hands its core to any other that wants it.
                Sleep();
            }

            TryWake(gpu);
        }

        /// <summary>
        /// A waiting thread whose context's kernels are all done returns a round trip after the
        /// last one ended, or at once when it ended before the synchronise was called.
        /// </summary>
        public void TryWake(IGpuScheduler gpu)
        {
            if (gpu.Completed(Index) < submitted)
            {
                return;
            }

            Waiting = false;
            var completedNs = gpu.LastCompletionNs(Index);
            if (completedNs <= calledNs)
            {
                NextNs = calledNs;
                WantCore(calledNs);
                return;
            }

            NextNs = completedNs + roundTrip.Draw(completedNs - calledNs, spread) + idleWaitNs;
            idleWaitNs = 0;
            switchesIn += gpu.SwitchesTo(Index) - switchesAtCall;
            switch (sync)
            {
                case SyncMode.Block:
                    // Woken: it runs at once.
                    Wake(NextNs);
                    break;
                case SyncMode.Yield:
                    // Back among the threads that want a core; on one when its turn comes.
                    NextNs = cores.NextOn(NextNs, phaseNs, cores.Runnable + 1);
                    WantCore(NextNs);
                    break;
                default:
                    // It spun all along: it sees the completion when it is on a core.
                    NextNs = cores.NextOn(NextNs, phaseNs, cores.Runnable);
                    break;
            }

            waits++;
            waitNs += NextNs - calledNs;
        }

        private void StartOperation(long startNs, long nowNs)
        {
            operationStartNs = startNs;
            program = programs[order[(int)(played++ % order.Length)]];
            nextKernel = 0;
            calledNs = -1;
            inOperation = true;
            gpu.MarkOpen(Index, true);

            // After an idle gap (an open-loop request after a sleep) the first launch takes longer.
            NextNs = cores.Finish(nowNs, phaseNs, launchCpuNs + Busy(program.BeforeNs[0]) + idleLaunches.Draw(nowNs - lastReturnNs, idleDraws));
        }

        // A replay's recorded host time, spent now by the thread: counted as it begins.
        private long Busy(long ns)
        {
            hostBusyNs += ns;
            return ns;
        }


        private void EndOperation(long nowNs)
        {
            inOperation = false;
            Window.Add(Math.Clamp(nowNs - operationStartNs, 1, Histograms.HighestNs));
            if (open)
            {
                // The operation stays open while the next request is already due (queued behind
                // this one), as WorkloadRunner keeps it: an arbiter lets no best-effort work go in between.
                NextArrival(nowNs);
                if (NextNs > nowNs)
                {
                    gpu.MarkOpen(Index, false);
                }

                return;
            }

            gpu.MarkOpen(Index, false);
            if (++operations == pauseAfter)
            {
                PauseUntil(nowNs, nowNs + WorkloadRunner.StartPauseNs(seed, nowNs - operationStartNs));
            }
            else
            {
                StartOperation(nowNs, nowNs);
            }
        }

        // A closed-loop thread's start pause: asleep until wakeNs, its next operation starts when it wakes.
        private void PauseUntil(long nowNs, long wakeNs)
        {
            arrivalNs = wakeNs;
            NextNs = wakeNs;
            if (wakeNs > nowNs)
            {
                Sleep();
            }
        }

        private void NextArrival(long nowNs)
        {
            // A thread that sleeps until the arrival runs again a wake-up's lateness after it (as
            // measured on the profiled host for that long a sleep); one behind runs at once.
            arrivalNs += WorkloadRunner.NextGapNs(arrivals, meanGapNs);
            NextNs = arrivalNs > nowNs ? arrivalNs + wakeUp.Draw(arrivalNs - nowNs, lateness) : nowNs;
            idleNs += NextNs - nowNs;
            if (NextNs > nowNs)
            {
                Sleep();
            }
        }

        // The thread wakes at wakeNs (or starts): it wants a core, and its turns start there.
        private void Wake(long wakeNs)
        {
            phaseNs = wakeNs;
            WantCore(wakeNs);
        }

        // The thread wants a core from atNs (its turns lost are counted from there).
        private void WantCore(long atNs)
        {
            if (!runnable)
            {
                runnable = true;
                accountedNs = atNs;
                cores.Enter();
            }
        }

        // The ends of the thread's turns since the last account, while it wanted a core and the
        // threads wanting one outnumbered the cores: at each the thread is switched out (an
        // involuntary switch). As VirtualCores plays them: a turn of a slice from the thread's
        // phase, one every slice × wanting threads / cores (those wanting one now).
        private void Account(long nowNs)
        {
            if (runnable && cores.Contended && nowNs > accountedNs)
            {
                var period = cores.SliceNs * (double)cores.Runnable / cores.Cores;
                double Ended(long t) => t - phaseNs < cores.SliceNs ? 0 : Math.Floor((t - phaseNs - cores.SliceNs) / period) + 1;
                turnsLost += Ended(nowNs) - Ended(accountedNs);
            }

            accountedNs = Math.Max(accountedNs, nowNs);
        }

        private void Sleep()
        {
            if (runnable)
            {
                runnable = false;
                cores.Leave();
            }
        }
    }
}
