using System.Globalization;

namespace Contention.Tracer.Nvidia;

/// <summary>
/// Which character-device majors belong to the NVIDIA driver on this host. The frontend's (195)
/// is fixed; nvidia-uvm's and nvidia-caps' are assigned at module load, so they are read from
/// /proc/devices.
/// </summary>
/// <param name="Uvm">Major of /dev/nvidia-uvm (minor 0) and /dev/nvidia-uvm-tools (minor 1), if loaded.</param>
/// <param name="Others">Other NVIDIA majors by name (nvidia-caps, nvidia-nvswitch, ...).</param>
public sealed record NvidiaDevices(int? Uvm, IReadOnlyDictionary<int, string> Others)
{
    /// <summary>NV_MAJOR_DEVICE_NUMBER: /dev/nvidiactl (minor 255), /dev/nvidia-modeset (254), /dev/nvidiaN (N).</summary>
    public const int FrontendMajor = 195;

    /// <summary>Parses the text of /proc/devices.</summary>
    public static NvidiaDevices Parse(string procDevices)
    {
        ArgumentNullException.ThrowIfNull(procDevices);
        int? uvm = null;
        var others = new Dictionary<int, string>();
        foreach (var line in procDevices.Split('\n'))
        {
            if (line.StartsWith("Block", StringComparison.Ordinal))
            {
                break;
            }

            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length != 2 || !int.TryParse(f[0], NumberStyles.None, CultureInfo.InvariantCulture, out var major) || !f[1].StartsWith("nvidia", StringComparison.Ordinal))
            {
                continue;
            }

            if (f[1] == "nvidia-uvm")
            {
                uvm = major;
            }
            else if (major != FrontendMajor)
            {
                others.TryAdd(major, f[1]);
            }
        }

        return new NvidiaDevices(uvm, others);
    }

    /// <summary>This host's devices (none when /proc/devices cannot be read).</summary>
    public static NvidiaDevices ReadHost()
    {
        try
        {
            return Parse(File.ReadAllText("/proc/devices"));
        }
        catch (IOException)
        {
            return new NvidiaDevices(null, new Dictionary<int, string>());
        }
    }

    /// <summary>The device's name when it is an NVIDIA device, else null.</summary>
    public string? Name(int major, int minor) => major switch
    {
        FrontendMajor => minor switch { 255 => "nvidiactl", 254 => "nvidia-modeset", _ => $"nvidia{minor}" },
        _ when major == Uvm => minor == 1 ? "nvidia-uvm-tools" : "nvidia-uvm",
        _ => Others.TryGetValue(major, out var name) ? name : null,
    };
}
