/*
 * matmul.c - the cpu_avx2 backend's buffers and matmul entry points: host
 * memory buffers (64-byte aligned), the checks every trit_matmul goes
 * through before a kernel sees it, the workspace layout, choosing the
 * instruction set, and splitting the work over the worker pool:
 *   phase 1, per token: quantise (or copy) the activations into the
 *            workspace, zero-padded to cols_pad; sum them (I2_S) or build
 *            the lookup tables (TL1, TL2);
 *   phase 2, per range of rows (I2_S) or 32-row tiles (TL1, TL2): the
 *            kernels of kern_avx2.c / kern_avx512.c.
 * The vector code itself is in those files.
 */
#include <build-config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "probe.h"

#define BUFFER_MAGIC UINT64_C(0x7472697461767832) /* "tritavx2" */
#define BUFFER_ALIGN 64u

struct trit_buffer {
	uint64_t magic;
	uint64_t size;
	unsigned char *data;
	int owned;           /* 0: wraps the caller's memory (buffer_from_host_ptr) */
};

typedef unsigned long long ull;

/* ------------------------------------------------------------------------ */
/* Buffers                                                                   */

static int check_buffer(const struct trit_buffer *b, const char *what, char *err,
                        size_t errlen)
{
	if (!b)
		return cpu_avx2_errf(err, errlen, TRIT_EINVAL, "cpu_avx2: the %s buffer is NULL",
		                     what);
	if (b->magic != BUFFER_MAGIC)
		return cpu_avx2_errf(err, errlen, TRIT_EINVAL,
		                     "cpu_avx2: the %s buffer was not allocated by cpu_avx2 "
		                     "(or was already freed)", what);
	return 0;
}

/* offset + size <= b->size without overflow. */
static int check_range(const struct trit_buffer *b, const char *what, uint64_t offset,
                       uint64_t size, char *err, size_t errlen)
{
	if (offset > b->size || size > b->size - offset)
		return cpu_avx2_errf(err, errlen, TRIT_ERANGE,
		                     "cpu_avx2: %s: %llu bytes at offset %llu run past the end of "
		                     "its %llu-byte buffer", what, (ull)size, (ull)offset,
		                     (ull)b->size);
	return 0;
}

void *cpu_avx2_buffer_data(struct trit_buffer *buf)
{
	return buf && buf->magic == BUFFER_MAGIC ? buf->data : NULL;
}

int cpu_avx2_buffer_alloc(void *state, uint32_t device, uint64_t size,
                          struct trit_buffer **out, char *err, size_t errlen)
{
	struct trit_buffer *b;
	void *data = NULL;

	(void)state;
	if (!out)
		return cpu_avx2_errf(err, errlen, TRIT_EINVAL,
		                     "cpu_avx2: buffer_alloc was called without a result pointer");
	*out = NULL;
	if (device != 0)
		return cpu_avx2_errf(err, errlen, TRIT_EINVAL,
		                     "cpu_avx2 has one device (index 0); index %u does not exist",
		                     (unsigned)device);
	if (size == 0)
		return cpu_avx2_errf(err, errlen, TRIT_EINVAL,
		                     "cpu_avx2: a buffer of 0 bytes was asked for; give a size of "
		                     "at least 1 byte");
	if (size > SIZE_MAX - BUFFER_ALIGN)
		return cpu_avx2_errf(err, errlen, TRIT_ENOMEM,
		                     "cpu_avx2: a buffer of %llu bytes cannot be addressed",
		                     (ull)size);
	b = malloc(sizeof *b);
	if (!b || posix_memalign(&data, BUFFER_ALIGN, (size_t)size) != 0) {
		free(b);
		return cpu_avx2_errf(err, errlen, TRIT_ENOMEM,
		                     "cpu_avx2: out of host memory for a buffer of %llu bytes",
		                     (ull)size);
	}
	b->magic = BUFFER_MAGIC;
	b->size = size;
	b->data = data;
	b->owned = 1;
	*out = b;
	return 0;
}

int cpu_avx2_buffer_from_host_ptr(void *state, uint32_t device, void *ptr, uint64_t size,
                                  struct trit_buffer **out, char *err, size_t errlen)
{
	struct trit_buffer *b;

	(void)state;
	if (!out)
		return cpu_avx2_errf(err, errlen, TRIT_EINVAL, "cpu_avx2: buffer_from_host_ptr "
		                     "was called without a result pointer");
	*out = NULL;
	if (device != 0)
		return cpu_avx2_errf(err, errlen, TRIT_EINVAL, "cpu_avx2 has one device (index "
		                     "0); index %u does not exist", (unsigned)device);
	if (!ptr || size == 0 || size > UINTPTR_MAX - (uintptr_t)ptr)
		return cpu_avx2_errf(err, errlen, TRIT_EINVAL, "cpu_avx2: buffer_from_host_ptr "
		                     "needs a non-NULL pointer and 1 or more bytes that fit the "
		                     "address space (got %p, %llu bytes)", ptr, (ull)size);
	if ((uintptr_t)ptr % BUFFER_ALIGN)
		return cpu_avx2_errf(err, errlen, TRIT_EINVAL, "cpu_avx2: host memory at %p is not "
		                     "%u-byte aligned, the alignment buffer_limits promises", ptr,
		                     BUFFER_ALIGN);
	if (!(b = malloc(sizeof *b)))
		return cpu_avx2_errf(err, errlen, TRIT_ENOMEM, "cpu_avx2: out of memory for a "
		                     "buffer wrapper");
	*b = (struct trit_buffer){ BUFFER_MAGIC, size, ptr, 0 };
	*out = b;
	return 0;
}

void *cpu_avx2_buffer_host_ptr(void *state, struct trit_buffer *buf)
{
	(void)state;
	return cpu_avx2_buffer_data(buf);
}

int cpu_avx2_buffer_span(void *ctx, const struct trit_buffer *b, unsigned char **data,
                         uint64_t *size)
{
	(void)ctx;
	if (!b || b->magic != BUFFER_MAGIC)
		return -1;
	*data = b->data;
	*size = b->size;
	return 0;
}

int cpu_avx2_buffer_copy(void *state, struct trit_buffer *dst, uint64_t dst_offset,
                         struct trit_buffer *src, uint64_t src_offset, uint64_t size,
                         char *err, size_t errlen)
{
	int rc;

	(void)state;
	if ((rc = check_buffer(dst, "destination", err, errlen)) != 0 ||
	    (rc = check_buffer(src, "source", err, errlen)) != 0 ||
	    (rc = check_range(dst, "buffer_copy destination", dst_offset, size, err, errlen)) ||
	    (rc = check_range(src, "buffer_copy source", src_offset, size, err, errlen)))
		return rc;
	if (size)
		memmove(dst->data + dst_offset, src->data + src_offset, (size_t)size);
	return 0;
}

void cpu_avx2_buffer_free(void *state, struct trit_buffer *buf)
{
	(void)state;
	if (!buf || buf->magic != BUFFER_MAGIC)
		return;
	buf->magic = 0;
	if (buf->owned)
		free(buf->data);
	free(buf);
}

int cpu_avx2_buffer_write(void *state, struct trit_buffer *buf, uint64_t offset,
                          const void *src, uint64_t size, char *err, size_t errlen)
{
	int rc;

	(void)state;
	if ((rc = check_buffer(buf, "destination", err, errlen)) != 0 ||
	    (rc = check_range(buf, "buffer_write", offset, size, err, errlen)) != 0)
		return rc;
	if (size && !src)
		return cpu_avx2_errf(err, errlen, TRIT_EINVAL,
		                     "cpu_avx2: buffer_write of %llu bytes from a NULL source",
		                     (ull)size);
	if (size)
		memcpy(buf->data + offset, src, (size_t)size);
	return 0;
}

int cpu_avx2_buffer_read(void *state, struct trit_buffer *buf, uint64_t offset, void *dst,
                         uint64_t size, char *err, size_t errlen)
{
	int rc;

	(void)state;
	if ((rc = check_buffer(buf, "source", err, errlen)) != 0 ||
	    (rc = check_range(buf, "buffer_read", offset, size, err, errlen)) != 0)
		return rc;
	if (size && !dst)
		return cpu_avx2_errf(err, errlen, TRIT_EINVAL,
		                     "cpu_avx2: buffer_read of %llu bytes into a NULL destination",
		                     (ull)size);
	if (size)
		memcpy(dst, buf->data + offset, (size_t)size);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Choosing the kernels                                                      */

static const char *caps_missing(uint64_t caps, uint64_t needs, char *buf, size_t len)
{
	cpu_avx2_caps_format(needs & ~caps, buf, len);
	return buf;
}

const struct cpu_avx2_kernels *cpu_avx2_kernels_select(uint64_t caps, enum cpu_avx2_isa isa,
                                                       const char *where, char *why,
                                                       size_t whylen)
{
	char miss[200];

	if ((caps & CPU_AVX2_NEEDS_AVX2) != CPU_AVX2_NEEDS_AVX2) {
		cpu_avx2_errf(why, whylen, 0,
		              "no kernel can run: the kernels need AVX2 and FMA, and this CPU "
		              "lacks (or the configuration disabled) %s",
		              caps_missing(caps, CPU_AVX2_NEEDS_AVX2, miss, sizeof miss));
		return NULL;
	}
	if (isa == CPU_AVX2_ISA_AVX2)
		return &cpu_avx2_kernels_avx2;
#ifdef CPU_AVX2_HAVE_AVX512
	if ((caps & CPU_AVX2_NEEDS_AVX512VNNI) == CPU_AVX2_NEEDS_AVX512VNNI)
		return &cpu_avx2_kernels_avx512vnni;
	if ((caps & CPU_AVX2_NEEDS_AVX512BW) == CPU_AVX2_NEEDS_AVX512BW)
		return &cpu_avx2_kernels_avx512bw;
	if (isa == CPU_AVX2_ISA_AVX512) {
		cpu_avx2_errf(why, whylen, 0,
		              "%s: [plugin.cpu_avx2] isa = avx512, but the AVX-512 kernels need "
		              "AVX512F and AVX512BW, and this CPU lacks (or the configuration "
		              "disabled) %s; use isa = auto or avx2",
		              where ? where : "the configuration",
		              caps_missing(caps, CPU_AVX2_NEEDS_AVX512BW, miss, sizeof miss));
		return NULL;
	}
#else
	if (isa == CPU_AVX2_ISA_AVX512) {
		cpu_avx2_errf(why, whylen, 0,
		              "%s: [plugin.cpu_avx2] isa = avx512, but this build of the plugin "
		              "has no AVX-512 kernels (the compiler did not accept -mavx512f "
		              "-mavx512bw -mavx512vnni at configure time); use isa = auto or avx2",
		              where ? where : "the configuration");
		return NULL;
	}
#endif
	return &cpu_avx2_kernels_avx2;
}

/* ------------------------------------------------------------------------ */
/* Workspace                                                                 */

static int add_part(uint64_t *at, uint64_t bytes, uint64_t *part)
{
	uint64_t rounded;

	if (bytes > UINT64_MAX - 63)
		return -1;
	rounded = (bytes + 63) / 64 * 64;
	if (*at > UINT64_MAX - rounded)
		return -1;
	*part = *at;
	*at += rounded;
	return 0;
}

int cpu_avx2_ws_layout(uint32_t type, uint64_t cols_pad, uint64_t tokens, int int_dots,
                       struct cpu_avx2_ws_layout *l)
{
	uint64_t at = 0, tb = type == TRIT_TYPE_I2_S ? 0 : cpu_avx2_table_bytes(type, cols_pad);

	memset(l, 0, sizeof *l);
	if (tokens > UINT64_MAX / 4 || (cols_pad && tokens > UINT64_MAX / cols_pad) ||
	    (tb && tokens > UINT64_MAX / tb))
		return -1;
	if (add_part(&at, tokens * cols_pad, &l->q) != 0)
		return -1;
	if (type == TRIT_TYPE_I2_S && add_part(&at, tokens * 4, &l->qsum) != 0)
		return -1;
	if (!int_dots && add_part(&at, tokens * 4, &l->s) != 0)
		return -1;
	if (tb && add_part(&at, tokens * tb, &l->tables) != 0)
		return -1;
	l->total = at;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Checking an operation                                                     */

static const char *type_name(uint32_t t)
{
	switch (t) {
	case TRIT_TYPE_I2_S: return "I2_S";
	case TRIT_TYPE_TL1: return "TL1";
	case TRIT_TYPE_TL2: return "TL2";
	default: return NULL;
	}
}

/* What the checks found, for the run. */
struct checked {
	struct trit_ternary_geometry g;
	struct cpu_avx2_ws_layout ws;
	int int_dots;
	uint64_t in_bytes, out_bytes;
};

#define MATMUL_MIN_SIZE (offsetof(struct trit_matmul, flags) + sizeof(uint32_t))

/* Everything about op that does not involve its buffers. */
static int check_shape(const struct trit_matmul *op, uint32_t device, struct checked *c,
                       char *err, size_t errlen)
{
	const char *tn;

	memset(c, 0, sizeof *c);
	if (!op)
		return cpu_avx2_errf(err, errlen, TRIT_EINVAL,
		                     "cpu_avx2: matmul was called without an operation");
	if (op->struct_size < MATMUL_MIN_SIZE)
		return cpu_avx2_errf(err, errlen, TRIT_EABI,
		                     "cpu_avx2: struct trit_matmul is %u bytes, smaller than the "
		                     "%zu bytes of ABI %u; rebuild the caller against this SDK",
		                     (unsigned)op->struct_size, (size_t)MATMUL_MIN_SIZE,
		                     (unsigned)TRIT_BACKEND_ABI_VERSION);
	if (device != 0)
		return cpu_avx2_errf(err, errlen, TRIT_EINVAL,
		                     "cpu_avx2 has one device (index 0); index %u does not exist",
		                     (unsigned)device);
	if (!(tn = type_name(op->weight_type)))
		return cpu_avx2_errf(err, errlen, TRIT_EUNSUPPORTED,
		                     "cpu_avx2: weight type %u has no kernel here; cpu_avx2 runs "
		                     "I2_S (%u), TL1 (%u) and TL2 (%u)", (unsigned)op->weight_type,
		                     (unsigned)TRIT_TYPE_I2_S, (unsigned)TRIT_TYPE_TL1,
		                     (unsigned)TRIT_TYPE_TL2);
	if (op->flags & ~TRIT_MATMUL_INT_DOTS)
		return cpu_avx2_errf(err, errlen, TRIT_EINVAL,
		                     "cpu_avx2: matmul flags 0x%x include bits this plugin does not "
		                     "know (it knows TRIT_MATMUL_INT_DOTS = 0x%x)",
		                     (unsigned)op->flags, (unsigned)TRIT_MATMUL_INT_DOTS);
	c->int_dots = (op->flags & TRIT_MATMUL_INT_DOTS) != 0;
	if (op->rows == 0 || op->cols == 0 || op->tokens == 0)
		return cpu_avx2_errf(err, errlen, TRIT_EINVAL,
		                     "cpu_avx2: %s matmul of %llu rows x %llu cols for %llu tokens: "
		                     "every dimension must be at least 1", tn, (ull)op->rows,
		                     (ull)op->cols, (ull)op->tokens);
	if (op->rows >= (UINT64_C(1) << 31) || op->cols >= (UINT64_C(1) << 31) ||
	    op->tokens >= (UINT64_C(1) << 31) ||
	    trit_ternary_geometry(op->weight_type, op->rows, op->cols, &c->g) != 0)
		return cpu_avx2_errf(err, errlen, TRIT_ERANGE,
		                     "cpu_avx2: %s matmul of %llu rows x %llu cols for %llu tokens "
		                     "is too large (each must be below 2^31)", tn, (ull)op->rows,
		                     (ull)op->cols, (ull)op->tokens);
	c->in_bytes = op->tokens * op->cols * (c->int_dots ? 1 : 4);
	c->out_bytes = op->tokens * op->rows * 4;
	if (op->n_threads > CPU_AVX2_MAX_THREADS)
		return cpu_avx2_errf(err, errlen, TRIT_ERANGE,
		                     "cpu_avx2: n_threads = %u; at most %u are supported (0 = the "
		                     "measured usable thread count)", (unsigned)op->n_threads,
		                     CPU_AVX2_MAX_THREADS);
	if (cpu_avx2_ws_layout(op->weight_type, c->g.cols_pad, op->tokens, c->int_dots,
	                       &c->ws) != 0)
		return cpu_avx2_errf(err, errlen, TRIT_ERANGE,
		                     "cpu_avx2: the workspace of a %s matmul of %llu cols for %llu "
		                     "tokens does not fit in 64 bits", tn, (ull)op->cols,
		                     (ull)op->tokens);
	return 0;
}

/* Do [a, a + an) and [b, b + bn) in the same buffer overlap? */
static int overlap(const struct trit_buffer *ba, uint64_t a, uint64_t an,
                   const struct trit_buffer *bb, uint64_t b, uint64_t bn)
{
	return ba == bb && an && bn && a < b + bn && b < a + an;
}

static int check_buffers(const struct trit_matmul *op, const struct checked *c, char *err,
                         size_t errlen)
{
	const char *tn = type_name(op->weight_type);
	int rc;

	if ((rc = check_buffer(op->weights, "weights", err, errlen)) != 0 ||
	    (rc = check_buffer(op->input, "input", err, errlen)) != 0 ||
	    (rc = check_buffer(op->output, "output", err, errlen)) != 0 ||
	    (rc = check_buffer(op->workspace, "workspace", err, errlen)) != 0)
		return rc;
	if (op->weights_offset > op->weights->size ||
	    c->g.total_bytes > op->weights->size - op->weights_offset)
		return cpu_avx2_errf(err, errlen, TRIT_ERANGE,
		                     "cpu_avx2: a %llu x %llu %s tensor is %llu bytes (data and "
		                     "32-byte trailer) but its buffer holds %llu bytes after offset "
		                     "%llu", (ull)op->rows, (ull)op->cols, tn, (ull)c->g.total_bytes,
		                     (ull)(op->weights_offset > op->weights->size
		                                   ? 0 : op->weights->size - op->weights_offset),
		                     (ull)op->weights_offset);
	if ((rc = check_range(op->input, c->int_dots ? "input (I8 [tokens][cols])"
	                                             : "input (F32 [tokens][cols])",
	                      op->input_offset, c->in_bytes, err, errlen)) != 0 ||
	    (rc = check_range(op->output, c->int_dots ? "output (I32 [tokens][rows])"
	                                              : "output (F32 [tokens][rows])",
	                      op->output_offset, c->out_bytes, err, errlen)) != 0 ||
	    (rc = check_range(op->workspace, "workspace (see matmul_workspace)",
	                      op->workspace_offset, c->ws.total, err, errlen)) != 0)
		return rc;
	if ((!c->int_dots && op->input_offset % 4) || op->output_offset % 4)
		return cpu_avx2_errf(err, errlen, TRIT_EINVAL,
		                     "cpu_avx2: the %s offset %llu is not a multiple of 4; 32-bit "
		                     "values must be aligned",
		                     op->output_offset % 4 ? "output" : "input",
		                     (ull)(op->output_offset % 4 ? op->output_offset
		                                                 : op->input_offset));
	if (overlap(op->output, op->output_offset, c->out_bytes, op->weights,
	            op->weights_offset, c->g.total_bytes) ||
	    overlap(op->output, op->output_offset, c->out_bytes, op->input, op->input_offset,
	            c->in_bytes) ||
	    overlap(op->workspace, op->workspace_offset, c->ws.total, op->weights,
	            op->weights_offset, c->g.total_bytes) ||
	    overlap(op->workspace, op->workspace_offset, c->ws.total, op->input,
	            op->input_offset, c->in_bytes) ||
	    overlap(op->workspace, op->workspace_offset, c->ws.total, op->output,
	            op->output_offset, c->out_bytes))
		return cpu_avx2_errf(err, errlen, TRIT_EINVAL,
		                     "cpu_avx2: the output or the workspace overlaps another operand "
		                     "of the matmul in the same buffer; give each its own bytes");
	return 0;
}

int cpu_avx2_engine_workspace(const struct cpu_avx2_engine *e, uint32_t device,
                              const struct trit_matmul *op, uint64_t *bytes, char *err,
                              size_t errlen)
{
	struct checked c;
	int rc;

	(void)e;
	if (!bytes)
		return cpu_avx2_errf(err, errlen, TRIT_EINVAL,
		                     "cpu_avx2: matmul_workspace was called without a result "
		                     "pointer");
	*bytes = 0;
	if ((rc = check_shape(op, device, &c, err, errlen)) != 0)
		return rc;
	*bytes = c.ws.total;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Running                                                                   */

struct run {
	struct cpu_avx2_mm mm;
	const struct cpu_avx2_kernels *k;
	const struct cpu_ops_kernels *ops; /* quantiser and byte sum */
	const void *in;     /* the caller's input */
	const float *scales; /* I8 input with its multipliers (graph MATMUL), or NULL */
	int8_t *q;          /* writable views of the workspace parts */
	int32_t *qsum;
	float *s;
	uint8_t *tables;
};

static uint64_t split(uint64_t units, unsigned part, unsigned nparts)
{
	return (uint64_t)((unsigned __int128)units * part / nparts);
}

/* Phase 1 for tokens of this part. */
static void prep(void *arg, unsigned part, unsigned nparts)
{
	struct run *run = arg;
	const struct cpu_avx2_mm *mm = &run->mm;
	uint64_t t0 = split(mm->tokens, part, nparts), t1 = split(mm->tokens, part + 1, nparts);

	for (uint64_t t = t0; t < t1; t++) {
		int8_t *q = run->q + t * mm->cols_pad;
		if (run->s && !run->scales) {
			run->s[t] = run->ops->quant_act((const float *)run->in + t * mm->cols,
			                                mm->cols, q);
		} else {
			memcpy(q, (const int8_t *)run->in + t * mm->cols, (size_t)mm->cols);
			if (run->s)
				run->s[t] = run->scales[t];
		}
		memset(q + mm->cols, 0, (size_t)(mm->cols_pad - mm->cols));
		if (mm->type == TRIT_TYPE_I2_S) {
			run->qsum[t] = run->ops->sum_i8(q, mm->cols);
			if (run->k->i2s_order)
				run->k->i2s_order(q, mm->cols_pad);
		} else if (mm->type == TRIT_TYPE_TL1) {
			run->k->tl1_tables(q, mm->cols_pad, run->tables + t * mm->table_bytes);
		} else {
			run->k->tl2_tables(q, mm->cols_pad, run->tables + t * mm->table_bytes);
		}
	}
}

/* Phase 2 for rows (I2_S, in fours) or tiles of this part. */
static void compute(void *arg, unsigned part, unsigned nparts)
{
	struct run *run = arg;
	const struct cpu_avx2_mm *mm = &run->mm;

	if (mm->type == TRIT_TYPE_I2_S) {
		uint64_t quads = (mm->rows + 3) / 4;
		uint64_t r0 = 4 * split(quads, part, nparts);
		uint64_t r1 = 4 * split(quads, part + 1, nparts);
		if (r1 > mm->rows)
			r1 = mm->rows;
		if (r0 < r1)
			run->k->i2s(mm, r0, r1);
	} else {
		uint64_t tiles = mm->rows_pad / TRIT_TL_TILE_ROWS;
		uint64_t t0 = split(tiles, part, nparts), t1 = split(tiles, part + 1, nparts);
		if (t0 < t1)
			(mm->type == TRIT_TYPE_TL1 ? run->k->tl1 : run->k->tl2)(mm, t0, t1);
	}
}

/* Run one checked ternary product: phase 1 over tokens, phase 2 over rows
 * or tiles. With `scales` the input is I8 already quantised. */
static void execute(struct cpu_avx2_engine *e, uint32_t type, uint64_t rows, uint64_t cols,
                    uint64_t tokens, const uint8_t *w, const void *in, const float *scales,
                    float *out_f32, int32_t *out_i32, unsigned char *ws, int int_dots,
                    unsigned n_threads)
{
	struct trit_ternary_geometry g;
	struct cpu_avx2_ws_layout l;
	struct run run;
	uint64_t units;
	unsigned threads;

	trit_ternary_geometry(type, rows, cols, &g);
	cpu_avx2_ws_layout(type, g.cols_pad, tokens, int_dots, &l);
	memset(&run, 0, sizeof run);
	run.k = e->k;
	run.ops = e->ops ? e->ops : &cpu_ops_portable;
	run.in = in;
	run.scales = scales;
	run.q = (int8_t *)(ws + l.q);
	run.qsum = type == TRIT_TYPE_I2_S ? (int32_t *)(ws + l.qsum) : NULL;
	run.s = int_dots ? NULL : (float *)(ws + l.s);
	run.tables = type == TRIT_TYPE_I2_S ? NULL : ws + l.tables;

	run.mm.type = type;
	run.mm.rows = rows;
	run.mm.cols = cols;
	run.mm.tokens = tokens;
	run.mm.rows_pad = g.rows_pad;
	run.mm.cols_pad = g.cols_pad;
	run.mm.w = w;
	run.mm.scale = trit_ternary_scale(w, g.data_bytes);
	run.mm.q = run.q;
	run.mm.qsum = run.qsum;
	run.mm.s = run.s;
	run.mm.tables = run.tables;
	run.mm.table_bytes = run.tables ? cpu_avx2_table_bytes(type, g.cols_pad) : 0;
	run.mm.out_i32 = out_i32;
	run.mm.out_f32 = out_f32;

	threads = n_threads ? n_threads : e->default_threads;
	if (threads == 0)
		threads = 1;
	/* Phase 1 is worth other threads only with several tokens. */
	cpu_avx2_workers_run(&e->pool, tokens < threads ? (unsigned)tokens : threads, prep,
	                     &run);
	units = type == TRIT_TYPE_I2_S ? (rows + 3) / 4 : g.rows_pad / TRIT_TL_TILE_ROWS;
	cpu_avx2_workers_run(&e->pool, units < threads ? (unsigned)units : threads, compute,
	                     &run);
}

int cpu_avx2_engine_matmul(struct cpu_avx2_engine *e, uint32_t device,
                           const struct trit_matmul *op, char *err, size_t errlen)
{
	struct checked c;
	unsigned char *ws;
	float *out_f32 = NULL;
	int32_t *out_i32 = NULL;
	int rc;

	if (!e)
		return cpu_avx2_errf(err, errlen, TRIT_EINVAL,
		                     "cpu_avx2: matmul was called without the plugin state");
	if ((rc = check_shape(op, device, &c, err, errlen)) != 0 ||
	    (rc = check_buffers(op, &c, err, errlen)) != 0)
		return rc;
	if (!e->k)
		return cpu_avx2_errf(err, errlen, TRIT_EUNSUPPORTED, "cpu_avx2: %s",
		                     e->why ? e->why : "no kernel can run on this CPU");

	ws = op->workspace->data + op->workspace_offset;
	if (c.int_dots)
		out_i32 = (int32_t *)(op->output->data + op->output_offset);
	else
		out_f32 = (float *)(op->output->data + op->output_offset);
	execute(e, op->weight_type, op->rows, op->cols, op->tokens,
	        op->weights->data + op->weights_offset, op->input->data + op->input_offset, NULL,
	        out_f32, out_i32, ws, c.int_dots, op->n_threads);
	return 0;
}

int cpu_avx2_ternary_ws(void *ctx, uint32_t type, uint64_t rows, uint64_t cols,
                        uint64_t tokens, uint64_t *bytes)
{
	struct trit_ternary_geometry g;
	struct cpu_avx2_ws_layout l;

	(void)ctx;
	if (trit_ternary_geometry(type, rows, cols, &g) != 0 ||
	    cpu_avx2_ws_layout(type, g.cols_pad, tokens, 0, &l) != 0)
		return TRIT_ERANGE;
	*bytes = l.total;
	return 0;
}

void cpu_avx2_engine_ternary(struct cpu_avx2_engine *e, const struct cpu_ops_ternary *j)
{
	execute(e, j->type, j->rows, j->cols, j->tokens, j->w, j->x, j->scales, j->y, NULL,
	        j->ws, 0, j->n_threads);
}
