using Microsoft.Extensions.Logging;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace Contention.Grains.Experiments;

/// <summary>
/// Runs one experiment: starts its tenants (each placed on a node with its device), lets them
/// warm up, opens the measurement window, and stops them. A grain timer drives the phases;
/// every step awaits the tenant grains, nothing blocks a turn. A tenant that cannot be reached
/// keeps its last status; one whose grain comes back empty after it ran was lost with its node,
/// and the experiment then stops the others and ends <see cref="ExperimentState.Failed"/>.
/// </summary>
[Placement.DevicePlacement]
internal sealed partial class ExperimentGrain(TimeProvider time, IClusterMembershipService membership, ISiloMetadataCache metadata, ILogger<ExperimentGrain> logger) : Grain, IExperimentGrain
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(200);
    private ExperimentPlan? plan;
    private ExperimentState state = ExperimentState.Pending;
    private DateTimeOffset stateSince;
    private DateTimeOffset? started;
    private DateTimeOffset? ended;
    private string? message;
    private TenantStatus[] tenants = [];
    private IGrainTimer? timer;
    private string experimentId = "";

    // Tenants whose node left the cluster while they ran: their grain came back empty.
    private readonly List<(string Tenant, string Node)> lost = [];

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        experimentId = this.GetPrimaryKeyString();
        return base.OnActivateAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async Task<ExperimentProgress> StartAsync(ExperimentPlan plan, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (this.plan is not null)
        {
            return Progress();
        }

        this.plan = plan;
        started = time.GetUtcNow();
        // A node whose metadata has not reached this silo yet is unknown: then placement decides.
        var nodes = Inventory();
        var problems = nodes.All(n => n.Devices.Count > 0) ? Preflight.Check(plan.Tenants, nodes) : [];
        if (problems.Count > 0)
        {
            // Nothing starts: the plan cannot run as asked, and the user is told what to change.
            message = "preflight: " + string.Join("; ", problems);
            LogFailed(logger, experimentId, message);
            ended = started;
            Enter(ExperimentState.Failed);
            return Progress();
        }

        Enter(ExperimentState.Starting);
        this.DelayDeactivation(TimeSpan.FromDays(1));
        // The collector prefers the silo of its first caller: beside the experiment, not on a tenant's node.
        await GrainFactory.GetGrain<ICollectorGrain>(experimentId).GetSnapshotAsync(cancellationToken);
        LogStarting(logger, experimentId, plan.Tenants.Count, plan.WarmupSeconds, plan.DurationSeconds);
        timer = this.RegisterGrainTimer(OnTickAsync, TimeSpan.Zero, Tick);
        return Progress();
    }

    /// <inheritdoc />
    public Task<ExperimentProgress> GetProgressAsync(CancellationToken cancellationToken = default) => Task.FromResult(Progress());

    /// <inheritdoc />
    public Task<ExperimentPlan?> GetPlanAsync(CancellationToken cancellationToken = default) => Task.FromResult(plan);

    /// <inheritdoc />
    public async Task<ExperimentProgress> StopAsync(string reason, CancellationToken cancellationToken = default)
    {
        if (plan is null || IsFinished)
        {
            return Progress();
        }

        message = reason;
        await StopTenantsAsync(ExperimentState.Interrupted);
        return Progress();
    }

    /// <inheritdoc />
    public async Task ForgetAsync(CancellationToken cancellationToken = default)
    {
        if (plan is not null && !IsFinished)
        {
            return;
        }

        await GrainFactory.GetGrain<ICollectorGrain>(experimentId).ReleaseAsync(TimeSpan.Zero, cancellationToken);
        this.DeactivateOnIdle();
    }

    /// <summary>The nodes up now, with their devices and modelled-GPU slots from their silo metadata.</summary>
    private List<NodeInventory> Inventory() => membership.CurrentSnapshot.Members.Values
        .Where(m => m.Status == SiloStatus.Active)
        .Select(m =>
        {
            var data = metadata.GetSiloMetadata(m.SiloAddress).Metadata;
            string[] devices = data.TryGetValue(DeviceRequirement.MetadataKey, out var list) ? list.Split(',') : [];
            var slots = data.TryGetValue(DeviceRequirement.SimSlotsKey, out var text) && int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : 0;
            return new NodeInventory(data.TryGetValue(DeviceRequirement.NodeKey, out var name) ? name : m.Name ?? m.SiloAddress.ToString(), devices, slots);
        })
        .ToList();

    private bool IsFinished => state is ExperimentState.Completed or ExperimentState.Interrupted or ExperimentState.Failed;

    private async Task OnTickAsync(CancellationToken cancellation)
    {
        if (plan is null || IsFinished)
        {
            return;
        }

        var elapsed = (time.GetUtcNow() - stateSince).TotalSeconds;
        switch (state)
        {
            case ExperimentState.Starting:
                await StartTenantsAsync(plan);
                break;
            case ExperimentState.Warmup when elapsed >= plan.WarmupSeconds:
                await MeasureAsync(plan);
                break;
            case ExperimentState.Measuring when elapsed >= plan.DurationSeconds:
                await StopTenantsAsync(ExperimentState.Completed);
                return;
        }

        tenants = await AskAsync(plan, (tenant, _) => tenant.GetStatusAsync(cancellation));
        if (lost.Count > 0)
        {
            // What the lost tenants measured until their last report is kept; the rest cannot be.
            await StopTenantsAsync(ExperimentState.Failed);
            return;
        }

        // Nothing left running: tenants whose work ends by itself (grid walks, commands) end the
        // experiment early once all are done (its duration is then a limit, not a length); if
        // every tenant failed, there is nothing more to measure.
        if (state is ExperimentState.Warmup or ExperimentState.Measuring
            && tenants.All(t => t.State is TenantState.Finished or TenantState.Failed))
        {
            var finished = tenants.Any(t => t.State == TenantState.Finished);
            if (!finished)
            {
                message = "every tenant failed: " + string.Join("; ", tenants.Select(t => $"{t.Tenant}: {t.LastError}"));
                LogFailed(logger, experimentId, message);
            }
            else
            {
                LogAllFinished(logger, experimentId);
            }

            await StopTenantsAsync(finished ? ExperimentState.Completed : ExperimentState.Failed);
        }
    }

    private async Task StartTenantsAsync(ExperimentPlan plan)
    {
        var starts = new List<Task<TenantStatus>>();
        foreach (var spec in plan.Tenants)
        {
            // The requirement travels in the request context to the placement director.
            DeviceRequirement.Set(spec.Device);
            starts.Add(StartTenantAsync(spec));
            DeviceRequirement.Clear();
        }

        tenants = await Task.WhenAll(starts);
        if (tenants.All(t => t.State is TenantState.Failed))
        {
            message = "no tenant started: " + string.Join("; ", tenants.Select(t => $"{t.Tenant}: {t.LastError}"));
            LogFailed(logger, experimentId, message);
            ended = time.GetUtcNow();
            Enter(ExperimentState.Failed);
            timer?.Dispose();
            await ReleaseAsync();
            return;
        }

        if (plan.WarmupSeconds > 0)
        {
            Enter(ExperimentState.Warmup);
        }
        else
        {
            await MeasureAsync(plan);
        }
    }

    /// <summary>
    /// Opens every tenant's measurement window; one that cannot be reached is seen (and judged) at
    /// the next tick. The window's length counts from the request, not from the slowest tenant's
    /// answer: a tenant's boundary waits for its worker's last interval (up to 2 s when the worker
    /// is starved), and counting from the last answer stretched every other tenant's window by
    /// that much (a 3-s window measured 7.2 s on a busy 2-core machine).
    /// </summary>
    private async Task MeasureAsync(ExperimentPlan plan)
    {
        var asked = time.GetUtcNow();
        await Task.WhenAll(plan.Tenants.Where(t => !IsLost(t.Name)).Select(async t =>
        {
            try
            {
                await Tenant(t).SetPhaseAsync(MeasurementPhase.Measure);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogUnreachable(logger, experimentId, t.Name, ex.GetBaseException().Message);
            }
        }));
        Enter(ExperimentState.Measuring, asked);
    }

    /// <summary>
    /// Asks every tenant not yet lost; one that does not answer keeps its last status (or, when
    /// it was being stopped, fails with the reason), one whose grain came back empty after it ran
    /// was lost with its node: it is failed, and the failure recorded.
    /// </summary>
    private async Task<TenantStatus[]> AskAsync(ExperimentPlan plan, Func<ITenantGrain, TenantStatus?, Task<TenantStatus>> ask, bool stopping = false)
    {
        var before = tenants.Length == plan.Tenants.Count ? tenants : null;
        return await Task.WhenAll(plan.Tenants.Select(async (spec, i) =>
        {
            var previous = before?[i];
            if (previous is not null && IsLost(spec.Name))
            {
                return previous;
            }

            try
            {
                var status = await ask(Tenant(spec), previous);
                return status.State == TenantState.Idle && previous is { State: not (TenantState.Idle or TenantState.Failed) } ran
                    ? await LoseAsync(spec, ran)
                    : status;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogUnreachable(logger, experimentId, spec.Name, ex.GetBaseException().Message);
                if (!stopping)
                {
                    return previous ?? new TenantStatus(spec.Name, TenantState.Starting, "", spec.Device, "", 0, 0, null);
                }

                // Its end was not seen: a failure, recorded as such, so the verdict says so.
                var reason = $"could not be reached to stop it ({ex.GetBaseException().Message})";
                var failed = (previous ?? new TenantStatus(spec.Name, TenantState.Failed, "", spec.Device, "", 0, 0, reason)) with { State = TenantState.Failed, LastError = reason };
                await RecordFailureAsync(spec, new TenantFailure(spec.Name, failed.Node, reason, -1, time.GetUtcNow(), false));
                return failed;
            }
        }));
    }

    private bool IsLost(string tenant) => lost.Exists(l => l.Tenant == tenant);

    private async Task<TenantStatus> LoseAsync(TenantSpec spec, TenantStatus ran)
    {
        lost.Add((spec.Name, ran.Node));
        var reason = $"its node {ran.Node} left the cluster";
        LogLost(logger, experimentId, spec.Name, ran.Node);
        await RecordFailureAsync(spec, new TenantFailure(spec.Name, ran.Node, reason, -1, time.GetUtcNow(), false));
        return ran with { State = TenantState.Failed, Pid = 0, LastError = reason };
    }

    private async Task RecordFailureAsync(TenantSpec spec, TenantFailure failure)
    {
        try
        {
            await GrainFactory.GetGrain<ICollectorGrain>(spec.Experiment).RecordFailureAsync(failure);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The collector went with the node too: the experiment's message still says it.
            LogUnreachable(logger, experimentId, "collector", ex.GetBaseException().Message);
        }
    }

    private async Task<TenantStatus> StartTenantAsync(TenantSpec spec)
    {
        try
        {
            return await Tenant(spec).StartAsync(spec);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Placement found no node with the device, the node could not be reached, the worker
            // took longer to start than a grain call may last, or the node failed otherwise: one
            // tenant's failure is recorded and the others run.
            await GrainFactory.GetGrain<ICollectorGrain>(spec.Experiment).RecordFailureAsync(new TenantFailure(spec.Name, "", ex.Message, -1, time.GetUtcNow(), false));
            return new TenantStatus(spec.Name, TenantState.Failed, "", spec.Device, "", 0, 0, ex.Message);
        }
    }

    private async Task StopTenantsAsync(ExperimentState final)
    {
        Enter(ExperimentState.Stopping);
        timer?.Dispose();
        tenants = await AskAsync(plan!, (tenant, _) => tenant.StopAsync(), stopping: true);
        ended = time.GetUtcNow();
        if (lost.Count > 0)
        {
            // Tenants are missing: never Completed, whatever else went right.
            var nodes = string.Join(", ", lost.Select(l => l.Node).Distinct());
            var what = $"node {nodes} left the cluster while the experiment ran: tenant{(lost.Count == 1 ? "" : "s")} {string.Join(", ", lost.Select(l => l.Tenant))} lost (measured until their last report); the others were stopped";
            message = message is { Length: > 0 } earlier && final == ExperimentState.Interrupted ? $"{earlier}; {what}" : what;
            final = final == ExperimentState.Interrupted ? final : ExperimentState.Failed;
            LogFailed(logger, experimentId, message);
        }

        Enter(final);
        LogFinished(logger, experimentId, final);
        await ReleaseAsync();
    }

    /// <summary>Ended: the experiment and its collector are kept a while for the client, not the day a run may take.</summary>
    private async Task ReleaseAsync()
    {
        this.DelayDeactivation(IExperimentGrain.KeptAfterEnd);
        try
        {
            await GrainFactory.GetGrain<ICollectorGrain>(experimentId).ReleaseAsync(IExperimentGrain.KeptAfterEnd);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogUnreachable(logger, experimentId, "collector", ex.GetBaseException().Message);
        }
    }

    private ITenantGrain Tenant(TenantSpec spec) => GrainFactory.GetGrain<ITenantGrain>($"{spec.Experiment}/{spec.Name}");

    private void Enter(ExperimentState next, DateTimeOffset? since = null)
    {
        state = next;
        stateSince = since ?? time.GetUtcNow();
        Register();
    }

    // Tells the cluster's registry (contention status) this experiment exists, at each change of
    // state: a registry whose silo left learns it again. Not awaited; a failure costs only the listing.
    private void Register()
    {
        if (plan is null)
        {
            return;
        }

        GrainFactory.GetGrain<IClusterStatusGrain>(IClusterStatusGrain.Key).RegisterAsync(experimentId, plan.Name)
            .ContinueWith(t => LogNotRegistered(logger, experimentId, t.Exception!.GetBaseException().Message), CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Current);
    }

    private ExperimentProgress Progress()
    {
        var length = state switch
        {
            ExperimentState.Warmup => plan?.WarmupSeconds ?? 0,
            ExperimentState.Measuring => plan?.DurationSeconds ?? 0,
            _ => 0,
        };
        return new ExperimentProgress(this.GetPrimaryKeyString(), state, (time.GetUtcNow() - stateSince).TotalSeconds, length, tenants, started, ended, message);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "experiment {Experiment}: starting {Tenants} tenants, warm-up {Warmup} s, measurement {Duration} s")]
    private static partial void LogStarting(ILogger logger, string experiment, int tenants, double warmup, double duration);

    [LoggerMessage(Level = LogLevel.Information, Message = "experiment {Experiment}: every tenant has finished its work")]
    private static partial void LogAllFinished(ILogger logger, string experiment);

    [LoggerMessage(Level = LogLevel.Error, Message = "experiment {Experiment} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string experiment, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "experiment {Experiment}: tenant {Tenant} did not answer: {Reason}")]
    private static partial void LogUnreachable(ILogger logger, string experiment, string tenant, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "experiment {Experiment}: tenant {Tenant} was lost with its node {Node}")]
    private static partial void LogLost(ILogger logger, string experiment, string tenant, string node);

    [LoggerMessage(Level = LogLevel.Information, Message = "experiment {Experiment} ended: {State}")]
    private static partial void LogFinished(ILogger logger, string experiment, ExperimentState state);

    [LoggerMessage(Level = LogLevel.Warning, Message = "experiment {Experiment}: the cluster's registry did not take it ({Why}); contention status may not list it until its next change of state")]
    private static partial void LogNotRegistered(ILogger logger, string experiment, string why);
}
