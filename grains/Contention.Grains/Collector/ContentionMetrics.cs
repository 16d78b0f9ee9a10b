using Contention.Workloads.Metrics;
using Prometheus;

namespace Contention.Grains.Collector;

/// <summary>
/// Every Prometheus metric Contention exports, in one registry (the process default in a silo;
/// a private one in tests). Base units, <c>_total</c> counters, labels from small bounded sets.
/// Exact percentiles come from the merged HdrHistograms; these histograms serve dashboards, with
/// buckets fine enough for microsecond kernels. Every series carries its experiment and is removed
/// once it has not changed for the retention period (prometheus-net's managed lifetime), so a
/// node serving thousands of runs exports the recent ones only; Prometheus keeps the history.
/// </summary>
public sealed class ContentionMetrics
{
    private static readonly string[] TenantLabels = ["experiment", "tenant", "node", "kind", "device"];

    /// <summary>Latency buckets: 1-2-5 steps from 10 µs to 50 s.</summary>
    public static readonly double[] LatencyBuckets = BuildBuckets();

    private readonly ICollector<IHistogram> latency;
    private readonly ICollector<ICounter> operations;
    private readonly ICollector<ICounter> switches;
    private readonly ICollector<ICounter> cpu;
    private readonly ICollector<ICounter> gpu;
    private readonly ICollector<ICounter> faults;
    private readonly ICollector<ICounter> failures;
    private readonly ICollector<ICounter> reports;
    private readonly ICollector<ICounter> syscalls;
    private readonly ICollector<ICounter> syscallSeconds;
    private readonly ICollector<ICounter> ioctls;
    private readonly ICollector<ICounter> offCpu;
    private readonly ICollector<ICounter> held;
    private readonly ICollector<ICounter> heldSeconds;
    private readonly ICollector<ICounter> predictedSeconds;
    private readonly ICollector<IHistogram> runQueue;

    /// <summary>Run-queue latency buckets: powers of two from 1,024 ns to 2^30 ns (about 1.07 s), matching the tracer's log2 slots.</summary>
    public static readonly double[] RunQueueBuckets = [.. Enumerable.Range(10, 21).Select(k => Math.Pow(2, k) / 1e9)];

    /// <summary>How long a series that no longer changes is exported, unless told otherwise.</summary>
    public static readonly TimeSpan DefaultRetention = TimeSpan.FromMinutes(15);

    /// <summary>Creates the metrics in <paramref name="registry"/>; a series unchanged for <paramref name="retention"/> (default 15 min) is removed.</summary>
    public ContentionMetrics(CollectorRegistry registry, TimeSpan? retention = null)
    {
        Retention = retention ?? DefaultRetention;
        var factory = Metrics.WithCustomRegistry(registry).WithManagedLifetime(Retention);
        latency = factory.CreateHistogram("contention_tenant_latency_seconds", "Latency of tenant operations (training step, inference request from arrival, microbench repetition).", TenantLabels, new HistogramConfiguration { Buckets = LatencyBuckets }).WithExtendLifetimeOnUse();
        operations = factory.CreateCounter("contention_tenant_operations_total", "Tenant operations completed.", TenantLabels).WithExtendLifetimeOnUse();
        switches = factory.CreateCounter("contention_tenant_context_switches_total", "Context switches of tenant workers, by type (voluntary, involuntary).", [.. TenantLabels, "type"]).WithExtendLifetimeOnUse();
        cpu = factory.CreateCounter("contention_tenant_cpu_seconds_total", "CPU time of tenant workers, by mode (user, system).", [.. TenantLabels, "mode"]).WithExtendLifetimeOnUse();
        gpu = factory.CreateCounter("contention_tenant_gpu_seconds_total", "GPU time of tenant kernels: per kernel, start to end (CUDA events around a sample of kernels on a real GPU, exact on the modelled one); absent where not measured (cpu devices, commands).", TenantLabels).WithExtendLifetimeOnUse();
        faults = factory.CreateCounter("contention_tenant_page_faults_total", "Page faults of tenant workers, by type (minor, major).", [.. TenantLabels, "type"]).WithExtendLifetimeOnUse();
        failures = factory.CreateCounter("contention_tenant_failures_total", "Tenant worker crashes and failed starts.", ["experiment", "tenant", "node"]).WithExtendLifetimeOnUse();
        reports = factory.CreateCounter("contention_collector_reports_total", "Node reports merged by collectors.", ["experiment", "node"]).WithExtendLifetimeOnUse();
        syscalls = factory.CreateCounter("contention_tenant_syscalls_total", "System calls of tenant workers (eBPF), by category and system call.", [.. TenantLabels, "category", "syscall"]).WithExtendLifetimeOnUse();
        syscallSeconds = factory.CreateCounter("contention_tenant_syscall_seconds_total", "Time in system calls of tenant workers, entry to exit (eBPF), by category and system call.", [.. TenantLabels, "category", "syscall"]).WithExtendLifetimeOnUse();
        ioctls = factory.CreateCounter("contention_tenant_ioctls_total", "ioctls of tenant workers by device node (devnode) and decoded request (NVIDIA escapes, RM controls and classes, UVM ops).", [.. TenantLabels, "devnode", "ioctl"]).WithExtendLifetimeOnUse();
        offCpu = factory.CreateCounter("contention_tenant_offcpu_seconds_total", "Time tenant worker threads spent switched out (eBPF sched_switch), summed over threads.", TenantLabels).WithExtendLifetimeOnUse();
        held = factory.CreateCounter("contention_tenant_arbiter_held_total", "Launches of a best-effort tenant its GPU's arbiter held.", TenantLabels).WithExtendLifetimeOnUse();
        heldSeconds = factory.CreateCounter("contention_tenant_arbiter_held_seconds_total", "Time the GPU's arbiter held a best-effort tenant's launches.", TenantLabels).WithExtendLifetimeOnUse();
        predictedSeconds = factory.CreateCounter("contention_tenant_arbiter_predicted_seconds_total", "GPU time the arbiter predicted of a best-effort tenant's launches it let go (against contention_tenant_gpu_seconds_total, the measured).", TenantLabels).WithExtendLifetimeOnUse();
        runQueue = factory.CreateHistogram("contention_tenant_runqueue_latency_seconds", "Waits of tenant worker threads for a CPU, runnable to running (eBPF sched_wakeup / sched_switch).", TenantLabels, new HistogramConfiguration { Buckets = RunQueueBuckets }).WithExtendLifetimeOnUse();
    }

    /// <summary>How long a series that no longer changes stays exported.</summary>
    public TimeSpan Retention { get; }

    /// <summary>Exports one merged tenant delta.</summary>
    public void Observe(string experiment, TenantDelta delta)
    {
        ArgumentNullException.ThrowIfNull(delta);
        string[] labels = [experiment, delta.Tenant, delta.Node, delta.Kind.Word(), delta.Device];
        operations.WithLabels(labels).Inc(delta.Completed);
        var os = delta.Os;
        switches.WithLabels([.. labels, "voluntary"]).Inc(os.VoluntarySwitches);
        switches.WithLabels([.. labels, "involuntary"]).Inc(os.InvoluntarySwitches);
        cpu.WithLabels([.. labels, "user"]).Inc(Math.Max(0, os.UserSeconds));
        cpu.WithLabels([.. labels, "system"]).Inc(Math.Max(0, os.SystemSeconds));
        if (delta.GpuSeconds is { } gpuSeconds)
        {
            gpu.WithLabels(labels).Inc(Math.Max(0, gpuSeconds));
        }

        if (delta.ArbiterHeld > 0)
        {
            held.WithLabels(labels).Inc(delta.ArbiterHeld);
            heldSeconds.WithLabels(labels).Inc(Math.Max(0, delta.ArbiterHeldSeconds));
        }

        if (delta.ArbiterPredictedSeconds > 0)
        {
            predictedSeconds.WithLabels(labels).Inc(delta.ArbiterPredictedSeconds);
        }

        faults.WithLabels([.. labels, "minor"]).Inc(os.MinorFaults);
        faults.WithLabels([.. labels, "major"]).Inc(os.MajorFaults);
        if (delta.Kernel is { } kernel)
        {
            Observe(labels, kernel);
        }

        if (delta.Latency.Length > 0)
        {
            var child = latency.WithLabels(labels);
            var buckets = Histograms.Buckets(delta.Latency);
            while (buckets.Next(out var value, out var count))
            {
                child.Observe(value / 1e9, count);
            }
        }
    }

    private void Observe(string[] labels, KernelCounters kernel)
    {
        foreach (var s in kernel.Syscalls)
        {
            syscalls.WithLabels([.. labels, s.Category, s.Name]).Inc(s.Count);
            syscallSeconds.WithLabels([.. labels, s.Category, s.Name]).Inc(Math.Max(0, s.Seconds));
        }

        foreach (var i in kernel.Ioctls)
        {
            ioctls.WithLabels([.. labels, i.Device, i.Name]).Inc(i.Count);
        }

        offCpu.WithLabels(labels).Inc(Math.Max(0, kernel.OffCpuSeconds));
        var child = runQueue.WithLabels(labels);
        for (var slot = 0; slot < kernel.RunQueueLog2.Length; slot++)
        {
            // Slot i holds waits in [2^i, 2^(i+1)) ns: observed at its middle, each lands in the bucket bounding the slot.
            if (kernel.RunQueueLog2[slot] > 0)
            {
                child.Observe(1.5 * Math.Pow(2, slot) / 1e9, kernel.RunQueueLog2[slot]);
            }
        }
    }

    /// <summary>Counts a merged node report.</summary>
    public void Report(string experiment, string node) => reports.WithLabels(experiment, node).Inc();

    /// <summary>Counts a failure.</summary>
    public void Failure(string experiment, TenantFailure failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        failures.WithLabels(experiment, failure.Tenant, failure.Node).Inc();
    }

    private static double[] BuildBuckets()
    {
        var buckets = new List<double>();
        for (var decade = 1e-5; decade < 100; decade *= 10)
        {
            buckets.Add(decade);
            buckets.Add(2 * decade);
            buckets.Add(5 * decade);
        }

        return [.. buckets];
    }
}
