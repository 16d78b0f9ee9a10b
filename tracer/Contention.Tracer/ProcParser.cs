using System.Globalization;

namespace Contention.Tracer;

/// <summary>Parsers for the /proc files the tracer reads (proc(5)).</summary>
internal static class ProcParser
{
    /// <summary>
    /// Fields of <c>/proc/PID[/task/TID]/stat</c>: the name sits in parentheses and may itself
    /// hold spaces or parentheses, so fields are counted from the last ')'.
    /// </summary>
    public static (string Name, long MinorFaults, long MajorFaults, long UserTicks, long SystemTicks) ParseStat(ReadOnlySpan<char> stat)
    {
        var open = stat.IndexOf('(');
        var close = stat.LastIndexOf(')');
        if (open < 0 || close < open)
        {
            throw new FormatException("not a /proc stat line: no (comm)");
        }

        var name = stat[(open + 1)..close].ToString();
        var rest = stat[(close + 1)..].Trim();

        // After the name: field 3 (state) is index 0; minflt (10) -> 7, majflt (12) -> 9,
        // utime (14) -> 11, stime (15) -> 12.
        Span<Range> parts = stackalloc Range[16];
        var count = rest.Split(parts, ' ', StringSplitOptions.RemoveEmptyEntries);
        if (count < 13)
        {
            throw new FormatException("not a /proc stat line: too few fields");
        }

        return (name,
            long.Parse(rest[parts[7]], NumberStyles.None, CultureInfo.InvariantCulture),
            long.Parse(rest[parts[9]], NumberStyles.None, CultureInfo.InvariantCulture),
            long.Parse(rest[parts[11]], NumberStyles.None, CultureInfo.InvariantCulture),
            long.Parse(rest[parts[12]], NumberStyles.None, CultureInfo.InvariantCulture));
    }

    /// <summary>The context-switch lines of <c>/proc/PID[/task/TID]/status</c>.</summary>
    public static (long Voluntary, long Involuntary) ParseSwitches(ReadOnlySpan<char> status)
    {
        long voluntary = 0, involuntary = 0;
        foreach (var line in status.EnumerateLines())
        {
            if (line.StartsWith("voluntary_ctxt_switches:"))
            {
                voluntary = long.Parse(line["voluntary_ctxt_switches:".Length..].Trim(), NumberStyles.None, CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("nonvoluntary_ctxt_switches:"))
            {
                involuntary = long.Parse(line["nonvoluntary_ctxt_switches:".Length..].Trim(), NumberStyles.None, CultureInfo.InvariantCulture);
            }
        }

        return (voluntary, involuntary);
    }
}
