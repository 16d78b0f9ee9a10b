using System.Globalization;

namespace Contention.Tracer;

/// <summary>
/// The whole machine's CPU time from the first line of <c>/proc/stat</c>: busy (user, nice, system,
/// irq, softirq, steal) and all (busy + idle + iowait), in core-seconds since boot, and of the busy
/// time the part stolen (a virtual machine's cores kept waiting by its hypervisor). Differences of
/// two readings say how busy the node's cores were between them: near 1 the node was saturated and
/// what it measured of its tenants is not what they would do on an idle machine; stolen time stalls
/// its tenants whatever they do.
/// </summary>
/// <param name="BusySeconds">Core-seconds spent busy.</param>
/// <param name="TotalSeconds">Core-seconds that passed (every core).</param>
/// <param name="StealSeconds">Of <paramref name="BusySeconds"/>, core-seconds the hypervisor ran something else.</param>
public readonly record struct NodeCpu(double BusySeconds, double TotalSeconds, double StealSeconds = 0)
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
        return new NodeCpu(busy * ProcTracer.TickSeconds, (busy + idle) * ProcTracer.TickSeconds, Field(8) * ProcTracer.TickSeconds);
    }

    /// <summary>The CPU time between two readings.</summary>
    public static NodeCpu operator -(NodeCpu later, NodeCpu earlier) => new(later.BusySeconds - earlier.BusySeconds, later.TotalSeconds - earlier.TotalSeconds, later.StealSeconds - earlier.StealSeconds);

    /// <summary>The CPU time between two readings.</summary>
    public static NodeCpu Subtract(NodeCpu later, NodeCpu earlier) => later - earlier;

    /// <summary>Two intervals' CPU time together.</summary>
    public static NodeCpu operator +(NodeCpu x, NodeCpu y) => new(x.BusySeconds + y.BusySeconds, x.TotalSeconds + y.TotalSeconds, x.StealSeconds + y.StealSeconds);

    /// <summary>Two intervals' CPU time together.</summary>
    public static NodeCpu Add(NodeCpu x, NodeCpu y) => x + y;

    /// <summary>Busy share of the time (0 to 1); 0 when no time passed.</summary>
    public double BusyFraction => TotalSeconds > 0 ? BusySeconds / TotalSeconds : 0;

    /// <summary>Stolen share of the time (0 to 1); 0 when no time passed or the machine is not virtual.</summary>
    public double StealFraction => TotalSeconds > 0 ? StealSeconds / TotalSeconds : 0;
}
