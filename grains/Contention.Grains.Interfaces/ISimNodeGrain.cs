namespace Contention.Grains;

/// <summary>
/// One group of simulated nodes in virtual time (keyed <c>SIMULATION/K</c>: group K of a
/// simulation, placed on the K-th silo of the cluster modulo their number): each of its units —
/// a modelled GPU and its tenants — is a discrete-event simulation with its own event loop; a
/// coordinator (<c>SimulationCoordinator</c>) advances every group to the same virtual time in
/// windows. Units do not interact between windows, so each window is safe to run in parallel.
/// </summary>
[Alias("contention.ISimNodeGrain")]
public interface ISimNodeGrain : IGrainWithStringKey
{
    /// <summary>Takes the group's units, all at virtual time 0; replaces what it held.</summary>
    [Alias("Load")]
    Task LoadAsync(SimGroupLoad load, CancellationToken cancellationToken = default);

    /// <summary>Runs every unit to <paramref name="untilNs"/> of virtual time (the warm-up's end on the way marks the measurement window's start).</summary>
    [Alias("Advance")]
    Task<SimGroupStep> AdvanceAsync(long untilNs, CancellationToken cancellationToken = default);

    /// <summary>What each unit's tenants did in the measurement window so far.</summary>
    [Alias("Results")]
    Task<IReadOnlyList<SimUnitOutcome>> ResultsAsync(CancellationToken cancellationToken = default);

    /// <summary>Forgets the units and deactivates.</summary>
    [Alias("Release")]
    Task ReleaseAsync(CancellationToken cancellationToken = default);
}

/// <summary>A tenant of a simulated GPU.</summary>
/// <param name="Spec">What it runs, as a mix says (an inference or training tenant).</param>
/// <param name="Name">Its name on the GPU.</param>
/// <param name="SeedOffset">Added to its workload's seed (a repetition, its place among the GPU's tenants).</param>
/// <param name="GpuShare">Its share of the GPU, 0-1 (an MPS share; 1 for the whole GPU).</param>
[GenerateSerializer, Immutable, Alias("contention.SimUnitTenant")]
public sealed record SimUnitTenant(
    [property: Id(0)] TenantSpec Spec,
    [property: Id(1)] string Name,
    [property: Id(2)] int SeedOffset,
    [property: Id(3)] double GpuShare);

/// <summary>One simulated GPU and its tenants.</summary>
/// <param name="Id">The unit's name in its simulation (unique): results come back under it.</param>
/// <param name="Profile">Its device profile's name, a key of the load's profiles.</param>
/// <param name="Sharing">How its tenants share it.</param>
/// <param name="Tenants">Its tenants, all starting at virtual time 0.</param>
/// <param name="Cores">The host cores its tenants' threads share (<c>VirtualCores</c>); 0: a core for every thread.</param>
/// <param name="WeightedSlices">Time-sliced, each tenant's slice in proportion to its GPU share (<c>TimeSliceScheduler</c>); false: equal slices, as the driver gives.</param>
/// <param name="PausesFirst">Closed-loop tenants sleep their start pause before their first operation (a cluster's pods: <c>StartPause.BeforeFirstOperation</c>); false: after their second, as workers do.</param>
/// <param name="Arbiter">What its arbiter does (<c>ArbiterScheduler</c>); off: none.</param>
/// <param name="ArbiterOutstandingNs">Under an arbiter, the most predicted GPU time of best-effort kernels on the GPU at once, ns.</param>
/// <param name="ArbiterQuantumNs">Under a slicing arbiter, a best-effort kernel's slice length, ns.</param>
[GenerateSerializer, Immutable, Alias("contention.SimUnit")]
public sealed record SimUnit(
    [property: Id(0)] string Id,
    [property: Id(1)] string Profile,
    [property: Id(2)] GpuSharing Sharing,
    [property: Id(3)] IReadOnlyList<SimUnitTenant> Tenants,
    [property: Id(4)] int Cores = 0,
    [property: Id(5)] bool WeightedSlices = false,
    [property: Id(6)] bool PausesFirst = false,
    [property: Id(7)] ArbiterMode Arbiter = ArbiterMode.Off,
    [property: Id(8)] long ArbiterOutstandingNs = 500_000,
    [property: Id(9)] long ArbiterQuantumNs = 200_000);

/// <summary>What a group simulates.</summary>
/// <param name="Units">Its units.</param>
/// <param name="WarmupNs">Virtual time before the measurement window opens, ns.</param>
/// <param name="Histograms">Whether results carry each tenant's whole latency histogram (encoded), not only its percentiles.</param>
/// <param name="Profiles">The device profiles its units name, each as its JSON document: every silo simulates with the very profile the coordinator loaded.</param>
/// <param name="Convergence">When a unit may stop before the window's end; null: every unit runs the whole window.</param>
[GenerateSerializer, Immutable, Alias("contention.SimGroupLoad")]
public sealed record SimGroupLoad(
    [property: Id(0)] IReadOnlyList<SimUnit> Units,
    [property: Id(1)] long WarmupNs,
    [property: Id(2)] bool Histograms,
    [property: Id(3)] IReadOnlyDictionary<string, string> Profiles,
    [property: Id(4)] SimConvergence? Convergence = null);

/// <summary>
/// When a unit's statistics have converged and it stops: checked when its measurement window has
/// run <see cref="FirstCheckNs"/>, then each time the window has doubled; converged when, against
/// the previous check, every tenant's throughput moved by at most <see cref="ThroughputTolerance"/>
/// and every inference tenant's p50 and p99 by at most <see cref="LatencyTolerance"/> (relative),
/// every tenant having completed at least <see cref="MinCompleted"/> operations and every inference
/// tenant <see cref="MinLatencySamples"/> requests. A unit that never converges runs the whole window.
/// </summary>
/// <param name="FirstCheckNs">The first check, ns of measured virtual time.</param>
/// <param name="ThroughputTolerance">Relative change of throughput allowed between checks.</param>
/// <param name="LatencyTolerance">Relative change of p50 and p99 allowed between checks.</param>
/// <param name="MinCompleted">Operations each tenant completes at least before its unit may stop.</param>
/// <param name="MinLatencySamples">Requests each inference tenant completes at least before its unit may stop.</param>
[GenerateSerializer, Immutable, Alias("contention.SimConvergence")]
public sealed record SimConvergence(
    [property: Id(0)] long FirstCheckNs,
    [property: Id(1)] double ThroughputTolerance,
    [property: Id(2)] double LatencyTolerance,
    [property: Id(3)] int MinCompleted,
    [property: Id(4)] int MinLatencySamples)
{
    /// <summary>The shipped criterion: first check after 2 s, throughput within 2 %, p50 and p99 within 5 %, 50 operations and 1,000 requests at least.</summary>
    public static SimConvergence Default { get; } = new(2_000_000_000, 0.02, 0.05, 50, 1_000);

    /// <summary>The criterion in words, for reports.</summary>
    public string Describe() => string.Create(
        System.Globalization.CultureInfo.InvariantCulture,
        $"checked after {FirstCheckNs / 1e9:0.##} s of measured virtual time and at each doubling of it; converged when, against the previous check, every tenant's throughput moved by at most {ThroughputTolerance:0.#%} and every inference tenant's p50 and p99 by at most {LatencyTolerance:0.#%}, with at least {MinCompleted} operations per tenant and {MinLatencySamples} requests per inference tenant");
}

/// <summary>A group's answer to a window.</summary>
/// <param name="NowNs">Virtual time every unit stands at, ns.</param>
/// <param name="Events">Events its units have handled since the start.</param>
/// <param name="BusyNs">Wall-clock time spent simulating since the start, ns (all units, summed over the threads).</param>
/// <param name="Silo">The silo the group runs on.</param>
/// <param name="Running">Its units still running (not converged).</param>
[GenerateSerializer, Immutable, Alias("contention.SimGroupStep")]
public sealed record SimGroupStep(
    [property: Id(0)] long NowNs,
    [property: Id(1)] long Events,
    [property: Id(2)] long BusyNs,
    [property: Id(3)] string Silo,
    [property: Id(4)] int Running);

/// <summary>What one tenant of a unit did in the measurement window so far.</summary>
/// <param name="Name">The tenant's name on its GPU.</param>
/// <param name="Completed">Operations completed in the window.</param>
/// <param name="KernelNs">GPU time of its kernels in the window, ns.</param>
/// <param name="P50Ns">Median latency, ns (0 when none completed).</param>
/// <param name="P99Ns">99th percentile, ns.</param>
/// <param name="P999Ns">99.9th percentile, ns.</param>
/// <param name="MaxNs">Longest, ns.</param>
/// <param name="MeanNs">Mean, ns.</param>
/// <param name="Histogram">The whole latency histogram, encoded, when the load asked for it; else empty.</param>
/// <param name="Host">What its thread did on the host in the window.</param>
[GenerateSerializer, Immutable, Alias("contention.SimTenantOutcome")]
public sealed record SimTenantOutcome(
    [property: Id(0)] string Name,
    [property: Id(1)] long Completed,
    [property: Id(2)] long KernelNs,
    [property: Id(3)] long P50Ns,
    [property: Id(4)] long P99Ns,
    [property: Id(5)] long P999Ns,
    [property: Id(6)] long MaxNs,
    [property: Id(7)] double MeanNs,
    [property: Id(8)] byte[] Histogram,
    [property: Id(9)] SimHostCounters Host);

/// <summary>What a simulated tenant's thread did on the host in the window: what its OS side is modelled from.</summary>
/// <param name="Launches">Kernels and copies launched.</param>
/// <param name="Synchronises">Synchronises called.</param>
/// <param name="Waits">Those that waited for the GPU.</param>
/// <param name="WaitNs">Time in those waits, ns.</param>
/// <param name="IdleNs">Time waiting for the next request (open loop), ns.</param>
/// <param name="LaunchCpuNs">CPU time of the launches, ns.</param>
/// <param name="SwitchesIn">Time-slice switches that gave the GPU back to its context while its thread waited.</param>
/// <param name="TurnsLost">Turns on a host core its thread lost while the threads outnumbered the cores (the virtual tenant's: each an involuntary switch).</param>
/// <param name="HostBusyNs">Host time a replay's thread spent busy as the recorded job's host was, ns (CPU time by definition; 0 for other tenants).</param>
/// <param name="ArbiterHeld">A best-effort tenant's launches its GPU's arbiter held (0 without one).</param>
/// <param name="ArbiterHeldNs">How long they waited, ns.</param>
/// <param name="ArbiterPredictedNs">The predicted GPU time of the launches the arbiter let go, ns.</param>
/// <param name="ArbiterSleeps">Sleeps of its held launches (futex waits, each a voluntary switch).</param>
/// <param name="ArbiterWakes">Wake-ups of other tenants' sleeping launches it made (futex wakes).</param>
/// <param name="ArbiterCorrection">A best-effort tenant's duration-predictor correction when the window ended (0 for a latency-sensitive tenant or without an arbiter).</param>
[GenerateSerializer, Immutable, Alias("contention.SimHostCounters")]
public sealed record SimHostCounters(
    [property: Id(0)] long Launches,
    [property: Id(1)] long Synchronises,
    [property: Id(2)] long Waits,
    [property: Id(3)] long WaitNs,
    [property: Id(4)] long IdleNs,
    [property: Id(5)] long LaunchCpuNs,
    [property: Id(6)] long SwitchesIn = 0,
    [property: Id(7)] double TurnsLost = 0,
    [property: Id(8)] long HostBusyNs = 0,
    [property: Id(9)] long ArbiterHeld = 0,
    [property: Id(10)] long ArbiterHeldNs = 0,
    [property: Id(11)] long ArbiterPredictedNs = 0,
    [property: Id(12)] long ArbiterSleeps = 0,
    [property: Id(13)] long ArbiterWakes = 0,
    [property: Id(14)] double ArbiterCorrection = 0)
{
    /// <summary>Nothing done (nothing measured).</summary>
    public static SimHostCounters Zero { get; } = new(0, 0, 0, 0, 0, 0);
}

/// <summary>A unit's results so far.</summary>
/// <param name="Id">The unit.</param>
/// <param name="NowNs">Virtual time it reached, ns.</param>
/// <param name="MeasuredNs">How much of that lies in the measurement window, ns (0 while warming up).</param>
/// <param name="Events">Events it handled.</param>
/// <param name="Tenants">Its tenants, in the unit's order.</param>
/// <param name="Converged">It stopped early, its statistics converged (<see cref="SimConvergence"/>).</param>
/// <param name="BusyNs">Wall-clock time its event loop ran, ns: one loop runs on one thread at a time, so no simulation of it ends sooner.</param>
[GenerateSerializer, Immutable, Alias("contention.SimUnitOutcome")]
public sealed record SimUnitOutcome(
    [property: Id(0)] string Id,
    [property: Id(1)] long NowNs,
    [property: Id(2)] long MeasuredNs,
    [property: Id(3)] long Events,
    [property: Id(4)] IReadOnlyList<SimTenantOutcome> Tenants,
    [property: Id(5)] bool Converged = false,
    [property: Id(6)] long BusyNs = 0);
