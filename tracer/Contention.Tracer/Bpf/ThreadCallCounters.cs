namespace Contention.Tracer.Bpf;

/// <summary>
/// One system call of one traced thread, cumulative (the helper's <c>--thread-calls</c>): counted
/// as each call returns (exit and exit_group as they enter), so a call in flight at a snapshot is
/// not in it yet; both rows (phase boundary held or not) together.
/// </summary>
/// <param name="Root">The tgid the node registered.</param>
/// <param name="Tgid">The thread's process (the root or a child of it).</param>
/// <param name="Tid">The thread.</param>
/// <param name="Number">The x86-64 system call number.</param>
/// <param name="Count">Calls.</param>
/// <param name="TotalNs">Entry-to-exit time summed over timed calls, each times its weight (an estimate when <paramref name="Timed"/> is below <paramref name="Count"/>).</param>
/// <param name="Timed">Calls whose time was measured.</param>
public sealed record ThreadCallCounters(int Root, int Tgid, int Tid, int Number, long Count, long TotalNs, long Timed)
{
    /// <summary>The system call's name.</summary>
    public string Name => SyscallNames.Of(Number);
}
