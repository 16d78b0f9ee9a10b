namespace Contention.Tracer.Trace;

/// <summary>
/// One system call of one traced thread over an interval (the helper's per-thread counts, when
/// asked for). An ioctl is not split by device here: its category is <see cref="SyscallCategories.OtherIoctl"/>
/// unless every ioctl the root made in the interval went to the GPU driver (then <see cref="SyscallCategories.GpuDriver"/>).
/// </summary>
/// <param name="Tgid">Its process.</param>
/// <param name="Tid">The thread.</param>
/// <param name="Name">The thread's name (comm), where the helper's scheduling counters have it.</param>
/// <param name="Syscall">The system call.</param>
/// <param name="Category">Its category.</param>
/// <param name="Count">Calls that returned in the interval (exit and exit_group: that entered).</param>
/// <param name="Seconds">Their time from entry to exit (an estimate when <paramref name="TimedCalls"/> is below <paramref name="Count"/>).</param>
/// <param name="TimedCalls">Calls whose time was measured.</param>
public sealed record ThreadCallRow(int Tgid, int Tid, string Name, string Syscall, string Category, long Count, double Seconds, long TimedCalls);
