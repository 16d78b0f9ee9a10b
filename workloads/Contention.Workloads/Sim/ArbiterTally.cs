namespace Contention.Workloads.Sim;

/// <summary>What a modelled arbiter did to one tenant's launches (<see cref="ArbiterScheduler.Tally"/>).</summary>
/// <param name="Held">Launches let go later than the tenant's thread asked for them.</param>
/// <param name="HeldNs">The time they waited, ns.</param>
/// <param name="PredictedNs">The predicted GPU time of all the launches it let go, ns.</param>
/// <param name="Sleeps">Sleeps of the tenant's held launches (each a futex wait, a voluntary context switch).</param>
/// <param name="Wakes">Wake-ups of other tenants' sleeping launches the tenant made (each a futex wake): closing a request, taking work back.</param>
public readonly record struct ArbiterTally(long Held, long HeldNs, long PredictedNs, long Sleeps, long Wakes)
{
    /// <summary>This less <paramref name="earlier"/>: what happened since.</summary>
    public ArbiterTally Since(ArbiterTally earlier) => new(Held - earlier.Held, HeldNs - earlier.HeldNs, PredictedNs - earlier.PredictedNs, Sleeps - earlier.Sleeps, Wakes - earlier.Wakes);
}
