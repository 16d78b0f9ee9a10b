using Contention.Grains;
using Contention.Tracer;
using Contention.Workloads.Metrics;

namespace Contention.Client.Results;

/// <summary>Turns collector aggregates and tenant statuses into result rows.</summary>
public static class RowBuilder
{
    /// <summary>One row per tenant and phase; tenants without any report still get a measure row.</summary>
    public static List<TenantRow> Build(string experiment, ExperimentPlan plan, CollectorSnapshot snapshot, IReadOnlyList<TenantStatus> statuses)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(statuses);
        var rows = new List<TenantRow>();
        foreach (var spec in plan.Tenants)
        {
            var status = statuses.FirstOrDefault(s => s.Tenant == spec.Name);
            var aggregates = snapshot.Tenants.Where(a => a.Tenant == spec.Name).ToList();
            if (!aggregates.Any(a => a.Phase == MeasurementPhase.Measure))
            {
                aggregates.Add(new TenantAggregate { Tenant = spec.Name, Node = status?.Node ?? "", Kind = spec.Kind, Device = status?.Device ?? spec.Device, Phase = MeasurementPhase.Measure });
            }

            foreach (var aggregate in aggregates)
            {
                rows.Add(Row(experiment, spec, aggregate, status));
            }
        }

        return rows;
    }

    /// <summary>The categories, in table order, that at least one of <paramref name="rows"/> made calls in.</summary>
    public static List<string> UsedCategories(IEnumerable<TenantRow> rows)
    {
        var list = rows.ToList();
        return SyscallCategories.All.Where(c => list.Any(r => r.CategoryCalls.GetValueOrDefault(c) > 0)).ToList();
    }

    /// <summary>Tidy per-syscall and per-ioctl records of every tenant and phase the eBPF tracer followed.</summary>
    public static (List<SyscallRecord> Syscalls, List<IoctlRecord> Ioctls) Kernel(CollectorSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var traced = snapshot.Tenants.Where(a => a.Kernel is not null).ToList();
        return (
            traced.SelectMany(a => a.Kernel!.Syscalls.Select(s => new SyscallRecord(a.Tenant, a.Phase, s.Category, s.Name, s.Count, s.Errors, s.Seconds, s.TimedCalls))).ToList(),
            traced.SelectMany(a => a.Kernel!.Ioctls.Select(i => new IoctlRecord(a.Tenant, a.Phase, i.Device, i.Name, i.Count, i.Errors, i.Seconds, i.TimedCalls))).ToList());
    }

    /// <summary>The row of one aggregate.</summary>
    public static TenantRow Row(string experiment, TenantSpec spec, TenantAggregate aggregate, TenantStatus? status)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(aggregate);
        // A tenant that completed nothing in the window may send an empty histogram: no latencies
        // (HdrHistogram throws on its percentiles, and its mean is NaN, which JSON cannot hold).
        var histogram = aggregate.Latency.Length == 0 ? null : Histograms.Decode(aggregate.Latency);
        histogram = histogram?.TotalCount > 0 ? histogram : null;
        double Ms(double percentile) => histogram is null ? 0 : histogram.GetValueAtPercentile(percentile) / 1e6;
        var nodeCpu = new Contention.Tracer.NodeCpu(aggregate.NodeCpuBusySeconds, aggregate.NodeCpuSeconds, aggregate.NodeCpuStealSeconds);
        // Counts that end where the node's tracer stopped are not the phase's: the row claims none
        // (syscalls.csv keeps what was counted, and the verdict says why the rest is missing).
        var counted = aggregate.KernelLost is null ? aggregate.Kernel : null;

        // Every category, zeros included, so the CSV's columns are the same for every row.
        var byCategory = counted is { } kernel
            ? SyscallCategories.All.ToDictionary(c => c, c => kernel.Syscalls.Where(x => x.Category == c).ToList())
            : new Dictionary<string, List<SyscallCount>>();
        return new TenantRow
        {
            Experiment = experiment,
            Tenant = aggregate.Tenant,
            Node = aggregate.Node,
            Kind = aggregate.Kind,
            Device = aggregate.Device,
            Sync = spec.SyncMode,
            Phase = aggregate.Phase,
            Sharing = spec.Sharing,
            GpuSharePercent = spec.GpuSharePercent,
            Arbiter = spec.Arbiter,
            ArbiterOutstandingUs = spec.Arbiter == ArbiterMode.Off ? 0 : spec.ArbiterOutstandingNs / 1e3,
            ArbiterQuantumUs = spec.Arbiter == ArbiterMode.Slicing ? spec.ArbiterQuantumNs / 1e3 : 0,
            Seconds = aggregate.Seconds,
            Completed = aggregate.Completed,
            ThroughputPerSecond = aggregate.Seconds > 0 ? aggregate.Completed / aggregate.Seconds : 0,
            OfferedPerSecond = spec.Kind is TenantKind.Inference or TenantKind.Replay ? spec.RatePerSecond : 0,
            P50Ms = Ms(50),
            P95Ms = Ms(95),
            P99Ms = Ms(99),
            MaxMs = histogram is null ? 0 : HdrHistogram.HistogramExtensions.GetMaxValue(histogram) / 1e6,
            MeanMs = histogram is null ? 0 : HdrHistogram.HistogramExtensions.GetMean(histogram) / 1e6,
            VoluntarySwitches = aggregate.Os.VoluntarySwitches,
            InvoluntarySwitches = aggregate.Os.InvoluntarySwitches,
            UserCpuSeconds = aggregate.Os.UserSeconds,
            SystemCpuSeconds = aggregate.Os.SystemSeconds,
            GpuSeconds = aggregate.GpuSeconds,
            ModelLateSeconds = aggregate.ModelLateSeconds,
            ModelLongestLateMs = aggregate.ModelLongestLateMs,
            WorkerGcs = aggregate.WorkerGcs,
            WorkerGcPauseMs = aggregate.WorkerGcPauseSeconds * 1e3,
            ArbiterHeld = aggregate.ArbiterHeld,
            ArbiterHeldSeconds = aggregate.ArbiterHeldSeconds,
            ArbiterPredictedSeconds = aggregate.ArbiterPredictedSeconds,
            ArbiterCorrection = aggregate.ArbiterCorrection,
            GpuTimedBatches = aggregate.GpuTimedBatches,
            GpuTimingPercent = spec.GpuTimingBudget * 100,
            MinorFaults = aggregate.Os.MinorFaults,
            MajorFaults = aggregate.Os.MajorFaults,
            State = status?.State.ToString() ?? "",
            Restarts = status?.Restarts ?? 0,
            Error = status?.LastError ?? "",
            Traced = counted is not null && !aggregate.OsModelled,
            OsModelled = aggregate.OsModelled,
            Syscalls = counted?.TotalCalls ?? 0,
            SyscallSeconds = counted?.Syscalls.Sum(c => c.Seconds) ?? 0,
            TimedCalls = counted?.Syscalls.Sum(c => c.TimedCalls) ?? 0,
            CategoryCalls = byCategory.ToDictionary(c => c.Key, c => c.Value.Sum(x => x.Count)),
            CategorySeconds = byCategory.ToDictionary(c => c.Key, c => c.Value.Sum(x => x.Seconds)),
            OffCpuSeconds = counted?.OffCpuSeconds ?? 0,
            RunQueueSeconds = counted?.RunQueueSeconds ?? 0,
            EbpfDropped = counted?.Dropped ?? 0,
            EbpfLost = aggregate.KernelLost ?? "",
            NodeCpuBusy = nodeCpu.BusyFraction,
            NodeCpuSteal = nodeCpu.StealFraction,
            RejectedLines = aggregate.RejectedLines,
            LongestIntervalSeconds = aggregate.LongestIntervalSeconds,
            AskedIntervalSeconds = aggregate.AskedIntervalSeconds,
        };
    }

    /// <summary>The marked phases and their system calls, with each tenant's device and sync mode.</summary>
    public static (List<PhaseRow> Phases, List<PhaseSyscallRecord> Syscalls) Phases(CollectorSnapshot snapshot, ExperimentPlan plan, IReadOnlyList<TenantStatus> statuses)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(plan);
        var devices = statuses.Where(s => s.Device.Length > 0).GroupBy(s => s.Tenant).ToDictionary(g => g.Key, g => g.First().Device, StringComparer.Ordinal);
        var specs = plan.Tenants.ToDictionary(t => t.Name, StringComparer.Ordinal);
        string DeviceOf(PhaseRecord p) => devices.GetValueOrDefault(p.Tenant) ?? specs.GetValueOrDefault(p.Tenant)?.Device ?? "";
        var rows = snapshot.Phases.Select(p => new PhaseRow
        {
            Tenant = p.Tenant,
            Device = DeviceOf(p),
            Sync = specs.GetValueOrDefault(p.Tenant)?.SyncMode,
            Pid = p.Pid,
            Index = p.Index,
            Phase = p.Name,
            Op = p.Op,
            Bytes = p.Bytes,
            Iterations = p.Iterations,
            IterationsRun = p.IterationsRun,
            Operations = p.Operations,
            WallSeconds = p.WallSeconds,
            VoluntarySwitches = p.Os.VoluntarySwitches,
            InvoluntarySwitches = p.Os.InvoluntarySwitches,
            UserCpuSeconds = p.Os.UserSeconds,
            SystemCpuSeconds = p.Os.SystemSeconds,
            MinorFaults = p.Os.MinorFaults,
            MajorFaults = p.Os.MajorFaults,
            Traced = p.Kernel is not null,
            Syscalls = p.Kernel?.TotalCalls ?? 0,
            SyscallSeconds = p.Kernel?.Syscalls.Sum(s => s.Seconds) ?? 0,
            TimedCalls = p.Kernel?.Syscalls.Sum(s => s.TimedCalls) ?? 0,
        }).ToList();
        var syscalls = snapshot.Phases.Where(p => p.Kernel is not null)
            .SelectMany(p => p.Kernel!.Syscalls.Select(s => new PhaseSyscallRecord(p.Tenant, DeviceOf(p), p.Pid, p.Index, p.Name, p.Op, p.Bytes, p.Iterations, p.IterationsRun, s.Category, s.Name, s.Count, s.Errors, s.Seconds, s.TimedCalls)))
            .ToList();
        return (rows, syscalls);
    }
}
