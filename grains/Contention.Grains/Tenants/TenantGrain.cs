using Contention.Grains.Node;
using Contention.Grains.Placement;
using Microsoft.Extensions.Logging;

namespace Contention.Grains.Tenants;

/// <summary>
/// One tenant (key <c>experiment/tenant</c>). It owns its worker's lifecycle through a
/// <see cref="TenantRunner"/>; the work runs in the worker, and the grain only awaits it.
/// While its worker runs, it watches its experiment: once the experiment has ended, or came
/// back empty because the node that ran it left the cluster, or cannot be reached for a
/// minute, it stops the worker, so that no worker outlives its experiment.
/// </summary>
[DevicePlacement]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "Grains are not disposed by an owner: the runner is disposed in StopAsync and OnDeactivateAsync.")]
internal sealed partial class TenantGrain(NodeContext node, ILogger<TenantGrain> logger) : Grain, ITenantGrain
{
    /// <summary>How often a running tenant asks its experiment whether it still runs.</summary>
    internal static readonly TimeSpan WatchPeriod = TimeSpan.FromSeconds(2);

    /// <summary>How long an experiment may not answer before its tenants stop.</summary>
    internal static readonly TimeSpan UnreachableLimit = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long one watch call may take before it counts as not answered. Without it a call
    /// that hangs (addressed to a node that died, while the cluster recovers its directory)
    /// holds the watch for the messaging timeout (3 minutes), and the next one as long again.
    /// </summary>
    internal static readonly TimeSpan WatchCallTimeout = TimeSpan.FromSeconds(10);

    private TenantRunner? runner;
    private TenantStatus? lastStatus;
    private IGrainTimer? watch;
    private bool experimentSeen;
    private bool contactLost;
    private DateTimeOffset? unreachableSince;

    /// <inheritdoc />
    public async Task<TenantStatus> StartAsync(TenantSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (runner is not null)
        {
            return runner.Status;
        }

        Contention.Workloads.Devices.DeviceId device;
        Contention.Workloads.Sim.SimChannelInfo? lease;
        try
        {
            (device, lease) = node.Devices.Reserve(spec.Device, TenantRunner.ToDevice(spec.Sharing), new Contention.Workloads.Sim.SimContext(spec.Priority, spec.GpuSharePercent / 100.0));
        }
        catch (InvalidOperationException ex)
        {
            return await FailAsync(spec, spec.Device, ex.Message, cancellationToken);
        }

        this.DelayDeactivation(TimeSpan.FromDays(1));
        var starting = new TenantRunner(spec, device, lease, node);
        try
        {
            // Set before the worker runs: a status asked meanwhile (it interleaves) says Starting.
            runner = starting;
            var status = await starting.StartAsync();
            watch = this.RegisterGrainTimer(WatchExperimentAsync, TimeSpan.FromMilliseconds(500), WatchPeriod);
            return status;
        }
        catch (InvalidOperationException ex)
        {
            // The device could not take the tenant (every modelled-GPU slot taken, say).
            runner = null;
            await starting.DisposeAsync();
            return await FailAsync(spec, device.ToString(), ex.Message, cancellationToken);
        }
    }

    /// <inheritdoc />
    public Task SetPhaseAsync(MeasurementPhase phase, CancellationToken cancellationToken = default) =>
        runner?.SetPhaseAsync(phase) ?? Task.CompletedTask;

    /// <inheritdoc />
    public async Task<TenantStatus> StopAsync(CancellationToken cancellationToken = default)
    {
        if (runner is null)
        {
            return lastStatus ?? new TenantStatus(this.GetPrimaryKeyString(), TenantState.Idle, node.Options.Name, "", "", 0, 0, null);
        }

        lastStatus = await StopRunnerAsync(runner);
        return lastStatus;
    }

    private async Task<TenantStatus> StopRunnerAsync(TenantRunner stopping)
    {
        watch?.Dispose();
        watch = null;
        var status = await stopping.StopAsync();
        await stopping.DisposeAsync();
        runner = null;
        this.DelayDeactivation(TimeSpan.FromMinutes(10));
        return status;
    }

    /// <summary>
    /// What one answer of the experiment means for its running tenant: stop it (and why), or not.
    /// An experiment grain that answers Pending after it was seen running, or after it could not
    /// be reached, was reactivated empty: its node left the cluster. (Before 2026-12-02 only the
    /// first counted: a tenant whose watch had not yet seen its experiment run when that node was
    /// killed kept its workers, as a CI run of the node-loss test showed.)
    /// </summary>
    internal static string? Verdict(ExperimentProgress progress, bool seenRunning, bool contactLost) =>
        progress.IsFinished ? $"its experiment ended ({progress.State}) without stopping it"
        : progress.State == ExperimentState.Pending && (seenRunning || contactLost) ? "its experiment was lost with the node that ran it"
        : null;

    /// <summary>Stops the worker of an experiment that ended, was lost with its node, stopped answering, or never said it ran.</summary>
    private async Task WatchExperimentAsync(CancellationToken cancellation)
    {
        if (runner is not { } current)
        {
            return;
        }

        string? reason;
        try
        {
            // Bounded whatever Orleans does with the call: WaitAsync gives up on it at the limit.
            using var limit = new CancellationTokenSource(WatchCallTimeout, node.Time);
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellation, limit.Token);
            var progress = await GrainFactory.GetGrain<IExperimentGrain>(current.Spec.Experiment).GetProgressAsync(bounded.Token).WaitAsync(bounded.Token);
            reason = Verdict(progress, experimentSeen, contactLost);
            experimentSeen |= progress.State != ExperimentState.Pending;
            if (progress.State == ExperimentState.Pending && reason is null)
            {
                // Never seen running: a tenant started without an experiment (tests), or one whose
                // experiment's node died before any answer reached it. Pending for the limit ends it.
                reason = Silent("as running (it says Pending: it never ran, or came back empty)");
            }
            else
            {
                unreachableSince = null;
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // The watch was disposed: the worker is being stopped already.
            return;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            contactLost = true;
            var error = ex is OperationCanceledException ? $"no answer in {WatchCallTimeout.TotalSeconds:0} s" : ex.GetBaseException().Message;
            if (unreachableSince is null)
            {
                LogUnanswered(logger, current.Spec.Experiment, current.Spec.Name, error, UnreachableLimit.TotalSeconds);
            }

            reason = Silent($"({error})");
        }

        // Silent since the first answer that was none (or not Running): the reason to stop once that lasted the limit.
        string? Silent(string how)
        {
            unreachableSince ??= node.Time.GetUtcNow();
            return node.Time.GetUtcNow() - unreachableSince >= UnreachableLimit ? $"its experiment has not answered for {UnreachableLimit.TotalSeconds:0} s {how}" : null;
        }

        if (reason is null || runner != current)
        {
            return;
        }

        LogAbandoned(logger, current.Spec.Experiment, current.Spec.Name, reason);
        var status = await StopRunnerAsync(current);
        lastStatus = status with { State = TenantState.Failed, LastError = $"stopped by its node: {reason}" };
    }

    /// <inheritdoc />
    public Task<TenantStatus> GetStatusAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(runner?.Status ?? lastStatus ?? new TenantStatus(this.GetPrimaryKeyString(), TenantState.Idle, node.Options.Name, "", "", 0, 0, null));

    private async Task<TenantStatus> FailAsync(TenantSpec spec, string device, string message, CancellationToken cancellationToken)
    {
        lastStatus = new TenantStatus(spec.Name, TenantState.Failed, node.Options.Name, device, "", 0, 0, message);
        await GrainFactory.GetGrain<ICollectorGrain>(spec.Experiment).RecordFailureAsync(new TenantFailure(spec.Name, node.Options.Name, message, -1, node.Time.GetUtcNow(), false), cancellationToken);
        return lastStatus;
    }

    /// <inheritdoc />
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        watch?.Dispose();
        if (runner is not null)
        {
            await runner.DisposeAsync();
            runner = null;
        }

        await base.OnDeactivateAsync(reason, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "experiment {Experiment}: tenant {Tenant}'s experiment did not answer ({Error}); its worker stops if it does not answer for {Limit} s")]
    private static partial void LogUnanswered(ILogger logger, string experiment, string tenant, string error, double limit);

    [LoggerMessage(Level = LogLevel.Warning, Message = "experiment {Experiment}: stopping tenant {Tenant}: {Reason}")]
    private static partial void LogAbandoned(ILogger logger, string experiment, string tenant, string reason);
}
