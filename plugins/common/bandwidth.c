/*
 * bandwidth.c - measure sustained memory read bandwidth: several threads each
 * sum their slice of a buffer larger than the caches, in plain C the compiler
 * vectorises. One pass writes every page first (so we read real memory, not
 * the shared zero page); the best of three timed read passes is the answer.
 * cpu_common_bandwidth_probe() chooses the buffer size and thread count from
 * a plugin's settings and its measured caches, threads and free memory.
 */
#include <build-config.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/utsname.h>

#include "cpu_common.h"

#define TIMED_PASSES 3

/* The sums end up here so the compiler cannot drop the reads. */
static volatile uint64_t cpu_common_bandwidth_sink;

struct start {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int go, abort;
};

struct worker {
	struct start *start;
	uint64_t *p;
	size_t n;
	int write;
	uint64_t sum;
	struct timespec t0, t1;
};

static uint64_t sum_slice(const uint64_t *p, size_t n)
{
	/* Four independent sums let the loop keep several loads in flight. */
	uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
	size_t i = 0;
	for (; i + 4 <= n; i += 4) {
		s0 += p[i];
		s1 += p[i + 1];
		s2 += p[i + 2];
		s3 += p[i + 3];
	}
	for (; i < n; i++)
		s0 += p[i];
	return s0 + s1 + s2 + s3;
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	int abort_run;

	pthread_mutex_lock(&w->start->mu);
	while (!w->start->go)
		pthread_cond_wait(&w->start->cv, &w->start->mu);
	abort_run = w->start->abort;
	pthread_mutex_unlock(&w->start->mu);
	if (abort_run)
		return NULL;

	clock_gettime(CLOCK_MONOTONIC, &w->t0);
	if (w->write) {
		for (size_t i = 0; i < w->n; i++)
			w->p[i] = i;
	} else {
		w->sum = sum_slice(w->p, w->n);
	}
	clock_gettime(CLOCK_MONOTONIC, &w->t1);
	return NULL;
}

static int64_t ns_between(const struct timespec *a, const struct timespec *b)
{
	return (int64_t)(b->tv_sec - a->tv_sec) * 1000000000 + (b->tv_nsec - a->tv_nsec);
}

/* Run one pass; *ns is the time from the first thread's start to the last
 * thread's end. */
static int run_pass(struct worker *w, pthread_t *tid, unsigned threads, int write,
                    int64_t *ns, char *why, size_t whylen)
{
	struct start start;
	unsigned made = 0;
	int rc = 0;

	pthread_mutex_init(&start.mu, NULL);
	pthread_cond_init(&start.cv, NULL);
	start.go = start.abort = 0;
	for (; made < threads; made++) {
		w[made].start = &start;
		w[made].write = write;
		int e = pthread_create(&tid[made], NULL, worker_run, &w[made]);
		if (e != 0) {
			cpu_common_errf(why, whylen, 0,
			                "could not start bandwidth thread %u of %u: %s", made + 1,
			                threads, strerror(e));
			rc = TRIT_EIO;
			break;
		}
	}
	pthread_mutex_lock(&start.mu);
	start.go = 1;
	start.abort = rc != 0;
	pthread_cond_broadcast(&start.cv);
	pthread_mutex_unlock(&start.mu);
	for (unsigned i = 0; i < made; i++)
		pthread_join(tid[i], NULL);
	pthread_cond_destroy(&start.cv);
	pthread_mutex_destroy(&start.mu);
	if (rc != 0)
		return rc;

	struct timespec first = w[0].t0, last = w[0].t1;
	for (unsigned i = 1; i < threads; i++) {
		if (ns_between(&w[i].t0, &first) > 0)
			first = w[i].t0;
		if (ns_between(&last, &w[i].t1) > 0)
			last = w[i].t1;
	}
	*ns = ns_between(&first, &last);
	return 0;
}

int cpu_common_bandwidth_measure(uint64_t bytes, unsigned threads, uint64_t *bytes_per_s,
                                 char *why, size_t whylen)
{
	uint64_t *buf = NULL;
	struct worker *w;
	pthread_t *tid;
	size_t elems, per;
	int64_t best = 0;
	int rc = 0;

	if (threads == 0)
		threads = 1;
	/* Whole 64-byte lines per thread. */
	elems = (size_t)(bytes / sizeof(uint64_t));
	per = elems / threads / 8 * 8;
	if (per == 0 || bytes > SIZE_MAX) {
		cpu_common_errf(why, whylen, 0, "a %llu-byte buffer cannot be split among %u threads",
		                (unsigned long long)bytes, threads);
		return TRIT_EINVAL;
	}
	w = calloc(threads, sizeof *w);
	tid = calloc(threads, sizeof *tid);
	if (!w || !tid || posix_memalign((void **)&buf, 4096, per * threads * sizeof *buf) != 0) {
		cpu_common_errf(why, whylen, 0,
		                "could not allocate a %llu-byte buffer for the bandwidth probe",
		                (unsigned long long)(per * threads * sizeof *buf));
		free(w);
		free(tid);
		return TRIT_ENOMEM;
	}
	for (unsigned i = 0; i < threads; i++) {
		w[i].p = buf + (size_t)i * per;
		w[i].n = per;
	}

	/* Each thread writes its own slice first: pages are then real, and on
	 * NUMA machines local to the thread that reads them. */
	rc = run_pass(w, tid, threads, 1, &best, why, whylen);
	best = 0;
	for (int pass = 0; rc == 0 && pass < TIMED_PASSES; pass++) {
		int64_t ns = 0;
		uint64_t sum = 0;
		rc = run_pass(w, tid, threads, 0, &ns, why, whylen);
		for (unsigned i = 0; rc == 0 && i < threads; i++)
			sum += w[i].sum;
		cpu_common_bandwidth_sink ^= sum;
		if (rc == 0 && ns > 0 && (best == 0 || ns < best))
			best = ns;
	}
	if (rc == 0 && best <= 0) {
		cpu_common_errf(why, whylen, 0, "the clock did not advance while reading the buffer");
		rc = TRIT_EIO;
	}
	if (rc == 0)
		*bytes_per_s =
		        (uint64_t)((double)(per * threads * sizeof *buf) * 1e9 / (double)best);
	free(buf);
	free(w);
	free(tid);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* The probe both CPU plugins run: size, threads, limits, and the reasons.   */

#define DEFAULT_MIN_BANDWIDTH_BYTES (UINT64_C(64) << 20)
#define NO_L3_BANDWIDTH_BYTES       (UINT64_C(256) << 20)

/* Human units for source strings: "128 MiB". Only exact multiples use the
 * larger unit, so nothing is rounded. */
static const char *bytes_text(uint64_t b, struct cpu_common_pool *pool)
{
	if (b && b % (UINT64_C(1) << 30) == 0)
		return cpu_common_pool_printf(pool, "%llu GiB", (unsigned long long)(b >> 30));
	if (b && b % (UINT64_C(1) << 20) == 0)
		return cpu_common_pool_printf(pool, "%llu MiB", (unsigned long long)(b >> 20));
	if (b && b % (UINT64_C(1) << 10) == 0)
		return cpu_common_pool_printf(pool, "%llu KiB", (unsigned long long)(b >> 10));
	return cpu_common_pool_printf(pool, "%llu bytes", (unsigned long long)b);
}

#define CACHE_KEY "cpu0.mem_bandwidth"

/* What a bandwidth result depends on, as the probe cache's stamp: 1 when
 * it fits (only printable bytes: the CPU name comes from the hardware). */
static int cache_stamp(const struct cpu_common_bandwidth_opts *o, uint64_t l3_total,
                       unsigned threads, uint64_t bytes, char *stamp, size_t len)
{
	struct utsname u;
	int n;

	if (!o->host || !TRIT_HOST_HAS(o->host, cache_put) || !o->host->cache_get ||
	    !o->host->cache_put || uname(&u))
		return 0;
	n = snprintf(stamp, len, "%s|l3=%llu|threads=%u|bytes=%llu|memtotal=%llu|kernel=%s %s",
	             o->machine ? o->machine : "?", (unsigned long long)l3_total, threads,
	             (unsigned long long)bytes, (unsigned long long)o->host_mem_total, u.release,
	             u.machine);
	if (n < 0 || (size_t)n >= len) {
		stamp[0] = '\0';
		return 0;
	}
	cpu_common_stamp_printable(stamp);
	return 1;
}

/* A cached result for stamp: 1 with *bps and *age. */
static int cache_get(const struct trit_host *host, const char *stamp, uint64_t *bps,
                     uint64_t *age)
{
	char value[32];

	return host->cache_get(host->ctx, CACHE_KEY, stamp, value, sizeof value, age) == 1 &&
	       cpu_common_parse_u64(value, bps) == 0 && *bps > 0;
}

struct trit_value cpu_common_bandwidth_probe(const struct cpu_common_bandwidth_opts *o,
                                             uint64_t l3_total, struct trit_value hw_threads,
                                             struct trit_value mem_free,
                                             struct cpu_common_pool *pool)
{
	uint64_t bytes, bps = 0, age = 0;
	unsigned threads = 1;
	const char *why_size, *what;
	char why[400], stamp[TRIT_HOST_CACHE_STAMP_MAX + 1] = "";

	if (!o->probe)
		return cpu_common_unknown(cpu_common_pool_printf(pool,
			"bandwidth probe disabled by %s bandwidth_probe = %s (%s)",
			o->section, o->probe_text, o->probe_where));
	if (o->bytes) {
		bytes = o->bytes;
		why_size = cpu_common_pool_printf(pool, "size set by bandwidth_bytes at %s",
		                                  o->bytes_where);
	} else if (l3_total) {
		uint64_t four = l3_total > UINT64_MAX / 4 ? UINT64_MAX : 4 * l3_total;
		bytes = four > DEFAULT_MIN_BANDWIDTH_BYTES ? four : DEFAULT_MIN_BANDWIDTH_BYTES;
		why_size = four >= DEFAULT_MIN_BANDWIDTH_BYTES
		                   ? cpu_common_pool_printf(pool, "4 x the %s of L3",
		                                            bytes_text(l3_total, pool))
		                   : cpu_common_pool_printf(
		                             pool, "at least 64 MiB; 4 x the %s of L3 is less",
		                             bytes_text(l3_total, pool));
	} else {
		bytes = NO_L3_BANDWIDTH_BYTES;
		why_size = "the L3 size is unknown, so a size well above any L3";
	}
	if (hw_threads.state != TRIT_VALUE_UNKNOWN && hw_threads.value)
		threads = hw_threads.value > 4096 ? 4096 : (unsigned)hw_threads.value;
	what = cpu_common_pool_printf(pool, "streaming read of %s by %u thread%s, best of 3 (%s)",
	                              bytes_text(bytes, pool), threads, threads == 1 ? "" : "s",
	                              why_size);
	if (cache_stamp(o, l3_total, threads, bytes, stamp, sizeof stamp) &&
	    cache_get(o->host, stamp, &bps, &age))
		return cpu_common_measured(bps, cpu_common_pool_printf(pool,
			"%s, measured %s ago (probe cache)", what, cpu_common_age_text(age, pool)));
	/* Do not push the process towards its memory limit to measure. */
	if (mem_free.state != TRIT_VALUE_UNKNOWN && bytes > mem_free.value / 2)
		return cpu_common_unknown(cpu_common_pool_printf(pool,
			"not measured: the %s buffer (%s) is more than half of the %llu bytes "
			"of free memory", bytes_text(bytes, pool), why_size,
			(unsigned long long)mem_free.value));
	if (cpu_common_bandwidth_measure(bytes, threads, &bps, why, sizeof why) != 0)
		return cpu_common_unknown(cpu_common_pool_printf(pool, "not measured: %s", why));
	if (stamp[0] && o->host && TRIT_HOST_HAS(o->host, cache_put) && o->host->cache_put) {
		char value[32];
		snprintf(value, sizeof value, "%llu", (unsigned long long)bps);
		o->host->cache_put(o->host->ctx, CACHE_KEY, stamp, value);
	}
	return cpu_common_measured(bps, what);
}
