/*
 * threadpool.c - a persistent team of worker threads for the CPU kernels.
 * Workers start the first time a run needs them and then sleep on a
 * condition variable between runs, so a matmul pays a wake-up, not a
 * pthread_create. How the work is split is the caller's business: fn(arg, i,
 * n) is told its index and the team size and picks its share.
 */
#include <build-config.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_common.h"

struct member {
	struct cpu_common_team *team;
	unsigned index;       /* 1.. ; the caller of run is 0 */
	uint64_t seen;        /* the last generation this worker ran or skipped */
	pthread_t tid;
};

struct cpu_common_team {
	pthread_mutex_t run_mu;   /* one run at a time */
	pthread_mutex_t mu;       /* guards everything below */
	pthread_cond_t work_cv, done_cv;
	struct member **members;
	unsigned n_members;
	uint64_t gen;             /* bumped for every run that uses workers */
	unsigned n;               /* team size of the current run */
	void (*fn)(void *arg, unsigned i, unsigned n);
	void *arg;
	unsigned pending;         /* workers of this run still busy */
	int stop;
};

static void *member_main(void *p)
{
	struct member *m = p;
	struct cpu_common_team *t = m->team;

	pthread_mutex_lock(&t->mu);
	for (;;) {
		while (!t->stop && t->gen == m->seen)
			pthread_cond_wait(&t->work_cv, &t->mu);
		if (t->stop)
			break;
		m->seen = t->gen;
		if (m->index < t->n) {
			void (*fn)(void *, unsigned, unsigned) = t->fn;
			void *arg = t->arg;
			unsigned n = t->n;
			pthread_mutex_unlock(&t->mu);
			fn(arg, m->index, n);
			pthread_mutex_lock(&t->mu);
			if (--t->pending == 0)
				pthread_cond_signal(&t->done_cv);
		}
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

int cpu_common_team_create(struct cpu_common_team **team, char *why, size_t whylen)
{
	struct cpu_common_team *t = calloc(1, sizeof *t);

	*team = NULL;
	if (!t)
		return cpu_common_errf(why, whylen, TRIT_ENOMEM, "out of memory for a thread team");
	pthread_mutex_init(&t->run_mu, NULL);
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->work_cv, NULL);
	pthread_cond_init(&t->done_cv, NULL);
	*team = t;
	return 0;
}

/* Start workers until there are `want` (or one fails to start). Called with
 * run_mu held and no run in progress. */
static void grow(struct cpu_common_team *t, unsigned want)
{
	if (want > t->n_members) {
		struct member **grown = realloc(t->members, want * sizeof *grown);
		if (!grown)
			return;
		t->members = grown;
	}
	while (t->n_members < want) {
		struct member *m = calloc(1, sizeof *m);
		if (!m)
			return;
		m->team = t;
		m->index = t->n_members + 1;
		m->seen = t->gen; /* before the thread runs: it must not miss the next run */
		if (pthread_create(&m->tid, NULL, member_main, m) != 0) {
			free(m);
			return;
		}
		t->members[t->n_members++] = m;
	}
}

unsigned cpu_common_team_run(struct cpu_common_team *t, unsigned n,
                             void (*fn)(void *arg, unsigned i, unsigned n), void *arg)
{
	if (n <= 1) {
		fn(arg, 0, 1);
		return 1;
	}
	pthread_mutex_lock(&t->run_mu);
	grow(t, n - 1);
	if (n > t->n_members + 1)
		n = t->n_members + 1;
	if (n == 1) {
		pthread_mutex_unlock(&t->run_mu);
		fn(arg, 0, 1);
		return 1;
	}
	pthread_mutex_lock(&t->mu);
	t->fn = fn;
	t->arg = arg;
	t->n = n;
	t->pending = n - 1;
	t->gen++;
	pthread_cond_broadcast(&t->work_cv);
	pthread_mutex_unlock(&t->mu);

	fn(arg, 0, n);

	pthread_mutex_lock(&t->mu);
	while (t->pending)
		pthread_cond_wait(&t->done_cv, &t->mu);
	t->fn = NULL;
	t->arg = NULL;
	pthread_mutex_unlock(&t->mu);
	pthread_mutex_unlock(&t->run_mu);
	return n;
}

unsigned cpu_common_team_size(struct cpu_common_team *t)
{
	unsigned n;
	pthread_mutex_lock(&t->run_mu);
	n = t->n_members + 1;
	pthread_mutex_unlock(&t->run_mu);
	return n;
}

void cpu_common_team_destroy(struct cpu_common_team *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->mu);
	t->stop = 1;
	pthread_cond_broadcast(&t->work_cv);
	pthread_mutex_unlock(&t->mu);
	for (unsigned i = 0; i < t->n_members; i++) {
		pthread_join(t->members[i]->tid, NULL);
		free(t->members[i]);
	}
	free(t->members);
	pthread_cond_destroy(&t->done_cv);
	pthread_cond_destroy(&t->work_cv);
	pthread_mutex_destroy(&t->mu);
	pthread_mutex_destroy(&t->run_mu);
	free(t);
}
