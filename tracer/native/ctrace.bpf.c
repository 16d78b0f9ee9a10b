// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Kernel side of Contention's node tracer: system calls per traced process tree, aggregated
 * in the kernel (count, errors, time, log2 latency histogram), nothing sent per event.
 * Programs are raw_tp / tp_btf, which need no tracefs (it is not mounted on the GPU host).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "ctrace.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* tgid -> root tgid it counts under (the tenant worker the node registered). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CTRACE_MAX_TRACKED);
	__type(key, __u32);
	__type(value, __u32);
} tracked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CTRACE_MAX_INFLIGHT);
	__type(key, __u32);
	__type(value, struct inflight);
} inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CTRACE_MAX_SYSCALL_KEYS);
	__type(key, struct syscall_key);
	__type(value, struct syscall_val);
} syscalls SEC(".maps");

/* Events lost because a map was full: reported, never silent. */
__u64 dropped_keys = 0;
__u64 dropped_inflight = 0;
__u64 dropped_children = 0;

static __always_inline __u32 log2_slot(__u64 v)
{
	__u32 slot = 0;

	while (v > 1 && slot < CTRACE_HIST_SLOTS - 1) {
		v >>= 1;
		slot++;
	}
	return slot;
}

SEC("raw_tp/sys_enter")
int ctrace_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	__u32 *root = bpf_map_lookup_elem(&tracked, &tgid);
	struct syscall_key key = {};
	struct syscall_val *val, zero = {};
	struct inflight call = {};

	if (!root)
		return 0;
	key.root = *root;
	key.nr = (__u32)ctx->args[1];

	/* Counted on entry: exit and exit_group never return, and strace counts them too. */
	val = bpf_map_lookup_elem(&syscalls, &key);
	if (!val) {
		if (bpf_map_update_elem(&syscalls, &key, &zero, BPF_NOEXIST) && bpf_map_lookup_elem(&syscalls, &key) == NULL) {
			__sync_fetch_and_add(&dropped_keys, 1);
			return 0;
		}
		val = bpf_map_lookup_elem(&syscalls, &key);
		if (!val)
			return 0;
	}
	__sync_fetch_and_add(&val->count, 1);

	call.start_ns = bpf_ktime_get_ns();
	call.nr = key.nr;
	call.root = key.root;
	if (bpf_map_update_elem(&inflight, &tid, &call, BPF_ANY))
		__sync_fetch_and_add(&dropped_inflight, 1);
	return 0;
}

SEC("raw_tp/sys_exit")
int ctrace_sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct inflight *call = bpf_map_lookup_elem(&inflight, &tid);
	struct syscall_key key = {};
	struct syscall_val *val;
	__u64 delta;
	long ret;

	if (!call)
		return 0;
	key.root = call->root;
	key.nr = call->nr;
	delta = bpf_ktime_get_ns() - call->start_ns;
	bpf_map_delete_elem(&inflight, &tid);

	val = bpf_map_lookup_elem(&syscalls, &key);
	if (!val)
		return 0;
	ret = (long)ctx->args[1];
	if (ret < 0 && ret >= -4095)
		__sync_fetch_and_add(&val->errors, 1);
	__sync_fetch_and_add(&val->total_ns, delta);
	__sync_fetch_and_add(&val->hist[log2_slot(delta) & (CTRACE_HIST_SLOTS - 1)], 1);
	return 0;
}

/* A traced process's new child (a process, not a thread) is traced under the same root. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(ctrace_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 parent_tgid = parent->tgid, child_tgid = child->tgid;
	__u32 *root;

	if (parent_tgid == child_tgid)
		return 0;
	root = bpf_map_lookup_elem(&tracked, &parent_tgid);
	if (!root)
		return 0;
	if (bpf_map_update_elem(&tracked, &child_tgid, root, BPF_ANY))
		__sync_fetch_and_add(&dropped_children, 1);
	return 0;
}

/* Forget processes that end, so tgids can be reused without being counted. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(ctrace_exit, struct task_struct *task)
{
	__u32 tgid = task->tgid, tid = task->pid;

	bpf_map_delete_elem(&inflight, &tid);
	if (tgid == tid)
		bpf_map_delete_elem(&tracked, &tgid);
	return 0;
}
