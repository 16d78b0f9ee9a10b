namespace Contention.Grains;

/// <summary>One system call of a tenant over an interval, as the eBPF tracer counted it.</summary>
/// <param name="Name">The system call.</param>
/// <param name="Category">Its category; ioctl appears once as gpu-driver and once as other-ioctl.</param>
/// <param name="Count">Calls.</param>
/// <param name="Errors">Calls that returned an error.</param>
/// <param name="Seconds">Entry-to-exit time, summed (0 when the tracer runs without timing); estimated from a sample when <paramref name="TimedCalls"/> is below <paramref name="Count"/>.</param>
/// <param name="TimedCalls">Calls whose time was measured.</param>
[GenerateSerializer, Immutable, Alias("contention.SyscallCount")]
public sealed record SyscallCount(
    [property: Id(0)] string Name,
    [property: Id(1)] string Category,
    [property: Id(2)] long Count,
    [property: Id(3)] long Errors,
    [property: Id(4)] double Seconds,
    [property: Id(5)] long TimedCalls);
