namespace Contention.Workloads.Sim;

// The rates of SpatialScheduler: which share of the multiprocessors and of the memory bandwidth
// each running kernel has now, and when the next kernel reaches its last wave or a gate opens (the
// class summary, in SpatialScheduler.cs, says the rules).
public sealed partial class SpatialScheduler
{
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
