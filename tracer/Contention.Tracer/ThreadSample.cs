namespace Contention.Tracer;

/// <summary>One thread of a traced process as last seen.</summary>
/// <param name="Tid">The thread's id.</param>
/// <param name="Name">The thread's name (<c>comm</c>), up to 15 characters.</param>
/// <param name="Counters">Its cumulative counters.</param>
/// <param name="Exited">True when the thread was gone at the latest sample; its counters are its last seen values.</param>
public sealed record ThreadSample(int Tid, string Name, TaskCounters Counters, bool Exited);
