/*
 * plugin_guard.h - name the plugin whose code is running when that code
 * crashes, calls exit() or does not return (internal).
 *
 * The registry wraps each call into a plugin's code while it loads one
 * (dlopen, which runs the plugin's constructors; the entry point; init; the
 * device enumeration; shutdown; dlclose) in trit_guard_enter/leave. During
 * such a call, and only then:
 *   - a fatal signal (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS) first
 *     writes "trit: plugin P crashed with SIGSEGV during init" to stderr with
 *     write(2), then goes on to the handler that was there before (the
 *     default action kills the process with that signal, as without trit);
 *   - exit() writes "trit: plugin P called exit() during init" and ends the
 *     process with status TRIT_GUARD_EXIT_STATUS instead of the plugin's;
 *   - a watchdog thread warns through trit_log() when the call has not
 *     returned after `warn_after_s` seconds. It never stops the plugin.
 * Outside guarded calls trit leaves signal handling as the program set it.
 * The guard knows nothing about plugins beyond the label it is given.
 */
#ifndef TRIT_PLUGIN_GUARD_H
#define TRIT_PLUGIN_GUARD_H

#include <pthread.h>

/* The exit status when a plugin calls exit() during a guarded call:
 * EX_SOFTWARE of <sysexits.h>, distinct from every status the CLI uses. */
#define TRIT_GUARD_EXIT_STATUS 70

/* One guarded call, on the stack of the thread that makes it. Guards nest
 * (a guarded call may make another); each thread has its own innermost one. */
struct trit_guard {
	char label[1024];        /* "plugin P" as written in messages; bounded copy */
	char phase[48];          /* "init", "dlopen", ... */
	struct trit_guard *outer;
	unsigned warn_after_s;
	/* the watchdog thread, when one runs */
	int watching;
	int done;                /* under mu: the call has returned */
	pthread_t watchdog;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

/* Start a guarded call of `phase` into plugin `plugin` (its file, or its
 * name when it has none). warn_after_s = 0: no watchdog. */
void trit_guard_enter(struct trit_guard *g, const char *plugin, const char *phase,
                      unsigned warn_after_s);

/* End the call that trit_guard_enter(g, ...) started (the innermost one). */
void trit_guard_leave(struct trit_guard *g);

/* "SIGSEGV" for each signal the guard reports, NULL for any other. */
const char *trit_guard_signal_name(int sig);

#endif
