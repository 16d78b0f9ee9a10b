using System.Globalization;

namespace Contention.Workloads.Devices;

/// <summary>A device name as nodes advertise it: <c>cpu</c>, <c>cuda:N</c> or <c>sim:N</c>.</summary>
/// <param name="Kind">The device implementation.</param>
/// <param name="Index">The device ordinal (0 for <c>cpu</c>).</param>
public readonly record struct DeviceId(DeviceKind Kind, int Index)
{
    /// <summary>The name of the device kind as written in mixes and metadata.</summary>
    public string KindName => Kind switch
    {
        DeviceKind.Cpu => "cpu",
        DeviceKind.Cuda => "cuda",
        _ => "sim",
    };

    /// <inheritdoc />
    public override string ToString() => Kind == DeviceKind.Cpu ? "cpu" : $"{KindName}:{Index.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Parses <c>cpu</c>, <c>cuda</c>, <c>cuda:N</c>, <c>sim</c>, <c>sim:N</c>.</summary>
    /// <exception cref="FormatException">The text names no known device.</exception>
    public static DeviceId Parse(string text)
    {
        if (TryParse(text, out var id))
        {
            return id;
        }

        throw new FormatException($"'{text}' is not a device: write cpu, cuda, cuda:N, sim or sim:N");
    }

    /// <summary>Parses a device name without throwing.</summary>
    public static bool TryParse(string? text, out DeviceId id)
    {
        id = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var parts = text.Trim().ToLowerInvariant().Split(':');
        if (parts.Length > 2)
        {
            return false;
        }

        DeviceKind kind;
        switch (parts[0])
        {
            case "cpu": kind = DeviceKind.Cpu; break;
            case "cuda": kind = DeviceKind.Cuda; break;
            case "sim": kind = DeviceKind.Sim; break;
            default: return false;
        }

        var index = 0;
        if (parts.Length == 2 && (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out index) || index < 0))
        {
            return false;
        }

        if (kind == DeviceKind.Cpu && index != 0)
        {
            return false;
        }

        id = new DeviceId(kind, index);
        return true;
    }
}
