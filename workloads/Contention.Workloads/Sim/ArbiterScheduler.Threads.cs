namespace Contention.Workloads.Sim;

/// <summary>
/// The modelled arbiter's held tenants' threads (<see cref="ArbiterWaits"/>): how each looks,
/// sleeps and wakes, and the record of their launches and sleeps as the real tenants' host-timings
/// diagnostic writes them.
/// </summary>
public sealed partial class ArbiterScheduler
{
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
