using System.Diagnostics;
using Contention.Grains.Node;
using Contention.Grains.Placement;
using Contention.Workloads.Metrics;
using Contention.Workloads.Sim;
using HdrHistogram;

namespace Contention.Grains.Simulation;

/// <summary>
/// A group of simulated GPUs (<see cref="ISimNodeGrain"/>): each unit a <see cref="VirtualGpu"/>,
/// a window run on the silo's simulation threads (<see cref="SimulationThreads"/>: off the
/// grain's scheduler, units in parallel: they share nothing), the same for a unit whatever group or silo it lands in.
/// </summary>
[SpreadPlacement]
internal sealed class SimNodeGrain(ILocalSiloDetails silo) : Grain, ISimNodeGrain
{
    private Unit[] units = [];
    private long warmupNs;
    private bool histograms;
    private long nowNs;
    private long busyNs;

    /// <inheritdoc />
    public async Task LoadAsync(SimGroupLoad load, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(load);
        ArgumentOutOfRangeException.ThrowIfNegative(load.WarmupNs);
        var profiles = new Dictionary<string, DeviceProfile>(StringComparer.Ordinal);
        foreach (var unit in load.Units)
        {
            if (!profiles.ContainsKey(unit.Profile))
            {
                profiles[unit.Profile] = load.Profiles.TryGetValue(unit.Profile, out var json)
                    ? DeviceProfile.FromJson(json, unit.Profile)
                    : throw new ArgumentException($"unit {unit.Id}: its profile {unit.Profile} is not among the load's profiles", nameof(load));
            }
        }

        // Building a unit (its kernels and their costs) is work too: on the simulation threads.
        var created = new Unit[load.Units.Count];
        await SimulationThreads.RunAsync([.. load.Units.Select((u, i) => (Action)(() => created[i] = Create(u, profiles[u.Profile])))]);
        units = created;
        warmupNs = load.WarmupNs;
        histograms = load.Histograms;
        nowNs = 0;
        busyNs = 0;
    }

    /// <inheritdoc />
    public async Task<SimGroupStep> AdvanceAsync(long untilNs, CancellationToken cancellationToken = default)
    {
        if (untilNs < nowNs)
        {
            throw new ArgumentOutOfRangeException(nameof(untilNs), $"virtual time runs forward: the group stands at {nowNs} ns, asked for {untilNs} ns");
        }

        var target = untilNs;
        long busy = 0;
        await SimulationThreads.RunAsync([.. units.Select(unit => (Action)(() =>
        {
            var watch = Stopwatch.GetTimestamp();
            unit.RunTo(target, warmupNs);
            Interlocked.Add(ref busy, Stopwatch.GetElapsedTime(watch).Ticks * 100);
        }))]);
        nowNs = untilNs;
        busyNs += busy;
        return new SimGroupStep(nowNs, units.Sum(u => u.Gpu.Events), busyNs, silo.SiloAddress.ToString());
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<SimUnitOutcome>> ResultsAsync(CancellationToken cancellationToken = default)
    {
        var outcomes = new SimUnitOutcome[units.Length];
        await SimulationThreads.RunAsync([.. units.Select((u, i) => (Action)(() => outcomes[i] = u.Outcome(warmupNs, histograms)))]);
        return outcomes;
    }

    /// <inheritdoc />
    public Task ReleaseAsync(CancellationToken cancellationToken = default)
    {
        units = [];
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    private static Unit Create(SimUnit unit, DeviceProfile profile)
    {
        var gpu = new VirtualGpu(profile, TenantWorkload.Sharing(unit.Sharing), [.. unit.Tenants.Select(t => TenantWorkload.Virtual(t.Spec, t.Name, t.SeedOffset, t.GpuShare))]);
        return new Unit(unit, gpu);
    }

    /// <summary>A unit and its event loop.</summary>
    private sealed class Unit(SimUnit spec, VirtualGpu gpu)
    {
        private bool marked;

        public VirtualGpu Gpu { get; } = gpu;

        /// <summary>Runs to <paramref name="untilNs"/>, opening the measurement window at the warm-up's end on the way.</summary>
        public void RunTo(long untilNs, long warmupNs)
        {
            if (!marked && untilNs >= warmupNs)
            {
                Gpu.RunUntil(warmupNs);
                Gpu.Mark();
                marked = true;
            }

            Gpu.RunUntil(untilNs);
        }

        public SimUnitOutcome Outcome(long warmupNs, bool histograms)
        {
            var tenants = new List<SimTenantOutcome>(spec.Tenants.Count);
            for (var i = 0; i < spec.Tenants.Count; i++)
            {
                var result = marked ? Gpu.Result(i) : null;
                var latency = result?.Latency;
                tenants.Add(result is null || result.Completed == 0
                    ? new SimTenantOutcome(spec.Tenants[i].Name, 0, result?.KernelNs ?? 0, 0, 0, 0, 0, 0, histograms && latency is not null ? Histograms.Encode(latency) : [])
                    : new SimTenantOutcome(
                        spec.Tenants[i].Name,
                        result.Completed,
                        result.KernelNs,
                        latency!.GetValueAtPercentile(50),
                        latency.GetValueAtPercentile(99),
                        latency.GetValueAtPercentile(99.9),
                        latency.GetMaxValue(),
                        latency.GetMean(),
                        histograms ? Histograms.Encode(latency) : []));
            }

            return new SimUnitOutcome(spec.Id, Gpu.NowNs, marked ? Gpu.NowNs - warmupNs : 0, Gpu.Events, tenants);
        }
    }
}
