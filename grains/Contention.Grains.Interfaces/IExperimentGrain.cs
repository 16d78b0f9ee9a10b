namespace Contention.Grains;

/// <summary>Runs one experiment (keyed by experiment id): starts its tenants, times warm-up and measurement, stops them.</summary>
[Alias("contention.IExperimentGrain")]
public interface IExperimentGrain : IGrainWithStringKey
{
    /// <summary>Starts the experiment; returns at once, progress is polled.</summary>
    [Alias("Start")]
    Task<ExperimentProgress> StartAsync(ExperimentPlan plan, CancellationToken cancellationToken = default);

    /// <summary>Current progress; answered even while the experiment awaits its tenants (who ask it too).</summary>
    [Alias("GetProgress"), Orleans.Concurrency.AlwaysInterleave]
    Task<ExperimentProgress> GetProgressAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// The client has saved the results of the ended experiment: it and its collector go now
    /// (otherwise they go <see cref="KeptAfterEnd"/> after the end). Nothing happens while it runs.
    /// </summary>
    [Alias("Forget")]
    Task ForgetAsync(CancellationToken cancellationToken = default);

    /// <summary>How long an ended experiment and its results stay in the cluster unless forgotten.</summary>
    static TimeSpan KeptAfterEnd => TimeSpan.FromMinutes(10);

    /// <summary>The plan it runs (null before it started): what <c>contention status</c> judges its measurements so far against.</summary>
    [Alias("GetPlan"), Orleans.Concurrency.AlwaysInterleave]
    Task<ExperimentPlan?> GetPlanAsync(CancellationToken cancellationToken = default);

    /// <summary>Stops every tenant now; the experiment ends as interrupted.</summary>
    [Alias("Stop")]
    Task<ExperimentProgress> StopAsync(string reason, CancellationToken cancellationToken = default);
}
