using System.Globalization;

namespace Contention.Tracer;

/// <summary>
/// The whole machine's CPU time from the first line of <c>/proc/stat</c>: busy (user, nice, system,
/// irq, softirq, steal) and all (busy + idle + iowait), in core-seconds since boot. Differences of
/// two readings say how busy the node's cores were between them: near 1 the node was saturated and
/// what it measured of its tenants is not what they would do on an idle machine.
/// </summary>
/// <param name="BusySeconds">Core-seconds spent busy.</param>
/// <param name="TotalSeconds">Core-seconds that passed (every core).</param>
public readonly record struct NodeCpu(double BusySeconds, double TotalSeconds)
{
    /// <summary>The machine's counters now; zero where /proc/stat cannot be read.</summary>
    public static NodeCpu Read()
    {
        try
        {
            using var reader = new StreamReader("/proc/stat");
            return Parse(reader.ReadLine() ?? "");
        }
        catch (IOException)
        {
            return default;
        }
    }

    /// <summary>Parses the aggregate <c>cpu</c> line of /proc/stat.</summary>
    public static NodeCpu Parse(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 5 || fields[0] != "cpu")
        {
            return default;
        }

        long Field(int i) => i < fields.Length && long.TryParse(fields[i], CultureInfo.InvariantCulture, out var v) ? v : 0;
        var idle = Field(4) + Field(5);
        var busy = Field(1) + Field(2) + Field(3) + Field(6) + Field(7) + Field(8);
        return new NodeCpu(busy * ProcTracer.TickSeconds, (busy + idle) * ProcTracer.TickSeconds);
    }

    /// <summary>The CPU time between two readings.</summary>
    public static NodeCpu operator -(NodeCpu later, NodeCpu earlier) => new(later.BusySeconds - earlier.BusySeconds, later.TotalSeconds - earlier.TotalSeconds);

    /// <summary>The CPU time between two readings.</summary>
    public static NodeCpu Subtract(NodeCpu later, NodeCpu earlier) => later - earlier;

    /// <summary>Two intervals' CPU time together.</summary>
    public static NodeCpu operator +(NodeCpu x, NodeCpu y) => new(x.BusySeconds + y.BusySeconds, x.TotalSeconds + y.TotalSeconds);

    /// <summary>Two intervals' CPU time together.</summary>
    public static NodeCpu Add(NodeCpu x, NodeCpu y) => x + y;

    /// <summary>Busy share of the time (0 to 1); 0 when no time passed.</summary>
    public double BusyFraction => TotalSeconds > 0 ? BusySeconds / TotalSeconds : 0;
}
