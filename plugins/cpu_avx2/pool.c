/*
 * pool.c - the persistent worker threads that run a matmul's parts. Starting
 * threads per call would cost more than a whole GEMV (tens of microseconds
 * each), so threads are started on first need and kept until shutdown.
 *
 * A run bumps a generation counter; idle workers spin on it for a short while
 * (back-to-back matmuls of a forward pass then start without a wake-up) and
 * sleep on a condition variable after that. The caller runs part 0 itself and
 * waits for the others the same way. Runs are serialised by a mutex, so the
 * plugin may be called from several threads. What the parts compute is the
 * caller's business (matmul.c).
 */
#include <build-config.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "kernels.h"

/* How long an idle thread polls before sleeping. */
#define SPIN_NS 50000

struct worker {
	struct cpu_avx2_workers *pool;
	unsigned index;  /* 1..: part `index` of a run is this thread's */
	uint64_t seen;   /* the generation when it was started */
	pthread_t tid;
};

struct cpu_avx2_workers {
	pthread_mutex_t run_mu;   /* one run at a time */
	pthread_mutex_t mu;       /* guards sleeping and waking */
	pthread_cond_t work, done;
	atomic_uint_fast64_t gen; /* bumped per run, after the job is written */
	atomic_uint pending;      /* workers still to finish the current run */
	atomic_int stop;
	cpu_avx2_job_fn fn;       /* the current job; read after gen (acquire) */
	void *arg;
	unsigned nparts;
	struct worker workers[CPU_AVX2_MAX_THREADS - 1]; /* never move: threads hold them */
	unsigned started;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

/* Poll for at most SPIN_NS until a new run (or stop) is posted; 1 if one was. */
static int spin_while_gen(struct cpu_avx2_workers *p, uint64_t seen)
{
	uint64_t t0 = now_ns();
	for (unsigned i = 1;; i++) {
		if (atomic_load_explicit(&p->gen, memory_order_acquire) != seen ||
		    atomic_load_explicit(&p->stop, memory_order_acquire))
			return 1;
		cpu_relax();
		if (i % 64 == 0 && now_ns() - t0 > SPIN_NS)
			return 0;
	}
}

/* Poll for at most SPIN_NS until every worker is done; 1 if they are. */
static int spin_while_pending(struct cpu_avx2_workers *p)
{
	uint64_t t0 = now_ns();
	for (unsigned i = 1;; i++) {
		if (atomic_load_explicit(&p->pending, memory_order_acquire) == 0)
			return 1;
		cpu_relax();
		if (i % 64 == 0 && now_ns() - t0 > SPIN_NS)
			return 0;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct cpu_avx2_workers *p = w->pool;
	uint64_t seen = w->seen;

	for (;;) {
		if (!spin_while_gen(p, seen)) {
			pthread_mutex_lock(&p->mu);
			while (atomic_load_explicit(&p->gen, memory_order_acquire) == seen &&
			       !atomic_load_explicit(&p->stop, memory_order_acquire))
				pthread_cond_wait(&p->work, &p->mu);
			pthread_mutex_unlock(&p->mu);
		}
		if (atomic_load_explicit(&p->stop, memory_order_acquire))
			return NULL;
		seen = atomic_load_explicit(&p->gen, memory_order_acquire);
		if (w->index < p->nparts)
			p->fn(p->arg, w->index, p->nparts);
		if (atomic_fetch_sub_explicit(&p->pending, 1, memory_order_acq_rel) == 1) {
			pthread_mutex_lock(&p->mu);
			pthread_cond_signal(&p->done);
			pthread_mutex_unlock(&p->mu);
		}
	}
}

struct cpu_avx2_workers *cpu_avx2_workers_new(void)
{
	struct cpu_avx2_workers *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	pthread_mutex_init(&p->run_mu, NULL);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	atomic_init(&p->gen, 0);
	atomic_init(&p->pending, 0);
	atomic_init(&p->stop, 0);
	return p;
}

/* Start threads until `want` run or one fails to start. Called with run_mu
 * held and no run in progress, so gen is stable. */
static void grow(struct cpu_avx2_workers *p, unsigned want)
{
	while (p->started < want) {
		struct worker *w = &p->workers[p->started];
		w->pool = p;
		w->index = p->started + 1;
		w->seen = atomic_load_explicit(&p->gen, memory_order_relaxed);
		if (pthread_create(&w->tid, NULL, worker_main, w) != 0)
			return;
		p->started++;
	}
}

unsigned cpu_avx2_workers_run(struct cpu_avx2_workers **pool, unsigned n, cpu_avx2_job_fn fn,
                              void *arg)
{
	struct cpu_avx2_workers *p;

	if (n <= 1 || (!*pool && !(*pool = cpu_avx2_workers_new()))) {
		fn(arg, 0, 1);
		return 1;
	}
	p = *pool;
	pthread_mutex_lock(&p->run_mu);
	if (n > CPU_AVX2_MAX_THREADS)
		n = CPU_AVX2_MAX_THREADS;
	grow(p, n - 1);
	if (n > p->started + 1)
		n = p->started + 1;
	if (n <= 1) {
		pthread_mutex_unlock(&p->run_mu);
		fn(arg, 0, 1);
		return 1;
	}

	pthread_mutex_lock(&p->mu);
	p->fn = fn;
	p->arg = arg;
	p->nparts = n;
	atomic_store_explicit(&p->pending, p->started, memory_order_relaxed);
	atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);

	fn(arg, 0, n);

	if (!spin_while_pending(p)) {
		pthread_mutex_lock(&p->mu);
		while (atomic_load_explicit(&p->pending, memory_order_acquire) != 0)
			pthread_cond_wait(&p->done, &p->mu);
		pthread_mutex_unlock(&p->mu);
	}
	pthread_mutex_unlock(&p->run_mu);
	return n;
}

unsigned cpu_avx2_workers_started(const struct cpu_avx2_workers *pool)
{
	return pool ? pool->started : 0;
}

void cpu_avx2_workers_free(struct cpu_avx2_workers *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	atomic_store_explicit(&p->stop, 1, memory_order_release);
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->started; i++)
		pthread_join(p->workers[i].tid, NULL);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	pthread_mutex_destroy(&p->mu);
	pthread_mutex_destroy(&p->run_mu);
	free(p);
}
