namespace Contention.Grains;

/// <summary>
/// Aggregates one experiment (keyed by experiment id): sums counters, merges latency histograms
/// exactly, keeps failures, and exports Prometheus metrics on its silo.
/// </summary>
[Alias("contention.ICollectorGrain")]
public interface ICollectorGrain : IGrainWithStringKey
{
    /// <summary>Merges a node's report; a report whose sequence was already merged is ignored.</summary>
    [Alias("Report")]
    Task ReportAsync(NodeReport report, CancellationToken cancellationToken = default);

    /// <summary>Records a tenant failure.</summary>
    [Alias("RecordFailure")]
    Task RecordFailureAsync(TenantFailure failure, CancellationToken cancellationToken = default);

    /// <summary>Everything aggregated so far.</summary>
    [Alias("GetSnapshot")]
    Task<CollectorSnapshot> GetSnapshotAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// The experiment has ended: keep the results for <paramref name="keep"/> more (for a client
    /// that has not read them yet), then go, with everything held; zero goes once idle.
    /// </summary>
    [Alias("Release")]
    Task ReleaseAsync(TimeSpan keep, CancellationToken cancellationToken = default);
}
