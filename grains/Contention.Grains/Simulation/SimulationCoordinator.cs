using System.Diagnostics;


namespace Contention.Grains.Simulation;

/// <summary>A simulation for <see cref="SimulationCoordinator"/>.</summary>
/// <param name="Id">Its name: its groups are the grains <c>ID/0</c> … <c>ID/G-1</c>.</param>
/// <param name="Units">The GPUs and their tenants (unit ids unique; each profile a built-in name or a file the coordinator reads).</param>
/// <param name="WarmupNs">Virtual warm-up, ns.</param>
/// <param name="DurationNs">Virtual measurement window after it, ns.</param>
/// <param name="StepNs">How far the coordinator advances virtual time per window, ns: results do not depend on the number of silos or groups, and progress and Ctrl+C come at window ends.</param>
/// <param name="Histograms">Whether results carry whole latency histograms.</param>
/// <param name="Groups">How many groups (grains) share the units; 0: twice the cluster's active silos.</param>
/// <param name="Convergence">When a unit may stop before the window's end (<paramref name="DurationNs"/> is then the longest window); null: every unit runs the whole window.</param>
public sealed record SimulationRequest(string Id, IReadOnlyList<SimUnit> Units, long WarmupNs, long DurationNs, long StepNs, bool Histograms = false, int Groups = 0, SimConvergence? Convergence = null)
{
    /// <summary>The default window: 100 ms of virtual time.</summary>
    public const long DefaultStepNs = 100_000_000;
}

/// <summary>Where a simulation stands, after each window.</summary>
/// <param name="NowNs">Virtual time every group has reached, ns.</param>
/// <param name="EndNs">Where it ends (warm-up and window), ns.</param>
/// <param name="Events">Events handled so far, all groups.</param>
/// <param name="Elapsed">Wall-clock time since the start.</param>
/// <param name="Groups">Groups (grains).</param>
/// <param name="Silos">Silos they run on.</param>
/// <param name="Running">Units still running (the others converged and stopped).</param>
public sealed record SimulationProgress(long NowNs, long EndNs, long Events, TimeSpan Elapsed, int Groups, int Silos, int Running)
{
    /// <summary>Events per wall-clock second so far.</summary>
    public double EventsPerSecond => Events / Math.Max(Elapsed.TotalSeconds, 1e-9);

    /// <summary>Virtual time per wall-clock time so far (above 1: faster than real time).</summary>
    public double Speed => NowNs / 1e9 / Math.Max(Elapsed.TotalSeconds, 1e-9);
}

/// <summary>A simulation's end.</summary>
/// <param name="Units">Each unit's results, in the request's order.</param>
/// <param name="Progress">Where it stopped.</param>
/// <param name="Interrupted">Stopped before its end (cancelled): the units' results are those of the virtual time reached.</param>
/// <param name="Silos">The silos its groups ran on (addresses).</param>
/// <param name="BusyNs">Wall-clock time the groups spent simulating, summed over their threads, ns.</param>
public sealed record SimulationOutcome(IReadOnlyList<SimUnitOutcome> Units, SimulationProgress Progress, bool Interrupted, IReadOnlyList<string> Silos, long BusyNs)
{
    /// <summary>
    /// The unit whose event loop ran longest, and for how long (s): a simulation takes at least
    /// that, however many cores and silos share it, as one unit's loop is one thread's work.
    /// </summary>
    public (string Unit, double Seconds) Heaviest => Units.MaxBy(u => u.BusyNs) is { } u ? (u.Id, u.BusyNs / 1e9) : ("", 0);

    /// <summary>The heaviest unit in words, for a report: which it was, its seconds and its share of the wall time.</summary>
    public string DescribeHeaviest() => Units.Count == 0 || Progress.Elapsed <= TimeSpan.Zero ? "" : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"the heaviest unit ({Heaviest.Unit}) ran {Heaviest.Seconds:0.00} s of them on one thread ({Heaviest.Seconds / Progress.Elapsed.TotalSeconds:P0} of the wall time, a floor no more cores lower)");
}

/// <summary>
/// Runs a simulation over the cluster in conservative windows: its units dealt to groups
/// (<see cref="ISimNodeGrain"/>, spread over the silos), every group advanced to the same virtual
/// time, then the next window. Units meet only at window ends, so a window is safe to run
/// everywhere at once and the results are those of one event loop per unit: the same for a seed
/// whatever the number of silos or groups. Cancelling stops at the next window's end and keeps
/// what was simulated.
/// </summary>
public static class SimulationCoordinator
{
    /// <summary>Runs <paramref name="request"/> to its end or until <paramref name="cancellation"/>.</summary>
    public static async Task<SimulationOutcome> RunAsync(IGrainFactory grains, SimulationRequest request, IProgress<SimulationProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentOutOfRangeException.ThrowIfNegative(request.WarmupNs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(request.DurationNs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(request.StepNs);
        var duplicate = request.Units.GroupBy(u => u.Id, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"unit {duplicate.Key} is given twice: unit ids name results and must be unique", nameof(request));
        }

        var watch = Stopwatch.StartNew();
        var groupCount = request.Groups > 0 ? request.Groups : 2 * Math.Max(1, (await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true, CancellationToken.None)).Count);
        groupCount = Math.Max(1, Math.Min(groupCount, request.Units.Count));
        var groups = Enumerable.Range(0, groupCount).Select(k => grains.GetGrain<ISimNodeGrain>($"{request.Id}/{k}")).ToArray();
        var endNs = request.WarmupNs + request.DurationNs;
        try
        {
            // Profiles travel as documents: a silo needs neither the coordinator's files nor its version of a built-in one.
            var profiles = request.Units.Select(u => u.Profile).Distinct(StringComparer.Ordinal).ToDictionary(p => p, p => Workloads.Sim.DeviceProfile.Load(p).ToJson(), StringComparer.Ordinal);
            await Task.WhenAll(groups.Select((g, k) => g.LoadAsync(new SimGroupLoad([.. request.Units.Where((_, i) => i % groupCount == k)], request.WarmupNs, request.Histograms, profiles, request.Convergence))));
            long now = 0;
            SimGroupStep[] steps = [];
            var interrupted = false;
            while (now < endNs)
            {
                if (cancellation.IsCancellationRequested)
                {
                    interrupted = true;
                    break;
                }

                // A window never straddles the warm-up's end: the window opens exactly there.
                var next = Math.Min(endNs, now + request.StepNs);
                if (now < request.WarmupNs && next > request.WarmupNs)
                {
                    next = request.WarmupNs;
                }

                var target = next;
                steps = await Task.WhenAll(groups.Select(g => g.AdvanceAsync(target)));
                now = next;
                var running = steps.Sum(s => s.Running);
                progress?.Report(new SimulationProgress(now, endNs, steps.Sum(s => s.Events), watch.Elapsed, groupCount, steps.Select(s => s.Silo).Distinct(StringComparer.Ordinal).Count(), running));
                if (running == 0)
                {
                    break; // every unit converged
                }
            }

            var results = await Task.WhenAll(groups.Select(g => g.ResultsAsync()));
            var byId = results.SelectMany(r => r).ToDictionary(u => u.Id, StringComparer.Ordinal);
            var silos = steps.Select(s => s.Silo).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            var events = byId.Values.Sum(u => u.Events);
            return new SimulationOutcome(
                [.. request.Units.Select(u => byId[u.Id])],
                new SimulationProgress(now, endNs, events, watch.Elapsed, groupCount, silos.Count, steps.Sum(s => s.Running)),
                interrupted,
                silos,
                steps.Sum(s => s.BusyNs));
        }
        finally
        {
            await Task.WhenAll(groups.Select(g => g.ReleaseAsync()));
        }
    }
}
