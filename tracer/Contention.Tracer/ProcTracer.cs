using System.Runtime.InteropServices;

namespace Contention.Tracer;

/// <summary>
/// Samples one process (all its threads) or one thread from /proc. Keeps every thread it has
/// seen, so context switches of threads that exited between samples are not lost: they keep
/// their last seen values (switches made after a thread's last sample and before its exit are
/// missed; CPU time is not, because the process's stat line includes reaped threads).
/// </summary>
public sealed partial class ProcTracer
{
    /// <summary>Seconds per clock tick (USER_HZ) of /proc times.</summary>
    internal static readonly double TickSeconds = 1.0 / ClockTicksPerSecond();
    private readonly Dictionary<int, ThreadSample> threads = [];
    private readonly string root;

    /// <summary>Traces process <paramref name="pid"/>, or only its thread <paramref name="tid"/> when given.</summary>
    public ProcTracer(int pid, int? tid = null, string procRoot = "/proc")
    {
        Pid = pid;
        Tid = tid;
        root = procRoot;
    }

    /// <summary>The traced process.</summary>
    public int Pid { get; }

    /// <summary>The traced thread, when only one thread of the process is traced.</summary>
    public int? Tid { get; }

    /// <summary>Reads the current counters; null when the process is gone.</summary>
    public ProcessSample? Sample(long timestampNs)
    {
        try
        {
            return Tid is { } tid ? SampleThreadOnly(tid, timestampNs) : SampleProcess(timestampNs);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private ProcessSample SampleProcess(long timestampNs)
    {
        var processDir = $"{root}/{Pid}";
        var stat = ProcParser.ParseStat(File.ReadAllText($"{processDir}/stat"));
        var alive = new HashSet<int>();
        foreach (var taskDir in Directory.EnumerateDirectories($"{processDir}/task"))
        {
            if (!int.TryParse(Path.GetFileName(taskDir), out var tid))
            {
                continue;
            }

            var sample = ReadThread(taskDir, tid);
            if (sample is not null)
            {
                threads[tid] = sample;
                alive.Add(tid);
            }
        }

        long voluntary = 0, involuntary = 0;
        foreach (var (tid, thread) in threads.ToList())
        {
            if (!alive.Contains(tid) && !thread.Exited)
            {
                threads[tid] = thread with { Exited = true };
            }

            voluntary += thread.Counters.VoluntarySwitches;
            involuntary += thread.Counters.InvoluntarySwitches;
        }

        var counters = new TaskCounters(voluntary, involuntary, stat.UserTicks * TickSeconds, stat.SystemTicks * TickSeconds, stat.MinorFaults, stat.MajorFaults);
        return new ProcessSample(Pid, timestampNs, counters, threads.Values.OrderBy(t => t.Tid).ToList());
    }

    private ProcessSample? SampleThreadOnly(int tid, long timestampNs)
    {
        var sample = ReadThread($"{root}/{Pid}/task/{tid}", tid);
        return sample is null ? null : new ProcessSample(Pid, timestampNs, sample.Counters, [sample]);
    }

    private static ThreadSample? ReadThread(string taskDir, int tid)
    {
        try
        {
            var stat = ProcParser.ParseStat(File.ReadAllText($"{taskDir}/stat"));
            var switches = ProcParser.ParseSwitches(File.ReadAllText($"{taskDir}/status"));
            var counters = new TaskCounters(switches.Voluntary, switches.Involuntary, stat.UserTicks * TickSeconds, stat.SystemTicks * TickSeconds, stat.MinorFaults, stat.MajorFaults);
            return new ThreadSample(tid, stat.Name, counters, Exited: false);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            // The thread exited between listing the directory and reading it.
            return null;
        }
    }

    [LibraryImport("libc", EntryPoint = "sysconf")]
    private static partial long SysConf(int name);

    private static long ClockTicksPerSecond()
    {
        const int ScClkTck = 2;
        try
        {
            var ticks = SysConf(ScClkTck);
            return ticks > 0 ? ticks : 100;
        }
        catch (DllNotFoundException)
        {
            return 100;
        }
    }
}
