// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Kernel side of Contention's node tracer. For the process trees it follows, aggregated in the
 * kernel and read by user space from maps (nothing is sent per event):
 *   - system calls per root: count, errors, entry-to-exit time, log2 latency histogram (time of
 *     every call of a thread below sample_above calls per second, of a random one in sample_one_in
 *     above it, weighted: one clock read costs about a third of a cheap system call);
 *   - ioctls per root and (device, request, NVIDIA escape, RM control cmd / RM alloc class);
 *   - per thread: voluntary / involuntary switches, off-CPU time, run-queue wait; with thread_calls
 *     set, system calls per thread too (count and time; one hash lookup more per call);
 *   - run-queue latency (runnable to running) per root, as a log2 histogram.
 * Programs are tp_btf (no tracefs needed: it is not mounted on the GPU host). Every task on the
 * node passes through these programs, so the untraced path is one task-local storage lookup
 * that returns a cached "not traced".
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "ctrace.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define BPF_F_NO_PREALLOC_FLAG 1
#define BPF_F_MMAPABLE_FLAG 1024
#define STORAGE_CREATE 1
#define KERNEL_MINORBITS 20

/* Set by the loader between open and load. */
const volatile bool time_calls = true;	/* false: counts and errors only, no clock reads per call */
const volatile bool empty = false;	/* true: every program returns at once (the overhead benchmark's floor) */
const volatile __u64 sample_above = 100000;	/* calls per second of one thread above which its calls are sampled; 0: never */
const volatile __u32 sample_one_in = 16;	/* 1: every call timed */
const volatile __u32 sample_threshold = 1U << 28;	/* 2^32 / sample_one_in: prandom below it times a call */
const volatile bool thread_calls = false;	/* true: count each thread's system calls too (thread_call_counts) */

/* tgid -> slot of the root it counts under. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CTRACE_MAX_TRACKED);
	__type(key, __u32);
	__type(value, __u32);
} tracked SEC(".maps");

/* Counters, slot-major; user space maps the array and reads it without system calls. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE_FLAG);
	__uint(max_entries, CTRACE_MAX_SLOTS * CTRACE_ROWS * CTRACE_MAX_NR);
	__type(key, __u32);
	__type(value, struct syscall_val);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CTRACE_MAX_IOCTL_KEYS);
	__type(key, struct ioctl_key);
	__type(value, struct ioctl_val);
} ioctls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CTRACE_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct thread_val);
} threads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CTRACE_MAX_THREAD_CALLS);
	__type(key, struct thread_call_key);
	__type(value, struct thread_call_val);
} thread_call_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE_FLAG);
	__uint(max_entries, CTRACE_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct runq_val);
} runq SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC_FLAG);
	__type(key, int);
	__type(value, struct task_state);
} tasks SEC(".maps");

/* Bumped by user space after each change to `tracked`, so cached decisions are re-made. */
__u64 generation = 0;

/*
 * Per slot: bumped by user space each time a root is given the slot, so a thread whose decision is
 * re-made (another root came or went) keeps what it has in flight (a call, a wait off the CPU)
 * where it is still in the same root's slot, and loses it only where the slot changed hands.
 */
__u32 slot_epoch[CTRACE_MAX_SLOTS] = {};

/* Per slot: 1 while its tenant holds a phase boundary (row 1 counts), and the marker calls seen. */
__u32 held[CTRACE_MAX_SLOTS] = {};
__u64 marks[CTRACE_MAX_SLOTS] = {};

/* Events lost, reported and never silent. */
__u64 dropped_storage = 0;	/* a traced task got no task storage: its calls were not counted */
__u64 dropped_children = 0;	/* a child could not be added to `tracked` */
__u64 unknown_nr = 0;		/* a system call number beyond CTRACE_MAX_NR */
__u64 dropped_ioctls = 0;	/* an ioctl kind did not fit in `ioctls` */
__u64 dropped_threads = 0;	/* a thread did not fit in `threads` */
__u64 dropped_thread_calls = 0;	/* a (thread, system call) did not fit in `thread_call_counts`: its calls were not counted per thread */

static __always_inline __u32 log2_slot(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) { r += 1; }
	return r < CTRACE_HIST_SLOTS ? r : CTRACE_HIST_SLOTS - 1;
}

/*
 * The task's state if it is traced, else NULL. Untraced tasks get a state too (slot_plus1 0), so
 * their next call costs one storage lookup instead of a hash lookup of `tracked`.
 */
static __always_inline struct task_state *traced_state(struct task_struct *task)
{
	struct task_state *st = bpf_task_storage_get(&tasks, task, 0, 0);
	__u64 gen = generation;
	__u32 tgid, *slot, index, epoch = 0;

	if (st && st->generation == gen)
		return st->slot_plus1 ? st : NULL;

	tgid = task->tgid;
	slot = bpf_map_lookup_elem(&tracked, &tgid);
	if (slot) {
		index = *slot & (CTRACE_MAX_SLOTS - 1);
		epoch = slot_epoch[index];
	}
	if (!st) {
		st = bpf_task_storage_get(&tasks, task, 0, STORAGE_CREATE);
		if (!st) {
			if (slot)
				__sync_fetch_and_add(&dropped_storage, 1);
			return NULL;
		}
	} else if (slot && st->slot_plus1 == *slot + 1 && st->epoch == epoch) {
		/* Another root came or went: this thread's root and slot are as they were. */
		st->generation = gen;
		return st;
	}
	st->generation = gen;
	st->slot_plus1 = slot ? *slot + 1 : 0;
	st->epoch = epoch;
	st->start_ns = 0;
	st->off_ns = 0;
	st->queued_ns = 0;
	st->window_ns = 0;
	st->window_off_ns = 0;
	st->window_calls = 0;
	st->one_in = 1;
	st->weight = 0;
	st->row = 0;
	return st->slot_plus1 ? st : NULL;
}

/* Which device the fd is, and for NVIDIA frontend requests which escape, control or class. */
static __always_inline void decode_ioctl(struct task_state *st, struct pt_regs *regs)
{
	struct ioctl_key *key = &st->ioctl;
	struct task_struct *task = bpf_get_current_task_btf();
	unsigned int fd = (unsigned int)BPF_CORE_READ(regs, di);
	__u64 arg = BPF_CORE_READ(regs, dx), params;
	struct file **fds, *file = NULL;
	__u32 major, word[4];

	key->slot = st->slot_plus1 - 1;
	key->request = (__u32)BPF_CORE_READ(regs, si);
	key->rdev = 0;
	key->escape = 0;
	key->size = 0;
	key->sub = 0;
	key->flags = 0;
	key->row = st->row;

	if (fd < BPF_CORE_READ(task, files, fdt, max_fds)) {
		fds = BPF_CORE_READ(task, files, fdt, fd);
		bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
		if (file)
			key->rdev = BPF_CORE_READ(file, f_inode, i_rdev);
	}
	major = key->rdev >> KERNEL_MINORBITS;
	if (major != CTRACE_NV_MAJOR || !key->rdev)
		return;

	key->escape = key->request & 0xff;
	key->size = (key->request >> 16) & 0x3fff;
	params = arg;
	if (key->escape == CTRACE_NV_ESC_XFER_CMD) {
		/* { u32 cmd; u32 size; u64 ptr; }: the real escape and where its parameters are. */
		if (bpf_probe_read_user(word, 16, (void *)arg)) {
			key->flags |= CTRACE_IOCTL_UNREADABLE;
			return;
		}
		key->escape = word[0];
		key->size = word[1];
		params = (__u64)word[2] | ((__u64)word[3] << 32);
	}
	if (key->escape != CTRACE_NV_ESC_RM_CONTROL && key->escape != CTRACE_NV_ESC_RM_ALLOC)
		return;
	/* NVOS54.cmd is at 8; NVOS21.hClass and NVOS64.hClass are both at 12. */
	if (bpf_probe_read_user(&key->sub, 4, (void *)(params + (key->escape == CTRACE_NV_ESC_RM_CONTROL ? 8 : 12)))) {
		key->flags |= CTRACE_IOCTL_UNREADABLE;
		return;
	}
	key->flags |= CTRACE_IOCTL_SUB;
}

/*
 * Whether to time the call now entering, and the thread's sampling rate for the calls after it.
 * The rate is re-measured at timed calls only (they have the clock), over at least
 * CTRACE_WINDOW_NS on the CPU: calls per second on the CPU, which is what decides how much of the
 * thread's time clock reads would take (a preempted thread is not slower at making calls). A
 * call's chance of being timed is fixed before it runs, so weighting each timed call by one_in
 * keeps the time unbiased.
 */
static __always_inline void start_timing(struct task_state *st)
{
	__u64 now, oncpu;

	st->window_calls++;
	if (st->one_in <= 1)
		st->weight = 1;
	else
		st->weight = bpf_get_prandom_u32() < sample_threshold ? st->one_in : 0;
	if (!st->weight) {
		st->start_ns = 1;	/* in flight, not timed */
		return;
	}
	now = bpf_ktime_get_ns();
	oncpu = now - st->window_ns;
	oncpu = oncpu > st->window_off_ns ? oncpu - st->window_off_ns : 0;
	if (!st->window_ns || oncpu >= CTRACE_WINDOW_NS) {
		st->one_in = st->window_ns && sample_above && (__u64)st->window_calls * 1000000000ULL > sample_above * oncpu
			? sample_one_in : 1;
		st->window_ns = now;
		st->window_off_ns = 0;
		st->window_calls = 0;
	}
	st->start_ns = now;
}

/* One call of the current thread, per thread (thread_calls): weight 0 when it was not timed. */
static __always_inline void count_thread_call(struct task_state *st, __u32 nr, __u64 delta, __u32 weight)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct thread_call_key key = { .tid = task->pid, .nr = nr };
	struct thread_call_val *val = bpf_map_lookup_elem(&thread_call_counts, &key);

	if (!val) {
		struct thread_call_val fresh = { .slot = st->slot_plus1 - 1, .tgid = task->tgid };

		bpf_map_update_elem(&thread_call_counts, &key, &fresh, BPF_NOEXIST);
		val = bpf_map_lookup_elem(&thread_call_counts, &key);
		if (!val) {
			__sync_fetch_and_add(&dropped_thread_calls, 1);
			return;
		}
	}
	__sync_fetch_and_add(&val->count, 1);
	if (weight) {
		__sync_fetch_and_add(&val->total_ns, delta * weight);
		__sync_fetch_and_add(&val->timed, 1);
	}
}

SEC("tp_btf/sys_enter")
int BPF_PROG(ctrace_sys_enter, struct pt_regs *regs, long id)
{
	struct task_state *st;
	struct syscall_val *val;
	__u32 index, slot;

	if (empty)
		return 0;
	st = traced_state(bpf_get_current_task_btf());
	if (!st)
		return 0;
	if (id < 0 || id >= CTRACE_MAX_NR) {
		__sync_fetch_and_add(&unknown_nr, 1);
		return 0;
	}
	slot = st->slot_plus1 - 1;
	if (slot >= CTRACE_MAX_SLOTS)
		return 0;
	/* The compiler would drop this mask after the check; the verifier needs it to bound held[slot]. */
	barrier_var(slot);
	slot &= CTRACE_MAX_SLOTS - 1;
	if (id == CTRACE_NR_PRCTL && (__u32)BPF_CORE_READ(regs, di) == CTRACE_MARK_OPTION) {
		/* The boundary itself: the calls before it count in one row, those after it in the other. */
		held[slot] = BPF_CORE_READ(regs, si) ? 1 : 0;
		__sync_fetch_and_add(&marks[slot], 1);
		st->start_ns = 0;
		return 0;
	}
	st->row = held[slot] & 1;
	index = (slot * CTRACE_ROWS + st->row) * CTRACE_MAX_NR + (__u32)id;
	val = bpf_map_lookup_elem(&counters, &index);
	if (!val)
		return 0;
	/* Counted on entry: exit and exit_group never return (strace -c leaves exit_group out). */
	__sync_fetch_and_add(&val->count, 1);
	if (thread_calls && (id == CTRACE_NR_EXIT || id == CTRACE_NR_EXIT_GROUP))
		count_thread_call(st, (__u32)id, 0, 0);
	st->nr = (__u32)id;
	if (id == CTRACE_NR_IOCTL)
		decode_ioctl(st, regs);
	if (time_calls) {
		start_timing(st);
	} else {
		st->weight = 0;
		st->start_ns = 1;	/* a nonzero start marks a call in flight for the exit program */
	}
	return 0;
}

static __always_inline void count_ioctl(struct task_state *st, long ret, __u64 delta)
{
	struct ioctl_val *val = bpf_map_lookup_elem(&ioctls, &st->ioctl);

	if (!val) {
		struct ioctl_val zero = {};

		bpf_map_update_elem(&ioctls, &st->ioctl, &zero, BPF_NOEXIST);
		val = bpf_map_lookup_elem(&ioctls, &st->ioctl);
		if (!val) {
			__sync_fetch_and_add(&dropped_ioctls, 1);
			return;
		}
	}
	__sync_fetch_and_add(&val->count, 1);
	if (ret < 0 && ret >= -4095)
		__sync_fetch_and_add(&val->errors, 1);
	if (st->weight) {
		__sync_fetch_and_add(&val->total_ns, delta * st->weight);
		__sync_fetch_and_add(&val->timed, 1);
	}
}

SEC("tp_btf/sys_exit")
int BPF_PROG(ctrace_sys_exit, struct pt_regs *regs, long ret)
{
	struct task_state *st;
	struct syscall_val *val;
	__u64 delta = 0;
	__u32 index;

	if (empty)
		return 0;
	/*
	 * A call begun before its root was removed (or its slot given to another root) is not counted
	 * into a slot that may be reused: the decision re-made drops it. Another root coming or going
	 * does not.
	 */
	st = traced_state(bpf_get_current_task_btf());
	if (!st || !st->start_ns)
		return 0;
	if (st->weight)
		delta = bpf_ktime_get_ns() - st->start_ns;
	st->start_ns = 0;
	index = ((st->slot_plus1 - 1) * CTRACE_ROWS + (st->row & 1)) * CTRACE_MAX_NR + st->nr;
	val = bpf_map_lookup_elem(&counters, &index);
	if (!val)
		return 0;
	if (ret < 0 && ret >= -4095)
		__sync_fetch_and_add(&val->errors, 1);
	if (st->weight) {
		__sync_fetch_and_add(&val->total_ns, delta * st->weight);
		__sync_fetch_and_add(&val->hist[log2_slot(delta)], st->weight);
		__sync_fetch_and_add(&val->timed, 1);
	}
	if (st->nr == CTRACE_NR_IOCTL)
		count_ioctl(st, ret, delta);
	if (thread_calls)
		count_thread_call(st, st->nr, delta, st->weight);
	return 0;
}

static __always_inline struct thread_val *thread_of(struct task_struct *task, struct task_state *st)
{
	__u32 tid = task->pid;
	struct thread_val *val = bpf_map_lookup_elem(&threads, &tid);

	if (val)
		return val;
	{
		struct thread_val fresh = { .slot = st->slot_plus1 - 1, .tgid = task->tgid };

		bpf_map_update_elem(&threads, &tid, &fresh, BPF_NOEXIST);
	}
	val = bpf_map_lookup_elem(&threads, &tid);
	if (!val)
		__sync_fetch_and_add(&dropped_threads, 1);
	return val;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(ctrace_switch, bool preempt, struct task_struct *prev, struct task_struct *next, unsigned int prev_state)
{
	struct task_state *st;
	struct thread_val *thread;
	struct runq_val *rq;
	__u64 now = 0, delta;
	__u32 slot;

	if (empty)
		return 0;
	st = traced_state(prev);
	if (st) {
		now = bpf_ktime_get_ns();
		st->off_ns = now;
		thread = thread_of(prev, st);
		/* Still runnable: preempted, so it waits in the run queue from now on. */
		if (preempt || prev_state == 0) {
			st->queued_ns = now;
			if (thread)
				__sync_fetch_and_add(&thread->involuntary, 1);
		} else {
			/*
			 * Waiting: not queued for a CPU. A wake-up that arrived while it still ran (the
			 * kernel reports sched_wakeup for running tasks too) must not be taken for the
			 * start of its next wait in the run queue.
			 */
			st->queued_ns = 0;
			if (thread)
				__sync_fetch_and_add(&thread->voluntary, 1);
			/*
			 * A thread that waits is not in a storm of calls: time its calls again from now on
			 * (sampling is for threads that make calls back to back, where a clock read is a
			 * large part of each call; a waiting call's time is worth measuring exactly).
			 */
			st->one_in = 1;
			st->window_ns = 0;
			/*
			 * And a call that waits is timed whatever was drawn on entry, with weight 1: calls
			 * that block are all timed, those that do not are sampled. Not drawn on entry, it is
			 * timed from now: its time on the CPU before it blocked (microseconds, against the
			 * wait) is left out.
			 */
			if (time_calls && st->start_ns) {
				if (!st->weight)
					st->start_ns = now;
				st->weight = 1;
			}
		}
		if (thread)
			bpf_probe_read_kernel_str(thread->comm, sizeof(thread->comm), prev->comm);
	}

	st = traced_state(next);
	if (!st)
		return 0;
	if (!now)
		now = bpf_ktime_get_ns();
	thread = thread_of(next, st);
	if (st->off_ns) {
		if (thread)
			__sync_fetch_and_add(&thread->offcpu_ns, now - st->off_ns);
		st->window_off_ns += now - st->off_ns;
		st->off_ns = 0;
	}
	if (st->queued_ns) {
		delta = now - st->queued_ns;
		st->queued_ns = 0;
		if (thread) {
			__sync_fetch_and_add(&thread->runq_ns, delta);
			__sync_fetch_and_add(&thread->runq_count, 1);
		}
		slot = st->slot_plus1 - 1;
		rq = bpf_map_lookup_elem(&runq, &slot);
		if (rq) {
			__sync_fetch_and_add(&rq->count, 1);
			__sync_fetch_and_add(&rq->total_ns, delta);
			__sync_fetch_and_add(&rq->hist[log2_slot(delta)], 1);
		}
	}
	return 0;
}

static __always_inline void woken(struct task_struct *task)
{
	struct task_state *st;

	if (empty)
		return;
	st = traced_state(task);
	if (st && !st->queued_ns)
		st->queued_ns = bpf_ktime_get_ns();
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(ctrace_wakeup, struct task_struct *task)
{
	woken(task);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(ctrace_wakeup_new, struct task_struct *task)
{
	woken(task);
	return 0;
}

/* A traced process's new child (a process, not a thread) is traced under the same root. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(ctrace_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 parent_tgid = parent->tgid, child_tgid = child->tgid;
	__u32 *slot;

	if (parent_tgid == child_tgid)
		return 0;
	slot = bpf_map_lookup_elem(&tracked, &parent_tgid);
	if (!slot)
		return 0;
	if (bpf_map_update_elem(&tracked, &child_tgid, slot, BPF_ANY))
		__sync_fetch_and_add(&dropped_children, 1);
	return 0;
}

/*
 * Forget a process when its last thread ends, so its tgid can be reused without being counted.
 * (Not when its main thread ends: the other threads may go on.)
 */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(ctrace_exit, struct task_struct *task)
{
	__u32 tgid = task->tgid;

	if (BPF_CORE_READ(task, signal, live.counter) == 0)
		bpf_map_delete_elem(&tracked, &tgid);
	return 0;
}
