namespace Contention.Client.Results;

/// <summary>One system call of one phase of one tenant's worker (phase_syscalls.csv), with the phase's grid point so each row stands alone.</summary>
public sealed record PhaseSyscallRecord(string Tenant, string Device, int Pid, int Index, string Phase, string Op, long Bytes, int Iterations, int IterationsRun, string Category, string Syscall, long Count, long Errors, double Seconds, long TimedCalls);
