/*
 * bench.c - measure ternary kernels through the plugin ABI, and keep the
 * results in a cache file.
 *
 * A measurement is only worth reporting when the kernel computes the right
 * thing and the weights come from memory, not cache: every kernel is checked
 * against the scalar reference first, and the weights are rotated over
 * copies filling twice the last-level cache. The baseline, a plain streaming
 * read of the same bytes with the same threads, is measured in the same run,
 * so the ratio between the two does not depend on the machine's mood.
 * Choosing devices and printing are the CLI's and report.c's business.
 */
#include <build-config.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include <trit/trit.h>

#include "bench/bench.h"
#include "core/common.h"
#include "core/cachefile.h"
#include "core/safeopen.h"
#include "formats/ternary.h"

/* ------------------------------------------------------------------------ */
/* Device facts                                                              */

static const struct trit_property *prop(const struct trit_device *d, const char *key)
{
	for (uint32_t i = 0; d && i < d->n_props; i++)
		if (d->props[i].key && strcmp(d->props[i].key, key) == 0)
			return &d->props[i];
	return NULL;
}

/* A numeric property's value, 0 when absent or unknown. */
static uint64_t prop_value(const struct trit_device *d, const char *key)
{
	const struct trit_property *p = prop(d, key);
	return p && !p->text && p->value.state != TRIT_VALUE_UNKNOWN ? p->value.value : 0;
}

static const char *prop_text(const struct trit_device *d, const char *key)
{
	const struct trit_property *p = prop(d, key);
	return p && p->text && !p->unit ? p->text : NULL;
}

const char *trit_bench_isa(const struct trit_device *d)
{
	return prop_text(d, "kernel.isa");
}

int trit_bench_host_memory(const struct trit_device *d)
{
	const char *pool = prop_text(d, "mem.pool");
	return d->kind == TRIT_DEVICE_CPU || (pool && strcmp(pool, "host") == 0);
}

/* Bytes of d's last-level cache (all instances), 0 when unknown. */
static uint64_t llc_bytes(const struct trit_device *d, const char **level)
{
	static const char *const levels[] = { "cache.l3", "cache.l2" };

	for (size_t i = 0; i < TRIT_ARRAY_LEN(levels); i++) {
		char key[32];
		uint64_t size = prop_value(d, levels[i]), n;
		if (!size)
			continue;
		snprintf(key, sizeof key, "%s.instances", levels[i]);
		n = prop_value(d, key);
		*level = levels[i];
		return n && size <= UINT64_MAX / n ? size * n : size;
	}
	return 0;
}

/* The memory pool of d: its "mem.pool", else "host" for a CPU (whose
 * memory is the host's by definition), else NULL. */
static const char *pool_of(const struct trit_device *d)
{
	const char *pool = prop_text(d, "mem.pool");
	return pool ? pool : d->kind == TRIT_DEVICE_CPU ? "host" : NULL;
}

uint64_t trit_bench_working_set(const struct trit_device *d, const struct trit_device *const *peers,
                                size_t n_peers, char *why, size_t len)
{
	const char *level = NULL, *pool = pool_of(d);
	const struct trit_device *from = d;
	uint64_t llc = llc_bytes(d, &level);
	char b[32];

	for (size_t i = 0; !llc && pool && i < n_peers; i++) {
		const char *pp = pool_of(peers[i]);
		if (peers[i] != d && pp && strcmp(pp, pool) == 0 && (llc = llc_bytes(peers[i], &level)))
			from = peers[i];
	}
	if (!llc) {
		snprintf(why, len, "a fixed %s working set: the last-level cache is unknown (%s "
		         "reports no cache.l3 or cache.l2%s)",
		         trit_format_bytes(TRIT_BENCH_FIXED_WORKING_SET, b, sizeof b), d->id,
		         pool ? ", nor does any device sharing its memory" : "");
		return TRIT_BENCH_FIXED_WORKING_SET;
	}
	snprintf(why, len, "2 x the last-level cache: %s of %s%s%s (%s in all)", level, from->id,
	         from != d ? ", which shares memory pool " : "", from != d ? pool : "",
	         trit_format_bytes(llc, b, sizeof b));
	return llc > UINT64_MAX / 2 ? UINT64_MAX : 2 * llc;
}

/* The peak int8 throughput of one core for kernel `type` on d (r->threads
 * set): the plugin's "compute.int8_peak.<type>", else "compute.int8_peak". */
static void peak_of(const struct trit_device *d, uint32_t type, struct trit_bench_result *r)
{
	char key[48], name[8];
	const struct trit_property *p;
	const char *tn = trit_type_traits(type)->name;
	size_t i = 0;

	for (; tn[i] && i + 1 < sizeof name; i++)
		name[i] = (char)(tn[i] >= 'A' && tn[i] <= 'Z' ? tn[i] - 'A' + 'a' : tn[i]);
	name[i] = '\0';
	snprintf(key, sizeof key, TRIT_PROP_COMPUTE_INT8_PEAK ".%s", name);
	if (!(p = prop(d, key)))
		p = prop(d, TRIT_PROP_COMPUTE_INT8_PEAK);
	r->peak_core_ops = -1;
	if (d->kind != TRIT_DEVICE_CPU)
		snprintf(r->peak_why, sizeof r->peak_why, "not a CPU: the peak is one core's, "
		         "scaled by the threads");
	else if (!p || p->text || !p->unit || strcmp(p->unit, "ops/s"))
		snprintf(r->peak_why, sizeof r->peak_why, "%s reports no " TRIT_PROP_COMPUTE_INT8_PEAK
		         " in ops/s (its plugin does not measure it)", d->id);
	else if (p->value.state == TRIT_VALUE_UNKNOWN || !p->value.value)
		snprintf(r->peak_why, sizeof r->peak_why, "%s %s is unknown: %s", d->id, p->key,
		         p->value.source ? p->value.source : "no reason given");
	else if (r->threads < 1)
		snprintf(r->peak_why, sizeof r->peak_why, "no thread count to scale %s by", p->key);
	else {
		r->peak_core_ops = (double)p->value.value;
		snprintf(r->peak_why, sizeof r->peak_why, "%s %s, %s by the plugin: %s", d->id,
		         p->key, p->value.state == TRIT_VALUE_CONFIGURED ? "configured" :
		         p->value.state == TRIT_VALUE_DERIVED ? "derived" : "measured",
		         p->value.source ? p->value.source : "no source given");
	}
}

double trit_bench_peak_ops(const struct trit_bench_result *r)
{
	return r->peak_core_ops > 0 && r->threads ? r->peak_core_ops * r->threads : -1;
}

/* ------------------------------------------------------------------------ */
/* Random inputs                                                             */

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64*: plenty for benchmark data, and reproducible */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

/* Rows of the F32 source packed per call: a multiple of the TL row tile, so
 * every chunk starts a tile. */
#define PACK_CHUNK_ROWS 256u

/*
 * Random ternary weights (trits uniform over -1, 0, +1, scale 0.5) packed as
 * `type` into dst (trit_ternary_bytes(type, rows, cols) bytes), chunk by
 * chunk so a 128256-row output matrix never exists as F32 at once. Each
 * chunk's scale trailer lands where the next chunk starts and is overwritten
 * by it; the last one is the tensor's.
 */
static int pack_random(uint32_t type, uint64_t rows, uint64_t cols, uint64_t *seed,
                       unsigned char *dst, uint64_t dst_bytes, char *err, size_t errlen)
{
	uint64_t chunk = rows < PACK_CHUNK_ROWS ? rows : PACK_CHUNK_ROWS;
	float *src = malloc(chunk * cols * sizeof *src);

	if (!src)
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory for %llu x %llu weights",
		                 (unsigned long long)chunk, (unsigned long long)cols);
	for (uint64_t r0 = 0; r0 < rows; r0 += chunk) {
		uint64_t n = rows - r0 < chunk ? rows - r0 : chunk, off = 0;
		struct trit_ternary_geometry g;
		int rc;

		if (r0 && trit_ternary_geometry(type, r0, cols, &g) == 0)
			off = g.data_bytes;
		for (uint64_t i = 0; i < n * cols; i++)
			src[i] = 0.5f * (float)((int)(rng_next(seed) >> 33) % 3 - 1);
		src[0] = 0.5f; /* never an all-zero chunk: its scale would be 0 */
		rc = trit_ternary_pack(type, dst + off, dst_bytes - off, TRIT_TYPE_F32, src,
		                       n * cols * sizeof *src, n, cols, err, errlen);
		if (rc) {
			free(src);
			return rc;
		}
	}
	free(src);
	return 0;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Keep the calling thread busy (not asleep) for `us` microseconds: the
 * single-threaded work between two matmuls of a forward pass. */
static void busy_gap(uint32_t us)
{
	double end = now() + us * 1e-6;
	while (now() < end)
		;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Median, min and max of v[0..n-1] (sorted in place). */
static void stats(double *v, uint32_t n, double *median, double *min, double *max)
{
	qsort(v, n, sizeof *v, cmp_double);
	*min = v[0];
	*max = v[n - 1];
	*median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ------------------------------------------------------------------------ */
/* The baseline: a plain streaming read, split over threads                  */

/*
 * What each thread reads: its share of `count` copies starting at `first`.
 * The helpers exist only while a baseline is read and spin on `gen` (with
 * sched_yield), so waking them costs far less than a sample takes.
 */
struct reader {
	pthread_t *th;
	uint32_t n;                  /* threads, the caller included */
	uint32_t started;            /* helper threads running */
	const unsigned char *base;
	uint64_t stride, bytes, copies, first, count;
	atomic_uint_fast64_t gen;
	atomic_uint_fast32_t pending;
	atomic_int quit;
	uint64_t *sink;              /* one per thread, so the reads are not optimised away */
};

struct reader_arg {
	struct reader *r;
	uint32_t id;
};

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

static void read_share(struct reader *r, uint32_t id)
{
	/* thread id reads [lo, hi) of every copy, cut at 64-byte lines */
	uint64_t lo = r->bytes * id / r->n / 64 * 64;
	uint64_t hi = id + 1 == r->n ? r->bytes : r->bytes * (id + 1) / r->n / 64 * 64;
	uint64_t sum = 0;

	for (uint64_t c = 0; c < r->count; c++)
		sum += read_range(r->base + (r->first + c) % r->copies * r->stride + lo, hi - lo);
	r->sink[id] += sum;
}

static void *reader_thread(void *arg)
{
	struct reader_arg *a = arg;
	struct reader *r = a->r;
	uint_fast64_t seen = 0;

	for (;;) {
		uint_fast64_t g;
		while ((g = atomic_load(&r->gen)) == seen && !atomic_load(&r->quit))
			sched_yield();
		if (atomic_load(&r->quit))
			break;
		seen = g;
		read_share(r, a->id);
		atomic_fetch_sub(&r->pending, 1);
	}
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* One kernel                                                                */

struct kbench {
	const struct trit_backend *be;
	void *state;
	uint32_t index;
	const struct trit_device *d;
	uint32_t type;
	const struct trit_bench_opts *o;
	const char *label;           /* "ref/ref0 I2_S" for messages */
	uint64_t working_set;
	uint64_t seed;
	struct trit_bench_arena *arena;
	/* the host read */
	struct reader rd;
	struct reader_arg *args;
	int host;
};

static void progress(const struct kbench *k, const char *fmt, ...) TRIT_PRINTF(2, 3);
static void progress(const struct kbench *k, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!k->o->progress)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	k->o->progress(k->o->progress_ctx, msg);
}

static void reader_stop(struct kbench *k)
{
	struct reader *r = &k->rd;

	atomic_store(&r->quit, 1);
	for (uint32_t i = 1; i <= r->started; i++)
		pthread_join(r->th[i], NULL);
	r->started = 0;
	free(r->th);
	free(k->args);
	r->th = NULL;
	k->args = NULL;
}

/* Start the helpers reading `copies` copies of `bytes` at base (stride apart). */
static int reader_start(struct kbench *k, const unsigned char *base, uint64_t stride,
                        uint64_t bytes, uint64_t copies, char *err, size_t errlen)
{
	struct reader *r = &k->rd;
	uint32_t n = k->o->threads ? k->o->threads : 1;

	r->n = n;
	r->base = base;
	r->stride = stride;
	r->bytes = bytes;
	r->copies = copies;
	r->started = 0;
	atomic_store(&r->gen, 0);
	atomic_store(&r->pending, 0);
	atomic_store(&r->quit, 0);
	r->th = calloc(n, sizeof *r->th);
	k->args = calloc(n, sizeof *k->args);
	if (!r->th || !k->args || (!r->sink && !(r->sink = calloc(n, sizeof *r->sink)))) {
		reader_stop(k);
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	}
	for (uint32_t i = 1; i < n; i++) {
		k->args[i] = (struct reader_arg){ r, i };
		if (pthread_create(&r->th[i], NULL, reader_thread, &k->args[i])) {
			reader_stop(k);
			return trit_errf(err, errlen, TRIT_ENOMEM, "cannot start reader thread %u of %u "
			                 "for the baseline", i + 1, n);
		}
		r->started = i;
	}
	return 0;
}

/* Read `count` copies from `first` with every thread; returns seconds. */
static double reader_run(struct kbench *k, uint64_t first, uint64_t count)
{
	struct reader *r = &k->rd;
	double t0 = now();

	r->first = first;
	r->count = count;
	atomic_store(&r->pending, r->n - 1);
	atomic_fetch_add(&r->gen, 1);
	read_share(r, 0);
	while (atomic_load(&r->pending))
		sched_yield();
	return now() - t0;
}

static void *xaligned(uint64_t size)
{
	if (size > SIZE_MAX - 64)
		return NULL;
	return aligned_alloc(64, ((size_t)size + 63) / 64 * 64);
}

/* ------------------------------------------------------------------------ */
/* The run's buffers                                                         */

void trit_bench_arena_free(struct trit_bench_arena *a)
{
	if (!a)
		return;
	if (a->w)
		a->be->buffer_free(a->state, a->w);
	free(a->host);
	free(a->scratch);
	memset(a, 0, sizeof *a);
}

/* A device buffer of at least `need` bytes for the weights' copies in the
 * arena: the one there when it is this device's and large enough, else a
 * new one of `size` (need and some to spare) bytes. */
static int arena_weights(struct kbench *k, uint64_t need, uint64_t size, char *err,
                         size_t errlen)
{
	struct trit_bench_arena *a = k->arena;
	char why[512] = "", b[32];
	int rc;

	if (a->w && (a->be != k->be || a->state != k->state || a->index != k->index ||
	             a->w_bytes < need)) {
		a->be->buffer_free(a->state, a->w);
		a->w = NULL;
		a->w_bytes = 0;
	}
	if (a->w)
		return 0;
	progress(k, "%s: allocating %s for the weights' copies", k->label,
	         trit_format_bytes(size, b, sizeof b));
	if ((rc = k->be->buffer_alloc(k->state, k->index, size, &a->w, why, sizeof why))) {
		a->w = NULL;
		return trit_errf(err, errlen, rc, "%s: buffer_alloc of %s for the weights' copies "
		                 "failed: %s", k->label, b, why[0] ? why : "no reason given");
	}
	a->be = k->be;
	a->state = k->state;
	a->index = k->index;
	a->w_bytes = size;
	return 0;
}

/* At least `need` bytes of host memory at *p (*have of them): a new block
 * of `size` when there are fewer. */
static int arena_grow(unsigned char **p, uint64_t *have, uint64_t need, uint64_t size)
{
	if (*p && *have >= need)
		return 0;
	free(*p);
	*have = 0;
	if (!(*p = xaligned(size > need ? size : need)))
		return TRIT_ENOMEM;
	*have = size > need ? size : need;
	return 0;
}

/* Some to spare: the next kernel's copies of the same shapes can span a
 * few bytes more than this one's (their stride differs). */
static uint64_t spare(uint64_t need)
{
	return need + (need / 16 < (UINT64_C(4) << 20) ? need / 16 : UINT64_C(4) << 20);
}

/* ------------------------------------------------------------------------ */
/* The weights of one shape                                                  */

/*
 * Packing is slow (a switch per trit: seconds for the 128256x2560 output
 * matrix), so each shape packs one pool of random rows, about
 * TRIT_BENCH_POOL_TRITS trits in whole row tiles (1 row for I2_S, 32 for TL1
 * and TL2) plus the tensor's partial last tile, and tensors a and b are
 * assembled from the pool's tiles: every layout keeps a row tile's bytes
 * together, so any arrangement of whole tiles is a valid tensor. Tile i of a
 * is pool tile (i + i / P) % P (P whole tiles in the pool: each repetition of
 * the pool is shifted one tile further, so rows a pool apart differ); tile
 * i of b is the next pool tile after a's, so every whole tile of b differs
 * from a's and a kernel that ignored weights_offset is caught. The
 * reference dots are computed once, on the pool, and rearranged the same
 * way; the kernel's output is still compared on every row. A tensor with
 * fewer than two whole tiles gets a b packed on its own.
 */
struct layout {
	uint64_t tile_rows, tile_bytes;
	uint64_t full;          /* whole row tiles of the tensor */
	uint64_t pool_full;     /* whole row tiles of the pool (P, at most full) */
	uint64_t pool_rows;     /* the pool's P tiles and the tensor's partial tile */
	uint64_t pool_bytes, pool_data;
	int b_own;              /* b packed on its own */
};

static void layout_of(uint32_t type, uint64_t rows, uint64_t cols, struct layout *l)
{
	struct trit_ternary_geometry g, pg;
	uint64_t want;

	trit_ternary_geometry(type, rows, cols, &g);
	l->tile_rows = type == TRIT_TYPE_I2_S ? 1 : TRIT_TL_TILE_ROWS;
	l->tile_bytes = g.data_bytes / (g.rows_pad / l->tile_rows);
	l->full = rows / l->tile_rows;
	want = TRIT_BENCH_POOL_TRITS / (l->tile_rows * g.cols_pad);
	if (want < 2)
		want = 2;
	l->pool_full = l->full < want ? l->full : want;
	l->pool_rows = l->pool_full * l->tile_rows + rows % l->tile_rows;
	trit_ternary_geometry(type, l->pool_rows, cols, &pg);
	l->pool_bytes = pg.total_bytes;
	l->pool_data = pg.data_bytes;
	l->b_own = l->pool_full < 2;
}

/* The pool tile that tile i of tensor a (which 0) or b (1) holds. */
static uint64_t pool_tile(const struct layout *l, uint64_t i, int which)
{
	uint64_t t;

	if (i >= l->full)
		return l->pool_full; /* the partial tile: the pool's last */
	t = (i + i / l->pool_full) % l->pool_full;
	return which ? (t + 1) % l->pool_full : t;
}

/* Tensor a or b (data_bytes, then the pool's scale trailer) into dst. */
static void assemble(const struct layout *l, const unsigned char *pool, uint64_t data_bytes,
                     int which, unsigned char *dst)
{
	for (uint64_t i = 0; i < data_bytes / l->tile_bytes; i++)
		memcpy(dst + i * l->tile_bytes, pool + pool_tile(l, i, which) * l->tile_bytes,
		       l->tile_bytes);
	memcpy(dst + data_bytes, pool + l->pool_data, TRIT_TERNARY_TRAILER_BYTES);
}

/* The reference dots of tensor a or b, from the pool's. */
static void expected_dots(const struct layout *l, const int32_t *pool_dots, uint64_t rows,
                          uint64_t tokens, int which, int32_t *out)
{
	for (uint64_t t = 0; t < tokens; t++)
		for (uint64_t r = 0; r < rows; r++) {
			uint64_t pr = pool_tile(l, r / l->tile_rows, which) * l->tile_rows +
			              r % l->tile_rows;
			out[t * rows + r] = pool_dots[t * l->pool_rows + pr];
		}
}

/* ------------------------------------------------------------------------ */
/* One shape                                                                 */

/* The buffers of one shape, freed together (the weights' copies, the
 * baseline's host copy and a, b and stage are the arena's). */
struct shape_bufs {
	struct trit_buffer *in, *out, *ws;
	unsigned char *pool, *a, *b, *stage;
	float *x, *y, *s;
	int8_t *q;
	int32_t *dots, *ref, *pool_dots;
};

static void shape_free(struct kbench *k, struct shape_bufs *sb)
{
	if (sb->in)
		k->be->buffer_free(k->state, sb->in);
	if (sb->out)
		k->be->buffer_free(k->state, sb->out);
	if (sb->ws)
		k->be->buffer_free(k->state, sb->ws);
	free(sb->pool);
	free(sb->x);
	free(sb->y);
	free(sb->s);
	free(sb->q);
	free(sb->dots);
	free(sb->ref);
	free(sb->pool_dots);
	memset(sb, 0, sizeof *sb);
}

/* A failed buffer operation as a sentence naming the kernel and the step. */
static int buf_error(const struct kbench *k, int rc, const char *what, const char *why,
                     char *err, size_t errlen)
{
	return trit_errf(err, errlen, rc, "%s: %s failed: %s", k->label, what,
	                 why && why[0] ? why : "no reason given");
}

static int call(struct kbench *k, struct trit_matmul *op, const char *what,
                char *err, size_t errlen)
{
	char why[512] = "";
	int rc = k->be->matmul(k->state, k->index, op, why, sizeof why);
	if (rc)
		return trit_errf(err, errlen, rc, "%s %llux%llu: %s failed: %s", k->label,
		                 (unsigned long long)op->rows, (unsigned long long)op->cols, what,
		                 why[0] ? why : "no reason given");
	return 0;
}

/*
 * Check the copy at `copy` (holding tensor w, whose reference dots are in
 * sb->ref) against the reference: the integer dots exactly, the F32 output
 * within 1e-5 of the largest |y|.
 */
static int check_copy(struct kbench *k, struct shape_bufs *sb, struct trit_matmul op,
                      uint64_t stride, uint64_t copy, const unsigned char *w,
                      char *err, size_t errlen)
{
	uint64_t rows = op.rows, cols = op.cols, tokens = op.tokens, n = tokens * rows;
	struct trit_ternary_geometry g;
	char why[512] = "";
	double tol, big = 0;
	float scale;
	int rc;

	trit_ternary_geometry(k->type, rows, cols, &g);
	scale = trit_ternary_scale(w, g.data_bytes);
	op.weights_offset = copy * stride;

	op.flags = TRIT_MATMUL_INT_DOTS;
	if ((rc = k->be->buffer_write(k->state, sb->in, 0, sb->q, tokens * cols, why, sizeof why)))
		return buf_error(k, rc, "buffer_write", why, err, errlen);
	if ((rc = call(k, &op, "the integer-dot matmul", err, errlen)))
		return rc;
	if ((rc = k->be->buffer_read(k->state, sb->out, 0, sb->dots, n * 4, why, sizeof why)))
		return buf_error(k, rc, "buffer_read", why, err, errlen);
	for (uint64_t i = 0; i < n; i++)
		if (sb->dots[i] != sb->ref[i])
			return trit_errf(err, errlen, TRIT_EINTERNAL, "%s %llux%llu disagrees with the "
			                 "reference: copy %llu, token %llu, row %llu: integer dot %ld, the "
			                 "reference says %ld; not reported", k->label,
			                 (unsigned long long)rows, (unsigned long long)cols,
			                 (unsigned long long)copy, (unsigned long long)(i / rows),
			                 (unsigned long long)(i % rows), (long)sb->dots[i], (long)sb->ref[i]);

	op.flags = 0;
	if ((rc = k->be->buffer_write(k->state, sb->in, 0, sb->x, tokens * cols * 4, why, sizeof why)))
		return buf_error(k, rc, "buffer_write", why, err, errlen);
	if ((rc = call(k, &op, "the F32 matmul", err, errlen)))
		return rc;
	if ((rc = k->be->buffer_read(k->state, sb->out, 0, sb->y, n * 4, why, sizeof why)))
		return buf_error(k, rc, "buffer_read", why, err, errlen);
	for (uint64_t i = 0; i < n; i++) {
		double v = fabs((double)trit_ternary_output(sb->ref[i], sb->s[i / rows], scale));
		if (v > big)
			big = v;
	}
	tol = 1e-5 * (big > 0 ? big : 1);
	for (uint64_t i = 0; i < n; i++) {
		float want = trit_ternary_output(sb->ref[i], sb->s[i / rows], scale);
		if (!(fabs((double)sb->y[i] - (double)want) <= tol))
			return trit_errf(err, errlen, TRIT_EINTERNAL, "%s %llux%llu disagrees with the "
			                 "reference: copy %llu, token %llu, row %llu: F32 output %.9g, the "
			                 "reference says %.9g (tolerance %.3g); not reported", k->label,
			                 (unsigned long long)rows, (unsigned long long)cols,
			                 (unsigned long long)copy, (unsigned long long)(i / rows),
			                 (unsigned long long)(i % rows), (double)sb->y[i], (double)want, tol);
	}
	return 0;
}

/* Copies are written (and copied for the baseline) this many bytes at a
 * time at most: small tensors go as a block of copies of b, not one call
 * each (a 1x1 shape has millions of copies). */
#define STAGE_BYTES (UINT64_C(4) << 20)

/* Copy 0 holds a, the others b: into the device's buffer (host NULL) or
 * into host. */
static int write_copies(struct kbench *k, struct shape_bufs *sb, uint64_t bytes, uint64_t stride,
                        uint64_t copies, uint64_t per, unsigned char *host, char *err,
                        size_t errlen)
{
	const unsigned char *blk = per > 1 ? sb->stage : sb->b;
	char why[512] = "";
	int rc;

	if (host)
		memcpy(host, sb->a, bytes);
	else if ((rc = k->be->buffer_write(k->state, k->arena->w, 0, sb->a, bytes, why, sizeof why)))
		return buf_error(k, rc, "buffer_write", why, err, errlen);
	for (uint64_t c = 1; c < copies;) {
		uint64_t n = copies - c < per ? copies - c : per, len = (n - 1) * stride + bytes;
		if (host)
			memcpy(host + c * stride, blk, len);
		else if ((rc = k->be->buffer_write(k->state, k->arena->w, c * stride, blk, len, why,
		                                   sizeof why)))
			return buf_error(k, rc, "buffer_write", why, err, errlen);
		c += n;
	}
	return 0;
}

/* Copies of a `bytes`-byte tensor, 256 bytes apart, spanning the working
 * set (0 when that overflows); *per: copies written at a time; *scratch:
 * the host memory for a, b and a block of per copies. */
static uint64_t copies_of(const struct kbench *k, uint64_t bytes, uint64_t *stride,
                          uint64_t *per, uint64_t *scratch)
{
	uint64_t copies;

	*stride = trit_round_up_u64(bytes, 256);
	copies = k->working_set > *stride ? (k->working_set + *stride - 1) / *stride : 1;
	if (copies > UINT64_MAX / *stride)
		return 0;
	*per = 1;
	if (copies > 1 && *stride < STAGE_BYTES) {
		*per = STAGE_BYTES / *stride;
		if (*per > copies - 1)
			*per = copies - 1;
	}
	*scratch = 2 * *stride + (*per > 1 ? *per * *stride : 0);
	return copies;
}

static int bench_shape(struct kbench *k, uint64_t rows, uint64_t cols, uint32_t step,
                       struct trit_bench_shape *sh, char *err, size_t errlen)
{
	const struct trit_bench_opts *o = k->o;
	uint64_t tokens = o->tokens ? o->tokens : 1, copies, stride, batch, gap_batch, per, scratch;
	uint64_t bytes = trit_ternary_bytes(k->type, rows, cols), in_bytes, out_bytes, next = 0;
	uint64_t ws_f32 = 0, ws_int = 0;
	uint32_t reps = o->reps ? o->reps : 1;
	struct trit_ternary_geometry g;
	struct shape_bufs sb = { 0 };
	struct layout l;
	double *t = NULL;
	char why[512] = "", b1[32], b2[32], at[256];
	int rc;

	memset(sh, 0, sizeof *sh);
	sh->rows = rows;
	sh->cols = cols;
	sh->read_median = sh->read_bps = sh->ratio = -1;
	if (!bytes || rows > (UINT64_C(1) << 31) || cols > (UINT64_C(1) << 31) ||
	    tokens > (UINT64_C(1) << 20))
		return trit_errf(err, errlen, TRIT_ERANGE, "shape %llux%llu with %llu tokens is too "
		                 "large", (unsigned long long)rows, (unsigned long long)cols,
		                 (unsigned long long)tokens);
	/* copies of `bytes` (what the kernel reads), each on a 256-byte boundary
	 * (which every backend's loads accept), span the working set */
	if (!(copies = copies_of(k, bytes, &stride, &per, &scratch)))
		return trit_errf(err, errlen, TRIT_ERANGE, "working set overflows");
	batch = (TRIT_BENCH_SAMPLE_BYTES + bytes - 1) / bytes;
	if (batch > TRIT_BENCH_MAX_BATCH)
		batch = TRIT_BENCH_MAX_BATCH;
	if (batch > copies)
		batch = copies;
	gap_batch = batch < TRIT_BENCH_GAP_BATCH ? batch : TRIT_BENCH_GAP_BATCH;
	sh->bytes = bytes;
	sh->copies = copies;
	sh->batch = batch;
	in_bytes = tokens * cols * 4;
	out_bytes = tokens * rows * 4;
	trit_ternary_geometry(k->type, rows, cols, &g);
	layout_of(k->type, rows, cols, &l);
	if (o->steps)
		snprintf(at, sizeof at, "%s %llux%llu (%u/%u)", k->label, (unsigned long long)rows,
		         (unsigned long long)cols, step, o->steps);
	else
		snprintf(at, sizeof at, "%s %llux%llu", k->label, (unsigned long long)rows,
		         (unsigned long long)cols);

	struct trit_matmul op = {
		.struct_size = sizeof op, .weight_type = k->type, .rows = rows, .cols = cols,
		.tokens = tokens, .n_threads = o->threads,
	};
	op.flags = 0;
	rc = k->be->matmul_workspace(k->state, k->index, &op, &ws_f32, why, sizeof why);
	op.flags = TRIT_MATMUL_INT_DOTS;
	if (!rc)
		rc = k->be->matmul_workspace(k->state, k->index, &op, &ws_int, why, sizeof why);
	op.flags = 0;
	if (rc)
		return trit_errf(err, errlen, rc, "%s %llux%llu: matmul_workspace failed: %s", k->label,
		                 (unsigned long long)rows, (unsigned long long)cols,
		                 why[0] ? why : "no reason given");

	progress(k, "%s, %llu token%s: packing random weights, writing %llu cop%s of %s (%s "
	         "working set)", at, (unsigned long long)tokens, tokens == 1 ? "" : "s",
	         (unsigned long long)copies, copies == 1 ? "y" : "ies",
	         trit_format_bytes(bytes, b1, sizeof b1),
	         trit_format_bytes(copies * stride, b2, sizeof b2));
	if (!arena_grow(&k->arena->scratch, &k->arena->scratch_bytes, scratch, scratch)) {
		sb.a = k->arena->scratch;
		sb.b = copies > 1 ? sb.a + stride : NULL;
		sb.stage = per > 1 ? sb.a + 2 * stride : NULL;
	}
	sb.pool = malloc(l.pool_bytes);
	sb.x = malloc(in_bytes);
	sb.y = malloc(out_bytes);
	sb.s = malloc(tokens * sizeof *sb.s);
	sb.q = malloc(tokens * cols);
	sb.dots = malloc(out_bytes);
	sb.ref = malloc(out_bytes);
	sb.pool_dots = malloc(tokens * l.pool_rows * sizeof *sb.pool_dots);
	t = malloc(reps * sizeof *t);
	if (!sb.pool || !sb.a || (copies > 1 && !sb.b) || (per > 1 && !sb.stage) || !sb.x ||
	    !sb.y || !sb.s || !sb.q || !sb.dots || !sb.ref || !sb.pool_dots || !t) {
		rc = trit_errf(err, errlen, TRIT_ENOMEM, "out of host memory for %s %llux%llu",
		               k->label, (unsigned long long)rows, (unsigned long long)cols);
		goto out;
	}
	if ((rc = pack_random(k->type, l.pool_rows, cols, &k->seed, sb.pool, l.pool_bytes, err,
	                      errlen)))
		goto out;
	assemble(&l, sb.pool, g.data_bytes, 0, sb.a);
	if (sb.b && l.b_own)
		rc = pack_random(k->type, rows, cols, &k->seed, sb.b, bytes, err, errlen);
	else if (sb.b)
		assemble(&l, sb.pool, g.data_bytes, 1, sb.b);
	if (rc)
		goto out;
	if (sb.stage) {
		memset(sb.stage, 0, per * stride);
		for (uint64_t i = 0; i < per; i++)
			memcpy(sb.stage + i * stride, sb.b, bytes);
	}
	for (uint64_t i = 0; i < tokens * cols; i++)
		sb.x[i] = (float)((double)(rng_next(&k->seed) >> 40) / (double)(1u << 23) - 1.0);
	for (uint64_t tk = 0; tk < tokens; tk++)
		sb.s[tk] = trit_quantize_act(sb.x + tk * cols, cols, sb.q + tk * cols);
	trit_ref_matmul_int(k->type, sb.pool, l.pool_rows, cols, sb.q, tokens, sb.pool_dots);

	/* device buffers: copy 0 holds tensor a, the others b, so a kernel that
	 * ignored weights_offset would fail the check on the last copy */
	if ((rc = k->be->buffer_alloc(k->state, k->index, in_bytes, &sb.in, why, sizeof why)) ||
	    (rc = k->be->buffer_alloc(k->state, k->index, out_bytes, &sb.out, why, sizeof why)) ||
	    ((ws_f32 || ws_int) && (rc = k->be->buffer_alloc(k->state, k->index,
	                                                     ws_f32 > ws_int ? ws_f32 : ws_int,
	                                                     &sb.ws, why, sizeof why)))) {
		rc = trit_errf(err, errlen, rc, "%s %llux%llu: buffer_alloc failed: %s", k->label,
		               (unsigned long long)rows, (unsigned long long)cols,
		               why[0] ? why : "no reason given");
		goto out;
	}
	if ((rc = write_copies(k, &sb, bytes, stride, copies, per, NULL, err, errlen)))
		goto out;
	op.weights = k->arena->w;
	op.input = sb.in;
	op.output = sb.out;
	op.workspace = sb.ws;

	progress(k, "%s: checking against the reference", at);
	expected_dots(&l, sb.pool_dots, rows, tokens, 0, sb.ref);
	if ((rc = check_copy(k, &sb, op, stride, 0, sb.a, err, errlen)))
		goto out;
	if (copies > 1) {
		if (l.b_own)
			trit_ref_matmul_int(k->type, sb.b, rows, cols, sb.q, tokens, sb.ref);
		else
			expected_dots(&l, sb.pool_dots, rows, tokens, 1, sb.ref);
		if ((rc = check_copy(k, &sb, op, stride, copies - 1, sb.b, err, errlen)))
			goto out;
	}

	/* the timed runs: F32 in, F32 out, rotating over the copies */
	progress(k, "%s: timing %u sample%s of %llu matmul%s", at, reps, reps == 1 ? "" : "s",
	         (unsigned long long)batch, batch == 1 ? "" : "s");
	if ((rc = k->be->buffer_write(k->state, sb.in, 0, sb.x, in_bytes, why, sizeof why))) {
		rc = buf_error(k, rc, "buffer_write", why, err, errlen);
		goto out;
	}
	for (uint32_t r = 0; r <= reps; r++) {
		double t0 = now();
		for (uint64_t i = 0; i < batch; i++) {
			op.weights_offset = next * stride;
			next = (next + 1) % copies;
			if ((rc = call(k, &op, "matmul", err, errlen)))
				goto out;
		}
		/* a device that runs asynchronously has finished once its output
		 * can be read back */
		if (!k->host && (rc = k->be->buffer_read(k->state, sb.out, 0, sb.y, 4, why, sizeof why))) {
			rc = buf_error(k, rc, "buffer_read", why, err, errlen);
			goto out;
		}
		if (r) /* sample 0 warms up */
			t[r - 1] = (now() - t0) / (double)batch;
	}
	stats(t, reps, &sh->median, &sh->min, &sh->max);
	sh->gops = 2.0 * (double)rows * (double)cols * (double)tokens / sh->median / 1e9;
	sh->weight_bps = (double)bytes / sh->median;

	/* the same with a gap of busy work before each matmul, only the matmuls
	 * timed: what a pool that parks its threads between calls costs */
	sh->gap_median = -1;
	if (k->host) {
		double lo, hi;
		progress(k, "%s: timing %u sample%s of %llu matmul%s, each after a %u us gap", at,
		         reps, reps == 1 ? "" : "s", (unsigned long long)gap_batch,
		         gap_batch == 1 ? "" : "s", TRIT_BENCH_GAP_US);
		for (uint32_t r = 0; r <= reps; r++) {
			double sum = 0;
			for (uint64_t i = 0; i < gap_batch; i++) {
				double t0;
				op.weights_offset = next * stride;
				next = (next + 1) % copies;
				busy_gap(TRIT_BENCH_GAP_US);
				t0 = now();
				if ((rc = call(k, &op, "matmul", err, errlen)))
					goto out;
				sum += now() - t0;
			}
			if (r)
				t[r - 1] = sum / (double)gap_batch;
		}
		stats(t, reps, &sh->gap_median, &lo, &hi);
	}

	/* the baseline: the same bytes, the same rotation, read from host memory */
	if (k->host) {
		progress(k, "%s: reading the same %s from host memory (the baseline)", at,
		         trit_format_bytes(copies * stride, b2, sizeof b2));
		if (arena_grow(&k->arena->host, &k->arena->host_bytes, copies * stride,
		               copies * stride)) {
			rc = trit_errf(err, errlen, TRIT_ENOMEM, "out of host memory for the %s baseline",
			               trit_format_bytes(copies * stride, b2, sizeof b2));
			goto out;
		}
		write_copies(k, &sb, bytes, stride, copies, per, k->arena->host, err, errlen);
		if ((rc = reader_start(k, k->arena->host, stride, bytes, copies, err, errlen)))
			goto out;
		next = 0;
		for (uint32_t r = 0; r <= reps; r++) {
			double s = reader_run(k, next, batch);
			next = (next + batch) % copies;
			if (r)
				t[r - 1] = s / (double)batch;
		}
		reader_stop(k);
		double lo, hi;
		stats(t, reps, &sh->read_median, &lo, &hi);
		sh->read_bps = (double)bytes / sh->read_median;
		sh->ratio = sh->weight_bps / sh->read_bps;
	}
	rc = 0;
out:
	free(t);
	shape_free(k, &sb);
	return rc;
}

int trit_bench_kernel(const struct trit_backend *be, void *state, uint32_t index,
                      const char *backend, const struct trit_device *d, uint32_t type,
                      const struct trit_device *const *peers, size_t n_peers,
                      const struct trit_bench_opts *o, struct trit_bench_result *out,
                      char *err, size_t errlen)
{
	const struct trit_type_traits *tt = trit_type_traits(type);
	struct trit_bench_arena own = { 0 };
	struct kbench k = { .be = be, .state = state, .index = index, .d = d, .type = type, .o = o,
	                    .arena = o->arena ? o->arena : &own };
	const char *isa = trit_bench_isa(d);
	char label[200];
	double bytes = 0, ops = 0, secs = 0, rsecs = 0, gsecs = 0;
	uint64_t need = 0, scratch = 0;
	time_t now_t = time(NULL);
	struct tm tm;
	int rc = 0;

	memset(out, 0, sizeof *out);
	if (type != TRIT_TYPE_I2_S && type != TRIT_TYPE_TL1 && type != TRIT_TYPE_TL2)
		return trit_errf(err, errlen, TRIT_EINVAL, "%s is not a ternary kernel type",
		                 tt ? tt->name : "(unknown)");
	if (!o->n_shapes || o->n_shapes > TRIT_BENCH_MAX_SHAPES)
		return trit_errf(err, errlen, TRIT_EINVAL, "between 1 and %u shapes, not %u",
		                 TRIT_BENCH_MAX_SHAPES, o->n_shapes);
	snprintf(label, sizeof label, "%s/%s %s", backend, d->id, tt->name);
	k.label = label;
	k.seed = o->seed ? o->seed : UINT64_C(0x7472697462656e63);
	k.host = trit_bench_host_memory(d);
	snprintf(out->backend, sizeof out->backend, "%s", backend);
	snprintf(out->device_id, sizeof out->device_id, "%s", d->id);
	snprintf(out->device_name, sizeof out->device_name, "%s", d->name ? d->name : "");
	snprintf(out->isa, sizeof out->isa, "%s", isa ? isa : "");
	snprintf(out->kernel, sizeof out->kernel, "%s", tt->name);
	out->type = type;
	out->kind = d->kind;
	out->tokens = o->tokens ? o->tokens : 1;
	out->threads = o->threads;
	out->reps = o->reps ? o->reps : 1;
	out->full = o->full ? 1 : 0;
	out->gap_us = TRIT_BENCH_GAP_US;
	peak_of(d, type, out);
	if (o->working_set) {
		k.working_set = o->working_set;
		snprintf(out->working_set_why, sizeof out->working_set_why, "as given (--working-set)");
	} else {
		char why[240], b[32];
		uint64_t full = trit_bench_working_set(d, peers, n_peers, why, sizeof why);
		if (!o->full && full > TRIT_BENCH_QUICK_WORKING_SET) {
			k.working_set = TRIT_BENCH_QUICK_WORKING_SET;
			snprintf(out->working_set_why, sizeof out->working_set_why, "a quick run's cap "
			         "(--full: %s, %s)", trit_format_bytes(full, b, sizeof b), why);
		} else {
			k.working_set = full;
			snprintf(out->working_set_why, sizeof out->working_set_why, "%s", why);
		}
	}
	out->working_set = k.working_set;
	if (k.host)
		snprintf(out->read_why, sizeof out->read_why, "a plain streaming read of the same "
		         "bytes in host memory, rotating over the same copies, %u thread%s",
		         o->threads ? o->threads : 1, o->threads > 1 ? "s" : "");
	else
		snprintf(out->read_why, sizeof out->read_why, "unknown: %s keeps its buffers in its "
		         "own memory and the plugin ABI offers no device-side copy or read to time "
		         "(buffer_read measures the host link, not the device's memory)", d->id);
	gmtime_r(&now_t, &tm);
	strftime(out->measured_at, sizeof out->measured_at, "%Y-%m-%dT%H:%M:%SZ", &tm);

	/* one buffer for every shape's copies (and one host copy, one scratch):
	 * the largest they need, so that growing it does not touch new memory
	 * again midway */
	for (uint32_t i = 0; i < o->n_shapes; i++) {
		uint64_t b = trit_ternary_bytes(type, o->rows[i], o->cols[i]), stride, c, per, sc;
		if (b && (c = copies_of(&k, b, &stride, &per, &sc))) {
			need = c * stride > need ? c * stride : need;
			scratch = sc > scratch ? sc : scratch;
		}
	}
	if (need)
		rc = arena_weights(&k, need, spare(need), err, errlen);
	if (!rc && need && (arena_grow(&k.arena->scratch, &k.arena->scratch_bytes, scratch,
	                               spare(scratch)) ||
	                    (k.host && arena_grow(&k.arena->host, &k.arena->host_bytes, need,
	                                          spare(need)))))
		rc = trit_errf(err, errlen, TRIT_ENOMEM, "%s: out of host memory for the copies "
		               "of the weights (%llu bytes)", label,
		               (unsigned long long)(k.host ? need + scratch : scratch));

	for (uint32_t i = 0; i < o->n_shapes && !rc; i++) {
		struct trit_bench_shape *sh = &out->shapes[i];
		rc = bench_shape(&k, o->rows[i], o->cols[i], o->step + i + 1, sh, err, errlen);
		if (rc)
			break;
		out->n_shapes++;
		bytes += (double)sh->bytes;
		ops += 2.0 * (double)sh->rows * (double)sh->cols * out->tokens;
		secs += sh->median;
		rsecs += sh->read_median;
		gsecs += sh->gap_median;
	}
	free(k.rd.sink);
	trit_bench_arena_free(&own);
	if (rc)
		return rc;
	out->weight_bps = bytes / secs;
	out->gops = ops / secs / 1e9;
	out->read_bps = k.host ? bytes / rsecs : -1;
	out->gap_weight_bps = k.host ? bytes / gsecs : -1;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* The cache                                                                 */

int trit_bench_cache_path(const char *option, const char *configured, char *out, size_t len,
                          const char **origin, char *err, size_t errlen)
{
	return trit_cachefile_path("the bench cache", option, "--cache", configured,
	                           "[runtime] bench_cache", "bench.json", out, len, origin, err,
	                           errlen);
}

static void put_num(cJSON *o, const char *key, double v, int *oom)
{
	/* a value not measured is null, never 0 */
	if (!(v >= 0 ? cJSON_AddNumberToObject(o, key, v) : cJSON_AddNullToObject(o, key)))
		*oom = 1;
}

static void put_str(cJSON *o, const char *key, const char *s, int *oom)
{
	if (!(s && *s ? cJSON_AddStringToObject(o, key, s) : cJSON_AddNullToObject(o, key)))
		*oom = 1;
}

/* GOP/s as a fraction of r's peak; < 0 unknown. */
static double of_peak(const struct trit_bench_result *r, double gops)
{
	double peak = trit_bench_peak_ops(r);
	return peak > 0 && gops >= 0 ? gops * 1e9 / peak : -1;
}

struct cJSON *trit_bench_result_json(const struct trit_bench_result *r)
{
	cJSON *o = cJSON_CreateObject(), *ws, *a;
	int oom = !o;

	if (oom)
		return NULL;
	put_str(o, "backend", r->backend, &oom);
	put_str(o, "device_id", r->device_id, &oom);
	put_str(o, "device_name", r->device_name, &oom);
	put_str(o, "kind", r->kind == TRIT_DEVICE_CPU ? "cpu" : r->kind == TRIT_DEVICE_GPU ? "gpu" :
	        "accelerator", &oom);
	put_str(o, "isa", r->isa, &oom);
	put_str(o, "kernel", r->kernel, &oom);
	put_num(o, "tokens", r->tokens, &oom);
	put_num(o, "threads", r->threads, &oom);
	put_num(o, "reps", r->reps, &oom);
	put_str(o, "mode", r->full ? "full" : "quick", &oom);
	put_str(o, "measured_at", r->measured_at, &oom);
	if ((ws = cJSON_AddObjectToObject(o, "working_set"))) {
		put_num(ws, "bytes", (double)r->working_set, &oom);
		put_str(ws, "why", r->working_set_why, &oom);
	} else {
		oom = 1;
	}
	put_str(o, "read_baseline", r->read_why, &oom);
	put_num(o, "weight_bytes_per_s", r->weight_bps, &oom);
	put_num(o, "gops", r->gops, &oom);
	put_num(o, "read_bytes_per_s", r->read_bps, &oom);
	put_num(o, "ratio", r->read_bps > 0 ? r->weight_bps / r->read_bps : -1, &oom);
	put_num(o, "gap_us", r->gap_weight_bps > 0 ? (double)r->gap_us : -1, &oom);
	put_num(o, "gap_weight_bytes_per_s", r->gap_weight_bps, &oom);
	put_num(o, "peak_ops_per_s_per_core", r->peak_core_ops, &oom);
	put_num(o, "peak_ops_per_s", trit_bench_peak_ops(r), &oom);
	put_str(o, "peak_why", r->peak_why, &oom);
	put_num(o, "of_peak", of_peak(r, r->gops), &oom);
	if (!(a = cJSON_AddArrayToObject(o, "shapes")))
		oom = 1;
	for (uint32_t i = 0; a && i < r->n_shapes; i++) {
		const struct trit_bench_shape *sh = &r->shapes[i];
		cJSON *s = cJSON_CreateObject(), *t;
		if (!s || !cJSON_AddItemToArray(a, s)) {
			cJSON_Delete(s);
			oom = 1;
			break;
		}
		put_num(s, "rows", (double)sh->rows, &oom);
		put_num(s, "cols", (double)sh->cols, &oom);
		put_num(s, "bytes", (double)sh->bytes, &oom);
		put_num(s, "copies", (double)sh->copies, &oom);
		put_num(s, "batch", (double)sh->batch, &oom);
		if ((t = cJSON_AddObjectToObject(s, "seconds"))) {
			put_num(t, "median", sh->median, &oom);
			put_num(t, "min", sh->min, &oom);
			put_num(t, "max", sh->max, &oom);
		} else {
			oom = 1;
		}
		put_num(s, "gops", sh->gops, &oom);
		put_num(s, "weight_bytes_per_s", sh->weight_bps, &oom);
		put_num(s, "read_seconds", sh->read_median, &oom);
		put_num(s, "read_bytes_per_s", sh->read_bps, &oom);
		put_num(s, "ratio", sh->ratio, &oom);
		put_num(s, "gap_seconds", sh->gap_median, &oom);
		put_num(s, "of_peak", of_peak(r, sh->gops), &oom);
	}
	if (oom) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static double get_num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static void get_str(const cJSON *o, const char *key, char *out, size_t len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	snprintf(out, len, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

static int type_from_name(const char *name)
{
	static const uint32_t ternary[] = { TRIT_TYPE_I2_S, TRIT_TYPE_TL1, TRIT_TYPE_TL2 };
	for (size_t i = 0; i < TRIT_ARRAY_LEN(ternary); i++)
		if (strcmp(trit_type_traits(ternary[i])->name, name) == 0)
			return (int)ternary[i];
	return -1;
}

/* One result from the cache file; 0, or -1 with what is wrong in `what`. */
static int result_from_json(const cJSON *o, struct trit_bench_result *r, const char **what)
{
	const cJSON *ws = cJSON_GetObjectItemCaseSensitive(o, "working_set");
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "shapes"), *s;
	const cJSON *mode = cJSON_GetObjectItemCaseSensitive(o, "mode");
	char kind[16];
	int type;

	memset(r, 0, sizeof *r);
	if (!cJSON_IsObject(o))
		return *what = "not an object", -1;
	get_str(o, "backend", r->backend, sizeof r->backend);
	get_str(o, "device_id", r->device_id, sizeof r->device_id);
	get_str(o, "device_name", r->device_name, sizeof r->device_name);
	get_str(o, "isa", r->isa, sizeof r->isa);
	get_str(o, "kernel", r->kernel, sizeof r->kernel);
	get_str(o, "measured_at", r->measured_at, sizeof r->measured_at);
	get_str(o, "read_baseline", r->read_why, sizeof r->read_why);
	get_str(o, "kind", kind, sizeof kind);
	if (!r->backend[0] || !r->device_id[0])
		return *what = "no \"backend\" or \"device_id\"", -1;
	if ((type = type_from_name(r->kernel)) < 0)
		return *what = "\"kernel\" is not I2_S, TL1 or TL2", -1;
	r->type = (uint32_t)type;
	r->kind = strcmp(kind, "cpu") == 0 ? TRIT_DEVICE_CPU : strcmp(kind, "gpu") == 0 ?
	          TRIT_DEVICE_GPU : TRIT_DEVICE_ACCELERATOR;
	if (get_num(o, "tokens") < 1)
		return *what = "no \"tokens\"", -1;
	r->tokens = (uint32_t)get_num(o, "tokens");
	r->threads = get_num(o, "threads") > 0 ? (uint32_t)get_num(o, "threads") : 0;
	r->reps = get_num(o, "reps") > 0 ? (uint32_t)get_num(o, "reps") : 0;
	/* results from before quick runs existed were measured the long way */
	if (mode && !(cJSON_IsString(mode) && (strcmp(mode->valuestring, "quick") == 0 ||
	                                        strcmp(mode->valuestring, "full") == 0)))
		return *what = "\"mode\" is not \"quick\" or \"full\"", -1;
	r->full = !mode || strcmp(mode->valuestring, "full") == 0;
	r->working_set = get_num(ws, "bytes") > 0 ? (uint64_t)get_num(ws, "bytes") : 0;
	get_str(ws, "why", r->working_set_why, sizeof r->working_set_why);
	r->weight_bps = get_num(o, "weight_bytes_per_s");
	r->gops = get_num(o, "gops");
	r->read_bps = get_num(o, "read_bytes_per_s");
	r->gap_weight_bps = get_num(o, "gap_weight_bytes_per_s");
	r->peak_core_ops = get_num(o, "peak_ops_per_s_per_core"); /* absent (older): < 0 */
	get_str(o, "peak_why", r->peak_why, sizeof r->peak_why);
	r->gap_us = r->gap_weight_bps > 0 && get_num(o, "gap_us") >= 0 &&
	            get_num(o, "gap_us") <= 1e6 ? (uint32_t)get_num(o, "gap_us") : 0;
	if (!(r->weight_bps > 0) || !(r->gops > 0))
		return *what = "no positive \"weight_bytes_per_s\" and \"gops\"", -1;
	cJSON_ArrayForEach(s, a) {
		struct trit_bench_shape *sh = &r->shapes[r->n_shapes];
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(s, "seconds");
		if (r->n_shapes == TRIT_BENCH_MAX_SHAPES)
			break;
		sh->rows = get_num(s, "rows") > 0 ? (uint64_t)get_num(s, "rows") : 0;
		sh->cols = get_num(s, "cols") > 0 ? (uint64_t)get_num(s, "cols") : 0;
		sh->bytes = get_num(s, "bytes") > 0 ? (uint64_t)get_num(s, "bytes") : 0;
		sh->copies = get_num(s, "copies") > 0 ? (uint64_t)get_num(s, "copies") : 0;
		sh->batch = get_num(s, "batch") > 0 ? (uint64_t)get_num(s, "batch") : 0;
		sh->median = get_num(t, "median");
		sh->min = get_num(t, "min");
		sh->max = get_num(t, "max");
		sh->gops = get_num(s, "gops");
		sh->weight_bps = get_num(s, "weight_bytes_per_s");
		sh->read_median = get_num(s, "read_seconds");
		sh->read_bps = get_num(s, "read_bytes_per_s");
		sh->ratio = get_num(s, "ratio");
		sh->gap_median = get_num(s, "gap_seconds");
		if (!sh->rows || !sh->cols || !(sh->median > 0))
			return *what = "a shape without \"rows\", \"cols\" and a positive median", -1;
		r->n_shapes++;
	}
	return 0;
}

/* The same kernel measured on the same device with the same kernel.isa
 * and tokens, in either mode. */
static int same_kernel(const struct trit_bench_result *a, const struct trit_bench_result *b)
{
	return strcmp(a->backend, b->backend) == 0 && strcmp(a->device_id, b->device_id) == 0 &&
	       strcmp(a->device_name, b->device_name) == 0 && a->type == b->type &&
	       strcmp(a->isa, b->isa) == 0 && a->tokens == b->tokens;
}

static int same_key(const struct trit_bench_result *a, const struct trit_bench_result *b)
{
	return same_kernel(a, b) && a->full == b->full;
}

const struct trit_bench_result *trit_bench_cache_full_of(const struct trit_bench_cache *c,
                                                         const struct trit_bench_result *r)
{
	for (size_t i = 0; c && i < c->n; i++)
		if (c->results[i].full && same_kernel(&c->results[i], r))
			return &c->results[i];
	return NULL;
}

int trit_bench_cache_put(struct trit_bench_cache *c, const struct trit_bench_result *r)
{
	for (size_t i = 0; i < c->n; i++)
		if (same_key(&c->results[i], r)) {
			c->results[i] = *r;
			return 0;
		}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		struct trit_bench_result *v = realloc(c->results, cap * sizeof *v);
		if (!v)
			return TRIT_ENOMEM;
		c->results = v;
		c->cap = cap;
	}
	c->results[c->n++] = *r;
	return 0;
}

void trit_bench_cache_free(struct trit_bench_cache *c)
{
	if (!c)
		return;
	free(c->results);
	c->results = NULL;
	c->n = c->cap = 0;
}

#define CACHE_MAX_BYTES (UINT64_C(16) << 20)

int trit_bench_cache_load(struct trit_bench_cache *c, const char *path, char *err, size_t errlen)
{
	char *text = NULL, why[512];
	cJSON *root = NULL, *item;
	const cJSON *results;
	int rc = 0, errnum;
	size_t k = 0;

	memset(c, 0, sizeof *c);
	snprintf(c->path, sizeof c->path, "%s", path);
	if ((rc = trit_read_file(path, CACHE_MAX_BYTES, &text, NULL, &errnum, why, sizeof why)))
		return errnum == ENOENT ? 0 : trit_errf(err, errlen, rc, "the bench cache %s; "
		                                        "remove it or choose another file with --cache",
		                                        why);
	root = cJSON_Parse(text);
	results = cJSON_GetObjectItemCaseSensitive(root, "results");
	if (!root || !cJSON_IsArray(results) || get_num(root, "format") != TRIT_BENCH_CACHE_FORMAT) {
		rc = trit_errf(err, errlen, TRIT_EFORMAT, "%s is not a trit bench cache (format %d: a "
		               "JSON object with \"format\": %d and \"results\"); remove it or choose "
		               "another file with --cache", path, TRIT_BENCH_CACHE_FORMAT,
		               TRIT_BENCH_CACHE_FORMAT);
		goto out;
	}
	cJSON_ArrayForEach(item, results) {
		struct trit_bench_result r;
		const char *what = "";
		if (result_from_json(item, &r, &what)) {
			rc = trit_errf(err, errlen, TRIT_EFORMAT, "%s: result %zu: %s; remove the file to "
			               "start a new cache", path, k, what);
			goto out;
		}
		if (trit_bench_cache_put(c, &r)) {
			rc = trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
			goto out;
		}
		k++;
	}
out:
	if (rc)
		trit_bench_cache_free(c);
	cJSON_Delete(root);
	free(text);
	return rc;
}

/* mkdir -p of the directory part of path. */
int trit_bench_cache_save(const struct trit_bench_cache *c, char *err, size_t errlen)
{
	cJSON *root = cJSON_CreateObject(), *a;
	char *text;
	int rc;

	if (!root || !cJSON_AddNumberToObject(root, "format", TRIT_BENCH_CACHE_FORMAT) ||
	    !cJSON_AddStringToObject(root, "trit_version", trit_version()) ||
	    !(a = cJSON_AddArrayToObject(root, "results"))) {
		cJSON_Delete(root);
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < c->n; i++) {
		cJSON *r = trit_bench_result_json(&c->results[i]);
		if (!r || !cJSON_AddItemToArray(a, r)) {
			cJSON_Delete(r);
			cJSON_Delete(root);
			return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
		}
	}
	text = cJSON_Print(root);
	cJSON_Delete(root);
	if (!text)
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	rc = trit_cachefile_write(c->path, "the bench cache", text, err, errlen);
	free(text);
	return rc;
}

const struct trit_bench_result *trit_bench_cache_find(const struct trit_bench_cache *c,
                                                      const char *backend,
                                                      const struct trit_device *d,
                                                      uint32_t type, uint32_t tokens)
{
	const struct trit_bench_result *quick = NULL;
	const char *isa = trit_bench_isa(d);

	for (size_t i = 0; c && i < c->n; i++) {
		const struct trit_bench_result *r = &c->results[i];
		if (strcmp(r->backend, backend) == 0 && strcmp(r->device_id, d->id) == 0 &&
		    strcmp(r->device_name, d->name ? d->name : "") == 0 && r->type == type &&
		    r->tokens == tokens && strcmp(r->isa, isa ? isa : "") == 0) {
			if (r->full)
				return r;
			quick = r;
		}
	}
	return quick;
}
