using Contention.Grains;

namespace Contention.Client.Results;

/// <summary>
/// One system call of one thread of a tenant's worker in one phase (thread_syscalls.csv; the node's
/// eBPF tracer with <c>--thread-calls</c>): counted as calls return, from the node's snapshot at the
/// phase's start to its last sample of the tenant; a restarted worker's from its start.
/// </summary>
public sealed record ThreadSyscallRecord(string Tenant, MeasurementPhase Phase, int Tid, string Thread, string Category, string Syscall, long Count, double Seconds, long TimedCalls);
