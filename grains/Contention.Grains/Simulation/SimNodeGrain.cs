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
        await SimulationThreads.RunAsync([.. load.Units.Select((u, i) => (Action)(() => created[i] = Create(u, profiles[u.Profile], load.Convergence)))]);
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
            var ran = Stopwatch.GetElapsedTime(watch).Ticks * 100;
            unit.BusyNs += ran;
            Interlocked.Add(ref busy, ran);
        }))]);
        nowNs = untilNs;
        busyNs += busy;
        return new SimGroupStep(nowNs, units.Sum(u => u.Gpu.Events), busyNs, silo.SiloAddress.ToString(), units.Count(u => !u.Converged));
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

    private static Unit Create(SimUnit unit, DeviceProfile profile, SimConvergence? convergence)
    {
        // An arbiter's held launch reaches the GPU a launch after it is let go.
        // A slice beyond the first costs the GPU the profile's cost of a part (measured on the H200).
        var arbiter = unit.Arbiter switch
        {
            ArbiterMode.Gating => new ArbiterPolicy(unit.ArbiterOutstandingNs, profile.LaunchCpuNs),
            ArbiterMode.Slicing => new ArbiterPolicy(unit.ArbiterOutstandingNs, profile.LaunchCpuNs, unit.ArbiterQuantumNs, profile.PartCostNs()),
            // The model does not narrow kernels yet (docs/sim.md): spatial lets best-effort kernels go beside open requests as they are.
            ArbiterMode.Spatial => new ArbiterPolicy(unit.ArbiterOutstandingNs, profile.LaunchCpuNs, HoldWhileOpen: false),
            _ => null,
        };
        if (arbiter is not null && Workloads.Arbiter.ArbiterMember.RequestedQueuePerTenant)
        {
            // Experimental (CONTENTION_ARBITER_QUEUE=tenant, read by every silo): each best-effort tenant bounds its own predicted work.
            arbiter = arbiter with { QueuePerTenant = true };
        }

        var gpu = new VirtualGpu(profile, TenantWorkload.Sharing(unit.Sharing), [.. unit.Tenants.Select(t => TenantWorkload.Virtual(t.Spec, t.Name, t.SeedOffset, t.GpuShare))], unit.Cores, unit.WeightedSlices, unit.PausesFirst ? StartPause.BeforeFirstOperation : StartPause.AfterSecondOperation, arbiter);
        return new Unit(unit, gpu, convergence);
    }

    /// <summary>A unit and its event loop.</summary>
    private sealed class Unit(SimUnit spec, VirtualGpu gpu, SimConvergence? convergence)
    {
        private bool marked;
        private long nextCheckNs = convergence?.FirstCheckNs ?? long.MaxValue;
        private (double Rate, long P50, long P99, long Completed)[]? lastCheck;

        public VirtualGpu Gpu { get; } = gpu;

        /// <summary>Wall-clock time its event loop has run, ns.</summary>
        public long BusyNs { get; set; }

        /// <summary>Its statistics converged: it stands still from then on.</summary>
        public bool Converged { get; private set; }

        /// <summary>Runs to <paramref name="untilNs"/>, opening the measurement window at the warm-up's end on the way.</summary>
        public void RunTo(long untilNs, long warmupNs)
        {
            if (Converged)
            {
                return;
            }

            if (!marked && untilNs >= warmupNs)
            {
                Gpu.RunUntil(warmupNs);
                Gpu.Mark();
                marked = true;
            }

            Gpu.RunUntil(untilNs);
            if (marked && untilNs - warmupNs >= nextCheckNs)
            {
                Check(untilNs - warmupNs);
            }
        }

        /// <summary>A check of <see cref="SimConvergence"/> after <paramref name="measuredNs"/> of the window.</summary>
        private void Check(long measuredNs)
        {
            var criterion = convergence!;
            var now = new (double Rate, long P50, long P99, long Completed)[spec.Tenants.Count];
            for (var i = 0; i < now.Length; i++)
            {
                var result = Gpu.Result(i);
                now[i] = (result.Completed / (measuredNs / 1e9), result.Completed == 0 ? 0 : result.Latency.GetValueAtPercentile(50), result.Completed == 0 ? 0 : result.Latency.GetValueAtPercentile(99), result.Completed);
            }

            static bool Close(double a, double b, double tolerance) => Math.Abs(a - b) <= tolerance * Math.Max(Math.Abs(a), Math.Abs(b));
            Converged = lastCheck is not null && Enumerable.Range(0, now.Length).All(i =>
            {
                var inference = spec.Tenants[i].Spec.Kind == TenantKind.Inference;
                return now[i].Completed >= criterion.MinCompleted
                    && Close(now[i].Rate, lastCheck[i].Rate, criterion.ThroughputTolerance)
                    && (!inference || (now[i].Completed >= criterion.MinLatencySamples
                        && Close(now[i].P50, lastCheck[i].P50, criterion.LatencyTolerance)
                        && Close(now[i].P99, lastCheck[i].P99, criterion.LatencyTolerance)));
            });
            lastCheck = now;
            while (nextCheckNs <= measuredNs)
            {
                nextCheckNs *= 2;
            }
        }

        public SimUnitOutcome Outcome(long warmupNs, bool histograms)
        {
            var tenants = new List<SimTenantOutcome>(spec.Tenants.Count);
            for (var i = 0; i < spec.Tenants.Count; i++)
            {
                var result = marked ? Gpu.Result(i) : null;
                var latency = result?.Latency;
                var host = result is null ? SimHostCounters.Zero : new SimHostCounters(result.Host.Launches, result.Host.Synchronises, result.Host.Waits, result.Host.WaitNs, result.Host.IdleNs, result.Host.LaunchCpuNs, result.Host.SwitchesIn, result.Host.TurnsLost, result.Host.HostBusyNs, result.Host.ArbiterHeld, result.Host.ArbiterHeldNs, result.Host.ArbiterPredictedNs, result.Host.ArbiterSleeps, result.Host.ArbiterWakes, result.Host.ArbiterCorrection);
                tenants.Add(result is null || result.Completed == 0
                    ? new SimTenantOutcome(spec.Tenants[i].Name, 0, result?.KernelNs ?? 0, 0, 0, 0, 0, 0, histograms && latency is not null ? Histograms.Encode(latency) : [], host)
                    : new SimTenantOutcome(
                        spec.Tenants[i].Name,
                        result.Completed,
                        result.KernelNs,
                        latency!.GetValueAtPercentile(50),
                        latency.GetValueAtPercentile(99),
                        latency.GetValueAtPercentile(99.9),
                        latency.GetMaxValue(),
                        latency.GetMean(),
                        histograms ? Histograms.Encode(latency) : [],
                        host));
            }

            Gpu.SaveTimings();
            return new SimUnitOutcome(spec.Id, Gpu.NowNs, marked ? Gpu.NowNs - warmupNs : 0, Gpu.Events, tenants, Converged, BusyNs);
        }
    }
}
