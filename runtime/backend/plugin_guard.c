/*
 * plugin_guard.c - while the registry runs a plugin's code: name the plugin
 * on a fatal signal (then let the signal take its course), turn its exit()
 * into a failure naming it, and warn when it does not return. Contract and
 * messages in plugin_guard.h; which calls are guarded is registry.c's call.
 *
 * Signal handlers are installed when the first guarded call starts (in any
 * thread) and the previous ones put back when the last one ends, so a
 * program embedding libtrit keeps its own handlers the rest of the time.
 */
#include <build-config.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend/plugin_guard.h"
#include "core/common.h"
#include "core/log.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/* The innermost guarded call of this thread; read by the signal handler in
 * the thread that faults and by the exit hook in the thread calling exit(). */
static _Thread_local struct trit_guard *innermost;

static const struct {
	int sig;
	const char *name;
} fatal[] = {
	{ SIGSEGV, "SIGSEGV" }, { SIGBUS, "SIGBUS" }, { SIGILL, "SIGILL" },
	{ SIGFPE, "SIGFPE" }, { SIGABRT, "SIGABRT" }, { SIGSYS, "SIGSYS" },
};

/* The handlers before ours, and how many guarded calls run, in all threads. */
static struct sigaction previous[TRIT_ARRAY_LEN(fatal)];
static unsigned active_calls;
static pthread_mutex_t handlers_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t exit_hook_once = PTHREAD_ONCE_INIT;

/* All of s to stderr with write(2): async-signal-safe, no stdio. */
static void say(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

/* ------------------------------------------------------------------------ */
/* Fatal signals                                                             */

static void on_fatal_signal(int sig, siginfo_t *info, void *uctx)
{
	const struct trit_guard *g = innermost;
	int saved_errno = errno;
	size_t i = 0;

	(void)uctx;
	while (i + 1 < TRIT_ARRAY_LEN(fatal) && fatal[i].sig != sig)
		i++;
	if (g) {
		say("trit: plugin ");
		say(g->label);
		say(" crashed with ");
		say(fatal[i].name);
		say(" during ");
		say(g->phase);
		say("\n");
	}
	/* Hand the signal on: a fault happens again when the instruction is
	 * retried, now under the previous handler (the default one kills the
	 * process with this signal); a sent signal (kill, abort) is sent again. */
	sigaction(sig, &previous[i], NULL);
	if (info->si_code <= 0)
		raise(sig);
	errno = saved_errno;
}

static void install_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_fatal_signal;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < TRIT_ARRAY_LEN(fatal); i++)
		sigaction(fatal[i].sig, &sa, &previous[i]);
}

/* Put back the previous handlers, except where someone (a plugin, say) has
 * installed one of their own since ours. */
static void restore_handlers(void)
{
	struct sigaction cur;

	for (size_t i = 0; i < TRIT_ARRAY_LEN(fatal); i++)
		if (sigaction(fatal[i].sig, NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO) &&
		    cur.sa_sigaction == on_fatal_signal)
			sigaction(fatal[i].sig, &previous[i], NULL);
}

/* ------------------------------------------------------------------------ */
/* exit() from plugin code                                                   */

static void on_exit_during_plugin(void)
{
	const struct trit_guard *g = innermost;

	if (!g)
		return; /* the program's own exit() */
	say("trit: plugin ");
	say(g->label);
	say(" called exit() during ");
	say(g->phase);
	say("; trit stops with status " STR(TRIT_GUARD_EXIT_STATUS) "\n");
	_exit(TRIT_GUARD_EXIT_STATUS);
}

static void register_exit_hook(void)
{
	if (atexit(on_exit_during_plugin) != 0)
		trit_log(TRIT_LOG_DEBUG, "cannot register the exit hook that names a plugin "
		         "calling exit(); such an exit will not be reported");
}

/* ------------------------------------------------------------------------ */
/* Watchdog                                                                  */

static void *watch(void *arg)
{
	struct trit_guard *g = arg;
	struct timespec deadline;
	int timed_out = 0, done;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += g->warn_after_s;
	pthread_mutex_lock(&g->mu);
	while (!g->done && !timed_out)
		timed_out = pthread_cond_timedwait(&g->cv, &g->mu, &deadline) == ETIMEDOUT;
	done = g->done;
	pthread_mutex_unlock(&g->mu);
	if (!done)
		trit_log(TRIT_LOG_WARN, "plugin %s has not returned from %s after %u s; still "
		         "waiting for it (it may hang: remove it from the plugin path, or set "
		         "[runtime] plugin_watchdog to warn later)", g->label, g->phase,
		         g->warn_after_s);
	return NULL;
}

static void start_watchdog(struct trit_guard *g)
{
	pthread_condattr_t ca;
	sigset_t all, old;

	g->watching = 0;
	g->done = 0;
	if (!g->warn_after_s || pthread_condattr_init(&ca))
		return;
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (pthread_mutex_init(&g->mu, NULL)) {
		pthread_condattr_destroy(&ca);
		return;
	}
	if (pthread_cond_init(&g->cv, &ca)) {
		pthread_condattr_destroy(&ca);
		pthread_mutex_destroy(&g->mu);
		return;
	}
	pthread_condattr_destroy(&ca);
	/* The watchdog takes none of the program's signals. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	g->watching = pthread_create(&g->watchdog, NULL, watch, g) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!g->watching) {
		pthread_cond_destroy(&g->cv);
		pthread_mutex_destroy(&g->mu);
		trit_log(TRIT_LOG_DEBUG, "no watchdog thread for plugin %s: a hang will not be "
		         "reported", g->label);
	}
}

static void stop_watchdog(struct trit_guard *g)
{
	if (!g->watching)
		return;
	pthread_mutex_lock(&g->mu);
	g->done = 1;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
	pthread_join(g->watchdog, NULL);
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
	g->watching = 0;
}

/* ------------------------------------------------------------------------ */

void trit_guard_enter(struct trit_guard *g, const char *plugin, const char *phase,
                      unsigned warn_after_s)
{
	snprintf(g->label, sizeof g->label, "%s", plugin ? plugin : "(unnamed)");
	snprintf(g->phase, sizeof g->phase, "%s", phase);
	g->warn_after_s = warn_after_s;
	trit_log(TRIT_LOG_TRACE, "plugin %s: %s", g->label, g->phase);
	pthread_once(&exit_hook_once, register_exit_hook);
	pthread_mutex_lock(&handlers_mu);
	if (active_calls++ == 0)
		install_handlers();
	pthread_mutex_unlock(&handlers_mu);
	start_watchdog(g);
	g->outer = innermost;
	innermost = g;
}

void trit_guard_leave(struct trit_guard *g)
{
	innermost = g->outer;
	stop_watchdog(g);
	pthread_mutex_lock(&handlers_mu);
	if (--active_calls == 0)
		restore_handlers();
	pthread_mutex_unlock(&handlers_mu);
}

const char *trit_guard_signal_name(int sig)
{
	for (size_t i = 0; i < TRIT_ARRAY_LEN(fatal); i++)
		if (fatal[i].sig == sig)
			return fatal[i].name;
	return NULL;
}
