/*
 * choose.c - which kernel path runs each ternary kernel type (I2_S, TL1,
 * TL2) on a CPU with several (AVX-512 VNNI, AVX-512BW, AVX2): the one that
 * ran a representative BitNet-2B GEMV fastest here, not the widest. Wider
 * is not always faster (on an AMD EPYC the AVX-512 I2_S path ran at 0.65x
 * of the AVX2 one), so the paths are timed once per machine and the figures
 * kept in the host's probe cache (backend.h cache_get/cache_put) under a
 * stamp naming everything they depend on; a cache hit costs nothing.
 *
 * The measurement: for each kernel type and each of the shapes below, one
 * token (decode), the plugin's default threads, weights rotated over a
 * working set of 2 x L3 (between 32 and 256 MiB) so they come from memory
 * as in a real model, one untimed run then REPS timed runs of every path in
 * turn (so a drift in the machine's load affects all paths alike); the
 * figure of a path is the sum over the shapes of its median. Nothing here
 * depends on the weights' values: the buffer holds pseudo-random bytes.
 */
#include <build-config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <time.h>

#include "kernels.h"
#include "probe.h"

#define MIB (UINT64_C(1) << 20)
#define WS_CAP (256 * MIB)
#define WS_FLOOR (32 * MIB)
#define WS_NO_L3 (64 * MIB)
#define REPS 11
#define FILL_BLOCK (UINT64_C(1) << 20)
#define HUGE_ALIGN ((size_t)2 << 20)
#define STAMP_VERSION "kchoose1"
#define CHECK_KEY "cpu0.kernel.cache-check"
#define MAX_NS UINT64_C(1000000000000) /* 1000 s: a figure beyond is damaged */

typedef unsigned long long ull;

static const struct {
	uint64_t rows, cols;
} shapes[] = { { 2560, 6912 }, { 6912, 2560 } };
#define N_SHAPES (sizeof shapes / sizeof shapes[0])
#define SHAPES_TEXT "2560x6912 + 6912x2560"

const struct cpu_avx2_ktype cpu_avx2_ktypes[CPU_AVX2_NK] = {
	{ TRIT_TYPE_I2_S, "I2_S", "cpu0.kernel.i2_s", "kernel.isa.i2_s", "compute.int8_peak.i2_s" },
	{ TRIT_TYPE_TL1, "TL1", "cpu0.kernel.tl1", "kernel.isa.tl1", "compute.int8_peak.tl1" },
	{ TRIT_TYPE_TL2, "TL2", "cpu0.kernel.tl2", "kernel.isa.tl2", "compute.int8_peak.tl2" },
};

/* ------------------------------------------------------------------------ */
/* Paths and mixes                                                           */

unsigned cpu_avx2_kernel_paths(uint64_t caps,
                               const struct cpu_avx2_kernels *out[CPU_AVX2_MAX_PATHS])
{
	unsigned n = 0;

	if ((caps & CPU_AVX2_NEEDS_AVX2) != CPU_AVX2_NEEDS_AVX2)
		return 0;
#ifdef CPU_AVX2_HAVE_AVX512
	if ((caps & CPU_AVX2_NEEDS_AVX512VNNI) == CPU_AVX2_NEEDS_AVX512VNNI)
		out[n++] = &cpu_avx2_kernels_avx512vnni;
	if ((caps & CPU_AVX2_NEEDS_AVX512BW) == CPU_AVX2_NEEDS_AVX512BW)
		out[n++] = &cpu_avx2_kernels_avx512bw;
#endif
	out[n++] = &cpu_avx2_kernels_avx2;
	return n;
}

void cpu_avx2_kernels_mix(struct cpu_avx2_mix *m, const struct cpu_avx2_kernels *i2s,
                          const struct cpu_avx2_kernels *tl1, const struct cpu_avx2_kernels *tl2)
{
	memset(m, 0, sizeof *m);
	m->by_type[CPU_AVX2_K_I2S] = i2s;
	m->by_type[CPU_AVX2_K_TL1] = tl1;
	m->by_type[CPU_AVX2_K_TL2] = tl2;
	m->k.needs = i2s->needs | tl1->needs | tl2->needs;
	m->k.i2s = i2s->i2s;
	m->k.i2s_order = i2s->i2s_order;
	/* a kernel and its tables come from the same path: the tables' grouping
	 * differs between AVX2 and AVX-512 (kernels.h) */
	m->k.tl1 = tl1->tl1;
	m->k.tl1_tables = tl1->tl1_tables;
	m->k.tl2 = tl2->tl2;
	m->k.tl2_tables = tl2->tl2_tables;
	/* the peak (peak.c) is the I2_S path's: its int8 multiply */
	m->k.peak_loop = i2s->peak_loop;
	m->k.peak_ops_per_iter = i2s->peak_ops_per_iter;
	m->k.peak_chains = i2s->peak_chains;
	m->k.peak_insn = i2s->peak_insn;
	if (i2s == tl1 && tl1 == tl2)
		snprintf(m->isa, sizeof m->isa, "%s", i2s->isa);
	else
		snprintf(m->isa, sizeof m->isa, "%s/%s/%s", i2s->isa, tl1->isa, tl2->isa);
	m->k.isa = m->isa;
}

/* ------------------------------------------------------------------------ */
/* Texts                                                                     */

static const char *bytes_text(uint64_t b, struct cpu_avx2_pool *pool)
{
	if (b && b % MIB == 0)
		return cpu_avx2_pool_printf(pool, "%llu MiB", (ull)(b / MIB));
	if (b && b % 1024 == 0)
		return cpu_avx2_pool_printf(pool, "%llu KiB", (ull)(b / 1024));
	return cpu_avx2_pool_printf(pool, "%llu bytes", (ull)b);
}

/* The working set and why that size. */
static uint64_t working_set(uint64_t l3_total, const char **why, struct cpu_avx2_pool *pool)
{
	uint64_t two;

	if (!l3_total) {
		*why = "the L3 size is unknown";
		return WS_NO_L3;
	}
	two = l3_total > UINT64_MAX / 2 ? UINT64_MAX : 2 * l3_total;
	if (two > WS_CAP) {
		*why = cpu_avx2_pool_printf(pool, "the cap; 2 x the %s of L3 would be more",
		                            bytes_text(l3_total, pool));
		return WS_CAP;
	}
	if (two < WS_FLOOR) {
		*why = cpu_avx2_pool_printf(pool, "the floor; 2 x the %s of L3 is less",
		                            bytes_text(l3_total, pool));
		return WS_FLOOR;
	}
	*why = cpu_avx2_pool_printf(pool, "2 x the %s of L3", bytes_text(l3_total, pool));
	return two;
}

/* "avx512vnni=1234567 avx2=812345": nanoseconds per shape pair, in the
 * order of the paths. */
static void format_value(const struct cpu_avx2_choose_in *in, const uint64_t ns[], char *buf,
                         size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < in->n_paths; i++) {
		int n = snprintf(buf + used, len - used, "%s%s=%llu", i ? " " : "",
		                 in->paths[i]->isa, (ull)ns[i]);
		if (n < 0 || (size_t)n >= len - used)
			return;
		used += (size_t)n;
	}
}

/* The figures of every path, each once, from a cached value: 0, or -1 when
 * the value is damaged or names other paths. */
static int parse_value(const struct cpu_avx2_choose_in *in, const char *value, uint64_t ns[])
{
	unsigned seen = 0;
	const char *p = value;

	for (unsigned i = 0; i < in->n_paths; i++)
		ns[i] = 0;
	while (*p) {
		size_t len = strcspn(p, " "), nlen;
		const char *eq = memchr(p, '=', len);
		unsigned i;
		uint64_t v = 0;

		if (!eq || eq == p || eq + 1 == p + len)
			return -1;
		nlen = (size_t)(eq - p);
		for (i = 0; i < in->n_paths; i++)
			if (strlen(in->paths[i]->isa) == nlen && !memcmp(p, in->paths[i]->isa, nlen))
				break;
		if (i == in->n_paths || ns[i])
			return -1;
		for (const char *d = eq + 1; d < p + len; d++) {
			if (*d < '0' || *d > '9' || v > MAX_NS)
				return -1;
			v = v * 10 + (uint64_t)(*d - '0');
		}
		if (v == 0 || v > MAX_NS)
			return -1;
		ns[i] = v;
		seen++;
		p += len;
		if (*p == ' ' && p[1])
			p++;
		else if (*p)
			return -1;
	}
	return seen == in->n_paths ? 0 : -1;
}

static int make_stamp(const struct cpu_avx2_choose_in *in, uint64_t ws, char *stamp, size_t len)
{
	struct utsname u;
	char paths[64] = "";
	size_t used = 0;
	int n;

	if (uname(&u))
		return -1;
	for (unsigned i = 0; i < in->n_paths; i++) {
		n = snprintf(paths + used, sizeof paths - used, "%s%s", i ? "," : "",
		             in->paths[i]->isa);
		if (n < 0 || (size_t)n >= sizeof paths - used)
			return -1;
		used += (size_t)n;
	}
	n = snprintf(stamp, len,
	             STAMP_VERSION "|%s|paths=%s|threads=%u|ws=%llu|shapes=2560x6912,6912x2560"
	             "|tokens=1|reps=%d|kernel=%s %s",
	             in->machine ? in->machine : "?", paths, in->threads, (ull)ws, REPS, u.release,
	             u.machine);
	if (n < 0 || (size_t)n >= len)
		return -1;
	cpu_common_stamp_printable(stamp);
	return 0;
}

/* "avx512vnni 1.80 ms, avx2 1.23 ms" */
static const char *figures_text(const struct cpu_avx2_choose_in *in, const uint64_t ns[],
                                struct cpu_avx2_pool *pool)
{
	char buf[300];
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < in->n_paths; i++) {
		int n = snprintf(buf + used, sizeof buf - used, "%s%s %.3g ms", i ? ", " : "",
		                 in->paths[i]->isa, (double)ns[i] / 1e6);
		if (n < 0 || (size_t)n >= sizeof buf - used)
			break;
		used += (size_t)n;
	}
	return cpu_avx2_pool_printf(pool, "%s", buf);
}

/* ------------------------------------------------------------------------ */
/* The measurement                                                           */

struct real {
	unsigned char *w;       /* the working set of weights, 2 MiB aligned */
	void *map;              /* the mapping it lies in */
	size_t map_len;
	float *x, *y;
	uint64_t ws;
};

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * UINT64_C(1000000000) + (uint64_t)t.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void real_free(struct real *r)
{
	if (r->map)
		munmap(r->map, r->map_len);
	free(r->x);
	free(r->y);
	memset(r, 0, sizeof *r);
}

static int real_prepare(struct real *r, uint64_t ws, char *why, size_t len)
{
	uint64_t s = UINT64_C(0x9e3779b97f4a7c15), maxc = 0, maxr = 0;
	void *p = NULL;

	if (r->w)
		return 0;
	for (size_t i = 0; i < N_SHAPES; i++) {
		maxc = shapes[i].cols > maxc ? shapes[i].cols : maxc;
		maxr = shapes[i].rows > maxr ? shapes[i].rows : maxr;
	}
	/* Transparent huge pages where the kernel allows them (madvise mode):
	 * touching the working set is most of the measurement's cost, and a
	 * virtual machine takes a 4 KiB page fault slowly (256 MiB cost 1.3 s
	 * on a 2-vCPU EPYC VM, 0.55 s with huge pages). */
	if (ws > SIZE_MAX - HUGE_ALIGN ||
	    (p = mmap(NULL, (size_t)ws + HUGE_ALIGN, PROT_READ | PROT_WRITE,
	              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED)
		return cpu_avx2_errf(why, len, -1, "no memory for the %llu-byte working set",
		                     (ull)ws);
	r->map = p;
	r->map_len = (size_t)ws + HUGE_ALIGN;
	r->w = (unsigned char *)(((uintptr_t)p + HUGE_ALIGN - 1) & ~(uintptr_t)(HUGE_ALIGN - 1));
#ifdef MADV_HUGEPAGE
	madvise(r->w, (size_t)ws, MADV_HUGEPAGE); /* a hint: failure changes nothing */
#endif
	r->x = malloc(maxc * sizeof *r->x);
	r->y = malloc(maxr * sizeof *r->y);
	if (!r->x || !r->y) {
		real_free(r);
		return cpu_avx2_errf(why, len, -1, "no memory for the activations");
	}
	r->ws = ws;
	/* pseudo-random weights (xorshift64): one block, copied over the rest,
	 * so every page is touched before the timing starts */
	for (uint64_t i = 0; i + 8 <= FILL_BLOCK && i + 8 <= ws; i += 8) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		memcpy(r->w + i, &s, 8);
	}
	for (uint64_t i = FILL_BLOCK; i < ws; i += FILL_BLOCK)
		memcpy(r->w + i, r->w, (size_t)(ws - i < FILL_BLOCK ? ws - i : FILL_BLOCK));
	for (uint64_t i = 0; i < maxc; i++)
		r->x[i] = (float)((int)(i * 7919 % 2001) - 1000) / 100.0f;
	return 0;
}

static int real_measure(void *ctx, const struct cpu_avx2_choose_in *in, uint32_t type,
                        uint64_t ws, uint64_t ns[], char *why, size_t len)
{
	struct real *r = ctx;
	uint64_t cursor = 0;
	int rc;

	if ((rc = real_prepare(r, ws, why, len)) != 0)
		return rc;
	for (unsigned i = 0; i < in->n_paths; i++)
		ns[i] = 0;
	for (size_t s = 0; s < N_SHAPES; s++) {
		uint64_t bytes = trit_ternary_bytes(type, shapes[s].rows, shapes[s].cols);
		uint64_t stride = (bytes + 63) / 64 * 64, copies, wsb = 0;
		uint64_t t[CPU_AVX2_MAX_PATHS][REPS];
		void *scratch = NULL;

		copies = stride ? ws / stride : 0;
		if (copies < 2 ||
		    cpu_avx2_ternary_ws(NULL, type, shapes[s].rows, shapes[s].cols, 1, &wsb) != 0 ||
		    posix_memalign(&scratch, 64, (size_t)(wsb ? wsb : 64)) != 0)
			return cpu_avx2_errf(why, len, -1, "cannot lay out the %llux%llu shape",
			                     (ull)shapes[s].rows, (ull)shapes[s].cols);
		for (int rep = 0; rep <= REPS; rep++)
			for (unsigned i = 0; i < in->n_paths; i++) {
				struct cpu_avx2_engine e = *in->engine;
				struct cpu_ops_ternary job = {
					.type = type, .rows = shapes[s].rows, .cols = shapes[s].cols,
					.tokens = 1, .w = r->w + cursor++ % copies * stride, .x = r->x,
					.y = r->y, .ws = scratch, .n_threads = in->threads,
				};
				uint64_t t0;

				e.k = in->paths[i];
				t0 = now_ns();
				cpu_avx2_engine_ternary(&e, &job);
				if (rep)
					t[i][rep - 1] = now_ns() - t0;
			}
		free(scratch);
		for (unsigned i = 0; i < in->n_paths; i++) {
			qsort(t[i], REPS, sizeof t[i][0], cmp_u64);
			ns[i] += t[i][REPS / 2] ? t[i][REPS / 2] : 1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Choosing                                                                  */

int cpu_avx2_has_cache(const struct trit_host *h)
{
	return h && TRIT_HOST_HAS(h, cache_put) && h->cache_get && h->cache_put;
}

/* Does the cache keep what it is given? With the runtime's cache off
 * (probe_cache_max_age = 0, or a host that opened none) every get misses, and
 * timing at every start is what the cache is there to avoid. */
int cpu_avx2_cache_keeps(const struct trit_host *h, const char *stamp)
{
	char v[8];
	return h->cache_put(h->ctx, CHECK_KEY, stamp, "1") == 0 &&
	       h->cache_get(h->ctx, CHECK_KEY, stamp, v, sizeof v, NULL) == 1;
}

/* The fastest; on a tie the wider (earlier). */
static unsigned fastest(const struct cpu_avx2_choose_in *in, const uint64_t ns[])
{
	unsigned best = 0;
	for (unsigned i = 1; i < in->n_paths; i++)
		if (ns[i] < ns[best])
			best = i;
	return best;
}

void cpu_avx2_choose(const struct cpu_avx2_choose_in *in, struct cpu_avx2_choice *out,
                     struct cpu_avx2_pool *pool)
{
	char stamp[TRIT_HOST_CACHE_STAMP_MAX + 1], why[300] = "";
	const char *ws_why = "", *not_measured = NULL, *what;
	struct real real = { 0 };
	uint64_t ws, t0 = now_ns();
	int (*measure)(void *, const struct cpu_avx2_choose_in *, uint32_t, uint64_t, uint64_t[],
	               char *, size_t) = in->measure ? in->measure : real_measure;
	void *mctx = in->measure ? in->measure_ctx : &real;

	memset(out, 0, sizeof *out);
	for (int t = 0; t < CPU_AVX2_NK; t++)
		out->k[t] = in->n_paths ? in->paths[0] : NULL;
	if (!in->n_paths)
		return;
	if (in->ws_bytes) {
		ws = in->ws_bytes;
		ws_why = cpu_avx2_pool_printf(pool, "set by choose_bytes at %s",
		                              in->ws_where ? in->ws_where : "the configuration");
	} else {
		ws = working_set(in->l3_total, &ws_why, pool);
	}
	out->ws = ws;
	if (in->n_paths < 2)
		not_measured = cpu_avx2_pool_printf(pool, "%s is the only kernel path this CPU and "
		                                    "build can run", in->paths[0]->isa);
	else if (!cpu_avx2_has_cache(in->host))
		not_measured = "the host keeps no probe cache, so it would be measured at every "
		               "start";
	else if (make_stamp(in, ws, stamp, sizeof stamp) != 0)
		not_measured = "the probe cache stamp does not fit";
	if (not_measured) {
		for (int t = 0; t < CPU_AVX2_NK; t++)
			out->src[t] = cpu_avx2_derived(0, cpu_avx2_pool_printf(pool,
				"not measured (%s): chose %s, the widest path the cpu.features allow",
				not_measured, in->paths[0]->isa));
		return;
	}
	what = cpu_avx2_pool_printf(pool, "per " SHAPES_TEXT " GEMV pair (1 token, median of %d, "
	                            "working set %s: %s, %u thread%s)", REPS,
	                            bytes_text(ws, pool), ws_why, in->threads,
	                            in->threads == 1 ? "" : "s");
	for (int t = 0, checked = 0; t < CPU_AVX2_NK; t++) {
		const struct cpu_avx2_ktype *kt = &cpu_avx2_ktypes[t];
		char value[512];
		uint64_t age = 0, *ns = out->ns[t];
		const char *when;
		unsigned best;

		if (in->host->cache_get(in->host->ctx, kt->key, stamp, value, sizeof value, &age) ==
		            1 &&
		    parse_value(in, value, ns) == 0) {
			out->from_cache[t] = 1;
			when = cpu_avx2_pool_printf(pool, "%s ago (probe cache)",
			                            cpu_common_age_text(age, pool));
		} else if (!checked++ && !cpu_avx2_cache_keeps(in->host, stamp)) {
			not_measured = "the probe cache is off or keeps nothing, so it would be "
			               "measured at every start";
			for (; t < CPU_AVX2_NK; t++)
				out->src[t] = cpu_avx2_derived(0, cpu_avx2_pool_printf(pool,
					"not measured (%s): chose %s, the widest path the cpu.features "
					"allow", not_measured, in->paths[0]->isa));
			break;
		} else if (in->mem_free && ws > in->mem_free / 2) {
			out->src[t] = cpu_avx2_derived(0, cpu_avx2_pool_printf(pool,
				"not measured (the %s working set is more than half of the %llu bytes of "
				"free memory): chose %s, the widest path the cpu.features allow",
				bytes_text(ws, pool), (ull)in->mem_free, in->paths[0]->isa));
			continue;
		} else if (measure(mctx, in, kt->type, ws, ns, why, sizeof why) != 0) {
			out->src[t] = cpu_avx2_derived(0, cpu_avx2_pool_printf(pool,
				"not measured (%s): chose %s, the widest path the cpu.features allow", why,
				in->paths[0]->isa));
			continue;
		} else {
			format_value(in, ns, value, sizeof value);
			in->host->cache_put(in->host->ctx, kt->key, stamp, value);
			out->measured_now = 1;
			when = "measured now, kept in the probe cache";
		}
		best = fastest(in, ns);
		out->k[t] = in->paths[best];
		out->src[t] = cpu_avx2_measured(0, cpu_avx2_pool_printf(pool,
			"measured: %s %s, %s; %s is the fastest", figures_text(in, ns, pool), what, when,
			in->paths[best]->isa));
	}
	real_free(&real);
	out->spent_ns = now_ns() - t0;
}
