using Contention.Workloads.Sim;

namespace Contention.Workloads.Worker;

/// <summary>
/// Marks a worker's phase boundaries in-band and measures each phase. A boundary is held
/// (<c>prctl(CTRACE_MARK_OPTION, 1)</c>, which the node's eBPF helper recognises; elsewhere the
/// kernel answers EINVAL) while the phase's usage is read and the node takes its snapshot, and
/// released after: the node's calls and the handshake's fall into neither phase.
/// </summary>
public sealed class PhaseRecorder
{
    /// <summary>The marker's prctl option (tracer/native/ctrace.h, CTRACE_MARK_OPTION).</summary>
    public const int MarkOption = 0x4354524d;

    private readonly IPhaseSink sink;
    private readonly int who;
    private long startNs;
    private NativeMethods.Rusage start;
    private int index;

    /// <summary>
    /// Starts the first phase at the process's start (<paramref name="processStartNs"/>, on the
    /// monotonic clock), with the process's usage counted from zero; or, for a workload thread
    /// inside the silo (<paramref name="threadOnly"/>), at construction with the thread's usage.
    /// </summary>
    public PhaseRecorder(IPhaseSink sink, bool threadOnly, long processStartNs)
    {
        ArgumentNullException.ThrowIfNull(sink);
        this.sink = sink;
        who = threadOnly ? NativeMethods.RusageThread : NativeMethods.RusageSelf;
        // The process's start comes from the boot clock: never later than now on the monotonic one.
        startNs = threadOnly ? MonotonicClock.NowNs() : Math.Min(processStartNs, MonotonicClock.NowNs());
        start = threadOnly ? NativeMethods.Usage(who) : default;
    }

    /// <summary>
    /// When this process started, on the monotonic clock: /proc/self/stat's start time (in clock
    /// ticks of 10 ms since boot), so the start-up phase's wall time has a 10 ms resolution.
    /// </summary>
    public static long ProcessStartNs()
    {
        var stat = File.ReadAllText("/proc/self/stat");

        // Fields after the command name (which may hold spaces) in parentheses; starttime is field 22.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[19], System.Globalization.CultureInfo.InvariantCulture);
        return ticks * 10_000_000;
    }

    /// <summary>Ends the current phase as <paramref name="ended"/> (its index and measurements filled in) and starts the next.</summary>
    public void Boundary(PhaseSample ended)
    {
        ArgumentNullException.ThrowIfNull(ended);
        _ = NativeMethods.Prctl(MarkOption, 1, 0, 0, 0);
        var endNs = MonotonicClock.NowNs();
        var end = NativeMethods.Usage(who);
        sink.Boundary(ended with
        {
            Index = index++,
            WallNs = endNs - startNs,
            VoluntarySwitches = end.VoluntarySwitches - start.VoluntarySwitches,
            InvoluntarySwitches = end.InvoluntarySwitches - start.InvoluntarySwitches,
            UserNs = Ns(end.UserSeconds, end.UserMicroseconds) - Ns(start.UserSeconds, start.UserMicroseconds),
            SystemNs = Ns(end.SystemSeconds, end.SystemMicroseconds) - Ns(start.SystemSeconds, start.SystemMicroseconds),
            MinorFaults = end.MinorFaults - start.MinorFaults,
            MajorFaults = end.MajorFaults - start.MajorFaults,
        });
        start = NativeMethods.Usage(who);
        startNs = MonotonicClock.NowNs();
        _ = NativeMethods.Prctl(MarkOption, 0, 0, 0, 0);
    }

    private static long Ns(long seconds, long microseconds) => (seconds * 1_000_000_000) + (microseconds * 1000);
}
