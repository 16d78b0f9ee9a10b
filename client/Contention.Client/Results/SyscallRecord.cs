namespace Contention.Client.Results;

/// <summary>One system call of one tenant in one phase (syscalls.csv).</summary>
public sealed record SyscallRecord(string Tenant, string Phase, string Category, string Syscall, long Count, long Errors, double Seconds, long TimedCalls);
