// SPDX-License-Identifier: MIT
/*
 * contention-exec-stopped [--no-stop] [--no-session] [--die-with-parent] PATH [ARG...]: starts
 * PATH as a shell would start it; by default in a session of its own and stopped until a tracer
 * has added it.
 *
 * - Default signal dispositions and an empty signal mask, always: the .NET runtime that starts
 *   us ignores SIGPIPE, and an ignored signal stays ignored across execve.
 * - A session of its own (setsid; --no-session keeps the caller's): a terminal's Ctrl+C (SIGINT
 *   to the foreground process group), `timeout` (which signals its whole group) and a closed
 *   terminal's SIGHUP reach the node, not its workers; the node stops them and measures them to
 *   the end.
 * - --die-with-parent: SIGKILL when the thread that started us ends (the node starts every
 *   program from one thread that lives as long as the node): a worker never outlives its node,
 *   even one killed with SIGKILL.
 * - Stopped (SIGSTOP; --no-stop runs at once) until continued: the tracer adds the stopped pid,
 *   then sends SIGCONT; PATH is traced from its execve on, and the only call of this program it
 *   sees is the execve itself (which strace counts too). Everything above runs before the stop,
 *   uncounted.
 *
 * PATH must be a path (the caller resolves it: execvp would try every PATH entry, each a counted
 * execve). A raw kill(2) rather than raise(3), which would add signal-mask calls after the stop.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static void default_signals(void)
{
	struct sigaction dfl;
	sigset_t none;
	int sig;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	for (sig = 1; sig < NSIG; sig++) {
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &dfl, NULL); /* EINVAL for the C library's reserved signals: fine */
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

int main(int argc, char **argv)
{
	int stop = 1, session = 1, die_with_parent = 0, first = 1;
	pid_t parent = getppid();

	for (; first < argc && strncmp(argv[first], "--", 2) == 0; first++) {
		if (strcmp(argv[first], "--no-stop") == 0)
			stop = 0;
		else if (strcmp(argv[first], "--no-session") == 0)
			session = 0;
		else if (strcmp(argv[first], "--die-with-parent") == 0)
			die_with_parent = 1;
		else
			break;
	}
	if (first >= argc || argv[first][0] == '-') {
		fprintf(stderr, "usage: contention-exec-stopped [--no-stop] [--no-session] [--die-with-parent] PATH [ARG...]\n");
		return 2;
	}
	if (die_with_parent) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) {
			fprintf(stderr, "contention-exec-stopped: failed to set the parent-death signal: %s\n", strerror(errno));
			return 126;
		}
		/* The parent may have died before the prctl: then nobody would send the signal. */
		if (getppid() != parent)
			return 125;
	}
	/* Fails only for a process group leader, which a freshly forked child never is. */
	if (session && setsid() < 0)
		fprintf(stderr, "contention-exec-stopped: failed to start a session: %s\n", strerror(errno));
	default_signals();
	if (stop)
		syscall(SYS_kill, getpid(), SIGSTOP);
	execv(argv[first], argv + first);
	fprintf(stderr, "contention-exec-stopped: failed to run %s: %s\n", argv[first], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}
