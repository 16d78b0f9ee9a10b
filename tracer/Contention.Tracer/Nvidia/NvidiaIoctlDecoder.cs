using System.Globalization;
using Contention.Tracer.Bpf;

namespace Contention.Tracer.Nvidia;

/// <summary>
/// Names the ioctl kinds the eBPF helper counted (facts in docs/tracer.md): the device from the
/// fd's major and minor, frontend escapes, RM control commands and RM alloc classes, UVM ops.
/// Unknown codes are kept, in hex.
/// </summary>
public static class NvidiaIoctlDecoder
{
    private const uint RmControl = 0x2A;
    private const uint RmAlloc = 0x2B;

    /// <summary>Names one ioctl kind.</summary>
    public static DecodedIoctl Decode(IoctlCounters ioctl, NvidiaDevices devices)
    {
        ArgumentNullException.ThrowIfNull(ioctl);
        ArgumentNullException.ThrowIfNull(devices);
        var device = devices.Name(ioctl.Major, ioctl.Minor);
        if (device is null)
        {
            var where = ioctl.Major == 0 && ioctl.Minor == 0 ? "-" : $"dev {ioctl.Major}:{ioctl.Minor}";
            return new DecodedIoctl(where, false, GenericName(ioctl.Request), "");
        }

        if (ioctl.Major != NvidiaDevices.FrontendMajor)
        {
            // UVM and the other NVIDIA devices take raw request numbers.
            var op = ioctl.Major == devices.Uvm && NvidiaNames.UvmOps.TryGetValue(ioctl.Request, out var uvm) ? uvm : Hex(ioctl.Request);
            return new DecodedIoctl(device, true, op, "");
        }

        var escape = NvidiaNames.Escapes.TryGetValue(ioctl.Escape, out var name) ? name : $"NV_ESC {Hex(ioctl.Escape)}";
        if (ioctl.Transferred)
        {
            escape += " (xfer)";
        }

        var detail = ioctl.Escape switch
        {
            RmControl or RmAlloc when ioctl.Unreadable => "(parameters unreadable)",
            RmControl when ioctl.Sub is { } cmd => NvidiaNames.Controls.TryGetValue(cmd, out var control) ? control : $"NV{cmd >> 16:X4} {Hex(cmd)}",
            RmAlloc when ioctl.Sub is { } cls => NvidiaNames.Classes.TryGetValue(cls, out var allocated) ? allocated : $"class {Hex(cls)}",
            _ => "",
        };
        return new DecodedIoctl(device, true, escape, detail);
    }

    // A few requests every program makes on terminals and pipes; the rest stay hex.
    private static string GenericName(uint request) => request switch
    {
        0x5401 => "TCGETS",
        0x5402 => "TCSETS",
        0x5413 => "TIOCGWINSZ",
        0x541B => "FIONREAD",
        0x5421 => "FIONBIO",
        0x5450 => "FIONCLEX",
        0x5451 => "FIOCLEX",
        _ => Hex(request),
    };

    private static string Hex(uint value) => "0x" + value.ToString("x", CultureInfo.InvariantCulture);
}
