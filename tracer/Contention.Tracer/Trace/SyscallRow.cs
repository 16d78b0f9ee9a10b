namespace Contention.Tracer.Trace;

/// <summary>One system call of one traced process tree over an interval.</summary>
/// <param name="Name">The system call.</param>
/// <param name="Category">Its category (docs/syscall-categories.md); ioctl is split into gpu-driver and other-ioctl rows.</param>
/// <param name="Count">Calls.</param>
/// <param name="Errors">Calls that returned an error.</param>
/// <param name="Seconds">Entry-to-exit time, summed (0 without timing); estimated from a sample when <paramref name="TimedCalls"/> is below <paramref name="Count"/>.</param>
/// <param name="TimedCalls">Calls whose time was measured.</param>
public sealed record SyscallRow(string Name, string Category, long Count, long Errors, double Seconds, long TimedCalls);
