// SPDX-License-Identifier: MIT
/*
 * contention-ctrace: loads ctrace.bpf.c and answers commands on standard input, one per line:
 *   add TGID       trace TGID, its threads and its future children (answers "ok add TGID")
 *   remove TGID    stop tracing TGID (answers "ok remove TGID")
 *   snapshot       print every counter (cumulative since load)
 *   quit           exit (end of input does the same)
 * Output (format version CTRACE_FORMAT_VERSION), one record per line:
 *   ctrace VERSION ready
 *   ok add TGID | ok remove TGID                        (the map holds the change: calls from now on count)
 *   snapshot SEQ KTIME_NS
 *   sys ROOT NR COUNT ERRORS TOTAL_NS SLOT:COUNT,...   (log2 ns slots, non-empty only)
 *   dropped KEYS INFLIGHT CHILDREN                      (events lost to full maps)
 *   end SEQ
 *   error MESSAGE                                       (the command failed; the tracer goes on)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

static void snapshot(struct ctrace_bpf *skel, unsigned long long seq)
{
	int fd = bpf_map__fd(skel->maps.syscalls);
	struct syscall_key key, next, *prev = NULL;
	struct syscall_val val;
	int i, first;

	printf("snapshot %llu %llu\n", seq, ktime_ns());
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &val))
			continue;
		printf("sys %u %u %llu %llu %llu ", key.root, key.nr, (unsigned long long)val.count,
		       (unsigned long long)val.errors, (unsigned long long)val.total_ns);
		first = 1;
		for (i = 0; i < CTRACE_HIST_SLOTS; i++) {
			if (!val.hist[i])
				continue;
			printf("%s%d:%llu", first ? "" : ",", i, (unsigned long long)val.hist[i]);
			first = 0;
		}
		printf("%s\n", first ? "-" : "");
	}
	printf("dropped %llu %llu %llu\n", (unsigned long long)skel->bss->dropped_keys,
	       (unsigned long long)skel->bss->dropped_inflight, (unsigned long long)skel->bss->dropped_children);
	printf("end %llu\n", seq);
	fflush(stdout);
}

int main(void)
{
	struct ctrace_bpf *skel = NULL;
	unsigned long long seq = 0;
	char line[256];
	int err;

	libbpf_set_print(print_libbpf);
	skel = ctrace_bpf__open();
	if (!skel) {
		printf("error failed to open BPF skeleton: %s\n", strerror(errno));
		return 1;
	}
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

	printf("ctrace %d ready\n", CTRACE_FORMAT_VERSION);
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		unsigned int tgid;

		if (sscanf(line, "add %u", &tgid) == 1) {
			if (bpf_map_update_elem(bpf_map__fd(skel->maps.tracked), &tgid, &tgid, BPF_ANY))
				printf("error failed to add %u: %s\n", tgid, strerror(errno));
			else
				printf("ok add %u\n", tgid);
		} else if (sscanf(line, "remove %u", &tgid) == 1) {
			if (bpf_map_delete_elem(bpf_map__fd(skel->maps.tracked), &tgid) && errno != ENOENT)
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
