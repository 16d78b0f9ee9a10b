namespace Contention.Workloads.Sim;

/// <summary>
/// What a per-GPU arbiter lets best-effort tenants do (issue 13): how much of their predicted GPU
/// time may be on the GPU at once, and how long a held launch takes to reach the GPU once let go.
/// </summary>
/// <param name="OutstandingNs">
/// The most predicted GPU time of best-effort kernels let onto the GPU and not yet completed, ns:
/// a latency-sensitive request that opens waits behind at most about this much (one kernel more
/// where a single kernel is longer: a kernel alone is always let go).
/// </param>
/// <param name="ReleaseNs">How long a held launch takes to reach the GPU once let go: the launching thread's launch, ns.</param>
/// <param name="QuantumNs">
/// Kernel slicing: a best-effort kernel predicted longer than this is launched as several, each
/// over a disjoint range of its blocks of about this length (<see cref="Slice"/>); 0: no slicing.
/// </param>
/// <param name="SliceOverheadNs">What each slice beyond the first adds on the GPU (a kernel's fixed cost), ns.</param>
/// <param name="HoldWhileOpen">
/// Whether best-effort kernels are held while a latency-sensitive request is open or its work is
/// on the GPU; false (the spatial arbiter): only the outstanding bound holds them, and their
/// slices run beside the request's kernels as the sharing mode runs them.
/// </param>
/// <param name="QueuePerTenant">
/// Whether each best-effort tenant's predicted work is a queue of its own, bounded alone (under
/// MPS their kernels run side by side: a request waits behind the longest, not their sum), as the
/// real arbiter's tenants count it with <c>CONTENTION_ARBITER_QUEUE=tenant</c>
/// (<see cref="Arbiter.ArbiterMember.RequestedQueuePerTenant"/>); else one queue for the GPU.
/// </param>
public sealed record ArbiterPolicy(long OutstandingNs = 500_000, long ReleaseNs = 0, long QuantumNs = 0, long SliceOverheadNs = 0, bool HoldWhileOpen = true, bool QueuePerTenant = false)
{
    /// <summary>Why this policy cannot run, or null.</summary>
    public string? Problem() =>
        OutstandingNs < 0 ? $"the arbiter's outstanding work must be 0 or more, not {OutstandingNs} ns"
        : ReleaseNs < 0 ? $"the arbiter's release time must be 0 or more, not {ReleaseNs} ns"
        : QuantumNs < 0 ? $"the arbiter's slice quantum must be 0 (no slicing) or more, not {QuantumNs} ns"
        : SliceOverheadNs < 0 ? $"the arbiter's slice overhead must be 0 or more, not {SliceOverheadNs} ns"
        : null;

    /// <summary>
    /// <paramref name="kernel"/> as the arbiter launches it for a best-effort tenant: as it is when
    /// slicing is off, it is a copy, or it is predicted within <see cref="QuantumNs"/>; else as
    /// min(⌈duration / quantum⌉, its parts) slices (<see cref="SimKernel.Parts"/>; blocks run to
    /// their end, so slices are whole waves of its blocks or, for a GEMM of fewer waves than
    /// slices, ranges of its depth, each as wide as the kernel and as much shorter), each the
    /// kernel's fixed cost (<see cref="SliceOverheadNs"/>, at most half the kernel) plus its share
    /// of the rest (<see cref="Part"/>).
    /// </summary>
    public SimKernel[] Slice(in SimKernel kernel)
    {
        var count = SliceCount(kernel);
        if (count <= 1)
        {
            return [kernel];
        }

        var slices = new SimKernel[count];
        for (var i = 0; i < count; i++)
        {
            slices[i] = Part(kernel, i, count, SliceOverheadNs);
        }

        return slices;
    }

    /// <summary>How many slices <see cref="Slice"/> launches <paramref name="kernel"/> as: min(⌈duration / quantum⌉, its parts), 1 when it is not sliced.</summary>
    public int SliceCount(in SimKernel kernel) => SliceCount(kernel, 1);

    /// <summary>
    /// How many slices a tenant whose predictions are corrected by <paramref name="correction"/>
    /// launches <paramref name="kernel"/> as, as the real arbiter's tenant counts them
    /// (<see cref="Arbiter.ArbitratedDevice.Parts"/>): min(⌈predicted / quantum⌉, its parts), the
    /// prediction its prior (<see cref="SimKernel.ArbiterPriorNs"/>) times the correction; 1 when
    /// it is not sliced.
    /// </summary>
    public int SliceCount(in SimKernel kernel, double correction)
    {
        var predicted = (long)Math.Round(kernel.ArbiterPriorNs * Math.Max(0, correction));
        return QuantumNs <= 0 || kernel.SmShare <= 0 || predicted <= QuantumNs
            ? 1
            : (int)Math.Max(1, Math.Min((predicted + QuantumNs - 1) / QuantumNs, MaxParts(kernel)));
    }

    /// <summary>The most parts <paramref name="kernel"/> is sliced into: <see cref="SimKernel.Parts"/> where it says, else its waves; at most 4,096.</summary>
    public static int MaxParts(in SimKernel kernel) => (int)Math.Min(kernel.Parts > 0 ? kernel.Parts : Waves(kernel), 4096);

    /// <summary>The waves of <paramref name="kernel"/>'s blocks (unbounded where it says none).</summary>
    public static long Waves(in SimKernel kernel) =>
        kernel.WaveNs <= 0 ? long.MaxValue : Math.Max(1, (long)Math.Round(kernel.DurationNs / (double)kernel.WaveNs));

    /// <summary>
    /// Slice <paramref name="part"/> of <paramref name="parts"/> of <paramref name="kernel"/>: its
    /// share of the waves (the first waves mod parts slices take one more), the kernel's fixed cost
    /// (<paramref name="overheadNs"/>, at most half the kernel) plus that share of the rest, and
    /// that share of its blocks; in more slices than waves (a GEMM's ranges of K,
    /// <see cref="Kernels.GemmSlicing"/>), an equal share each, every slice with all of the
    /// kernel's blocks, one wave of them (its last wave's room not known). A slice of waves keeps
    /// the kernel's occupancy, so its last wave is as full as the kernel's waves are on average
    /// (<see cref="SimKernel.TailShare"/>). Each slice's <see cref="SimKernel.PriorNs"/> is its equal
    /// share of the whole kernel's prior and the parts' cost (<paramref name="overheadNs"/> for
    /// each part beyond the first), as the real arbiter predicts them
    /// (<see cref="Arbiter.ArbitratedDevice.PartsPriorNs"/>): so the tenant's predictor learns its
    /// kernels' speed, not the slicing's cost, which would otherwise raise every prediction and,
    /// with it, the parts the next kernels are cut into. Its <see cref="SimKernel.WholeNs"/> is the
    /// whole kernel's time (its footprint).
    /// </summary>
    public static SimKernel Part(in SimKernel kernel, int part, int parts, long overheadNs)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(parts);
        ArgumentOutOfRangeException.ThrowIfNegative(part);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(part, parts);
        if (parts == 1)
        {
            return kernel;
        }

        var overhead = Math.Min(Math.Max(0, overheadNs), kernel.DurationNs / 2);
        var work = kernel.DurationNs - overhead;
        var waves = Waves(kernel);
        var whole = kernel.ArbiterPriorNs + ((parts - 1) * overhead);
        var prior = Math.Max(1, ((whole * (part + 1)) / parts) - ((whole * part) / parts));
        if (waves != long.MaxValue && parts > waves)
        {
            // Over its depth: every block in each slice, each block shallower.
            var deep = Math.Max(1, overhead + (long)Math.Round(work / (double)parts));
            return kernel with { DurationNs = deep, WaveNs = deep, PriorNs = prior, WholeNs = kernel.WholeKernelNs, BlocksPerMultiprocessor = 0 };
        }

        var total = waves == long.MaxValue ? parts : waves;
        var share = (total / parts) + (part < total % parts ? 1 : 0);
        var fraction = share / (double)total;
        return kernel with
        {
            DurationNs = Math.Max(1, overhead + (long)Math.Round(work * fraction)),
            Spread = kernel.Spread * fraction,
            PriorNs = prior,
            WholeNs = kernel.WholeKernelNs,
        };
    }
}

/// <summary>What a modelled arbiter did to one tenant's launches (<see cref="ArbiterScheduler.Tally"/>).</summary>
/// <param name="Held">Launches let go later than the tenant's thread asked for them.</param>
/// <param name="HeldNs">The time they waited, ns.</param>
/// <param name="PredictedNs">The predicted GPU time of all the launches it let go, ns.</param>
/// <param name="Sleeps">Sleeps of the tenant's held launches (each a futex wait, a voluntary context switch).</param>
/// <param name="Wakes">Wake-ups of other tenants' sleeping launches the tenant made (each a futex wake): closing a request, taking work back.</param>
public readonly record struct ArbiterTally(long Held, long HeldNs, long PredictedNs, long Sleeps, long Wakes)
{
    /// <summary>This less <paramref name="earlier"/>: what happened since.</summary>
    public ArbiterTally Since(ArbiterTally earlier) => new(Held - earlier.Held, HeldNs - earlier.HeldNs, PredictedNs - earlier.PredictedNs, Sleeps - earlier.Sleeps, Wakes - earlier.Wakes);
}

/// <summary>
/// How a real best-effort tenant's thread waits for the arbiter (<see cref="Arbiter.ArbiterMember.Admit(long, bool, Action?)"/>),
/// which decides which of several held tenants goes first — nothing takes turns on a real GPU's
/// arbiter: whichever thread looks first once the bound allows goes. A thread asks when it reaches
/// its launch (after its previous launch let go has reached the GPU), looks continuously for
/// <see cref="SpinNs"/>, then sleeps until the work let go before it is predicted to have drained
/// enough for its kernel, until something that held it changes (a latency-sensitive request closing,
/// work taken back: whoever changes it wakes every sleeper) or until <see cref="LeaseNs"/> is up while
/// a request holds it; it runs again <see cref="LateNs"/> of that sleep's length after it was due
/// (scaled by its thread's own wake-up level, <see cref="Drift"/>), and looks once more. So a
/// tenant whose kernels are short keeps the GPU while the others sleep, and one whose thread wakes
/// a few microseconds later than the others' for a while loses every race meanwhile: on the
/// real-time model (H200 host) one of three gated ResNet-50 trainers' launches waited 207 ms over
/// 570 sleeps, woken 17.7 us late at the median while the thread that took the GPU woke 8.9 us
/// late; taking turns made every step 0.22 s.
/// </summary>
/// <param name="SpinNs">How long a held launch looks continuously before it sleeps, ns (<see cref="Arbiter.ArbiterGate.SpinNs"/>).</param>
/// <param name="LeaseNs">How long a launch held by an open request sleeps unless woken, ns (<see cref="Arbiter.ArbiterGate.LeaseNs"/>).</param>
/// <param name="LateNs">How late a thread that has slept this long runs again, ns (drawn: called once per wake-up and per sleep, in the simulation's order).</param>
/// <param name="Drift">Each thread's own wake-up level, drifting (none: every thread wakes alike).</param>
/// <param name="DriftSeed">The seed of the random the levels are drawn from (with <paramref name="Drift"/>).</param>
public sealed record ArbiterWaits(long SpinNs, long LeaseNs, Func<long, long> LateNs, WakeUpDrift? Drift = null, int DriftSeed = 0)
{
    /// <summary>
    /// The real arbiter's waits on a host of <paramref name="profile"/> where <paramref name="sleepers"/>
    /// processes sleep and wake: its spin and lease, each wake-up's lateness drawn from the
    /// profile's timed sleeps (<see cref="RoundTripCurve.WakeUps"/>) with a random of
    /// <paramref name="seed"/>, scaled by each thread's level (the profile's <see cref="DeviceProfile.WakeUpDrift"/>).
    /// </summary>
    public static ArbiterWaits Of(DeviceProfile profile, int sleepers, int seed)
    {
        var wakeUps = RoundTripCurve.WakeUps(profile, sleepers);
        var random = new Random(seed);
        return new ArbiterWaits(Arbiter.ArbiterGate.SpinNs, Arbiter.ArbiterGate.LeaseNs, sleptNs => wakeUps.Draw(sleptNs, random), profile.WakeUpDrift, unchecked(seed ^ 0x5F3759DF));
    }
}

/// <summary>
/// A per-GPU arbiter's launch gating over a sharing policy (time-slicing or MPS), as the real
/// arbiter decides (<see cref="Arbiter.ArbiterRules"/>): contexts of a priority above 0 are
/// latency-sensitive, the others best-effort. Latency-sensitive kernels go to the GPU as launched.
/// A best-effort kernel is held while a latency-sensitive context has a request pending
/// (<see cref="MarkOpen"/>: an open-loop one from its arrival until its queue is empty) or work on the GPU, and while the
/// best-effort work let go and predicted not yet done, with it, would exceed
/// <see cref="ArbiterPolicy.OutstandingNs"/>: each kernel let go adds its predicted time (here its
/// modelled time alone under its context's multiprocessor cap, <see cref="PredictedNs"/>) to one queue end for the GPU, after the work let go before it, and the queue
/// drains with time; a context whose let-go kernels have all completed, with nothing held, takes
/// back what of its predicted work was still to come (the real tenant does so at its
/// synchronise). Once let go, a kernel reaches the GPU <see cref="ArbiterPolicy.ReleaseNs"/>
/// later. Held kernels are let go in stream order; which context's next goes first is, without
/// <see cref="ArbiterWaits"/>, each in turn (threads that never sleep and take turns), and with them
/// whichever context's thread looks first, as the real tenants' threads do. The inner
/// policy runs what reaches it as it would anyway. Deterministic, on explicit time, as every policy.
/// </summary>
public sealed class ArbiterScheduler : IGpuScheduler
{
    private readonly IGpuScheduler inner;
    private readonly ArbiterPolicy policy;
    private readonly bool[] sensitive;
    private readonly bool[] open;
    private readonly Queue<(SimKernel Kernel, long AtNs, long PredictedNs)>[] held;
    private readonly Arbiter.DurationPredictor[] predictors;
    private readonly long[] measuredNs;
    private readonly ArbiterWaits? waits;
    private readonly long[] askNs;
    private readonly long[] readyNs;
    private readonly bool[] asleep;
    private readonly long[] sleptNs;
    private readonly long[] wakeNs;
    private readonly double[] driftLevel;
    private readonly long[] driftAtNs;
    private readonly Random? driftRandom;
    private double sharedLevel;
    private long sharedAtNs = long.MinValue;
    private readonly long[] sleepsAtAsk;
    private HostTimings?[]? admits;
    private HostTimings?[]? sleepRecords;
    private readonly long[] dueNs;
    private readonly bool[] wokenByChange;
    private (string Directory, string Name) admitsTo;
    private static int admitRuns;
    private bool wasBusy;
    private readonly long[] heldLaunches;
    private readonly long[] heldNs;
    private readonly long[] predictedNs;
    private readonly long[] sleeps;
    private readonly long[] wakes;
    private int closedBy = -1;
    private readonly int[] inFlight;
    private readonly long[] completedSeen;
    private readonly long[] ownEndNs;
    private readonly long[] ownPendingNs;
    private readonly double[] cap;
    private readonly List<(long AtNs, int Context, SimKernel Kernel)> releasing = [];
    private long queueEndNs;
    private readonly long[] tenantQueueEndNs;
    private int turn;

    /// <summary>
    /// Gating over <paramref name="inner"/> for <paramref name="contexts"/> contexts; with
    /// <paramref name="waits"/>, held contexts go as their threads look (else in turn).
    /// </summary>
    public ArbiterScheduler(IGpuScheduler inner, int contexts, ArbiterPolicy policy, ArbiterWaits? waits = null)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(contexts);
        if (policy.Problem() is { } problem)
        {
            throw new ArgumentException(problem, nameof(policy));
        }

        this.inner = inner;
        this.policy = policy;
        sensitive = new bool[contexts];
        open = new bool[contexts];
        held = [.. Enumerable.Range(0, contexts).Select(_ => new Queue<(SimKernel, long, long)>())];
        predictors = [.. Enumerable.Range(0, contexts).Select(_ => new Arbiter.DurationPredictor(Unknown))];
        measuredNs = new long[contexts];
        this.waits = waits;
        askNs = new long[contexts];
        readyNs = new long[contexts];
        asleep = new bool[contexts];
        sleptNs = new long[contexts];
        wakeNs = new long[contexts];
        heldLaunches = new long[contexts];
        heldNs = new long[contexts];
        predictedNs = new long[contexts];
        sleeps = new long[contexts];
        wakes = new long[contexts];
        inFlight = new int[contexts];
        completedSeen = new long[contexts];
        ownEndNs = new long[contexts];
        tenantQueueEndNs = new long[contexts];
        ownPendingNs = new long[contexts];
        cap = [.. Enumerable.Repeat(1.0, contexts)];
        driftLevel = new double[contexts];
        driftAtNs = [.. Enumerable.Repeat(long.MinValue, contexts)];
        driftRandom = waits?.Drift is null ? null : new Random(waits.DriftSeed);
        sleepsAtAsk = new long[contexts];
        dueNs = new long[contexts];
        wokenByChange = new bool[contexts];
    }

    /// <summary>
    /// Records each best-effort launch let go from now on into <paramref name="directory"/> as the
    /// real tenants' host-timings diagnostic does (<see cref="Arbiter.ArbiterMember"/>): per
    /// context a file <c>admit-vRUN-PID-N.csv</c> of when its thread asked, when it went, its
    /// prediction and how many sleeps it took, in virtual ns; and beside it
    /// <c>arbiter-sleep-vRUN-PID-N.csv</c> of its thread's sleeps as the real ones record theirs:
    /// when each began, when it was due, when the thread ran again, when its launch asked, and
    /// whether a close or take-back woke it (<see cref="SaveAdmits"/> writes them).
    /// </summary>
    public void RecordAdmitsInto(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        admitsTo = (directory, $"v{Interlocked.Increment(ref admitRuns)}");
        admits = new HostTimings?[held.Length];
        sleepRecords = new HostTimings?[held.Length];
    }

    /// <summary>
    /// Writes the launches and sleeps recorded since <see cref="RecordAdmitsInto"/> (once): the
    /// launch files' paths (each context's sleep file is written beside its launch file, with the same PID and N).
    /// </summary>
    public IReadOnlyList<string> SaveAdmits()
    {
        var saved = new List<string>();
        for (var context = 0; admits is not null && context < admits.Length; context++)
        {
            if (admits[context] is { } launches)
            {
                saved.Add(launches.Save());
                (sleepRecords![context] ?? SleepRecorder()).Save();
            }
        }

        admits = null;
        sleepRecords = null;
        return saved;
    }

    private HostTimings SleepRecorder() => HostTimings.Into(admitsTo.Directory, $"arbiter-sleep-{admitsTo.Name}", ["slept_ns", "due_ns", "returned_ns", "asked_ns", "changed"], 1 << 18);

    // The sleep of context's thread ended (it ran again at wakeNs; its launch goes or it sleeps
    // again): recorded where asked.
    private void EndSleep(int context)
    {
        if (!asleep[context])
        {
            return;
        }

        asleep[context] = false;
        if (sleepRecords is not null)
        {
            (sleepRecords[context] ??= SleepRecorder()).Record(sleptNs[context], dueNs[context], wakeNs[context], askNs[context], wokenByChange[context] ? 1 : 0);
        }
    }

    /// <inheritdoc />
    public long NowNs => inner.NowNs;

    /// <inheritdoc />
    public long Switches => inner.Switches;

    /// <summary>Best-effort kernels held at some point (each counted once).</summary>
    public long Held { get; private set; }

    // The modelled arbiter gives each prediction its prior (PredictedNs); it never asks for one by a kernel's shape.
    private static long Unknown(Kernels.KernelSpec kernel) => throw new InvalidOperationException("the modelled arbiter predicts from its kernels' modelled times");

    /// <summary>The predicted end of the best-effort work let go, ns.</summary>
    public long QueueEndNs => queueEndNs;

    // The queue a context's next kernel is bounded by: its own (QueuePerTenant) or the GPU's.
    private long QueueEnd(int context) => policy.QueuePerTenant ? tenantQueueEndNs[context] : queueEndNs;

    /// <inheritdoc />
    public long SwitchesTo(int context) => inner.SwitchesTo(context);

    /// <inheritdoc />
    public long Completed(int context) => inner.Completed(context);

    /// <inheritdoc />
    public long LastCompletionNs(int context) => inner.LastCompletionNs(context);

    /// <inheritdoc />
    public long BusyNs(int context) => inner.BusyNs(context);

    /// <inheritdoc />
    public long KernelNs(int context) => inner.KernelNs(context);

    /// <inheritdoc />
    public int Pending(int context)
    {
        var pending = inner.Pending(context) + held[context].Count;
        foreach (var release in releasing)
        {
            pending += release.Context == context ? 1 : 0;
        }

        return pending;
    }

    /// <inheritdoc />
    /// <remarks>Unknown while the arbiter holds or is releasing any of the context's work.</remarks>
    public long DrainNs(int context)
    {
        if (held[context].Count > 0)
        {
            return long.MaxValue;
        }

        foreach (var release in releasing)
        {
            if (release.Context == context)
            {
                return long.MaxValue;
            }
        }

        return inner.DrainNs(context);
    }

    /// <inheritdoc />
    public void Configure(int context, SimContext settings)
    {
        sensitive[context] = settings.Priority > 0;
        cap[context] = inner is SpatialScheduler ? settings.GpuShare : 1;
        inner.Configure(context, settings);
    }

    /// <summary>
    /// What the arbiter predicts <paramref name="kernel"/> of <paramref name="context"/> takes
    /// before its tenant measured anything: its time alone (a slice: its share of its whole
    /// kernel's, <see cref="SimKernel.ArbiterPriorNs"/>) under the context's cap on the
    /// multiprocessors (spatial sharing: a kernel given a fraction of those it would fill runs at
    /// that fraction of its speed). A held kernel is predicted this times the tenant's correction,
    /// learnt as the real tenant's predictor learns it (<see cref="Arbiter.DurationPredictor"/>)
    /// from its measured GPU time at each synchronise (<see cref="Synchronised"/>).
    /// </summary>
    public long PredictedNs(int context, in SimKernel kernel) =>
        kernel.SmShare > cap[context] ? (long)Math.Round(kernel.ArbiterPriorNs * kernel.SmShare / cap[context]) : kernel.ArbiterPriorNs;

    /// <inheritdoc />
    public void MarkOpen(int context, bool isOpen)
    {
        open[context] = isOpen;
        if (!isOpen)
        {
            // A latency-sensitive tenant's close wakes the held launches asleep (best-effort tenants' operations hold nothing).
            closedBy = sensitive[context] ? context : closedBy;
            Release();
        }
    }

    /// <summary>
    /// A best-effort tenant's synchronise returned: as the real tenant does, its predictor learns
    /// from the GPU time its kernels took since its last one against what it predicted of them.
    /// </summary>
    public void Synchronised(int context)
    {
        if (sensitive[context])
        {
            return;
        }

        var kernelNs = inner.KernelNs(context);
        predictors[context].Observe(kernelNs - measuredNs[context]);
        measuredNs[context] = kernelNs;
    }

    /// <summary>
    /// What the arbiter did to <paramref name="context"/>'s launches so far, as a real tenant counts
    /// them (<see cref="Arbiter.ArbiterMember"/>), and the system calls its thread made for it
    /// (with <see cref="ArbiterWaits"/>; none without).
    /// </summary>
    public ArbiterTally Tally(int context) => new(heldLaunches[context], heldNs[context], predictedNs[context], sleeps[context], wakes[context]);

    /// <summary>The correction context's predictions are multiplied by (<see cref="Arbiter.DurationPredictor.Correction"/>).</summary>
    public double Correction(int context) => predictors[context].Correction;

    /// <summary>Whether <paramref name="context"/> is latency-sensitive (its launches go straight to the GPU; it predicts nothing).</summary>
    public bool IsSensitive(int context) => sensitive[context];

    /// <inheritdoc />
    public void Enqueue(int context, in SimKernel kernel)
    {
        if (sensitive[context])
        {
            inner.Enqueue(context, kernel);
            return;
        }

        held[context].Enqueue((kernel, inner.NowNs, predictors[context].PredictFrom(PredictedNs(context, kernel))));
        if (held[context].Count == 1)
        {
            // Its thread asks for it once its previous launch let go has reached the GPU.
            Ask(context, Math.Max(inner.NowNs, readyNs[context]));
        }

        Release();
        if (held[context].Count > 0)
        {
            Held++;
        }
    }

    /// <inheritdoc />
    public void Reset(int context)
    {
        // Its kernels leave the GPU with it: what of them was still predicted to come goes back.
        TakeBack(context);
        held[context].Clear();
        inFlight[context] = 0;
        releasing.RemoveAll(r => r.Context == context);
        open[context] = false;
        sensitive[context] = false;
        asleep[context] = false;
        readyNs[context] = 0;
        predictors[context] = new Arbiter.DurationPredictor(Unknown);
        inner.Reset(context);
        measuredNs[context] = inner.KernelNs(context);
        completedSeen[context] = inner.Completed(context);
        Release();
    }

    /// <inheritdoc />
    public long NextEventNs() => Math.Min(inner.NextEventNs(), Math.Min(NextReleaseNs(), NextDrainNs()));

    /// <inheritdoc />
    public void AdvanceTo(long targetNs)
    {
        while (true)
        {
            var reach = NextReleaseNs();
            var gpu = inner.NextEventNs();
            var next = Math.Min(Math.Min(reach, gpu), NextDrainNs());
            if (next > targetNs)
            {
                break;
            }

            inner.AdvanceTo(next);
            if (reach == next)
            {
                // Launches let go earlier reach the GPU now, in the order they were let go.
                var kept = 0;
                for (var i = 0; i < releasing.Count; i++)
                {
                    var release = releasing[i];
                    if (release.AtNs == reach)
                    {
                        inner.Enqueue(release.Context, release.Kernel);
                    }
                    else
                    {
                        releasing[kept++] = release;
                    }
                }

                releasing.RemoveRange(kept, releasing.Count - kept);
            }

            Account();
            Release();
        }

        inner.AdvanceTo(targetNs);
        Account();
        Release();
    }

    private long NextReleaseNs()
    {
        var next = long.MaxValue;
        foreach (var release in releasing)
        {
            next = Math.Min(next, release.AtNs);
        }

        return next;
    }

    // When the predicted queue will have drained enough for a held head kernel to go (nothing
    // while a latency-sensitive request holds them all; its end or its work's completion lets go).
    private long NextDrainNs()
    {
        if (waits is not null)
        {
            return NextLookNs(waits);
        }

        if (SensitiveBusy())
        {
            return long.MaxValue;
        }

        var next = long.MaxValue;
        var now = inner.NowNs;
        for (var context = 0; context < held.Length; context++)
        {
            if (held[context].TryPeek(out var head))
            {
                // Due now or earlier: Release() has just looked at it (it waits for its turn's round).
                var at = AllowedAtNs(context, head.PredictedNs);
                if (at > now)
                {
                    next = Math.Min(next, at);
                }
            }
        }

        return next;
    }

    // Completions since the last look; a context with all its let-go work done and nothing held takes back its predicted rest.
    private void Account()
    {
        for (var context = 0; context < held.Length; context++)
        {
            var completed = inner.Completed(context);
            if (completedSeen[context] == completed)
            {
                continue;
            }

            inFlight[context] = Math.Max(0, inFlight[context] - (int)(completed - completedSeen[context]));
            completedSeen[context] = completed;
            // (Kernels let go but still on their way to the GPU count in flight.)
            if (!sensitive[context] && inFlight[context] == 0 && held[context].Count == 0)
            {
                TakeBack(context);
            }
        }
    }

    private void TakeBack(int context)
    {
        var now = inner.NowNs;
        var rest = Math.Min(ownPendingNs[context], ownEndNs[context] - now);
        if (rest > 0 && QueueEnd(context) > now)
        {
            if (policy.QueuePerTenant)
            {
                // Its own queue: all of it done at its synchronise (the real tenant wakes no one: only it waits on its queue).
                tenantQueueEndNs[context] = now;
            }
            else
            {
                queueEndNs = Math.Max(now, queueEndNs - rest);
                // The real tenant's take-back wakes every held launch asleep.
                WakeSleepers(now, context);
            }
        }

        ownPendingNs[context] = 0;
    }

    private bool SensitiveBusy()
    {
        if (!policy.HoldWhileOpen)
        {
            return false;
        }

        for (var context = 0; context < sensitive.Length; context++)
        {
            if (sensitive[context] && (open[context] || inner.Pending(context) > 0))
            {
                return true;
            }
        }

        return false;
    }

    // Lets held kernels go while no latency-sensitive work is open and the outstanding bound allows:
    // one context's next kernel at a time, in turn, or as their threads look (ReleaseAsLooked).
    private void Release()
    {
        if (waits is not null)
        {
            ReleaseAsLooked(waits);
            return;
        }

        if (SensitiveBusy())
        {
            return;
        }

        var now = inner.NowNs;

        // Round the contexts from the one whose turn it is, until a whole round lets nothing go.
        for (int context = turn, skipped = 0; skipped < held.Length; context = (context + 1) % held.Length)
        {
            var outstanding = Arbiter.ArbiterRules.Outstanding(QueueEnd(context), now);
            var predicted = held[context].TryPeek(out var next) ? next.PredictedNs : -1;
            if (predicted < 0 || (outstanding > 0 && outstanding + predicted > policy.OutstandingNs))
            {
                skipped++;
                continue;
            }

            LetGo(context, now, predicted);
            skipped = 0;
        }
    }

    // The head kernel of context goes: onto the predicted queue, and to the GPU a launch later.
    private void LetGo(int context, long now, long predicted)
    {
        var (next, _, _) = held[context].Dequeue();
        EndSleep(context);
        var waited = now - askNs[context];
        if (admits is not null)
        {
            (admits[context] ??= HostTimings.Into(admitsTo.Directory, $"admit-{admitsTo.Name}", ["asked_ns", "went_ns", "predicted_ns", "sleeps"], 1 << 17)).Record(askNs[context], now, predicted, sleeps[context] - sleepsAtAsk[context]);
        }

        if (waited > 0)
        {
            heldLaunches[context]++;
            heldNs[context] += waited;
        }

        predictedNs[context] += predicted;
        var end = Arbiter.ArbiterRules.QueueEndAfter(QueueEnd(context), now, predicted);
        if (policy.QueuePerTenant)
        {
            tenantQueueEndNs[context] = end;
        }
        else
        {
            queueEndNs = end;
        }

        ownEndNs[context] = end;

        ownPendingNs[context] += predicted;
        inFlight[context]++;
        if (policy.ReleaseNs == 0)
        {
            inner.Enqueue(context, next);
        }
        else
        {
            releasing.Add((now + policy.ReleaseNs, context, next));
        }

        readyNs[context] = now + policy.ReleaseNs;
        if (held[context].TryPeek(out var following))
        {
            Ask(context, Math.Max(following.AtNs, readyNs[context]));
        }

        turn = (context + 1) % held.Length;
    }

    // The context's thread asks for its head kernel from atNs, looking continuously at first.
    private void Ask(int context, long atNs)
    {
        sleepsAtAsk[context] = sleeps[context];
        askNs[context] = atNs;
        asleep[context] = false;
    }

    // When a held kernel predicted this long is let go by the bound: once the work ahead of it has drained to the bound less it (to nothing for a kernel longer than the bound).
    private long AllowedAtNs(int context, long predictedNs) =>
        QueueEnd(context) - Math.Max(0, policy.OutstandingNs - predictedNs);

    // Whether the thread of context looks at now: spinning from its ask to the spin's end, or woken.
    private bool Looking(int context, long now, ArbiterWaits waits) =>
        askNs[context] <= now && (asleep[context] ? wakeNs[context] <= now : now <= askNs[context] + waits.SpinNs);

    // Held kernels go as their threads look: among the threads looking now that the bound lets
    // go, the one looking longest first (ties: in turn); each that looked and was held sleeps.
    private void ReleaseAsLooked(ArbiterWaits waits)
    {
        var now = inner.NowNs;
        var busy = SensitiveBusy();
        if (wasBusy && !busy)
        {
            // The request closed (its work done): its close wakes every held launch asleep.
            WakeSleepers(now, closedBy);
        }

        wasBusy = busy;
        while (!busy)
        {
            var best = -1;
            var bestSince = long.MaxValue;
            var bestPredicted = 0L;
            for (var i = 0; i < held.Length; i++)
            {
                var context = (turn + i) % held.Length;
                if (!held[context].TryPeek(out var head) || !Looking(context, now, waits) || AllowedAtNs(context, head.PredictedNs) > now)
                {
                    continue;
                }

                var since = asleep[context] ? wakeNs[context] : askNs[context];
                if (since < bestSince)
                {
                    (best, bestSince, bestPredicted) = (context, since, head.PredictedNs);
                }
            }

            if (best < 0)
            {
                break;
            }

            LetGo(best, now, bestPredicted);
        }

        for (var context = 0; context < held.Length; context++)
        {
            if (held[context].TryPeek(out var head) && askNs[context] <= now && (asleep[context] ? wakeNs[context] <= now : now >= askNs[context] + waits.SpinNs))
            {
                Sleep(context, head.PredictedNs, now, busy, waits);
            }
        }
    }

    // A held thread that looked sleeps until its kernel's predicted turn under the bound (its lease
    // while a request holds it; at least a microsecond, as the real futex wait), then runs late by
    // a wake-up after that sleep's length (Late).
    private void Sleep(int context, long predictedNs, long now, bool busy, ArbiterWaits waits)
    {
        var deadline = Math.Max(now + 1_000, busy ? now + waits.LeaseNs : AllowedAtNs(context, predictedNs));
        EndSleep(context);
        asleep[context] = true;
        wokenByChange[context] = false;
        dueNs[context] = deadline;
        sleptNs[context] = now;
        wakeNs[context] = deadline + Late(context, deadline, deadline - now, waits);
        sleeps[context]++;
    }

    // How late the thread of context runs again at atNs after a sleep of sleptNs: a wake-up of
    // that length, drawn, scaled by the thread's own wake-up level then (WakeUpDrift).
    private long Late(int context, long atNs, long sleptNs, ArbiterWaits waits)
    {
        var late = Math.Max(0, waits.LateNs(sleptNs));
        if (waits.Drift is not { } drift || driftRandom is not { } random)
        {
            return late;
        }

        // A level moves forward in time only: a sleep draws its lateness at its deadline, which a
        // change may then bring forward (a level drawn again at the earlier time would diffuse
        // as if the time between had passed twice).
        if (atNs > driftAtNs[context])
        {
            driftLevel[context] = drift.Next(driftLevel[context], driftAtNs[context] == long.MinValue ? long.MaxValue : atNs - driftAtNs[context], random);
            driftAtNs[context] = atNs;
        }

        if (drift.Shared is { } shared && atNs > sharedAtNs)
        {
            sharedLevel = shared.Next(sharedLevel, sharedAtNs == long.MinValue ? long.MaxValue : atNs - sharedAtNs, random);
            sharedAtNs = atNs;
        }

        return (long)(late * Math.Exp(drift.Weight(sleptNs) * (driftLevel[context] + (drift.Shared is null ? 0 : sharedLevel))));
    }

    // Something that holds best-effort launches changed (by context by, -1: none known): every
    // thread asleep runs again, late by the time it slept; waking any costs by one system call.
    private void WakeSleepers(long now, int by)
    {
        if (waits is null)
        {
            return;
        }

        var woke = false;
        for (var context = 0; context < held.Length; context++)
        {
            if (asleep[context] && held[context].Count > 0 && wakeNs[context] > now)
            {
                var woken = now + Late(context, now, now - sleptNs[context], waits);
                if (woken < wakeNs[context])
                {
                    wakeNs[context] = woken;
                    wokenByChange[context] = true;
                }

                woke = true;
            }
        }

        if (woke && by >= 0)
        {
            wakes[by]++;
        }
    }

    // The next time a held context's thread looks and may go, or sleeps: its ask, the bound's
    // allowing it while it spins, its spin's end, or its wake-up.
    private long NextLookNs(ArbiterWaits waits)
    {
        var now = inner.NowNs;
        var busy = SensitiveBusy();
        var next = long.MaxValue;
        for (var context = 0; context < held.Length; context++)
        {
            if (!held[context].TryPeek(out var head))
            {
                continue;
            }

            long at;
            if (asleep[context])
            {
                at = wakeNs[context];
            }
            else
            {
                var first = Math.Max(askNs[context], now);
                var spinEnd = askNs[context] + waits.SpinNs;
                var allowed = busy ? long.MaxValue : AllowedAtNs(context, head.PredictedNs);
                at = allowed <= first ? first : Math.Min(allowed, spinEnd);
                at = Math.Max(at, askNs[context]);
            }

            if (at > now)
            {
                next = Math.Min(next, at);
            }
        }

        return next;
    }
}
