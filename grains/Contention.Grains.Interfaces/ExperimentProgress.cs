namespace Contention.Grains;

/// <summary>An experiment's progress.</summary>
/// <param name="Experiment">Its id.</param>
/// <param name="State">Where it is.</param>
/// <param name="ElapsedSeconds">Seconds in the current state.</param>
/// <param name="StateSeconds">Planned length of the current state (0 when open-ended).</param>
/// <param name="Tenants">Each tenant's status.</param>
/// <param name="StartedUtc">When it started.</param>
/// <param name="EndedUtc">When it ended, if it has.</param>
/// <param name="Message">Why it ended early or failed.</param>
[GenerateSerializer, Immutable, Alias("contention.ExperimentProgress")]
public sealed record ExperimentProgress(
    [property: Id(0)] string Experiment,
    [property: Id(1)] ExperimentState State,
    [property: Id(2)] double ElapsedSeconds,
    [property: Id(3)] double StateSeconds,
    [property: Id(4)] IReadOnlyList<TenantStatus> Tenants,
    [property: Id(5)] DateTimeOffset? StartedUtc,
    [property: Id(6)] DateTimeOffset? EndedUtc,
    [property: Id(7)] string? Message)
{
    /// <summary>True once the experiment will do nothing more.</summary>
    public bool IsFinished => State is ExperimentState.Completed or ExperimentState.Interrupted or ExperimentState.Failed;
}
