using Contention.Client.Mixes;
using Contention.Grains;
using Contention.Grains.Node;
using Contention.Workloads.Sim;
using GpuSharing = Contention.Grains.GpuSharing;

namespace Contention.Client.Simulation;

/// <summary>
/// The contention-aware policies' prediction: a co-location's harm from simulating it (a
/// <see cref="VirtualGpu"/> in this process, 0.5 s of warm-up and a 2 s window; each co-location
/// and each tenant alone once, then remembered). A co-location's score: over its inference pods,
/// how far their p99 exceeds their p99 alone (p99 / alone − 1, at least 0; 100 for one that cannot
/// keep up), plus a tenth of how much slower its trainers run than alone (slowdown − 1). The harm
/// of a pod joining a GPU: the score with it less the score without it.
/// </summary>
internal sealed class SimulatedHarm(Mix mapping, Func<string, string> profileOf, GpuSharing sharing, bool weightedSlices = false) : IPlacementHarm
{
    private const long WarmupNs = 500_000_000;
    private const long WindowNs = 2_000_000_000;
    private readonly Dictionary<string, TenantSpec> byClass = mapping.Tenants.ToDictionary(t => t.Name, StringComparer.Ordinal);
    private readonly Dictionary<string, (double Throughput, double P99)[]> simulated = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DeviceProfile> profiles = new(StringComparer.Ordinal);

    /// <summary>Co-locations simulated so far (alone included).</summary>
    public int Simulations => simulated.Count;

    /// <summary>The sharing mode it predicts for.</summary>
    public GpuSharing Sharing => sharing;

    /// <inheritdoc />
    public double Harm(string model, IReadOnlyList<TracePod> present, TracePod incoming)
    {
        ArgumentNullException.ThrowIfNull(present);
        return Score(model, [.. present, incoming]) - Score(model, present);
    }

    private double Score(string model, IReadOnlyList<TracePod> pods)
    {
        if (pods.Count < 2)
        {
            return 0; // alone: no harm
        }

        var sorted = pods.Order(TraceTimeline.PodOrder.Instance).ToList();
        var together = Simulate(model, sorted);
        var score = 0.0;
        for (var i = 0; i < sorted.Count; i++)
        {
            var spec = byClass[sorted[i].Qos];
            var alone = Simulate(model, [sorted[i]])[0];
            if (spec.Kind == TenantKind.Inference)
            {
                var overloaded = spec.RatePerSecond > 0 && together[i].Throughput < 0.9 * spec.RatePerSecond;
                score += overloaded || double.IsNaN(together[i].P99) ? 100 : Math.Max(0, (together[i].P99 / alone.P99) - 1);
            }
            else
            {
                score += 0.1 * (together[i].Throughput > 0 ? Math.Max(0, (alone.Throughput / together[i].Throughput) - 1) : 10);
            }
        }

        return score;
    }

    private (double Throughput, double P99)[] Simulate(string model, IReadOnlyList<TracePod> sorted)
    {
        var key = TraceSimulation.Key(model, sharing, sorted);
        if (simulated.TryGetValue(key, out var known))
        {
            return known;
        }

        if (!profiles.TryGetValue(model, out var profile))
        {
            profiles[model] = profile = DeviceProfile.Load(profileOf(model));
        }

        var gpu = new VirtualGpu(profile, TenantWorkload.Sharing(sharing), [.. TraceSimulation.Tenants(byClass, sorted).Select(t => TenantWorkload.Virtual(t.Spec, t.Name, t.SeedOffset, t.GpuShare))], 0, weightedSlices, StartPause.BeforeFirstOperation);
        gpu.Measure(WarmupNs, WindowNs);
        var result = sorted.Select((_, i) =>
        {
            var r = gpu.Result(i);
            return (r.Completed / (WindowNs / 1e9), r.Completed == 0 ? double.NaN : r.Latency.GetValueAtPercentile(99));
        }).ToArray();
        simulated[key] = result;
        return result;
    }
}
