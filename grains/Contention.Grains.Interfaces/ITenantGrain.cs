namespace Contention.Grains;

/// <summary>
/// One tenant, keyed <c>experiment/tenant</c>, placed on a node that advertises its device (set
/// the requirement with <see cref="DeviceRequirement"/> before the first call). It owns the
/// worker's lifecycle; the work itself runs in a worker process or on a dedicated thread.
/// </summary>
[Alias("contention.ITenantGrain")]
public interface ITenantGrain : IGrainWithStringKey
{
    /// <summary>Starts the worker and returns once it runs (or has failed to start).</summary>
    [Alias("Start")]
    Task<TenantStatus> StartAsync(TenantSpec spec, CancellationToken cancellationToken = default);

    /// <summary>Closes the current phase's interval (reported under the old phase) and begins <paramref name="phase"/>.</summary>
    [Alias("SetPhase")]
    Task SetPhaseAsync(MeasurementPhase phase, CancellationToken cancellationToken = default);

    /// <summary>Stops the worker after its current operation and reports its last interval.</summary>
    [Alias("Stop")]
    Task<TenantStatus> StopAsync(CancellationToken cancellationToken = default);

    /// <summary>The tenant's current status; answered even while the tenant awaits its experiment.</summary>
    [Alias("GetStatus"), Orleans.Concurrency.AlwaysInterleave]
    Task<TenantStatus> GetStatusAsync(CancellationToken cancellationToken = default);
}
