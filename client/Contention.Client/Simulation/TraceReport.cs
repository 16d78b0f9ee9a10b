using System.Globalization;
using System.Text;
using Contention.Client.Commands;
using Contention.Client.Mixes;
using Contention.Grains;
using Spectre.Console;

namespace Contention.Client.Simulation;

/// <summary>How a trace's placed pods are simulated: what they run, how GPUs are shared, which profile each GPU model gets, the window and the SLO.</summary>
/// <param name="Mapping">What each class of service runs (<see cref="TraceSimulation.CheckMapping"/>).</param>
/// <param name="Sharings">Sharing modes, each simulated.</param>
/// <param name="GpuProfiles">Profile names by trace GPU model where not the datasheet-scaled one of its name.</param>
/// <param name="WarmupSeconds">Virtual seconds before the window.</param>
/// <param name="DurationSeconds">The window, virtual seconds.</param>
/// <param name="SloFactor">An inference pod meets its SLO with p99 within this factor of its p99 alone (and keeping up).</param>
/// <param name="OsModel">The OS cost model the pods' host side is predicted with (the same for every GPU model: their hosts are not told apart); null: not predicted.</param>
/// <param name="WeightedSlices">Time-sliced GPUs give each pod slices in proportion to its GPU share (<c>--timeslice-weights</c>); false: equal slices.</param>
internal sealed record TraceSimulationOptions(Mix Mapping, IReadOnlyList<GpuSharing> Sharings, IReadOnlyDictionary<string, string> GpuProfiles, double WarmupSeconds, double DurationSeconds, double SloFactor, Contention.Workloads.Sim.OsCostModel? OsModel = null, bool WeightedSlices = false);

/// <summary>The placed pods of each snapshot simulated under each sharing mode: per-pod CSVs and the comparison.</summary>
internal static class TraceReport
{
    /// <summary>
    /// Simulates every snapshot under every sharing mode as one simulation on the cluster of
    /// <paramref name="grains"/>, writes <c>tenants-POLICY-SHARING.csv</c> into
    /// <paramref name="directory"/>, prints the comparison and returns it as Markdown. Cancelled, it
    /// keeps the part of the window simulated and says so.
    /// </summary>
    public static async Task<string> SimulateAsync(IGrainFactory grains, ClusterTrace trace, IReadOnlyList<PlacementSnapshot> snapshots, TraceSimulationOptions options, string directory, IAnsiConsole console, CancellationToken cancellation)
    {
        var simulation = new TraceSimulation(trace, options.Mapping, options.GpuProfiles, options.WarmupSeconds, options.DurationSeconds) { OsModel = options.OsModel, WeightedSlices = options.WeightedSlices };
        foreach (var snapshot in snapshots)
        {
            foreach (var sharing in options.Sharings.Where(m => SimulateCommand.Simulates(snapshot.Policy, m)))
            {
                simulation.Plan(snapshot, sharing);
            }
        }

        var outcome = await simulation.SimulateAsync(grains, console, cancellation);
        var rows = new List<string[]>();
        foreach (var snapshot in snapshots)
        {
            foreach (var sharing in options.Sharings.Where(m => SimulateCommand.Simulates(snapshot.Policy, m)))
            {
                var (tenants, gpus, simulated, events) = simulation.Results(snapshot, sharing);
                var name = $"{SimulateCommand.Word(snapshot.Policy)}-{sharing.Word()}";
                File.WriteAllText(Path.Combine(directory, $"tenants-{name}.csv"), Csv(tenants, options.SloFactor));
                File.WriteAllText(Path.Combine(directory, $"gpus-{name}.csv"), GpusCsv(tenants, simulation, options.SloFactor));
                File.WriteAllText(Path.Combine(directory, $"nodes-{name}.csv"), NodesCsv(trace, tenants));
                var services = tenants.Where(t => t.Tenant.Kind == TenantKind.Inference).ToList();
                var shared = tenants.Where(t => t.Sharers > 1).ToList();
                var sharedServices = shared.Where(t => t.Tenant.Kind == TenantKind.Inference).ToList();
                var sharedTrainers = shared.Where(t => t.Tenant.Kind == TenantKind.Training).ToList();
                rows.Add(
                [
                    SimulateCommand.Word(snapshot.Policy),
                    sharing.Word(),
                    Invariant($"{gpus} ({simulated} simulated)"),
                    Invariant($"{services.Count(t => t.SloMet(options.SloFactor))} / {services.Count} ({(services.Count == 0 ? 0 : 100.0 * services.Count(t => t.SloMet(options.SloFactor)) / services.Count):0.0} %)"),
                    Invariant($"{services.Count(t => t.Overloaded)}"),
                    Invariant($"{shared.Count} ({sharedServices.Count} inference)"),
                    sharedServices.Count == 0 ? "-" : Invariant($"{Median(sharedServices.Where(t => !t.Overloaded).Select(t => t.P99Ms / t.AloneP99Ms)):0.00}x (max {sharedServices.Where(t => !t.Overloaded).Select(t => t.P99Ms / t.AloneP99Ms).DefaultIfEmpty(double.NaN).Max():0.00}x)"),
                    sharedTrainers.Count == 0 ? "-" : Invariant($"{Median(sharedTrainers.Select(t => t.Slowdown)):0.00}x (max {sharedTrainers.Select(t => t.Slowdown).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Max():0.00}x)"),
                    Invariant($"{events / 1e6:0.0} M"),
                    options.OsModel is null ? "-" : Invariant($"{tenants.Select(t => t.CpuCores).Where(double.IsFinite).Sum():0} cores"),
                ]);
            }
        }

        string[] header = ["policy", "sharing", "GPUs with pods", "inference pods meeting SLO", "overloaded", "pods sharing a GPU", "their p99 / alone, median", "their training slowdown, median", "events of its new co-locations", "host CPU burned (modelled)"];
        TimelineReport.Print(console, Invariant($"the placed pods in virtual time ({options.WarmupSeconds:0.##} s warm-up, {options.DurationSeconds:0.##} s window; SLO: keeping up, p99 within {options.SloFactor:0.##}x alone)"), header, rows);
        var how = Invariant($"{outcome.Units.Count} distinct co-locations and tenants alone simulated: {outcome.Progress.Events / 1e6:0.0} M events in {outcome.Progress.Elapsed.TotalSeconds:0.0} s ({outcome.Progress.EventsPerSecond / 1e6:0.00} M events/s) on {outcome.Silos.Count} node(s), {outcome.Progress.Groups} group(s); {outcome.DescribeHeaviest()}.");
        if (outcome.Interrupted)
        {
            how += Invariant($" **Interrupted** at {outcome.Progress.NowNs / 1e9:0.###} s of {outcome.Progress.EndNs / 1e9:0.###} s of virtual time: {(outcome.Progress.NowNs > simulation.WarmupNs ? $"every figure is of the first {(outcome.Progress.NowNs - simulation.WarmupNs) / 1e9:0.###} s of the window" : "still warming up, nothing was measured")}.");
        }

        console.WriteLine(how);
        var text = new StringBuilder();
        text.AppendLine();
        text.AppendLine("## The placed pods in virtual time");
        text.AppendLine();
        text.AppendLine(Invariant($"Each GPU with pods on it is a modelled GPU (`contention simulate`'s virtual time) of its model's profile ({string.Join(", ", trace.Nodes.Where(n => n.Gpus > 0).Select(n => n.Model).Distinct().Order(StringComparer.Ordinal).Select(m => $"{m}: {simulation.ProfileOf(m)}"))}) running its pods' tenants, each pod's GPU share its MPS share{(options.WeightedSlices ? " and, time-sliced, its slice's weight (--timeslice-weights: a pod's slice is the timeslice times its share over the largest share on its GPU)" : "")}; what a pod runs comes from its class of service ({options.Mapping.Source}: {string.Join("; ", options.Mapping.Tenants.Select(Describe))}). {options.WarmupSeconds:0.##} s of warm-up, a {options.DurationSeconds:0.##} s window; each distinct co-location (same profile, sharing and tenants with their shares) is simulated once and its result reused wherever it occurs, under any policy. An inference pod meets its SLO when it completes at least 90 % of its requests and its p99 is within {options.SloFactor:0.##}x its p99 alone on a GPU of the same model with the same share; a trainer's slowdown is its steps/s alone over its steps/s shared. {(options.OsModel is null ? "The host side is not predicted (no OS model)." : $"Each pod's host CPU and system calls are the OS cost model's ({options.OsModel.Source}), the same model for every GPU model's host; per GPU and node in gpus-*.csv and nodes-*.csv.")} A GPU's pods share its node's cores over its GPUs where they outnumber them (one thread each; VirtualCores), else each has a core; the node's other GPUs' pods do not take from them. {(options.WeightedSlices ? "" : "Not modelled: a time-slicing weight for a fraction (time-slicing gives a fractional pod no less than a whole one, as the driver does; --timeslice-weights weighs slices by share).")}"));
        text.AppendLine();
        text.AppendLine(how);
        text.AppendLine();
        TimelineReport.Table(text, header, rows);

        return text.ToString();
    }

    private static string Describe(TenantSpec t) => t.Kind == TenantKind.Inference
        ? Invariant($"{t.Name} an inference service, {t.Model} batch {t.BatchSize} at {t.RatePerSecond:0.##}/s, priority {t.Priority}")
        : Invariant($"{t.Name} a trainer, {t.Model} batch {t.BatchSize}");

    private static string Csv(IEnumerable<TraceTenantResult> tenants, double sloFactor)
    {
        var text = new StringBuilder("pod,qos,node,gpu,gpu_model,gpu_milli,sharers,kind,model,batch,sync,offered_per_s,throughput_per_s,p50_ms,p99_ms,alone_throughput_per_s,alone_p99_ms,overloaded,slo_met,slowdown,reused,gpu_busy,cpu_cores_modelled,syscalls_per_s_modelled\n");
        foreach (var t in tenants)
        {
            text.Append(CultureInfo.InvariantCulture, $"{t.Pod.Name},{t.Pod.Qos},{t.Node},{t.Gpu},{t.Model},{t.Pod.GpuMilli},{t.Sharers},{t.Tenant.Kind.Word()},{t.Tenant.Model},{t.Tenant.BatchSize},{t.Tenant.SyncMode.Word()},{t.Tenant.RatePerSecond},{t.Throughput:0.###},{Ms(t.P50Ms)},{Ms(t.P99Ms)},{t.AloneThroughput:0.###},{Ms(t.AloneP99Ms)},{Flag(t.Overloaded)},{(t.Tenant.Kind == TenantKind.Inference ? Flag(t.SloMet(sloFactor)) : "")},{t.Slowdown:0.###},{Flag(t.Reused)},{Ms(t.KernelShare)},{Ms(t.CpuCores)},{(t.Os.Count == 0 ? "" : Ms(t.Os.Where(p => p.Key.StartsWith("calls_", StringComparison.Ordinal)).Sum(p => p.Value)))}\n");
        }

        return text.ToString();
    }

    // Per GPU with pods: its tenants, their kernels' time per second summed (above 1 under MPS
    // when kernels overlap) and the host CPU they burn (modelled).
    private static string GpusCsv(IReadOnlyList<TraceTenantResult> tenants, TraceSimulation simulation, double sloFactor)
    {
        var text = new StringBuilder("node,gpu,gpu_model,profile,tenants,gpu_milli_taken,kernel_time_per_s,inference_pods,slo_misses,cpu_cores_modelled,reused\n");
        foreach (var gpu in tenants.GroupBy(t => (t.Node, t.Gpu)))
        {
            var list = gpu.ToList();
            var cpu = list.Select(t => t.CpuCores).Where(double.IsFinite).ToList();
            text.Append(CultureInfo.InvariantCulture, $"{gpu.Key.Node},{gpu.Key.Gpu},{list[0].Model},{simulation.ProfileOf(list[0].Model)},{list.Count},{list.Sum(t => t.Pod.GpuMilli)},{Ms(list.Sum(t => t.KernelShare))},{list.Count(t => t.Tenant.Kind == TenantKind.Inference)},{list.Count(t => t.Tenant.Kind == TenantKind.Inference && !t.SloMet(sloFactor))},{(cpu.Count == 0 ? "" : Ms(cpu.Sum()))},{Flag(list[0].Reused)}\n");
        }

        return text.ToString();
    }

    // Per node with pods on its GPUs: the GPUs busy, the cores its tenants' host threads burn
    // (modelled) against the node's cores.
    private static string NodesCsv(ClusterTrace trace, IReadOnlyList<TraceTenantResult> tenants)
    {
        var text = new StringBuilder("node,gpu_model,gpus,gpus_with_pods,tenants,cores,cpu_cores_modelled,cpu_share_modelled\n");
        var byName = trace.Nodes.ToDictionary(n => n.Name, StringComparer.Ordinal);
        foreach (var node in tenants.GroupBy(t => t.Node).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var spec = byName[node.Key];
            var cpu = node.Select(t => t.CpuCores).Where(double.IsFinite).ToList();
            var cores = spec.CpuMilli / 1000.0;
            text.Append(CultureInfo.InvariantCulture, $"{node.Key},{spec.Model},{spec.Gpus},{node.Select(t => t.Gpu).Distinct().Count()},{node.Select(t => t.Pod.Name).Distinct().Count()},{cores:0.###},{(cpu.Count == 0 ? "" : Ms(cpu.Sum()))},{(cpu.Count == 0 || cores == 0 ? "" : Ms(cpu.Sum() / cores))}\n");
        }

        return text.ToString();
    }

    private static string Ms(double value) => double.IsFinite(value) ? value.ToString("0.####", CultureInfo.InvariantCulture) : "";

    private static string Flag(bool value) => value ? "true" : "false";

    // Over finite values (a trainer that completed nothing has an infinite slowdown). Not
    // Phase1Analysis.Median: the analysis is left out of the lean build GPU hosts get.
    internal static double Median(IEnumerable<double> values)
    {
        var sorted = values.Where(double.IsFinite).Order().ToArray();
        return sorted.Length == 0 ? double.NaN : (sorted[(sorted.Length - 1) / 2] + sorted[sorted.Length / 2]) / 2;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
