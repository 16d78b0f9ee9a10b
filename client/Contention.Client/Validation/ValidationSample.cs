namespace Contention.Client.Validation;

/// <summary>
/// One case of the validation suite in one run: a mix tenant (its replicas together) at one
/// point of the mix's sweep, with its metrics summarised over replicas (rates: the mean; latency
/// percentiles: the median, or with pooled latencies those of all its replicas' operations
/// together; how evenly they shared: <see cref="ValidationMetric.SlowestReplica"/>).
/// </summary>
/// <param name="Suite">The mix's name.</param>
/// <param name="Point">The sweep point, as <c>axis=value</c> pairs (empty for a mix without a sweep).</param>
/// <param name="Tenant">The mix tenant: a tenant's name, replicas' common name (<c>svc</c> for <c>svc-0</c> … <c>svc-29</c>).</param>
/// <param name="Sharing">The GPU's sharing mode (timeslice, mps).</param>
/// <param name="Run">The run it comes from.</param>
/// <param name="Replicas">How many tenants the values are over.</param>
/// <param name="Values">Metric name to value; a metric left out was not measured.</param>
/// <param name="Overloaded">An open-loop tenant that completed under 90 % of the requests offered: its latencies measure its queue's growth, not a tail.</param>
/// <param name="Latency">With pooled latencies (<c>validate --pooled</c>): every replica's operations of the window in one histogram, whose percentiles are then the sample's; null otherwise.</param>
/// <param name="Operations">The operations a replica completed in the window (the fewest of the replicas'); null where not known.</param>
/// <param name="Seconds">The measurement window, s (the mean of the replicas'); null where not known.</param>
/// <param name="GpuTimedBatches">The batches a replica's GPU time in the window was estimated from (the fewest of the replicas' that have it: a real GPU times a sample, tenants.csv <c>gpu_timed_batches</c>); null where it is exact or not known.</param>
public sealed record ValidationSample(string Suite, string Point, string Tenant, string Sharing, string Run, int Replicas, IReadOnlyDictionary<string, double> Values, bool Overloaded, LatencyBuckets? Latency = null, long? Operations = null, long? GpuTimedBatches = null, double? Seconds = null)
{
    /// <summary>What identifies the case on both sides.</summary>
    public string Case => string.Join(" / ", new[] { Suite, Point, Tenant }.Where(s => s.Length > 0));
}
