namespace Contention.Client.Simulation;

/// <summary>A pod's life in a timeline: when it arrived, when (and whether) it got its place, when it left.</summary>
/// <param name="Pod">The pod.</param>
/// <param name="Placement">Where it ran (not placed: it waited its whole life).</param>
/// <param name="StartSeconds">When it got its place (its arrival, or later after waiting); null when it never did.</param>
public sealed record PodStay(TracePod Pod, PodPlacement Placement, long? StartSeconds)
{
    /// <summary>How long it waited for a place, seconds (0 when it never got one: it fits nowhere).</summary>
    public long WaitSeconds => StartSeconds is { } start ? start - Pod.CreationSeconds : 0;

    /// <summary>How long it ran, seconds: its lifetime in the trace.</summary>
    public long RunSeconds => StartSeconds is null ? 0 : Pod.DeletionSeconds - Pod.CreationSeconds;

    /// <summary>When it left, seconds.</summary>
    public long EndSeconds => (StartSeconds ?? Pod.CreationSeconds) + RunSeconds;
}

/// <summary>A stretch of time in which a GPU's set of pods did not change.</summary>
/// <param name="Node">The node's index.</param>
/// <param name="Gpu">The GPU's index on it.</param>
/// <param name="StartSeconds">Start, trace seconds.</param>
/// <param name="EndSeconds">End, trace seconds.</param>
/// <param name="Pods">The pods on the GPU (in the order co-locations are keyed: class of service, share, name).</param>
public sealed record GpuSpan(int Node, int Gpu, long StartSeconds, long EndSeconds, IReadOnlyList<TracePod> Pods)
{
    /// <summary>Its length, seconds.</summary>
    public long Seconds => EndSeconds - StartSeconds;
}

/// <summary>
/// A trace played along its timeline: each pod arrives at its creation time and is placed by the
/// policy if it fits, else waits in a queue (first come, first served; a later pod that fits
/// may go first); it runs as long as it lived in the trace (deletion less creation) from its
/// start, then leaves, giving its place back, and the waiting pods are tried again in order. A
/// pod whose deletion is not after its creation never lives; one that fits no node even when the
/// cluster is empty is never placed. Every GPU's life is cut into <see cref="Spans"/> where its
/// set of pods is constant.
/// </summary>
public sealed class TraceTimeline
{
    private TraceTimeline(PlacementPolicy policy, IReadOnlyList<PodStay> stays, IReadOnlyList<GpuSpan> spans, int peakRunning, int peakWaiting)
    {
        Policy = policy;
        Stays = stays;
        Spans = spans;
        PeakRunning = peakRunning;
        PeakWaiting = peakWaiting;
    }

    /// <summary>The placement policy.</summary>
    public PlacementPolicy Policy { get; }

    /// <summary>Every pod that lives (deletion after creation), in order of arrival.</summary>
    public IReadOnlyList<PodStay> Stays { get; }

    /// <summary>Every GPU's spans with pods on it, by node, GPU and time.</summary>
    public IReadOnlyList<GpuSpan> Spans { get; }

    /// <summary>The most pods running at once.</summary>
    public int PeakRunning { get; }

    /// <summary>The most pods waiting at once.</summary>
    public int PeakWaiting { get; }

    /// <summary>The arrivals' time scale: 1 as in the trace; F, arrivals F times closer together (each pod's lifetime kept).</summary>
    public double LoadFactor { get; private init; } = 1;

    /// <summary>
    /// Plays <paramref name="trace"/> by <paramref name="policy"/>; with a <paramref name="loadFactor"/>
    /// F above 1, each pod arrives at its creation time divided by F and lives as long as in the
    /// trace: F times the trace's offered load.
    /// </summary>
    public static TraceTimeline Run(ClusterTrace trace, PlacementPolicy policy, double loadFactor = 1, IPlacementHarm? harm = null)
    {
        ArgumentNullException.ThrowIfNull(trace);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(loadFactor);
        var capacity = new ClusterCapacity(trace.Nodes, harm);
        var scaled = loadFactor == 1 ? trace.Pods : [.. trace.Pods.Select(p => Scaled(p, loadFactor))];
        var pods = scaled.Select((p, i) => (Pod: p, Index: i)).Where(p => p.Pod.DeletionSeconds > p.Pod.CreationSeconds).ToList();
        // Arrivals, then departures as pods start; at one time departures first (a place freed at t
        // is free for a pod arriving at t), then the file's order.
        var events = new PriorityQueue<(long Time, bool Arrival, int Index), (long, bool, int)>();
        foreach (var (pod, index) in pods)
        {
            events.Enqueue((pod.CreationSeconds, true, index), (pod.CreationSeconds, true, index));
        }

        var placed = new Dictionary<int, (PodPlacement Placement, long Start)>();
        var waiting = new List<int>();
        var stays = new Dictionary<int, PodStay>();
        var onGpu = new Dictionary<(int Node, int Gpu), (SortedSet<TracePod> Pods, long Since)>();
        var spans = new List<GpuSpan>();
        int peakRunning = 0, peakWaiting = 0;

        void Change(PodPlacement placement, long time, bool adding)
        {
            foreach (var g in placement.Gpus)
            {
                var key = (placement.Node, g);
                if (!onGpu.TryGetValue(key, out var state))
                {
                    state = (new SortedSet<TracePod>(PodOrder.Instance), time);
                }

                if (state.Pods.Count > 0 && time > state.Since)
                {
                    spans.Add(new GpuSpan(placement.Node, g, state.Since, time, [.. state.Pods]));
                }

                if (adding)
                {
                    state.Pods.Add(placement.Pod);
                }
                else
                {
                    state.Pods.Remove(placement.Pod);
                }

                onGpu[key] = (state.Pods, time);
            }
        }

        bool TryStart(int index, long time)
        {
            var placement = capacity.Place(scaled[index], policy);
            if (!placement.Placed)
            {
                return false;
            }

            placed[index] = (placement, time);
            Change(placement, time, adding: true);
            var leaves = time + (scaled[index].DeletionSeconds - scaled[index].CreationSeconds);
            events.Enqueue((leaves, false, index), (leaves, false, index));
            return true;
        }

        while (events.TryDequeue(out var next, out _))
        {
            var (time, arrival, index) = next;
            if (arrival && !TryStart(index, time))
            {
                if (new ClusterCapacity(trace.Nodes, harm).Place(scaled[index], policy).Placed)
                {
                    waiting.Add(index);
                }
                else
                {
                    // It fits no node even empty (its GPU model, or more GPUs than a node has): never placed.
                    stays[index] = new PodStay(scaled[index], new PodPlacement(scaled[index], -1, []), null);
                }
            }
            else if (!arrival)
            {
                placed.Remove(index, out var running);
                stays[index] = new PodStay(scaled[index], running.Placement, running.Start);
                capacity.Release(running.Placement);
                Change(running.Placement, time, adding: false);
                waiting.RemoveAll(w => TryStart(w, time));
            }

            peakRunning = Math.Max(peakRunning, placed.Count);
            peakWaiting = Math.Max(peakWaiting, waiting.Count);
        }

        return new TraceTimeline(
            policy,
            [.. pods.Select(p => stays[p.Index]).OrderBy(s => s.Pod.CreationSeconds)],
            [.. spans.OrderBy(s => s.Node).ThenBy(s => s.Gpu).ThenBy(s => s.StartSeconds)],
            peakRunning,
            peakWaiting)
        { LoadFactor = loadFactor };
    }

    private static TracePod Scaled(TracePod pod, double loadFactor)
    {
        var arrival = (long)Math.Round(pod.CreationSeconds / loadFactor);
        return pod with { CreationSeconds = arrival, DeletionSeconds = arrival + (pod.DeletionSeconds - pod.CreationSeconds), ScheduledSeconds = null };
    }

    /// <summary>The order of a GPU's pods in a co-location: class of service, share, name.</summary>
    internal sealed class PodOrder : IComparer<TracePod>
    {
        public static PodOrder Instance { get; } = new();

        public int Compare(TracePod? x, TracePod? y)
        {
            var qos = string.CompareOrdinal(x!.Qos, y!.Qos);
            if (qos != 0)
            {
                return qos;
            }

            var share = x.GpuMilli.CompareTo(y.GpuMilli);
            return share != 0 ? share : string.CompareOrdinal(x.Name, y.Name);
        }
    }
}
