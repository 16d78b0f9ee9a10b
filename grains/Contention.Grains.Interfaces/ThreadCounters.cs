namespace Contention.Grains;

/// <summary>One thread of a tenant's worker over the worker's life (start-up and warm-up included), as /proc last saw it.</summary>
/// <param name="Tid">The thread id.</param>
/// <param name="Name">The thread's name (comm).</param>
/// <param name="VoluntarySwitches">Voluntary context switches.</param>
/// <param name="InvoluntarySwitches">Involuntary context switches.</param>
/// <param name="UserSeconds">User-mode CPU seconds.</param>
/// <param name="SystemSeconds">Kernel-mode CPU seconds.</param>
/// <param name="Exited">The thread had exited by the last sample (its values are as last seen).</param>
[GenerateSerializer, Immutable, Alias("contention.ThreadCounters")]
public sealed record ThreadCounters(
    [property: Id(0)] int Tid,
    [property: Id(1)] string Name,
    [property: Id(2)] long VoluntarySwitches,
    [property: Id(3)] long InvoluntarySwitches,
    [property: Id(4)] double UserSeconds,
    [property: Id(5)] double SystemSeconds,
    [property: Id(6)] bool Exited);
