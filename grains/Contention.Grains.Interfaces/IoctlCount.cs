namespace Contention.Grains;

/// <summary>One decoded ioctl kind of a tenant over an interval.</summary>
/// <param name="Device">nvidiactl, nvidiaN, nvidia-uvm, "dev M:m", or "-" (not a device).</param>
/// <param name="Name">Escape / op and RM control or class, e.g. "NV_ESC_RM_CONTROL NV2080_CTRL_CMD_GPU_GET_INFO_V2"; unknown codes in hex.</param>
/// <param name="Count">Calls.</param>
/// <param name="Errors">Calls that returned an error.</param>
/// <param name="Seconds">Entry-to-exit time, summed; estimated from a sample when <paramref name="TimedCalls"/> is below <paramref name="Count"/>.</param>
/// <param name="TimedCalls">Calls whose time was measured.</param>
[GenerateSerializer, Immutable, Alias("contention.IoctlCount")]
public sealed record IoctlCount(
    [property: Id(0)] string Device,
    [property: Id(1)] string Name,
    [property: Id(2)] long Count,
    [property: Id(3)] long Errors,
    [property: Id(4)] double Seconds,
    [property: Id(5)] long TimedCalls);
