using System.Globalization;
using System.Text;
using Contention.Client.Commands;
using Contention.Grains;
using Spectre.Console;

namespace Contention.Client.Simulation;

/// <summary>A trace played along its timeline, per policy (placement: who waited, how full the GPUs were) and per sharing mode (the pods in virtual time).</summary>
internal static class TimelineReport
{
    private const double Day = 86_400;

    /// <summary>The placement part as Markdown and on the console; each timeline's pods as <c>timeline-POLICY.csv</c>.</summary>
    public static string Placement(ClusterTrace trace, IReadOnlyList<TraceTimeline> timelines, string directory, IAnsiConsole console)
    {
        string[] header = ["policy", "pods living", "placed at arrival", "waited", "wait, median of those", "never placed", "peak running", "peak waiting", "GPU-days taken", "of them shared"];
        var rows = new List<string[]>();
        foreach (var timeline in timelines)
        {
            File.WriteAllText(Path.Combine(directory, $"timeline-{SimulateCommand.Word(timeline.Policy)}.csv"), Csv(trace, timeline));
            var stays = timeline.Stays;
            var waited = stays.Where(s => s.StartSeconds is { } start && start > s.Pod.CreationSeconds).ToList();
            var gpuSeconds = timeline.Spans.Sum(s => (double)s.Seconds);
            var shared = timeline.Spans.Where(s => s.Pods.Count > 1).Sum(s => (double)s.Seconds);
            rows.Add(
            [
                SimulateCommand.Word(timeline.Policy),
                Invariant($"{stays.Count}"),
                Invariant($"{stays.Count(s => s.StartSeconds == s.Pod.CreationSeconds)}"),
                Invariant($"{waited.Count}"),
                waited.Count == 0 ? "-" : Duration(Median(waited.Select(s => (double)s.WaitSeconds))),
                Invariant($"{stays.Count(s => s.StartSeconds is null)}"),
                Invariant($"{timeline.PeakRunning}"),
                Invariant($"{timeline.PeakWaiting}"),
                Invariant($"{gpuSeconds / Day:0.0}"),
                Invariant($"{shared / Day:0.0} ({(gpuSeconds == 0 ? 0 : 100 * shared / gpuSeconds):0.0} %)"),
            ]);
        }

        var stayed = timelines.Count == 0 ? [] : timelines[0].Stays;
        var span = stayed.Count == 0 ? 0 : (stayed.Max(s => s.EndSeconds) - stayed.Min(s => s.Pod.CreationSeconds)) / Day;
        var factor = timelines.Count == 0 ? 1 : timelines[0].LoadFactor;
        var load = factor == 1 ? "" : Invariant($" Load factor {factor:0.##}: each pod arrives at its creation time divided by {factor:0.##} and lives as long as in the trace (times in the CSVs are so scaled).");
        var title = Invariant($"timeline of {trace.Pods.Count} pods over {span:0.#} days on {trace.Nodes.Count} nodes, {trace.Nodes.Sum(n => n.Gpus)} GPUs");
        Print(console, title, header, rows);
        var text = new StringBuilder();
        text.AppendLine("# Timeline");
        text.AppendLine();
        text.AppendLine(Invariant($"Trace: {trace.Source} ({trace.Nodes.Count} nodes, {trace.Nodes.Sum(n => n.Gpus)} GPUs; {trace.Pods.Count} pods over {span:0.#} days; Weng et al., ATC 2023). Each pod arrives at its creation time and is placed by the policy where it fits, else waits (first come, first served, a later pod that fits going first); it runs as long as it lived in the trace (deletion less creation) from its start, then leaves, and the waiting pods are tried again; one that fits no node even in an empty cluster is never placed. Pods whose deletion is not after their creation never live ({trace.Pods.Count - (timelines.Count == 0 ? 0 : timelines[0].Stays.Count)} here). GPU-days taken: the time GPUs had pods on them; shared: with more than one pod.{load}"));
        text.AppendLine();
        Table(text, header, rows);
        return text.ToString();
    }

    /// <summary>
    /// Simulates every timeline under every sharing mode (each distinct co-location once, until its
    /// statistics converge), writes <c>tenants-timeline-POLICY-SHARING.csv</c>, prints and returns the comparison.
    /// </summary>
    public static async Task<string> SimulateAsync(IGrainFactory grains, ClusterTrace trace, IReadOnlyList<TraceTimeline> timelines, TraceSimulationOptions options, string directory, IAnsiConsole console, CancellationToken cancellation)
    {
        var convergence = SimConvergence.Default;
        var simulation = new TraceSimulation(trace, options.Mapping, options.GpuProfiles, options.WarmupSeconds, options.DurationSeconds, convergence) { WeightedSlices = options.WeightedSlices };
        foreach (var timeline in timelines)
        {
            foreach (var sharing in options.Sharings.Where(m => SimulateCommand.Simulates(timeline.Policy, m)))
            {
                simulation.PlanTimeline(timeline, sharing);
            }
        }

        var outcome = await simulation.SimulateAsync(grains, console, cancellation);
        string[] header = ["policy", "sharing", "inference pods meeting SLO", "ever overloaded", "pods that shared", "their p99 / alone, median", "their training slowdown, median", "co-locations (converged)", "spans reused"];
        var rows = new List<string[]>();
        foreach (var timeline in timelines)
        {
            foreach (var sharing in options.Sharings.Where(m => SimulateCommand.Simulates(timeline.Policy, m)))
            {
                var (tenants, colocations, converged) = simulation.TimelineResults(timeline, sharing);
                File.WriteAllText(Path.Combine(directory, $"tenants-timeline-{SimulateCommand.Word(timeline.Policy)}-{sharing.Word()}.csv"), TenantsCsv(tenants, options.SloFactor));
                var services = tenants.Where(t => t.Tenant.Kind == TenantKind.Inference).ToList();
                var shared = tenants.Where(t => t.SharedSeconds > 0).ToList();
                var sharedServices = shared.Where(t => t.Tenant.Kind == TenantKind.Inference && t.OverloadedSeconds == 0).ToList();
                var sharedTrainers = shared.Where(t => t.Tenant.Kind == TenantKind.Training).ToList();
                rows.Add(
                [
                    SimulateCommand.Word(timeline.Policy),
                    sharing.Word(),
                    Invariant($"{services.Count(t => t.SloMet(options.SloFactor))} / {services.Count} ({(services.Count == 0 ? 0 : 100.0 * services.Count(t => t.SloMet(options.SloFactor)) / services.Count):0.0} %)"),
                    Invariant($"{services.Count(t => t.OverloadedSeconds > 0)}"),
                    Invariant($"{shared.Count} ({shared.Count(t => t.Tenant.Kind == TenantKind.Inference)} inference)"),
                    sharedServices.Count == 0 ? "-" : Invariant($"{Median(sharedServices.Select(t => t.P99Ms / t.AloneP99Ms)):0.00}x (max {sharedServices.Select(t => t.P99Ms / t.AloneP99Ms).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Max():0.00}x)"),
                    sharedTrainers.Count == 0 ? "-" : Invariant($"{Median(sharedTrainers.Select(t => t.Slowdown)):0.00}x (max {sharedTrainers.Select(t => t.Slowdown).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Max():0.00}x)"),
                    Invariant($"{colocations} ({converged})"),
                    Invariant($"{tenants.Sum(t => t.ReusedSpans)} of {tenants.Sum(t => t.Spans)}"),
                ]);
            }
        }

        File.WriteAllText(Path.Combine(directory, "colocations-timeline.csv"), ColocationsCsv(simulation, timelines, options.Sharings));
        Print(console, Invariant($"the pods' lives in virtual time ({options.WarmupSeconds:0.##} s warm-up, each co-location until it converges or {options.DurationSeconds:0.##} s; SLO: keeping up, p99 within {options.SloFactor:0.##}x alone)"), header, rows);
        var simulatedSeconds = outcome.Units.Sum(u => u.MeasuredNs / 1e9);
        var coveredSeconds = timelines.Sum(t => t.Spans.Sum(s => (double)s.Seconds) * options.Sharings.Count(m => SimulateCommand.Simulates(t.Policy, m)));
        var how = Invariant($"{outcome.Units.Count} distinct co-locations and tenants alone simulated, {outcome.Units.Count(u => u.Converged)} of them to convergence (the others for the whole {options.DurationSeconds:0.##} s): {outcome.Progress.Events / 1e6:0.0} M events in {outcome.Progress.Elapsed.TotalSeconds:0.0} s ({outcome.Progress.EventsPerSecond / 1e6:0.00} M events/s) on {outcome.Silos.Count} node(s) ({outcome.DescribeHeaviest()}); {simulatedSeconds:0} s of measured virtual time stand for {coveredSeconds / Day:0.0} GPU-days of spans ({coveredSeconds / Math.Max(simulatedSeconds, 1e-9):0} to 1).");
        if (outcome.Interrupted)
        {
            how += Invariant($" **Interrupted** at {outcome.Progress.NowNs / 1e9:0.###} s of virtual time: every co-location's figures are of the part of its window simulated.");
        }

        console.WriteLine(how);
        var text = new StringBuilder();
        text.AppendLine();
        text.AppendLine("## The pods' lives in virtual time");
        text.AppendLine();
        text.AppendLine(Invariant($"Every span of a GPU's life with pods on it (a constant set of pods) is a co-location: a modelled GPU of the GPU model's profile running the pods' tenants ({options.Mapping.Source}), each pod's GPU share its MPS share{(options.WeightedSlices ? " and, time-sliced, its slice's weight (--timeslice-weights)" : "")}. Each distinct co-location (profile, sharing mode, tenants with their shares) is simulated once, after {options.WarmupSeconds:0.##} s of warm-up, until its statistics converge ({convergence.Describe()}) or for {options.DurationSeconds:0.##} s, and its figures stand for every span of it, however long: the time compression. A pod's throughput over its life weights each span's rate by its length; its p50 and p99 are those of the mixture of its spans' latency distributions, each weighted by the requests of the span. An inference pod meets its SLO when it never falls under 90 % of its requests in a span and its p99 over its life is within {options.SloFactor:0.##}x its p99 alone (same GPU model and share). Spans reused: spans whose co-location had been met before, in this timeline or an earlier one. A GPU's pods share its node's cores over its GPUs where they outnumber them. Not modelled: {(options.WeightedSlices ? "" : "a time-slicing weight for a fraction (--timeslice-weights), ")}and what happens inside a span beyond the converged steady state (a pod's start-up, a queue carried from one span into the next)."));
        text.AppendLine();
        text.AppendLine(how);
        text.AppendLine();
        Table(text, header, rows);
        return text.ToString();
    }

    private static string Csv(ClusterTrace trace, TraceTimeline timeline)
    {
        var text = new StringBuilder("pod,qos,num_gpu,gpu_milli,created_s,deleted_s,started_s,ended_s,wait_s,run_s,node,gpu_model,gpus\n");
        foreach (var s in timeline.Stays)
        {
            var node = s.Placement.Placed ? trace.Nodes[s.Placement.Node] : null;
            text.Append(CultureInfo.InvariantCulture, $"{s.Pod.Name},{s.Pod.Qos},{s.Pod.Gpus},{s.Pod.GpuMilli},{s.Pod.CreationSeconds},{s.Pod.DeletionSeconds},{s.StartSeconds?.ToString(CultureInfo.InvariantCulture) ?? ""},{(s.StartSeconds is null ? "" : s.EndSeconds.ToString(CultureInfo.InvariantCulture))},{s.WaitSeconds},{s.RunSeconds},{node?.Name ?? ""},{node?.Model ?? ""},{string.Join('|', s.Placement.Gpus)}\n");
        }

        return text.ToString();
    }

    private static string TenantsCsv(IEnumerable<TimelineTenantResult> tenants, double sloFactor)
    {
        var text = new StringBuilder("pod,qos,node,gpu,gpu_model,gpu_milli,started_s,run_s,spans,reused_spans,max_sharers,shared_s,kind,model,batch,offered_per_s,throughput_per_s,p50_ms,p99_ms,overloaded_s,alone_throughput_per_s,alone_p99_ms,slo_met,slowdown\n");
        foreach (var t in tenants)
        {
            text.Append(CultureInfo.InvariantCulture, $"{t.Stay.Pod.Name},{t.Stay.Pod.Qos},{t.Node},{t.Gpu},{t.Model},{t.Stay.Pod.GpuMilli},{t.Stay.StartSeconds},{t.Stay.RunSeconds},{t.Spans},{t.ReusedSpans},{t.MaxSharers},{t.SharedSeconds},{t.Tenant.Kind.Word()},{t.Tenant.Model},{t.Tenant.BatchSize},{t.Tenant.RatePerSecond},{Number(t.Throughput)},{Number(t.P50Ms)},{Number(t.P99Ms)},{t.OverloadedSeconds},{Number(t.AloneThroughput)},{Number(t.AloneP99Ms)},{(t.Tenant.Kind == TenantKind.Inference ? (t.SloMet(sloFactor) ? "true" : "false") : "")},{Number(t.Slowdown)}\n");
        }

        return text.ToString();
    }

    // Every unit: what it is, how long it was simulated, whether it converged, and the spans (all
    // timelines and modes) whose figures it gives.
    private static string ColocationsCsv(TraceSimulation simulation, IReadOnlyList<TraceTimeline> timelines, IReadOnlyList<GpuSharing> sharings)
    {
        var covered = new Dictionary<string, (int Spans, double Seconds)>(StringComparer.Ordinal);
        foreach (var timeline in timelines)
        {
            foreach (var sharing in sharings.Where(m => SimulateCommand.Simulates(timeline.Policy, m)))
            {
                foreach (var span in timeline.Spans)
                {
                    var key = simulation.KeyOf(span, sharing);
                    var (spans, seconds) = covered.GetValueOrDefault(key);
                    covered[key] = (spans + 1, seconds + span.Seconds);
                }
            }
        }

        var text = new StringBuilder("colocation,tenants,measured_s,converged,events,spans,span_gpu_days\n");
        foreach (var (key, unit) in simulation.Outcomes)
        {
            var (spans, seconds) = covered.GetValueOrDefault(key);
            text.Append(CultureInfo.InvariantCulture, $"\"{key}\",{unit.Tenants.Count},{unit.MeasuredNs / 1e9:0.###},{(unit.Converged ? "true" : "false")},{unit.Events},{spans},{seconds / Day:0.####}\n");
        }

        return text.ToString();
    }

    /// <summary>A comparison table on the console.</summary>
    internal static void Print(IAnsiConsole console, string title, string[] header, List<string[]> rows)
    {
        var table = new Table().Title(Markup.Escape(title)).AddColumns(header);
        foreach (var row in rows)
        {
            table.AddRow([.. row.Select(Markup.Escape)]);
        }

        console.Write(table);
    }

    /// <summary>The same table as Markdown.</summary>
    internal static void Table(StringBuilder text, string[] header, List<string[]> rows)
    {
        text.AppendLine($"| {string.Join(" | ", header)} |");
        text.AppendLine($"|{string.Concat(header.Select(_ => "---|"))}");
        foreach (var row in rows)
        {
            text.AppendLine($"| {string.Join(" | ", row)} |");
        }
    }

    private static string Duration(double seconds) => seconds switch
    {
        < 120 => Invariant($"{seconds:0} s"),
        < 7200 => Invariant($"{seconds / 60:0.#} min"),
        < 2 * Day => Invariant($"{seconds / 3600:0.#} h"),
        _ => Invariant($"{seconds / Day:0.#} days"),
    };

    private static string Number(double value) => double.IsFinite(value) ? value.ToString("0.####", CultureInfo.InvariantCulture) : "";

    private static double Median(IEnumerable<double> values) => TraceReport.Median(values);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
