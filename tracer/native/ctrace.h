/* SPDX-License-Identifier: MIT */
/* The contract between ctrace.bpf.c (kernel side) and ctrace.c (loader): fixed-width fields only. */
#ifndef CTRACE_H
#define CTRACE_H

#define CTRACE_FORMAT_VERSION 5
#define CTRACE_MAX_TRACKED 4096		/* processes followed (roots and their children) */
#define CTRACE_MAX_SLOTS 64		/* roots traced at once; each owns a row of counters */
#define CTRACE_MAX_NR 512		/* x86-64 system call numbers are below this */
#define CTRACE_ROWS 2			/* counter rows per root: 0 the workload's calls, 1 calls made while a phase boundary is held */
#define CTRACE_HIST_SLOTS 32
#define CTRACE_MAX_IOCTL_KEYS 8192	/* distinct (root, device, request, escape, sub-code) */
#define CTRACE_MAX_THREADS 16384	/* threads with scheduling counters */
#define CTRACE_MAX_THREAD_CALLS 65536	/* distinct (thread, system call) counted with --thread-calls */
#define CTRACE_WINDOW_NS 1000000ULL	/* a thread's call rate is measured over at least this much time on the CPU */

#define CTRACE_NR_IOCTL 16
#define CTRACE_NR_EXIT 60
#define CTRACE_NR_EXIT_GROUP 231
#define CTRACE_NR_PRCTL 157
/*
 * The in-band phase marker: prctl(CTRACE_MARK_OPTION, 1) holds a phase boundary (the process's calls
 * count in row 1 until released), prctl(CTRACE_MARK_OPTION, 0) releases it. No prctl option has this
 * value, so the kernel answers EINVAL and untraced processes lose nothing. Marker calls are counted
 * as marks, not as system calls.
 */
#define CTRACE_MARK_OPTION 0x4354524dU	/* "CTRM" */
#define CTRACE_NV_MAJOR 195		/* NV_MAJOR_DEVICE_NUMBER: /dev/nvidiactl and /dev/nvidiaN */
#define CTRACE_NV_ESC_RM_CONTROL 0x2A
#define CTRACE_NV_ESC_RM_ALLOC 0x2B
#define CTRACE_NV_ESC_XFER_CMD 0xD3

/* ioctl_key.flags */
#define CTRACE_IOCTL_SUB 1		/* sub holds the RM control cmd or the RM alloc hClass */
#define CTRACE_IOCTL_UNREADABLE 2	/* the parameters could not be read from user memory */

/* Counters of one (slot, row, system call): element (slot * CTRACE_ROWS + row) * CTRACE_MAX_NR + nr of the counters array. */
/*
 * Time is measured for every call of a thread below the sampling rate, and for a random one in
 * sample_one_in calls of a thread above it, weighted by sample_one_in (a Horvitz-Thompson
 * estimate: unbiased, exact when timed equals count).
 */
struct syscall_val {
	__u64 count;			/* calls entered */
	__u64 errors;			/* calls that returned -errno */
	__u64 total_ns;			/* time from entry to exit, summed over timed calls, each times its weight */
	__u64 timed;			/* calls whose time was measured */
	__u64 hist[CTRACE_HIST_SLOTS];	/* log2 buckets of entry-to-exit time in ns: timed calls, each times its weight */
};

/* One kind of ioctl, as far as the kernel side can tell it apart; the names are user space's. */
struct ioctl_key {
	__u32 slot;
	__u32 rdev;		/* device number of the fd's inode (kernel encoding: major << 20 | minor); 0: not a device */
	__u32 request;		/* as passed to ioctl(2) */
	__u32 escape;		/* NVIDIA frontend: _IOC_NR, or the inner cmd of NV_ESC_IOCTL_XFER_CMD */
	__u32 size;		/* NVIDIA frontend: parameter size (_IOC_SIZE, or XFER's size) */
	__u32 sub;		/* RM_CONTROL cmd or RM_ALLOC hClass, when flags has CTRACE_IOCTL_SUB */
	__u32 flags;
	__u32 row;		/* as the counters' row: 1 when the call entered while a phase boundary was held */
};

struct ioctl_val {
	__u64 count;		/* calls that returned */
	__u64 errors;
	__u64 total_ns;		/* as syscall_val.total_ns */
	__u64 timed;		/* calls whose time was measured */
};

/* Scheduling counters of one traced thread (hash map keyed by tid). The slot first, as in thread_call_val: the loader forgets both alike. */
struct thread_val {
	__u32 slot;
	__u32 tgid;
	__u64 voluntary;	/* switched out while not runnable (waiting) */
	__u64 involuntary;	/* switched out while runnable (preempted) */
	__u64 offcpu_ns;	/* time switched out, summed */
	__u64 runq_ns;		/* time runnable but waiting for a CPU, summed */
	__u64 runq_count;
	char comm[16];
};

/* One system call of one traced thread (--thread-calls): hash map keyed by (tid, nr). */
struct thread_call_key {
	__u32 tid;
	__u32 nr;
};

/*
 * Counted when the call returns, as its time is known then (exit and exit_group, which never
 * return, when they enter); a call in flight at a snapshot is not in it yet. TOTAL_NS as
 * syscall_val.total_ns.
 */
struct thread_call_val {
	__u32 slot;
	__u32 tgid;
	__u64 count;
	__u64 total_ns;
	__u64 timed;
};

/* Run-queue latency of one slot: element slot of the runq array. */
struct runq_val {
	__u64 count;
	__u64 total_ns;
	__u64 hist[CTRACE_HIST_SLOTS];
};

/* Per-task state (task-local storage): the cached tracking decision, the call in flight, and
 * scheduling timestamps. */
struct task_state {
	__u64 generation;	/* tracking generation the decision was made in */
	__u64 start_ns;		/* 0 when no call is in flight */
	__u64 off_ns;		/* when the task was switched out; 0 when on a CPU */
	__u64 queued_ns;	/* when it became runnable (woken or preempted); 0 when not waiting for a CPU */
	__u64 window_ns;	/* start of the thread's current rate window (a timed call's entry); 0: none yet */
	__u64 window_off_ns;	/* time off the CPU since window_ns: the rate is per second on the CPU */
	__u32 window_calls;	/* calls entered since window_ns */
	__u32 one_in;		/* 0 or 1: every call timed; else one call in one_in, at random */
	__u32 weight;		/* the call in flight: 0 not timed, else what its time counts for */
	__u32 nr;
	__u32 slot_plus1;	/* 0: not traced */
	__u32 row;		/* the call in flight counts in this row */
	__u32 epoch;		/* the slot's epoch (slot_epoch) when the decision was made */
	struct ioctl_key ioctl;	/* the ioctl in flight, when nr is ioctl */
};

#endif /* CTRACE_H */
