using System.Globalization;

namespace Contention.Workloads.Sim;

/// <summary>
/// A diagnostic of the host's share of a tenant's latency, off unless the environment variable
/// <c>CONTENTION_HOST_TIMINGS</c> names a directory: an open-loop tenant records each request's
/// arrival, start, end and when its last launch returned (its wait began), a closed-loop one each operation's start and end,
/// both each launch's and synchronise's call and return with its operation and place in it, the
/// real-time model's GPU thread each blocked tenant's wake (<c>wake-*.csv</c>; written when it stops), a tenant of the
/// real-time modelled GPU each synchronise's call, the modelled completion, when the thread
/// noticed it, when the model meant it to return (completion plus the drawn round trip) and when
/// it did, and each of its blocked sleeps: when its wake was due, when the thread ran, how long it
/// then spun for its work, the lead it had asked and whether it slept again, and a best-effort tenant behind a GPU arbiter each launch it asked for: when, when it
/// went, its predicted time, how often it slept and what held it last, and each of its sleeps. Each recorder writes one CSV into the
/// directory when its tenant ends (<see cref="Save"/>): times in ns on the node's monotonic
/// clock. It preallocates its rows, so recording costs two stores and no allocation; rows beyond
/// its capacity are counted, not kept, and the file says how many.
/// </summary>
public sealed class HostTimings
{
    /// <summary>The environment variable naming the directory the recorders write to.</summary>
    public const string Variable = "CONTENTION_HOST_TIMINGS";

    private readonly string directory;
    private readonly string name;
    private readonly string[] columns;
    private readonly long[] rows;
    private int count;
    private long dropped;

    private HostTimings(string directory, string name, string[] columns, int capacity)
    {
        this.directory = directory;
        this.name = name;
        this.columns = columns;
        rows = new long[capacity * columns.Length];
    }

    /// <summary>The directory the environment names for the diagnostic, or null where it is off.</summary>
    public static string? ConfiguredDirectory => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } directory ? directory : null;

    /// <summary>
    /// A recorder for <paramref name="columns"/> named <paramref name="name"/> (the file gets the
    /// process id and a counter too), or null where the diagnostic is off.
    /// </summary>
    public static HostTimings? Open(string name, IReadOnlyList<string> columns, int capacity = 1 << 18)
    {
        CheckColumns(columns);
        return ConfiguredDirectory is { } directory ? Into(directory, name, columns, capacity) : null;
    }

    /// <summary>A recorder writing into <paramref name="directory"/> whatever the environment says.</summary>
    internal static HostTimings Into(string directory, string name, IReadOnlyList<string> columns, int capacity)
    {
        CheckColumns(columns);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        return new HostTimings(directory, name, [.. columns], capacity);
    }

    // A row is recorded from five values at most (Record).
    private static void CheckColumns(IReadOnlyList<string> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        if (columns.Count is < 1 or > 5)
        {
            throw new ArgumentException("a host-timings recorder has one to five columns", nameof(columns));
        }
    }

    /// <summary>Records one row of five values (the first five columns).</summary>
    public void Record(long a, long b, long c, long d = 0, long e = 0)
    {
        if ((count + 1) * columns.Length > rows.Length)
        {
            dropped++;
            return;
        }

        var at = count * columns.Length;
        Span<long> values = [a, b, c, d, e];
        values[..columns.Length].CopyTo(rows.AsSpan(at));
        count++;
    }

    /// <summary>Writes the rows recorded into the directory as <c>NAME-PID-N.csv</c>; returns its path.</summary>
    public string Save()
    {
        Directory.CreateDirectory(directory);
        string path;
        var n = 0;
        do
        {
            path = Path.Combine(directory, $"{name}-{Environment.ProcessId}-{n++}.csv");
        }
        while (File.Exists(path));

        using var writer = new StreamWriter(path);
        writer.WriteLine(string.Join(',', columns));
        for (var i = 0; i < count; i++)
        {
            writer.WriteLine(string.Join(',', rows.AsSpan(i * columns.Length, columns.Length).ToArray().Select(v => v.ToString(CultureInfo.InvariantCulture))));
        }

        if (dropped > 0)
        {
            writer.WriteLine(FormattableString.Invariant($"# {dropped} rows beyond the recorder's {count} were not kept"));
        }

        return path;
    }
}
