namespace Contention.Tracer;

/// <summary>
/// What /proc says the OS did for a process or thread: context switches, CPU time by mode and
/// page faults. Values are cumulative since the task started; subtract two samples for a delta.
/// </summary>
/// <param name="VoluntarySwitches">Times the task gave up the CPU (blocked, slept, yielded to wait).</param>
/// <param name="InvoluntarySwitches">Times the task was preempted.</param>
/// <param name="UserSeconds">CPU time in user mode.</param>
/// <param name="SystemSeconds">CPU time in the kernel on the task's behalf.</param>
/// <param name="MinorFaults">Page faults served without I/O.</param>
/// <param name="MajorFaults">Page faults that needed I/O.</param>
public readonly record struct TaskCounters(long VoluntarySwitches, long InvoluntarySwitches, double UserSeconds, double SystemSeconds, long MinorFaults, long MajorFaults)
{
    /// <summary>Counter-wise difference <paramref name="later"/> − <paramref name="earlier"/>.</summary>
    public static TaskCounters operator -(TaskCounters later, TaskCounters earlier) => new(
        later.VoluntarySwitches - earlier.VoluntarySwitches,
        later.InvoluntarySwitches - earlier.InvoluntarySwitches,
        later.UserSeconds - earlier.UserSeconds,
        later.SystemSeconds - earlier.SystemSeconds,
        later.MinorFaults - earlier.MinorFaults,
        later.MajorFaults - earlier.MajorFaults);

    /// <summary>Counter-wise sum.</summary>
    public static TaskCounters operator +(TaskCounters x, TaskCounters y) => new(
        x.VoluntarySwitches + y.VoluntarySwitches,
        x.InvoluntarySwitches + y.InvoluntarySwitches,
        x.UserSeconds + y.UserSeconds,
        x.SystemSeconds + y.SystemSeconds,
        x.MinorFaults + y.MinorFaults,
        x.MajorFaults + y.MajorFaults);

    /// <summary>Explicit form of the subtraction operator.</summary>
    public static TaskCounters Subtract(TaskCounters later, TaskCounters earlier) => later - earlier;

    /// <summary>Explicit form of the addition operator.</summary>
    public static TaskCounters Add(TaskCounters x, TaskCounters y) => x + y;
}
