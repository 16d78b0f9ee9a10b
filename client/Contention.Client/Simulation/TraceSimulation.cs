using System.Globalization;
using Contention.Client.Commands;
using Contention.Client.Mixes;
using Contention.Grains;
using Contention.Grains.Node;
using Contention.Grains.Simulation;
using Contention.Workloads.Sim;
using Spectre.Console;
using GpuSharing = Contention.Grains.GpuSharing;

namespace Contention.Client.Simulation;

/// <summary>What one placed pod did on one of its GPUs in virtual time.</summary>
/// <param name="Pod">The pod.</param>
/// <param name="Node">Its node's name.</param>
/// <param name="Gpu">The GPU's index on the node.</param>
/// <param name="Model">The GPU's model (the trace's name).</param>
/// <param name="Tenant">What the pod runs (from the mapping, by its class of service).</param>
/// <param name="Sharers">Tenants on the GPU, the pod included.</param>
/// <param name="Throughput">Operations per second in the window.</param>
/// <param name="P50Ms">Median latency, ms.</param>
/// <param name="P99Ms">99th percentile latency, ms.</param>
/// <param name="AloneThroughput">The same tenant alone on a GPU of the model, with the same share.</param>
/// <param name="AloneP99Ms">Its p99 alone, ms.</param>
/// <param name="Reused">Whether the GPU's co-location had been simulated already (same model, sharing and tenants: on another GPU, or for another policy) and its result was reused.</param>
/// <param name="KernelShare">Its kernels' time per second of the window (the GPU time it used).</param>
/// <param name="Os">Its host side per second of the window, as the OS cost model predicts it (metric to rate); empty without a model for its sync mode.</param>
public sealed record TraceTenantResult(TracePod Pod, string Node, int Gpu, string Model, TenantSpec Tenant, int Sharers, double Throughput, double P50Ms, double P99Ms, double AloneThroughput, double AloneP99Ms, bool Reused, double KernelShare, IReadOnlyDictionary<string, double> Os)
{
    /// <summary>CPU it burns, cores (user and system seconds per second), as modelled; NaN without a model.</summary>
    public double CpuCores => Os.Count == 0 ? double.NaN : Os.GetValueOrDefault("user_cpu_s") + Os.GetValueOrDefault("system_cpu_s");

    /// <summary>An inference tenant completed under 90 % of its offered requests: its latencies are no tail.</summary>
    public bool Overloaded => Tenant.Kind == TenantKind.Inference && Tenant.RatePerSecond > 0 && Throughput < 0.9 * Tenant.RatePerSecond;

    /// <summary>An inference tenant met its SLO: not overloaded, and its p99 within <paramref name="factor"/> of its p99 alone.</summary>
    public bool SloMet(double factor) => Tenant.Kind == TenantKind.Inference && !Overloaded && P99Ms <= factor * AloneP99Ms;

    /// <summary>How much slower than alone: throughput alone over throughput here.</summary>
    public double Slowdown => Throughput > 0 ? AloneThroughput / Throughput : double.PositiveInfinity;
}

/// <summary>What one pod did on one of its GPUs over its life in a timeline: each span of the GPU's life (a constant set of pods) weighted by its length.</summary>
/// <param name="Stay">The pod's life: arrival, start, departure, place.</param>
/// <param name="Node">Its node's name.</param>
/// <param name="Gpu">The GPU's index on the node.</param>
/// <param name="Model">The GPU's model.</param>
/// <param name="Tenant">What the pod runs.</param>
/// <param name="Spans">Spans of its life on the GPU (each a co-location).</param>
/// <param name="ReusedSpans">Of those, spans whose co-location had been met before (earlier in the timeline, or under another policy): their figures are that simulation's, reused.</param>
/// <param name="MaxSharers">The most tenants on the GPU at once, the pod included.</param>
/// <param name="SharedSeconds">How long it shared the GPU, seconds.</param>
/// <param name="Throughput">Operations per second over its life (each span's rate weighted by its length).</param>
/// <param name="P50Ms">Median latency over its life, ms: of the mixture of its spans' latency distributions, each weighted by the operations it completes in the span.</param>
/// <param name="P99Ms">99th percentile likewise, ms.</param>
/// <param name="OverloadedSeconds">How long it could not keep up (an inference pod completing under 90 % of its requests in a span).</param>
/// <param name="AloneThroughput">The same tenant alone on a GPU of the model with its share.</param>
/// <param name="AloneP99Ms">Its p99 alone, ms.</param>
public sealed record TimelineTenantResult(PodStay Stay, string Node, int Gpu, string Model, TenantSpec Tenant, int Spans, int ReusedSpans, int MaxSharers, long SharedSeconds, double Throughput, double P50Ms, double P99Ms, long OverloadedSeconds, double AloneThroughput, double AloneP99Ms)
{
    /// <summary>An inference pod met its SLO over its life: never overloaded, p99 within <paramref name="factor"/> of alone.</summary>
    public bool SloMet(double factor) => Tenant.Kind == TenantKind.Inference && OverloadedSeconds == 0 && P99Ms <= factor * AloneP99Ms;

    /// <summary>How much slower than alone: throughput alone over throughput here.</summary>
    public double Slowdown => Throughput > 0 ? AloneThroughput / Throughput : double.PositiveInfinity;
}

/// <summary>
/// Placement snapshots of a trace in virtual time: every GPU with pods on it is a modelled GPU
/// running their tenants (from the mapping, by class of service) on its model's profile, each
/// pod's GPU share its MPS share. The GPUs of every snapshot and sharing mode are planned at once
/// (<see cref="Plan"/>): a co-location (same profile, sharing mode and tenants with their shares)
/// is one unit of the simulation however often it occurs, and each tenant is also simulated alone
/// with its share for its slowdown and SLO; the units run on the cluster
/// (<see cref="SimulateAsync"/>) and <see cref="Results"/> deals their outcomes back.
/// </summary>
/// <remarks>
/// Timelines (<see cref="PlanTimeline"/>) are planned the same way, each span of a GPU's life a
/// co-location; with <paramref name="convergence"/>, a unit stops once its statistics converge and
/// its result stands for every span of that co-location, however long (a 149-day trace in minutes).
/// </remarks>
internal sealed class TraceSimulation(ClusterTrace trace, Mix mapping, IReadOnlyDictionary<string, string> gpuProfiles, double warmupSeconds, double durationSeconds, SimConvergence? convergence = null)
{
    private readonly Dictionary<(PlacementPolicy, GpuSharing), TraceTimeline> timelines = [];
    private readonly Dictionary<string, (PlacementPolicy, GpuSharing)> firstPlanned = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TenantSpec> byClass = mapping.Tenants.ToDictionary(t => t.Name, StringComparer.Ordinal);
    private readonly Dictionary<(PlacementPolicy, GpuSharing), Case> cases = [];
    private readonly Dictionary<string, SimUnit> units = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SimUnitOutcome> outcomes = new(StringComparer.Ordinal);

    /// <summary>The profile name a GPU model gets: from <c>--gpu-profile</c>, else the datasheet-scaled one of that name.</summary>
    public string ProfileOf(string model) => ProfileOf(gpuProfiles, model);

    /// <summary>The profile name a GPU model gets from <paramref name="profiles"/>, else the one of its name in lower case.</summary>
    internal static string ProfileOf(IReadOnlyDictionary<string, string> profiles, string model) => profiles.TryGetValue(model, out var name) ? name : model.ToLowerInvariant();

    /// <summary>The warm-up, ns of virtual time.</summary>
    public long WarmupNs => (long)Math.Round(warmupSeconds * 1e9);

    /// <summary>The measurement window, ns of virtual time.</summary>
    public long DurationNs => (long)Math.Round(durationSeconds * 1e9);

    /// <summary>
    /// Plans the GPUs of <paramref name="snapshot"/> shared by <paramref name="sharing"/>; returns the
    /// number of units of the simulation so far (each distinct co-location and tenant alone once,
    /// in the order first met: the same plan gives the same units).
    /// </summary>
    public int Plan(PlacementSnapshot snapshot, GpuSharing sharing)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var gpus = snapshot.Placements.Where(p => p.Placed && p.Gpus.Count > 0)
            .SelectMany(p => p.Gpus.Select(g => (p.Node, Gpu: g, p.Pod)))
            .GroupBy(x => (x.Node, x.Gpu))
            .Select(g => new PlacedGpu(g.Key.Node, g.Key.Gpu, [.. g.Select(x => x.Pod).Order(TraceTimeline.PodOrder.Instance)]))
            .OrderBy(g => g.Node).ThenBy(g => g.Gpu)
            .ToList();
        var fresh = new HashSet<string>(StringComparer.Ordinal);
        foreach (var gpu in gpus)
        {
            var model = trace.Nodes[gpu.Node].Model;
            if (Add(gpu.Node, model, sharing, gpu.Pods))
            {
                fresh.Add(KeyAt(gpu.Node, sharing, gpu.Pods));
            }

            foreach (var pod in gpu.Pods)
            {
                Add(gpu.Node, model, sharing, [pod]);
            }
        }

        cases[(snapshot.Policy, sharing)] = new Case(gpus, fresh);
        return units.Count;
    }

    /// <summary>Simulates every unit planned so far on the cluster of <paramref name="grains"/> (progress on <paramref name="console"/>) and keeps their outcomes.</summary>
    public async Task<SimulationOutcome> SimulateAsync(IGrainFactory grains, IAnsiConsole console, CancellationToken cancellation)
    {
        // A timeline mixes its spans' latency distributions: it needs them whole.
        var request = new SimulationRequest($"trace-{Guid.NewGuid():N}", [.. units.Values], WarmupNs, DurationNs, SimulationRequest.DefaultStepNs, Histograms: timelines.Count > 0, Convergence: convergence);
        var outcome = await SimulateCommand.RunAsync(grains, request, console, cancellation);
        foreach (var unit in outcome.Units)
        {
            outcomes[unit.Id] = unit;
        }

        return outcome;
    }

    /// <summary>
    /// One result per pod and GPU it holds in the planned <paramref name="snapshot"/> and
    /// <paramref name="sharing"/>; the GPUs with pods, the co-locations first simulated for this
    /// case, and the events they took.
    /// </summary>
    public (IReadOnlyList<TraceTenantResult> Tenants, int Gpus, int Simulated, long Events) Results(PlacementSnapshot snapshot, GpuSharing sharing)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var planned = cases[(snapshot.Policy, sharing)];
        var results = new List<TraceTenantResult>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (node, gpu, pods) in planned.Gpus)
        {
            var model = trace.Nodes[node].Model;
            var key = KeyAt(node, sharing, pods);
            var outcome = outcomes[key];
            var reused = !seen.Add(key) || !planned.Fresh.Contains(key);
            for (var t = 0; t < pods.Count; t++)
            {
                var spec = byClass[pods[t].Qos];
                var alone = Measured(outcomes[KeyAt(node, sharing, [pods[t]])], 0);
                var shared = Measured(outcome, t);
                results.Add(new TraceTenantResult(pods[t], trace.Nodes[node].Name, gpu, model, spec, pods.Count, shared.Throughput, shared.P50Ms, shared.P99Ms, alone.Throughput, alone.P99Ms, reused, KernelShare(outcome, t), OsRates(outcome, t, spec)));
            }
        }

        return (results, planned.Gpus.Count, planned.Fresh.Count, planned.Fresh.Sum(k => outcomes[k].Events));
    }

    /// <summary>Plans every span of <paramref name="timeline"/>'s GPUs shared by <paramref name="sharing"/>; returns the number of units so far.</summary>
    public int PlanTimeline(TraceTimeline timeline, GpuSharing sharing)
    {
        ArgumentNullException.ThrowIfNull(timeline);
        foreach (var span in timeline.Spans)
        {
            var model = trace.Nodes[span.Node].Model;
            foreach (var pods in span.Pods.Select(p => (IReadOnlyList<TracePod>)[p]).Prepend(span.Pods))
            {
                if (Add(span.Node, model, sharing, pods))
                {
                    firstPlanned[KeyAt(span.Node, sharing, pods)] = (timeline.Policy, sharing);
                }
            }
        }

        timelines[(timeline.Policy, sharing)] = timeline;
        return units.Count;
    }

    /// <summary>
    /// One result per pod and GPU it held in the planned <paramref name="timeline"/> under
    /// <paramref name="sharing"/>; and the units its spans used, with how many converged.
    /// </summary>
    public (IReadOnlyList<TimelineTenantResult> Tenants, int Colocations, int Converged) TimelineResults(TraceTimeline timeline, GpuSharing sharing)
    {
        ArgumentNullException.ThrowIfNull(timeline);
        var met = new HashSet<string>(StringComparer.Ordinal);
        var used = new HashSet<string>(StringComparer.Ordinal);
        var perPod = new Dictionary<(string Pod, int Node, int Gpu), List<(GpuSpan Span, SimUnitOutcome Unit, int Index, bool Reused)>>();
        foreach (var span in timeline.Spans.OrderBy(s => s.StartSeconds).ThenBy(s => s.Node).ThenBy(s => s.Gpu))
        {
            var key = KeyAt(span.Node, sharing, span.Pods);
            used.Add(key);
            // Met before: earlier in this timeline or in any case planned before it.
            var reused = !met.Add(key) || firstPlanned[key] != (timeline.Policy, sharing);
            for (var t = 0; t < span.Pods.Count; t++)
            {
                var at = (span.Pods[t].Name, span.Node, span.Gpu);
                if (!perPod.TryGetValue(at, out var list))
                {
                    perPod[at] = list = [];
                }

                list.Add((span, outcomes[key], t, reused));
            }
        }

        var results = new List<TimelineTenantResult>();
        foreach (var stay in timeline.Stays.Where(s => s.StartSeconds is not null && s.Placement.Gpus.Count > 0))
        {
            var model = trace.Nodes[stay.Placement.Node].Model;
            var spec = byClass[stay.Pod.Qos];
            var alone = Measured(outcomes[Key(model, sharing, [stay.Pod])], 0);
            foreach (var gpu in stay.Placement.Gpus)
            {
                var spans = perPod[(stay.Pod.Name, stay.Placement.Node, gpu)];
                double seconds = 0, operations = 0;
                long overloaded = 0;
                var mixture = new List<(long Value, double Weight)>();
                foreach (var (span, unit, index, _) in spans)
                {
                    var (rate, _, _) = Measured(unit, index);
                    if (!double.IsFinite(rate))
                    {
                        continue; // nothing measured (interrupted in the warm-up)
                    }

                    seconds += span.Seconds;
                    operations += rate * span.Seconds;
                    if (spec.Kind == TenantKind.Inference && spec.RatePerSecond > 0 && rate < 0.9 * spec.RatePerSecond)
                    {
                        overloaded += span.Seconds;
                    }

                    // Each of the span's operations weighs alike: the unit's buckets scaled to the operations of the span.
                    var tenant = unit.Tenants[index];
                    if (tenant.Completed > 0)
                    {
                        var perCount = rate * span.Seconds / tenant.Completed;
                        var reader = Contention.Workloads.Metrics.Histograms.Buckets(tenant.Histogram);
                        while (reader.Next(out var value, out var count))
                        {
                            mixture.Add((value, count * perCount));
                        }
                    }
                }

                results.Add(new TimelineTenantResult(
                    stay,
                    trace.Nodes[stay.Placement.Node].Name,
                    gpu,
                    model,
                    spec,
                    spans.Count,
                    spans.Count(s => s.Reused),
                    spans.Max(s => s.Span.Pods.Count),
                    spans.Where(s => s.Span.Pods.Count > 1).Sum(s => s.Span.Seconds),
                    seconds > 0 ? operations / seconds : double.NaN,
                    Quantile(mixture, 0.50) / 1e6,
                    Quantile(mixture, 0.99) / 1e6,
                    overloaded,
                    alone.Throughput,
                    alone.P99Ms));
            }
        }

        return (results, used.Count, used.Count(k => outcomes[k].Converged));
    }

    // The value below which a share q of the weight lies (values sorted); NaN without weight.
    private static double Quantile(List<(long Value, double Weight)> weighted, double q)
    {
        var total = weighted.Sum(w => w.Weight);
        if (total <= 0)
        {
            return double.NaN;
        }

        weighted.Sort((a, b) => a.Value.CompareTo(b.Value));
        double cumulative = 0;
        foreach (var (value, weight) in weighted)
        {
            cumulative += weight;
            if (cumulative >= q * total)
            {
                return value;
            }
        }

        return weighted[^1].Value;
    }

    /// <summary>The OS cost model the pods' host side is predicted with (null: not predicted).</summary>
    public OsCostModel? OsModel { get; init; }

    /// <summary>Whether time-sliced GPUs give each pod slices in proportion to its GPU share.</summary>
    public bool WeightedSlices { get; init; }

    private static double KernelShare(SimUnitOutcome unit, int tenant) => unit.MeasuredNs == 0 ? double.NaN : unit.Tenants[tenant].KernelNs / (double)unit.MeasuredNs;

    private Dictionary<string, double> OsRates(SimUnitOutcome unit, int tenant, TenantSpec spec)
    {
        if (OsModel is null || unit.MeasuredNs == 0)
        {
            return new Dictionary<string, double>();
        }

        var features = OsFit.Features(unit, tenant);
        return OsModel.Predict(TenantWorkload.Sync(spec.SyncMode), features).ToDictionary(p => p.Key, p => p.Value / features.Seconds, StringComparer.Ordinal);
    }

    // Throughput over the window simulated (shorter when interrupted); a tenant that completed
    // nothing (a step longer than the window, or nothing measured yet) has no latencies.
    private static (double Throughput, double P50Ms, double P99Ms) Measured(SimUnitOutcome unit, int tenant)
    {
        var t = unit.Tenants[tenant];
        return unit.MeasuredNs == 0 ? (double.NaN, double.NaN, double.NaN)
            : t.Completed == 0 ? (0, double.NaN, double.NaN)
            : (t.Completed / (unit.MeasuredNs / 1e9), t.P50Ns / 1e6, t.P99Ns / 1e6);
    }

    private bool Add(int node, string model, GpuSharing sharing, IReadOnlyList<TracePod> pods)
    {
        var key = KeyAt(node, sharing, pods);
        if (units.ContainsKey(key))
        {
            return false;
        }

        // Seeds by place in the co-location only: a co-location gives the same result wherever it occurs.
        units[key] = new SimUnit(key, ProfileOf(model), sharing, Tenants(byClass, pods), CoresFor(node, pods.Count), WeightedSlices && sharing == GpuSharing.Timeslice, PausesFirst: true);
        return true;
    }

    /// <summary>
    /// The host cores a GPU's <paramref name="pods"/> pods share on <paramref name="node"/>: the
    /// node's cores over its GPUs, where they have fewer than a core each (one thread per pod);
    /// 0 (a core each) where they have enough, or the trace gives no CPUs.
    /// </summary>
    internal int CoresFor(int node, int pods)
    {
        var n = trace.Nodes[node];
        var cores = n.Gpus > 0 && n.CpuMilli >= 1000 ? Math.Max(1, n.CpuMilli / 1000 / n.Gpus) : 0;
        return cores > 0 && pods > cores ? cores : 0;
    }

    // A GPU's co-location on its node: the key, with the cores where they are fewer than its pods.
    private string KeyAt(int node, GpuSharing sharing, IReadOnlyList<TracePod> pods) => Key(trace.Nodes[node].Model, sharing, pods, CoresFor(node, pods.Count));

    /// <summary>A co-location's tenants: what each pod's class runs, named and seeded by its place, its share its MPS share.</summary>
    internal static SimUnitTenant[] Tenants(IReadOnlyDictionary<string, TenantSpec> byClass, IReadOnlyList<TracePod> pods) =>
        [.. pods.Select((p, i) => new SimUnitTenant(byClass[p.Qos], $"{p.Qos}-{i}", i, p.GpuMilli / 1000.0))];

    /// <summary>The co-location of <paramref name="span"/> under <paramref name="sharing"/>: its unit's id.</summary>
    public string KeyOf(GpuSpan span, GpuSharing sharing)
    {
        ArgumentNullException.ThrowIfNull(span);
        return KeyAt(span.Node, sharing, span.Pods);
    }

    /// <summary>What each unit simulated came to, by id.</summary>
    public IReadOnlyDictionary<string, SimUnitOutcome> Outcomes => outcomes;

    /// <summary>A co-location's name: GPU model, sharing, its pods' classes and shares in order, and the host cores they share where those are fewer than the pods.</summary>
    internal static string Key(string model, GpuSharing sharing, IEnumerable<TracePod> pods, int cores = 0) =>
        $"{model}|{sharing}|{string.Join(';', pods.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Qos}:{p.GpuMilli}")))}{(cores > 0 ? string.Create(CultureInfo.InvariantCulture, $"|cores {cores}") : "")}";

    private sealed record PlacedGpu(int Node, int Gpu, IReadOnlyList<TracePod> Pods);

    private sealed record Case(IReadOnlyList<PlacedGpu> Gpus, IReadOnlySet<string> Fresh);

    /// <summary>
    /// The mapping's checks: a mix whose tenants are named by the trace's classes of service, each
    /// an inference or training tenant on a modelled GPU; an error names the file and the tenant.
    /// </summary>
    public static Mix CheckMapping(Mix mapping)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        foreach (var missing in ClusterTrace.QosClasses.Where(q => mapping.Tenants.All(t => t.Name != q)))
        {
            throw new MixException(mapping.Source, 0, 0, "tenants", $"no tenant named {missing}: the mapping needs one per class of service ({string.Join(", ", ClusterTrace.QosClasses)})");
        }

        foreach (var tenant in mapping.Tenants)
        {
            if (!ClusterTrace.QosClasses.Contains(tenant.Name, StringComparer.Ordinal))
            {
                throw new MixException(mapping.Source, 0, 0, "tenants", $"tenant {tenant.Name}: the mapping's tenants are named by class of service ({string.Join(", ", ClusterTrace.QosClasses)})");
            }

            if (tenant.Kind is not (TenantKind.Inference or TenantKind.Training))
            {
                throw new MixException(mapping.Source, 0, 0, "tenants", $"tenant {tenant.Name}: a pod runs an inference or a training tenant in virtual time, not {tenant.Kind.ToString().ToLowerInvariant()}");
            }

            if (tenant.RateOfCapacity > 0)
            {
                throw new MixException(mapping.Source, 0, 0, "rate", $"tenant {tenant.Name}: a share of capacity ({tenant.RateOfCapacity * 100:0.#}%) cannot map a trace's pods (each pod's capacity depends on its GPU's model and its share of it); give requests per second");
            }
        }

        return mapping;
    }
}
