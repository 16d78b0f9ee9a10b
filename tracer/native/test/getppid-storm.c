// SPDX-License-Identifier: MIT
/*
 * The overhead benchmark's workload: prints "ready", waits for a line, makes N getppid calls
 * (argv[1], default 1,000,000) and prints "ns ELAPSED" for the loop alone, so start-up and
 * tracer attachment are not timed. With argv[2] = S, then S times 10,000 getppid calls followed
 * by a 1 ms nanosleep (a wait right after a storm, for the tracer's sampling tests).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long calls = argc > 1 ? atol(argv[1]) : 1000000, sleeps = argc > 2 ? atol(argv[2]) : 0;
	struct timespec ms = { 0, 1000000 };
	struct timespec start, end;
	char line[64];

	setvbuf(stdout, NULL, _IONBF, 0);
	printf("ready\n");
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (long i = 0; i < calls; i++)
		syscall(SYS_getppid);
	for (long s = 0; s < sleeps; s++) {
		for (long i = 0; i < 10000; i++)
			syscall(SYS_getppid);
		syscall(SYS_nanosleep, &ms, NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	printf("ns %lld\n", (long long)(end.tv_sec - start.tv_sec) * 1000000000LL + (end.tv_nsec - start.tv_nsec));
	return 0;
}
