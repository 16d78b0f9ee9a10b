using System.Runtime.InteropServices;

namespace Contention.Workloads.Sim;

/// <summary>The few libc calls the modelled GPU and the arbiter need: precise sleeps, FIFOs, pipes, raw fd I/O, futexes, epoll.</summary>
internal static unsafe partial class NativeMethods
{
    public const int ClockMonotonic = 1;
    public const int TimerAbsolute = 1;
    public const int PrSetTimerSlack = 29;
    public const int ORdOnly = 0;
    public const int ORdWr = 2;
    public const int ONonblock = 0x800;
    public const int OCloExec = 0x80000;
    public const int EIntr = 4;
    public const int EAgain = 11;
    public const int EExist = 17;

    [StructLayout(LayoutKind.Sequential)]
    public struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_nanosleep")]
    public static partial int ClockNanosleep(int clockId, int flags, in Timespec request, IntPtr remain);

    // futex(2) through syscall(2): its number by architecture (none elsewhere: callers nap instead).
    private static readonly long SysFutex = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 202,
        Architecture.Arm64 => 98,
        _ => -1,
    };

    private static volatile bool futexRefused;

    /// <summary>
    /// Sleeps while the 32-bit word at <paramref name="word"/> (in memory shared between processes)
    /// holds <paramref name="expected"/>, until a <see cref="FutexWake"/> on it, a signal or
    /// <paramref name="timeoutNs"/>; returns at once if it holds another value. False where
    /// futexes are not to be had (another architecture, a sandbox that refuses the call): the
    /// caller sleeps some other way.
    /// </summary>
    public static bool FutexWait(int* word, int expected, long timeoutNs)
    {
        if (SysFutex < 0 || futexRefused)
        {
            return false;
        }

        var timeout = new Timespec { Seconds = timeoutNs / 1_000_000_000, Nanoseconds = timeoutNs % 1_000_000_000 };
        if (Syscall(SysFutex, word, FutexWaitOp, expected, &timeout, null, 0) == -1 && Marshal.GetLastPInvokeError() is ENoSys or EPerm)
        {
            futexRefused = true;
            return false;
        }

        // Woken, timed out, interrupted, or the word had changed: the caller looks again.
        return true;
    }

    /// <summary>Wakes every thread asleep in <see cref="FutexWait"/> on <paramref name="word"/>, in any process.</summary>
    public static void FutexWake(int* word)
    {
        if (SysFutex >= 0 && !futexRefused)
        {
            Syscall(SysFutex, word, FutexWakeOp, int.MaxValue, null, null, 0);
        }
    }

    private const int FutexWaitOp = 0; // FUTEX_WAIT, not private: the word is in a file mapped by several processes
    private const int FutexWakeOp = 1;
    private const int ENoSys = 38;
    private const int EPerm = 1;

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, int* address, int operation, int value, Timespec* timeout, int* address2, int value3);

    [LibraryImport("libc", EntryPoint = "prctl", SetLastError = true)]
    public static partial int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [LibraryImport("libc", EntryPoint = "mkfifo", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MkFifo(string path, uint mode);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, byte* buffer, nint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, byte* buffer, nint count);

    [LibraryImport("libc", EntryPoint = "pipe2", SetLastError = true)]
    public static partial int Pipe2(int* fds, int flags);

    public const uint EpollIn = 0x001;
    public const uint EpollEdge = 1u << 31;
    private const int EpollCtlAdd = 1;

    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    public static partial int EpollCreate1(int flags);

    [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    private static partial int EpollCtl(int epfd, int op, int fd, byte* epollEvent);

    [LibraryImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    private static partial int EpollWaitRaw(int epfd, byte* events, int maxEvents, int timeoutMs);

    // struct epoll_event is packed on x86-64 (a 32-bit mask, then the 64-bit datum at byte 4: 12
    // bytes) and naturally aligned elsewhere (the datum at byte 8: 16 bytes).
    private static readonly int EpollDataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    private static int EpollEventBytes => EpollDataOffset + 8;

    /// <summary>Adds <paramref name="fd"/> to <paramref name="epfd"/> for <paramref name="events"/>, reported with <paramref name="data"/>; 0 or -1 (errno set).</summary>
    public static int EpollAdd(int epfd, int fd, uint events, ulong data)
    {
        var buffer = stackalloc byte[16];
        *(uint*)buffer = events;
        *(ulong*)(buffer + EpollDataOffset) = data;
        return EpollCtl(epfd, EpollCtlAdd, fd, buffer);
    }

    /// <summary>
    /// Waits up to <paramref name="timeoutMs"/> for events of <paramref name="epfd"/> and ORs the
    /// data of each reported one into the result (-1: failed, errno set; 0: none). Takes at most 4.
    /// </summary>
    public static long EpollWait(int epfd, int timeoutMs)
    {
        const int Max = 4;
        var buffer = stackalloc byte[16 * Max];
        var n = EpollWaitRaw(epfd, buffer, Max, timeoutMs);
        if (n < 0)
        {
            return -1;
        }

        var data = 0L;
        for (var i = 0; i < n; i++)
        {
            data |= *(long*)(buffer + (i * EpollEventBytes) + EpollDataOffset);
        }

        return data;
    }

    public const nuint FionRead = 0x541B;

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, nuint request, out int value);

    public const int RusageSelf = 0;
    public const int RusageThread = 1;

    /// <summary>struct rusage of x86-64 Linux: two timevals, then fourteen longs.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Rusage
    {
        public long UserSeconds;
        public long UserMicroseconds;
        public long SystemSeconds;
        public long SystemMicroseconds;
        public long MaxRss;
        public long IxRss;
        public long IdRss;
        public long IsRss;
        public long MinorFaults;
        public long MajorFaults;
        public long Swaps;
        public long BlocksIn;
        public long BlocksOut;
        public long MessagesSent;
        public long MessagesReceived;
        public long Signals;
        public long VoluntarySwitches;
        public long InvoluntarySwitches;
    }

    [LibraryImport("libc", EntryPoint = "getrusage", SetLastError = true)]
    public static partial int GetRusage(int who, out Rusage usage);

    /// <summary>getrusage of <paramref name="who"/> (<see cref="RusageSelf"/>, <see cref="RusageThread"/>).</summary>
    public static Rusage Usage(int who) =>
        GetRusage(who, out var usage) == 0 ? usage : throw new InvalidOperationException($"getrusage failed: errno {Marshal.GetLastPInvokeError()}");

    [LibraryImport("libc", EntryPoint = "getppid")]
    public static partial int GetParentPid();

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    /// <summary>Sleeps until the absolute CLOCK_MONOTONIC time <paramref name="deadlineNs"/>.</summary>
    public static void SleepUntil(long deadlineNs)
    {
        var request = new Timespec { Seconds = deadlineNs / 1_000_000_000, Nanoseconds = deadlineNs % 1_000_000_000 };
        while (ClockNanosleep(ClockMonotonic, TimerAbsolute, request, IntPtr.Zero) == EIntr)
        {
        }
    }

    /// <summary>
    /// Lowers this thread's timer slack to 1 µs: the default 50 µs would add up to 50 µs to every
    /// timed sleep, which is larger than many kernels the model times.
    /// </summary>
    public static void UsePreciseTimers() => _ = Prctl(PrSetTimerSlack, 1000, 0, 0, 0);
}
