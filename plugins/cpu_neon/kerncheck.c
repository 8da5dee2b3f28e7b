/*
 * kerncheck.c - the kernel and argument checks shared by the cpu_neon test
 * programs (see kerncheck.h). Everything goes through the backend table:
 * buffers are allocated and written by the plugin, matmul_workspace says how
 * much scratch to give, and the answer is read back, so a check exercises
 * what the runtime will call, not an internal function.
 */
#include <build-config.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <trit/ternary.h>

#include "formats/ternary.h"
#include "kerncheck.h"

#define GUARD 64          /* poisoned bytes around the workspace */
#define POISON 0xa5

typedef unsigned long long ull;

/* ------------------------------------------------------------------------ */
/* A host with a fixed configuration                                         */

static const char *kc_get(void *ctx, const char *key)
{
	const struct cpu_neon_kc_host *h = ctx;
	for (const char *const *kv = h->kv; kv && kv[0]; kv += 2)
		if (!strcmp(kv[0], key))
			return kv[1];
	return NULL;
}

static const char *kc_key(void *ctx, uint32_t index)
{
	const struct cpu_neon_kc_host *h = ctx;
	uint32_t i = 0;
	for (const char *const *kv = h->kv; kv && kv[0]; kv += 2, i++)
		if (i == index)
			return kv[0];
	return NULL;
}

static const char *kc_where(void *ctx, const char *key)
{
	(void)ctx;
	(void)key;
	return "the test's configuration";
}

void cpu_neon_kc_host_init(struct cpu_neon_kc_host *h, const char *const *kv)
{
	memset(h, 0, sizeof *h);
	h->host.abi_version = TRIT_BACKEND_ABI_VERSION;
	h->host.struct_size = sizeof h->host;
	h->host.host_version = "kerncheck";
	h->host.ctx = h;
	h->host.config_get = kc_get;
	h->host.config_key = kc_key;
	h->host.config_where = kc_where;
	h->kv = kv;
}

/* ------------------------------------------------------------------------ */
/* Random numbers (splitmix64): the same cases on every machine.             */

static uint64_t next(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint64_t below(uint64_t *s, uint64_t n)
{
	return next(s) % n;
}

/* Uniform in [-1, 1). */
static float unit(uint64_t *s)
{
	return (float)((double)(next(s) >> 11) * (1.0 / 9007199254740992.0) * 2.0 - 1.0);
}

static uint64_t block_cols(uint32_t type)
{
	return type == TRIT_TYPE_I2_S ? TRIT_I2S_BLOCK_COLS
	       : type == TRIT_TYPE_TL1 ? TRIT_TL1_BLOCK_COLS
	                               : TRIT_TL2_BLOCK_COLS;
}

void cpu_neon_kc_random(struct cpu_neon_kc_case *c, uint32_t type, int gemv,
                        unsigned threads, int int_dots, uint64_t seed)
{
	uint64_t s = seed, blk = block_cols(type);

	memset(c, 0, sizeof *c);
	c->type = type;
	c->threads = threads;
	c->int_dots = int_dots;
	c->seed = seed;
	do
		c->rows = 1 + below(&s, 100);
	while (c->rows % 32 == 0);
	do
		c->cols = 1 + below(&s, 5 * blk);
	while (c->cols % blk == 0);
	c->tokens = gemv ? 1 : 2 + below(&s, 16);
}

/* ------------------------------------------------------------------------ */
/* One case                                                                  */

static const char *tname(uint32_t type)
{
	return type == TRIT_TYPE_I2_S ? "I2_S" : type == TRIT_TYPE_TL1 ? "TL1" : "TL2";
}

struct bufs {
	struct trit_buffer *w, *in, *out, *ws;
};

static void bufs_free(const struct trit_backend *be, void *state, struct bufs *b)
{
	if (b->w)
		be->buffer_free(state, b->w);
	if (b->in)
		be->buffer_free(state, b->in);
	if (b->out)
		be->buffer_free(state, b->out);
	if (b->ws)
		be->buffer_free(state, b->ws);
	memset(b, 0, sizeof *b);
}

static int fail(char *msg, size_t msglen, const char *fmt, ...) TRIT_PRINTF(3, 4);
static int fail(char *msg, size_t msglen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, msglen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Make the weights and inputs of case c; the caller frees them. */
static int make_data(const struct cpu_neon_kc_case *c, void **packed, uint64_t *packed_bytes,
                     void **input, uint64_t *input_bytes, char *msg, size_t msglen)
{
	uint64_t s = c->seed ^ UINT64_C(0x5eed), n = c->rows * c->cols;
	float *src = malloc(n * sizeof *src);
	char err[300];
	int rc;

	*packed_bytes = trit_ternary_bytes(c->type, c->rows, c->cols);
	*packed = malloc(*packed_bytes);
	*input_bytes = c->tokens * c->cols * (c->int_dots ? 1 : 4);
	*input = malloc(*input_bytes);
	if (!src || !*packed || !*input) {
		free(src);
		return fail(msg, msglen, "out of memory for the test data");
	}
	/* Weights: sparse-ish random floats, so the packer's absmean rule
	 * yields all three trits. */
	for (uint64_t i = 0; i < n; i++) {
		uint64_t r = i / c->cols;
		if (c->extreme && r % 3 != 2)
			src[i] = r % 3 == 0 ? 0.5f : -0.5f;
		else
			src[i] = below(&s, 4) == 0 ? 0.0f : unit(&s) * 0.75f;
	}
	rc = trit_ternary_pack(c->type, *packed, *packed_bytes, TRIT_TYPE_F32, src, n * 4, c->rows,
	                       c->cols, err, sizeof err);
	free(src);
	if (rc != 0)
		return fail(msg, msglen, "trit_ternary_pack refused the test weights: %s", err);
	if (c->int_dots) {
		int8_t *q = *input;
		for (uint64_t i = 0; i < c->tokens * c->cols; i++) {
			uint64_t t = i / c->cols;
			q[i] = c->extreme && t < 2 ? (int8_t)(t == 0 ? -128 : 127)
			                           : (int8_t)(int)(below(&s, 256) - 128);
		}
	} else {
		float *x = *input;
		for (uint64_t t = 0; t < c->tokens; t++) {
			/* Each token its own amplitude; token 1 of a batch is all
			 * zeros (the quantiser's epsilon path). */
			float amp = (float)ldexp(1.0, (int)below(&s, 12) - 6);
			for (uint64_t k = 0; k < c->cols; k++)
				x[t * c->cols + k] = c->extreme && t < 2 ? (t == 0 ? -amp : amp)
				                     : t == 1          ? 0.0f
				                                       : unit(&s) * amp;
		}
	}
	return 0;
}

int cpu_neon_kc_run(const struct trit_backend *be, void *state,
                    const struct cpu_neon_kc_case *c, char *msg, size_t msglen)
{
	struct bufs b = { 0 };
	struct trit_matmul op;
	void *packed = NULL, *input = NULL;
	uint64_t packed_bytes, input_bytes, out_bytes, ws_bytes = 0;
	unsigned char *got = NULL, *want = NULL, *ws_back = NULL;
	char err[400];
	int rc = -1;
	const uint64_t w_off = 5, in_off = c->int_dots ? 3 : 8, out_off = 4, ws_off = GUARD + 7;

	if (make_data(c, &packed, &packed_bytes, &input, &input_bytes, msg, msglen) != 0)
		goto out;
	out_bytes = c->tokens * c->rows * 4;

	memset(&op, 0, sizeof op);
	op.struct_size = sizeof op;
	op.weight_type = c->type;
	op.rows = c->rows;
	op.cols = c->cols;
	op.tokens = c->tokens;
	op.n_threads = c->threads;
	op.flags = c->int_dots ? TRIT_MATMUL_INT_DOTS : 0;
	if (be->matmul_workspace(state, 0, &op, &ws_bytes, err, sizeof err) != 0) {
		fail(msg, msglen, "matmul_workspace failed: %s", err);
		goto out;
	}

	got = malloc(out_bytes);
	want = malloc(out_bytes);
	ws_back = malloc(ws_bytes + 2 * GUARD + 7);
	if (!got || !want || !ws_back) {
		fail(msg, msglen, "out of memory for the results");
		goto out;
	}
	memset(ws_back, POISON, ws_bytes + 2 * GUARD + 7);
	if (be->buffer_alloc(state, 0, packed_bytes + w_off, &b.w, err, sizeof err) ||
	    be->buffer_alloc(state, 0, input_bytes + in_off, &b.in, err, sizeof err) ||
	    be->buffer_alloc(state, 0, out_bytes + out_off, &b.out, err, sizeof err) ||
	    be->buffer_alloc(state, 0, ws_bytes + 2 * GUARD + 7, &b.ws, err, sizeof err) ||
	    be->buffer_write(state, b.w, w_off, packed, packed_bytes, err, sizeof err) ||
	    be->buffer_write(state, b.in, in_off, input, input_bytes, err, sizeof err) ||
	    be->buffer_write(state, b.ws, 0, ws_back, ws_bytes + 2 * GUARD + 7, err,
	                     sizeof err)) {
		fail(msg, msglen, "setting up the buffers failed: %s", err);
		goto out;
	}
	op.weights = b.w;
	op.weights_offset = w_off;
	op.input = b.in;
	op.input_offset = in_off;
	op.output = b.out;
	op.output_offset = out_off;
	op.workspace = b.ws;
	op.workspace_offset = ws_off;
	if (be->matmul(state, 0, &op, err, sizeof err) != 0) {
		fail(msg, msglen, "matmul failed: %s", err);
		goto out;
	}
	if (be->buffer_read(state, b.out, out_off, got, out_bytes, err, sizeof err) ||
	    be->buffer_read(state, b.ws, 0, ws_back, ws_bytes + 2 * GUARD + 7, err, sizeof err)) {
		fail(msg, msglen, "reading the results failed: %s", err);
		goto out;
	}
	for (uint64_t i = 0; i < ws_off; i++)
		if (ws_back[i] != POISON) {
			fail(msg, msglen, "matmul wrote the workspace buffer %llu bytes before "
			     "workspace_offset", (ull)(ws_off - i));
			goto out;
		}
	for (uint64_t i = ws_off + ws_bytes; i < ws_bytes + 2 * GUARD + 7; i++)
		if (ws_back[i] != POISON) {
			fail(msg, msglen, "matmul wrote byte %llu past the %llu workspace bytes "
			     "matmul_workspace reported", (ull)(i - ws_off - ws_bytes), (ull)ws_bytes);
			goto out;
		}

	if (c->int_dots) {
		const int32_t *g = (const int32_t *)(void *)got;
		int32_t *w = (int32_t *)(void *)want;
		trit_ref_matmul_int(c->type, packed, c->rows, c->cols, input, c->tokens, w);
		for (uint64_t t = 0; t < c->tokens; t++)
			for (uint64_t r = 0; r < c->rows; r++)
				if (g[t * c->rows + r] != w[t * c->rows + r]) {
					fail(msg, msglen, "%s %llux%llu, %llu tokens, I8 dots, %u threads: "
					     "token %llu row %llu is %ld, the reference says %ld",
					     tname(c->type), (ull)c->rows, (ull)c->cols, (ull)c->tokens,
					     c->threads, (ull)t, (ull)r, (long)g[t * c->rows + r],
					     (long)w[t * c->rows + r]);
					goto out;
				}
	} else {
		const float *g = (const float *)(void *)got;
		float *w = (float *)(void *)want;
		if (trit_ref_matmul_f32(c->type, packed, c->rows, c->cols, input, c->tokens, w,
		                        NULL) != 0) {
			fail(msg, msglen, "the reference matmul failed");
			goto out;
		}
		for (uint64_t t = 0; t < c->tokens; t++) {
			double big = 0;
			for (uint64_t r = 0; r < c->rows; r++)
				if (fabs(w[t * c->rows + r]) > big)
					big = fabs(w[t * c->rows + r]);
			for (uint64_t r = 0; r < c->rows; r++) {
				double d = fabs((double)g[t * c->rows + r] - w[t * c->rows + r]);
				if (!(d <= 1e-5 * big)) {
					fail(msg, msglen, "%s %llux%llu, %llu tokens, F32, %u threads: "
					     "token %llu row %llu is %.9g, the reference says %.9g (more "
					     "than 1e-5 of %.9g apart)",
					     tname(c->type), (ull)c->rows, (ull)c->cols, (ull)c->tokens,
					     c->threads, (ull)t, (ull)r, (double)g[t * c->rows + r],
					     (double)w[t * c->rows + r], big);
					goto out;
				}
			}
		}
	}
	rc = 0;
out:
	bufs_free(be, state, &b);
	free(packed);
	free(input);
	free(got);
	free(want);
	free(ws_back);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Bad arguments                                                             */

/* Call matmul with op (or NULL) and expect `code` and a message containing
 * `word`. */
static int expect(const struct trit_backend *be, void *state, uint32_t device,
                  const struct trit_matmul *op, int code, const char *word, const char *what,
                  char *msg, size_t msglen)
{
	char err[400] = "";
	int rc = be->matmul(state, device, op, err, sizeof err);

	if (rc != code)
		return fail(msg, msglen, "%s: matmul returned %d, expected %d (message: '%s')", what,
		            rc, code, err);
	if (!strstr(err, word))
		return fail(msg, msglen, "%s: the message '%s' does not name '%s'", what, err, word);
	return 0;
}

int cpu_neon_kc_bad_args(const struct trit_backend *be, void *state, char *msg,
                         size_t msglen)
{
	struct bufs b = { 0 };
	struct trit_matmul good, op;
	uint64_t wbytes = trit_ternary_bytes(TRIT_TYPE_TL1, 40, 100), ws = 0, small;
	char err[400] = "";
	int rc = -1;
	unsigned char zero[64] = { 0 };

	memset(&good, 0, sizeof good);
	good.struct_size = sizeof good;
	good.weight_type = TRIT_TYPE_TL1;
	good.rows = 40;
	good.cols = 100;
	good.tokens = 2;
	if (be->matmul_workspace(state, 0, &good, &ws, err, sizeof err) != 0)
		return fail(msg, msglen, "matmul_workspace of a valid op failed: %s", err);
	if (be->buffer_alloc(state, 0, wbytes, &b.w, err, sizeof err) ||
	    be->buffer_alloc(state, 0, 2 * 100 * 4, &b.in, err, sizeof err) ||
	    be->buffer_alloc(state, 0, 2 * 40 * 4, &b.out, err, sizeof err) ||
	    be->buffer_alloc(state, 0, ws, &b.ws, err, sizeof err)) {
		fail(msg, msglen, "buffer_alloc failed: %s", err);
		goto out;
	}
	good.weights = b.w;
	good.input = b.in;
	good.output = b.out;
	good.workspace = b.ws;
	if (be->matmul(state, 0, &good, err, sizeof err) != 0) {
		fail(msg, msglen, "the valid op failed: %s", err);
		goto out;
	}

#define BAD(mutation, code, word, what)                                                  \
	do {                                                                             \
		op = good;                                                               \
		mutation;                                                                \
		if (expect(be, state, 0, &op, code, word, what, msg, msglen) != 0)       \
			goto out;                                                        \
	} while (0)

	if (expect(be, state, 0, NULL, TRIT_EINVAL, "op", "a NULL op", msg, msglen) ||
	    expect(be, state, 1, &good, TRIT_EINVAL, "device 1", "device 1", msg, msglen))
		goto out;
	BAD(op.struct_size = 8, TRIT_EABI, "struct trit_matmul", "a short struct");
	BAD(op.weight_type = TRIT_TYPE_F32, TRIT_EUNSUPPORTED, "F32", "F32 weights");
	BAD(op.weight_type = TRIT_TYPE_TQ2_0, TRIT_EUNSUPPORTED, "TQ2_0", "TQ2_0 weights");
	BAD(op.weight_type = 999, TRIT_EUNSUPPORTED, "999", "an unknown weight type");
	BAD(op.flags = 2, TRIT_EINVAL, "flags", "an unknown flag");
	BAD(op.rows = 0, TRIT_EINVAL, "rows 0", "zero rows");
	BAD(op.cols = 0, TRIT_EINVAL, "cols 0", "zero cols");
	BAD(op.tokens = 0, TRIT_EINVAL, "tokens 0", "zero tokens");
	BAD(op.rows = UINT64_C(1) << 40, TRIT_ERANGE, "too large", "2^40 rows");
	BAD(op.tokens = UINT64_MAX / 2, TRIT_ERANGE, "tokens", "2^63 tokens");
	BAD(op.weights = NULL, TRIT_EINVAL, "weights", "no weights");
	BAD(op.weights_offset = 1, TRIT_ERANGE, "weights", "weights past the buffer");
	BAD(op.cols = 101, TRIT_ERANGE, "input", "an input too small for the columns");
	BAD(op.input_offset = 2, TRIT_EINVAL, "input offset 2", "a misaligned F32 input");
	BAD(op.output = NULL, TRIT_EINVAL, "output", "no output");
	BAD(op.output_offset = 4, TRIT_ERANGE, "output", "output past the buffer");
	BAD((op.output = b.in, op.output_offset = 0), TRIT_EINVAL, "overlaps",
	    "output on top of the input");
	BAD((op.output = b.ws, op.output_offset = 0), TRIT_EINVAL, "overlaps",
	    "output on top of the workspace");
	BAD(op.workspace = NULL, TRIT_EINVAL, "workspace", "no workspace");
	BAD(op.workspace_offset = 1, TRIT_ERANGE, "workspace", "a workspace one byte short");
	BAD(op.n_threads = 100000, TRIT_ERANGE, "n_threads", "100000 threads");
#undef BAD

	/* matmul_workspace and the buffer functions */
	if (be->matmul_workspace(state, 0, &good, NULL, err, sizeof err) != TRIT_EINVAL) {
		fail(msg, msglen, "matmul_workspace accepted a NULL bytes pointer");
		goto out;
	}
	op = good;
	op.weight_type = TRIT_TYPE_I8;
	if (be->matmul_workspace(state, 0, &op, &small, err, sizeof err) != TRIT_EUNSUPPORTED) {
		fail(msg, msglen, "matmul_workspace accepted I8 weights");
		goto out;
	}
	{
		struct trit_buffer *none = NULL;
		if (be->buffer_alloc(state, 0, 0, &none, err, sizeof err) != TRIT_EINVAL || none) {
			fail(msg, msglen, "buffer_alloc accepted 0 bytes");
			goto out;
		}
		if (be->buffer_alloc(state, 1, 64, &none, err, sizeof err) != TRIT_EINVAL || none) {
			fail(msg, msglen, "buffer_alloc accepted device 1");
			goto out;
		}
	}
	if (be->buffer_write(state, b.in, 2 * 100 * 4 - 8, zero, 16, err, sizeof err) !=
	            TRIT_ERANGE ||
	    !strstr(err, "past the end")) {
		fail(msg, msglen, "buffer_write past the end was not refused as such: '%s'", err);
		goto out;
	}
	if (be->buffer_read(state, b.in, UINT64_MAX, zero, 2, err, sizeof err) != TRIT_ERANGE) {
		fail(msg, msglen, "buffer_read at offset 2^64-1 was not refused");
		goto out;
	}
	rc = 0;
out:
	bufs_free(be, state, &b);
	return rc;
}
