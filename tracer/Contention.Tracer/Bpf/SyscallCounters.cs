namespace Contention.Tracer.Bpf;

/// <summary>One system call of one traced process tree, cumulative since the helper loaded.</summary>
/// <param name="Root">The tgid the node registered (threads and children count under it).</param>
/// <param name="Number">The x86-64 system call number.</param>
/// <param name="Count">Calls entered.</param>
/// <param name="Errors">Calls that returned an error.</param>
/// <param name="TotalNs">Entry-to-exit time, summed.</param>
/// <param name="Histogram">Calls by log2 of their entry-to-exit time in ns (slot i: [2^i, 2^(i+1)) ns).</param>
public sealed record SyscallCounters(int Root, int Number, long Count, long Errors, long TotalNs, long[] Histogram)
{
    /// <summary>The system call's name.</summary>
    public string Name => SyscallNames.Of(Number);
}
