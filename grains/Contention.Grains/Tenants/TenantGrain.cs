using Contention.Grains.Node;
using Contention.Grains.Placement;

namespace Contention.Grains.Tenants;

/// <summary>
/// One tenant (key <c>experiment/tenant</c>). It owns its worker's lifecycle through a
/// <see cref="TenantRunner"/>; the work runs in the worker, and the grain only awaits it.
/// </summary>
[DevicePlacement]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "Grains are not disposed by an owner: the runner is disposed in StopAsync and OnDeactivateAsync.")]
internal sealed class TenantGrain(NodeContext node) : Grain, ITenantGrain
{
    private TenantRunner? runner;
    private TenantStatus? lastStatus;

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
            (device, lease) = node.Devices.Reserve(spec.Device);
        }
        catch (InvalidOperationException ex)
        {
            return await FailAsync(spec, spec.Device, ex.Message, cancellationToken);
        }

        this.DelayDeactivation(TimeSpan.FromDays(1));
        var starting = new TenantRunner(spec, device, lease, node);
        try
        {
            var status = await starting.StartAsync();
            runner = starting;
            return status;
        }
        catch (InvalidOperationException ex)
        {
            // The device could not take the tenant (every modelled-GPU slot taken, say).
            await starting.DisposeAsync();
            return await FailAsync(spec, device.ToString(), ex.Message, cancellationToken);
        }
    }

    /// <inheritdoc />
    public Task SetPhaseAsync(string phase, CancellationToken cancellationToken = default) =>
        runner?.SetPhaseAsync(phase) ?? Task.CompletedTask;

    /// <inheritdoc />
    public async Task<TenantStatus> StopAsync(CancellationToken cancellationToken = default)
    {
        if (runner is null)
        {
            return lastStatus ?? new TenantStatus(this.GetPrimaryKeyString(), TenantState.Idle, node.Options.Name, "", "", 0, 0, null);
        }

        lastStatus = await runner.StopAsync();
        await runner.DisposeAsync();
        runner = null;
        this.DelayDeactivation(TimeSpan.FromMinutes(10));
        return lastStatus;
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
        if (runner is not null)
        {
            await runner.DisposeAsync();
            runner = null;
        }

        await base.OnDeactivateAsync(reason, cancellationToken);
    }
}
