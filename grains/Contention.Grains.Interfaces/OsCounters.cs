namespace Contention.Grains;

/// <summary>What the OS did for a tenant's worker: context switches, CPU time by mode, page faults.</summary>
/// <param name="VoluntarySwitches">Times a thread gave up the CPU (blocked, slept).</param>
/// <param name="InvoluntarySwitches">Times a thread was preempted.</param>
/// <param name="UserSeconds">User-mode CPU seconds.</param>
/// <param name="SystemSeconds">Kernel-mode CPU seconds.</param>
/// <param name="MinorFaults">Page faults served without I/O.</param>
/// <param name="MajorFaults">Page faults that needed I/O.</param>
[GenerateSerializer, Immutable, Alias("contention.OsCounters")]
public sealed record OsCounters(
    [property: Id(0)] long VoluntarySwitches,
    [property: Id(1)] long InvoluntarySwitches,
    [property: Id(2)] double UserSeconds,
    [property: Id(3)] double SystemSeconds,
    [property: Id(4)] long MinorFaults,
    [property: Id(5)] long MajorFaults)
{
    /// <summary>No activity.</summary>
    public static OsCounters Zero { get; } = new(0, 0, 0, 0, 0, 0);

    /// <summary>Counter-wise sum.</summary>
    public static OsCounters operator +(OsCounters x, OsCounters y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        return new(x.VoluntarySwitches + y.VoluntarySwitches, x.InvoluntarySwitches + y.InvoluntarySwitches, x.UserSeconds + y.UserSeconds, x.SystemSeconds + y.SystemSeconds, x.MinorFaults + y.MinorFaults, x.MajorFaults + y.MajorFaults);
    }

    /// <summary>Explicit form of the addition operator.</summary>
    public static OsCounters Add(OsCounters x, OsCounters y) => x + y;
}
