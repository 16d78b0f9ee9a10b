using System.Diagnostics;
using Contention.Workloads.Devices;
using Contention.Workloads.Metrics;
using Contention.Workloads.Sim;
using Contention.Workloads.Worker;
using Contention.Workloads.Workloads;
using HdrHistogram;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace Contention.Grains.Node;

/// <summary>
/// Supervises one tenant's worker on this node: starts it, restarts it after a crash when the
/// mix allows (Polly retry with exponential back-off and jitter), reports every failure, and
/// accumulates the worker's latency reports until the node tracer takes them.
/// </summary>
internal sealed partial class TenantRunner : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);
    private readonly TenantSpec spec;
    private readonly DeviceId device;
    private readonly NodeContext node;
    private readonly ILogger logger;
    private readonly ResiliencePipeline restarts;
    private readonly CancellationTokenSource stop = new();
    private readonly TaskCompletionSource<IWorker> firstStart = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly LatencyRecorder pendingLatency = new();
    private SimChannelInfo? sim;
    private MpsLease? mps;
    private Contention.Workloads.Arbiter.ArbiterOptions? arbiter;
    private IWorker? worker;
    private Task? supervision;
    private TenantState state = TenantState.Idle;
    private int restartCount;
    private long rejectedLines;
    private long pendingKernelNs;
    private double arbiterCorrection;
    private readonly Lock samplingLock = new();
    private KernelSampling pendingSampling;
    private int samplesKernels;
    private long pendingGcs;
    private long pendingGcPauseNs;
    private long pendingHeld;
    private long pendingHeldNs;
    private long pendingPredictedNs;
    private int measuresKernels;

    // Handed to the node tracer, which owns it; this runner reads its threads and adds thread phases.
    private readonly TenantMeasurement measurement = new();
    private string? lastError;

    /// <summary>A runner for <paramref name="spec"/> on <paramref name="device"/>, holding <paramref name="sim"/>'s modelled-GPU slot (released when it ends).</summary>
    public TenantRunner(TenantSpec spec, DeviceId device, SimChannelInfo? sim, NodeContext node)
    {
        this.spec = spec;
        this.device = device;
        this.sim = sim;
        this.node = node;
        logger = node.LoggerFactory.CreateLogger<TenantRunner>();
        restarts = BuildRestartPipeline();
    }

    public TenantSpec Spec => spec;

    public MeasurementPhase Phase { get; private set; } = MeasurementPhase.Warmup;


    public IWorker? Worker => worker;

    public TenantStatus Status
    {
        get
        {
            var current = worker;
            var threads = measurement.LastThreads.Select(t => new ThreadCounters(t.Tid, t.Name, t.Counters.VoluntarySwitches, t.Counters.InvoluntarySwitches, t.Counters.UserSeconds, t.Counters.SystemSeconds, t.Exited)).ToList();
            return new TenantStatus(spec.Name, state, node.Options.Name, device.ToString(), current?.Description ?? "", current?.Pid ?? 0, restartCount, lastError, threads, measurement.ThreadCalls);
        }
    }

    /// <summary>Starts the worker; completes once the workload runs or has failed for good.</summary>
    /// <exception cref="InvalidOperationException">The tenant cannot share its GPU as it asks (MPS missing, a thread tenant under MPS).</exception>
    public async Task<TenantStatus> StartAsync()
    {
        if (device.Kind == DeviceKind.Cuda && spec.Sharing == GpuSharing.Mps)
        {
            if (spec.Isolation == Isolation.Thread)
            {
                throw new InvalidOperationException($"{spec.Name} runs on a thread in the silo's own CUDA context, which MPS cannot share; give it isolation: process");
            }

            mps = await node.Devices.Mps.AcquireAsync(device.Index).ConfigureAwait(false);
        }

        if (spec.Arbiter != ArbiterMode.Off)
        {
            if (spec.Kind == TenantKind.Command)
            {
                // An external program's launches do not pass through the arbiter: it runs beside it.
                LogOutsideArbiter(logger, spec.Name);
            }
            else
            {
                arbiter = node.Devices.Arbiters.Acquire(device, spec.ArbiterOutstandingNs, spec.Arbiter is ArbiterMode.Slicing or ArbiterMode.Spatial ? spec.ArbiterQuantumNs : 0, spec.Priority > 0, spec.Arbiter != ArbiterMode.Spatial);
            }
        }

        state = TenantState.Starting;
        node.Tracer.Register(this, measurement);
        supervision = Task.Run(SuperviseAsync);
        try
        {
            await firstStart.Task.ConfigureAwait(false);
        }
        catch (WorkerCrashedException)
        {
            // The failure is recorded in the status and reported to the collector.
        }

        return Status;
    }

    /// <summary>Reports the current phase's last interval and switches phase, atomically with respect to the node tracer.</summary>
    public Task SetPhaseAsync(MeasurementPhase phase) => node.Tracer.FlushAsync(this, phase);

    /// <summary>Called by the node tracer, under the tenant's report lock, right after it took the old phase's last interval.</summary>
    internal void EnterPhase(MeasurementPhase phase) => Phase = phase;

    public async Task<TenantStatus> StopAsync()
    {
        if (state is TenantState.Stopped or TenantState.Idle)
        {
            return Status;
        }

        await stop.CancelAsync().ConfigureAwait(false);
        if (supervision is not null)
        {
            await supervision.ConfigureAwait(false);
        }

        // The supervision loop has already delivered the final sample (see RunOnceAsync).
        node.Tracer.Unregister(this);
        if (state != TenantState.Failed)
        {
            state = TenantState.Stopped;
        }

        return Status;
    }

    /// <summary>Latencies and completions reported since the previous call.</summary>
    public LongHistogram TakeLatency() => pendingLatency.TakeInterval();

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync().ConfigureAwait(false);
        if (supervision is not null)
        {
            await supervision.ConfigureAwait(false);
        }
        else
        {
            // Never started: the slot (and the MPS daemon, the arbiter's place) reserved for it go back.
            ReleaseSim();
            ReleaseArbiter();
            await ReleaseMpsAsync().ConfigureAwait(false);
        }

        node.Tracer.Unregister(this);
        stop.Dispose();
    }

    private async Task SuperviseAsync()
    {
        try
        {
            await restarts.ExecuteAsync(RunOnceAsync, stop.Token).ConfigureAwait(false);
        }
        catch (WorkerCrashedException ex)
        {
            state = TenantState.Failed;
            lastError = ex.Message;
            await ReportFailureAsync(ex, willRestart: false).ConfigureAwait(false);
            firstStart.TrySetException(ex);
        }
        catch (OperationCanceledException)
        {
        }
        catch (TimeoutException ex)
        {
            // The worker did not start, or did not stop (stopped or stuck) and was killed: either
            // way what it did to the end went unmeasured — a failure, recorded so the verdict says so.
            state = TenantState.Failed;
            lastError = ex.Message;
            await ReportFailureAsync(new WorkerCrashedException(-1, ex.Message), willRestart: false).ConfigureAwait(false);
            firstStart.TrySetException(ex);
        }
        finally
        {
            ReleaseSim();
            ReleaseArbiter();
            await ReleaseMpsAsync().ConfigureAwait(false);
        }
    }

    private async Task ReleaseMpsAsync()
    {
        if (mps is { } lease)
        {
            mps = null;
            await node.Devices.Mps.ReleaseAsync(lease.Gpu, lease.DaemonPid).ConfigureAwait(false);
        }
    }

    /// <summary>Starts a worker process or command as the node does, sharing its GPU by MPS when the tenant asks.</summary>
    private Task<Process> LaunchAsync(ProcessStartInfo info)
    {
        if (mps is { } lease)
        {
            MpsDaemons.SetClientEnvironment(info.Environment, lease, spec.GpuSharePercent, spec.Priority);
        }

        return node.Bpf.StartAsync(info);
    }

    /// <summary>
    /// Under MPS, that the worker reached the GPU's daemon: a CUDA program that cannot silently
    /// runs time-sliced, and its results would claim a sharing mode they did not have.
    /// </summary>
    private async Task CheckMpsClientAsync(IWorker current)
    {
        if (mps is not { } lease)
        {
            return;
        }

        // The daemon may list a client a moment after its context exists: asked a few times.
        var clients = await node.Devices.Mps.ClientsAsync(lease.Gpu).ConfigureAwait(false);
        for (var attempt = 1; attempt < 10 && !clients.Contains(current.Pid); attempt++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt)).ConfigureAwait(false);
            clients = await node.Devices.Mps.ClientsAsync(lease.Gpu).ConfigureAwait(false);
        }

        if (!clients.Contains(current.Pid))
        {
            await current.StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            throw new WorkerCrashedException(-1, $"the worker (pid {current.Pid}) did not connect to cuda:{lease.Gpu}'s MPS daemon (its clients: {(clients.Count == 0 ? "none" : string.Join(", ", clients))}); it would have run time-sliced. The daemon's log: {lease.LogDirectory}");
        }
    }

    private void ReleaseArbiter()
    {
        if (arbiter is not null)
        {
            arbiter = null;
            node.Devices.Arbiters.Release(device);
        }
    }

    private void ReleaseSim()
    {
        if (sim is not null)
        {
            node.Devices.Sims[device.Index].Release(sim.Slot);
            sim = null;
        }
    }

    private async ValueTask RunOnceAsync(CancellationToken cancellation)
    {
        if (spec.Kind == TenantKind.Command)
        {
            await RunCommandAsync(cancellation).ConfigureAwait(false);
            return;
        }

        var start = new WorkerStart
        {
            Tenant = spec.Name,
            Device = device.ToString(),
            SyncMode = ToDevice(spec.SyncMode),
            PinnedHost = spec.PinnedHost,
            CpuThreads = spec.CpuThreads,
            SimChannel = sim,
            Arbiter = arbiter,
            CudaOrdinal = mps is null ? null : 0,
            HighPriorityStream = spec.Priority > 0,
            KernelTimingBudget = spec.GpuTimingBudget,
            Workload = ToWorkload(spec),
        };
        var current = spec.Isolation == Isolation.Thread
            ? (IWorker)await WorkerThread.StartAsync(start, OnReport, new ThreadPhases(this, node.Options.Name)).ConfigureAwait(false)
            : await WorkerProcess.StartAsync(node.WorkerCommand, start, OnReport, (w, phase) => node.Tracer.PhaseAsync(this, w.Pid, phase), StartTimeout, LaunchAsync).ConfigureAwait(false);
        await CheckMpsClientAsync(current).ConfigureAwait(false);
        await RunWorkerAsync(current, cancellation).ConfigureAwait(false);
    }

    private static readonly Task<string> NeverTask = new TaskCompletionSource<string>().Task;

    /// <summary>Runs a started worker until it crashes or the tenant is stopped; a worker that finishes its work stays until then.</summary>
    private async Task RunWorkerAsync(IWorker current, CancellationToken cancellation)
    {
        worker = current;
        state = TenantState.Running;
        _ = current.Finished.ContinueWith(
            _ =>
            {
                if (state == TenantState.Running && ReferenceEquals(worker, current))
                {
                    state = TenantState.Finished;
                }
            },
            TaskScheduler.Default);
        LogWorkerStarted(logger, spec.Name, current.Pid, current.Description);
        firstStart.TrySetResult(current);
        try
        {
            // A modelled GPU whose engine died completes nothing more: its tenants fail at once.
            var engine = device.Kind == DeviceKind.Sim && device.Index < node.Devices.Sims.Count
                ? node.Devices.Sims[device.Index].EngineExited
                : NeverTask;
            // So do the tenants of a GPU whose MPS daemon died: their contexts went with it.
            var daemon = mps is { } lease ? node.Devices.Mps.Lost(lease) : NeverTask;
            var first = await Task.WhenAny(current.Completion, engine, daemon).WaitAsync(cancellation).ConfigureAwait(false);
            if (first == engine)
            {
                throw new WorkerCrashedException(-1, $"{await engine.ConfigureAwait(false)}: {device} cannot run the tenant's kernels any more");
            }

            if (first == daemon)
            {
                throw new WorkerCrashedException(-1, $"{await daemon.ConfigureAwait(false)}: the tenant's work on {device} was lost with it");
            }

            await current.Completion.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // The measured time ends at the stop request, not when the worker has stopped.
            node.Tracer.StopAsked(this);
            await current.StopAsync(TimeSpan.FromSeconds(node.Options.WorkerStopTimeoutSeconds)).ConfigureAwait(false);

            // Quiescent but alive: the final sample sees every switch and CPU tick it made.
            await node.Tracer.FlushAsync(this, final: true).ConfigureAwait(false);
            await current.DisposeAsync().ConfigureAwait(false);
            return;
        }
        catch (WorkerCrashedException)
        {
            // Deliver what the dead worker had reported before it is forgotten.
            await node.Tracer.FlushAsync(this).ConfigureAwait(false);
            await current.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        await current.DisposeAsync().ConfigureAwait(false);
        throw new WorkerCrashedException(0, $"worker {current.Pid} of {spec.Name} ended on its own");
    }

    private async Task RunCommandAsync(CancellationToken cancellation)
    {
        var current = await CommandWorker.StartAsync(spec, device.ToString(), OnReport, OnRejected, LaunchAsync).ConfigureAwait(false);
        await RunWorkerAsync(current, cancellation).ConfigureAwait(false);
    }

    private void OnReport(WorkerInterval interval)
    {
        pendingLatency.Add(interval.Histogram);
        Interlocked.Add(ref pendingGcs, interval.Gcs);
        Interlocked.Add(ref pendingGcPauseNs, interval.GcPauseNs);
        Interlocked.Add(ref pendingHeld, interval.ArbiterHeld);
        Interlocked.Add(ref pendingHeldNs, interval.ArbiterHeldNs);
        Interlocked.Add(ref pendingPredictedNs, interval.ArbiterPredictedNs);
        if (interval.ArbiterCorrection > 0)
        {
            Volatile.Write(ref arbiterCorrection, interval.ArbiterCorrection);
        }

        if (interval.KernelNs is { } kernelNs)
        {
            Interlocked.Add(ref pendingKernelNs, kernelNs);
            Volatile.Write(ref measuresKernels, 1);
        }

        if (interval.Sampling is { } sampling)
        {
            lock (samplingLock)
            {
                pendingSampling += sampling;
            }

            Volatile.Write(ref samplesKernels, 1);
        }
    }

    /// <summary>How late the modelled GPU the tenant runs on has run so far (<see cref="SimGpuHost.LateNs"/>, <see cref="SimGpuHost.LongestLateNs"/>); null off a modelled GPU.</summary>
    public (long LateNs, long LongestLateNs)? ModelLateness() =>
        device.Kind == DeviceKind.Sim && device.Index < node.Devices.Sims.Count
            ? (node.Devices.Sims[device.Index].LateNs, node.Devices.Sims[device.Index].LongestLateNs)
            : null;

    /// <summary>GPU time of the tenant's kernels reported since the previous call, seconds; null while its device has reported none (a cpu device, a command).</summary>
    public double? TakeGpuSeconds()
    {
        var ns = Interlocked.Exchange(ref pendingKernelNs, 0);
        return Volatile.Read(ref measuresKernels) == 0 ? null : ns / 1e9;
    }

    /// <summary>The tenant's kernels since the previous call and the batches of them its device timed, where its GPU time is estimated from such a sample (a cuda device); null where it is exact or absent.</summary>
    public KernelSampling? TakeGpuSampling()
    {
        KernelSampling sampling;
        lock (samplingLock)
        {
            (sampling, pendingSampling) = (pendingSampling, default);
        }

        return Volatile.Read(ref samplesKernels) == 0 ? null : sampling;
    }

    /// <summary>Launches the GPU's arbiter held since the previous call, for how long, and the GPU time predicted of the launches it let go, seconds.</summary>
    public (long Count, double Seconds, double PredictedSeconds) TakeArbiterHolds() =>
        (Interlocked.Exchange(ref pendingHeld, 0), Interlocked.Exchange(ref pendingHeldNs, 0) / 1e9, Interlocked.Exchange(ref pendingPredictedNs, 0) / 1e9);

    /// <summary>A best-effort tenant behind an arbiter: its duration predictor's correction as last reported; 0 otherwise.</summary>
    public double ArbiterCorrection => Volatile.Read(ref arbiterCorrection);

    /// <summary>Garbage collections of the tenant's .NET process reported since the previous call, and how long they paused it, seconds.</summary>
    public (long Count, double PauseSeconds) TakeGcs() => (Interlocked.Exchange(ref pendingGcs, 0), Interlocked.Exchange(ref pendingGcPauseNs, 0) / 1e9);

    private void OnRejected(long lines) => Interlocked.Add(ref rejectedLines, lines);

    /// <summary>Rejected latency lines reported since the previous call.</summary>
    public long TakeRejectedLines() => Interlocked.Exchange(ref rejectedLines, 0);

    private ResiliencePipeline BuildRestartPipeline()
    {
        if (spec.MaxRestarts <= 0)
        {
            return ResiliencePipeline.Empty;
        }

        return new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<WorkerCrashedException>(),
                MaxRetryAttempts = spec.MaxRestarts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromSeconds(Math.Max(0.01, spec.RestartBackoffSeconds)),
                OnRetry = async args =>
                {
                    restartCount++;
                    state = TenantState.Restarting;
                    var crash = (WorkerCrashedException)args.Outcome.Exception!;
                    lastError = crash.Message;
                    LogWorkerRestart(logger, spec.Name, crash.Message, args.RetryDelay.TotalSeconds);
                    await ReportFailureAsync(crash, willRestart: true).ConfigureAwait(false);
                },
            })
            .Build();
    }

    private async Task ReportFailureAsync(WorkerCrashedException crash, bool willRestart)
    {
        LogWorkerFailed(logger, spec.Name, crash.Message, willRestart);
        var failure = new TenantFailure(spec.Name, node.Options.Name, crash.Message, crash.ExitCode, node.Time.GetUtcNow(), willRestart);
        try
        {
            await node.Grains.GetGrain<ICollectorGrain>(spec.Experiment).RecordFailureAsync(failure).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            LogFailureNotRecorded(logger, spec.Name, ex.Message);
        }
    }

    /// <summary>The device layer's wait for a tenant's sync mode.</summary>
    internal static Workloads.Devices.SyncMode ToDevice(SyncMode mode) => mode switch
    {
        SyncMode.Spin => Workloads.Devices.SyncMode.Spin,
        SyncMode.Yield => Workloads.Devices.SyncMode.Yield,
        SyncMode.Block => Workloads.Devices.SyncMode.Block,
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown sync mode"),
    };

    /// <summary>The device layer's sharing mode for a tenant's.</summary>
    internal static Workloads.Sim.GpuSharing ToDevice(GpuSharing sharing) => sharing switch
    {
        GpuSharing.Timeslice => Workloads.Sim.GpuSharing.Timeslice,
        GpuSharing.Mps => Workloads.Sim.GpuSharing.Mps,
        _ => throw new ArgumentOutOfRangeException(nameof(sharing), sharing, "unknown sharing mode"),
    };

    internal static WorkloadSpec ToWorkload(TenantSpec spec) => spec.RateOfCapacity > 0 && spec.RatePerSecond <= 0
        ? throw new ArgumentException($"tenant {spec.Name}: its rate is {spec.RateOfCapacity * 100:0.#}% of its capacity, which the client measures and turns into requests per second before the run ('contention run' and 'contention simulate' do); this one came unresolved", nameof(spec))
        : new()
        {
            Kind = spec.Kind switch
            {
                TenantKind.Training => WorkloadKind.Training,
                TenantKind.Inference => WorkloadKind.Inference,
                TenantKind.Microbench => WorkloadKind.Microbench,
                TenantKind.Replay => WorkloadKind.Replay,
                _ => throw new ArgumentOutOfRangeException(nameof(spec), spec.Kind, "a command tenant runs no modelled workload"),
            },
            Model = spec.Model,
            BatchSize = spec.BatchSize,
            RatePerSecond = spec.RatePerSecond,
            Op = Enum.Parse<MicrobenchOp>(spec.Op, ignoreCase: true),
            Bytes = spec.Bytes,
            Iterations = spec.Iterations,
            Seed = spec.Seed,
            Grid = spec.Grid?.Select(g => new MicrobenchGroup(Enum.Parse<MicrobenchOp>(g.Op, ignoreCase: true), g.Bytes, g.Iterations)).ToList(),
            PointLimitMs = spec.PointLimitMs,
            WarmupOperations = spec.WarmupOperations,
            AllocatePerOperation = spec.Allocation == "step",
            Trace = spec.Trace,
            TraceSteps = spec.TraceSteps,
        };

    /// <summary>A phase as the collector keeps it: the worker's own measurements, and the node's eBPF counts when it has them.</summary>
    internal static PhaseRecord Record(string tenant, string node, int pid, PhaseSample phase, KernelCounters? kernel) => new()
    {
        Tenant = tenant,
        Node = node,
        Pid = pid,
        Index = phase.Index,
        Name = phase.Name,
        Op = phase.Op ?? "",
        Bytes = phase.Bytes,
        Iterations = phase.Iterations,
        IterationsRun = phase.IterationsRun,
        Operations = phase.Operations,
        WallSeconds = phase.WallNs / 1e9,
        Os = new OsCounters(phase.VoluntarySwitches, phase.InvoluntarySwitches, phase.UserNs / 1e9, phase.SystemNs / 1e9, phase.MinorFaults, phase.MajorFaults),
        Kernel = kernel,
    };

    /// <summary>Phases of a workload thread inside the silo: no process of its own to trace, so the worker's measurements alone.</summary>
    private sealed class ThreadPhases(TenantRunner runner, string node) : IPhaseSink
    {
        public void Boundary(PhaseSample ended) => runner.measurement.AddPhase(Record(runner.spec.Name, node, Environment.ProcessId, ended, null));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "tenant {Tenant} is a command: its launches cannot pass through the GPU's arbiter (neither gated nor sliced), so it runs beside it")]
    private static partial void LogOutsideArbiter(ILogger logger, string tenant);

    [LoggerMessage(Level = LogLevel.Information, Message = "tenant {Tenant}: worker {Pid} running on {Device}")]
    private static partial void LogWorkerStarted(ILogger logger, string tenant, int pid, string device);

    [LoggerMessage(Level = LogLevel.Warning, Message = "tenant {Tenant}: {Reason}; restarting in {DelaySeconds:0.00} s")]
    private static partial void LogWorkerRestart(ILogger logger, string tenant, string reason, double delaySeconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "tenant {Tenant} failed: {Reason} (restart follows: {WillRestart})")]
    private static partial void LogWorkerFailed(ILogger logger, string tenant, string reason, bool willRestart);

    [LoggerMessage(Level = LogLevel.Error, Message = "tenant {Tenant}: the collector could not record a failure: {Reason}")]
    private static partial void LogFailureNotRecorded(ILogger logger, string tenant, string reason);
}
