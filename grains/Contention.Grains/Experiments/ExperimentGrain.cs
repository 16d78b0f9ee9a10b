using Microsoft.Extensions.Logging;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace Contention.Grains.Experiments;

/// <summary>
/// Runs one experiment: starts its tenants (each placed on a node with its device), lets them
/// warm up, opens the measurement window, and stops them. A grain timer drives the phases;
/// every step awaits the tenant grains, nothing blocks a turn.
/// </summary>
internal sealed partial class ExperimentGrain(TimeProvider time, IClusterMembershipService membership, ISiloMetadataCache metadata, ILogger<ExperimentGrain> logger) : Grain, IExperimentGrain
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(200);
    private ExperimentPlan? plan;
    private ExperimentState state = ExperimentState.Pending;
    private DateTimeOffset stateSince;
    private DateTimeOffset? started;
    private DateTimeOffset? ended;
    private string? message;
    private IReadOnlyList<TenantStatus> tenants = [];
    private IGrainTimer? timer;
    private string experimentId = "";

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        experimentId = this.GetPrimaryKeyString();
        return base.OnActivateAsync(cancellationToken);
    }

    /// <inheritdoc />
    public Task<ExperimentProgress> StartAsync(ExperimentPlan plan, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (this.plan is not null)
        {
            return Task.FromResult(Progress());
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
            return Task.FromResult(Progress());
        }

        Enter(ExperimentState.Starting);
        this.DelayDeactivation(TimeSpan.FromDays(1));
        LogStarting(logger, experimentId, plan.Tenants.Count, plan.WarmupSeconds, plan.DurationSeconds);
        timer = this.RegisterGrainTimer(OnTickAsync, TimeSpan.Zero, Tick);
        return Task.FromResult(Progress());
    }

    /// <inheritdoc />
    public Task<ExperimentProgress> GetProgressAsync(CancellationToken cancellationToken = default) => Task.FromResult(Progress());

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
                await Task.WhenAll(plan.Tenants.Select(t => Tenant(t).SetPhaseAsync("measure", cancellation)));
                Enter(ExperimentState.Measuring);
                break;
            case ExperimentState.Measuring when elapsed >= plan.DurationSeconds:
                await StopTenantsAsync(ExperimentState.Completed);
                return;
        }

        tenants = await Task.WhenAll(plan.Tenants.Select(t => Tenant(t).GetStatusAsync(cancellation)));

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
            return;
        }

        Enter(plan.WarmupSeconds > 0 ? ExperimentState.Warmup : ExperimentState.Measuring);
        if (plan.WarmupSeconds <= 0)
        {
            await Task.WhenAll(plan.Tenants.Select(t => Tenant(t).SetPhaseAsync("measure")));
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
        tenants = await Task.WhenAll(plan!.Tenants.Select(t => Tenant(t).StopAsync()));
        ended = time.GetUtcNow();
        Enter(final);
        LogFinished(logger, experimentId, final);
    }

    private ITenantGrain Tenant(TenantSpec spec) => GrainFactory.GetGrain<ITenantGrain>($"{spec.Experiment}/{spec.Name}");

    private void Enter(ExperimentState next)
    {
        state = next;
        stateSince = time.GetUtcNow();
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

    [LoggerMessage(Level = LogLevel.Information, Message = "experiment {Experiment} ended: {State}")]
    private static partial void LogFinished(ILogger logger, string experiment, ExperimentState state);
}
