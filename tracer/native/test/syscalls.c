// SPDX-License-Identifier: MIT
/*
 * A program with a known system-call footprint, for checking tracers. It prints "ready" and
 * waits for a line, then makes exactly:
 *   getppid   100 on the main thread + 4 threads x 25 + 10 in a forked child = 210
 *   openat     30, each failing with ENOENT
 *   nanosleep  20 (1 ms each)
 *   ioctl      12 TCGETS on /dev/null (opened before "ready"), each failing with ENOTTY
 * (plus the calls that threads, fork and I/O themselves need), prints "done" and waits for a
 * line before exiting. Raw syscall(2) calls keep libc from substituting other calls.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void *worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 25; i++)
		syscall(SYS_getppid);
	return NULL;
}

int main(void)
{
	char line[64];
	pthread_t threads[4];
	struct timespec ms = { 0, 1000000 };
	pid_t child;
	struct termios tio;
	/* open(2), not openat: the openat count after "go" stays exactly 30 for whole-run strace. */
	int null_fd = (int)syscall(SYS_open, "/dev/null", O_RDONLY);

	setvbuf(stdout, NULL, _IONBF, 0);
	printf("ready\n");
	if (!fgets(line, sizeof(line), stdin))
		return 1;

	for (int i = 0; i < 100; i++)
		syscall(SYS_getppid);
	for (int i = 0; i < 30; i++)
		syscall(SYS_openat, AT_FDCWD, "/nonexistent/contention-probe", O_RDONLY);
	for (int i = 0; i < 20; i++)
		syscall(SYS_nanosleep, &ms, NULL);
	for (int i = 0; i < 12; i++)
		syscall(SYS_ioctl, null_fd, TCGETS, &tio);
	for (int i = 0; i < 4; i++)
		pthread_create(&threads[i], NULL, worker, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(threads[i], NULL);
	child = fork();
	if (child == 0) {
		for (int i = 0; i < 10; i++)
			syscall(SYS_getppid);
		_exit(0);
	}
	waitpid(child, NULL, 0);

	printf("done\n");
	if (!fgets(line, sizeof(line), stdin))
		return 0;
	return 0;
}
