// SPDX-License-Identifier: MIT
/*
 * The phase-marker test's workload: prints "ready", waits for a line, then runs its arguments in
 * order: a number N makes N getppid calls, "hold" and "release" make the marker calls
 * (prctl(CTRACE_MARK_OPTION, 1 | 0)), "thread N" makes N getppid calls on a second thread while the
 * first waits for it. Prints "done" and exits.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "../ctrace.h"

static void *storm(void *arg)
{
	for (long i = 0; i < (long)arg; i++)
		syscall(SYS_getppid);
	return NULL;
}

int main(int argc, char **argv)
{
	char line[64];
	pthread_t thread;

	setvbuf(stdout, NULL, _IONBF, 0);
	printf("ready\n");
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "hold") == 0 || strcmp(argv[i], "release") == 0) {
			/* EINVAL is the expected answer: no such option. */
			prctl(CTRACE_MARK_OPTION, strcmp(argv[i], "hold") == 0 ? 1UL : 0UL, 0UL, 0UL, 0UL);
		} else if (strcmp(argv[i], "thread") == 0 && i + 1 < argc) {
			if (pthread_create(&thread, NULL, storm, (void *)atol(argv[++i])))
				return 2;
			pthread_join(thread, NULL);
		} else {
			storm((void *)atol(argv[i]));
		}
	}
	printf("done\n");
	return 0;
}
