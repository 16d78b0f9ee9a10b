namespace Contention.Tracer.Trace;

/// <summary>One ioctl kind of one traced process tree over an interval, decoded.</summary>
/// <param name="Device">nvidiactl, nvidiaN, nvidia-uvm, "dev M:m", or "-" for an fd that is not a device.</param>
/// <param name="Operation">Escape, UVM op or request name, or hex.</param>
/// <param name="Detail">RM control command or RM alloc class, or hex; empty when none.</param>
/// <param name="Raw">The codes as counted: request/escape/size/sub in hex, so a trace can be decoded again.</param>
/// <param name="Count">Calls that returned.</param>
/// <param name="Errors">Calls that returned an error.</param>
/// <param name="Seconds">Entry-to-exit time, summed; estimated from a sample when <paramref name="TimedCalls"/> is below <paramref name="Count"/>.</param>
/// <param name="TimedCalls">Calls whose time was measured.</param>
public sealed record IoctlRow(string Device, string Operation, string Detail, string Raw, long Count, long Errors, double Seconds, long TimedCalls)
{
    /// <summary>Operation and detail in one string.</summary>
    public string Name => Detail.Length == 0 ? Operation : $"{Operation} {Detail}";
}
