namespace Contention.Workloads.Sim;

/// <summary>
/// MPS-like spatial sharing of the modelled GPU: the head kernels of every context with work run
/// at once, each on the multiprocessors it is given. A kernel wants its
/// <see cref="SimKernel.SmShare"/>, capped at its context's <see cref="SimContext.GpuShare"/>.
/// Multiprocessors go to higher priorities first and, within a priority, to the kernels that
/// became their stream's head earliest, each taking what it wants of what is left: as measured on
/// an H200, a kernel's blocks are all dispatched before another client's later kernel starts, so
/// a light kernel beside a GPU-filling one waits for it to end, and then goes before that client's
/// next kernel (docs/results/h200/probes). A kernel of a higher priority than running kernels
/// does not wait for their end, but blocks run to their end: it gets the multiprocessors they
/// hold when the current wave of one of them ends (<see cref="SimKernel.WaveNs"/>), and until
/// then only what is free. A kernel given a fraction of the multiprocessors it
/// would fill runs at that fraction of its speed alone; when the running kernels together would
/// use more than the memory bandwidth, all slow down in proportion; and while kernels of two or
/// more contexts run at once, each runs <see cref="Interference"/> slower (the measured cost of
/// sharing the cache and memory system; a dense kernel beside another context's dense kernel
/// <see cref="DenseInterference"/> where set), and sparse kernels whose blocks crowd onto the same
/// multiprocessors run slower still (<see cref="BlockContention"/>). Two refinements (off unless
/// the profile sets them, as the shipped h200 does): a waiting higher-priority kernel takes the multiprocessors
/// as the lower-priority kernels' blocks end one by one past their first wave
/// (<see cref="StaggeredBlocks"/>), and a sparse kernel runs slower beside other contexts' dense
/// kernels, whose blocks share its multiprocessors (<see cref="DenseCrowding"/>); with the
/// first, a lower-priority kernel with blocks still to start refills whatever room frees at once,
/// so each kernel of a higher-priority stream waits for blocks to end anew. A kernel's last wave
/// holds only the share its blocks fill (<see cref="SimKernel.TailShare"/>) once it begins, a
/// wave's time alone before the kernel's end, and crowds others by that wave's blocks. No context switches and no
/// time slices. Each context's stream stays in order. Rates change only at arrivals, last waves and
/// completions, so the timeline is piecewise linear and exact on explicit time.
/// </summary>
public sealed class SpatialScheduler : IGpuScheduler
{
    private readonly Queue<SimKernel>[] pending;
    private readonly double[] remaining;
    private readonly long[] restNs; // the queued kernels' times alone behind each head
    private readonly double[] turnNs; // decayed sums of each context's kernels' times from reaching their stream's head to their end (cold starts left out)
    private readonly double[] aloneNs; // and of the same kernels' times alone
    private readonly long[] coldNs; // the cold-start extra its running head pays
    private readonly double[] rate;
    private readonly double[] blockSpeed;
    private readonly double[] givenShare;
    private readonly long[] completed;
    private readonly long[] lastCompletion;
    private readonly long[] busyNs;
    private readonly long[] kernelNs;
    private readonly long[] headSince;
    private readonly long[] startedAt;
    private readonly bool[] gated;
    private readonly bool[] inTail;
    private readonly SimContext[] settings;
    private readonly int[] order;
    private readonly ColdStart? coldStart;

    // Made once: the GPU thread refreshes rates at every arrival and completion.
    private readonly Comparison<int> byTurn;
    private bool stale;
    private long nextGateNs = long.MaxValue;

    /// <summary>
    /// A scheduler for <paramref name="contexts"/> contexts whose co-running kernels slow each
    /// other by <paramref name="interference"/> (0 to 0.9), and whose sparse kernels slow each
    /// other by <paramref name="blockContention"/> (0 to 5) for each more block on a
    /// multiprocessor (<see cref="DeviceProfile.MpsBlockContention"/>), and whose kernels pay
    /// <paramref name="coldStart"/>'s extra when they get their multiprocessors (null: none).
    /// </summary>
    public SpatialScheduler(int contexts, long startNs = 0, double interference = 0, double blockContention = 0, ColdStart? coldStart = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(contexts);
        ArgumentOutOfRangeException.ThrowIfNegative(interference);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(interference, 0.9);
        ArgumentOutOfRangeException.ThrowIfNegative(blockContention);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(blockContention, 5);
        Interference = interference;
        BlockContention = blockContention;
        this.coldStart = coldStart;
        pending = new Queue<SimKernel>[contexts];
        for (var i = 0; i < contexts; i++)
        {
            pending[i] = new Queue<SimKernel>();
        }

        remaining = new double[contexts];
        restNs = new long[contexts];
        turnNs = new double[contexts];
        aloneNs = new double[contexts];
        coldNs = new long[contexts];
        rate = new double[contexts];
        blockSpeed = new double[contexts];
        givenShare = new double[contexts];
        completed = new long[contexts];
        lastCompletion = new long[contexts];
        busyNs = new long[contexts];
        kernelNs = new long[contexts];
        headSince = new long[contexts];
        startedAt = new long[contexts];
        Array.Fill(startedAt, -1);
        gated = new bool[contexts];
        inTail = new bool[contexts];
        settings = Enumerable.Repeat(SimContext.Default, contexts).ToArray();
        order = new int[contexts];
        byTurn = ByTurn;
        NowNs = startNs;
    }

    /// <inheritdoc />
    public long NowNs { get; private set; }

    /// <summary>How much slower a kernel runs while another context's kernel runs beside it (<see cref="DeviceProfile.MpsInterference"/>).</summary>
    public double Interference { get; }

    /// <summary>How much slower a dense kernel runs while another context's dense kernel runs beside it (<see cref="DeviceProfile.MpsDenseInterference"/>); null: <see cref="Interference"/>.</summary>
    public double? DenseInterference { get; init; }

    /// <summary>How much slower a sparse kernel runs for each more block on its multiprocessors (<see cref="DeviceProfile.MpsBlockContention"/>).</summary>
    public double BlockContention { get; }

    /// <summary>A higher-priority kernel takes lower-priority kernels' multiprocessors as their blocks end one by one past their first wave, not at a wave's end (<see cref="DeviceProfile.MpsStaggeredBlocks"/>).</summary>
    public bool StaggeredBlocks { get; init; }

    /// <summary>How much slower a sparse kernel runs for each resident block of other contexts' dense kernels on its multiprocessors (<see cref="DeviceProfile.MpsDenseCrowding"/>, 0 to 5).</summary>
    public double DenseCrowding
    {
        get => denseCrowding;
        init => denseCrowding = value is >= 0 and <= 5 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "dense crowding is 0 to 5");
    }

    private readonly double denseCrowding;

    /// <inheritdoc />
    public long Switches => 0;

    /// <inheritdoc />
    public long SwitchesTo(int context) => 0;

    /// <inheritdoc />
    public long Completed(int context) => completed[context];

    /// <inheritdoc />
    public long Started(int context) => completed[context] + (startedAt[context] >= 0 ? 1 : 0);

    /// <inheritdoc />
    public long LastCompletionNs(int context) => lastCompletion[context];

    /// <inheritdoc />
    public long BusyNs(int context) => busyNs[context];

    /// <inheritdoc />
    /// <remarks>A kernel's time starts when it becomes its stream's head, as the event before it then completes.</remarks>
    public long KernelNs(int context) => kernelNs[context];

    /// <inheritdoc />
    public int Pending(int context) => pending[context].Count;

    /// <summary>The share of its speed alone that <paramref name="context"/>'s running kernel runs at now (0 when it has none or is starved).</summary>
    public double Rate(int context)
    {
        Refresh();
        return rate[context];
    }

    /// <inheritdoc />
    public void Configure(int context, SimContext settings)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(settings.GpuShare);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(settings.GpuShare, 1);
        this.settings[context] = settings;
        stale = true;
    }

    /// <inheritdoc />
    public void Enqueue(int context, in SimKernel kernel)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernel.DurationNs);
        if (pending[context].Count == 0)
        {
            remaining[context] = kernel.DurationNs;
            inTail[context] = TailFromStart(kernel);
            headSince[context] = NowNs;
            stale = true;
        }
        else
        {
            restNs[context] += kernel.DurationNs;
        }

        pending[context].Enqueue(kernel);
    }

    /// <inheritdoc />
    public void MarkOpen(int context, bool isOpen)
    {
        // Open requests are an arbiter's business: the GPU sees kernels only.
    }

    /// <inheritdoc />
    public void Reset(int context)
    {
        pending[context].Clear();
        remaining[context] = 0;
        restNs[context] = 0;
        turnNs[context] = 0;
        aloneNs[context] = 0;
        coldNs[context] = 0;
        inTail[context] = false;
        startedAt[context] = -1;
        completed[context] = 0;
        lastCompletion[context] = 0;
        busyNs[context] = 0;
        kernelNs[context] = 0;
        settings[context] = SimContext.Default;
        coldStart?.Reset(context);
        stale = true;
    }

    /// <inheritdoc />
    public long NextEventNs()
    {
        Refresh();
        var next = long.MaxValue;
        for (var c = 0; c < pending.Length; c++)
        {
            if (rate[c] > 0)
            {
                next = Math.Min(next, FinishNs(c));
                if (LastWaveAhead(c))
                {
                    next = Math.Min(next, TailAtNs(c));
                }
            }
        }

        return Math.Min(next, nextGateNs);
    }

    /// <inheritdoc />
    /// <remarks>
    /// The rest of the queue at its times alone stretched by the context's <see cref="Slowdown"/>:
    /// beside other clients' kernels each of its kernels waits for multiprocessors and runs slower,
    /// which its time alone leaves out. At times alone, the MLP service (200/s) beside two ResNet-50
    /// trainers on the h200 profile had its ends predicted a median 340-360 µs early, so 41-45 % of
    /// its blocked waits were woken more than their lead early, spun it out and slept again; at
    /// the slowdown, a median 3 µs late (docs/sim.md, "Waiting"). Unknown while the context's
    /// head kernel has no multiprocessors (it waits for them or is gated).
    /// </remarks>
    public long DrainNs(int context)
    {
        if (pending[context].Count == 0)
        {
            return long.MaxValue;
        }

        Refresh();
        return rate[context] > 0 ? FinishNs(context) + (long)Math.Ceiling(restNs[context] * Slowdown(context)) : long.MaxValue;
    }

    /// <summary>
    /// How much longer than alone <paramref name="context"/>'s kernels have lately taken from
    /// reaching their stream's head to their end (their waits for multiprocessors and their
    /// slowdown beside others; cold starts left out), at least 1: the sums of both over its
    /// completed kernels, each earlier kernel weighing <see cref="SlowdownDecay"/> less than the
    /// next, so the longest recent kernels count most. 1 before any completed.
    /// </summary>
    public double Slowdown(int context) => aloneNs[context] > 0 ? Math.Max(1, turnNs[context] / aloneNs[context]) : 1;

    /// <summary>What an earlier kernel's times weigh in <see cref="Slowdown"/> against the next's.</summary>
    public const double SlowdownDecay = 15.0 / 16;

    /// <inheritdoc />
    public void AdvanceTo(long targetNs)
    {
        while (true)
        {
            var next = NextEventNs();
            var stop = Math.Max(NowNs, Math.Min(next, targetNs));
            var elapsed = stop - NowNs;
            var finished = false;
            for (var c = 0; c < pending.Length; c++)
            {
                if (rate[c] <= 0)
                {
                    continue;
                }

                // Decided on the integer finish time, so float residue never leaves a kernel a
                // nanosecond short or ends it early.
                var done = FinishNs(c) <= stop;
                var tails = !done && LastWaveAhead(c) && TailAtNs(c) <= stop;
                remaining[c] -= rate[c] * elapsed;
                busyNs[c] += elapsed;
                if (done)
                {
                    var ended = pending[c].Dequeue();
                    if (ended.SmShare > 0)
                    {
                        kernelNs[c] += stop - headSince[c];
                    }

                    turnNs[c] = (turnNs[c] * SlowdownDecay) + Math.Max(0, stop - headSince[c] - coldNs[c]);
                    aloneNs[c] = (aloneNs[c] * SlowdownDecay) + ended.DurationNs;
                    coldNs[c] = 0;

                    completed[c]++;
                    lastCompletion[c] = stop;
                    remaining[c] = pending[c].Count > 0 ? pending[c].Peek().DurationNs : 0;
                    if (pending[c].Count == 0)
                    {
                        coldStart?.Idle(c);
                    }

                    restNs[c] -= (long)remaining[c];
                    inTail[c] = pending[c].Count > 0 && TailFromStart(pending[c].Peek());
                    headSince[c] = stop;
                    startedAt[c] = -1;
                    finished = true;
                }
                else if (tails)
                {
                    // Its last wave began: its blocks leave the rest of the multiprocessors.
                    inTail[c] = true;
                    finished = true;
                }
            }

            NowNs = stop;
            if (finished || NowNs >= nextGateNs)
            {
                // A completion or a last wave frees multiprocessors; a gate's wave boundary hands them over.
                stale = true;
                continue;
            }

            if (next > targetNs || next == long.MaxValue)
            {
                return;
            }
        }
    }

    private long FinishNs(int context) => NowNs + Math.Max(0, (long)Math.Ceiling((remaining[context] / rate[context]) - 1e-6));

    /// <summary>Whether the head kernel of <paramref name="context"/> has a partial last wave still to begin (an event: its blocks then leave the rest of the room).</summary>
    private bool LastWaveAhead(int context) => !inTail[context] && pending[context].Peek().HasTail;

    /// <summary>When the running head kernel of <paramref name="context"/> begins its last wave: a wave's time alone before its end, at its rate now.</summary>
    private long TailAtNs(int context) =>
        NowNs + Math.Max(0, (long)Math.Ceiling(((remaining[context] - pending[context].Peek().WaveNs) / rate[context]) - 1e-6));

    /// <summary>Whether a kernel is in its last, partial wave from its start: a kernel of one wave or less (a slice of a kernel) with room to spare.</summary>
    private static bool TailFromStart(in SimKernel kernel) => kernel.HasTail && kernel.DurationNs <= kernel.WaveNs;

    /// <summary>The share of the multiprocessors <paramref name="context"/>'s head kernel fills when it runs alone now: in its last wave <see cref="SimKernel.TailShare"/>, else <see cref="SimKernel.SmShare"/>.</summary>
    private double ShareNow(int context) => inTail[context] ? pending[context].Peek().TailShare : pending[context].Peek().SmShare;

    /// <summary>The blocks a multiprocessor <paramref name="context"/>'s head kernel has when it runs alone now (<see cref="SimKernel.TailSpread"/> in its last wave).</summary>
    private double SpreadNow(int context) => inTail[context] ? pending[context].Peek().TailSpread : pending[context].Peek().Spread;

    /// <summary>The share of the multiprocessors a running kernel's blocks hold: what it was given, no more than its last wave fills once that began.</summary>
    private double Held(int context) => inTail[context] ? Math.Min(givenShare[context], ShareNow(context)) : givenShare[context];

    /// <summary>
    /// The share a running lower-priority kernel holds as a higher-priority kernel waiting beside
    /// it sees it: with <see cref="StaggeredBlocks"/>, before its last wave its blocks still to
    /// start take whatever room frees at once (a higher-priority kernel's predecessor's too, as
    /// that kernel cannot start before its predecessor ends): all it wants, so the waiting kernel
    /// waits for blocks to end; from its last wave, or without staggering, what it holds.
    /// </summary>
    private double Refilled(int context) => StaggeredBlocks && !inTail[context] ? Math.Max(Held(context), Want(context)) : Held(context);

    /// <summary>Gives each context's running kernel its multiprocessors and bandwidth (see the class summary).</summary>
    private void Refresh()
    {
        if (!stale)
        {
            return;
        }

        stale = false;
        var count = 0;
        for (var c = 0; c < pending.Length; c++)
        {
            if (pending[c].Count > 0)
            {
                order[count++] = c;
            }
        }

        // Gates use the running kernels' rates before they are recomputed.
        nextGateNs = long.MaxValue;
        for (var i = 0; i < count; i++)
        {
            var c = order[i];
            gated[c] = false;
            if (startedAt[c] >= 0)
            {
                continue;
            }

            var gate = long.MaxValue;
            var freeing = 0.0;
            var used = 0.0;
            for (var j = 0; j < count; j++)
            {
                var d = order[j];
                if (startedAt[d] < 0)
                {
                    continue;
                }

                if (settings[d].Priority < settings[c].Priority)
                {
                    used += Refilled(d);
                    gate = Math.Min(gate, WaveEndNs(d));
                    freeing += StaggeredFreeing(d);
                }
                else
                {
                    used += Held(d);
                }
            }

            if (gate != long.MaxValue && freeing > 0)
            {
                // Past their first wave, the lower-priority kernels' blocks end one by one, and
                // the kernel's blocks take each as it frees. A kernel of one wave ends a block's
                // time after its last block got its multiprocessor (once all it lacks have
                // freed); one of many waves runs on what it has while the rest frees, half that
                // time on average: it starts, in the model, after (1 + 1/waves) / 2 of it.
                var kernel = pending[c].Peek();
                var waves = kernel.WaveNs > 0 ? Math.Max(1, (double)kernel.DurationNs / kernel.WaveNs) : 1;
                var need = Want(c) - Math.Max(0, 1 - used);
                gate = need <= 0 ? NowNs : Math.Min(gate, headSince[c] + (long)Math.Ceiling(need / freeing * (1 + (1 / waves)) / 2));
            }

            if (gate != long.MaxValue && gate > NowNs)
            {
                gated[c] = true;
                nextGateNs = Math.Min(nextGateNs, gate);
            }
        }

        for (var c = 0; c < pending.Length; c++)
        {
            rate[c] = 0;
            givenShare[c] = 0;
            blockSpeed[c] = 1;
        }

        // Highest priority first; within one, the kernel at its stream's head longest; then by
        // context, so ties never depend on sort stability.
        var active = order.AsSpan(0, count);
        active.Sort(byTurn);

        var free = 1.0;
        var bandwidth = 0.0;
        foreach (var c in active)
        {
            var kernel = pending[c].Peek();
            var given = Math.Min(Want(c), free);
            free -= given;
            givenShare[c] = kernel.SmShare <= 0 ? 0 : given;
            rate[c] = kernel.SmShare <= 0 ? 1 : given / ShareNow(c);
            bandwidth += rate[c] * kernel.BandwidthShare;
        }

        foreach (var c in active)
        {
            if (rate[c] > 0 && startedAt[c] < 0)
            {
                startedAt[c] = NowNs;
                if (coldStart is not null)
                {
                    coldNs[c] = coldStart.Start(c, pending[c].Peek());
                    remaining[c] += coldNs[c];
                }
            }
        }

        if (bandwidth > 1)
        {
            foreach (var c in active)
            {
                rate[c] /= bandwidth;
                blockSpeed[c] = 1 / bandwidth;
            }
        }

        // Kernels of several contexts on the multiprocessors at once slow each other (copies,
        // on their own engines, neither suffer nor cause it).
        var running = 0;
        foreach (var c in active)
        {
            if (rate[c] > 0 && pending[c].Peek().SmShare > 0)
            {
                running++;
            }
        }

        if (running > 1 && (Interference > 0 || DenseInterference > 0))
        {
            // Dense kernels beside other dense kernels by their own factor where there is one
            // (counted only then: this runs at every arrival and completion).
            var dense = 0;
            if (DenseInterference is not null)
            {
                foreach (var c in active)
                {
                    dense += rate[c] > 0 && IsDense(c) ? 1 : 0;
                }
            }

            foreach (var c in active)
            {
                if (rate[c] > 0 && pending[c].Peek().SmShare > 0)
                {
                    var slower = DenseInterference is { } pair && dense > 1 && IsDense(c) ? pair : Interference;
                    rate[c] *= 1 - slower;
                    blockSpeed[c] *= 1 - slower;
                }
            }
        }

        if (running > 1 && BlockContention > 0)
        {
            Crowd(active);
        }

        if (running > 1 && DenseCrowding > 0)
        {
            CrowdByDense(active);
        }
    }

    /// <summary>
    /// Slows each running sparse kernel by the resident blocks of other contexts' running dense
    /// kernels (<see cref="SimKernel.Spread"/> above 1; at most 2 a multiprocessor counted, as
    /// the element-wise kernels' 1,024-thread blocks fill one): by 1 + <see cref="DenseCrowding"/>
    /// × their blocks a multiprocessor together. The dense kernels themselves are not slowed by it.
    /// </summary>
    private void CrowdByDense(Span<int> active)
    {
        // A context has one kernel running, so the dense blocks beside a sparse kernel are all
        // the running dense kernels' (its own context's is the sparse one).
        var beside = 0.0;
        foreach (var d in active)
        {
            if (givenShare[d] > 0 && SpreadNow(d) > 1)
            {
                beside += Math.Min(SpreadNow(d), 2);
            }
        }

        if (beside <= 0)
        {
            return;
        }

        var slower = 1 + (DenseCrowding * beside);
        foreach (var c in active)
        {
            if (givenShare[c] > 0 && IsSparse(c))
            {
                rate[c] /= slower;
                blockSpeed[c] /= slower;
            }
        }
    }

    /// <summary>
    /// Slows each running sparse kernel (<see cref="SimKernel.Spread"/> at most 1: alone, one
    /// block to a multiprocessor) by the blocks of other sparse kernels that crowd onto its
    /// multiprocessors: spread evenly, the running sparse kernels' resident blocks come to the
    /// sum of their spreads (each in proportion to the share it was given) per multiprocessor,
    /// and past one each block runs <see cref="BlockContention"/> slower per block more.
    /// Kernels of more blocks than multiprocessors share them with their own blocks alone (their
    /// measured times have that in them) and neither crowd nor are crowded: what they do to
    /// others is the interference above. Fitted to MLP batch-1 clients, whose GEMMs are such
    /// sparse kernels (64 blocks on 132 multiprocessors).
    /// </summary>
    private void Crowd(Span<int> active)
    {
        var crowd = 0.0;
        foreach (var c in active)
        {
            if (givenShare[c] > 0 && IsSparse(c))
            {
                crowd += SpreadNow(c) * givenShare[c] / ShareNow(c);
            }
        }

        if (crowd <= 1)
        {
            return;
        }

        var slower = 1 + (BlockContention * (crowd - 1));
        foreach (var c in active)
        {
            if (givenShare[c] > 0 && IsSparse(c))
            {
                rate[c] /= slower;
                blockSpeed[c] /= slower;
            }
        }
    }

    private bool IsDense(int context) => SpreadNow(context) > 1 && pending[context].Peek().SmShare > 0;

    private bool IsSparse(int context) => SpreadNow(context) is > 0 and <= 1 && pending[context].Peek().SmShare > 0;

    /// <summary>
    /// When the current wave of <paramref name="context"/>'s running kernel ends: whole waves from
    /// its start (its end when the wave length is unknown). A kernel on fewer multiprocessors runs
    /// more waves, not longer ones; its blocks take longer only while memory bandwidth holds
    /// every kernel back.
    /// </summary>
    private long WaveEndNs(int context)
    {
        if (pending[context].Peek().WaveNs <= 0 || rate[context] <= 0)
        {
            return rate[context] > 0 ? FinishNs(context) : long.MaxValue;
        }

        var length = WaveLength(context);
        var elapsed = NowNs - startedAt[context];
        return startedAt[context] + (((elapsed + length - 1) / length) * length);
    }

    /// <summary>How long a wave of <paramref name="context"/>'s running kernel lasts now, ns: its wave alone, longer while memory bandwidth holds its blocks back.</summary>
    private long WaveLength(int context) => Math.Max(1, (long)Math.Ceiling(pending[context].Peek().WaveNs / blockSpeed[context]));

    /// <summary>
    /// The share of the multiprocessors a running kernel frees a nanosecond while its blocks end
    /// one by one: past its first wave (whose blocks began together and end together), its
    /// share over a wave's length; 0 in its first wave, or without waves.
    /// </summary>
    private double StaggeredFreeing(int context)
    {
        if (!StaggeredBlocks || pending[context].Peek().WaveNs <= 0 || rate[context] <= 0 || givenShare[context] <= 0)
        {
            return 0;
        }

        var length = WaveLength(context);
        return NowNs - startedAt[context] < length ? 0 : Refilled(context) / (double)length;
    }

    private int ByTurn(int x, int y)
    {
        // A gated kernel takes only what the kernels running before it leave.
        var byGate = gated[x].CompareTo(gated[y]);
        if (byGate != 0)
        {
            return byGate;
        }

        var byPriority = settings[y].Priority.CompareTo(settings[x].Priority);
        if (byPriority != 0)
        {
            return byPriority;
        }

        var bySince = headSince[x].CompareTo(headSince[y]);
        return bySince != 0 ? bySince : x.CompareTo(y);
    }

    private double Want(int context) => Math.Min(ShareNow(context), settings[context].GpuShare);
}
