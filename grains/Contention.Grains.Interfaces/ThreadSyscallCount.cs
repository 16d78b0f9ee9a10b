namespace Contention.Grains;

/// <summary>
/// One system call of one thread of a tenant's worker in one measurement phase (the node's eBPF
/// tracer with <c>EbpfThreadCalls</c>): calls counted as they return, from the node's snapshot at the
/// phase's start to its last sample of the tenant (the snapshots the tenant's own counts come from),
/// so a call in flight at a boundary counts in the phase it returns in.
/// </summary>
/// <param name="Phase">The phase.</param>
/// <param name="Tid">The thread id.</param>
/// <param name="Thread">The thread's name (comm) at its last switch; empty where not known.</param>
/// <param name="Syscall">The system call.</param>
/// <param name="Category">Its category (an ioctl is the GPU driver's where every ioctl of the worker in the phase was).</param>
/// <param name="Count">Calls.</param>
/// <param name="Seconds">Their time from entry to exit (an estimate where fewer were timed).</param>
/// <param name="TimedCalls">Calls whose time was measured.</param>
[GenerateSerializer, Immutable, Alias("contention.ThreadSyscallCount")]
public sealed record ThreadSyscallCount(
    [property: Id(0)] MeasurementPhase Phase,
    [property: Id(1)] int Tid,
    [property: Id(2)] string Thread,
    [property: Id(3)] string Syscall,
    [property: Id(4)] string Category,
    [property: Id(5)] long Count,
    [property: Id(6)] double Seconds,
    [property: Id(7)] long TimedCalls);
