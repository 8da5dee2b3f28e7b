/*
 * plugin_probe.c - run work in a child process with a time limit and read
 * back its report (contract in plugin_probe.h). Knows nothing of plugins:
 * registry.c decides what the child does and what its ending means.
 */
#include <build-config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backend/plugin_probe.h"

int trit_probe_write(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static _Noreturn void child(int fds[2], void (*work)(void *arg, int fd), void *arg)
{
	int null = open("/dev/null", O_RDWR);

	close(fds[0]);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	work(arg, fds[1]);
	_exit(0);
}

static long elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* Read the report until the child closes the pipe; 1 when timeout_s (from
 * start) passed first. */
static int read_report(int fd, const struct timespec *start, unsigned timeout_s,
                       struct trit_probe *out)
{
	char buf[4096];

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long left = timeout_s ? (long)timeout_s * 1000 - elapsed_ms(start) : -1;
		int r;
		ssize_t n;

		if (timeout_s && left <= 0)
			return 1;
		r = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return 1;
		if (r < 0 || (n = read(fd, buf, sizeof buf)) == 0)
			return 0;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return 0;
		}
		size_t keep = sizeof out->report - 1 - out->len;
		keep = (size_t)n < keep ? (size_t)n : keep;
		memcpy(out->report + out->len, buf, keep);
		out->len += keep;
	}
}

/* Reap the child; one that closed the pipe but lives on is killed when
 * timeout_s (from start) has passed. 1 when it had to be. */
static int reap(pid_t pid, const struct timespec *start, unsigned timeout_s, int *st)
{
	const struct timespec tick = { 0, 10 * 1000000L };
	pid_t r;

	while ((r = waitpid(pid, st, timeout_s ? WNOHANG : 0)) == 0 || (r < 0 && errno == EINTR)) {
		if (r == 0 && elapsed_ms(start) >= (long)timeout_s * 1000) {
			kill(pid, SIGKILL);
			while (waitpid(pid, st, 0) < 0 && errno == EINTR)
				;
			return 1;
		}
		if (r == 0)
			nanosleep(&tick, NULL);
	}
	return 0;
}

void trit_probe_run(void (*work)(void *arg, int fd), void *arg, unsigned timeout_s,
                    struct trit_probe *out)
{
	struct timespec start;
	int fds[2], st = 0, timed_out;
	pid_t pid;

	memset(out, 0, sizeof *out);
	out->end = TRIT_PROBE_FAILED;
	if (pipe2(fds, O_CLOEXEC) != 0) {
		out->code = errno;
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	if ((pid = fork()) < 0) {
		out->code = errno;
		close(fds[0]);
		close(fds[1]);
		return;
	}
	if (pid == 0)
		child(fds, work, arg);
	close(fds[1]);
	timed_out = read_report(fds[0], &start, timeout_s, out);
	close(fds[0]);
	out->report[out->len] = '\0';
	if (timed_out)
		kill(pid, SIGKILL);
	timed_out |= reap(pid, &start, timed_out ? 0 : timeout_s, &st);
	if (timed_out) {
		out->end = TRIT_PROBE_TIMEOUT;
	} else if (WIFSIGNALED(st)) {
		out->end = TRIT_PROBE_SIGNALED;
		out->sig = WTERMSIG(st);
	} else if (WIFEXITED(st) && WEXITSTATUS(st) != 0) {
		out->end = TRIT_PROBE_EXITED;
		out->code = WEXITSTATUS(st);
	} else {
		out->end = TRIT_PROBE_RETURNED;
	}
}
