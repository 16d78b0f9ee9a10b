using Contention.Grains;

namespace Contention.Client.Results;

/// <summary>One system call of one tenant in one phase (syscalls.csv).</summary>
public sealed record SyscallRecord(string Tenant, MeasurementPhase Phase, string Category, string Syscall, long Count, long Errors, double Seconds, long TimedCalls);
