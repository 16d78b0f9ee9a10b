namespace Contention.Tracer;

/// <summary>A traced process at one instant.</summary>
/// <param name="Pid">The process id.</param>
/// <param name="TimestampNs">CLOCK_MONOTONIC time of the sample.</param>
/// <param name="Counters">
/// Whole-process counters: CPU time and faults from <c>/proc/PID/stat</c> (which keeps exited
/// threads' shares), context switches summed over the threads, exited ones at their last seen values.
/// </param>
/// <param name="Threads">Per-thread detail.</param>
public sealed record ProcessSample(int Pid, long TimestampNs, TaskCounters Counters, IReadOnlyList<ThreadSample> Threads);
