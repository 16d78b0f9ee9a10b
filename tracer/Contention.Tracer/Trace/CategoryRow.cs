namespace Contention.Tracer.Trace;

/// <summary>System calls of one category over an interval.</summary>
/// <param name="Category">The category.</param>
/// <param name="Count">Calls.</param>
/// <param name="Seconds">Entry-to-exit time, summed.</param>
public sealed record CategoryRow(string Category, long Count, double Seconds);
