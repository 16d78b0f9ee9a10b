// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Kernel side of Contention's node tracer: system calls per traced process tree, aggregated in
 * the kernel (count, errors, time, log2 latency histogram), nothing sent per event. Programs are
 * tp_btf (no tracefs needed: it is not mounted on the GPU host). The hot path is one task-local
 * storage lookup and one array element per call: every process on the node pays for the check,
 * so it must be cheap.
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
	__uint(max_entries, CTRACE_MAX_SLOTS * CTRACE_MAX_NR);
	__type(key, __u32);
	__type(value, struct syscall_val);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC_FLAG);
	__type(key, int);
	__type(value, struct task_state);
} tasks SEC(".maps");

/* Bumped by user space after each change to `tracked`, so cached decisions are re-made. */
__u64 generation = 0;

/* Events lost, reported and never silent. */
__u64 dropped_storage = 0;	/* a traced task got no task storage: its calls were not counted */
__u64 dropped_children = 0;	/* a child could not be added to `tracked` */
__u64 unknown_nr = 0;		/* a system call number beyond CTRACE_MAX_NR */

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

static __always_inline struct task_state *traced_state(struct task_struct *task)
{
	struct task_state *st = bpf_task_storage_get(&tasks, task, 0, 0);
	__u64 gen = generation;
	__u32 tgid, *slot;

	if (st && st->generation == gen)
		return st->slot_plus1 ? st : NULL;

	tgid = task->tgid;
	slot = bpf_map_lookup_elem(&tracked, &tgid);
	if (!st) {
		if (!slot)
			return NULL;	/* untraced and never cached: nothing to store */
		st = bpf_task_storage_get(&tasks, task, 0, STORAGE_CREATE);
		if (!st) {
			__sync_fetch_and_add(&dropped_storage, 1);
			return NULL;
		}
	}
	st->generation = gen;
	st->slot_plus1 = slot ? *slot + 1 : 0;
	st->start_ns = 0;
	return st->slot_plus1 ? st : NULL;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(ctrace_sys_enter, struct pt_regs *regs, long id)
{
	struct task_state *st = traced_state(bpf_get_current_task_btf());
	struct syscall_val *val;
	__u32 index;

	if (!st)
		return 0;
	if (id < 0 || id >= CTRACE_MAX_NR) {
		__sync_fetch_and_add(&unknown_nr, 1);
		return 0;
	}
	index = (st->slot_plus1 - 1) * CTRACE_MAX_NR + (__u32)id;
	val = bpf_map_lookup_elem(&counters, &index);
	if (!val)
		return 0;
	/* Counted on entry: exit and exit_group never return, and strace counts them too. */
	__sync_fetch_and_add(&val->count, 1);
	st->nr = (__u32)id;
	st->start_ns = bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(ctrace_sys_exit, struct pt_regs *regs, long ret)
{
	struct task_state *st = bpf_task_storage_get(&tasks, bpf_get_current_task_btf(), 0, 0);
	struct syscall_val *val;
	__u64 delta;
	__u32 index;

	if (!st || !st->slot_plus1 || !st->start_ns)
		return 0;
	delta = bpf_ktime_get_ns() - st->start_ns;
	st->start_ns = 0;
	index = (st->slot_plus1 - 1) * CTRACE_MAX_NR + st->nr;
	val = bpf_map_lookup_elem(&counters, &index);
	if (!val)
		return 0;
	if (ret < 0 && ret >= -4095)
		__sync_fetch_and_add(&val->errors, 1);
	__sync_fetch_and_add(&val->total_ns, delta);
	__sync_fetch_and_add(&val->hist[log2_slot(delta)], 1);
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

/* Forget a child process that ends, so its tgid can be reused without being counted. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(ctrace_exit, struct task_struct *task)
{
	__u32 tgid = task->tgid;

	if (tgid == task->pid)
		bpf_map_delete_elem(&tracked, &tgid);
	return 0;
}
