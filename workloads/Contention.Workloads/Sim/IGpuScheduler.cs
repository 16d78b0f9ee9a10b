namespace Contention.Workloads.Sim;

/// <summary>
/// A sharing policy of the modelled GPU, on explicit time: contexts (one per tenant) enqueue
/// kernels in stream order; the model runs them forward to a given time. Deterministic, so the
/// same code serves the real-time modelled GPU and a virtual-time simulation, and tests can hold
/// it to hand-computed timelines.
/// </summary>
public interface IGpuScheduler
{
    /// <summary>The model's current time, ns.</summary>
    long NowNs { get; }

    /// <summary>Context switches made (0 where the policy has none).</summary>
    long Switches { get; }

    /// <summary>Context switches that gave the GPU to <paramref name="context"/> from another context (0 where the policy has none).</summary>
    long SwitchesTo(int context);

    /// <summary>Kernels of <paramref name="context"/> completed so far.</summary>
    long Completed(int context);

    /// <summary>
    /// Kernels of <paramref name="context"/> that have started running so far: those completed and
    /// a head that began (time-sliced: in a slice of its context; spatially shared: on
    /// multiprocessors; behind an arbiter, work it holds counts as started, being out of the
    /// driver's queue). The rest of its launched kernels wait in the driver's queue, whose
    /// depth bounds the launches (<see cref="DeviceProfile.LaunchQueueDepth"/>).
    /// </summary>
    long Started(int context);

    /// <summary>When the latest kernel of <paramref name="context"/> completed, model time (0 before the first).</summary>
    long LastCompletionNs(int context);

    /// <summary>GPU time of <paramref name="context"/>: how long one of its kernels was running, ns.</summary>
    long BusyNs(int context);

    /// <summary>
    /// Kernel time of <paramref name="context"/>, ns: over its completed compute kernels (copies
    /// excluded), the time from each kernel's start to its end, as CUDA events recorded around
    /// each kernel measure it on a real GPU: time the context is switched out in the middle of a
    /// kernel counts, and so does time a kernel at its stream's head waits for multiprocessors.
    /// </summary>
    long KernelNs(int context);

    /// <summary>Kernels queued or running for <paramref name="context"/>.</summary>
    int Pending(int context);

    /// <summary>Sets what <paramref name="context"/> asks of the GPU (priority, share) from now on.</summary>
    void Configure(int context, SimContext settings);

    /// <summary>
    /// Marks whether <paramref name="context"/>'s tenant has a request open (from its start to its
    /// end) at the model's current time: an arbiter holds best-effort work meanwhile
    /// (<see cref="ArbiterScheduler"/>); the sharing policies themselves do not look.
    /// </summary>
    void MarkOpen(int context, bool isOpen);

    /// <summary>Adds a kernel to a context's stream at the model's current time.</summary>
    void Enqueue(int context, in SimKernel kernel);

    /// <summary>Forgets a context's queued work, counters and settings (its tenant left).</summary>
    void Reset(int context);

    /// <summary>The time of the next completion or scheduling decision; <see cref="long.MaxValue"/> when idle.</summary>
    long NextEventNs();

    /// <summary>
    /// When <paramref name="context"/>'s queued work will be done if nothing else arrives, as far as
    /// the policy can say it without running ahead: its running kernel's end at its current speed
    /// plus the rest of its queue — time-sliced, at their times alone (so never later than the
    /// model will end it unless work arrives); spatially shared, at the slowdown its kernels have
    /// lately had beside the others' (<see cref="SpatialScheduler.Slowdown"/>: later than the
    /// model's end where the others' work ends first); <see cref="long.MaxValue"/> when it has no
    /// work or its end depends on others' (a time-sliced context that is not running or will be
    /// preempted first, a kernel still waiting for multiprocessors, work an arbiter holds). The
    /// real-time engine wakes a blocked tenant this far ahead of it, by the tenant's own wake-up
    /// latency, and at its completion at the latest.
    /// </summary>
    long DrainNs(int context);

    /// <summary>Runs the model forward to <paramref name="targetNs"/> (no-op for times already passed).</summary>
    void AdvanceTo(long targetNs);
}

/// <summary>The sharing policies of the modelled GPU, made from a device profile.</summary>
public static class GpuSchedulers
{
    /// <summary>
    /// When <paramref name="gpu"/> last became idle — the latest completion of its first
    /// <paramref name="contexts"/> contexts (at least 1) with nothing queued or running — or 0 while
    /// busy: the real-time engine publishes it, virtual time reads it, for the profile's idle costs.
    /// </summary>
    public static long IdleSince(IGpuScheduler gpu, int contexts)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        var since = 0L;
        for (var context = 0; context < contexts; context++)
        {
            if (gpu.Pending(context) > 0)
            {
                return 0;
            }

            since = Math.Max(since, Math.Max(1, gpu.LastCompletionNs(context)));
        }

        return since;
    }

    /// <summary>
    /// The policy of <paramref name="sharing"/> for <paramref name="contexts"/> contexts with
    /// <paramref name="profile"/>'s costs, starting at <paramref name="startNs"/>: time-slicing with
    /// its slice and switch costs (with <paramref name="weightedSlices"/>, each context's slice in
    /// proportion to its share: <see cref="TimeSliceScheduler"/>), or MPS-like spatial sharing with its interference;
    /// with <paramref name="arbiter"/>, under an arbiter's launch gating (<see cref="ArbiterScheduler"/>),
    /// its held contexts going as their threads look where <paramref name="arbiterWaits"/> says how they wait;
    /// with the profile's cold starts (<see cref="DeviceProfile.ColdStarts"/>) where it has them.
    /// </summary>
    public static IGpuScheduler Create(DeviceProfile profile, GpuSharing sharing, int contexts, long startNs, bool weightedSlices = false, ArbiterPolicy? arbiter = null, ArbiterWaits? arbiterWaits = null)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var coldStart = profile.ColdStarts.Count > 0 ? new ColdStart(profile.ColdStarts, contexts, profile.AchievableMemoryBytesPerNs()) : null;
        IGpuScheduler policy = sharing == GpuSharing.Mps
            ? new SpatialScheduler(contexts, startNs, profile.MpsInterference, profile.MpsBlockContention, coldStart) { StaggeredBlocks = profile.MpsStaggeredBlocks, DenseCrowding = profile.MpsDenseCrowding, DenseInterference = profile.MpsDenseInterference }
            : new TimeSliceScheduler(contexts, profile.TimesliceNs, profile.ContextSwitchNs, startNs, profile.IdleSwitchNs, weightedSlices, coldStart);
        return arbiter is null ? policy : new ArbiterScheduler(policy, contexts, arbiter, arbiterWaits);
    }
}
