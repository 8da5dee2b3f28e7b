/*
 * peak.c - the peak int8 throughput of one core on a kernel path, measured:
 * what `trit bench` compares a compute-bound (prefill) kernel's GOP/s with.
 * Not a constant from a data sheet: the path's own peak_loop (kern_avx2.c,
 * kern_avx512.c), independent accumulator chains of the instruction its I2_S
 * kernel multiplies int8 with, timed on the calling thread.
 *
 * The method: a warm-up of WARM_NS (the clock and, on some CPUs, the
 * AVX-512 frequency level settle) during which the iterations per run are
 * doubled until a run takes at least an eighth of SAMPLE_NS; the count is
 * then scaled by the fastest run at that count so that one sample takes
 * about SAMPLE_NS, and the best of SAMPLES timed samples counts. Everything
 * is timed with the thread's CPU time (CLOCK_THREAD_CPUTIME_ID), not the
 * wall clock: on a busy machine (a 2-vCPU VM with builds beside it) a 10 ms
 * sample is preempted more often than not, and the time the thread did not
 * run says nothing about the core. Ops are 2 per int8 product. About 70 ms
 * in all, once per machine: the figures are kept in the host's probe cache
 * like choose.c's, and nothing is measured without one.
 */
#include <build-config.h>

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "kernels.h"
#include "probe.h"

#define SAMPLES 5
#define SAMPLE_NS UINT64_C(10000000) /* 10 ms */
#define WARM_NS UINT64_C(10000000)
#define MAX_ITERS (UINT64_C(1) << 36)
#define MAX_NS UINT64_C(100000000000)  /* 100 s: a cached sample beyond is damaged */
#define MAX_OPS 1e14                    /* 100 TOP/s per core: beyond is damaged */
#define STAMP_VERSION "int8peak1"

typedef unsigned long long ull;

/* Keeps the loops' results, so that they are not optimised away. */
static volatile uint64_t peak_sink;

static uint64_t clock_ns(clockid_t id)
{
	struct timespec t;
	if (clock_gettime(id, &t) != 0)
		return 0;
	return (uint64_t)t.tv_sec * UINT64_C(1000000000) + (uint64_t)t.tv_nsec;
}

static uint64_t now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/* The calling thread's CPU time. */
static uint64_t cpu_ns(void)
{
	return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

static int real_measure(void *ctx, const struct cpu_avx2_kernels *k,
                        struct cpu_avx2_peak_run *run, char *why, size_t len)
{
	uint64_t t0 = now_ns(), c0 = cpu_ns(), iters = 256, dt, sink = 0, best = UINT64_MAX;

	(void)ctx;
	if (!c0)
		return cpu_avx2_errf(why, len, -1, "the thread's CPU-time clock "
		                     "(CLOCK_THREAD_CPUTIME_ID) cannot be read");
	/* warm-up and calibration: best is the fastest run at the final count */
	for (;;) {
		uint64_t s = cpu_ns();
		sink += k->peak_loop(iters);
		dt = cpu_ns() - s;
		if (dt < SAMPLE_NS / 8) {
			if (iters >= MAX_ITERS)
				return cpu_avx2_errf(why, len, -1, "%llu iterations of the peak loop took "
				                     "%llu ns: too fast for the clock", (ull)iters, (ull)dt);
			iters *= 2;
			best = UINT64_MAX;
			continue;
		}
		best = dt < best ? dt : best;
		if (cpu_ns() - c0 >= WARM_NS)
			break;
	}
	iters = iters * SAMPLE_NS / best;
	iters = iters ? iters : 1;
	best = UINT64_MAX;
	for (int i = 0; i < SAMPLES; i++) {
		uint64_t s = cpu_ns();
		sink += k->peak_loop(iters);
		dt = cpu_ns() - s;
		best = dt < best ? dt : best;
	}
	peak_sink = sink;
	run->iters = iters;
	run->best_ns = best ? best : 1;
	run->samples = SAMPLES;
	run->spent_ns = now_ns() - t0;
	return 0;
}

static int make_stamp(const struct cpu_avx2_peak_in *in, char *stamp, size_t len)
{
	const struct cpu_avx2_kernels *k = in->path;
	struct utsname u;
	int n;

	if (uname(&u))
		return -1;
	n = snprintf(stamp, len,
	             STAMP_VERSION "|%s|path=%s|loop=%s x%u, %u ops|samples=%d|sample_ns=%llu"
	             "|clock=thread-cpu|kernel=%s %s",
	             in->machine ? in->machine : "?", k->isa, k->peak_insn ? k->peak_insn : "?",
	             k->peak_chains, k->peak_ops_per_iter, SAMPLES, (ull)SAMPLE_NS, u.release,
	             u.machine);
	if (n < 0 || (size_t)n >= len)
		return -1;
	cpu_common_stamp_printable(stamp);
	return 0;
}

/* "iters=N best_ns=N samples=N spent_ns=N" */
static void format_value(const struct cpu_avx2_peak_run *r, char *buf, size_t len)
{
	snprintf(buf, len, "iters=%llu best_ns=%llu samples=%u spent_ns=%llu", (ull)r->iters,
	         (ull)r->best_ns, (unsigned)r->samples, (ull)r->spent_ns);
}

/* One "name=digits" field at *p, at most max; advances past it and one
 * space. 0, or -1 when it is not there or out of range. */
static int field(const char **p, const char *name, uint64_t max, uint64_t *out)
{
	size_t nlen = strlen(name);
	const char *d = *p + nlen + 1;
	uint64_t v = 0;

	if (strncmp(*p, name, nlen) || (*p)[nlen] != '=' || *d < '0' || *d > '9')
		return -1;
	for (; *d >= '0' && *d <= '9'; d++) {
		if (v > max)
			return -1;
		v = v * 10 + (uint64_t)(*d - '0');
	}
	if (v > max || (*d && *d != ' '))
		return -1;
	*out = v;
	*p = *d ? d + 1 : d;
	return 0;
}

/* A cached value; 0, or -1 when it is damaged. */
static int parse_value(const char *value, struct cpu_avx2_peak_run *r)
{
	const char *p = value;
	uint64_t samples;

	if (field(&p, "iters", MAX_ITERS * 16, &r->iters) || !r->iters ||
	    field(&p, "best_ns", MAX_NS, &r->best_ns) || !r->best_ns ||
	    field(&p, "samples", 1000, &samples) || !samples ||
	    field(&p, "spent_ns", MAX_NS, &r->spent_ns) || *p)
		return -1;
	r->samples = (uint32_t)samples;
	return 0;
}

/* Ops per second of a run on path k; < 0 when absurd. */
static double run_ops(const struct cpu_avx2_kernels *k, const struct cpu_avx2_peak_run *r)
{
	double ops = (double)r->iters * k->peak_ops_per_iter * 1e9 / (double)r->best_ns;
	return ops >= 1 && ops <= MAX_OPS ? ops : -1;
}

static const char *ms_text(uint64_t ns, struct cpu_avx2_pool *pool)
{
	return cpu_avx2_pool_printf(pool, "%.3g ms", (double)ns / 1e6);
}

static void not_measured(struct cpu_avx2_peak *out, const char *why, struct cpu_avx2_pool *pool)
{
	out->ops = cpu_avx2_unknown(cpu_avx2_pool_printf(pool, "not measured: %s", why));
}

void cpu_avx2_peak_get(const struct cpu_avx2_peak_in *in, struct cpu_avx2_peak *out,
                       struct cpu_avx2_pool *pool)
{
	const struct cpu_avx2_kernels *k = in->path;
	char stamp[TRIT_HOST_CACHE_STAMP_MAX + 1], value[200], why[300] = "";
	const char *key, *when;
	uint64_t age = 0;
	double ops = -1;

	memset(out, 0, sizeof *out);
	if (!k) {
		not_measured(out, in->why_none ? in->why_none : "no kernel path can run", pool);
		return;
	}
	if (!k->peak_loop || !k->peak_ops_per_iter || !k->peak_chains) {
		not_measured(out, cpu_avx2_pool_printf(pool, "the %s path has no peak loop", k->isa),
		             pool);
		return;
	}
	if (!cpu_avx2_has_cache(in->host)) {
		not_measured(out, "the host keeps no probe cache, so it would be measured at every "
		             "start", pool);
		return;
	}
	if (make_stamp(in, stamp, sizeof stamp) != 0) {
		not_measured(out, "the probe cache stamp does not fit", pool);
		return;
	}
	key = cpu_avx2_pool_printf(pool, "cpu0.int8_peak.%s", k->isa);
	if (in->host->cache_get(in->host->ctx, key, stamp, value, sizeof value, &age) == 1 &&
	    parse_value(value, &out->run) == 0 && (ops = run_ops(k, &out->run)) > 0) {
		out->from_cache = 1;
		when = cpu_avx2_pool_printf(pool, "kept in the probe cache (%s ago)",
		                            cpu_common_age_text(age, pool));
	} else if (!cpu_avx2_cache_keeps(in->host, stamp)) {
		not_measured(out, "the probe cache is off or keeps nothing, so it would be measured "
		             "at every start", pool);
		return;
	} else {
		int (*measure)(void *, const struct cpu_avx2_kernels *, struct cpu_avx2_peak_run *,
		               char *, size_t) = in->measure ? in->measure : real_measure;
		memset(&out->run, 0, sizeof out->run);
		if (measure(in->measure_ctx, k, &out->run, why, sizeof why) != 0) {
			memset(&out->run, 0, sizeof out->run);
			not_measured(out, why[0] ? why : "the measurement failed", pool);
			return;
		}
		if ((ops = run_ops(k, &out->run)) < 0 || out->run.iters > MAX_ITERS * 16 ||
		    out->run.best_ns > MAX_NS || !out->run.samples) {
			not_measured(out, cpu_avx2_pool_printf(pool, "the measurement gave an "
			             "impossible figure (%llu iterations of %u ops in %llu ns)",
			             (ull)out->run.iters, k->peak_ops_per_iter,
			             (ull)out->run.best_ns), pool);
			memset(&out->run, 0, sizeof out->run);
			return;
		}
		format_value(&out->run, value, sizeof value);
		in->host->cache_put(in->host->ctx, key, stamp, value);
		out->measured_now = 1;
		when = "measured now, kept in the probe cache";
	}
	out->ops = cpu_avx2_measured((uint64_t)(ops + 0.5), cpu_avx2_pool_printf(pool,
		"%s, %u independent chains (the %s path's I2_S int8 multiply; %u ops, 2 per int8 "
		"product, per chain and iteration), %llu iterations, best of %u samples (%s of the "
		"thread's CPU time), %s in all; per core (one thread); %s", k->peak_insn,
		k->peak_chains, k->isa, k->peak_ops_per_iter / k->peak_chains, (ull)out->run.iters,
		out->run.samples, ms_text(out->run.best_ns, pool), ms_text(out->run.spent_ns, pool),
		when));
}
