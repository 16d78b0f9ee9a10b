namespace Contention.Tracer.Bpf;

/// <summary>The in-band phase-marker calls of one traced process tree, cumulative since it was added.</summary>
/// <param name="Root">The tgid the node registered.</param>
/// <param name="Marks">Marker calls seen (two per phase boundary: hold, then release).</param>
/// <param name="Held">A boundary is held now: the process's calls count in the held row.</param>
public sealed record MarkCounters(int Root, long Marks, bool Held);
