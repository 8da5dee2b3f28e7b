/*
 * pool.c - the persistent worker threads that run the parts of a matmul and
 * of every parallel graph op (graph.c hands the shared ops the same pool).
 * Starting threads per call would cost more than a whole GEMV (tens of
 * microseconds each), so threads are started on first need and kept until
 * shutdown.
 *
 * A decode step is a few hundred short parallel runs (each 20-200 us) with
 * gaps of 1-100 us of single-threaded work between them, and 1-2 ms between
 * tokens. A worker that sleeps in one of those gaps costs a futex wake-up,
 * often a context switch, and the run waits for it; so idle workers poll
 * (with `pause`) for a spin budget before they park on a condition variable,
 * and the caller waits for the other parts the same way. The budget
 * ([plugin.cpu_avx2] spin_us, default CPU_AVX2_SPIN_US) is sized to cover
 * the gaps of a forward pass and the one between tokens, so workers stay hot
 * for a whole generation; once no run arrives within it they park, so an
 * idle process uses no CPU. After the first YIELD_AFTER_NS of polling (from
 * the start when the pool has more threads than the process may run on),
 * pollers call sched_yield() between polls, so that on a busy machine they
 * do not keep the thread they wait for, or anyone else, off a CPU: pure
 * spinning there ran decode 5x slower than parking at once.
 *
 * A run posts one 64-bit ticket (generation << 16 | parts) with a release
 * store after the job; a worker whose index is below the parts runs its part
 * and counts down `pending`, the others only note the generation. Waking
 * and parking follow Dekker's pattern on seq_cst atomics (the poster stores
 * the ticket then reads `sleepers`; a parker counts itself in `sleepers`
 * then re-reads the ticket under the mutex), so a wake-up is never lost and
 * a run whose workers are all hot makes no system call.
 *
 * With pinning on (the default) and at least as many CPUs in the process's
 * affinity mask as threads, worker i is started bound to the i-th CPU of the
 * mask in an order that puts one CPU of every physical core before SMT
 * siblings; the first is left to the caller, which stays unbound. A caller
 * found on the CPU of a bound worker of its run (the kernel had put it
 * there while it worked alone) would share that CPU with the worker until
 * the kernel moves it, which measured 2x slower matmuls over the first
 * milliseconds of a run of them; so for that run it is confined to the CPUs
 * no worker holds, and gets its own mask back after. Runs are
 * serialised by a mutex, so the plugin may be called from several threads.
 * What the parts compute is the caller's business (matmul.c, the shared ops).
 */
#include <build-config.h>

#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels.h"

#define PARTS_BITS 16u
#define PARTS_MASK ((UINT64_C(1) << PARTS_BITS) - 1)
#define LINE 64
/* Poll with `pause` alone this long (most gaps of a forward pass are
 * shorter), then yield between polls. */
#define YIELD_AFTER_NS 10000u

struct worker {
	struct cpu_avx2_workers *pool;
	unsigned index;  /* 1..: part `index` of a run is this thread's */
	uint64_t seen;   /* the ticket when it was started */
	int cpu;         /* the CPU it was started bound to, -1 unbound */
	pthread_t tid;
};

struct cpu_avx2_workers {
	/* written once per run by the caller, read by the workers */
	alignas(LINE) atomic_uint_fast64_t ticket; /* generation << 16 | parts */
	cpu_avx2_job_fn fn;       /* the current job; read after ticket (acquire) */
	void *arg;
	/* counted down by the workers of a run */
	alignas(LINE) atomic_uint pending;
	atomic_int caller_parked; /* the caller sleeps on `done` */
	/* parking */
	alignas(LINE) atomic_uint sleepers; /* workers on their way to, or in, `work` */
	atomic_int stop;
	pthread_mutex_t run_mu;   /* one run at a time */
	pthread_mutex_t mu;       /* guards sleeping and waking */
	pthread_cond_t work, done;
	atomic_uint_fast64_t spin_ns; /* poll this long before parking */
	atomic_int yield;         /* more threads than CPUs: sched_yield while polling */
	int pin;                  /* bind workers to CPUs when there are enough */
	unsigned started;
	unsigned n_cpus;          /* CPUs of the affinity mask when the pool was set up */
	int *cpus;                /* those CPUs, one per physical core first */
	cpu_set_t unbound;        /* the mask's CPUs no bound worker holds */
	int any_bound;            /* a worker is bound to a CPU */
	struct worker workers[CPU_AVX2_MAX_THREADS - 1]; /* never move: threads hold them */
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

/* Between batches of polls: 1 when the budget is spent. After the first
 * YIELD_AFTER_NS, or from the start when threads outnumber CPUs, give the
 * CPU to any other runnable thread: on a busy machine the thread we wait
 * for may be queued behind us (a sched_yield with nobody waiting returns at
 * once). */
static int poll_over(const struct cpu_avx2_workers *p, uint64_t t0)
{
	uint64_t t = now_ns() - t0;
	if (t >= atomic_load_explicit(&p->spin_ns, memory_order_relaxed))
		return 1;
	if (t >= YIELD_AFTER_NS || atomic_load_explicit(&p->yield, memory_order_relaxed))
		sched_yield();
	return 0;
}

/* Poll for at most spin_ns until a new run (or stop) is posted; 1 if one was. */
static int spin_while_ticket(struct cpu_avx2_workers *p, uint64_t seen)
{
	uint64_t t0 = now_ns();
	for (unsigned i = 1;; i++) {
		if (atomic_load_explicit(&p->ticket, memory_order_acquire) != seen ||
		    atomic_load_explicit(&p->stop, memory_order_relaxed))
			return 1;
		cpu_relax();
		if (i % 64 == 0 && poll_over(p, t0))
			return 0;
	}
}

/* Poll for at most spin_ns until every worker of the run is done; 1 if they are. */
static int spin_while_pending(struct cpu_avx2_workers *p)
{
	uint64_t t0 = now_ns();
	for (unsigned i = 1;; i++) {
		if (atomic_load_explicit(&p->pending, memory_order_acquire) == 0)
			return 1;
		cpu_relax();
		if (i % 64 == 0 && poll_over(p, t0))
			return 0;
	}
}

/* Sleep until the ticket is no longer `seen` or the pool stops. */
static void park(struct cpu_avx2_workers *p, uint64_t seen)
{
	atomic_fetch_add(&p->sleepers, 1); /* seq_cst: see the header */
	pthread_mutex_lock(&p->mu);
	while (atomic_load(&p->ticket) == seen && !atomic_load(&p->stop))
		pthread_cond_wait(&p->work, &p->mu);
	pthread_mutex_unlock(&p->mu);
	atomic_fetch_sub_explicit(&p->sleepers, 1, memory_order_relaxed);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct cpu_avx2_workers *p = w->pool;
	uint64_t seen = w->seen;

	for (;;) {
		uint64_t t;
		if (!spin_while_ticket(p, seen))
			park(p, seen);
		if (atomic_load_explicit(&p->stop, memory_order_acquire))
			return NULL;
		t = atomic_load_explicit(&p->ticket, memory_order_acquire);
		seen = t;
		if (w->index >= (t & PARTS_MASK))
			continue; /* not in this run: nobody waits for us */
		p->fn(p->arg, w->index, (unsigned)(t & PARTS_MASK));
		if (atomic_fetch_sub(&p->pending, 1) == 1 && atomic_load(&p->caller_parked)) {
			pthread_mutex_lock(&p->mu);
			pthread_cond_signal(&p->done);
			pthread_mutex_unlock(&p->mu);
		}
	}
}

/* The lowest CPU listed in a sysfs cpulist such as "3,7" or "2-3"; -1 if none. */
static int first_sibling(int cpu)
{
	char path[96];
	int first = -1;
	FILE *f;

	snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/topology/thread_siblings_list",
	         cpu);
	if (!(f = fopen(path, "r")))
		return -1;
	if (fscanf(f, "%d", &first) != 1 || first < 0)
		first = -1;
	fclose(f);
	return first;
}

/* The CPUs of the affinity mask, a CPU per physical core first (each core's
 * lowest-numbered sibling), then the other siblings; in p->cpus. */
static void list_cpus(struct cpu_avx2_workers *p)
{
	cpu_set_t set;
	unsigned n = 0;

	p->n_cpus = 0;
	CPU_ZERO(&p->unbound);
	if (sched_getaffinity(0, sizeof set, &set) != 0 || CPU_COUNT(&set) <= 0)
		return;
	p->unbound = set;
	if (!(p->cpus = malloc((size_t)CPU_COUNT(&set) * sizeof *p->cpus)))
		return;
	for (int pass = 0; pass < 2; pass++)
		for (int c = 0; c < CPU_SETSIZE && n < (unsigned)CPU_COUNT(&set); c++) {
			int first;
			if (!CPU_ISSET(c, &set))
				continue;
			first = first_sibling(c);
			if ((pass == 0) == (first < 0 || first == c))
				p->cpus[n++] = c;
		}
	p->n_cpus = n;
}

struct cpu_avx2_workers *cpu_avx2_workers_new(void)
{
	struct cpu_avx2_workers *p = aligned_alloc(LINE, (sizeof *p + LINE - 1) / LINE * LINE);
	if (!p)
		return NULL;
	memset(p, 0, sizeof *p);
	pthread_mutex_init(&p->run_mu, NULL);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	atomic_init(&p->ticket, 0);
	atomic_init(&p->pending, 0);
	atomic_init(&p->caller_parked, 0);
	atomic_init(&p->sleepers, 0);
	atomic_init(&p->stop, 0);
	atomic_init(&p->spin_ns, (uint64_t)CPU_AVX2_SPIN_US * 1000u);
	atomic_init(&p->yield, 0);
	p->pin = 1;
	list_cpus(p);
	return p;
}

void cpu_avx2_workers_set(struct cpu_avx2_workers *p, unsigned spin_us, int pin)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->run_mu);
	atomic_store_explicit(&p->spin_ns, (uint64_t)spin_us * 1000u, memory_order_relaxed);
	p->pin = pin;
	pthread_mutex_unlock(&p->run_mu);
}

/* Start threads until `want` run or one fails to start. Called with run_mu
 * held and no run in progress, so the ticket is stable. Workers are bound
 * to CPUs only while every thread of the pool (callers included) has one. */
static void grow(struct cpu_avx2_workers *p, unsigned want)
{
	int bind = p->pin && p->cpus && want + 1 <= p->n_cpus;

	if (p->started >= want)
		return;
	while (p->started < want) {
		struct worker *w = &p->workers[p->started];
		pthread_attr_t attr, *a = NULL;
		cpu_set_t one;
		int rc;

		w->pool = p;
		w->index = p->started + 1;
		w->seen = atomic_load_explicit(&p->ticket, memory_order_relaxed);
		w->cpu = -1;
		if (bind && pthread_attr_init(&attr) == 0) {
			a = &attr;
			CPU_ZERO(&one);
			CPU_SET(p->cpus[w->index], &one);
			if (pthread_attr_setaffinity_np(&attr, sizeof one, &one) == 0)
				w->cpu = p->cpus[w->index];
		}
		rc = pthread_create(&w->tid, a, worker_main, w);
		if (rc != 0 && w->cpu >= 0) { /* the CPU may have gone: start it unbound */
			w->cpu = -1;
			rc = pthread_create(&w->tid, NULL, worker_main, w);
		}
		if (a)
			pthread_attr_destroy(a);
		if (rc != 0)
			break;
		if (w->cpu >= 0) {
			CPU_CLR(w->cpu, &p->unbound);
			p->any_bound = 1;
		}
		p->started++;
	}
	/* more threads than CPUs: polling must not keep a runnable thread off
	 * its CPU */
	atomic_store_explicit(&p->yield, p->n_cpus && p->started + 1 > p->n_cpus,
	                      memory_order_relaxed);
}

/* If the calling thread is on the CPU of a bound worker among the first
 * n - 1, confine it to the CPUs no worker holds (those its own mask allows)
 * and return 1 with its mask in *saved; else 0. sched_getcpu is a vDSO
 * read, so a caller already elsewhere pays no system call. */
static int caller_off_workers(const struct cpu_avx2_workers *p, unsigned n, cpu_set_t *saved)
{
	int cpu, hit = 0;
	cpu_set_t to;

	if (!p->any_bound || (cpu = sched_getcpu()) < 0)
		return 0;
	for (unsigned i = 0; i + 1 < n; i++)
		hit |= p->workers[i].cpu == cpu;
	if (!hit || pthread_getaffinity_np(pthread_self(), sizeof *saved, saved) != 0)
		return 0;
	CPU_AND(&to, saved, &p->unbound);
	return CPU_COUNT(&to) > 0 && pthread_setaffinity_np(pthread_self(), sizeof to, &to) == 0;
}

unsigned cpu_avx2_workers_run(struct cpu_avx2_workers **pool, unsigned n, cpu_avx2_job_fn fn,
                              void *arg)
{
	cpu_set_t saved;
	int moved;
	struct cpu_avx2_workers *p;
	uint64_t gen;

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

	p->fn = fn;
	p->arg = arg;
	atomic_store_explicit(&p->pending, n - 1, memory_order_relaxed);
	gen = (atomic_load_explicit(&p->ticket, memory_order_relaxed) >> PARTS_BITS) + 1;
	atomic_store(&p->ticket, gen << PARTS_BITS | n); /* seq_cst: see the header */
	if (atomic_load(&p->sleepers)) {
		pthread_mutex_lock(&p->mu);
		pthread_cond_broadcast(&p->work);
		pthread_mutex_unlock(&p->mu);
	}

	moved = caller_off_workers(p, n, &saved);
	fn(arg, 0, n);

	if (!spin_while_pending(p)) {
		atomic_store(&p->caller_parked, 1);
		if (atomic_load(&p->pending) != 0) {
			pthread_mutex_lock(&p->mu);
			while (atomic_load_explicit(&p->pending, memory_order_acquire) != 0)
				pthread_cond_wait(&p->done, &p->mu);
			pthread_mutex_unlock(&p->mu);
		}
		atomic_store_explicit(&p->caller_parked, 0, memory_order_relaxed);
	}
	if (moved)
		pthread_setaffinity_np(pthread_self(), sizeof saved, &saved);
	pthread_mutex_unlock(&p->run_mu);
	return n;
}

unsigned cpu_avx2_workers_started(const struct cpu_avx2_workers *pool)
{
	return pool ? pool->started : 0;
}

int cpu_avx2_workers_bound_cpu(const struct cpu_avx2_workers *pool, unsigned i)
{
	cpu_set_t set;
	int only = -1;

	if (!pool || i >= pool->started ||
	    pthread_getaffinity_np(pool->workers[i].tid, sizeof set, &set) != 0 ||
	    CPU_COUNT(&set) != 1)
		return -1;
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			only = c;
	return only;
}

void cpu_avx2_workers_free(struct cpu_avx2_workers *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	atomic_store(&p->stop, 1);
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->started; i++)
		pthread_join(p->workers[i].tid, NULL);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	pthread_mutex_destroy(&p->mu);
	pthread_mutex_destroy(&p->run_mu);
	free(p->cpus);
	free(p);
}
