namespace Contention.Grains.Collector;

/// <summary>
/// Aggregates one experiment's reports and exports them on this silo's /metrics. It lives beside
/// its experiment (whose start calls it first) and holds its results in memory only.
/// </summary>
[Orleans.Placement.PreferLocalPlacement]
internal sealed class CollectorGrain(ContentionMetrics metrics) : Grain, ICollectorGrain
{
    private readonly CollectorState state = new();
    private readonly string activation = Guid.NewGuid().ToString("N");

    /// <inheritdoc />
    public Task ReportAsync(NodeReport report, CancellationToken cancellationToken = default)
    {
        var experiment = this.GetPrimaryKeyString();
        if (state.Apply(report, delta => metrics.Observe(experiment, delta)))
        {
            metrics.Report(experiment, report.Node);
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task RecordFailureAsync(TenantFailure failure, CancellationToken cancellationToken = default)
    {
        state.Add(failure);
        metrics.Failure(this.GetPrimaryKeyString(), failure);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<CollectorSnapshot> GetSnapshotAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(state.Snapshot(this.GetPrimaryKeyString()) with { Activation = activation });

    /// <inheritdoc />
    public Task ReleaseAsync(TimeSpan keep, CancellationToken cancellationToken = default)
    {
        // Replaces the day it was kept for; once this has passed, it goes when idle.
        if (keep > TimeSpan.Zero)
        {
            this.DelayDeactivation(keep);
        }
        else
        {
            this.DeactivateOnIdle();
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Results live only in memory: keep the collector for as long as a long experiment runs.
        this.DelayDeactivation(TimeSpan.FromDays(1));
        return base.OnActivateAsync(cancellationToken);
    }
}
