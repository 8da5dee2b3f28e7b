/*
 * bench.h - `trit bench`: measure the ternary kernels a device advertises,
 * through the plugin ABI, on real layer shapes with the weights out of cache,
 * next to a plain streaming read of the same bytes measured in the same run;
 * and the cache of results that `trit devices` shows and the planner uses
 * for its decode speed estimate.
 *
 * What it leaves to others: choosing which devices and kernels to run and
 * printing (the CLI and report.c); what the numbers mean for a plan (plan.c).
 * docs/bench.md describes the method and the cache file.
 */
#ifndef TRIT_BENCH_H
#define TRIT_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include <trit/backend.h>

#define TRIT_BENCH_MAX_SHAPES 16u
/* The working set when no device in the memory pool reports a cache size. */
#define TRIT_BENCH_FIXED_WORKING_SET (UINT64_C(1) << 30)
/* A quick run (the default; not --full) rotates the weights over at most
 * this many bytes: far more than the cache a core or a CCD can use on
 * today's CPUs, and a run a user can wait for (docs/bench.md). */
#define TRIT_BENCH_QUICK_WORKING_SET (UINT64_C(256) << 20)
/* Timed samples per shape unless asked: a quick run, and --full. */
#define TRIT_BENCH_QUICK_REPS 5u
#define TRIT_BENCH_FULL_REPS 9u
/* Each timed sample runs enough matmuls to cover at least this many weight
 * bytes, so that clock reads do not dominate small shapes; but at most
 * TRIT_BENCH_MAX_BATCH matmuls (tiny shapes: a sample then still lasts far
 * longer than a clock read). */
#define TRIT_BENCH_SAMPLE_BYTES (UINT64_C(4) << 20)
#define TRIT_BENCH_MAX_BATCH 256u
/* A gapped sample times each matmul on its own, so it needs no batch for
 * the clock's sake: at most this many matmuls (and gaps) per sample. */
#define TRIT_BENCH_GAP_BATCH 32u
/* Random weights are packed for each shape from about this many trits (at
 * least two row tiles), and the tensors assembled from their row tiles:
 * packing 328 million trits for the output matrix took seconds. */
#define TRIT_BENCH_POOL_TRITS (UINT64_C(1) << 22)
/* Besides back to back, each shape is timed with this many microseconds of
 * single-threaded work on the calling thread before every matmul, as the
 * norms, rope and residual adds between a forward pass's matmuls are: a
 * backend whose worker threads fall asleep in such a gap pays a wake-up per
 * matmul, which back-to-back timing hides (docs/bench.md). */
#define TRIT_BENCH_GAP_US 100u
/* Version of the cache file's layout. */
#define TRIT_BENCH_CACHE_FORMAT 1

/* One shape of one kernel: times are seconds per matmul. */
struct trit_bench_shape {
	uint64_t rows, cols;    /* M (output features) x K (input features) */
	uint64_t bytes;         /* trit_ternary_bytes() of one copy of the weights */
	uint64_t copies;        /* copies rotated through (the working set) */
	uint64_t batch;         /* matmuls per timed sample */
	double median, min, max;
	double gops;            /* 2 M K tokens / median / 1e9 */
	double weight_bps;      /* bytes / median: weight bytes streamed per second */
	double read_median;     /* seconds to stream-read one copy; < 0 unknown */
	double read_bps;        /* bytes / read_median; < 0 unknown */
	double ratio;           /* weight_bps / read_bps; < 0 unknown */
	double gap_median;      /* seconds per matmul after a TRIT_BENCH_GAP_US gap;
	                           < 0 unknown (not timed: not host memory) */
};

/* One kernel on one device, as measured and as cached. Strings are empty
 * when not known (isa: the device reports no "kernel.isa" property). */
struct trit_bench_result {
	char backend[64], device_id[64], device_name[128], isa[32];
	char kernel[8];            /* "I2_S", "TL1", "TL2" */
	uint32_t type;             /* enum trit_type of kernel */
	uint32_t kind;             /* enum trit_device_kind */
	uint32_t tokens, threads, reps;
	uint32_t full;             /* 1: a --full run (2 x the LLC); 0: a quick one */
	uint64_t working_set;      /* bytes the weights were rotated through */
	char working_set_why[320];
	char read_why[240];        /* how the baseline was read, or why it is unknown */
	char measured_at[32];      /* UTC, ISO 8601 */
	struct trit_bench_shape shapes[TRIT_BENCH_MAX_SHAPES];
	uint32_t n_shapes;
	/* Over all shapes (what the planner uses): sum of bytes (ops) over sum
	 * of median times; read_bps < 0 when the baseline is unknown. */
	double weight_bps, gops, read_bps;
	/* The same over the gapped medians; < 0 unknown. gap_us: the gap. */
	double gap_weight_bps;
	uint32_t gap_us;
	/* The device's peak int8 throughput per core (CPU devices whose plugin
	 * reports TRIT_PROP_COMPUTE_INT8_PEAK, per kernel type when it has
	 * "compute.int8_peak.i2_s" ...), ops/s; < 0 unknown. peak_why: the
	 * property and its source, or why it is unknown. GOP/s are compared
	 * with it times threads (trit_bench_peak_ops). */
	double peak_core_ops;
	char peak_why[640];
};

struct trit_bench_arena;
/* The peak r's GOP/s are compared with: peak_core_ops x threads, ops/s;
 * < 0 unknown. */
double trit_bench_peak_ops(const struct trit_bench_result *r);

struct trit_bench_opts {
	uint64_t rows[TRIT_BENCH_MAX_SHAPES], cols[TRIT_BENCH_MAX_SHAPES];
	uint32_t n_shapes;
	uint32_t tokens;           /* activations per matmul (1 = decode) */
	uint32_t reps;             /* timed samples per shape (median, min, max) */
	uint32_t threads;          /* n_threads passed to matmul (the planner's count) */
	uint64_t working_set;      /* 0: 2 x the last-level cache, as trit_bench_working_set,
	                              at most TRIT_BENCH_QUICK_WORKING_SET unless full */
	int full;                  /* the long version: no cap on the working set */
	uint64_t seed;             /* of the random weights and activations */
	/* Progress for people (may be NULL); step numbers the shapes of this
	 * kernel from step + 1 in "(3/15)" when steps is not 0. */
	void (*progress)(void *ctx, const char *message);
	void *progress_ctx;
	uint32_t step, steps;
	/* Buffers kept from one call to the next (may be NULL: each call
	 * allocates its own). */
	struct trit_bench_arena *arena;
};

/*
 * The buffers a run keeps from shape to shape and kernel to kernel: the
 * device buffer the weights' copies are written to (one device at a time:
 * a call for another device frees it first), the host copy the baseline
 * reads and the host memory the copies are assembled in. Allocating and first touching them once per run, not once per
 * shape, is most of what makes a run short: on a VM a page fault can cost
 * 25 us, 6 s per GiB (docs/bench.md). Zero-initialise; free with
 * trit_bench_arena_free.
 */
struct trit_bench_arena {
	const struct trit_backend *be;
	void *state;
	uint32_t index;
	struct trit_buffer *w;
	uint64_t w_bytes;
	unsigned char *host;
	uint64_t host_bytes;
	unsigned char *scratch;    /* the two tensors and a block of copies */
	uint64_t scratch_bytes;
};
void trit_bench_arena_free(struct trit_bench_arena *a);

/* The last-level cache of d, or of a device sharing its memory pool (the
 * "mem.pool" property) among peers: cache.l3 (else cache.l2) times its
 * .instances. Returns 2 x that, or TRIT_BENCH_FIXED_WORKING_SET when no
 * size is known; why says which. */
uint64_t trit_bench_working_set(const struct trit_device *d, const struct trit_device *const *peers,
                                size_t n_peers, char *why, size_t len);

/* The device's "kernel.isa" text property, or NULL. */
const char *trit_bench_isa(const struct trit_device *d);

/* Whether the device's buffers are host memory (a CPU, or mem.pool "host"),
 * so that a streaming read of host memory is its baseline. */
int trit_bench_host_memory(const struct trit_device *d);

/*
 * Measure kernel `type` (I2_S, TL1, TL2) of device `index` of backend `be`
 * on every shape of o. For each shape: random ternary weights packed with
 * trit_ternary_pack (a pool of about TRIT_BENCH_POOL_TRITS, whose row tiles
 * make up two different tensors), written to the device in enough copies to
 * span the working set; the kernel's integer dots (TRIT_MATMUL_INT_DOTS)
 * compared with trit_ref_matmul_int's on every row and its F32 output with
 * the same dots scaled, on the first and last copy (holding the two
 * tensors); then one untimed sample and o->reps timed samples of
 * matmuls rotating over the copies, timed with CLOCK_MONOTONIC; then (host
 * memory devices only) the same samples with TRIT_BENCH_GAP_US of busy work
 * on the calling thread before each matmul, only the matmuls timed, and the
 * same rotation as a plain read of host memory.
 *
 * Returns 0 with *out filled, TRIT_EINTERNAL when the kernel disagrees with
 * the reference (err names the shape, token, row and both values: its
 * numbers must not be reported), or another TRIT_E* when it could not run.
 */
int trit_bench_kernel(const struct trit_backend *be, void *state, uint32_t index,
                      const char *backend, const struct trit_device *d, uint32_t type,
                      const struct trit_device *const *peers, size_t n_peers,
                      const struct trit_bench_opts *o, struct trit_bench_result *out,
                      char *err, size_t errlen);

/* A kernel `trit bench` ran but does not report, and why. */
struct trit_bench_refusal {
	char backend[64], device_id[64], kernel[8];
	char why[1200];
};

/* ------------------------------------------------------------------------ */
/* The cache: one JSON file of results (docs/bench.md), one per backend,
 * device id and name, kernel, "kernel.isa", tokens and mode (quick or full):
 * a quick run never replaces a --full result.                               */

struct trit_bench_cache {
	char path[4096];
	struct trit_bench_result *results;
	size_t n, cap;
};

/* Where the cache lives: `option` (--cache), else `configured` ([runtime]
 * bench_cache), else $XDG_CACHE_HOME/trit/bench.json, else
 * $HOME/.cache/trit/bench.json. *origin (may be NULL) says which. Fails
 * only when none is set and HOME is unset. */
int trit_bench_cache_path(const char *option, const char *configured, char *out, size_t len,
                          const char **origin, char *err, size_t errlen);

/* Read the cache at path into c (free with trit_bench_cache_free). A file
 * that does not exist is an empty cache; one that cannot be read or is not
 * a trit bench cache is an error naming the file (c is then empty). */
int trit_bench_cache_load(struct trit_bench_cache *c, const char *path, char *err, size_t errlen);
/* Add r, replacing the result with the same key (a quick result does not
 * replace a full one: they have different keys). */
int trit_bench_cache_put(struct trit_bench_cache *c, const struct trit_bench_result *r);
/* Write c to c->path (its directory created if needed), through a temporary
 * file renamed over the old one. */
int trit_bench_cache_save(const struct trit_bench_cache *c, char *err, size_t errlen);
void trit_bench_cache_free(struct trit_bench_cache *c);

/* The cached result for kernel `type` at `tokens` tokens of device d of
 * backend `backend`, measured with the kernel.isa d reports now: the --full
 * one when there is one, else the quick one; NULL if none. */
const struct trit_bench_result *trit_bench_cache_find(const struct trit_bench_cache *c,
                                                      const char *backend,
                                                      const struct trit_device *d,
                                                      uint32_t type, uint32_t tokens);

/* The --full result in c of the kernel r measured (same backend, device,
 * kernel, kernel.isa and tokens), or NULL. */
const struct trit_bench_result *trit_bench_cache_full_of(const struct trit_bench_cache *c,
                                                         const struct trit_bench_result *r);

/* A result as a cJSON object (the cache file's and `trit bench --json`'s
 * layout, docs/json.md); NULL when out of memory. */
struct cJSON *trit_bench_result_json(const struct trit_bench_result *r);

#endif
