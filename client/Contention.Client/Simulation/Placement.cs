namespace Contention.Client.Simulation;

/// <summary>How a pod's GPUs are chosen among the places it fits.</summary>
public enum PlacementPolicy
{
    /// <summary>The first node (in the cluster's order) and its first GPUs where the pod fits.</summary>
    FirstFit,

    /// <summary>Packing: where the least GPU capacity is left free on the node afterwards (ties: the least on the chosen GPU, then the first).</summary>
    BestFit,

    /// <summary>Spreading: where the most GPU capacity is left free on the node afterwards (ties: the most on the chosen GPU, then the first).</summary>
    WorstFit,

    /// <summary>Where the predicted harm (<see cref="IPlacementHarm"/>) under time-slicing is smallest (ties: packing, as best-fit).</summary>
    ContentionAwareTimeslice,

    /// <summary>Where the predicted harm under MPS is smallest (ties: packing, as best-fit).</summary>
    ContentionAwareMps,
}

/// <summary>Predicts what placing a pod on a GPU beside the pods already there costs them and it.</summary>
public interface IPlacementHarm
{
    /// <summary>
    /// The harm of <paramref name="incoming"/> joining <paramref name="present"/> on a GPU of
    /// <paramref name="model"/>: 0 on an empty GPU, more the worse the co-location gets.
    /// </summary>
    double Harm(string model, IReadOnlyList<TracePod> present, TracePod incoming);
}

/// <summary>Where a pod went: its node and, for each GPU it takes, the GPU's index on the node; or nowhere.</summary>
/// <param name="Pod">The pod.</param>
/// <param name="Node">Index of its node in the cluster; -1 when it found no place.</param>
/// <param name="Gpus">Indices of its GPUs on the node (empty for a CPU-only pod or one not placed).</param>
public sealed record PodPlacement(TracePod Pod, int Node, IReadOnlyList<int> Gpus)
{
    /// <summary>Whether the pod found a place.</summary>
    public bool Placed => Node >= 0;
}

/// <summary>
/// A cluster's free capacity as pods are placed: per node CPU and memory, per GPU thousandths of
/// it. A pod fits a node when its CPU and memory fit and its GPUs do: one GPU with the share it asks
/// free (a fraction, or a whole free GPU for 1000), or as many wholly free GPUs as it asks; of
/// its GPU model where it names models. Placing takes the capacity; <see cref="Release"/> gives it
/// back (a timeline; the snapshot of the trace's own simulator gives nothing back).
/// </summary>
public sealed class ClusterCapacity
{
    private readonly IReadOnlyList<TraceNode> nodes;
    private readonly int[] freeCpu;
    private readonly long[] freeMemory;
    private readonly int[][] freeGpu;
    private readonly List<TracePod>[][] podsOn;
    private readonly IPlacementHarm? harm;

    /// <summary>An empty cluster of <paramref name="nodes"/>; <paramref name="harm"/> for the contention-aware policies.</summary>
    public ClusterCapacity(IReadOnlyList<TraceNode> nodes, IPlacementHarm? harm = null)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        this.nodes = nodes;
        this.harm = harm;
        freeCpu = [.. nodes.Select(n => n.CpuMilli)];
        freeMemory = [.. nodes.Select(n => n.MemoryMiB)];
        freeGpu = [.. nodes.Select(n => Enumerable.Repeat(1000, n.Gpus).ToArray())];
        podsOn = [.. nodes.Select(n => Enumerable.Range(0, n.Gpus).Select(_ => new List<TracePod>()).ToArray())];
    }

    /// <summary>Whether <paramref name="policy"/> places by predicted harm.</summary>
    public static bool IsContentionAware(PlacementPolicy policy) => policy is PlacementPolicy.ContentionAwareTimeslice or PlacementPolicy.ContentionAwareMps;

    /// <summary>Free thousandths of GPU <paramref name="gpu"/> of node <paramref name="node"/>.</summary>
    public int FreeGpuMilli(int node, int gpu) => freeGpu[node][gpu];

    /// <summary>Places <paramref name="pod"/> by <paramref name="policy"/>, taking its capacity; where it went (or that it found no place).</summary>
    public PodPlacement Place(TracePod pod, PlacementPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(pod);
        if (IsContentionAware(policy) && harm is null)
        {
            throw new InvalidOperationException($"{policy} places by predicted harm: give the cluster an IPlacementHarm");
        }

        if (IsContentionAware(policy) && pod.Gpus == 1)
        {
            return Take(pod, LeastHarm(pod));
        }

        (int Node, int[] Gpus, long NodeLeft, int GpuLeft)? best = null;
        for (var n = 0; n < nodes.Count; n++)
        {
            if (Fit(pod, n, policy) is not { } gpus)
            {
                continue;
            }

            var nodeLeft = freeGpu[n].Sum() - ((long)pod.GpuMilli * pod.Gpus);
            var gpuLeft = gpus.Length == 0 ? 0 : freeGpu[n][gpus[0]] - pod.GpuMilli;
            if (policy == PlacementPolicy.FirstFit)
            {
                best = (n, gpus, nodeLeft, gpuLeft);
                break;
            }

            var better = best is not { } b || (policy != PlacementPolicy.WorstFit
                ? nodeLeft < b.NodeLeft || (nodeLeft == b.NodeLeft && gpuLeft < b.GpuLeft)
                : nodeLeft > b.NodeLeft || (nodeLeft == b.NodeLeft && gpuLeft > b.GpuLeft));
            if (better)
            {
                best = (n, gpus, nodeLeft, gpuLeft);
            }
        }

        return Take(pod, best is { } chosen ? (chosen.Node, chosen.Gpus) : null);
    }

    private PodPlacement Take(TracePod pod, (int Node, int[] Gpus)? chosen)
    {
        if (chosen is not { } place)
        {
            return new PodPlacement(pod, -1, []);
        }

        freeCpu[place.Node] -= pod.CpuMilli;
        freeMemory[place.Node] -= pod.MemoryMiB;
        foreach (var g in place.Gpus)
        {
            freeGpu[place.Node][g] -= pod.GpuMilli;
            podsOn[place.Node][g].Add(pod);
        }

        return new PodPlacement(pod, place.Node, place.Gpus);
    }

    /// <summary>
    /// A one-GPU pod's place by least predicted harm: every GPU it fits is a candidate (an empty
    /// GPU costs nothing); ties go to packing, as best-fit (least GPU capacity left on the node,
    /// then on the GPU, then the first). A GPU's harm is asked once per co-location met.
    /// </summary>
    private (int Node, int[] Gpus)? LeastHarm(TracePod pod)
    {
        (int Node, int Gpu, double Harm, long NodeLeft, int GpuLeft)? best = null;
        var asked = new Dictionary<(string Model, string Present), double>();
        for (var n = 0; n < nodes.Count; n++)
        {
            if (pod.CpuMilli > freeCpu[n] || pod.MemoryMiB > freeMemory[n] || (pod.GpuModels.Count > 0 && !pod.GpuModels.Contains(nodes[n].Model, StringComparer.Ordinal)))
            {
                continue;
            }

            var nodeLeft = freeGpu[n].Sum() - (long)pod.GpuMilli;
            for (var g = 0; g < freeGpu[n].Length; g++)
            {
                if (freeGpu[n][g] < pod.GpuMilli)
                {
                    continue;
                }

                var present = podsOn[n][g];
                double cost = 0;
                if (present.Count > 0)
                {
                    var key = (nodes[n].Model, string.Join(';', present.Select(p => $"{p.Qos}:{p.GpuMilli}").Order(StringComparer.Ordinal)));
                    if (!asked.TryGetValue(key, out cost))
                    {
                        asked[key] = cost = harm!.Harm(nodes[n].Model, present, pod);
                    }
                }

                var gpuLeft = freeGpu[n][g] - pod.GpuMilli;
                var better = best is not { } b || cost < b.Harm - 1e-9
                    || (Math.Abs(cost - b.Harm) <= 1e-9 && (nodeLeft < b.NodeLeft || (nodeLeft == b.NodeLeft && gpuLeft < b.GpuLeft)));
                if (better)
                {
                    best = (n, g, cost, nodeLeft, gpuLeft);
                }
            }
        }

        return best is { } chosen ? (chosen.Node, [chosen.Gpu]) : null;
    }

    /// <summary>Gives back what <paramref name="placement"/> took (a pod leaving).</summary>
    public void Release(PodPlacement placement)
    {
        ArgumentNullException.ThrowIfNull(placement);
        if (!placement.Placed)
        {
            return;
        }

        freeCpu[placement.Node] += placement.Pod.CpuMilli;
        freeMemory[placement.Node] += placement.Pod.MemoryMiB;
        foreach (var g in placement.Gpus)
        {
            freeGpu[placement.Node][g] += placement.Pod.GpuMilli;
            podsOn[placement.Node][g].Remove(placement.Pod);
        }
    }

    /// <summary>The GPUs of node <paramref name="node"/> the pod would take there by <paramref name="policy"/>; null when it does not fit.</summary>
    private int[]? Fit(TracePod pod, int node, PlacementPolicy policy)
    {
        if (pod.CpuMilli > freeCpu[node] || pod.MemoryMiB > freeMemory[node])
        {
            return null;
        }

        if (pod.Gpus == 0)
        {
            return [];
        }

        if (pod.GpuModels.Count > 0 && !pod.GpuModels.Contains(nodes[node].Model, StringComparer.Ordinal))
        {
            return null;
        }

        var gpus = freeGpu[node];
        if (pod.Gpus == 1)
        {
            // Within the node as across nodes: the first GPU that fits, the one left fullest
            // (packing) or the one left emptiest (spreading).
            var pick = -1;
            for (var g = 0; g < gpus.Length; g++)
            {
                if (gpus[g] < pod.GpuMilli)
                {
                    continue;
                }

                if (pick < 0 || (policy != PlacementPolicy.FirstFit && policy != PlacementPolicy.WorstFit && gpus[g] < gpus[pick]) || (policy == PlacementPolicy.WorstFit && gpus[g] > gpus[pick]))
                {
                    pick = g;
                }

                if (policy == PlacementPolicy.FirstFit)
                {
                    break;
                }
            }

            return pick < 0 ? null : [pick];
        }

        var whole = Enumerable.Range(0, gpus.Length).Where(g => gpus[g] == 1000).Take(pod.Gpus).ToArray();
        return whole.Length == pod.Gpus ? whole : null;
    }

    /// <summary>GPUs with nothing placed on them.</summary>
    public int IdleGpus => freeGpu.Sum(n => n.Count(g => g == 1000));

    /// <summary>GPUs partly taken: something placed, some capacity left.</summary>
    public int PartlyUsedGpus => freeGpu.Sum(n => n.Count(g => g is > 0 and < 1000));

    /// <summary>Free thousandths of GPU left on partly taken GPUs (stranded unless a pod of that size or less comes).</summary>
    public long StrandedGpuMilli => freeGpu.Sum(n => n.Where(g => g is > 0 and < 1000).Sum(g => (long)g));

    /// <summary>GPU capacity taken, thousandths of a GPU.</summary>
    public long AllocatedGpuMilli => freeGpu.Sum(n => n.Sum(g => 1000L - g));

    /// <summary>GPUs in the cluster.</summary>
    public int TotalGpus => freeGpu.Sum(n => n.Length);
}

/// <summary>
/// The trace's pods placed as a snapshot, as the trace's own simulator evaluates placement: in
/// order of creation (then of the file), each where the policy puts it, none ever leaving, until
/// every pod has been tried; a pod that finds no place is left out and the next is tried.
/// </summary>
/// <param name="Policy">The placement policy.</param>
/// <param name="Placements">Every pod, in the order tried, with where it went.</param>
/// <param name="Capacity">The cluster as the snapshot left it.</param>
public sealed record PlacementSnapshot(PlacementPolicy Policy, IReadOnlyList<PodPlacement> Placements, ClusterCapacity Capacity)
{
    /// <summary>Places <paramref name="trace"/>'s pods by <paramref name="policy"/> (<paramref name="harm"/>: for a contention-aware one).</summary>
    public static PlacementSnapshot Run(ClusterTrace trace, PlacementPolicy policy, IPlacementHarm? harm = null)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var capacity = new ClusterCapacity(trace.Nodes, harm);
        var placements = trace.Pods.Select((p, i) => (Pod: p, Index: i)).OrderBy(p => p.Pod.CreationSeconds).ThenBy(p => p.Index).Select(p => capacity.Place(p.Pod, policy)).ToList();
        return new PlacementSnapshot(policy, placements, capacity);
    }

    /// <summary>The first GPU pod that found no place (in the order tried), or null when all did.</summary>
    public PodPlacement? FirstUnplacedGpuPod => Placements.FirstOrDefault(p => !p.Placed && p.Pod.Gpus > 0);
}
