using System.Collections.Concurrent;
using Contention.Tracer;
using Contention.Tracer.Bpf;
using Contention.Tracer.Trace;
using Contention.Workloads.Metrics;
using Contention.Workloads.Sim;
using Contention.Workloads.Worker;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace Contention.Grains.Node;

/// <summary>
/// The per-node tracer: every interval it samples each tenant worker from /proc, takes the
/// latencies the worker reported, and sends one report per experiment to its collector. Reports
/// carry per-experiment sequence numbers, so a retried send is merged once; a report that cannot
/// be delivered stays queued and goes out, in order, with the next one.
/// </summary>
public sealed partial class NodeTracer : BackgroundService
{
    private readonly ConcurrentDictionary<TenantRunner, TenantMeasurement> runners = new();
    private readonly ConcurrentDictionary<string, ExperimentOutbox> outboxes = new();
    private readonly SemaphoreSlim sampling = new(1, 1);

    /// <summary>How long reports of an experiment with no tenant left here may go undelivered before they are dropped.</summary>
    internal static readonly TimeSpan UndeliverableAfter = TimeSpan.FromMinutes(10);

    // Node-wide, so an outbox dropped and made again never reuses a number the collector merged.
    private long sequence;
    private readonly NodeOptions options;
    private readonly NodeBpf bpf;
    private readonly IGrainFactory grains;
    private readonly ILogger<NodeTracer> logger;
    private readonly ResiliencePipeline sendPipeline;

    /// <summary>Creates the tracer.</summary>
    public NodeTracer(IOptions<NodeOptions> options, NodeBpf bpf, IGrainFactory grains, ILogger<NodeTracer> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.options = options.Value;
        this.bpf = bpf;
        this.grains = grains;
        this.logger = logger;

        // ReportAsync is idempotent (the collector drops sequences it has merged), so retrying
        // transient failures here is safe; this is the only layer that retries it.
        sendPipeline = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<TimeoutException>().Handle<SiloUnavailableException>().Handle<OrleansMessageRejectionException>(),
                MaxRetryAttempts = 3,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(100),
            })
            .Build();
    }

    /// <summary>Starts sampling <paramref name="runner"/>; from now on the tracer owns <paramref name="measurement"/>.</summary>
    internal void Register(TenantRunner runner, TenantMeasurement measurement)
    {
        measurement.LastSampleNs = MonotonicClock.NowNs();
        runners.TryAdd(runner, measurement);
    }

    /// <summary>Marks <paramref name="runner"/>'s stop as asked now: its measured time ends here (<see cref="TenantMeasurement.StopAskedNs"/>).</summary>
    internal void StopAsked(TenantRunner runner)
    {
        if (runners.TryGetValue(runner, out var measurement))
        {
            measurement.StopAskedNs ??= MonotonicClock.NowNs();
        }
    }

    internal void Unregister(TenantRunner runner)
    {
        if (runners.TryRemove(runner, out var measurement) && measurement.Kernel is { } kernel)
        {
            _ = ForgetAsync(kernel.Pid);
        }
    }

    /// <summary>
    /// Reports one tenant now (when it stops, or at a phase boundary: then it enters
    /// <paramref name="nextPhase"/>); <paramref name="final"/>: its stopped worker's last sample, after
    /// which the tenant is reported no more (<see cref="TenantMeasurement.Final"/>).
    /// </summary>
    internal async Task FlushAsync(TenantRunner runner, MeasurementPhase? nextPhase = null, bool final = false)
    {
        if (!runners.TryGetValue(runner, out var measurement))
        {
            // Not (or no longer) sampled: nothing of it to report, only the phase to enter.
            if (nextPhase is not null)
            {
                runner.EnterPhase(nextPhase.Value);
            }

            return;
        }

        var snapshot = await bpf.SnapshotAsync().ConfigureAwait(false);
        if (final && options.EbpfThreadCalls && runner.Worker is { Tid: null } worker)
        {
            snapshot = await SettledAsync(worker.Pid, snapshot).ConfigureAwait(false);
        }

        var delta = await CollectAsync(runner, measurement, snapshot, NodeCpu.Read(), nextPhase, final).ConfigureAwait(false);
        if (delta is not null)
        {
            await SendAsync(runner.Spec.Experiment, [delta]).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A snapshot in which the stopped worker <paramref name="pid"/> made no call while it was read:
    /// the helper reads a snapshot's calls per process before its calls per thread, so a worker
    /// whose threads still spin (.NET's pool yields in bursts as it winds down) would have more
    /// calls per thread than in all in its final sample, and no later sample would make up for it.
    /// Its first snapshot whose calls the next one did not change (that one is taken
    /// <see cref="SettlePause"/> later, at most <see cref="SettleTries"/> times); else the latest.
    /// </summary>
    private async Task<BpfSnapshot?> SettledAsync(int pid, BpfSnapshot? snapshot)
    {
        for (var i = 0; i < SettleTries && snapshot is not null; i++)
        {
            await Task.Delay(SettlePause).ConfigureAwait(false);
            var next = await bpf.SnapshotAsync().ConfigureAwait(false);
            if (next is null || next.Sequence <= snapshot.Sequence)
            {
                continue;
            }

            if (Calls(next, pid) == Calls(snapshot, pid))
            {
                return snapshot;
            }

            snapshot = next;
        }

        return snapshot;

        static long Calls(BpfSnapshot snapshot, int pid) => snapshot.Syscalls.Where(s => s.Root == pid).Sum(s => s.Count);
    }

    private const int SettleTries = 10;
    private static readonly TimeSpan SettlePause = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Measures a phase that a tenant's worker has just ended, while it waits at the boundary:
    /// the eBPF counts since its previous boundary (the workload row only: the handshake's calls
    /// are in the held row), queued for the next report with the worker's own measurements.
    /// </summary>
    internal async Task PhaseAsync(TenantRunner runner, int pid, PhaseSample phase)
    {
        if (!runners.TryGetValue(runner, out var measurement))
        {
            return;
        }

        KernelCounters? kernel = null;
        var snapshot = await bpf.SnapshotAsync().ConfigureAwait(false);
        if (snapshot is not null && snapshot.Syscalls.Any(s => s.Root == pid))
        {
            var since = measurement.PhaseBaseline is { } baseline && baseline.Pid == pid ? baseline.Snapshot : null;
            kernel = bpf.Counters(snapshot, pid, since, TraceRows.Workload);
            measurement.PhaseBaseline = (pid, snapshot);
        }

        measurement.AddPhase(TenantRunner.Record(runner.Spec.Name, options.Name, pid, phase, kernel));
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.TracerIntervalMs));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await TickAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // One failed tick must not end the node's sampling: every later run would
                    // go unmeasured (and be judged invalid for its sampling gaps).
                    LogTickFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task TickAsync()
    {
        // Tenants are collected in parallel: each waits for its worker's flush, and one slow
        // worker must not delay the others' samples. One eBPF snapshot serves them all.
        var snapshot = runners.IsEmpty ? null : await bpf.SnapshotAsync().ConfigureAwait(false);
        var nodeCpu = NodeCpu.Read();
        var collected = await Task.WhenAll(runners.Select(async pair =>
        {
            try
            {
                return (pair.Key.Spec.Experiment, Delta: await CollectAsync(pair.Key, pair.Value, snapshot, nodeCpu).ConfigureAwait(false));
            }
            catch (ObjectDisposedException)
            {
                // The tenant stopped while the tick was under way.
                return (pair.Key.Spec.Experiment, Delta: null);
            }
        })).ConfigureAwait(false);
        var byExperiment = collected.Where(c => c.Delta is not null).GroupBy(c => c.Experiment).ToDictionary(g => g.Key, g => g.Select(c => c.Delta!).ToList());
        foreach (var (experiment, deltas) in byExperiment)
        {
            await SendAsync(experiment, deltas).ConfigureAwait(false);
        }

        foreach (var (experiment, outbox) in outboxes)
        {
            if (!byExperiment.ContainsKey(experiment) && outbox.Pending > 0)
            {
                await SendAsync(experiment, []).ConfigureAwait(false);
            }
        }

        await RetireOutboxesAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Forgets the outboxes of experiments with no tenant left on this node once they are empty,
    /// so a node serving thousands of runs keeps none of them; reports a gone collector has not
    /// taken for <see cref="UndeliverableAfter"/> are dropped, and the loss is logged.
    /// </summary>
    private async Task RetireOutboxesAsync()
    {
        var active = runners.Keys.Select(r => r.Spec.Experiment).ToHashSet(StringComparer.Ordinal);
        var now = MonotonicClock.NowNs();
        foreach (var (experiment, outbox) in outboxes)
        {
            if (active.Contains(experiment) || !await outbox.Gate.WaitAsync(0).ConfigureAwait(false))
            {
                continue;
            }

            try
            {
                var stale = (now - outbox.LastDeliveredNs) / 1e9 > UndeliverableAfter.TotalSeconds;
                if (outbox.Pending == 0 || stale)
                {
                    if (outbox.Pending > 0)
                    {
                        LogReportsDropped(logger, experiment, outbox.Pending, UndeliverableAfter.TotalMinutes);
                    }

                    outbox.Retired = true;
                    outboxes.TryRemove(new KeyValuePair<string, ExperimentOutbox>(experiment, outbox));
                }
            }
            finally
            {
                outbox.Gate.Release();
            }
        }
    }

    /// <summary>Whether this node keeps a report queue for <paramref name="experiment"/> (tests: they must not pile up).</summary>
    internal bool HasOutbox(string experiment) => outboxes.ContainsKey(experiment);

    /// <summary>One tenant's interval; <paramref name="nodeCpu"/> is the node's /proc/stat read once for every tenant of the tick.</summary>
    private async Task<TenantDelta?> CollectAsync(TenantRunner runner, TenantMeasurement measurement, BpfSnapshot? snapshot, NodeCpu nodeCpu, MeasurementPhase? nextPhase = null, bool final = false)
    {
        await measurement.ReportLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (measurement.Final)
            {
                return null;
            }

            measurement.Final = final;
            var worker = runner.Worker;
            if (worker is not null && !worker.Completion.IsCompleted)
            {
                using var flushTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                try
                {
                    await worker.FlushAsync(flushTimeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // A stalled worker still gets its /proc counters reported; its latencies come later.
                }
            }

            // The workers flush at once, each tenant waiting for its own, but the samples that follow
            // (/proc, eBPF counters, encoding) are taken one tenant at a time: the node's own work
            // at a tick then holds about one core beside the tenants it measures, not one per tenant.
            await sampling.WaitAsync().ConfigureAwait(false);
            try
            {
                var now = MonotonicClock.NowNs();
                var counters = default(TaskCounters);
                var seconds = 0.0;
                if (worker is not null)
                {
                    if (measurement.Traced is not { } traced || traced.Tracer.Pid != worker.Pid || traced.Tracer.Tid != worker.Tid)
                    {
                        // A new worker (first start or restart): its counters start from zero.
                        measurement.Traced = (new ProcTracer(worker.Pid, worker.Tid), default);
                    }

                    var (tracer, reported) = measurement.Traced.Value;
                    var sample = tracer.Sample(now);
                    if (sample is not null)
                    {
                        counters = sample.Counters - reported;
                        measurement.Traced = (tracer, sample.Counters);
                        measurement.LastThreads = sample.Threads;
                    }
                }

                if (measurement.LastSampleNs != 0)
                {
                    // Time after the stop was asked is not measured time (TenantMeasurement.StopAskedNs).
                    var end = Math.Min(now, measurement.StopAskedNs ?? now);
                    seconds = Math.Max(0, end - Math.Min(measurement.LastSampleNs, end)) / 1e9;
                }

                var kernel = snapshot is null || worker is null ? null : KernelDelta(measurement, worker, snapshot);

                // The helper stopped after it followed this tenant: its counts end at its last snapshot.
                var kernelLost = snapshot is null && measurement.Kernel is not null ? bpf.Lost : null;
                if (snapshot is not null && worker is { Tid: null })
                {
                    // With the same snapshots as the tenant's counters, so a phase's calls per thread
                    // end where its counters do (a stopped worker's teardown included, as theirs).
                    measurement.TakeThreadCalls(worker.Pid, snapshot, runner.Phase, nextPhase is not null, (now, since) => bpf.ThreadCalls(now, worker.Pid, since, runner.Phase));
                }


                measurement.LastSampleNs = now;
                var nodeDelta = nodeCpu - measurement.LastNodeCpu;
                measurement.LastNodeCpu = nodeCpu;
                var latency = runner.TakeLatency();
                var lateness = runner.ModelLateness();
                var gcs = runner.TakeGcs();
                var holds = runner.TakeArbiterHolds();
                var sampling = runner.TakeGpuSampling();
                var modelLate = lateness is { } l ? (l.LateNs - (measurement.LastModelLateNs ?? l.LateNs)) / 1e9 : 0;
                measurement.LastModelLateNs = lateness?.LateNs;
                var phase = runner.Phase;
                if (nextPhase is not null)
                {
                    // Inside the lock: nothing the tenant does after this sample is counted in the old phase.
                    runner.EnterPhase(nextPhase.Value);
                }

                return new TenantDelta
                {
                    Tenant = runner.Spec.Name,
                    Node = options.Name,
                    Kind = runner.Spec.Kind,
                    Device = runner.Status.Device,
                    Phase = phase,
                    IntervalSeconds = seconds,
                    Completed = latency.TotalCount,
                    Latency = latency.TotalCount == 0 ? [] : Histograms.Encode(latency),
                    Os = new OsCounters(counters.VoluntarySwitches, counters.InvoluntarySwitches, counters.UserSeconds, counters.SystemSeconds, counters.MinorFaults, counters.MajorFaults),
                    Kernel = kernel,
                    KernelLost = kernelLost,
                    Phases = measurement.TakePhases(),
                    NodeCpuBusySeconds = nodeDelta.BusySeconds,
                    NodeCpuSeconds = nodeDelta.TotalSeconds,
                    NodeCpuStealSeconds = nodeDelta.StealSeconds,
                    RejectedLines = runner.TakeRejectedLines(),
                    GpuSeconds = runner.TakeGpuSeconds(),
                    GpuTimedBatches = sampling?.TimedBatches,
                    GpuKernels = sampling?.Kernels,
                    GpuTimedKernels = sampling?.TimedKernels,
                    GpuTimedSeconds = sampling?.TimedNs / 1e9,
                    WorkerGcs = gcs.Count,
                    WorkerGcPauseSeconds = gcs.PauseSeconds,
                    ArbiterHeld = holds.Count,
                    ArbiterHeldSeconds = holds.Seconds,
                    ArbiterPredictedSeconds = holds.PredictedSeconds,
                    ArbiterCorrection = runner.ArbiterCorrection,
                    ModelLateSeconds = modelLate,
                    ModelLongestLateMs = lateness is { } longest ? longest.LongestLateNs / 1e6 : 0,
                    AskedIntervalSeconds = options.TracerIntervalMs / 1000.0,
                };
            }
            finally
            {
                sampling.Release();
            }
        }
        finally
        {
            measurement.ReportLock.Release();
        }
    }

    /// <summary>
    /// The worker's eBPF counters since its last report, or null: a worker on a thread (inside the
    /// silo, not a process tree of its own), one the helper does not follow, or a snapshot older
    /// than the one already reported (a phase flush overtook this tick).
    /// </summary>
    private KernelCounters? KernelDelta(TenantMeasurement measurement, IWorker worker, BpfSnapshot snapshot)
    {
        if (worker.Tid is not null || !snapshot.Syscalls.Any(s => s.Root == worker.Pid))
        {
            return null;
        }

        KernelCounters? previous = null;
        if (measurement.Kernel is not { } known || known.Pid != worker.Pid)
        {
            // A new worker (first start or restart). The kernel kept what a crashed predecessor
            // did after its last report (/proc lost it with the process): it goes out with this one.
            if (measurement.Kernel is { } old)
            {
                if (old.Reported is null || snapshot.Sequence > old.Reported.Sequence)
                {
                    previous = bpf.Counters(snapshot, old.Pid, old.Reported);
                }

                _ = ForgetAsync(old.Pid);
            }

            measurement.Kernel = known = (worker.Pid, null);
        }

        if (known.Reported is { } reported && snapshot.Sequence <= reported.Sequence)
        {
            return null;
        }

        measurement.Kernel = (worker.Pid, snapshot);
        var current = bpf.Counters(snapshot, worker.Pid, known.Reported);
        if (previous is null)
        {
            return current;
        }

        var both = new Collector.KernelAccumulator();
        both.Add(previous);
        both.Add(current);
        return both.ToCounters();
    }

    private async Task ForgetAsync(int pid)
    {
        try
        {
            await bpf.RemoveAsync(pid).ConfigureAwait(false);
        }
        catch (InvalidOperationException ex)
        {
            LogForgetFailed(logger, pid, ex.Message);
        }
    }

    private async Task SendAsync(string experiment, List<TenantDelta> deltas)
    {
        var outbox = outboxes.GetOrAdd(experiment, _ => new ExperimentOutbox());
        await outbox.Gate.WaitAsync().ConfigureAwait(false);
        while (outbox.Retired)
        {
            // Retired while this waited for it: take the experiment's new one.
            outbox.Gate.Release();
            outbox = outboxes.GetOrAdd(experiment, _ => new ExperimentOutbox());
            await outbox.Gate.WaitAsync().ConfigureAwait(false);
        }

        try
        {
            if (deltas.Count > 0)
            {
                outbox.Queue.Enqueue(new NodeReport(options.Name, Interlocked.Increment(ref sequence), deltas));
            }

            var collector = grains.GetGrain<ICollectorGrain>(experiment);
            while (outbox.Queue.TryPeek(out var report))
            {
                try
                {
                    await sendPipeline.ExecuteAsync(async ct => await collector.ReportAsync(report, ct).ConfigureAwait(false)).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is TimeoutException or OrleansException)
                {
                    LogReportDeferred(logger, experiment, report.Sequence, outbox.Queue.Count, ex.Message);
                    return;
                }

                outbox.Queue.Dequeue();
                outbox.LastDeliveredNs = MonotonicClock.NowNs();
            }
        }
        finally
        {
            outbox.Gate.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "tracer: a sampling tick failed; the next one goes on")]
    private static partial void LogTickFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "eBPF helper: could not stop following worker {Pid}: {Reason}")]
    private static partial void LogForgetFailed(ILogger logger, int pid, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "experiment {Experiment}: {Reports} reports dropped: its collector has taken none for {Minutes} min and no tenant of it is left on this node")]
    private static partial void LogReportsDropped(ILogger logger, string experiment, int reports, double minutes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "experiment {Experiment}: report {Sequence} not delivered ({Queued} queued, sent with the next): {Reason}")]
    private static partial void LogReportDeferred(ILogger logger, string experiment, long sequence, int queued, string reason);

    private sealed class ExperimentOutbox
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public Queue<NodeReport> Queue { get; } = new();

        /// <summary>When a report was last delivered (or the outbox made).</summary>
        public long LastDeliveredNs { get; set; } = MonotonicClock.NowNs();

        /// <summary>Removed from the node: a sender that finds it so takes the experiment's new outbox.</summary>
        public bool Retired { get; set; }

        public int Pending => Queue.Count;
    }
}
