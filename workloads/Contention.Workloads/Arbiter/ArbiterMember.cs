using Contention.Workloads.Sim;

namespace Contention.Workloads.Arbiter;

/// <summary>
/// One tenant's place in a GPU's arbiter (<see cref="ArbiterGate.Join(bool)"/>): a latency-sensitive
/// tenant says when its operations open and close; a best-effort one asks before each launch
/// (<see cref="Admit(long, bool, Action?)"/>) and says when its work drained. Used from the tenant's one thread (but
/// <see cref="LetGo"/>).
/// </summary>
public sealed class ArbiterMember : IDisposable
{
    private readonly ArbiterGate gate;
    private readonly long token;
    private readonly ArbiterSlotState[] states;
    private long ownEndNs;
    private long ownPendingNs;
    private long ownQueueEndNs;
    private volatile bool letGo;
    private bool left;

    // The host-timings diagnostic (CONTENTION_HOST_TIMINGS): each launch asked for, when it went,
    // its prediction, the sleeps it took and what held it last (1: an open request, 2: the bound).
    private readonly HostTimings? timings = HostTimings.Open("admit", ["asked_ns", "went_ns", "predicted_ns", "sleeps", "held_by"]);

    // And each of its sleeps: when it began, when it was due, when it returned, when its launch
    // asked, and whether what holds it changed meanwhile (1: woken by a close or a take-back).
    private readonly HostTimings? sleepTimings = HostTimings.Open("arbiter-sleep", ["slept_ns", "due_ns", "returned_ns", "asked_ns", "changed"]);

    [ThreadStatic] private static bool preciseTimers;

    internal ArbiterMember(ArbiterGate gate, int slot, long token, bool sensitive, bool? queuePerTenant = null)
    {
        this.gate = gate;
        this.token = token;
        Slot = slot;
        Sensitive = sensitive;
        QueuePerTenant = queuePerTenant ?? RequestedQueuePerTenant;
        states = new ArbiterSlotState[gate.Slots];
    }

    /// <summary>
    /// Experimental (issue 13): <c>CONTENTION_ARBITER_QUEUE=tenant</c> in the process's environment.
    /// The GPU's one queue of predicted best-effort work counts every tenant's kernels one after
    /// another; under MPS three trainers' kernels run side by side, so its bound holds them to about
    /// one predicted second of work a second (on the H200 three ResNet-50 trainers alone behind
    /// gating made 72-73 % of their best). With it each tenant bounds its own predicted work.
    /// </summary>
    public static bool RequestedQueuePerTenant { get; } = Environment.GetEnvironmentVariable("CONTENTION_ARBITER_QUEUE") == "tenant";

    /// <summary>Whether this tenant's launches are bounded by its own queue of predicted work (<see cref="RequestedQueuePerTenant"/>), not the GPU's.</summary>
    public bool QueuePerTenant { get; }

    // The predicted end of the work this tenant's launches are bounded by.
    private long QueueEnd => QueuePerTenant ? ownQueueEndNs : gate.QueueEnd;

    /// <summary>The slot this tenant holds.</summary>
    public int Slot { get; }

    /// <summary>This tenant's claim on its slot (the slot's owner while it holds it).</summary>
    internal long Token => token;

    /// <summary>Whether the tenant is latency-sensitive.</summary>
    public bool Sensitive { get; }

    /// <summary>Launches asked for (<see cref="Admit(long, bool, Action?)"/>).</summary>
    public long Launches { get; private set; }

    /// <summary>Launches that had to wait.</summary>
    public long Held { get; private set; }

    /// <summary>Time launches waited, ns.</summary>
    public long HeldNs { get; private set; }

    /// <summary>The GPU time predicted of the launches let go (what the arbiter counted outstanding for them), ns.</summary>
    public long PredictedNs { get; private set; }

    /// <summary>The longest wait of one launch, ns.</summary>
    public long LongestHeldNs { get; private set; }

    /// <summary>Slots of dead tenants this one freed.</summary>
    public long Freed { get; private set; }

    /// <summary>
    /// Lets this tenant's launches go from now on, held or not (it is being stopped: a launch
    /// held by a tenant that hangs must not keep it from finishing its operation). Any thread.
    /// </summary>
    public void LetGo()
    {
        letGo = true;
        gate.Wake();
    }

    /// <summary>A latency-sensitive tenant's operation opens (best-effort launches wait from now until <see cref="Close"/>).</summary>
    public void Open() => gate.SetOpen(Slot, Math.Max(1, MonotonicClock.NowNs()));

    /// <summary>A latency-sensitive tenant's operation ended.</summary>
    public void Close() => gate.SetOpen(Slot, 0);

    /// <summary>
    /// Counts a best-effort launch of <paramref name="predictedNs"/> that asks nothing: a tenant whose
    /// stream waits at a stop word on the GPU (<see cref="Devices.IPausingDevice.WaitAt"/>) is held
    /// there, not here. It does not join the GPU's one queue of predicted work either: that queue
    /// counts best-effort kernels one after another, and under MPS three trainers' kernels run side
    /// by side, so its bound would hold them to about one predicted second a second (on the H200,
    /// three ResNet-50 trainers alone behind a 20 ms bound: 11-15 of 18 steps/s, held ~3.9 s of 4).
    /// </summary>
    public void Count(long predictedNs)
    {
        Launches++;
        PredictedNs += predictedNs;
    }

    /// <summary>
    /// A best-effort tenant's launch of a kernel predicted to last <paramref name="predictedNs"/>:
    /// returns at once when the arbiter lets it go (plain reads — the count of open requests and,
    /// only while one is open, the slots — and one compare-and-swap), else
    /// when it does — spinning for <see cref="ArbiterGate.SpinNs"/>, then asleep until what
    /// holds it changes or the work ahead is predicted to have drained — or when the node stopped
    /// the arbiter or the tenant is let go (<see cref="LetGo"/>). Returns how long it waited, ns.
    /// </summary>
    public long Admit(long predictedNs) => Admit(predictedNs, narrow: false);

    /// <summary>
    /// <see cref="Admit(long)"/> for a launch that is narrow (<paramref name="narrow"/>: it leaves
    /// room on every multiprocessor for a latency-sensitive tenant's blocks); under the spatial
    /// arbiter an open request does not hold a narrow launch, only the outstanding bound does.
    /// <paramref name="beforeWait"/>, if any, runs once on the calling thread when the launch is
    /// held, before it waits: a device lets go of its stream there (a kernel timer's held batch,
    /// whose kernels already queued would otherwise stay off the GPU while the arbiter holds the next).
    /// </summary>
    public long Admit(long predictedNs, bool narrow, Action? beforeWait = null)
    {
        Launches++;
        var now = MonotonicClock.NowNs();
        var start = now;
        var lastCheck = now;
        var spin = default(SpinWait);
        var holdWhileOpen = gate.HoldsWhileOpen || !narrow;
        var sleepsBefore = Sleeps;
        var heldBy = ArbiterVerdict.Go;
        while (true)
        {
            var (verdict, _) = ArbiterRules.Decide(Slots(holdWhileOpen), QueueEnd, now, predictedNs, gate.OutstandingNs, holdWhileOpen);
            if (verdict == ArbiterVerdict.Go || gate.Stopped || letGo)
            {
                timings?.Record(start, now, predictedNs, Sleeps - sleepsBefore, (long)heldBy);
                if (QueuePerTenant)
                {
                    ownQueueEndNs = ArbiterRules.QueueEndAfter(ownQueueEndNs, now, predictedNs);
                    ownEndNs = ownQueueEndNs;
                }
                else
                {
                    ownEndNs = gate.Enqueue(now, predictedNs);
                }

                ownPendingNs += predictedNs;
                PredictedNs += predictedNs;
                var waited = now - start;
                if (waited > 0)
                {
                    Held++;
                    HeldNs += waited;
                    LongestHeldNs = Math.Max(LongestHeldNs, waited);
                }

                return waited;
            }

            if (heldBy == ArbiterVerdict.Go)
            {
                beforeWait?.Invoke();
            }

            heldBy = verdict;
            if (now - lastCheck >= ArbiterGate.LeaseNs)
            {
                // Held a lease long: a tenant that died with an operation open or work outstanding holds nothing.
                gate.ReadInto(states);
                Freed += gate.FreeDead(states);
                lastCheck = now;
            }

            if (now - start < ArbiterGate.SpinNs)
            {
                spin.SpinOnce(sleep1Threshold: -1);
            }
            else
            {
                Sleep(predictedNs, lastCheck, holdWhileOpen, start);
            }

            now = MonotonicClock.NowNs();
        }
    }

    // The slots as a launch looks at them: none while no latency-sensitive request is open, or
    // when open requests hold nothing (one word read on the fast path, not every slot).
    private ReadOnlySpan<ArbiterSlotState> Slots(bool holdWhileOpen)
    {
        if (!holdWhileOpen || gate.OpenRequests == 0)
        {
            return [];
        }

        gate.ReadInto(states);
        return states;
    }

    /// <summary>Sleeps of held launches (<see cref="Admit(long, bool, Action?)"/>, once it stopped spinning).</summary>
    public long Sleeps { get; private set; }

    // A held launch past its spin sleeps until what holds it changes (a request closing, work
    // taken back, the arbiter stopping: whoever changes it wakes the sleepers), until the work let
    // go before it is predicted to have drained enough for it, or until its lease is up (the
    // tenants holding it are then checked for life).
    private void Sleep(long predictedNs, long lastCheckNs, bool holdWhileOpen, long askedNs)
    {
        if (!preciseTimers)
        {
            // Linux's default 50 us timer slack would wake a sleep timed to the queue's drain up to 50 us late.
            NativeMethods.UsePreciseTimers();
            preciseTimers = true;
        }

        Sleeps++;
        var word = gate.BeginSleep();
        try
        {
            // Looked at again once the sleep is announced: a change from here on makes it return at once.
            var slots = Slots(holdWhileOpen);
            var now = MonotonicClock.NowNs();
            var queueEnd = QueueEnd;
            var (verdict, _) = ArbiterRules.Decide(slots, queueEnd, now, predictedNs, gate.OutstandingNs, holdWhileOpen);
            if (verdict == ArbiterVerdict.Go || gate.Stopped || letGo)
            {
                return;
            }

            var drained = verdict == ArbiterVerdict.HeldByOutstanding ? queueEnd - Math.Max(0, gate.OutstandingNs - predictedNs) - now : long.MaxValue;
            var timeout = Math.Min(drained, lastCheckNs + ArbiterGate.LeaseNs - now);
            gate.Sleep(word, timeout);
            sleepTimings?.Record(now, now + Math.Max(1_000, timeout), MonotonicClock.NowNs(), askedNs, gate.WakeCount != word ? 1 : 0);
        }
        finally
        {
            gate.EndSleep();
        }
    }

    /// <summary>
    /// A best-effort tenant's launched work is done (it synchronised): what of it was predicted
    /// to last beyond now is taken back from the GPU's queue (no more than it let go since it
    /// last drained: other tenants' work queued before its own is still there).
    /// </summary>
    public void Drained()
    {
        var now = MonotonicClock.NowNs();
        if (QueuePerTenant)
        {
            // Its own queue: all of it done.
            ownQueueEndNs = Math.Min(ownQueueEndNs, now);
        }
        else
        {
            gate.TakeBack(now, Math.Min(ownPendingNs, ownEndNs - now));
        }

        ownEndNs = ownPendingNs = 0;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (!left)
        {
            left = true;
            gate.Leave(Slot, token);
            timings?.Save();
            sleepTimings?.Save();
        }
    }
}
