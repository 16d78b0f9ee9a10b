namespace Contention.Workloads.Sim;

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
public sealed partial class ArbiterScheduler : IGpuScheduler
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
    /// <remarks>Work the arbiter holds or is releasing counts as started: it is not in the driver's queue.</remarks>
    public long Started(int context) => inner.Started(context) + (Pending(context) - inner.Pending(context));

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
}
