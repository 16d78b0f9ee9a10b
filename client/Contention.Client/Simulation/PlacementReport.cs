using System.Globalization;
using System.Text;
using Contention.Client.Commands;
using Spectre.Console;

namespace Contention.Client.Simulation;

/// <summary>What placement snapshots of a trace came to: a table per policy, and each pod's place as CSV.</summary>
internal static class PlacementReport
{
    /// <summary>One line per pod: where <paramref name="snapshot"/> put it.</summary>
    public static string Csv(ClusterTrace trace, PlacementSnapshot snapshot)
    {
        var text = new StringBuilder("pod,qos,num_gpu,gpu_milli,cpu_milli,memory_mib,placed,node,gpu_model,gpus\n");
        foreach (var p in snapshot.Placements)
        {
            var node = p.Placed ? trace.Nodes[p.Node] : null;
            text.Append(CultureInfo.InvariantCulture, $"{p.Pod.Name},{p.Pod.Qos},{p.Pod.Gpus},{p.Pod.GpuMilli},{p.Pod.CpuMilli},{p.Pod.MemoryMiB},{(p.Placed ? "true" : "false")},{node?.Name ?? ""},{node?.Model ?? ""},{string.Join('|', p.Gpus)}\n");
        }

        return text.ToString();
    }

    /// <summary>The comparison as Markdown: the trace, then per policy what was placed and what capacity was left how.</summary>
    public static string Markdown(ClusterTrace trace, IReadOnlyList<PlacementSnapshot> snapshots)
    {
        var text = new StringBuilder();
        text.AppendLine("# Placement snapshot");
        text.AppendLine();
        text.AppendLine(Invariant($"Trace: {trace.Source} ({trace.Nodes.Count} nodes, {trace.Nodes.Sum(n => n.Gpus)} GPUs; {trace.Pods.Count} pods, {trace.Pods.Count(p => p.Gpus > 0)} of them asking for GPUs). The pods are placed in order of creation, none leaving, each where the policy puts it; one that finds no place is left out (the snapshot of the trace's own simulator, Weng et al., ATC 2023)."));
        text.AppendLine();
        text.AppendLine("| policy | pods placed | GPU pods placed | LS placed | BE placed | GPU capacity taken | idle GPUs | partly used GPUs | stranded (GPUs) | first GPU pod left out |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var s in snapshots)
        {
            var row = Row(trace, s);
            text.AppendLine($"| {string.Join(" | ", row)} |");
        }

        text.AppendLine();
        text.AppendLine("GPU capacity taken: thousandths of GPUs asked by the placed pods over the cluster's GPUs. Stranded: capacity left free on partly used GPUs, in GPUs.");
        return text.ToString();
    }

    /// <summary>The comparison as a console table.</summary>
    public static void Print(IAnsiConsole console, ClusterTrace trace, IReadOnlyList<PlacementSnapshot> snapshots)
    {
        var table = new Table().Title($"placement snapshot of {trace.Pods.Count} pods on {trace.Nodes.Count} nodes, {trace.Nodes.Sum(n => n.Gpus)} GPUs")
            .AddColumns("policy", "pods placed", "GPU pods placed", "LS placed", "BE placed", "GPU capacity taken", "idle GPUs", "partly used GPUs", "stranded (GPUs)", "first GPU pod left out");
        foreach (var s in snapshots)
        {
            table.AddRow([.. Row(trace, s).Select(Markup.Escape)]);
        }

        console.Write(table);
    }

    private static string[] Row(ClusterTrace trace, PlacementSnapshot s)
    {
        var placed = s.Placements.Where(p => p.Placed).ToList();
        string Of(Func<TracePod, bool> which) => Invariant($"{placed.Count(p => which(p.Pod))} / {trace.Pods.Count(which)}");
        var first = s.FirstUnplacedGpuPod;
        return
        [
            SimulateCommand.Word(s.Policy),
            Of(_ => true),
            Of(p => p.Gpus > 0),
            Of(p => p.Qos == "LS"),
            Of(p => p.Qos == "BE"),
            Invariant($"{s.Capacity.AllocatedGpuMilli / (10.0 * s.Capacity.TotalGpus):0.0} %"),
            Invariant($"{s.Capacity.IdleGpus}"),
            Invariant($"{s.Capacity.PartlyUsedGpus}"),
            Invariant($"{s.Capacity.StrandedGpuMilli / 1000.0:0.0}"),
            first is null ? "-" : Invariant($"{first.Pod.Name} ({first.Pod.Gpus} x {first.Pod.GpuMilli})"),
        ];
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
