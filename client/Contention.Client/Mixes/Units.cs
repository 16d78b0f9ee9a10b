using System.Globalization;
using System.Text.RegularExpressions;

namespace Contention.Client.Mixes;

/// <summary>Durations (<c>500ms</c>, <c>3s</c>, <c>2m</c>, a bare number of seconds) and sizes (<c>4KiB</c>, <c>1GiB</c>, <c>1MB</c>, bytes).</summary>
public static partial class Units
{
    /// <summary>Parses a duration into seconds.</summary>
    public static bool TryParseSeconds(string text, out double seconds)
    {
        seconds = 0;
        var match = DurationPattern().Match(text.Trim());
        if (!match.Success || !double.TryParse(match.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < 0)
        {
            return false;
        }

        seconds = match.Groups[2].Value.ToLowerInvariant() switch
        {
            "us" => value / 1e6,
            "ms" => value / 1e3,
            "m" or "min" => value * 60,
            "h" => value * 3600,
            _ => value,
        };
        return true;
    }

    /// <summary>Parses a size into bytes.</summary>
    public static bool TryParseBytes(string text, out long bytes)
    {
        bytes = 0;
        var match = SizePattern().Match(text.Trim());
        if (!match.Success || !double.TryParse(match.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < 0)
        {
            return false;
        }

        var scale = match.Groups[2].Value.ToLowerInvariant() switch
        {
            "k" or "kb" => 1e3,
            "kib" => 1024.0,
            "m" or "mb" => 1e6,
            "mib" => 1024.0 * 1024,
            "g" or "gb" => 1e9,
            "gib" => 1024.0 * 1024 * 1024,
            _ => 1.0,
        };
        bytes = (long)Math.Round(value * scale);
        return true;
    }

    /// <summary>A size in the largest binary unit that divides it (4KiB, 1GiB), else in bytes.</summary>
    public static string FormatBytes(long bytes)
    {
        foreach (var (unit, scale) in new[] { ("GiB", 1L << 30), ("MiB", 1L << 20), ("KiB", 1L << 10) })
        {
            if (bytes >= scale && bytes % scale == 0)
            {
                return string.Create(CultureInfo.InvariantCulture, $"{bytes / scale}{unit}");
            }
        }

        return bytes.ToString(CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"^([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*(us|ms|s|m|min|h)?$", RegexOptions.IgnoreCase)]
    private static partial Regex DurationPattern();

    [GeneratedRegex(@"^([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?$", RegexOptions.IgnoreCase)]
    private static partial Regex SizePattern();
}
