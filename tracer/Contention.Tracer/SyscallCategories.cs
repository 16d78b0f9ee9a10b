using System.Collections.Frozen;

namespace Contention.Tracer;

/// <summary>
/// What kind of OS service an x86-64 system call is (docs/syscall-categories.md). <c>ioctl</c> is
/// <see cref="GpuDriver"/> when it goes to an NVIDIA device and <see cref="OtherIoctl"/> otherwise;
/// calls not listed are <see cref="Other"/>.
/// </summary>
public static class SyscallCategories
{
    /// <summary>Address space: mapping, protection, advice, locking.</summary>
    public const string Memory = "memory";

    /// <summary>ioctl on an NVIDIA device (nvidiactl, nvidiaN, nvidia-uvm).</summary>
    public const string GpuDriver = "gpu-driver";

    /// <summary>ioctl on anything else.</summary>
    public const string OtherIoctl = "other-ioctl";

    /// <summary>Waiting and synchronisation: futexes, the poll family, epoll, sched_yield, sleeps, child waits.</summary>
    public const string SyncWait = "sync-wait";

    /// <summary>Files and file descriptors.</summary>
    public const string FileIo = "file-io";

    /// <summary>Processes and threads: creation, exit, identity, scheduling attributes, limits.</summary>
    public const string ProcessThread = "process-thread";

    /// <summary>Signals.</summary>
    public const string Signal = "signal";

    /// <summary>Clocks and timers.</summary>
    public const string Time = "time";

    /// <summary>Sockets.</summary>
    public const string Network = "network";

    /// <summary>Pipes, System V and POSIX IPC, cross-process memory access.</summary>
    public const string Ipc = "ipc";

    /// <summary>Everything else.</summary>
    public const string Other = "other";

    /// <summary>Every category, in the order tables show them.</summary>
    public static IReadOnlyList<string> All { get; } = [Memory, GpuDriver, OtherIoctl, SyncWait, FileIo, ProcessThread, Signal, Time, Network, Ipc, Other];

    private static readonly FrozenDictionary<string, string> Table = Build(new()
    {
        [Memory] = "mmap munmap mprotect mremap madvise brk mlock munlock mlockall munlockall mlock2 msync mincore remap_file_pages pkey_mprotect pkey_alloc pkey_free mbind set_mempolicy get_mempolicy set_mempolicy_home_node migrate_pages move_pages memfd_create memfd_secret userfaultfd process_madvise process_mrelease membarrier map_shadow_stack mseal",
        [SyncWait] = "futex futex_waitv futex_wake futex_wait futex_requeue poll ppoll select pselect6 epoll_wait epoll_pwait epoll_pwait2 epoll_create epoll_create1 epoll_ctl sched_yield nanosleep clock_nanosleep pause wait4 waitid eventfd eventfd2 set_robust_list get_robust_list",
        [FileIo] = "read write pread64 pwrite64 readv writev preadv pwritev preadv2 pwritev2 open openat openat2 creat close close_range lseek stat fstat lstat newfstatat statx access faccessat faccessat2 readlink readlinkat getdents getdents64 fcntl dup dup2 dup3 fsync fdatasync sync syncfs sync_file_range truncate ftruncate fallocate rename renameat renameat2 unlink unlinkat mkdir mkdirat rmdir chdir fchdir getcwd chmod fchmod fchmodat fchmodat2 chown fchown lchown fchownat link linkat symlink symlinkat sendfile splice tee vmsplice copy_file_range statfs fstatfs flock umask utime utimes utimensat futimesat readahead mknod mknodat setxattr lsetxattr fsetxattr getxattr lgetxattr fgetxattr listxattr llistxattr flistxattr removexattr lremovexattr fremovexattr name_to_handle_at open_by_handle_at inotify_init inotify_init1 inotify_add_watch inotify_rm_watch fanotify_init fanotify_mark io_setup io_destroy io_submit io_cancel io_getevents io_pgetevents io_uring_setup io_uring_enter io_uring_register fadvise64 cachestat",
        [ProcessThread] = "clone clone3 fork vfork execve execveat exit exit_group getpid getppid gettid set_tid_address arch_prctl prctl sched_setaffinity sched_getaffinity sched_setscheduler sched_getscheduler sched_setparam sched_getparam sched_get_priority_max sched_get_priority_min sched_rr_get_interval sched_setattr sched_getattr setpriority getpriority getuid geteuid getgid getegid setuid setgid setreuid setregid setresuid getresuid setresgid getresgid setfsuid setfsgid getgroups setgroups getrlimit setrlimit prlimit64 getrusage capget capset rseq unshare setns pidfd_open pidfd_getfd kcmp seccomp personality times setsid getsid setpgid getpgid getpgrp ptrace uname sysinfo getcpu",
        [Signal] = "rt_sigaction rt_sigprocmask rt_sigreturn rt_sigsuspend rt_sigpending rt_sigtimedwait rt_sigqueueinfo rt_tgsigqueueinfo kill tkill tgkill sigaltstack signalfd signalfd4 pidfd_send_signal",
        [Time] = "clock_gettime clock_settime clock_getres clock_adjtime gettimeofday settimeofday time timer_create timer_settime timer_gettime timer_getoverrun timer_delete timerfd_create timerfd_settime timerfd_gettime alarm getitimer setitimer adjtimex",
        [Network] = "socket socketpair bind listen accept accept4 connect getsockname getpeername sendto recvfrom sendmsg recvmsg sendmmsg recvmmsg shutdown setsockopt getsockopt",
        [Ipc] = "pipe pipe2 msgget msgsnd msgrcv msgctl semget semop semtimedop semctl shmget shmat shmdt shmctl mq_open mq_unlink mq_timedsend mq_timedreceive mq_notify mq_getsetattr process_vm_readv process_vm_writev",
    });

    /// <summary>The category of system call <paramref name="name"/>; for <c>ioctl</c>, whether it went to an NVIDIA device decides.</summary>
    public static string Of(string name, bool nvidiaDevice = false)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name == "ioctl")
        {
            return nvidiaDevice ? GpuDriver : OtherIoctl;
        }

        return Table.TryGetValue(name, out var category) ? category : Other;
    }

    private static FrozenDictionary<string, string> Build(Dictionary<string, string> lists)
    {
        var table = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (category, names) in lists)
        {
            foreach (var name in names.Split(' '))
            {
                table.Add(name, category);
            }
        }

        return table.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
