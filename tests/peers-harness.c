/*
 * peers-harness.c - time a peer's ternary matmul the way `trit bench` times
 * trit's: the same trits, activations, shapes, working set, rotation,
 * samples and streaming-read baseline.
 *
 * Built twice by tests/peers-bench.py, against peer sources it does not vendor:
 *   -DPEER_BITNET  against bitnet.cpp's src/ggml-bitnet-mad.cpp (I2_S) and
 *                  the ggml_gemm_i2_i8_s driver from its utils/test_gemm_kernel.sh,
 *                  threads: this file's spin pool, weight rows split evenly;
 *   -DPEER_IK      against ik_llama.cpp's libggml (IQ2_BN, IQ2_BN_R4):
 *                  ggml_mul_mat graphs run by ggml_graph_compute, its own threads.
 *
 * Weights, exactly as runtime/bench/bench.c's pack_random(): xorshift64*
 * from trit bench's default seed, per shape in the order given: tensor a
 * (copy 0), tensor b (every other copy, when there is more than one copy),
 * then the F32 activations; trits uniform over -1, 0, +1 times 0.5, the
 * first weight of every 256-row chunk forced to +0.5.
 *
 * Check before timing: integer activations with |x| <= 127 and +-127 in the
 * first 64 of every token (so every int8 quantiser in play, per token or per
 * 16/64-block, has scale 1 and is exact), a double reference over sampled rows
 * (the first and last 64 and every 61st), on the first and on the last copy;
 * |y - ref| <= 1e-5 * max|ref| (as trit bench's check), and the same output
 * must be outside that tolerance of the other tensor's reference.
 *
 * Output: one JSON object per shape on stdout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <immintrin.h>

#if defined(PEER_BITNET) == defined(PEER_IK)
#error "define exactly one of PEER_BITNET and PEER_IK"
#endif

#ifdef PEER_IK
#include "ggml.h"
#endif

#ifdef PEER_BITNET
size_t quantize_i2_s(const float *src, void *dst, int64_t nrow, int64_t n_per_row,
                     const float *quant_weights);
void ggml_gemm_i2_i8_s(int n, float *s, size_t bs, const void *vx, const void *vy, int nr, int nc);
/* quantize_i2_s asks ggml for the row size: I2_S counts one byte per weight
 * there (block 1, size 1) and divides by 4 itself */
size_t ggml_row_size(int type, int64_t ne);
size_t ggml_row_size(int type, int64_t ne) { (void)type; return (size_t)ne; }
#endif

#define SAMPLE_BYTES (4u << 20)   /* as TRIT_BENCH_SAMPLE_BYTES */
#define CHUNK_ROWS 256u           /* as PACK_CHUNK_ROWS */
#define MAX_SHAPES 16

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	fputs("peers-harness: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

static void *xalloc(size_t n)
{
	void *p = NULL;
	if (posix_memalign(&p, 2u << 20, n ? n : 1))
		die("out of memory for %zu bytes", n);
	return p;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* ------------------------------------------------------------------------ */
/* a spin pool: the caller is thread 0                                       */

struct pool {
	int n;
	pthread_t th[64];
	atomic_uint_fast64_t gen;
	atomic_int pending, quit;
	void (*fn)(void *ctx, int id, int n);
	void *ctx;
};

static void pool_wait_gen(struct pool *p, uint_fast64_t seen)
{
	unsigned spins = 0;
	while (atomic_load_explicit(&p->gen, memory_order_acquire) == seen &&
	       !atomic_load(&p->quit)) {
		if (++spins < 4096)
			_mm_pause();
		else
			sched_yield();
	}
}

struct worker_arg { struct pool *p; int id; };
static struct worker_arg wargs[64];

static void *pool_worker(void *arg)
{
	struct worker_arg *a = arg;
	struct pool *p = a->p;
	uint_fast64_t seen = 0;
	for (;;) {
		pool_wait_gen(p, seen);
		if (atomic_load(&p->quit))
			return NULL;
		seen = atomic_load(&p->gen);
		p->fn(p->ctx, a->id, p->n);
		atomic_fetch_sub_explicit(&p->pending, 1, memory_order_release);
	}
}

static void pool_start(struct pool *p, int n)
{
	memset(p, 0, sizeof *p);
	p->n = n;
	for (int i = 1; i < n; i++) {
		wargs[i].p = p;
		wargs[i].id = i;
		if (pthread_create(&p->th[i], NULL, pool_worker, &wargs[i]))
			die("pthread_create failed");
	}
}

static void pool_run(struct pool *p, void (*fn)(void *, int, int), void *ctx)
{
	p->fn = fn;
	p->ctx = ctx;
	atomic_store(&p->pending, p->n - 1);
	atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
	fn(ctx, 0, p->n);
	unsigned spins = 0;
	while (atomic_load_explicit(&p->pending, memory_order_acquire) > 0) {
		if (++spins < 4096)
			_mm_pause();
		else
			sched_yield();
	}
}

static void pool_stop(struct pool *p)
{
	atomic_store(&p->quit, 1);
	for (int i = 1; i < p->n; i++)
		pthread_join(p->th[i], NULL);
}

/* ------------------------------------------------------------------------ */
/* the streaming read: as runtime/bench/bench.c's read_range/read_share      */

static uint64_t read_range(const unsigned char *p, uint64_t n)
{
	uint64_t a[4] = { 0, 0, 0, 0 }, w[4], i = 0;
	for (; i + 32 <= n; i += 32) {
		memcpy(w, p + i, sizeof w);
		a[0] += w[0];
		a[1] ^= w[1];
		a[2] += w[2];
		a[3] ^= w[3];
	}
	for (; i < n; i++)
		a[0] += p[i];
	return a[0] + a[1] + a[2] + a[3];
}

struct readjob {
	const unsigned char *base;
	uint64_t stride, bytes, copies, first, count;
	uint64_t sink[64];
};

static void read_share(void *ctx, int id, int n)
{
	struct readjob *r = ctx;
	uint64_t lo = r->bytes * (uint64_t)id / (uint64_t)n / 64 * 64;
	uint64_t hi = id + 1 == n ? r->bytes : r->bytes * (uint64_t)(id + 1) / (uint64_t)n / 64 * 64;
	uint64_t sum = 0;
	for (uint64_t c = 0; c < r->count; c++)
		sum += read_range(r->base + (r->first + c) % r->copies * r->stride + lo, hi - lo);
	r->sink[id] += sum;
}

/* ------------------------------------------------------------------------ */
/* the peer                                                                  */

struct peer {
	const char *name;
	int threads;
	uint64_t rows, cols, tokens;
	uint64_t bytes;              /* one packed matrix */
	struct pool pool;
#ifdef PEER_BITNET
	int8_t *q;                   /* tokens x cols */
	float *act_scale;            /* 127 / amax per token */
	int32_t *act_sum;
	float *raw;                  /* tokens x rows */
#endif
#ifdef PEER_IK
	enum ggml_type type;
	struct ggml_context *wctx;
	struct ggml_tensor **w;      /* one per copy */
	struct ggml_tensor *x;
	uint8_t *work;
	size_t work_size;
#endif
};

/* float weights of rows [r0, r0+n) of a matrix, packed into dst at row r0 */
static void peer_pack_rows(struct peer *pe, const float *src, uint64_t r0, uint64_t n,
                           unsigned char *dst)
{
#ifdef PEER_BITNET
	/* row-major 128-weight blocks: row r0 starts at r0*cols/4; the chunk's
	 * scale lands after it and is overwritten by the next chunk (the
	 * scale is 0.5 for every chunk) */
	(void)pe;
	quantize_i2_s(src, dst + r0 * pe->cols / 4, (int64_t)n, (int64_t)pe->cols, NULL);
#else
	size_t rs = ggml_row_size(pe->type, (int64_t)pe->cols);
	ggml_quantize_chunk(pe->type, src, dst + r0 * rs, 0, (int64_t)n, (int64_t)pe->cols, NULL, NULL);
#endif
}

static uint64_t peer_bytes(struct peer *pe)
{
#ifdef PEER_BITNET
	return pe->rows * pe->cols / 4 + 32;
#else
	return ggml_row_size(pe->type, (int64_t)pe->cols) * pe->rows;
#endif
}

#ifdef PEER_BITNET
struct bjob {
	struct peer *pe;
	const unsigned char *w;
	const float *x;
	float *y;
	int phase;
};

/* as the fork's quantize_row_i8_s: 127 / max(amax, 1e-5), nearest, clamp */
static void quant_token(const float *x, uint64_t n, int8_t *q, float *scale, int32_t *sum)
{
	double max = 0.00001;
	for (uint64_t i = 0; i < n; i++)
		max = fmax(max, fabs((double)x[i]));
	float s = (float)(127.0 / max);
	int32_t acc = 0;
	for (uint64_t i = 0; i < n; i++) {
		int v = (int)nearbyintf(x[i] * s);
		v = v > 127 ? 127 : v < -128 ? -128 : v;
		q[i] = (int8_t)v;
		acc += v;
	}
	*scale = s;
	*sum = acc;
}

static void bitnet_part(void *ctx, int id, int n)
{
	struct bjob *j = ctx;
	struct peer *pe = j->pe;
	if (j->phase == 0) {
		for (uint64_t t = (uint64_t)id; t < pe->tokens; t += (uint64_t)n)
			quant_token(j->x + t * pe->cols, pe->cols, pe->q + t * pe->cols,
			            &pe->act_scale[t], &pe->act_sum[t]);
		return;
	}
	/* rows [lo, hi), multiples of 4 */
	uint64_t per = (pe->rows / 4 + (uint64_t)n - 1) / (uint64_t)n * 4;
	uint64_t lo = per * (uint64_t)id, hi = lo + per > pe->rows ? pe->rows : lo + per;
	if (lo >= hi)
		return;
	ggml_gemm_i2_i8_s((int)pe->cols, pe->raw + lo, pe->rows, j->w + lo * pe->cols / 4,
	                  pe->q, (int)pe->tokens, (int)(hi - lo));
	float wscale = *(const float *)(j->w + pe->rows * pe->cols / 4);
	for (uint64_t t = 0; t < pe->tokens; t++) {
		float f = wscale / pe->act_scale[t], s = (float)pe->act_sum[t];
		const float *r = pe->raw + t * pe->rows;
		float *y = j->y + t * pe->rows;
		for (uint64_t i = lo; i < hi; i++)
			y[i] = (r[i] - s) * f;
	}
}
#endif

static void peer_setup(struct peer *pe, unsigned char *base, uint64_t stride, uint64_t copies,
                       float *x)
{
#ifdef PEER_BITNET
	(void)base; (void)stride; (void)copies; (void)x;
	pe->q = xalloc(pe->tokens * pe->cols);
	pe->act_scale = xalloc(pe->tokens * sizeof(float));
	pe->act_sum = xalloc(pe->tokens * sizeof(int32_t));
	pe->raw = xalloc(pe->tokens * pe->rows * sizeof(float));
	pool_start(&pe->pool, pe->threads);
#else
	struct ggml_init_params ip = {
		.mem_size = ggml_tensor_overhead() * (copies + 2), .mem_buffer = NULL, .no_alloc = true,
	};
	pe->wctx = ggml_init(ip);
	if (!pe->wctx)
		die("ggml_init failed");
	pe->w = calloc(copies, sizeof *pe->w);
	for (uint64_t c = 0; c < copies; c++) {
		pe->w[c] = ggml_new_tensor_2d(pe->wctx, pe->type, (int64_t)pe->cols, (int64_t)pe->rows);
		pe->w[c]->data = base + c * stride;
	}
	pe->x = ggml_new_tensor_2d(pe->wctx, GGML_TYPE_F32, (int64_t)pe->cols, (int64_t)pe->tokens);
	pe->x->data = x;
#endif
}

static void peer_teardown(struct peer *pe)
{
#ifdef PEER_BITNET
	pool_stop(&pe->pool);
	free(pe->q);
	free(pe->act_scale);
	free(pe->act_sum);
	free(pe->raw);
#else
	ggml_free(pe->wctx);
	free(pe->w);
	free(pe->work);
	pe->work = NULL;
	pe->work_size = 0;
#endif
}

/* y (tokens x rows) = the matmuls of copies first .. first+count-1 (mod
 * copies) with x, back to back; returns the seconds they took. y holds
 * the last one's output. */
static double peer_run(struct peer *pe, unsigned char *base, uint64_t stride, uint64_t copies,
                       uint64_t first, uint64_t count, const float *x, float *y)
{
#ifdef PEER_BITNET
	struct bjob j = { .pe = pe, .x = x, .y = y };
	double t0 = now();
	for (uint64_t i = 0; i < count; i++) {
		j.w = base + (first + i) % copies * stride;
		j.phase = 0;
		pool_run(&pe->pool, bitnet_part, &j);
		j.phase = 1;
		pool_run(&pe->pool, bitnet_part, &j);
	}
	return now() - t0;
#else
	(void)base; (void)stride;
	size_t gsize = 2 * count + 8;
	struct ggml_init_params ip = {
		.mem_size = ggml_tensor_overhead() * (count + 4) + ggml_graph_overhead_custom(gsize, false),
		.mem_buffer = NULL, .no_alloc = true,
	};
	struct ggml_context *ctx = ggml_init(ip);
	if (!ctx)
		die("ggml_init failed");
	pe->x->data = (void *)x;
	struct ggml_cgraph *gf = ggml_new_graph_custom(ctx, gsize, false);
	for (uint64_t i = 0; i < count; i++) {
		struct ggml_tensor *d = ggml_mul_mat(ctx, pe->w[(first + i) % copies], pe->x);
		d->data = y;
		ggml_build_forward_expand(gf, d);
	}
	struct ggml_cplan plan = ggml_graph_plan(gf, pe->threads);
	if (plan.work_size > pe->work_size) {
		free(pe->work);
		pe->work = xalloc(plan.work_size);
		pe->work_size = plan.work_size;
	}
	plan.work_data = pe->work;
	double t0 = now();
	if (ggml_graph_compute(gf, &plan) != GGML_STATUS_SUCCESS)
		die("ggml_graph_compute failed");
	double t = now() - t0;
	ggml_free(ctx);
	return t;
#endif
}

/* ------------------------------------------------------------------------ */

static uint64_t parse_size(const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		die("bad size '%s'", s);
	if (!strcmp(end, "") || !strcmp(end, "B"))
		return v;
	if (!strcmp(end, "KiB") || !strcmp(end, "k"))
		return v << 10;
	if (!strcmp(end, "MiB") || !strcmp(end, "M"))
		return v << 20;
	if (!strcmp(end, "GiB") || !strcmp(end, "G"))
		return v << 30;
	die("bad size '%s' (bytes, or KiB, MiB, GiB)", s);
}

/* trits of one matrix as trit bench draws them, as int8 */
static void draw_trits(int8_t *t, uint64_t rows, uint64_t cols, uint64_t *seed)
{
	for (uint64_t r0 = 0; r0 < rows; r0 += CHUNK_ROWS) {
		uint64_t n = rows - r0 < CHUNK_ROWS ? rows - r0 : CHUNK_ROWS;
		int8_t *c = t + r0 * cols;
		for (uint64_t i = 0; i < n * cols; i++)
			c[i] = (int8_t)((int)(rng_next(seed) >> 33) % 3 - 1);
		c[0] = 1;
	}
}

static void pack(struct peer *pe, const int8_t *t, unsigned char *dst)
{
	float *f = malloc(CHUNK_ROWS * pe->cols * sizeof *f);
	if (!f)
		die("out of memory");
	for (uint64_t r0 = 0; r0 < pe->rows; r0 += CHUNK_ROWS) {
		uint64_t n = pe->rows - r0 < CHUNK_ROWS ? pe->rows - r0 : CHUNK_ROWS;
		for (uint64_t i = 0; i < n * pe->cols; i++)
			f[i] = 0.5f * (float)t[r0 * pe->cols + i];
		peer_pack_rows(pe, f, r0, n, dst);
	}
	free(f);
}

static int sampled_row(uint64_t r, uint64_t rows)
{
	return r < 64 || r + 64 >= rows || r % 61 == 0;
}

/* max |y - ref(t)| over sampled rows, and max |ref| */
static void compare(const struct peer *pe, const int8_t *t, const float *xi, const float *y,
                    double *maxerr, double *maxref)
{
	*maxerr = 0;
	*maxref = 0;
	for (uint64_t r = 0; r < pe->rows; r++) {
		if (!sampled_row(r, pe->rows))
			continue;
		const int8_t *w = t + r * pe->cols;
		for (uint64_t k = 0; k < pe->tokens; k++) {
			const float *xk = xi + k * pe->cols;
			double acc = 0;
			for (uint64_t i = 0; i < pe->cols; i++)
				acc += (double)w[i] * (double)xk[i];
			acc *= 0.5;
			double e = fabs((double)y[k * pe->rows + r] - acc);
			*maxerr = e > *maxerr ? e : *maxerr;
			*maxref = fabs(acc) > *maxref ? fabs(acc) : *maxref;
		}
	}
}

static void usage(FILE *f)
{
	fputs("Usage: peers-harness --impl NAME --shape MxK [--shape MxK]... [--tokens N]\n"
	      "                     [--threads N] [--working-set SIZE] [--reps N] [--seed N]\n"
	      "  NAME: "
#ifdef PEER_BITNET
	      "bitnet-i2s"
#else
	      "ik-iq2bn, ik-iq2bn-r4"
#endif
	      "\nPrints one JSON object per shape; exits 1 when a check fails.\n", f);
}

int main(int argc, char **argv)
{
	const char *impl = NULL;
	uint64_t shapes[MAX_SHAPES][2], nshapes = 0, tokens = 1, ws = 256u << 20, reps = 9;
	uint64_t seed = UINT64_C(0x7472697462656e63);
	int threads = 1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		}
		if (!v)
			die("%s needs a value", a);
		i++;
		if (!strcmp(a, "--impl"))
			impl = v;
		else if (!strcmp(a, "--shape")) {
			unsigned long long m, k;
			char c;
			if (nshapes == MAX_SHAPES)
				die("at most %d shapes", MAX_SHAPES);
			if (sscanf(v, "%llux%llu%c", &m, &k, &c) != 2 || !m || !k || m > (1u << 24) ||
			    k > (1u << 20))
				die("--shape '%s': expected MxK", v);
			shapes[nshapes][0] = m;
			shapes[nshapes++][1] = k;
		} else if (!strcmp(a, "--tokens"))
			tokens = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--threads"))
			threads = atoi(v);
		else if (!strcmp(a, "--working-set"))
			ws = parse_size(v);
		else if (!strcmp(a, "--reps"))
			reps = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--seed"))
			seed = strtoull(v, NULL, 0);
		else
			die("unknown option %s (--help)", a);
	}
	if (!impl || !nshapes || !tokens || tokens > 4096 || threads < 1 || threads > 64 || !reps ||
	    reps > 1000 || !ws) {
		usage(stderr);
		return 2;
	}

	struct peer pe = { .name = impl, .threads = threads, .tokens = tokens };
#ifdef PEER_BITNET
	if (strcmp(impl, "bitnet-i2s"))
		die("--impl %s: this build has bitnet-i2s", impl);
#else
	if (!strcmp(impl, "ik-iq2bn"))
		pe.type = GGML_TYPE_IQ2_BN;
	else if (!strcmp(impl, "ik-iq2bn-r4"))
		pe.type = GGML_TYPE_IQ2_BN_R4;
	else
		die("--impl %s: this build has ik-iq2bn and ik-iq2bn-r4", impl);
#endif
	struct pool rpool;
	pool_start(&rpool, threads);
	int fail = 0;

	for (uint64_t si = 0; si < nshapes; si++) {
		pe.rows = shapes[si][0];
		pe.cols = shapes[si][1];
		if (pe.cols % 256 || pe.rows % 4)
			die("shape %llux%llu: K must be a multiple of 256 and M of 4",
			    (unsigned long long)pe.rows, (unsigned long long)pe.cols);
		uint64_t bytes = peer_bytes(&pe);
		/* trit bench draws tensor b when its own I2_S tensor needs copies */
		uint64_t tbytes = pe.rows * pe.cols / 4 + 32;
		int trit_b = ws > tbytes;
		uint64_t stride = (bytes + 255) / 256 * 256;
		uint64_t copies = ws > bytes ? (ws + bytes - 1) / bytes : 1;
		uint64_t batch = (SAMPLE_BYTES + bytes - 1) / bytes;
		batch = batch > copies ? copies : batch;

		int8_t *ta = xalloc(pe.rows * pe.cols), *tb = xalloc(pe.rows * pe.cols);
		draw_trits(ta, pe.rows, pe.cols, &seed);
		if (trit_b)
			draw_trits(tb, pe.rows, pe.cols, &seed);
		else
			memcpy(tb, ta, pe.rows * pe.cols);
		float *x = xalloc(tokens * pe.cols * sizeof *x);
		for (uint64_t i = 0; i < tokens * pe.cols; i++)
			x[i] = (float)((double)(rng_next(&seed) >> 40) / (double)(1u << 23) - 1.0);

		unsigned char *base = xalloc(copies * stride);
		unsigned char *pa = xalloc(stride), *pb = xalloc(stride);
		memset(pa, 0, stride);
		memset(pb, 0, stride);
		pack(&pe, ta, pa);
		pack(&pe, tb, pb);
		for (uint64_t c = 0; c < copies; c++)
			memcpy(base + c * stride, c ? pb : pa, bytes);
		free(pa);
		free(pb);

		peer_setup(&pe, base, stride, copies, x);
		float *y = xalloc(tokens * pe.rows * sizeof *y);

		/* the check, on integer activations */
		uint64_t cs = seed ^ UINT64_C(0x636865636b);
		float *xi = xalloc(tokens * pe.cols * sizeof *xi);
		for (uint64_t k = 0; k < tokens; k++)
			for (uint64_t i = 0; i < pe.cols; i++)
				xi[k * pe.cols + i] = i < 64 ? (i % 2 ? -127.f : 127.f)
				                             : (float)((int)(rng_next(&cs) >> 33) % 255 - 127);
		double e0, r0, e1, r1, n0, nr0;
		peer_run(&pe, base, stride, copies, 0, 1, xi, y);
		compare(&pe, ta, xi, y, &e0, &r0);
		compare(&pe, tb, xi, y, &n0, &nr0);
		peer_run(&pe, base, stride, copies, copies - 1, 1, xi, y);
		compare(&pe, tb, xi, y, &e1, &r1);
		double tol0 = 1e-5 * r0, tol1 = 1e-5 * r1;
		int ok = e0 <= tol0 && e1 <= tol1 && (!trit_b || copies == 1 || n0 > 1e-5 * nr0);
		if (!ok) {
			fprintf(stderr, "peers-harness: %s %llux%llu, %llu tokens: CHECK FAILED: max err "
			        "%g (tol %g) on copy 0, %g (tol %g) on copy %llu, %g against the other "
			        "tensor\n", impl, (unsigned long long)pe.rows, (unsigned long long)pe.cols,
			        (unsigned long long)tokens, e0, tol0, e1, tol1,
			        (unsigned long long)(copies - 1), n0);
			fail = 1;
		}
		free(xi);

		/* timed: one untimed sample, then reps, batch matmuls each */
		double *t = xalloc((reps + 1) * sizeof *t), med, mn, mx, rmed;
		uint64_t next = 0;
		for (uint64_t r = 0; r <= reps; r++) {
			double s = peer_run(&pe, base, stride, copies, next, batch, x, y);
			next = (next + batch) % copies;
			if (r)
				t[r - 1] = s / (double)batch;
		}
		qsort(t, reps, sizeof *t, cmp_double);
		med = reps % 2 ? t[reps / 2] : (t[reps / 2 - 1] + t[reps / 2]) / 2;
		mn = t[0];
		mx = t[reps - 1];
		peer_teardown(&pe);

		/* the streaming read of the same bytes, same rotation, same threads */
		struct readjob rj = { .base = base, .stride = stride, .bytes = bytes, .copies = copies };
		next = 0;
		for (uint64_t r = 0; r <= reps; r++) {
			rj.first = next;
			rj.count = batch;
			double t0 = now();
			pool_run(&rpool, read_share, &rj);
			double s = now() - t0;
			next = (next + batch) % copies;
			if (r)
				t[r - 1] = s / (double)batch;
		}
		qsort(t, reps, sizeof *t, cmp_double);
		rmed = reps % 2 ? t[reps / 2] : (t[reps / 2 - 1] + t[reps / 2]) / 2;

		printf("{\"impl\":\"%s\",\"rows\":%llu,\"cols\":%llu,\"tokens\":%llu,\"threads\":%d,"
		       "\"bytes\":%llu,\"copies\":%llu,\"batch\":%llu,\"reps\":%llu,"
		       "\"median\":%.9g,\"min\":%.9g,\"max\":%.9g,\"read_median\":%.9g,"
		       "\"check\":{\"ok\":%s,\"max_err\":[%g,%g],\"max_ref\":[%g,%g],"
		       "\"other_tensor_err\":%g}}\n",
		       impl, (unsigned long long)pe.rows, (unsigned long long)pe.cols,
		       (unsigned long long)tokens, threads, (unsigned long long)bytes,
		       (unsigned long long)copies, (unsigned long long)batch, (unsigned long long)reps,
		       med, mn, mx, rmed, ok ? "true" : "false", e0, e1, r0, r1, n0);
		fflush(stdout);
		free(t);
		free(y);
		free(x);
		free(base);
		free(ta);
		free(tb);
	}
	pool_stop(&rpool);
	return fail;
}
