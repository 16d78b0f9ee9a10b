namespace Contention.Grains.Collector;

/// <summary>Aggregates one experiment's reports and exports them on this silo's /metrics.</summary>
internal sealed class CollectorGrain(ContentionMetrics metrics) : Grain, ICollectorGrain
{
    private readonly CollectorState state = new();

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
        Task.FromResult(state.Snapshot(this.GetPrimaryKeyString()));

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Results live only in memory: keep the collector for as long as a long experiment runs.
        this.DelayDeactivation(TimeSpan.FromDays(1));
        return base.OnActivateAsync(cancellationToken);
    }
}
