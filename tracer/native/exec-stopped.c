// SPDX-License-Identifier: MIT
/*
 * contention-exec-stopped PATH [ARG...]: stops itself (SIGSTOP), and once continued execs PATH.
 * The tracer adds the stopped pid, then sends SIGCONT: PATH is traced from its execve on, and the
 * only call of this program it sees is the execve itself (which strace counts too). PATH must be a
 * path (the caller resolves it: execvp would try every PATH entry, each a counted execve). A raw kill(2)
 * rather than raise(3), which would add signal-mask calls after the stop.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: contention-exec-stopped PATH [ARG...]\n");
		return 2;
	}
	syscall(SYS_kill, getpid(), SIGSTOP);
	execv(argv[1], argv + 1);
	fprintf(stderr, "contention-exec-stopped: failed to run %s: %s\n", argv[1], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}
