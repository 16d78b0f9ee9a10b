using System.Globalization;
using Contention.Client.Commands;
using Contention.Client.Mixes;
using Contention.Grains;
using Contention.Grains.Simulation;
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
public sealed record TraceTenantResult(TracePod Pod, string Node, int Gpu, string Model, TenantSpec Tenant, int Sharers, double Throughput, double P50Ms, double P99Ms, double AloneThroughput, double AloneP99Ms, bool Reused)
{
    /// <summary>An inference tenant completed under 90 % of its offered requests: its latencies are no tail.</summary>
    public bool Overloaded => Tenant.Kind == TenantKind.Inference && Tenant.RatePerSecond > 0 && Throughput < 0.9 * Tenant.RatePerSecond;

    /// <summary>An inference tenant met its SLO: not overloaded, and its p99 within <paramref name="factor"/> of its p99 alone.</summary>
    public bool SloMet(double factor) => Tenant.Kind == TenantKind.Inference && !Overloaded && P99Ms <= factor * AloneP99Ms;

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
internal sealed class TraceSimulation(ClusterTrace trace, Mix mapping, IReadOnlyDictionary<string, string> gpuProfiles, double warmupSeconds, double durationSeconds)
{
    private readonly Dictionary<string, TenantSpec> byClass = mapping.Tenants.ToDictionary(t => t.Name, StringComparer.Ordinal);
    private readonly Dictionary<(PlacementPolicy, GpuSharing), Case> cases = [];
    private readonly Dictionary<string, SimUnit> units = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SimUnitOutcome> outcomes = new(StringComparer.Ordinal);

    /// <summary>The profile name a GPU model gets: from <c>--gpu-profile</c>, else the datasheet-scaled one of that name.</summary>
    public string ProfileOf(string model) => gpuProfiles.TryGetValue(model, out var name) ? name : model.ToLowerInvariant();

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
            .Select(g => new PlacedGpu(g.Key.Node, g.Key.Gpu, [.. g.Select(x => x.Pod).OrderBy(p => p.Qos, StringComparer.Ordinal).ThenBy(p => p.GpuMilli).ThenBy(p => p.Name, StringComparer.Ordinal)]))
            .OrderBy(g => g.Node).ThenBy(g => g.Gpu)
            .ToList();
        var fresh = new HashSet<string>(StringComparer.Ordinal);
        foreach (var gpu in gpus)
        {
            var model = trace.Nodes[gpu.Node].Model;
            if (Add(Key(model, sharing, gpu.Pods), model, sharing, gpu.Pods))
            {
                fresh.Add(Key(model, sharing, gpu.Pods));
            }

            foreach (var pod in gpu.Pods)
            {
                Add(Key(model, sharing, [pod]), model, sharing, [pod]);
            }
        }

        cases[(snapshot.Policy, sharing)] = new Case(gpus, fresh);
        return units.Count;
    }

    /// <summary>Simulates every unit planned so far on the cluster of <paramref name="grains"/> (progress on <paramref name="console"/>) and keeps their outcomes.</summary>
    public async Task<SimulationOutcome> SimulateAsync(IGrainFactory grains, IAnsiConsole console, CancellationToken cancellation)
    {
        var outcome = await SimulateCommand.RunAsync(grains, new SimulationRequest($"trace-{Guid.NewGuid():N}", [.. units.Values], WarmupNs, DurationNs, SimulationRequest.DefaultStepNs), console, cancellation);
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
            var key = Key(model, sharing, pods);
            var outcome = outcomes[key];
            var reused = !seen.Add(key) || !planned.Fresh.Contains(key);
            for (var t = 0; t < pods.Count; t++)
            {
                var spec = byClass[pods[t].Qos];
                var alone = Measured(outcomes[Key(model, sharing, [pods[t]])], 0);
                var shared = Measured(outcome, t);
                results.Add(new TraceTenantResult(pods[t], trace.Nodes[node].Name, gpu, model, spec, pods.Count, shared.Throughput, shared.P50Ms, shared.P99Ms, alone.Throughput, alone.P99Ms, reused));
            }
        }

        return (results, planned.Gpus.Count, planned.Fresh.Count, planned.Fresh.Sum(k => outcomes[k].Events));
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

    private bool Add(string key, string model, GpuSharing sharing, IReadOnlyList<TracePod> pods)
    {
        if (units.ContainsKey(key))
        {
            return false;
        }

        // Seeds by place in the co-location only: a co-location gives the same result wherever it occurs.
        units[key] = new SimUnit(key, ProfileOf(model), sharing, [.. pods.Select((p, i) => new SimUnitTenant(byClass[p.Qos], $"{p.Qos}-{i}", i, p.GpuMilli / 1000.0))]);
        return true;
    }

    private static string Key(string model, GpuSharing sharing, IEnumerable<TracePod> pods) =>
        $"{model}|{sharing}|{string.Join(';', pods.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Qos}:{p.GpuMilli}")))}";

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
        }

        return mapping;
    }
}
