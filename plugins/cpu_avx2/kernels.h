/*
 * kernels.h - the cpu_avx2 plugin's ternary matmul kernels as the rest of the
 * plugin sees them: one prepared operation (struct cpu_avx2_mm, every
 * argument already checked by matmul.c), one table of kernels per instruction
 * set (AVX2, AVX-512 with or without VNNI), the workspace layout they share,
 * and the persistent worker pool that runs them on several threads.
 *
 * The kernels themselves live in kern_avx2.c and kern_avx512.c, each compiled
 * with its own -m flags; nothing outside them executes a vector instruction,
 * so the plugin loads (and refuses cleanly) on any x86-64 CPU. Layouts of the
 * weights are trit/ternary.h's; layouts of the workspace are below.
 */
#ifndef CPU_AVX2_KERNELS_H
#define CPU_AVX2_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include <trit/backend.h>
#include <trit/ternary.h>

#include "../common/ops.h"

/* ------------------------------------------------------------------------ */
/* One matmul, prepared.                                                     */

/*
 * Everything a kernel reads, resolved to pointers. The activations are in the
 * workspace, quantised (or copied, for TRIT_MATMUL_INT_DOTS) and zero-padded
 * to cols_pad, so no kernel ever reads the caller's input past `cols`.
 */
struct cpu_avx2_mm {
	uint32_t type;              /* TRIT_TYPE_I2_S, _TL1 or _TL2 */
	uint64_t rows, cols, tokens;
	uint64_t rows_pad, cols_pad;
	const uint8_t *w;           /* the packed data (trit/ternary.h) */
	float scale;                /* from the trailer */

	const int8_t *q;            /* [tokens][cols_pad], zero beyond cols */
	const int32_t *qsum;        /* [tokens] sum of q (I2_S) */
	const float *s;             /* [tokens] quantisation multipliers; NULL with INT_DOTS */
	const uint8_t *tables;      /* [tokens][table_bytes] lookup tables (TL1, TL2) */
	uint64_t table_bytes;       /* per token */

	int32_t *out_i32;           /* INT_DOTS: [tokens][rows] */
	float *out_f32;             /* otherwise: [tokens][rows] */
};

/* Write the dot of row r for token t in the requested form. */
static inline void cpu_avx2_store(const struct cpu_avx2_mm *mm, uint64_t t, uint64_t r,
                                  int32_t dot)
{
	if (mm->out_f32)
		mm->out_f32[t * mm->rows + r] = trit_ternary_output(dot, mm->s[t], mm->scale);
	else
		mm->out_i32[t * mm->rows + r] = dot;
}

/* ------------------------------------------------------------------------ */
/* Lookup tables (TL1, TL2).                                                 */

/*
 * Per token and per weight pair (TL1) or triple (TL2) a kernel needs the 16
 * int16 values L[0..15] (entries past 8, resp. 13, are 0, so an invalid
 * nibble contributes nothing, as in trit_ternary_get()). They are stored as
 * two 16-byte tables, the low bytes and the high bytes, ready for pshufb.
 * `group` entries (2 for AVX2: one per 128-bit lane of a YMM register; 4 for
 * AVX-512) are stored together as  [lo of each][hi of each]  so a kernel
 * loads the tables of `group` pairs with two loads. That is 32 bytes per
 * pair or triple whatever the group.
 */
#define CPU_AVX2_TABLE_ENTRY_BYTES 32u

static inline uint64_t cpu_avx2_table_bytes(uint32_t type, uint64_t cols_pad)
{
	return type == TRIT_TYPE_TL1 ? cols_pad / 2 * CPU_AVX2_TABLE_ENTRY_BYTES
	                             : cols_pad / 3 * CPU_AVX2_TABLE_ENTRY_BYTES;
}

/* ------------------------------------------------------------------------ */
/* Kernels per instruction set.                                              */

struct cpu_avx2_kernels {
	const char *isa;        /* "avx2", "avx512bw", "avx512vnni": the kernel.isa text */
	uint64_t needs;         /* TRIT_CAP_* bits the CPU must have */
	/* I2_S: rows [r0, r1) for every token. */
	void (*i2s)(const struct cpu_avx2_mm *mm, uint64_t r0, uint64_t r1);
	/* I2_S: put one token's cols_pad activations, in place, in the order
	 * this path's i2s reads them (after their sum is taken); NULL: the
	 * natural order. */
	void (*i2s_order)(int8_t *q, uint64_t cols_pad);
	/* TL1 / TL2: 32-row tiles [t0, t1) for every token. */
	void (*tl1)(const struct cpu_avx2_mm *mm, uint64_t t0, uint64_t t1);
	void (*tl2)(const struct cpu_avx2_mm *mm, uint64_t t0, uint64_t t1);
	/* Build one token's tables from its cols_pad activations. */
	void (*tl1_tables)(const int8_t *q, uint64_t cols_pad, uint8_t *tab);
	void (*tl2_tables)(const int8_t *q, uint64_t cols_pad, uint8_t *tab);
	/* The peak int8 throughput loop (peak.c times it): `iters` iterations,
	 * each one instruction (group) of this path's I2_S int8 multiply in
	 * every one of peak_chains independent accumulator chains, with
	 * operands of 1 (u8) and 1 (s8). Returns the sum of the accumulators'
	 * lanes (unsigned, each wrapping at its width): the int8 products done
	 * while no lane wraps (iters < 2^15 on the int16 paths), so
	 * 2 * peak_loop(n) == n * peak_ops_per_iter, ops counted as 2 per
	 * int8 product. peak_insn names the instructions ("vpdpbusd zmm"). */
	uint64_t (*peak_loop)(uint64_t iters);
	uint32_t peak_ops_per_iter;
	uint32_t peak_chains;
	const char *peak_insn;
};

#define CPU_AVX2_NEEDS_AVX2 (TRIT_CAP_AVX2 | TRIT_CAP_FMA)
#define CPU_AVX2_NEEDS_AVX512BW (CPU_AVX2_NEEDS_AVX2 | TRIT_CAP_AVX512F | TRIT_CAP_AVX512BW)
#define CPU_AVX2_NEEDS_AVX512VNNI (CPU_AVX2_NEEDS_AVX512BW | TRIT_CAP_AVX512VNNI)

extern const struct cpu_avx2_kernels cpu_avx2_kernels_avx2;
#ifdef CPU_AVX2_HAVE_AVX512
extern const struct cpu_avx2_kernels cpu_avx2_kernels_avx512bw;
extern const struct cpu_avx2_kernels cpu_avx2_kernels_avx512vnni;
#endif
/* The AVX-512 kernels built against SIMDe's emulation, for the tests only. */
extern const struct cpu_avx2_kernels cpu_avx2_kernels_avx512bw_emu;
extern const struct cpu_avx2_kernels cpu_avx2_kernels_avx512vnni_emu;

/* The `isa` option of [plugin.cpu_avx2]. */
enum cpu_avx2_isa { CPU_AVX2_ISA_AUTO = 0, CPU_AVX2_ISA_AVX2, CPU_AVX2_ISA_AVX512 };

/*
 * The kernels to run for a CPU with `caps` under the `isa` option: auto takes
 * the widest the CPU has (AVX-512 with VNNI, AVX-512, AVX2); avx2 and avx512
 * force a family. Returns NULL with a sentence in why when no kernel can run
 * (no AVX2+FMA; avx512 forced on a CPU without AVX512F+BW, or in a build
 * whose compiler could not make AVX-512 code); `where` names the setting.
 */
const struct cpu_avx2_kernels *cpu_avx2_kernels_select(uint64_t caps, enum cpu_avx2_isa isa,
                                                       const char *where, char *why,
                                                       size_t whylen);

/* ------------------------------------------------------------------------ */
/* Choosing a path per kernel type by measurement (choose.c).               */

#define CPU_AVX2_MAX_PATHS 3
enum { CPU_AVX2_K_I2S, CPU_AVX2_K_TL1, CPU_AVX2_K_TL2, CPU_AVX2_NK };

/* The ternary kernel types in that order: TRIT_TYPE_*, "I2_S", the probe
 * cache key of its figures, the device property naming its path, the one
 * holding that path's peak int8 throughput (peak.c). */
struct cpu_avx2_ktype {
	uint32_t type;
	const char *name, *key, *prop, *peak_prop;
};
extern const struct cpu_avx2_ktype cpu_avx2_ktypes[CPU_AVX2_NK];

/* The kernel tables a CPU with `caps` can run in this build, widest first
 * (AVX-512 VNNI, AVX-512BW, AVX2); 0 without AVX2+FMA. */
unsigned cpu_avx2_kernel_paths(uint64_t caps,
                               const struct cpu_avx2_kernels *out[CPU_AVX2_MAX_PATHS]);

/*
 * One table running I2_S with i2s's kernel, TL1 with tl1's (and its table
 * builder), TL2 with tl2's. isa is the path's name when all three are the
 * same, else "I2S/TL1/TL2" ("avx2/avx512vnni/avx512vnni": at most 30
 * characters, which trit bench's isa key holds). k.isa points into the
 * struct: do not copy it.
 */
struct cpu_avx2_mix {
	struct cpu_avx2_kernels k;
	const struct cpu_avx2_kernels *by_type[CPU_AVX2_NK];
	char isa[40];
};
void cpu_avx2_kernels_mix(struct cpu_avx2_mix *m, const struct cpu_avx2_kernels *i2s,
                          const struct cpu_avx2_kernels *tl1, const struct cpu_avx2_kernels *tl2);

struct cpu_avx2_engine;

/* What the choice depends on. */
struct cpu_avx2_choose_in {
	const struct trit_host *host;   /* its probe cache; without one nothing is measured */
	const char *machine;            /* CPU name, vendor and features, for the stamp */
	unsigned threads;               /* the plugin's default threads */
	uint64_t l3_total;              /* bytes of L3 (all instances), 0 when unknown */
	uint64_t mem_free;              /* bytes, 0 when unknown */
	uint64_t ws_bytes;              /* the working set as configured; 0: from L3 */
	const char *ws_where;           /* where it was set */
	struct cpu_avx2_engine *engine; /* its worker pool runs the measurement */
	const struct cpu_avx2_kernels *paths[CPU_AVX2_MAX_PATHS]; /* widest first */
	unsigned n_paths;
	/* Time every path on kernel `type` over a working set of ws bytes:
	 * ns[i] for paths[i] (nanoseconds per shape pair, > 0); 0, or nonzero
	 * with a reason in why. NULL: the real measurement. Tests plant their
	 * own so that nothing they check depends on timing. */
	int (*measure)(void *ctx, const struct cpu_avx2_choose_in *in, uint32_t type,
	               uint64_t ws, uint64_t ns[], char *why, size_t len);
	void *measure_ctx;
};

struct cpu_avx2_choice {
	const struct cpu_avx2_kernels *k[CPU_AVX2_NK];  /* the path per kernel type */
	struct trit_value src[CPU_AVX2_NK];             /* why: figures, or not measured */
	uint64_t ns[CPU_AVX2_NK][CPU_AVX2_MAX_PATHS];   /* 0: not measured */
	int from_cache[CPU_AVX2_NK];
	int measured_now;                               /* something was timed this time */
	uint64_t ws;                                    /* the working set */
	uint64_t spent_ns;                              /* what choosing cost */
};

/*
 * Choose the path of each kernel type: the fastest of in->paths by the
 * figures in the probe cache (key cpu_avx2_ktypes[t].key, the stamp naming
 * the CPU, its features, threads, working set, paths, shapes, repetitions
 * and the OS kernel), measured and stored when there are none or they are
 * damaged. With one path, no probe cache, or no memory for the working set:
 * the widest path, and src says why it was not measured. Strings in pool.
 */
struct cpu_common_pool;
void cpu_avx2_choose(const struct cpu_avx2_choose_in *in, struct cpu_avx2_choice *out,
                     struct cpu_common_pool *pool);

/* Whether the host has a probe cache (cache_get and cache_put), and whether
 * it keeps what it is given (not switched off): without both, a
 * measurement would be taken at every start, which the cache is there to
 * avoid (choose.c). */
int cpu_avx2_has_cache(const struct trit_host *h);
int cpu_avx2_cache_keeps(const struct trit_host *h, const char *stamp);

/* ------------------------------------------------------------------------ */
/* The peak int8 throughput of a path, measured (peak.c).                    */

/* One timing of a path's peak_loop on the calling thread. */
struct cpu_avx2_peak_run {
	uint64_t iters;     /* iterations per sample */
	uint64_t best_ns;   /* the fastest sample */
	uint32_t samples;   /* timed samples, after the warm-up */
	uint64_t spent_ns;  /* the whole measurement, warm-up and calibration included */
};

struct cpu_avx2_peak_in {
	const struct trit_host *host;   /* its probe cache; without one nothing is measured */
	const char *machine;            /* CPU name, vendor and features, for the stamp */
	const struct cpu_avx2_kernels *path; /* NULL: no kernel can run (why_none says why) */
	const char *why_none;
	/* Time path->peak_loop: 0 with *run filled, or nonzero with a reason
	 * in why. NULL: the real measurement. Tests plant their own so that
	 * nothing they check depends on timing. */
	int (*measure)(void *ctx, const struct cpu_avx2_kernels *path,
	               struct cpu_avx2_peak_run *run, char *why, size_t len);
	void *measure_ctx;
};

struct cpu_avx2_peak {
	struct trit_value ops;          /* int8 ops/s of one core; unknown with the reason */
	struct cpu_avx2_peak_run run;   /* what it came from (iters 0: nothing) */
	int from_cache, measured_now;
};

/*
 * The peak int8 throughput of one core on in->path: ops per second (2 per
 * int8 product) of its peak_loop on the calling thread, the best of a few
 * samples of about 10 ms each after a warm-up, from the probe cache (key
 * "cpu0.int8_peak.<path>", stamped with the machine, the path, the loop and
 * the method) or measured and stored there. Without a probe cache, or with
 * one that keeps nothing, nothing is measured and out->ops is unknown with
 * the reason. Strings in pool.
 */
void cpu_avx2_peak_get(const struct cpu_avx2_peak_in *in, struct cpu_avx2_peak *out,
                       struct cpu_common_pool *pool);

/* ------------------------------------------------------------------------ */
/* Workspace.                                                                */

/*
 * Where each part lives, as offsets from the start of the workspace, each a
 * multiple of 64 (the parts are cache-line aligned when the workspace is):
 *   q       tokens * cols_pad   int8, quantised or copied activations
 *   qsum    tokens * 4          int32 sums of q           (I2_S)
 *   s       tokens * 4          float multipliers          (F32 path)
 *   tables  tokens * table_bytes                           (TL1, TL2)
 * `total` is exactly what matmul() touches. Returns 0, or -1 on overflow.
 */
struct cpu_avx2_ws_layout {
	uint64_t q, qsum, s, tables, total;
};
int cpu_avx2_ws_layout(uint32_t type, uint64_t cols_pad, uint64_t tokens, int int_dots,
                       struct cpu_avx2_ws_layout *l);

/* ------------------------------------------------------------------------ */
/* Worker pool (pool.c).                                                     */

struct cpu_avx2_workers;

/* Part `part` of `nparts` of a job. */
typedef void (*cpu_avx2_job_fn)(void *arg, unsigned part, unsigned nparts);

/* How long idle workers (and a caller waiting for them) poll before they
 * park, by default: long enough to span the gaps between the ops of a
 * forward pass and the one between two tokens ([plugin.cpu_avx2] spin_us). */
#define CPU_AVX2_SPIN_US 5000u
#define CPU_AVX2_SPIN_US_MAX 1000000u

/* A pool with no threads yet (spin CPU_AVX2_SPIN_US, pinning on); NULL
 * when out of memory. */
struct cpu_avx2_workers *cpu_avx2_workers_new(void);
/* Set the spin budget (microseconds, at most CPU_AVX2_SPIN_US_MAX) and
 * whether workers are bound to distinct CPUs of the affinity mask when it
 * has at least as many CPUs as the pool has threads. Takes effect for
 * threads started afterwards (pinning) and for the next wait (spin). */
void cpu_avx2_workers_set(struct cpu_avx2_workers *pool, unsigned spin_us, int pin);

/*
 * Run fn(arg, i, n) for i in 0..n-1, part 0 on the calling thread and the
 * others on the pool's persistent threads (started on first need, kept
 * until cpu_avx2_workers_free). Runs on one pool are serialised. *pool may
 * be NULL on the first call, which then creates it; that is not safe for
 * two threads at once, so the backend creates its pool at init. If threads cannot be started, fewer parts run, each doing
 * more: the function must split its work by the nparts it is given. Returns
 * the number of parts that ran (>= 1).
 */
unsigned cpu_avx2_workers_run(struct cpu_avx2_workers **pool, unsigned n, cpu_avx2_job_fn fn,
                              void *arg);
void cpu_avx2_workers_free(struct cpu_avx2_workers *pool);
/* Threads the pool has started (not counting callers). */
unsigned cpu_avx2_workers_started(const struct cpu_avx2_workers *pool);
/* The one CPU worker i (0-based) is bound to, as the OS reports its
 * affinity now; -1 when it may run on several (or i is not started). */
int cpu_avx2_workers_bound_cpu(const struct cpu_avx2_workers *pool, unsigned i);

/* ------------------------------------------------------------------------ */
/* The engine: what matmul needs from the backend state (matmul.c).          */

struct cpu_avx2_engine {
	const struct cpu_avx2_kernels *k;  /* NULL: no kernel can run (reason in why) */
	const char *why;                   /* why k is NULL */
	unsigned default_threads;          /* for n_threads == 0 */
	struct cpu_avx2_workers *pool;
	const struct cpu_ops_kernels *ops; /* the graph ops' inner loops */
	const char *proc_root;             /* for get_memory's live probe */
};

#define CPU_AVX2_MAX_THREADS 1024u

int cpu_avx2_buffer_alloc(void *state, uint32_t device, uint64_t size,
                          struct trit_buffer **out, char *err, size_t errlen);
void cpu_avx2_buffer_free(void *state, struct trit_buffer *buf);
int cpu_avx2_buffer_write(void *state, struct trit_buffer *buf, uint64_t offset,
                          const void *src, uint64_t size, char *err, size_t errlen);
int cpu_avx2_buffer_read(void *state, struct trit_buffer *buf, uint64_t offset, void *dst,
                         uint64_t size, char *err, size_t errlen);

int cpu_avx2_engine_workspace(const struct cpu_avx2_engine *e, uint32_t device,
                              const struct trit_matmul *op, uint64_t *bytes, char *err,
                              size_t errlen);
int cpu_avx2_engine_matmul(struct cpu_avx2_engine *e, uint32_t device,
                           const struct trit_matmul *op, char *err, size_t errlen);

/* A buffer's host address (tests use it to check placement). */
void *cpu_avx2_buffer_data(struct trit_buffer *buf);

/* ABI v2 buffers (matmul.c). */
int cpu_avx2_buffer_from_host_ptr(void *state, uint32_t device, void *ptr, uint64_t size,
                                  struct trit_buffer **out, char *err, size_t errlen);
void *cpu_avx2_buffer_host_ptr(void *state, struct trit_buffer *buf);
int cpu_avx2_buffer_copy(void *state, struct trit_buffer *dst, uint64_t dst_offset,
                         struct trit_buffer *src, uint64_t src_offset, uint64_t size,
                         char *err, size_t errlen);
/* cpu_ops_env hooks: a buffer's memory; the ternary kernels for the graph. */
int cpu_avx2_buffer_span(void *ctx, const struct trit_buffer *b, unsigned char **data,
                         uint64_t *size);
int cpu_avx2_ternary_ws(void *ctx, uint32_t type, uint64_t rows, uint64_t cols,
                        uint64_t tokens, uint64_t *bytes);
void cpu_avx2_engine_ternary(struct cpu_avx2_engine *e, const struct cpu_ops_ternary *j);

/* The graph ops' inner loops with AVX2, FMA and F16C (kern_ops_avx2.c), and
 * the table for a CPU with `caps` (portable without those three). */
extern const struct cpu_ops_kernels cpu_avx2_ops_avx2;
const struct cpu_ops_kernels *cpu_avx2_ops_select(uint64_t caps, enum cpu_avx2_isa isa);

/* ABI v2 entries (graph.c). */
struct cpu_avx2_engine *cpu_avx2_engine_of(void *state);
int cpu_avx2_supports_op(void *state, uint32_t device, const struct trit_node *node);
int cpu_avx2_graph_workspace(void *state, uint32_t device, const struct trit_graph *graph,
                             uint64_t *bytes, char *err, size_t errlen);
int cpu_avx2_graph_compute(void *state, uint32_t device, const struct trit_graph *graph,
                           char *err, size_t errlen);
int cpu_avx2_get_memory(void *state, uint32_t device, uint64_t *free_bytes,
                        uint64_t *total_bytes, char *err, size_t errlen);
int cpu_avx2_buffer_limits(void *state, uint32_t device, struct trit_buffer_limits *out,
                           char *err, size_t errlen);

#endif /* CPU_AVX2_KERNELS_H */
