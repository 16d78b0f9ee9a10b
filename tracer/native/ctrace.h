/* SPDX-License-Identifier: MIT */
/* The contract between ctrace.bpf.c (kernel side) and ctrace.c (loader): fixed-width fields only. */
#ifndef CTRACE_H
#define CTRACE_H

#define CTRACE_FORMAT_VERSION 1
#define CTRACE_MAX_TRACKED 4096
#define CTRACE_MAX_INFLIGHT 65536
#define CTRACE_MAX_SYSCALL_KEYS 65536
#define CTRACE_HIST_SLOTS 32

/* One (traced process tree, system call) pair. */
struct syscall_key {
	__u32 root;	/* tgid the node registered; children and threads count under it */
	__u32 nr;	/* x86-64 system call number */
};

struct syscall_val {
	__u64 count;			/* calls entered */
	__u64 errors;			/* calls that returned -errno */
	__u64 total_ns;			/* time from entry to exit, summed */
	__u64 hist[CTRACE_HIST_SLOTS];	/* log2 buckets of entry-to-exit time in ns */
};

/* A call in flight on one thread. */
struct inflight {
	__u64 start_ns;
	__u32 nr;
	__u32 root;
};

#endif /* CTRACE_H */
