/*
 * plugin_probe.h - run a piece of work in a child process and tell how it
 * ended (internal): what the registry needs to load a plugin once in a
 * throwaway process before it lets the plugin into trit's own
 * ([runtime] isolate_plugins). The child writes a report into a pipe; a
 * crash, an exit() or a hang there costs the child only. What the work is
 * and what the report means are the caller's.
 */
#ifndef TRIT_PLUGIN_PROBE_H
#define TRIT_PLUGIN_PROBE_H

#include <stddef.h>

/* Most bytes of report kept; the child may write more, the rest is dropped. */
#define TRIT_PROBE_REPORT_MAX 16384

enum trit_probe_end {
	TRIT_PROBE_RETURNED, /* the work returned and the child exited 0 */
	TRIT_PROBE_EXITED,   /* the child exited with `code` before the work returned */
	TRIT_PROBE_SIGNALED, /* the child was killed by signal `sig` */
	TRIT_PROBE_TIMEOUT,  /* not done in time: the child was killed */
	TRIT_PROBE_FAILED    /* no child (pipe or fork failed): `code` is errno */
};

struct trit_probe {
	enum trit_probe_end end;
	int code, sig;
	char report[TRIT_PROBE_REPORT_MAX]; /* what the child wrote, NUL added */
	size_t len;
};

/*
 * Fork; in the child, with stdin, stdout and stderr on /dev/null, call
 * work(arg, fd) (fd: the pipe to write the report to), then _exit(0). Wait
 * at most timeout_s seconds for the child to end (0: no limit), killing it
 * with SIGKILL after that. The parent's state is not touched by the work.
 */
void trit_probe_run(void (*work)(void *arg, int fd), void *arg, unsigned timeout_s,
                    struct trit_probe *out);

/* Write all of buf to fd (the child's report); -1 when it cannot. */
int trit_probe_write(int fd, const void *buf, size_t len);

#endif
