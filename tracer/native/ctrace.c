// SPDX-License-Identifier: MIT
/*
 * contention-ctrace [--mode full|counts|empty] [--sample-above CALLS_PER_S] [--sample-one-in N] [--thread-calls]: loads
 * ctrace.bpf.c and answers commands on standard input, one per line. Modes: full (default):
 * everything; counts: system-call counts and errors without their time (no clock reads per call);
 * empty: programs attached but doing nothing (the overhead benchmark's floor: what attaching alone
 * costs). In full mode the time of every call is measured for threads making fewer than
 * --sample-above calls a second (default 100000; 0: every call of every thread), and of a random
 * one call in --sample-one-in (default 16) for threads above it, weighted so the totals stay
 * unbiased (a call that blocks is always timed); TIMED says how many calls were measured.
 * --thread-calls counts every traced thread's system calls too (tcall records; one hash-map lookup
 * more per call, so off by default). A traced
 * process marks phase boundaries in-band with prctl(CTRACE_MARK_OPTION, 1 | 0) (ctrace.h): while it
 * holds a boundary its calls count in row 1, so a node can snapshot between two phases without the
 * handshake's own calls falling into either. Commands:
 *   add TGID       trace TGID, its threads and its future children (answers "ok add TGID")
 *   remove TGID    stop tracing TGID (answers "ok remove TGID")
 *   snapshot       print every counter (cumulative since load; read whole before any of it is written,
 *                  the threads' calls right after the roots' counters, again while the roots entered
 *                  calls in between, CTRACE_READ_TRIES reads at most)
 *   quit           exit (end of input does the same)
 * A removed root's counters are printed by the next snapshot, then its slot is reused.
 * Output (format version CTRACE_FORMAT_VERSION), one record per line:
 *   ctrace VERSION ready
 *   ok add TGID | ok remove TGID                        (the map holds the change: calls from now on count)
 *   snapshot SEQ KTIME_NS
 *   sys ROOT ROW NR COUNT ERRORS TOTAL_NS TIMED HIST  (HIST: SLOT:COUNT,... log2 ns slots, non-empty only; "-" when none;
 *                                                       TOTAL_NS and HIST are estimates when TIMED < COUNT; ROW 1: calls
 *                                                       entered while the root held a phase boundary, else 0)
 *   mark ROOT MARKS HELD                               (phase-marker calls seen; HELD 1 while a boundary is held)
 *   ioctl ROOT ROW MAJOR:MINOR REQUEST ESCAPE SIZE SUB COUNT ERRORS TOTAL_NS TIMED
 *                                                      (hex REQUEST/ESCAPE/SUB; ESCAPE and SIZE 0 off the NVIDIA
 *                                                       frontend; SUB "-" when none, "?" when unreadable)
 *   thread ROOT TGID TID VOLUNTARY INVOLUNTARY OFFCPU_NS RUNQ_NS RUNQ_COUNT COMM   (COMM to the end of the line)
 *   tcall ROOT TGID TID NR COUNT TOTAL_NS TIMED         (--thread-calls: one thread's calls of one number, counted
 *                                                       as they return, exit and exit_group as they enter; both rows)
 *   runq ROOT COUNT TOTAL_NS HIST                        (runnable-to-running latency)
 *   dropped STORAGE CHILDREN UNKNOWN_NR IOCTLS THREADS THREAD_CALLS   (events lost to full maps, numbers out of range)
 *   end SEQ
 *   error MESSAGE                                       (the command failed; the tracer goes on)
 */
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include "ctrace.h"
#include "ctrace.skel.h"

static int print_libbpf(enum libbpf_print_level level, const char *format, va_list args)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, format, args);
}

static unsigned long long ktime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

struct root {
	__u32 tgid;
	int used;
	int retiring;
};

static struct root roots[CTRACE_MAX_SLOTS];
static struct syscall_val *counters;
static struct runq_val *runqs;

static void bump_generation(struct ctrace_bpf *skel)
{
	__sync_fetch_and_add(&skel->bss->generation, 1);
}

#define CTRACE_DELETE_CHUNK 4096	/* keys a walk of delete_where collects before deleting them */

static unsigned char doomed_keys[CTRACE_DELETE_CHUNK * 64];

/*
 * Deletes every entry of a hash map that doomed() picks from its key and value. A walk collects
 * the keys (up to CTRACE_DELETE_CHUNK), then they are deleted, and the walk begins again only
 * while a chunk came back full: deleting as it walks would restart the walk at every deletion,
 * quadratic in the map's size where live entries lie between doomed ones (30 roots retiring
 * beside 30 live ones with --thread-calls took one snapshot over two minutes).
 */
static void delete_where(int fd, size_t key_size, size_t value_size, int (*doomed)(const void *key, const void *value, void *arg), void *arg)
{
	__u64 key[8], next[8], value[32];
	void *prev;
	size_t count, i;

	if (key_size > sizeof(key) || value_size > sizeof(value) || key_size * CTRACE_DELETE_CHUNK > sizeof(doomed_keys))
		return;
	do {
		count = 0;
		for (prev = NULL; count < CTRACE_DELETE_CHUNK && bpf_map_get_next_key(fd, prev, next) == 0; prev = key) {
			memcpy(key, next, key_size);
			if (bpf_map_lookup_elem(fd, key, value) == 0 && doomed(key, value, arg))
				memcpy(&doomed_keys[count++ * key_size], key, key_size);
		}
		for (i = 0; i < count; i++)
			bpf_map_delete_elem(fd, &doomed_keys[i * key_size]);
	} while (count == CTRACE_DELETE_CHUNK);
}

static int in_slot(const void *key, const void *value, void *arg)
{
	(void)key;
	return *(const __u32 *)value == *(const __u32 *)arg;
}

static int add_root(struct ctrace_bpf *skel, __u32 tgid)
{
	int slot, free_slot = -1;

	for (slot = 0; slot < CTRACE_MAX_SLOTS; slot++) {
		if (roots[slot].used && !roots[slot].retiring && roots[slot].tgid == tgid)
			return 0;
		if (!roots[slot].used && free_slot < 0)
			free_slot = slot;
	}
	if (free_slot < 0) {
		errno = ENOSPC;
		return -1;
	}
	memset(&counters[free_slot * CTRACE_ROWS * CTRACE_MAX_NR], 0, sizeof(*counters) * CTRACE_ROWS * CTRACE_MAX_NR);
	__sync_fetch_and_add(&skel->bss->slot_epoch[free_slot], 1);
	skel->bss->held[free_slot] = 0;
	skel->bss->marks[free_slot] = 0;
	memset(&runqs[free_slot], 0, sizeof(*runqs));
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.tracked), &tgid, &free_slot, BPF_ANY))
		return -1;
	roots[free_slot] = (struct root){ .tgid = tgid, .used = 1 };
	bump_generation(skel);
	return 0;
}

static int remove_root(struct ctrace_bpf *skel, __u32 tgid)
{
	int fd = bpf_map__fd(skel->maps.tracked), slot;
	__u32 value;

	for (slot = 0; slot < CTRACE_MAX_SLOTS; slot++)
		if (roots[slot].used && !roots[slot].retiring && roots[slot].tgid == tgid)
			break;
	if (slot == CTRACE_MAX_SLOTS)
		return 0;
	/* The root and every child followed under it. */
	value = (__u32)slot;
	delete_where(fd, sizeof(__u32), sizeof(__u32), in_slot, &value);
	roots[slot].retiring = 1;
	bump_generation(skel);
	return 0;
}

static void print_hist(FILE *out, const __u64 *hist)
{
	int i, first = 1;

	for (i = 0; i < CTRACE_HIST_SLOTS; i++) {
		if (!hist[i])
			continue;
		fprintf(out, "%s%d:%llu", first ? "" : ",", i, (unsigned long long)hist[i]);
		first = 0;
	}
	fprintf(out, "%s\n", first ? "-" : "");
}

static int slot_live(__u32 slot)
{
	return slot < CTRACE_MAX_SLOTS && roots[slot].used;
}

static int slot_retiring(__u32 slot)
{
	return slot < CTRACE_MAX_SLOTS && roots[slot].used && roots[slot].retiring;
}

/* An ioctl kind of a retiring (printed for the last time) or gone root. */
static int ioctl_retired(const void *key, const void *value, void *arg)
{
	const struct ioctl_key *k = key;

	(void)value;
	(void)arg;
	return slot_retiring(k->slot) || !slot_live(k->slot);
}

/* Prints every ioctl kind of a live slot; forgets those of retiring slots once printed. */
static void print_ioctls(FILE *out, struct ctrace_bpf *skel)
{
	int fd = bpf_map__fd(skel->maps.ioctls);
	struct ioctl_key key, next, *prev = NULL;
	struct ioctl_val val;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (!slot_live(key.slot) || bpf_map_lookup_elem(fd, &key, &val))
			continue;
		fprintf(out, "ioctl %u %u %u:%u 0x%x 0x%x %u ", roots[key.slot].tgid, key.row, key.rdev >> 20, key.rdev & 0xfffff,
		       key.request, key.escape, key.size);
		if (key.flags & CTRACE_IOCTL_SUB)
			fprintf(out, "0x%x", key.sub);
		else
			fprintf(out, "%s", key.flags & CTRACE_IOCTL_UNREADABLE ? "?" : "-");
		fprintf(out, " %llu %llu %llu %llu\n", (unsigned long long)val.count, (unsigned long long)val.errors,
		       (unsigned long long)val.total_ns, (unsigned long long)val.timed);
	}
	delete_where(fd, sizeof(key), sizeof(val), ioctl_retired, NULL);
}

/* An entry whose value begins with its root's slot (thread_val, thread_call_val), that root retiring (printed for the last time) or gone. */
static int value_retired(const void *key, const void *value, void *arg)
{
	__u32 slot;

	(void)key;
	(void)arg;
	memcpy(&slot, value, sizeof(slot));
	return slot_retiring(slot) || !slot_live(slot);
}

/* Deletes the entries of a hash map whose value names a retiring or gone root. */
static void forget_retired(int fd, size_t key_size, size_t value_size)
{
	delete_where(fd, key_size, value_size, value_retired, NULL);
}

static void print_threads(FILE *out, struct ctrace_bpf *skel)
{
	int fd = bpf_map__fd(skel->maps.threads);
	__u32 key, next, *prev = NULL;
	struct thread_val val;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &val) || !slot_live(val.slot))
			continue;
		val.comm[sizeof(val.comm) - 1] = 0;
		fprintf(out, "thread %u %u %u %llu %llu %llu %llu %llu %s\n", roots[val.slot].tgid, val.tgid, key,
		       (unsigned long long)val.voluntary, (unsigned long long)val.involuntary,
		       (unsigned long long)val.offcpu_ns, (unsigned long long)val.runq_ns,
		       (unsigned long long)val.runq_count, val.comm[0] ? val.comm : "-");
	}
	forget_retired(fd, sizeof(key), sizeof(val));
}

/*
 * One read of the counters a snapshot prints: each live slot's counters that are not zero, and
 * with --thread-calls every (thread, system call) counted, read right after them, both before any
 * of it is written out (a reader slow to take the output cannot stretch the time between them).
 * ENTERED: the calls the roots entered while it was read, counted again after the threads' calls.
 */
struct sys_copy {
	__u32 slot, row, nr;
	struct syscall_val val;
};

struct reading {
	struct sys_copy *sys;
	size_t sys_count, sys_capacity;
	struct thread_call_key *keys;
	struct thread_call_val *values;
	__u32 calls;
	__u64 entered;
};

static struct reading readings[2];
static int per_thread;

#define CTRACE_READ_TRIES 4	/* reads of a snapshot at most, until one in which the roots entered no call */

/* Every (thread, system call) of the map into the reading: batches, else one key at a time. */
static void read_thread_calls(int fd, struct reading *r)
{
	struct thread_call_key key, next, *prev = NULL;
	__u32 in = 0, out = 0, count;
	void *cursor = NULL;

	r->calls = 0;
	for (;;) {
		count = CTRACE_MAX_THREAD_CALLS - r->calls;
		if (bpf_map_lookup_batch(fd, cursor, &out, r->keys + r->calls, r->values + r->calls, &count, NULL)) {
			if (errno != ENOENT)
				break;	/* batches not supported: one key at a time */
			r->calls += count;
			return;	/* the map's end */
		}
		r->calls += count;
		if (r->calls >= CTRACE_MAX_THREAD_CALLS)
			return;
		in = out;
		cursor = &in;
	}
	r->calls = 0;
	while (r->calls < CTRACE_MAX_THREAD_CALLS && bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &r->values[r->calls]) == 0)
			r->keys[r->calls++] = key;
	}
}

static __u64 slot_calls(int slot)
{
	const struct syscall_val *val = &counters[slot * CTRACE_ROWS * CTRACE_MAX_NR];
	__u64 sum = 0;
	int i;

	for (i = 0; i < CTRACE_ROWS * CTRACE_MAX_NR; i++)
		sum += val[i].count;
	return sum;
}

/* Reads the roots' counters, then the threads' calls, then how many calls the roots entered meanwhile. */
static int read_counters(struct ctrace_bpf *skel, struct reading *r)
{
	__u64 before = 0, after = 0;
	int slot, row, nr;

	r->sys_count = 0;
	for (slot = 0; slot < CTRACE_MAX_SLOTS; slot++) {
		if (!roots[slot].used)
			continue;
		for (row = 0; row < CTRACE_ROWS; row++) {
			for (nr = 0; nr < CTRACE_MAX_NR; nr++) {
				const struct syscall_val *val = &counters[(slot * CTRACE_ROWS + row) * CTRACE_MAX_NR + nr];

				if (!val->count)
					continue;
				if (r->sys_count == r->sys_capacity) {
					size_t capacity = r->sys_capacity ? 2 * r->sys_capacity : 256;
					struct sys_copy *grown = realloc(r->sys, capacity * sizeof(*grown));

					if (!grown)
						return -1;
					r->sys = grown;
					r->sys_capacity = capacity;
				}
				r->sys[r->sys_count] = (struct sys_copy){ .slot = slot, .row = row, .nr = nr, .val = *val };
				before += r->sys[r->sys_count++].val.count;
			}
		}
	}
	r->calls = 0;
	if (per_thread)
		read_thread_calls(bpf_map__fd(skel->maps.thread_call_counts), r);
	for (slot = 0; slot < CTRACE_MAX_SLOTS; slot++)
		if (roots[slot].used)
			after += slot_calls(slot);
	r->entered = after - before;
	return 0;
}

static void snapshot(struct ctrace_bpf *skel, unsigned long long seq)
{
	struct reading *best = &readings[0], *next;
	char *text = NULL;
	size_t size = 0, i;
	FILE *out = open_memstream(&text, &size);
	int slot, tries;

	if (!out)
		out = stdout;
	fprintf(out, "snapshot %llu %llu\n", seq, ktime_ns());
	/*
	 * The roots' counters count a call as it enters, the threads' as it returns: read one right
	 * after the other they agree but for the calls in flight, unless the roots entered calls in
	 * between (the helper lost its CPU): then read again, and keep the read that missed fewest.
	 */
	if (read_counters(skel, best)) {
		fprintf(out, "error out of memory for a snapshot\n");
		best->sys_count = best->calls = 0;
	}
	for (tries = 1; per_thread && best->entered > 0 && tries < CTRACE_READ_TRIES; tries++) {
		next = best == &readings[0] ? &readings[1] : &readings[0];
		if (read_counters(skel, next) == 0 && next->entered < best->entered)
			best = next;
	}
	for (slot = 0, i = 0; slot < CTRACE_MAX_SLOTS; slot++) {
		if (!roots[slot].used)
			continue;
		for (; i < best->sys_count && best->sys[i].slot == (__u32)slot; i++) {
			const struct sys_copy *c = &best->sys[i];

			fprintf(out, "sys %u %u %u %llu %llu %llu %llu ", roots[slot].tgid, c->row, c->nr,
				(unsigned long long)c->val.count, (unsigned long long)c->val.errors,
				(unsigned long long)c->val.total_ns, (unsigned long long)c->val.timed);
			print_hist(out, c->val.hist);
		}
		if (skel->bss->marks[slot])
			fprintf(out, "mark %u %llu %u\n", roots[slot].tgid, (unsigned long long)skel->bss->marks[slot],
				skel->bss->held[slot]);
		if (runqs[slot].count) {
			fprintf(out, "runq %u %llu %llu ", roots[slot].tgid, (unsigned long long)runqs[slot].count,
				(unsigned long long)runqs[slot].total_ns);
			print_hist(out, runqs[slot].hist);
		}
	}
	for (i = 0; i < best->calls; i++) {
		const struct thread_call_val *val = &best->values[i];

		if (!slot_live(val->slot))
			continue;
		fprintf(out, "tcall %u %u %u %u %llu %llu %llu\n", roots[val->slot].tgid, val->tgid, best->keys[i].tid,
			best->keys[i].nr, (unsigned long long)val->count, (unsigned long long)val->total_ns,
			(unsigned long long)val->timed);
	}
	if (per_thread)
		forget_retired(bpf_map__fd(skel->maps.thread_call_counts), sizeof(struct thread_call_key),
			       sizeof(struct thread_call_val));
	print_ioctls(out, skel);
	print_threads(out, skel);
	for (slot = 0; slot < CTRACE_MAX_SLOTS; slot++)
		if (roots[slot].retiring)
			roots[slot].used = roots[slot].retiring = 0;
	fprintf(out, "dropped %llu %llu %llu %llu %llu %llu\n", (unsigned long long)skel->bss->dropped_storage,
		(unsigned long long)skel->bss->dropped_children, (unsigned long long)skel->bss->unknown_nr,
		(unsigned long long)skel->bss->dropped_ioctls, (unsigned long long)skel->bss->dropped_threads,
		(unsigned long long)skel->bss->dropped_thread_calls);
	fprintf(out, "end %llu\n", seq);
	if (out != stdout) {
		fclose(out);
		fwrite(text, 1, size, stdout);
		free(text);
	}
	fflush(stdout);
}

static const char usage[] =
	"error usage: contention-ctrace [--mode full|counts|empty] [--sample-above CALLS_PER_S] [--sample-one-in N] [--thread-calls]\n";

/* A whole number in [min, max], or -1. */
static long long number_arg(const char *text, long long min, long long max)
{
	char *end;
	long long value;

	errno = 0;
	value = strtoll(text, &end, 10);
	return errno || end == text || *end || value < min || value > max ? -1 : value;
}

int main(int argc, char **argv)
{
	struct ctrace_bpf *skel = NULL;
	unsigned long long seq = 0;
	const char *mode = "full";
	long long sample_above = 100000, one_in = 16;
	char line[256];
	int err, i;

	/*
	 * A session of its own: a terminal's Ctrl+C or a `timeout` signals the node's whole process
	 * group, and the helper must outlive that signal so the node can take its final snapshot. It
	 * ends when the node does: its input closes.
	 */
	setsid();
	libbpf_set_print(print_libbpf);
	skel = ctrace_bpf__open();
	if (!skel) {
		printf("error failed to open BPF skeleton: %s\n", strerror(errno));
		return 1;
	}
	for (i = 1; i < argc; i += 2) {
		if (strcmp(argv[i], "--thread-calls") == 0) {
			per_thread = 1;
			i--;
		} else if (i + 1 == argc) {
			sample_above = -1;
		} else if (strcmp(argv[i], "--mode") == 0) {
			mode = argv[i + 1];
		} else if (strcmp(argv[i], "--sample-above") == 0) {
			sample_above = number_arg(argv[i + 1], 0, 1000000000LL);
		} else if (strcmp(argv[i], "--sample-one-in") == 0) {
			one_in = number_arg(argv[i + 1], 1, 1 << 16);
		} else {
			sample_above = -1;
		}
		if (sample_above < 0 || one_in < 0)
			break;
	}
	if (sample_above < 0 || one_in < 0 || (strcmp(mode, "full") && strcmp(mode, "counts") && strcmp(mode, "empty"))) {
		printf("%s", usage);
		err = -EINVAL;
		goto cleanup;
	}
	skel->rodata->time_calls = strcmp(mode, "counts") != 0;
	skel->rodata->empty = strcmp(mode, "empty") == 0;
	skel->rodata->sample_above = one_in > 1 ? (__u64)sample_above : 0;
	skel->rodata->sample_one_in = (__u32)one_in;
	skel->rodata->thread_calls = per_thread;
	skel->rodata->sample_threshold = (__u32)((1ULL << 32) / (unsigned long long)one_in - (one_in == 1));
	err = ctrace_bpf__load(skel);
	if (err) {
		printf("error failed to load BPF programs: %s\n", strerror(-err));
		goto cleanup;
	}
	err = ctrace_bpf__attach(skel);
	if (err) {
		printf("error failed to attach BPF programs: %s\n", strerror(-err));
		goto cleanup;
	}

	counters = mmap(NULL, sizeof(*counters) * CTRACE_MAX_SLOTS * CTRACE_ROWS * CTRACE_MAX_NR, PROT_READ | PROT_WRITE, MAP_SHARED,
			bpf_map__fd(skel->maps.counters), 0);
	if (counters == MAP_FAILED) {
		printf("error failed to map counters: %s\n", strerror(errno));
		err = -errno;
		goto cleanup;
	}
	runqs = mmap(NULL, sizeof(*runqs) * CTRACE_MAX_SLOTS, PROT_READ | PROT_WRITE, MAP_SHARED,
		     bpf_map__fd(skel->maps.runq), 0);
	if (runqs == MAP_FAILED) {
		printf("error failed to map run-queue counters: %s\n", strerror(errno));
		err = -errno;
		goto cleanup;
	}

	for (i = 0; per_thread && i < 2; i++) {
		readings[i].keys = calloc(CTRACE_MAX_THREAD_CALLS, sizeof(*readings[i].keys));
		readings[i].values = calloc(CTRACE_MAX_THREAD_CALLS, sizeof(*readings[i].values));
		if (!readings[i].keys || !readings[i].values) {
			printf("error out of memory for the threads' calls\n");
			err = -ENOMEM;
			goto cleanup;
		}
	}

	printf("ctrace %d ready\n", CTRACE_FORMAT_VERSION);
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		unsigned int tgid;

		if (sscanf(line, "add %u", &tgid) == 1) {
			if (add_root(skel, tgid))
				printf("error failed to add %u: %s\n", tgid, strerror(errno));
			else
				printf("ok add %u\n", tgid);
		} else if (sscanf(line, "remove %u", &tgid) == 1) {
			if (remove_root(skel, tgid))
				printf("error failed to remove %u: %s\n", tgid, strerror(errno));
			else
				printf("ok remove %u\n", tgid);
		} else if (strncmp(line, "snapshot", 8) == 0) {
			snapshot(skel, ++seq);
		} else if (strncmp(line, "quit", 4) == 0) {
			break;
		} else {
			printf("error unknown command: %s", line);
		}
		fflush(stdout);
	}
	err = 0;

cleanup:
	fflush(stdout);
	ctrace_bpf__destroy(skel);
	return err ? 1 : 0;
}
