namespace Contention.Grains;

/// <summary>A tenant's state as its grain sees it.</summary>
/// <param name="Tenant">The tenant's name.</param>
/// <param name="State">Its lifecycle state.</param>
/// <param name="Node">The node (silo) it runs on.</param>
/// <param name="Device">The device it was given (<c>sim:0</c>, not <c>sim</c>).</param>
/// <param name="DeviceDescription">The device's description.</param>
/// <param name="Pid">The worker's process id (the silo's for thread isolation); 0 when not running.</param>
/// <param name="Restarts">Restarts after crashes so far.</param>
/// <param name="LastError">The latest failure, if any.</param>
/// <param name="Threads">The current (or last) worker's threads as last sampled; empty before the first sample.</param>
/// <param name="ThreadCalls">Its worker's system calls per thread and phase, where the node counts them (<c>EbpfThreadCalls</c>); empty otherwise.</param>
[GenerateSerializer, Immutable, Alias("contention.TenantStatus")]
public sealed record TenantStatus(
    [property: Id(0)] string Tenant,
    [property: Id(1)] TenantState State,
    [property: Id(2)] string Node,
    [property: Id(3)] string Device,
    [property: Id(4)] string DeviceDescription,
    [property: Id(5)] int Pid,
    [property: Id(6)] int Restarts,
    [property: Id(7)] string? LastError,
    [property: Id(8)] IReadOnlyList<ThreadCounters>? Threads = null,
    [property: Id(9)] IReadOnlyList<ThreadSyscallCount>? ThreadCalls = null);
