using System.Collections.Concurrent;
using System.Globalization;
using Contention.Client.Mixes;
using Contention.Grains;
using Contention.Grains.Node;
using Contention.Workloads.Sim;
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
/// <param name="Reused">Whether the GPU's co-location had been simulated already (same model, sharing and tenants) and its result was reused.</param>
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
/// A placement snapshot of a trace in virtual time: every GPU with pods on it is a
/// <see cref="VirtualGpu"/> running their tenants (from the mapping, by class of service) on its
/// model's profile, each pod's GPU share its MPS share; a co-location seen before (same profile,
/// sharing mode and tenants with their shares) takes the result already simulated. Each tenant is
/// also simulated alone with its share, once per kind, for its slowdown and SLO.
/// </summary>
internal sealed class TraceSimulation(ClusterTrace trace, Mix mapping, IReadOnlyDictionary<string, string> gpuProfiles, double warmupSeconds, double durationSeconds)
{
    private readonly ConcurrentDictionary<string, DeviceProfile> profiles = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (double Throughput, double P50Ms, double P99Ms)[]> colocations = new(StringComparer.Ordinal);

    /// <summary>Events simulated so far (reused co-locations count once).</summary>
    public long Events => Interlocked.Read(ref events);

    private long events;

    /// <summary>The profile name a GPU model gets: from <c>--gpu-profile</c>, else the datasheet-scaled one of that name.</summary>
    public string ProfileOf(string model) => gpuProfiles.TryGetValue(model, out var name) ? name : model.ToLowerInvariant();

    /// <summary>Simulates every GPU of <paramref name="snapshot"/> shared by <paramref name="sharing"/>; one result per pod and GPU it holds.</summary>
    public (IReadOnlyList<TraceTenantResult> Tenants, int Gpus, int Simulated) Run(PlacementSnapshot snapshot, GpuSharing sharing)
    {
        var byClass = mapping.Tenants.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var gpus = snapshot.Placements.Where(p => p.Placed && p.Gpus.Count > 0)
            .SelectMany(p => p.Gpus.Select(g => (p.Node, Gpu: g, p.Pod)))
            .GroupBy(x => (x.Node, x.Gpu))
            .Select(g => (g.Key.Node, g.Key.Gpu, Pods: g.Select(x => x.Pod).OrderBy(p => p.Qos, StringComparer.Ordinal).ThenBy(p => p.GpuMilli).ThenBy(p => p.Name, StringComparer.Ordinal).ToList()))
            .OrderBy(g => g.Node).ThenBy(g => g.Gpu)
            .ToList();
        var keys = gpus.Select(g => Key(trace.Nodes[g.Node].Model, sharing, g.Pods)).ToList();
        var simulated = keys.Distinct(StringComparer.Ordinal).Where(k => !colocations.ContainsKey(k)).ToHashSet(StringComparer.Ordinal);
        var firstOf = keys.Select((k, i) => (k, i)).GroupBy(x => x.k).ToDictionary(g => g.Key, g => g.First().i);
        Parallel.ForEach(simulated, key =>
        {
            var (node, _, pods) = gpus[firstOf[key]];
            colocations[key] = Simulate(trace.Nodes[node].Model, sharing, [.. pods.Select(p => (byClass[p.Qos], p.GpuMilli))]);
        });

        var results = new List<TraceTenantResult>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < gpus.Count; i++)
        {
            var (node, gpu, pods) = gpus[i];
            var model = trace.Nodes[node].Model;
            var outcome = colocations[keys[i]];
            var reused = !seen.Add(keys[i]) || !simulated.Contains(keys[i]);
            for (var t = 0; t < pods.Count; t++)
            {
                var spec = byClass[pods[t].Qos];
                var alone = colocations.GetOrAdd(Key(model, sharing, [pods[t]]), _ => Simulate(model, sharing, [(spec, pods[t].GpuMilli)]))[0];
                results.Add(new TraceTenantResult(pods[t], trace.Nodes[node].Name, gpu, model, spec, pods.Count, outcome[t].Throughput, outcome[t].P50Ms, outcome[t].P99Ms, alone.Throughput, alone.P99Ms, reused));
            }
        }

        return (results, gpus.Count, simulated.Count);
    }

    private static string Key(string model, GpuSharing sharing, IEnumerable<TracePod> pods) =>
        $"{model}|{sharing}|{string.Join(';', pods.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Qos}:{p.GpuMilli}")))}";

    private (double Throughput, double P50Ms, double P99Ms)[] Simulate(string model, GpuSharing sharing, IReadOnlyList<(TenantSpec Spec, int Milli)> tenants)
    {
        var profile = profiles.GetOrAdd(ProfileOf(model), DeviceProfile.Load);
        var gpu = new VirtualGpu(profile, TenantWorkload.Sharing(sharing), [.. tenants.Select((t, i) => TenantWorkload.Virtual(t.Spec, $"{t.Spec.Name}-{i}", i, t.Milli / 1000.0))]);
        gpu.Measure((long)Math.Round(warmupSeconds * 1e9), (long)Math.Round(durationSeconds * 1e9));
        Interlocked.Add(ref events, gpu.Events);
        return [.. Enumerable.Range(0, tenants.Count).Select(i =>
        {
            // A tenant that completed nothing in the window (a step longer than it) has no latencies.
            var r = gpu.Result(i);
            return r.Completed == 0
                ? (0, double.NaN, double.NaN)
                : (r.Completed / durationSeconds, r.Latency.GetValueAtPercentile(50) / 1e6, r.Latency.GetValueAtPercentile(99) / 1e6);
        })];
    }

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
