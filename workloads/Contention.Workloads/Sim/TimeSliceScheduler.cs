namespace Contention.Workloads.Sim;

/// <summary>
/// The modelled GPU's time-slicing, as measured on an H100 and an H200 without MPS: one context
/// runs at a time; its kernels run back to back in launch order; when another context has work,
/// the running one keeps the GPU until its timeslice is spent (a context that ran alone keeps it
/// to the end of its current slice, its slices following one another from the one it was given),
/// then the GPU switches, losing
/// <c>switchNs</c>, to the next context with work in round-robin order; a context whose queue runs dry loses the GPU at once to one with work, and that switch
/// loses <c>idleSwitchNs</c> (docs/results/h200/probes). A preempted kernel resumes where it
/// stopped. Time is explicit, so the model is deterministic.
/// Priorities and shares are ignored: the driver's time-slicing round-robins contexts. Weighted
/// (virtual time only: <c>contention simulate --timeslice-weights</c>, as GPU-sharing layers with
/// weighted time slices offer), a context's slice is the timeslice times its share over the
/// largest share, so busy contexts get GPU time in proportion to their shares.
/// </summary>
public sealed class TimeSliceScheduler : IGpuScheduler
{
    private readonly Queue<(long DurationNs, bool Compute, double Bytes, double WholeBytes)>[] pending;
    private readonly ColdStart? coldStart;
    private readonly long[] headRemaining;
    private readonly long[] restNs; // the queued kernels' times behind each head
    private readonly long[] headStarted;
    private readonly long[] kernelNs;
    private readonly long[] completed;
    private readonly long[] lastCompletion;
    private readonly long[] busyNs;
    private readonly long[] switchesTo;
    private readonly long timesliceNs;
    private readonly long switchNs;
    private readonly long idleSwitchNs;
    private readonly double[] weights;
    private readonly long[] slices;
    private readonly bool weighted;
    private State state = State.Idle;
    private int running = -1;
    private int owner = -1;
    private int ready; // contexts with queued work
    private long sliceStart;
    private long switchUntil;

    private enum State
    {
        Idle,
        Switching,
        Running,
    }

    /// <summary>A scheduler for <paramref name="contexts"/> contexts.</summary>
    /// <param name="contexts">Contexts (tenants) it schedules.</param>
    /// <param name="timesliceNs">How long a context keeps the GPU while another has work.</param>
    /// <param name="switchNs">GPU time lost preempting a context that still has work.</param>
    /// <param name="startNs">The model's time at the start.</param>
    /// <param name="idleSwitchNs">GPU time lost switching away from a context whose queue ran dry; null: as <paramref name="switchNs"/>.</param>
    /// <param name="weighted">Slices in proportion to each context's <see cref="SimContext.GpuShare"/> (<see cref="Configure"/>), the largest share's a whole timeslice; false: every slice a whole timeslice.</param>
    /// <param name="coldStart">What a kernel pays after other contexts' bytes (<see cref="ColdStart"/>, at its start); null: nothing.</param>
    public TimeSliceScheduler(int contexts, long timesliceNs, long switchNs, long startNs = 0, long? idleSwitchNs = null, bool weighted = false, ColdStart? coldStart = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(contexts);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(timesliceNs);
        ArgumentOutOfRangeException.ThrowIfNegative(switchNs);
        pending = new Queue<(long, bool, double, double)>[contexts];
        for (var i = 0; i < contexts; i++)
        {
            pending[i] = new Queue<(long, bool, double, double)>();
        }

        this.coldStart = coldStart;

        headRemaining = new long[contexts];
        restNs = new long[contexts];
        headStarted = new long[contexts];
        Array.Fill(headStarted, -1);
        kernelNs = new long[contexts];
        completed = new long[contexts];
        lastCompletion = new long[contexts];
        busyNs = new long[contexts];
        switchesTo = new long[contexts];
        weights = new double[contexts];
        Array.Fill(weights, 1.0);
        slices = new long[contexts];
        Array.Fill(slices, timesliceNs);
        this.weighted = weighted;
        this.timesliceNs = timesliceNs;
        this.switchNs = switchNs;
        this.idleSwitchNs = idleSwitchNs ?? switchNs;
        ArgumentOutOfRangeException.ThrowIfNegative(this.idleSwitchNs);
        NowNs = startNs;
    }

    /// <summary>The model's current time.</summary>
    public long NowNs { get; private set; }

    /// <summary>How many context switches the GPU has made.</summary>
    public long Switches { get; private set; }

    /// <summary>Kernels of <paramref name="context"/> completed so far.</summary>
    public long Completed(int context) => completed[context];

    /// <inheritdoc />
    public long Started(int context) => completed[context] + (headStarted[context] >= 0 ? 1 : 0);

    /// <inheritdoc />
    public long SwitchesTo(int context) => switchesTo[context];

    /// <inheritdoc />
    public long LastCompletionNs(int context) => lastCompletion[context];

    /// <summary>GPU time <paramref name="context"/> has run kernels, ns.</summary>
    public long BusyNs(int context) => busyNs[context];

    /// <inheritdoc />
    /// <remarks>A kernel's time starts when it first runs: the event before it completes only once its context has the GPU.</remarks>
    public long KernelNs(int context) => kernelNs[context];

    /// <summary>Kernels queued or running for <paramref name="context"/>.</summary>
    public int Pending(int context) => pending[context].Count;

    /// <inheritdoc />
    public void Configure(int context, SimContext settings)
    {
        if (!weighted)
        {
            return;
        }

        // Slices are read at every scheduling decision: worked out here, once per change of a share.
        weights[context] = Math.Clamp(settings.GpuShare, 0.001, 1);
        var largest = weights.Max();
        for (var c = 0; c < slices.Length; c++)
        {
            slices[c] = Math.Max(1, (long)Math.Round(timesliceNs * weights[c] / largest));
        }
    }

    /// <summary>How long <paramref name="context"/> keeps the GPU while another has work, ns.</summary>
    public long SliceNs(int context) => slices[context];

    /// <inheritdoc />
    public void Enqueue(int context, in SimKernel kernel) => Enqueue(context, kernel.DurationNs, kernel.SmShare > 0, coldStart?.Bytes(kernel) ?? 0, coldStart?.WholeBytes(kernel) ?? 0);

    /// <summary>Adds a kernel of <paramref name="durationNs"/> to a context's stream at the model's current time.</summary>
    /// <param name="context">The context.</param>
    /// <param name="durationNs">Its time alone.</param>
    /// <param name="compute">False for a copy, which holds the stream but is no kernel time (<see cref="KernelNs"/>).</param>
    /// <param name="bytes">The bytes it moves through the GPU's memory (for the cold starts, where the scheduler has them).</param>
    /// <param name="wholeBytes">For a part of a sliced kernel, the whole kernel's bytes (its footprint for the cold starts); 0: <paramref name="bytes"/>.</param>
    public void Enqueue(int context, long durationNs, bool compute = true, double bytes = 0, double wholeBytes = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(durationNs);
        if (state == State.Running && context != running && !OthersReady(running))
        {
            // The first competitor of a context running alone: that context keeps the GPU to the
            // end of its current slice, its slices having followed one another while it ran
            // alone (on an H100 a request after 1-20 ms idle beside a trainer ended on a grid of
            // 2.10 ms from the trainer's first slice).
            var slice = SliceNs(running);
            sliceStart += (NowNs - sliceStart) / slice * slice;
        }

        if (pending[context].Count == 0)
        {
            headRemaining[context] = durationNs;
            ready++;
        }
        else
        {
            restNs[context] += durationNs;
        }

        pending[context].Enqueue((durationNs, compute, bytes, wholeBytes));
    }

    /// <inheritdoc />
    public void MarkOpen(int context, bool isOpen)
    {
        // Open requests are an arbiter's business: the GPU sees kernels only.
    }

    /// <summary>Forgets a context's queued work and counters (its tenant left).</summary>
    public void Reset(int context)
    {
        if (pending[context].Count > 0)
        {
            ready--;
        }

        pending[context].Clear();
        headRemaining[context] = 0;
        restNs[context] = 0;
        headStarted[context] = -1;
        coldStart?.Reset(context);
        kernelNs[context] = 0;
        completed[context] = 0;
        lastCompletion[context] = 0;
        busyNs[context] = 0;
        if (running == context)
        {
            state = State.Idle;
            running = -1;
        }

        if (owner == context)
        {
            owner = -1;
        }
    }

    /// <summary>The time of the next completion or scheduling decision; <see cref="long.MaxValue"/> when idle.</summary>
    public long NextEventNs()
    {
        switch (state)
        {
            case State.Switching:
                return switchUntil;
            case State.Running:
                var end = NowNs + headRemaining[running];
                return OthersReady(running) ? Math.Min(end, Math.Max(NowNs, sliceStart + SliceNs(running))) : end;
            default:
                return NextReady(owner, -1) >= 0 ? NowNs : long.MaxValue;
        }
    }

    /// <inheritdoc />
    /// <remarks>Known only for the context that has the GPU (or is being switched in), when its queue ends within its slice or no other context waits.</remarks>
    public long DrainNs(int context)
    {
        if (pending[context].Count == 0 || context != running)
        {
            return long.MaxValue;
        }

        var start = state == State.Switching ? switchUntil : NowNs;
        var end = start + headRemaining[context] + restNs[context];
        if (!OthersReady(context))
        {
            return end;
        }

        var sliceEnd = state == State.Switching ? switchUntil + SliceNs(context) : sliceStart + SliceNs(context);
        return end <= sliceEnd ? end : long.MaxValue;
    }

    /// <summary>Runs the model forward to <paramref name="targetNs"/> (no-op for times already passed).</summary>
    public void AdvanceTo(long targetNs)
    {
        while (true)
        {
            switch (state)
            {
                case State.Idle:
                    var next = NextReady(owner, -1);
                    if (next < 0)
                    {
                        NowNs = Math.Max(NowNs, targetNs);
                        return;
                    }

                    Begin(next, idleSwitchNs);
                    break;

                case State.Switching:
                    if (switchUntil > targetNs)
                    {
                        NowNs = Math.Max(NowNs, targetNs);
                        return;
                    }

                    NowNs = switchUntil;
                    state = State.Running;
                    sliceStart = NowNs;
                    StartHead();
                    break;

                case State.Running:
                    StartHead();
                    var others = OthersReady(running);
                    var sliceEnd = others ? Math.Max(NowNs, sliceStart + SliceNs(running)) : long.MaxValue;
                    var stop = Math.Min(Math.Min(NowNs + headRemaining[running], sliceEnd), Math.Max(NowNs, targetNs));
                    var ran = stop - NowNs;
                    headRemaining[running] -= ran;
                    busyNs[running] += ran;
                    NowNs = stop;
                    if (headRemaining[running] == 0)
                    {
                        if (pending[running].Dequeue().Compute)
                        {
                            kernelNs[running] += NowNs - headStarted[running];
                        }

                        headStarted[running] = -1;
                        completed[running]++;
                        lastCompletion[running] = NowNs;
                        if (pending[running].Count > 0)
                        {
                            headRemaining[running] = pending[running].Peek().DurationNs;
                            restNs[running] -= headRemaining[running];
                        }
                        else
                        {
                            coldStart?.Idle(running);
                            ready--;
                            state = State.Idle;
                            running = -1;
                            break;
                        }
                    }

                    if (others && NowNs >= sliceEnd)
                    {
                        Begin(NextReady(running, running), switchNs);
                        break;
                    }

                    // The next kernel, where one came to the head, starts now (not after a switch).
                    StartHead();
                    if (NowNs >= targetNs)
                    {
                        return;
                    }

                    break;
            }
        }
    }

    // The running context's head kernel starts now, if it has not yet: its cold start (at once,
    // so that the next event's time has it whatever the caller's windows).
    private void StartHead()
    {
        if (headStarted[running] >= 0)
        {
            return;
        }

        headStarted[running] = NowNs;
        var head = pending[running].Peek();
        if (coldStart is not null && head.Compute)
        {
            headRemaining[running] += coldStart.Start(running, head.Bytes, head.WholeBytes);
        }
    }

    private void Begin(int context, long cost)
    {
        running = context;
        if (context == owner)
        {
            state = State.Running;
            sliceStart = NowNs;
            StartHead();
            return;
        }

        owner = context;
        Switches++;
        switchesTo[context]++;
        state = State.Switching;
        switchUntil = NowNs + cost;
        if (cost == 0)
        {
            state = State.Running;
            sliceStart = NowNs;
            StartHead();
        }
    }

    // Counted, not looked for: an engine with many slots asks at every look.
    private bool OthersReady(int context) => ready - (pending[context].Count > 0 ? 1 : 0) > 0;

    private int NextReady(int after, int exclude)
    {
        if (ready == 0 || (ready == 1 && exclude >= 0 && pending[exclude].Count > 0))
        {
            return -1;
        }

        var n = pending.Length;
        for (var step = 1; step <= n; step++)
        {
            var candidate = (((after < 0 ? n - 1 : after) + step) % n + n) % n;
            if (candidate != exclude && pending[candidate].Count > 0)
            {
                return candidate;
            }
        }

        return -1;
    }
}
