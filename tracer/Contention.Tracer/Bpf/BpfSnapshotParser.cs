using System.Globalization;

namespace Contention.Tracer.Bpf;

/// <summary>Parses the helper's snapshot lines (format version 5, documented in tracer/native/ctrace.c).</summary>
public static class BpfSnapshotParser
{
    /// <summary>Parses one snapshot, from its <c>snapshot</c> line to its <c>end</c> line.</summary>
    /// <exception cref="FormatException">A line is not in the format.</exception>
    public static BpfSnapshot Parse(IEnumerable<string> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        long sequence = 0, ktime = 0;
        var dropped = new BpfDrops(0, 0, 0, 0, 0);
        var threadCalls = new List<ThreadCallCounters>();
        var syscalls = new List<SyscallCounters>();
        var ioctls = new List<IoctlCounters>();
        var threads = new List<ThreadSchedCounters>();
        var runQueues = new List<RunQueueCounters>();
        var marks = new List<MarkCounters>();
        foreach (var line in lines)
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            switch (f.Length > 0 ? f[0] : "")
            {
                case "snapshot" when f.Length == 3:
                    sequence = Long(f[1], line);
                    ktime = Long(f[2], line);
                    break;
                case "sys" when f.Length == 9:
                    syscalls.Add(new SyscallCounters(Int(f[1], line), Row(f[2], line), Int(f[3], line), Long(f[4], line), Long(f[5], line), Long(f[6], line), Long(f[7], line), Histogram(f[8], line)));
                    break;
                case "mark" when f.Length == 4:
                    marks.Add(new MarkCounters(Int(f[1], line), Long(f[2], line), Row(f[3], line)));
                    break;
                case "ioctl" when f.Length == 12:
                    ioctls.Add(Ioctl(f, line));
                    break;
                case "thread" when f.Length >= 10:
                    // The name runs to the end of the line and may hold spaces.
                    var name = string.Join(' ', f[9..]);
                    threads.Add(new ThreadSchedCounters(Int(f[1], line), Int(f[2], line), Int(f[3], line), Long(f[4], line), Long(f[5], line), Long(f[6], line), Long(f[7], line), Long(f[8], line), name == "-" ? "" : name));
                    break;
                case "tcall" when f.Length == 8:
                    threadCalls.Add(new ThreadCallCounters(Int(f[1], line), Int(f[2], line), Int(f[3], line), Int(f[4], line), Long(f[5], line), Long(f[6], line), Long(f[7], line)));
                    break;
                case "runq" when f.Length == 5:
                    runQueues.Add(new RunQueueCounters(Int(f[1], line), Long(f[2], line), Long(f[3], line), Histogram(f[4], line)));
                    break;
                case "dropped" when f.Length == 7:
                    dropped = new BpfDrops(Long(f[1], line), Long(f[2], line), Long(f[3], line), Long(f[4], line), Long(f[5], line), Long(f[6], line));
                    break;
                case "end":
                    break;
                default:
                    throw new FormatException($"not a ctrace snapshot line (format {BpfTracer.FormatVersion}): '{line}'");
            }
        }

        return new BpfSnapshot(sequence, ktime, syscalls, ioctls, threads, runQueues, marks, dropped, threadCalls);
    }

    private static IoctlCounters Ioctl(string[] f, string line)
    {
        var device = f[3].Split(':');
        if (device.Length != 2)
        {
            throw new FormatException($"bad device '{f[3]}' in '{line}'");
        }

        uint? sub = f[7] is "-" or "?" ? null : Hex(f[7], line);
        return new IoctlCounters(Int(f[1], line), Row(f[2], line), Int(device[0], line), Int(device[1], line), Hex(f[4], line), Hex(f[5], line), Int(f[6], line), sub, f[7] == "?", Long(f[8], line), Long(f[9], line), Long(f[10], line), Long(f[11], line));
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

    private static bool Row(string text, string line) => text switch
    {
        "0" => false,
        "1" => true,
        _ => throw new FormatException($"bad row '{text}' (0 or 1) in '{line}'"),
    };

    private static uint Hex(string text, string line) =>
        text.StartsWith("0x", StringComparison.Ordinal) && uint.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new FormatException($"bad hex number '{text}' in '{line}'");

    private static int Int(string text, string line) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : throw new FormatException($"bad number '{text}' in '{line}'");

    private static long Long(string text, string line) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : throw new FormatException($"bad number '{text}' in '{line}'");
}
