using System.Globalization;
using Contention.Grains;

namespace Contention.Client.Results;

/// <summary>
/// A run's verdict, as MLPerf LoadGen gives one: valid, or invalid with every reason — a run that
/// did not complete, tenants that failed or restarted, measurement windows longer or shorter than
/// asked, a node whose timers ran late, whose CPUs were saturated or whose hypervisor took its CPUs
/// while tenants were measured,
/// events the tracer dropped or a tracer that stopped, latency lines that held no latency.
/// An invalid run's numbers are still saved; they are not what the mix asked to measure.
/// </summary>
/// <param name="Valid">No reason found.</param>
/// <param name="Reasons">Why not, one sentence each.</param>
public sealed record Validity(bool Valid, IReadOnlyList<string> Reasons)
{
    /// <summary>A measured window may exceed the one asked by this share of it …</summary>
    public const double WindowRelativeTolerance = 0.05;

    /// <summary>… plus this many seconds (the phase switch and final flush of a loaded node).</summary>
    public const double WindowAbsoluteToleranceSeconds = 0.5;

    /// <summary>Samples further apart than this many times the asked interval …</summary>
    public const double LateTimerFactor = 2;

    /// <summary>… plus this many seconds mean the node's timers ran late.</summary>
    public const double LateTimerSlackSeconds = 0.5;

    /// <summary>Share of a tenant's window above which a modelled GPU's thread running late makes the run invalid.</summary>
    public const double ModelLateShare = 0.01;

    /// <summary>Busy share of a node's CPU time at or above which it counts as saturated.</summary>
    public const double CpuSaturated = 0.95;

    /// <summary>
    /// Share of a node's CPU time its hypervisor may steal while tenants are measured. On the H200
    /// host (a VM) runs of the same mix with 0.14-0.24 % stolen had a service's p99 1.7-2.7x the
    /// runs with none (whose steal stayed at or below 0.12 %): a stolen core stops every thread on it.
    /// </summary>
    public const double CpuStolen = 0.001;

    /// <summary>Why a row measured while node <paramref name="node"/>'s hypervisor stole <paramref name="steal"/> of its CPU time makes a run invalid; null when it stole less than <see cref="CpuStolen"/>.</summary>
    public static string? StolenReason(string node, string tenant, double steal) => steal < CpuStolen ? null
        : Format($"node {node}'s hypervisor took {steal * 100:0.00}% of its CPU time while tenant {tenant} was measured ({CpuStolen * 100:0.0}% allowed): threads on a taken core stood still, so the latencies include stalls the workload did not cause; run again, or on a host with dedicated CPUs");

    /// <summary>Judges a results document.</summary>
    public static Validity Judge(ResultsDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var reasons = new List<string>();
        var experiment = document.Experiment;
        if (experiment.State != "Completed")
        {
            reasons.Add($"the experiment ended {experiment.State}{(string.IsNullOrEmpty(experiment.Message) ? "" : $": {experiment.Message}")}");
        }

        foreach (var failure in document.Failures)
        {
            var node = string.IsNullOrEmpty(failure.Node) ? "" : $" on {failure.Node}";
            reasons.Add(failure.WillRestart
                ? $"tenant {failure.Tenant}'s worker failed{node} and was restarted (a gap in its measurements): {failure.Message}"
                : $"tenant {failure.Tenant} failed{node}: {failure.Message}");
        }

        // A tenant that ended Failed with no failure recorded (its node could not record one).
        foreach (var row in document.Tenants.Where(r => r.Phase == MeasurementPhase.Measure && r.State == "Failed" && !document.Failures.Any(f => f.Tenant == r.Tenant)))
        {
            reasons.Add($"tenant {row.Tenant} ended Failed{(string.IsNullOrEmpty(row.Node) ? "" : $" on {row.Node}")}{(string.IsNullOrEmpty(row.Error) ? "" : $": {row.Error}")}");
        }

        foreach (var (tenant, capacity) in document.Mix.Capacities ?? new Dictionary<string, TenantCapacity>())
        {
            if (!capacity.Valid)
            {
                reasons.Add($"tenant {tenant} was offered {capacity.Share * 100:0.#} % of a capacity measured in an invalid run ({capacity.MeasuredBy})");
            }
        }

        var asked = experiment.DurationSeconds;
        var longest = asked * (1 + WindowRelativeTolerance) + WindowAbsoluteToleranceSeconds;
        var shortest = asked * (1 - WindowRelativeTolerance) - WindowAbsoluteToleranceSeconds;
        var lateModels = new HashSet<(string Node, string Device)>();
        var stolen = new HashSet<string>();
        foreach (var row in document.Tenants.Where(r => r.Phase == MeasurementPhase.Measure))
        {
            if (row.Seconds > longest)
            {
                reasons.Add(Format($"tenant {row.Tenant} was measured over {row.Seconds:0.00} s, {asked:0.##} s asked (tolerance {WindowRelativeTolerance * 100:0}% + {WindowAbsoluteToleranceSeconds} s): its node could not keep to the window"));
            }
            else if (experiment.State == "Completed" && row.Seconds == 0)
            {
                reasons.Add($"tenant {row.Tenant} was never measured");
            }
            else if (experiment.State == "Completed" && row.State != "Finished" && row.Seconds < shortest)
            {
                reasons.Add(Format($"tenant {row.Tenant} was measured over {row.Seconds:0.00} s, {asked:0.##} s asked"));
            }

            if (row.NodeCpuBusy >= CpuSaturated)
            {
                reasons.Add(Format($"node {row.Node}'s CPUs were {row.NodeCpuBusy * 100:0}% busy while tenant {row.Tenant} was measured (saturated from {CpuSaturated * 100:0}%): its latencies include waiting for a core; run fewer tenants per node, or tenants that block instead of spinning (sync: block)"));
            }

            if (StolenReason(row.Node, row.Tenant, row.NodeCpuSteal) is { } why && stolen.Add(row.Node))
            {
                reasons.Add(why);
            }

            if (row.AskedIntervalSeconds > 0 && row.LongestIntervalSeconds > (LateTimerFactor * row.AskedIntervalSeconds) + LateTimerSlackSeconds)
            {
                reasons.Add(Format($"node {row.Node} sampled tenant {row.Tenant} up to {row.LongestIntervalSeconds:0.00} s apart, every {row.AskedIntervalSeconds:0.###} s asked: its timers ran late (an overloaded node), so its intervals and the window's edges are coarser than asked"));
            }

            if (row.Seconds > 0 && row.ModelLateSeconds > ModelLateShare * row.Seconds && lateModels.Add((row.Node, row.Device)))
            {
                reasons.Add(Format($"{row.Device} on node {row.Node} (a modelled GPU) ran {row.ModelLateSeconds * 1000:0.#} ms late in total while tenant {row.Tenant} was measured over {row.Seconds:0.#} s (longest {row.ModelLongestLateMs:0.#} ms; {ModelLateShare * 100:0}% allowed): completions reached its tenants late, so their latencies include the model's own delays; its engine was held up by a busy machine (or, on a thread of the node, by garbage collection)"));
            }

            if (row.RejectedLines > 0)
            {
                reasons.Add(Format($"tenant {row.Tenant} printed {row.RejectedLines} lines matching its latency pattern that held no usable latency (negative, not finite or beyond an hour): they are not counted as operations"));
            }

            if (row.EbpfDropped > 0)
            {
                reasons.Add(Format($"the eBPF tracer dropped {row.EbpfDropped} events for tenant {row.Tenant}: its system-call counts are short"));
            }
        }

        // One reason a node whose tracer stopped, naming the tenants it followed.
        foreach (var lost in document.Tenants.Where(r => r.Phase == MeasurementPhase.Measure && r.EbpfLost.Length > 0).GroupBy(r => (r.Node, r.EbpfLost)))
        {
            var tenants = lost.Select(r => r.Tenant).ToList();
            var which = tenants.Count == 1 ? $"tenant {tenants[0]}" : $"tenants {string.Join(", ", tenants)}";
            reasons.Add($"node {lost.Key.Node}'s eBPF tracer stopped while it followed {which} ({lost.Key.EbpfLost.TrimEnd('.')}): {(tenants.Count == 1 ? "its" : "their")} system calls, ioctls, off-CPU and run-queue times were counted only up to then, so the window has none (syscalls.csv keeps what was counted)");
        }

        return new Validity(reasons.Count == 0, reasons);
    }

    private static string Format(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
