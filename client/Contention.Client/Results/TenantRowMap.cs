using System.Globalization;
using Contention.Tracer;
using CsvHelper;
using CsvHelper.Configuration;

namespace Contention.Client.Results;

/// <summary>tenants.csv columns: snake_case, units in the names.</summary>
public sealed class TenantRowMap : ClassMap<TenantRow>
{
    /// <summary>Creates the map.</summary>
    public TenantRowMap()
    {
        Map(r => r.Experiment).Name("experiment");
        Map(r => r.Tenant).Name("tenant");
        Map(r => r.Node).Name("node");
        Map(r => r.Kind).Name("kind");
        Map(r => r.Device).Name("device");
        Map(r => r.Sync).Name("sync");
        Map(r => r.Sharing).Name("sharing");
        Map(r => r.GpuSharePercent).Name("gpu_share_pct");
        Map(r => r.Arbiter).Name("arbiter").Optional();
        Map(r => r.Phase).Name("phase");
        Map(r => r.Seconds).Name("seconds");
        Map(r => r.Completed).Name("completed");
        Map(r => r.ThroughputPerSecond).Name("throughput_per_s");
        Map(r => r.OfferedPerSecond).Name("offered_per_s");
        Map(r => r.P50Ms).Name("p50_ms");
        Map(r => r.P95Ms).Name("p95_ms");
        Map(r => r.P99Ms).Name("p99_ms");
        Map(r => r.MaxMs).Name("max_ms");
        Map(r => r.MeanMs).Name("mean_ms");
        Map(r => r.VoluntarySwitches).Name("voluntary_switches");
        Map(r => r.InvoluntarySwitches).Name("involuntary_switches");
        Map(r => r.UserCpuSeconds).Name("user_cpu_s");
        Map(r => r.SystemCpuSeconds).Name("system_cpu_s");
        Map(r => r.GpuSeconds).Name("gpu_s");
        Map(r => r.MinorFaults).Name("minor_faults");
        Map(r => r.MajorFaults).Name("major_faults");
        Map(r => r.State).Name("state");
        Map(r => r.Restarts).Name("restarts");
        Map(r => r.Error).Name("error");
        Map(r => r.Traced).Name("ebpf");
        Map(r => r.OsModelled).Name("os_modelled").Optional();
        Map(r => r.Syscalls).Name("syscalls");
        Map(r => r.SyscallSeconds).Name("syscall_s");
        Map(r => r.TimedCalls).Name("syscalls_timed");
        Map(r => r.OffCpuSeconds).Name("offcpu_s");
        Map(r => r.RunQueueSeconds).Name("runqueue_s");
        Map(r => r.EbpfDropped).Name("ebpf_dropped");
        Map(r => r.EbpfLost).Name("ebpf_lost").Optional();
        Map(r => r.NodeCpuBusy).Name("node_cpu_busy");
        Map(r => r.NodeCpuSteal).Name("node_cpu_steal");
        Map(r => r.RejectedLines).Name("rejected_lines");
        Map(r => r.ModelLateSeconds).Name("model_late_s");
        Map(r => r.ModelLongestLateMs).Name("model_longest_late_ms");
        Map(r => r.WorkerGcs).Name("worker_gcs");
        Map(r => r.WorkerGcPauseMs).Name("worker_gc_pause_ms");
        Map(r => r.LongestIntervalSeconds).Name("longest_sample_interval_s");
        Map(r => r.AskedIntervalSeconds).Name("sample_interval_s");
        Map(r => r.ArbiterOutstandingUs).Name("arbiter_outstanding_us").Optional();
        Map(r => r.ArbiterQuantumUs).Name("arbiter_quantum_us").Optional();
        Map(r => r.ArbiterHeld).Name("arbiter_held").Optional();
        Map(r => r.ArbiterHeldSeconds).Name("arbiter_held_s").Optional();
        Map(r => r.ArbiterPredictedSeconds).Name("arbiter_predicted_s").Optional();
        Map(r => r.ArbiterCorrection).Name("arbiter_correction").Optional();
        Map(r => r.GpuTimedBatches).Name("gpu_timed_batches").Optional();
        Map(r => r.GpuTimingPercent).Name("gpu_timing_pct").Optional();
        foreach (var category in SyscallCategories.All)
        {
            var column = category.Replace('-', '_');
            Map().Name($"calls_{column}").Convert((ConvertToStringArgs<object> args) => ((TenantRow)args.Value).CategoryCalls.GetValueOrDefault(category).ToString(CultureInfo.InvariantCulture));
            Map().Name($"seconds_{column}").Convert((ConvertToStringArgs<object> args) => ((TenantRow)args.Value).CategorySeconds.GetValueOrDefault(category).ToString("R", CultureInfo.InvariantCulture));
        }
    }
}
