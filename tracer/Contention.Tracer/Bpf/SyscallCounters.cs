namespace Contention.Tracer.Bpf;

/// <summary>One system call of one traced process tree, cumulative since the helper loaded.</summary>
/// <param name="Root">The tgid the node registered (threads and children count under it).</param>
/// <param name="Held">The calls entered while the process held a phase boundary (between its two marker calls); the process's other calls are in a row of their own.</param>
/// <param name="Number">The x86-64 system call number.</param>
/// <param name="Count">Calls entered.</param>
/// <param name="Errors">Calls that returned an error.</param>
/// <param name="TotalNs">Entry-to-exit time, summed; an unbiased estimate when <paramref name="Timed"/> is below <paramref name="Count"/> (each timed call weighted by the inverse of its chance of being timed), 0 without timing.</param>
/// <param name="Timed">Calls whose time was measured: all of them unless a thread made more calls a second than the helper's sampling rate.</param>
/// <param name="Histogram">Calls by log2 of their entry-to-exit time in ns (slot i: [2^i, 2^(i+1)) ns), weighted as <paramref name="TotalNs"/>.</param>
public sealed record SyscallCounters(int Root, bool Held, int Number, long Count, long Errors, long TotalNs, long Timed, long[] Histogram)
{
    /// <summary>The system call's name.</summary>
    public string Name => SyscallNames.Of(Number);
}
