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
public sealed partial class SpatialScheduler : IGpuScheduler
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
}
