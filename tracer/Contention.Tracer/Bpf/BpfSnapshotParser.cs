using System.Globalization;

namespace Contention.Tracer.Bpf;

/// <summary>Parses the helper's snapshot lines (format version 1, see tracer/native/ctrace.c).</summary>
public static class BpfSnapshotParser
{
    /// <summary>Parses one snapshot, from its <c>snapshot</c> line to its <c>end</c> line.</summary>
    /// <exception cref="FormatException">A line is not in the format.</exception>
    public static BpfSnapshot Parse(IEnumerable<string> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        long sequence = 0, ktime = 0, droppedStorage = 0, droppedChildren = 0, unknownNumbers = 0;
        var syscalls = new List<SyscallCounters>();
        foreach (var line in lines)
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            switch (f.Length > 0 ? f[0] : "")
            {
                case "snapshot" when f.Length == 3:
                    sequence = Long(f[1], line);
                    ktime = Long(f[2], line);
                    break;
                case "sys" when f.Length == 7:
                    syscalls.Add(new SyscallCounters((int)Long(f[1], line), (int)Long(f[2], line), Long(f[3], line), Long(f[4], line), Long(f[5], line), Histogram(f[6], line)));
                    break;
                case "dropped" when f.Length == 4:
                    droppedStorage = Long(f[1], line);
                    droppedChildren = Long(f[2], line);
                    unknownNumbers = Long(f[3], line);
                    break;
                case "end":
                    break;
                default:
                    throw new FormatException($"not a ctrace snapshot line: '{line}'");
            }
        }

        return new BpfSnapshot(sequence, ktime, syscalls, droppedStorage, droppedChildren, unknownNumbers);
    }

    private static long[] Histogram(string text, string line)
    {
        var slots = new long[32];
        if (text == "-")
        {
            return slots;
        }

        foreach (var pair in text.Split(','))
        {
            var colon = pair.IndexOf(':', StringComparison.Ordinal);
            var slot = colon > 0 ? Long(pair[..colon], line) : -1;
            if (slot is < 0 or >= 32)
            {
                throw new FormatException($"bad histogram slot '{pair}' in '{line}'");
            }

            slots[slot] = Long(pair[(colon + 1)..], line);
        }

        return slots;
    }

    private static long Long(string text, string line) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : throw new FormatException($"bad number '{text}' in '{line}'");
}
