using Contention.Workloads.Devices;
using Contention.Workloads.Metrics;
using HdrHistogram;

namespace Contention.Grains.Collector;

/// <summary>
/// The collector's aggregation, apart from Orleans so it can be tested and benchmarked alone:
/// counters are summed and latency histograms merged by adding bucket counts, never by
/// averaging percentiles, per (tenant, phase). Reports are deduplicated by (node, sequence).
/// </summary>
public sealed class CollectorState
{
    private readonly Dictionary<(string Tenant, MeasurementPhase Phase), Aggregate> aggregates = [];
    private readonly Dictionary<string, long> lastSequence = [];
    private readonly List<TenantFailure> failures = [];
    private readonly List<PhaseRecord> phases = [];

    /// <summary>Node reports merged.</summary>
    public long Reports { get; private set; }

    /// <summary>Tenant deltas merged.</summary>
    public long Deltas { get; private set; }

    /// <summary>Merges a report; returns false (and changes nothing) for a sequence already merged from its node.</summary>
    public bool Apply(NodeReport report, Action<TenantDelta>? onDelta = null)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (lastSequence.TryGetValue(report.Node, out var last) && report.Sequence <= last)
        {
            return false;
        }

        lastSequence[report.Node] = report.Sequence;
        Reports++;
        foreach (var delta in report.Tenants)
        {
            Apply(delta);
            onDelta?.Invoke(delta);
        }

        return true;
    }

    /// <summary>Merges one tenant delta.</summary>
    public void Apply(TenantDelta delta)
    {
        ArgumentNullException.ThrowIfNull(delta);
        var key = (delta.Tenant, delta.Phase);
        if (!aggregates.TryGetValue(key, out var aggregate))
        {
            aggregates[key] = aggregate = new Aggregate();
        }

        aggregate.Node = delta.Node;
        aggregate.Kind = delta.Kind;
        aggregate.Device = delta.Device;
        aggregate.Seconds += delta.IntervalSeconds;
        aggregate.Completed += delta.Completed;
        aggregate.RejectedLines += delta.RejectedLines;
        aggregate.ModelLateSeconds += delta.ModelLateSeconds;
        aggregate.WorkerGcs += delta.WorkerGcs;
        aggregate.WorkerGcPauseSeconds += delta.WorkerGcPauseSeconds;
        aggregate.ArbiterHeld += delta.ArbiterHeld;
        aggregate.ArbiterHeldSeconds += delta.ArbiterHeldSeconds;
        aggregate.ArbiterPredictedSeconds += delta.ArbiterPredictedSeconds;
        if (delta.ArbiterCorrection > 0)
        {
            aggregate.ArbiterCorrection = delta.ArbiterCorrection;
        }

        aggregate.ModelLongestLateMs = Math.Max(aggregate.ModelLongestLateMs, delta.ModelLongestLateMs);
        if (delta.GpuSeconds is { } gpu)
        {
            aggregate.GpuSeconds = (aggregate.GpuSeconds ?? 0) + gpu;
        }

        if (delta.GpuTimedBatches is { } timed)
        {
            aggregate.GpuSampling = (aggregate.GpuSampling ?? default) + new KernelSampling(delta.GpuKernels ?? 0, timed, delta.GpuTimedKernels ?? 0, (long)Math.Round((delta.GpuTimedSeconds ?? 0) * 1e9));
        }

        aggregate.LongestInterval = Math.Max(aggregate.LongestInterval, delta.IntervalSeconds);
        aggregate.AskedInterval = Math.Max(aggregate.AskedInterval, delta.AskedIntervalSeconds);
        aggregate.Os += delta.Os;
        aggregate.NodeCpu += new Contention.Tracer.NodeCpu(delta.NodeCpuBusySeconds, delta.NodeCpuSeconds, delta.NodeCpuStealSeconds);
        aggregate.Reports++;
        if (delta.Kernel is not null)
        {
            (aggregate.Kernel ??= new KernelAccumulator()).Add(delta.Kernel);
        }

        aggregate.KernelLost ??= delta.KernelLost;

        Deltas++;
        Histograms.RecordInto(delta.Latency, aggregate.Latency);
        phases.AddRange(delta.Phases);
    }

    /// <summary>Records a failure.</summary>
    public void Add(TenantFailure failure) => failures.Add(failure);

    /// <summary>Everything merged so far.</summary>
    public CollectorSnapshot Snapshot(string experiment) => new(
        experiment,
        aggregates.OrderBy(a => a.Key.Tenant, StringComparer.Ordinal).ThenBy(a => a.Key.Phase).Select(a => new TenantAggregate
        {
            Tenant = a.Key.Tenant,
            Phase = a.Key.Phase,
            Node = a.Value.Node,
            Kind = a.Value.Kind,
            Device = a.Value.Device,
            Seconds = a.Value.Seconds,
            Completed = a.Value.Completed,
            Latency = a.Value.Latency.TotalCount == 0 ? [] : Histograms.Encode(a.Value.Latency),
            Os = a.Value.Os,
            Reports = a.Value.Reports,
            Kernel = a.Value.Kernel?.ToCounters(),
            NodeCpuBusySeconds = a.Value.NodeCpu.BusySeconds,
            NodeCpuSeconds = a.Value.NodeCpu.TotalSeconds,
            NodeCpuStealSeconds = a.Value.NodeCpu.StealSeconds,
            RejectedLines = a.Value.RejectedLines,
            LongestIntervalSeconds = a.Value.LongestInterval,
            AskedIntervalSeconds = a.Value.AskedInterval,
            GpuSeconds = a.Value.PhaseGpuSeconds,
            GpuTimedBatches = a.Value.GpuSampling?.TimedBatches,
            ModelLateSeconds = a.Value.ModelLateSeconds,
            ModelLongestLateMs = a.Value.ModelLongestLateMs,
            WorkerGcs = a.Value.WorkerGcs,
            WorkerGcPauseSeconds = a.Value.WorkerGcPauseSeconds,
            ArbiterHeld = a.Value.ArbiterHeld,
            ArbiterHeldSeconds = a.Value.ArbiterHeldSeconds,
            ArbiterPredictedSeconds = a.Value.ArbiterPredictedSeconds,
            ArbiterCorrection = a.Value.ArbiterCorrection,
            KernelLost = a.Value.KernelLost,
        }).ToList(),
        failures.ToList(),
        Reports,
        phases.OrderBy(p => p.Tenant, StringComparer.Ordinal).ThenBy(p => p.Pid).ThenBy(p => p.Index).ToList());

    private sealed class Aggregate
    {
        public string Node { get; set; } = "";

        public TenantKind Kind { get; set; }

        public string Device { get; set; } = "";

        public double Seconds { get; set; }

        public long Completed { get; set; }

        public long RejectedLines { get; set; }

        public double? GpuSeconds { get; set; }

        // Null where no report carried a sample (the GPU time is exact or absent).
        public KernelSampling? GpuSampling { get; set; }

        // Sampled (a real GPU): the phase's kernels at the mean time per kernel of its own timed
        // batches, none timed: not measured. Exact (a modelled GPU): the reports' sum.
        public double? PhaseGpuSeconds => GpuSampling is { } sampled ? sampled.EstimateNs / 1e9 : GpuSeconds;

        public double ModelLateSeconds { get; set; }

        public double ModelLongestLateMs { get; set; }

        public long WorkerGcs { get; set; }

        public double WorkerGcPauseSeconds { get; set; }

        public long ArbiterHeld { get; set; }

        public double ArbiterHeldSeconds { get; set; }

        public double ArbiterPredictedSeconds { get; set; }

        public double ArbiterCorrection { get; set; }

        public double LongestInterval { get; set; }

        public double AskedInterval { get; set; }

        public LongHistogram Latency { get; } = Histograms.Create();

        public OsCounters Os { get; set; } = OsCounters.Zero;

        public long Reports { get; set; }

        public KernelAccumulator? Kernel { get; set; }

        public string? KernelLost { get; set; }

        public Contention.Tracer.NodeCpu NodeCpu { get; set; }
    }
}
