using System.Runtime.InteropServices;

namespace Contention.Workloads.Worker;

/// <summary>The kernel's id of the calling thread (what /proc/PID/task/TID names).</summary>
public static partial class ThreadId
{
    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetTid();

    /// <summary>The calling thread's TID.</summary>
    public static int Current() => GetTid();
}
