/* SPDX-License-Identifier: MIT */
/* The contract between ctrace.bpf.c (kernel side) and ctrace.c (loader): fixed-width fields only. */
#ifndef CTRACE_H
#define CTRACE_H

#define CTRACE_FORMAT_VERSION 1
#define CTRACE_MAX_TRACKED 4096		/* processes followed (roots and their children) */
#define CTRACE_MAX_SLOTS 64		/* roots traced at once; each owns a row of counters */
#define CTRACE_MAX_NR 512		/* x86-64 system call numbers are below this */
#define CTRACE_HIST_SLOTS 32

/* Counters of one (slot, system call): element slot * CTRACE_MAX_NR + nr of the counters array. */
struct syscall_val {
	__u64 count;			/* calls entered */
	__u64 errors;			/* calls that returned -errno */
	__u64 total_ns;			/* time from entry to exit, summed */
	__u64 hist[CTRACE_HIST_SLOTS];	/* log2 buckets of entry-to-exit time in ns */
};

/* Per-task state (task-local storage): the cached tracking decision and the call in flight. */
struct task_state {
	__u64 start_ns;		/* 0 when no call is in flight */
	__u32 nr;
	__u32 slot_plus1;	/* 0: not traced */
	__u64 generation;	/* tracking generation the decision was made in */
};

#endif /* CTRACE_H */
