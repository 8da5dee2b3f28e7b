/*
 * opcheck.c - the graph-op checks of opcheck.h: one-node graphs run through
 * a plugin's table and compared with a plain double-precision computation
 * here (or exactly where trit/quant.h and trit/ternary.h define the bits).
 * Plain C with no test framework, so the qemu program can run it; the
 * Check suites wrap each case in a test.
 */
#include <build-config.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <trit/quant.h>
#include <trit/ternary.h>

#include "opcheck.h"
#include "formats/ternary.h" /* runtime/formats/ternary.h: trit_ternary_pack */

typedef unsigned long long ull;

#define MAX_BUFS 40

struct oc {
	const struct trit_backend *be;
	void *st;
	unsigned threads;
	char *msg;
	size_t len;
	struct trit_buffer *bufs[MAX_BUFS];
	unsigned nbufs;
	void *mem[64];
	unsigned nmem;
	uint64_t rng;
};

static int fail(struct oc *c, const char *fmt, ...) TRIT_PRINTF(2, 3);
static int fail(struct oc *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->msg, c->len, fmt, ap);
	va_end(ap);
	return -1;
}

/* Uniform in [-1, 1). */
static float rnd(struct oc *c)
{
	c->rng = c->rng * 6364136223846793005ull + 1442695040888963407ull;
	return (float)((double)(c->rng >> 40) / (double)(1ull << 23) - 1.0);
}

static void fill(struct oc *c, float *x, uint64_t n, float amp)
{
	for (uint64_t i = 0; i < n; i++)
		x[i] = amp * rnd(c);
}

/* ------------------------------------------------------------------------ */
/* Buffers and tensors                                                       */

static struct trit_buffer *buf(struct oc *c, const void *data, uint64_t bytes)
{
	struct trit_buffer *b = NULL;
	char err[300];
	void *zero = NULL;

	if (c->nbufs == MAX_BUFS || c->be->buffer_alloc(c->st, 0, bytes, &b, err, sizeof err))
		return NULL;
	c->bufs[c->nbufs++] = b;
	if (!data)
		data = zero = calloc(1, bytes);
	if (!data || c->be->buffer_write(c->st, b, 0, data, bytes, err, sizeof err)) {
		free(zero);
		return NULL;
	}
	free(zero);
	return b;
}

static void release(struct oc *c)
{
	for (unsigned i = 0; i < c->nbufs; i++)
		c->be->buffer_free(c->st, c->bufs[i]);
	for (unsigned i = 0; i < c->nmem; i++)
		free(c->mem[i]);
	c->nbufs = c->nmem = 0;
}

/* Zeroed memory freed when the case ends. */
static void *mem(struct oc *c, uint64_t n, uint64_t size)
{
	void *p;
	if (c->nmem == 64 || !(p = calloc(n ? n : 1, size)))
		return NULL;
	return c->mem[c->nmem++] = p;
}

static uint64_t row_bytes(uint32_t type, uint64_t ne0)
{
	const struct trit_type_traits *t = trit_type_traits(type);
	return ne0 / t->block_elems * t->block_bytes;
}

/* A tensor of `type` [ne0..ne3] whose rows are `stride` bytes apart (0:
 * contiguous). */
static struct trit_tensor ten(struct trit_buffer *b, uint32_t type, uint64_t ne0,
                              uint64_t ne1, uint64_t ne2, uint64_t ne3, uint64_t stride)
{
	struct trit_tensor t = { .type = type, .ne = { ne0, ne1, ne2, ne3 }, .buffer = b };
	t.nb[0] = trit_type_traits(type)->block_bytes;
	t.nb[1] = stride ? stride : row_bytes(type, ne0);
	t.nb[2] = t.nb[1] * ne1;
	t.nb[3] = t.nb[2] * ne2;
	return t;
}

/* A buffer holding rows of F32 values (rows * ne0) at `stride` bytes. */
static struct trit_buffer *f32_rows(struct oc *c, const float *x, uint64_t ne0,
                                    uint64_t rows, uint64_t stride)
{
	unsigned char *tmp = calloc(rows, stride);
	struct trit_buffer *b;
	if (!tmp)
		return NULL;
	for (uint64_t r = 0; r < rows; r++)
		memcpy(tmp + r * stride, x + r * ne0, ne0 * 4);
	b = buf(c, tmp, rows * stride);
	free(tmp);
	return b;
}

static int read_rows(struct oc *c, struct trit_buffer *b, float *y, uint64_t ne0,
                     uint64_t rows, uint64_t stride)
{
	char err[300];
	for (uint64_t r = 0; r < rows; r++)
		if (c->be->buffer_read(c->st, b, r * stride, y + r * ne0, ne0 * 4, err, sizeof err))
			return fail(c, "buffer_read: %s", err);
	return 0;
}

/* supports_op must say 1; then the node runs as a one-node graph. */
static int run_node(struct oc *c, struct trit_node *n, const char *what)
{
	struct trit_graph g = { sizeof g, 1, n, c->threads, 0, NULL, 0, 0 };
	uint64_t ws = 0;
	char err[600];
	int rc;

	n->struct_size = sizeof *n;
	n->name = what;
	if (!c->be->supports_op(c->st, 0, n)) {
		c->be->graph_compute(c->st, 0, &g, err, sizeof err);
		return fail(c, "%s: supports_op says 0 (graph_compute: %s)", what, err);
	}
	if ((rc = c->be->graph_workspace(c->st, 0, &g, &ws, err, sizeof err)) != 0)
		return fail(c, "%s: graph_workspace: %s", what, err);
	if (ws && !(g.workspace = buf(c, NULL, ws)))
		return fail(c, "%s: no %llu-byte workspace", what, (ull)ws);
	g.workspace_size = ws;
	if ((rc = c->be->graph_compute(c->st, 0, &g, err, sizeof err)) != 0)
		return fail(c, "%s: graph_compute: %s", what, err);
	return 0;
}

/* The node must fail with `code` and a message naming the node. */
static int run_fails(struct oc *c, struct trit_node *n, const char *what, int code)
{
	struct trit_graph g = { sizeof g, 1, n, c->threads, 0, NULL, 0, 0 };
	char err[600] = "";
	int rc;

	n->struct_size = sizeof *n;
	n->name = what;
	rc = c->be->graph_compute(c->st, 0, &g, err, sizeof err);
	if (rc != code)
		return fail(c, "%s: graph_compute returned %d, expected %d (%s)", what, rc, code,
		            err);
	if (!strstr(err, what) || !strstr(err, "node 0"))
		return fail(c, "%s: the error does not name the node: '%s'", what, err);
	return 0;
}

/* |got - want| <= tol * max(1, max |want|), everywhere. */
static int cmp(struct oc *c, const char *what, const float *got, const double *want,
               uint64_t n, double tol)
{
	double amax = 1.0;
	for (uint64_t i = 0; i < n; i++)
		amax = fabs(want[i]) > amax ? fabs(want[i]) : amax;
	for (uint64_t i = 0; i < n; i++)
		if (!(fabs((double)got[i] - want[i]) <= tol * amax))
			return fail(c, "%s: element %llu is %.9g, expected %.9g (tolerance %.3g)",
			            what, (ull)i, (double)got[i], want[i], tol * amax);
	return 0;
}

#define TRY(x)                     \
	do {                       \
		if ((x) != 0)      \
			return -1; \
	} while (0)
#define ALLOC(p, n)                                               \
	do {                                                      \
		if (!((p) = mem(c, (n), sizeof *(p))))            \
			return fail(c, "out of memory in the check"); \
	} while (0)
#define NONNULL(b)                                                  \
	do {                                                        \
		if (!(b))                                           \
			return fail(c, "buffer_alloc/write failed"); \
	} while (0)

static const double tol_f = 2e-5;

/* ------------------------------------------------------------------------ */
/* RMS_NORM                                                                  */

static void want_rms(const float *x, const float *w, double eps, uint64_t ne0, uint64_t rows,
                     double *want)
{
	for (uint64_t r = 0; r < rows; r++) {
		double ss = 0;
		for (uint64_t k = 0; k < ne0; k++)
			ss += (double)x[r * ne0 + k] * x[r * ne0 + k];
		for (uint64_t k = 0; k < ne0; k++)
			want[r * ne0 + k] = x[r * ne0 + k] / sqrt(ss / (double)ne0 + eps) *
			                    (w ? w[k] : 1.0);
	}
}

/* variant 0: weight, strided x; 1: no weight, in place; 2: one token. */
static int case_rms(struct oc *c)
{
	const uint64_t ne0 = 515, stride = 520 * 4;
	float *x, *w, *y;
	double *want;

	ALLOC(x, ne0 * 37);
	ALLOC(w, ne0);
	ALLOC(y, ne0 * 37);
	ALLOC(want, ne0 * 37);
	fill(c, x, ne0 * 37, 3.0f);
	fill(c, w, ne0, 1.0f);
	for (int v = 0; v < 3; v++) {
		uint64_t rows = v == 2 ? 1 : 37;
		struct trit_buffer *bx = f32_rows(c, x, ne0, rows, stride), *bw = buf(c, w, ne0 * 4);
		struct trit_buffer *bd = v == 1 ? bx : buf(c, NULL, rows * ne0 * 4);
		struct trit_node n = { .op = TRIT_OP_RMS_NORM, .fparams = { 1e-5f } };
		NONNULL(bx && bw && bd);
		n.src[0] = ten(bx, TRIT_TYPE_F32, ne0, rows, 1, 1, stride);
		if (v == 0)
			n.src[1] = ten(bw, TRIT_TYPE_F32, ne0, 1, 1, 1, 0);
		n.dst = v == 1 ? n.src[0] : ten(bd, TRIT_TYPE_F32, ne0, rows, 1, 1, 0);
		TRY(run_node(c, &n, v == 0 ? "rms weighted strided" : v == 1 ? "rms in place"
		                                                              : "rms one token"));
		TRY(read_rows(c, bd, y, ne0, rows, v == 1 ? stride : ne0 * 4));
		want_rms(x, v == 0 ? w : NULL, 1e-5, ne0, rows, want);
		TRY(cmp(c, "RMS_NORM", y, want, ne0 * rows, tol_f));
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* ADD, MUL with broadcasting; SCALE and the activations; GLU                */

static double act_d(int op, double x)
{
	if (op == TRIT_OP_RELU2)
		return x > 0 ? x * x : 0;
	if (op == TRIT_OP_SILU)
		return x / (1 + exp(-x));
	return 0.5 * x * (1 + tanh(sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
}

static int case_binary(struct oc *c)
{
	static const uint64_t yshape[4][3] = { { 19, 1, 1 }, { 1, 1, 1 }, { 19, 5, 1 },
		                               { 19, 5, 3 } };
	const uint64_t ne0 = 19, n1 = 5, n2 = 3, rows = n1 * n2, stride = 24 * 4;
	float *x, *y, *got;
	double *want;

	ALLOC(x, ne0 * rows);
	ALLOC(y, ne0 * rows);
	ALLOC(got, ne0 * rows);
	ALLOC(want, ne0 * rows);
	fill(c, x, ne0 * rows, 2.0f);
	fill(c, y, ne0 * rows, 2.0f);
	for (int op = TRIT_OP_ADD; op <= TRIT_OP_MUL; op++)
		for (int s = 0; s < 4; s++) {
			const uint64_t *ys = yshape[s];
			int inplace = s == 3;
			struct trit_buffer *bx = f32_rows(c, x, ne0, rows, stride);
			struct trit_buffer *by = buf(c, y, ys[0] * ys[1] * ys[2] * 4);
			struct trit_buffer *bd = inplace ? bx : buf(c, NULL, ne0 * rows * 4);
			struct trit_node n = { .op = (uint32_t)op };
			NONNULL(bx && by && bd);
			n.src[0] = ten(bx, TRIT_TYPE_F32, ne0, n1, n2, 1, stride);
			n.src[1] = ten(by, TRIT_TYPE_F32, ys[0], ys[1], ys[2], 1, 0);
			n.dst = inplace ? n.src[0] : ten(bd, TRIT_TYPE_F32, ne0, n1, n2, 1, 0);
			TRY(run_node(c, &n, op == TRIT_OP_ADD ? "add broadcast" : "mul broadcast"));
			TRY(read_rows(c, bd, got, ne0, rows, inplace ? stride : ne0 * 4));
			for (uint64_t i2 = 0; i2 < n2; i2++)
				for (uint64_t i1 = 0; i1 < n1; i1++)
					for (uint64_t k = 0; k < ne0; k++) {
						uint64_t i = (i2 * n1 + i1) * ne0 + k;
						uint64_t j = ((ys[2] == 1 ? 0 : i2) * ys[1] +
						              (ys[1] == 1 ? 0 : i1)) * ys[0] +
						             (ys[0] == 1 ? 0 : k);
						want[i] = op == TRIT_OP_ADD ? (double)x[i] + y[j]
						                            : (double)x[i] * y[j];
					}
			TRY(cmp(c, op == TRIT_OP_ADD ? "ADD" : "MUL", got, want, ne0 * rows, 1e-6));
		}
	return 0;
}

static int case_unary(struct oc *c)
{
	static const uint32_t ops[] = { TRIT_OP_SCALE, TRIT_OP_RELU2, TRIT_OP_SILU,
		                        TRIT_OP_GELU, TRIT_OP_GLU, TRIT_OP_GLU, TRIT_OP_GLU };
	const uint64_t ne0 = 101, rows = 7;
	float *x, *y, *got;
	double *want;

	ALLOC(x, ne0 * rows);
	ALLOC(y, ne0 * rows);
	ALLOC(got, ne0 * rows);
	ALLOC(want, ne0 * rows);
	fill(c, x, ne0 * rows, 6.0f);
	fill(c, y, ne0 * rows, 2.0f);
	for (unsigned i = 0; i < sizeof ops / sizeof *ops; i++) {
		int glu_act = i >= 4 ? (int)(TRIT_OP_RELU2 + (i - 4)) : 0, inplace = i % 2;
		struct trit_buffer *bx = buf(c, x, ne0 * rows * 4), *by = buf(c, y, ne0 * rows * 4);
		struct trit_buffer *bd = inplace ? bx : buf(c, NULL, ne0 * rows * 4);
		struct trit_node n = { .op = ops[i], .iparams = { glu_act }, .fparams = { 0.37f } };
		NONNULL(bx && by && bd);
		n.src[0] = ten(bx, TRIT_TYPE_F32, ne0, rows, 1, 1, 0);
		if (glu_act)
			n.src[1] = ten(by, TRIT_TYPE_F32, ne0, rows, 1, 1, 0);
		n.dst = inplace ? n.src[0] : ten(bd, TRIT_TYPE_F32, ne0, rows, 1, 1, 0);
		TRY(run_node(c, &n, "activation"));
		TRY(read_rows(c, bd, got, ne0 * rows, 1, ne0 * rows * 4));
		for (uint64_t k = 0; k < ne0 * rows; k++)
			want[k] = ops[i] == TRIT_OP_SCALE ? x[k] * 0.37
			          : glu_act ? act_d(glu_act, x[k]) * y[k] : act_d((int)ops[i], x[k]);
		if (cmp(c, "activation", got, want, ne0 * rows, tol_f)) {
			char m[300];
			snprintf(m, sizeof m, "%s", c->msg);
			return fail(c, "op %u (GLU act %d): %s", (unsigned)ops[i], glu_act, m);
		}
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* ROPE                                                                      */

static void want_rope(const float *x, const int32_t *pos, uint64_t D, uint64_t H, uint64_t T,
                      int neox, uint64_t n_rot, double base, double fs, double *want)
{
	for (uint64_t t = 0; t < T; t++)
		for (uint64_t h = 0; h < H; h++) {
			const float *r = x + (t * H + h) * D;
			double *o = want + (t * H + h) * D;
			for (uint64_t k = 0; k < D; k++)
				o[k] = r[k];
			for (uint64_t i = 0; i < n_rot / 2; i++) {
				double th = pos[t] * fs * pow(base, -2.0 * (double)i / (double)n_rot);
				uint64_t a = neox ? i : 2 * i, b = neox ? i + n_rot / 2 : 2 * i + 1;
				o[a] = r[a] * cos(th) - r[b] * sin(th);
				o[b] = r[a] * sin(th) + r[b] * cos(th);
			}
		}
}

static int case_rope(struct oc *c)
{
	const uint64_t D = 40, H = 3, T = 4, n = D * H * T;
	const int32_t pos[4] = { 0, 7, 100, 3000 };
	float *x, *got;
	double *want;

	ALLOC(x, n);
	ALLOC(got, n);
	ALLOC(want, n);
	fill(c, x, n, 2.0f);
	for (int v = 0; v < 4; v++) {
		int neox = v & 1, inplace = v >= 2;
		struct trit_buffer *bx = buf(c, x, n * 4), *bp = buf(c, pos, sizeof pos);
		struct trit_buffer *bd = inplace ? bx : buf(c, NULL, n * 4);
		struct trit_node nd = { .op = TRIT_OP_ROPE,
			                .iparams = { neox ? TRIT_ROPE_NEOX : TRIT_ROPE_NORMAL, 32 },
			                .fparams = { 10000.0f, 0.5f } };
		NONNULL(bx && bp && bd);
		nd.src[0] = ten(bx, TRIT_TYPE_F32, D, H, T, 1, 0);
		nd.src[1] = ten(bp, TRIT_TYPE_I32, T, 1, 1, 1, 0);
		nd.dst = inplace ? nd.src[0] : ten(bd, TRIT_TYPE_F32, D, H, T, 1, 0);
		TRY(run_node(c, &nd, neox ? "rope neox" : "rope normal"));
		TRY(read_rows(c, bd, got, n, 1, n * 4));
		want_rope(x, pos, D, H, T, neox, 32, 10000.0, 0.5, want);
		TRY(cmp(c, neox ? "ROPE NEOX" : "ROPE NORMAL", got, want, n, tol_f));
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* QUANTIZE_ACT, CPY, KV_WRITE: results trit/quant.h and ternary.h define    */

static int case_quantize(struct oc *c)
{
	const uint64_t K = 300, T = 4;
	float *x, s[4], sw[4];
	int8_t *q, *qw;

	ALLOC(x, K * T);
	ALLOC(q, K * T);
	ALLOC(qw, K * T);
	fill(c, x, K * T, 5.0f);
	memset(x + K, 0, K * 4); /* a token of zeros: s from the 1e-5 floor */
	for (uint64_t t = 0; t < T; t++) {
		float amax = 0;
		for (uint64_t k = 0; k < K; k++)
			amax = fabsf(x[t * K + k]) > amax ? fabsf(x[t * K + k]) : amax;
		sw[t] = 127.0f / (amax > 1e-5f ? amax : 1e-5f);
		for (uint64_t k = 0; k < K; k++) {
			float r = rintf(x[t * K + k] * sw[t]);
			qw[t * K + k] = (int8_t)(r > 127 ? 127 : r < -128 ? -128 : r);
		}
	}
	struct trit_buffer *bx = buf(c, x, K * T * 4), *bq = buf(c, NULL, K * T),
	                   *bs = buf(c, NULL, T * 4);
	struct trit_node n = { .op = TRIT_OP_QUANTIZE_ACT };
	char err[300];
	NONNULL(bx && bq && bs);
	n.src[0] = ten(bx, TRIT_TYPE_F32, K, T, 1, 1, 0);
	n.src[1] = ten(bs, TRIT_TYPE_F32, T, 1, 1, 1, 0);
	n.dst = ten(bq, TRIT_TYPE_I8, K, T, 1, 1, 0);
	TRY(run_node(c, &n, "quantize_act"));
	if (c->be->buffer_read(c->st, bq, 0, q, K * T, err, sizeof err) ||
	    c->be->buffer_read(c->st, bs, 0, s, T * 4, err, sizeof err))
		return fail(c, "buffer_read: %s", err);
	for (uint64_t t = 0; t < T; t++)
		if (s[t] != sw[t])
			return fail(c, "QUANTIZE_ACT: token %llu's scale is %.9g, expected %.9g",
			            (ull)t, (double)s[t], (double)sw[t]);
	for (uint64_t i = 0; i < K * T; i++)
		if (q[i] != qw[i])
			return fail(c, "QUANTIZE_ACT: q[%llu] is %d, expected %d", (ull)i, q[i], qw[i]);
	return 0;
}

/* n F32 values as `type` (trit/quant.h's conversions). */
static void encode(uint32_t type, const float *x, uint64_t n, unsigned char *out)
{
	for (uint64_t i = 0; type != TRIT_TYPE_Q8_0 && i < n; i++) {
		uint16_t h = type == TRIT_TYPE_F16 ? trit_f32_to_f16(x[i]) : trit_f32_to_bf16(x[i]);
		if (type == TRIT_TYPE_F32) {
			memcpy(out + 4 * i, x + i, 4);
			continue;
		}
		out[2 * i] = (unsigned char)(h & 0xff);
		out[2 * i + 1] = (unsigned char)(h >> 8);
	}
	for (uint64_t b = 0; type == TRIT_TYPE_Q8_0 && b < n / 32; b++)
		trit_q8_0_quantize_block(x + 32 * b, out + 34 * b);
}

static float decode1(uint32_t type, const unsigned char *p, uint64_t i)
{
	float f;
	if (type == TRIT_TYPE_F32) {
		memcpy(&f, p + 4 * i, 4);
		return f;
	}
	if (type == TRIT_TYPE_F16)
		return trit_f16_to_f32(trit_rd16(p + 2 * i));
	if (type == TRIT_TYPE_BF16)
		return trit_bf16_to_f32(trit_rd16(p + 2 * i));
	return trit_f16_to_f32(trit_rd16(p + i / 32 * 34)) * (float)(int8_t)p[i / 32 * 34 + 2 + i % 32];
}

static int bytes_equal(struct oc *c, const char *what, const unsigned char *got,
                       const unsigned char *want, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		if (got[i] != want[i])
			return fail(c, "%s: byte %llu is 0x%02x, expected 0x%02x", what, (ull)i,
			            got[i], want[i]);
	return 0;
}

/* F32 -> t -> F32 for each t, and F32 [96, 3] <-> F16 [144, 2] (shapes differ). */
static int case_cpy(struct oc *c)
{
	static const uint32_t types[3] = { TRIT_TYPE_F16, TRIT_TYPE_BF16, TRIT_TYPE_Q8_0 };
	const uint64_t ne0 = 96, rows = 3, n = ne0 * rows;
	unsigned char *enc, *got;
	float *x, *back;
	char err[300];

	ALLOC(x, n);
	ALLOC(back, n);
	ALLOC(enc, n * 4);
	ALLOC(got, n * 4);
	fill(c, x, n, 40.0f);
	for (int i = 0; i < 4; i++) {
		uint32_t t = types[i % 3];
		uint64_t rb = row_bytes(t, ne0), d0 = i == 3 ? 144 : ne0, d1 = i == 3 ? 2 : rows;
		struct trit_buffer *bx = buf(c, x, n * 4), *be = buf(c, NULL, rb * rows);
		struct trit_buffer *bb = buf(c, NULL, n * 4);
		struct trit_node a = { .op = TRIT_OP_CPY }, b = { .op = TRIT_OP_CPY };
		NONNULL(bx && be && bb);
		a.src[0] = ten(bx, TRIT_TYPE_F32, ne0, rows, 1, 1, 0);
		a.dst = ten(be, t, d0, d1, 1, 1, 0);
		b.src[0] = a.dst;
		b.dst = ten(bb, TRIT_TYPE_F32, ne0, rows, 1, 1, 0);
		TRY(run_node(c, &a, "cpy from f32"));
		TRY(run_node(c, &b, "cpy to f32"));
		encode(t, x, n, enc);
		if (c->be->buffer_read(c->st, be, 0, got, rb * rows, err, sizeof err) ||
		    c->be->buffer_read(c->st, bb, 0, back, n * 4, err, sizeof err))
			return fail(c, "buffer_read: %s", err);
		TRY(bytes_equal(c, trit_type_traits(t)->name, got, enc, rb * rows));
		for (uint64_t k = 0; k < n; k++)
			if (back[k] != decode1(t, enc, k))
				return fail(c, "CPY %s -> F32: element %llu is %.9g, expected %.9g",
				            trit_type_traits(t)->name, (ull)k, (double)back[k],
				            (double)decode1(t, enc, k));
	}
	return 0;
}

static int case_kv_write(struct oc *c)
{
	static const uint32_t types[3] = { TRIT_TYPE_F32, TRIT_TYPE_F16, TRIT_TYPE_Q8_0 };
	const uint64_t D = 64, H = 2, ctx = 9, T = 3;
	const int32_t pos[3] = { 4, 0, 8 }, bad[2] = { 9, -1 };
	unsigned char *got, *want;
	float *x;
	char err[300];

	ALLOC(x, D * H * T);
	ALLOC(got, D * 4 * H * ctx);
	ALLOC(want, D * 4 * H * ctx);
	fill(c, x, D * H * T, 3.0f);
	for (int i = 0; i < 3; i++) {
		uint32_t ty = types[i];
		uint64_t rb = row_bytes(ty, D), bytes = rb * H * ctx;
		struct trit_buffer *bx = buf(c, x, D * H * T * 4), *bp = buf(c, pos, sizeof pos);
		struct trit_buffer *bc = buf(c, NULL, bytes), *bbad = buf(c, bad, sizeof bad);
		struct trit_node n = { .op = TRIT_OP_KV_WRITE };
		NONNULL(bx && bp && bc && bbad);
		n.src[0] = ten(bx, TRIT_TYPE_F32, D, H, T, 1, 0);
		n.src[1] = ten(bp, TRIT_TYPE_I32, T, 1, 1, 1, 0);
		n.dst = ten(bc, ty, D, H, ctx, 1, 0);
		TRY(run_node(c, &n, "kv_write"));
		memset(want, 0, bytes);
		for (uint64_t t = 0; t < T; t++)
			for (uint64_t h = 0; h < H; h++)
				encode(ty, x + (t * H + h) * D, D, want + ((uint64_t)pos[t] * H + h) * rb);
		if (c->be->buffer_read(c->st, bc, 0, got, bytes, err, sizeof err))
			return fail(c, "buffer_read: %s", err);
		TRY(bytes_equal(c, "KV_WRITE cache", got, want, bytes));
		for (int b = 0; b < 2; b++) {
			n.src[0].ne[2] = 1;
			n.src[1] = ten(bbad, TRIT_TYPE_I32, 1, 1, 1, 1, 0);
			n.src[1].offset = 4 * (uint64_t)b;
			TRY(run_fails(c, &n, "kv_write past n_ctx", TRIT_ERANGE));
		}
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Weight tables: every type GET_ROWS and MATMUL read                        */

struct table {
	uint32_t type;
	uint64_t K, M, bytes;
	unsigned char *data;
	float *w;             /* [M][K]: the value of each weight */
};

static void tq2_put(unsigned char *blk, int e, int trit)
{
	blk[(e / 128) * 32 + e % 32] |= (unsigned char)((trit + 1) << (2 * ((e % 128) / 32)));
}

static int make_block_table(struct oc *c, struct table *t)
{
	uint64_t rb = row_bytes(t->type, t->K);
	float *x;
	int8_t tr[TRIT_QK_K];

	ALLOC(t->data, rb * t->M);
	ALLOC(x, t->K);
	t->bytes = rb * t->M;
	for (uint64_t r = 0; r < t->M; r++) {
		unsigned char *row = t->data + r * rb;
		fill(c, x, t->K, 2.0f);
		if (t->type != TRIT_TYPE_TQ1_0 && t->type != TRIT_TYPE_TQ2_0) {
			encode(t->type, x, t->K, row);
			for (uint64_t k = 0; k < t->K; k++)
				t->w[r * t->K + k] = decode1(t->type, row, k);
			continue;
		}
		for (uint64_t b = 0; b < t->K / TRIT_QK_K; b++) {
			unsigned char *blk = row + b * (t->type == TRIT_TYPE_TQ1_0 ? 54 : 66);
			uint16_t d = trit_f32_to_f16(0.25f + 0.5f * fabsf(rnd(c)));
			float dv;
			if (t->type == TRIT_TYPE_TQ1_0) {
				for (int e = 0; e < 52; e++) {
					rnd(c);
					blk[e] = (unsigned char)(c->rng >> 33);
				}
			} else {
				for (int e = 0; e < TRIT_QK_K; e++) {
					rnd(c);
					tq2_put(blk, e, (int)(c->rng >> 40) % 3 - 1);
				}
			}
			blk[t->type == TRIT_TYPE_TQ1_0 ? 52 : 64] = (unsigned char)(d & 0xff);
			blk[t->type == TRIT_TYPE_TQ1_0 ? 53 : 65] = (unsigned char)(d >> 8);
			dv = t->type == TRIT_TYPE_TQ1_0 ? trit_tq1_0_block(blk, tr)
			                                : trit_tq2_0_block(blk, tr);
			for (int e = 0; e < TRIT_QK_K; e++)
				t->w[r * t->K + b * TRIT_QK_K + (uint64_t)e] = (float)tr[e] * dv;
		}
	}
	return 0;
}

/* Weights trit * 0.375, packed by the runtime (taken exactly: one magnitude). */
static int make_ternary_table(struct oc *c, struct table *t)
{
	char err[300];

	t->bytes = trit_ternary_bytes(t->type, t->M, t->K);
	ALLOC(t->data, t->bytes);
	for (uint64_t i = 0; i < t->M * t->K; i++) {
		rnd(c);
		t->w[i] = 0.375f * (float)((int)(c->rng >> 40) % 3 - 1);
	}
	t->w[0] = 0.375f; /* at least one non-zero weight fixes the scale */
	if (trit_ternary_pack(t->type, t->data, t->bytes, TRIT_TYPE_F32, t->w, t->M * t->K * 4,
	                      t->M, t->K, err, sizeof err))
		return fail(c, "trit_ternary_pack: %s", err);
	return 0;
}

static int make_table(struct oc *c, struct table *t, uint32_t type, uint64_t K, uint64_t M)
{
	t->type = type;
	t->K = K;
	t->M = M;
	ALLOC(t->w, K * M);
	return trit_type_traits(type)->is_ternary && type != TRIT_TYPE_TQ1_0 &&
	       type != TRIT_TYPE_TQ2_0 ? make_ternary_table(c, t) : make_block_table(c, t);
}

static struct trit_tensor table_tensor(const struct table *t, struct trit_buffer *b)
{
	struct trit_tensor w = ten(b, t->type == TRIT_TYPE_TL1 || t->type == TRIT_TYPE_TL2
	                                      ? TRIT_TYPE_F32 : t->type, t->K, t->M, 1, 1, 0);
	w.type = t->type;
	if (t->type == TRIT_TYPE_TL1 || t->type == TRIT_TYPE_TL2)
		memset(w.nb, 0, sizeof w.nb);
	if (t->type == TRIT_TYPE_I2_S)
		w.nb[1] = trit_round_up_u64(t->K, 128) / 4;
	return w;
}

static const uint32_t all_types[9] = { TRIT_TYPE_F32, TRIT_TYPE_F16, TRIT_TYPE_BF16,
	                               TRIT_TYPE_Q8_0, TRIT_TYPE_TQ1_0, TRIT_TYPE_TQ2_0,
	                               TRIT_TYPE_I2_S, TRIT_TYPE_TL1, TRIT_TYPE_TL2 };

static uint64_t k_for(uint32_t type)
{
	return type == TRIT_TYPE_Q8_0 ? 160 : type == TRIT_TYPE_TQ1_0 || type == TRIT_TYPE_TQ2_0
	                                              ? 512 : type <= TRIT_TYPE_BF16 ? 131 : 200;
}

static int case_get_rows(struct oc *c)
{
	const int32_t ids[4] = { 5, 0, 3, 5 }, bad[1] = { 40 };

	for (int i = 0; i < 9; i++) {
		struct table t;
		float *got;
		double *want;
		TRY(make_table(c, &t, all_types[i], k_for(all_types[i]), 40));
		ALLOC(got, t.K * 4);
		ALLOC(want, t.K * 4);
		struct trit_buffer *bt = buf(c, t.data, t.bytes), *bi = buf(c, ids, sizeof ids);
		struct trit_buffer *bd = buf(c, NULL, t.K * 16), *bb = buf(c, bad, sizeof bad);
		struct trit_node n = { .op = TRIT_OP_GET_ROWS };
		NONNULL(bt && bi && bd && bb);
		n.src[0] = table_tensor(&t, bt);
		n.src[1] = ten(bi, TRIT_TYPE_I32, 4, 1, 1, 1, 0);
		n.dst = ten(bd, TRIT_TYPE_F32, t.K, 4, 1, 1, 0);
		TRY(run_node(c, &n, trit_type_traits(t.type)->name));
		TRY(read_rows(c, bd, got, t.K * 4, 1, t.K * 16));
		for (uint64_t r = 0; r < 4; r++)
			for (uint64_t k = 0; k < t.K; k++)
				want[r * t.K + k] = t.w[(uint64_t)ids[r] * t.K + k];
		TRY(cmp(c, trit_type_traits(t.type)->name, got, want, t.K * 4, 0.0));
		n.src[1] = ten(bb, TRIT_TYPE_I32, 1, 1, 1, 1, 0);
		n.dst.ne[1] = 1;
		TRY(run_fails(c, &n, "get_rows id past the table", TRIT_ERANGE));
		release(c);
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* MATMUL                                                                    */

/* The activations as the weight type's rule quantises them, dequantised
 * (backend.h): F32 for the float types, Q8_0 blocks, Q8_K blocks, or
 * BitNet's per-token absmax (q / s). */
static void act_deq(uint32_t type, const float *x, uint64_t K, double *out)
{
	unsigned char blk[34];
	int8_t q[TRIT_QK_K];

	if (type <= TRIT_TYPE_BF16) {
		for (uint64_t k = 0; k < K; k++)
			out[k] = x[k];
	} else if (type == TRIT_TYPE_Q8_0) {
		for (uint64_t b = 0; b < K / 32; b++) {
			trit_q8_0_quantize_block(x + 32 * b, blk);
			for (int i = 0; i < 32; i++)
				out[32 * b + (uint64_t)i] = (double)trit_f16_to_f32(trit_rd16(blk)) *
				                            (int8_t)blk[2 + i];
		}
	} else if (type == TRIT_TYPE_TQ1_0 || type == TRIT_TYPE_TQ2_0) {
		for (uint64_t b = 0; b < K / TRIT_QK_K; b++) {
			float d = trit_q8_k_quantize_block(x + TRIT_QK_K * b, q);
			for (int i = 0; i < TRIT_QK_K; i++)
				out[TRIT_QK_K * b + (uint64_t)i] = (double)d * q[i];
		}
	} else {
		float amax = 0, s;
		for (uint64_t k = 0; k < K; k++)
			amax = fabsf(x[k]) > amax ? fabsf(x[k]) : amax;
		s = 127.0f / (amax > 1e-5f ? amax : 1e-5f);
		for (uint64_t k = 0; k < K; k++) {
			float r = rintf(x[k] * s);
			out[k] = (double)(r > 127 ? 127 : r < -128 ? -128 : r) / s;
		}
	}
}

/* The I8 form of the ternary input: x quantised, and its multipliers. */
static void act_i8(const float *x, uint64_t K, uint64_t T, int8_t *q, float *s)
{
	for (uint64_t t = 0; t < T; t++)
		s[t] = trit_quantize_act(x + t * K, K, q + t * K);
}

static int matmul_one(struct oc *c, const struct table *t, uint64_t T, int i8)
{
	const uint64_t K = t->K, M = t->M, tern = t->type >= TRIT_TYPE_I2_S &&
	                                          t->type <= TRIT_TYPE_TL2;
	uint64_t stride = tern ? K * 4 : (K + 3) * 4;
	float *x, *y, *s;
	double *xd, *want;
	int8_t *q;

	ALLOC(x, K * T);
	ALLOC(y, M * T);
	ALLOC(s, T);
	ALLOC(q, K * T);
	ALLOC(xd, K * T);
	ALLOC(want, M * T);
	fill(c, x, K * T, 1.5f);
	act_i8(x, K, T, q, s);
	for (uint64_t j = 0; j < T; j++) {
		act_deq(t->type, x + j * K, K, xd + j * K);
		for (uint64_t r = 0; r < M; r++) {
			double acc = 0;
			for (uint64_t k = 0; k < K; k++)
				acc += (double)t->w[r * K + k] * xd[j * K + k];
			want[j * M + r] = acc;
		}
	}
	struct trit_buffer *bw = buf(c, t->data, t->bytes), *bd = buf(c, NULL, M * T * 4);
	struct trit_buffer *bx = i8 ? buf(c, q, K * T) : f32_rows(c, x, K, T, stride);
	struct trit_buffer *bs = buf(c, s, T * 4);
	struct trit_node n = { .op = TRIT_OP_MATMUL };
	NONNULL(bw && bd && bx && bs);
	n.src[0] = table_tensor(t, bw);
	n.src[1] = i8 ? ten(bx, TRIT_TYPE_I8, K, T, 1, 1, 0)
	              : ten(bx, TRIT_TYPE_F32, K, T, 1, 1, stride);
	if (i8)
		n.src[2] = ten(bs, TRIT_TYPE_F32, T, 1, 1, 1, 0);
	n.dst = ten(bd, TRIT_TYPE_F32, M, T, 1, 1, 0);
	TRY(run_node(c, &n, trit_type_traits(t->type)->name));
	TRY(read_rows(c, bd, y, M * T, 1, M * T * 4));
	if (cmp(c, "MATMUL", y, want, M * T, tol_f)) {
		char m[300];
		snprintf(m, sizeof m, "%s", c->msg);
		return fail(c, "%s x %s, %llu tokens: %s", trit_type_traits(t->type)->name,
		            i8 ? "I8 + scales" : "F32", (ull)T, m);
	}
	return 0;
}

static int case_matmul(struct oc *c)
{
	for (int i = 0; i < 9; i++) {
		struct table t;
		int tern = all_types[i] >= TRIT_TYPE_I2_S && all_types[i] <= TRIT_TYPE_TL2;
		TRY(make_table(c, &t, all_types[i], k_for(all_types[i]), 67));
		for (int v = 0; v < (tern ? 4 : 2); v++)
			TRY(matmul_one(c, &t, v % 2 ? 5 : 1, v >= 2));
		release(c);
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* ATTENTION                                                                 */

struct attn_case {
	uint64_t D, Hq, Hkv, ctx, T;
	int n_kv;
	const int32_t *pos;
};

static void want_attn(const struct attn_case *a, const float *q, const float *kd,
                      const float *vd, double scale, double *want)
{
	double *sc = calloc(a->ctx, sizeof *sc);
	for (uint64_t t = 0; sc && t < a->T; t++)
		for (uint64_t h = 0; h < a->Hq; h++) {
			uint64_t kh = h / (a->Hq / a->Hkv), lim = (uint64_t)a->pos[t] + 1;
			const float *qr = q + (t * a->Hq + h) * a->D;
			double *o = want + (t * a->Hq + h) * a->D, m = -INFINITY, l = 0;
			lim = lim < (uint64_t)a->n_kv ? lim : (uint64_t)a->n_kv;
			for (uint64_t j = 0; j < lim; j++) {
				const float *kr = kd + (j * a->Hkv + kh) * a->D;
				sc[j] = 0;
				for (uint64_t d = 0; d < a->D; d++)
					sc[j] += (double)qr[d] * kr[d];
				sc[j] *= scale;
				m = sc[j] > m ? sc[j] : m;
			}
			for (uint64_t d = 0; d < a->D; d++)
				o[d] = 0;
			for (uint64_t j = 0; j < lim; j++) {
				double p = exp(sc[j] - m);
				l += p;
				for (uint64_t d = 0; d < a->D; d++)
					o[d] += p * vd[(j * a->Hkv + kh) * a->D + d];
			}
			for (uint64_t d = 0; d < a->D; d++)
				o[d] /= l;
		}
	free(sc);
}

static int attn_one(struct oc *c, const struct attn_case *a, uint32_t type)
{
	uint64_t nq = a->D * a->Hq * a->T, nc = a->D * a->Hkv * a->ctx, rb = row_bytes(type, a->D);
	unsigned char *kb, *vb;
	float *q, *k, *v, *got;
	double *want, scale = 1.0 / sqrt((double)a->D);

	ALLOC(q, nq);
	ALLOC(k, nc);
	ALLOC(v, nc);
	ALLOC(got, nq);
	ALLOC(want, nq);
	ALLOC(kb, rb * a->Hkv * a->ctx);
	ALLOC(vb, rb * a->Hkv * a->ctx);
	fill(c, q, nq, 3.0f);
	fill(c, k, nc, 1.0f);
	fill(c, v, nc, 2.0f);
	for (uint64_t r = 0; r < a->Hkv * a->ctx; r++) {
		encode(type, k + r * a->D, a->D, kb + r * rb);
		encode(type, v + r * a->D, a->D, vb + r * rb);
		for (uint64_t d = 0; d < a->D; d++) {
			k[r * a->D + d] = decode1(type, kb + r * rb, d);
			v[r * a->D + d] = decode1(type, vb + r * rb, d);
		}
	}
	want_attn(a, q, k, v, scale, want);
	struct trit_buffer *bq = buf(c, q, nq * 4), *bk = buf(c, kb, rb * a->Hkv * a->ctx);
	struct trit_buffer *bv = buf(c, vb, rb * a->Hkv * a->ctx), *bd = buf(c, NULL, nq * 4);
	struct trit_buffer *bp = buf(c, a->pos, a->T * 4);
	struct trit_node n = { .op = TRIT_OP_ATTENTION, .iparams = { a->n_kv },
		               .fparams = { (float)scale } };
	NONNULL(bq && bk && bv && bd && bp);
	n.src[0] = ten(bq, TRIT_TYPE_F32, a->D, a->Hq, a->T, 1, 0);
	n.src[1] = ten(bk, type, a->D, a->Hkv, a->ctx, 1, 0);
	n.src[2] = ten(bv, type, a->D, a->Hkv, a->ctx, 1, 0);
	n.src[3] = ten(bp, TRIT_TYPE_I32, a->T, 1, 1, 1, 0);
	n.dst = ten(bd, TRIT_TYPE_F32, a->D, a->Hq, a->T, 1, 0);
	TRY(run_node(c, &n, "attention"));
	TRY(read_rows(c, bd, got, nq, 1, nq * 4));
	if (cmp(c, "ATTENTION", got, want, nq, tol_f)) {
		char m[300];
		snprintf(m, sizeof m, "%s", c->msg);
		return fail(c, "%s caches, D %llu, Hq %llu, Hkv %llu, T %llu: %s",
		            trit_type_traits(type)->name, (ull)a->D, (ull)a->Hq, (ull)a->Hkv,
		            (ull)a->T, m);
	}
	return 0;
}

static int case_attention(struct oc *c)
{
	static const int32_t p3[3] = { 6, 7, 20 }, p1[1] = { 4 }, pl[2] = { 90, 150 };
	static const int32_t neg[1] = { -1 };
	const struct attn_case cases[3] = { { 64, 4, 2, 11, 3, 9, p3 }, { 96, 6, 6, 5, 1, 5, p1 },
		                            { 64, 8, 2, 200, 2, 170, pl } };
	static const uint32_t types[3] = { TRIT_TYPE_F32, TRIT_TYPE_F16, TRIT_TYPE_Q8_0 };

	for (int i = 0; i < 3; i++)
		for (int t = 0; t < 3; t++) {
			TRY(attn_one(c, &cases[i], types[t]));
			release(c);
		}
	struct attn_case bad = cases[1];
	bad.pos = neg;
	if (attn_one(c, &bad, TRIT_TYPE_F32) == 0 || !strstr(c->msg, "negative"))
		return fail(c, "ATTENTION with a negative position did not fail with a reason "
		            "(%s)", c->msg);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Refusals, errors and buffers                                              */

static int case_refusals(struct oc *c)
{
	float x[64] = { 0 };
	struct trit_buffer *bx = buf(c, x, sizeof x), *bd = buf(c, NULL, 64);
	struct trit_node n = { .struct_size = sizeof n, .op = TRIT_OP_MATMUL };
	NONNULL(bx && bd);
	n.src[0] = ten(bx, TRIT_TYPE_I32, 4, 4, 1, 1, 0);
	n.src[1] = ten(bx, TRIT_TYPE_F32, 4, 1, 1, 1, 0);
	n.dst = ten(bd, TRIT_TYPE_F32, 4, 1, 1, 1, 0);
	if (c->be->supports_op(c->st, 0, &n))
		return fail(c, "supports_op accepted a MATMUL with I32 weights");
	n.op = TRIT_OP_COUNT;
	if (c->be->supports_op(c->st, 0, &n))
		return fail(c, "supports_op accepted op %u, past the enum", (unsigned)n.op);
	n.op = TRIT_OP_ADD;
	n.src[0] = ten(bx, TRIT_TYPE_F32, 8, 4, 1, 1, 0);
	n.src[1] = n.src[0];
	n.dst = ten(bd, TRIT_TYPE_F32, 8, 4, 1, 1, 0); /* 128 bytes in a 64-byte buffer */
	TRY(run_fails(c, &n, "add past the buffer", TRIT_ERANGE));
	n.dst = n.src[0];
	n.dst.offset = 4; /* overlapping x, but not the same tensor */
	n.dst.ne[1] = 1;
	n.src[0].ne[1] = n.src[1].ne[1] = 1;
	TRY(run_fails(c, &n, "add overlapping its input", TRIT_EINVAL));
	return 0;
}

static int case_buffers(struct oc *c)
{
	struct trit_buffer_limits lim;
	struct trit_buffer *w = NULL, *b = buf(c, NULL, 256);
	unsigned char *host = NULL, back[64];
	uint64_t fr = 0, tot = 0;
	char err[300];
	int rc;

	NONNULL(b);
	if (c->be->buffer_limits(c->st, 0, &lim, err, sizeof err))
		return fail(c, "buffer_limits: %s", err);
	if (!lim.alignment || (lim.alignment & (lim.alignment - 1)) || !lim.max_size ||
	    !lim.host_visible || !lim.from_host_ptr)
		return fail(c, "buffer_limits: alignment %llu, max_size %llu, host_visible %u, "
		            "from_host_ptr %u", (ull)lim.alignment, (ull)lim.max_size,
		            lim.host_visible, lim.from_host_ptr);
	if ((uintptr_t)c->be->buffer_host_ptr(c->st, b) % lim.alignment)
		return fail(c, "a buffer is not aligned to the %llu bytes buffer_limits says",
		            (ull)lim.alignment);
	if (!(host = mem(c, 1, 64 + lim.alignment)))
		return fail(c, "out of memory");
	host += lim.alignment - (uintptr_t)host % lim.alignment;
	if ((rc = c->be->buffer_from_host_ptr(c->st, 0, host, 64, &w, err, sizeof err)) != 0)
		return fail(c, "buffer_from_host_ptr: %s", err);
	c->bufs[c->nbufs++] = w;
	memset(host, 0x5a, 64);
	if (c->be->buffer_host_ptr(c->st, w) != host)
		return fail(c, "buffer_host_ptr of a wrapped buffer is not the host pointer");
	if (c->be->buffer_copy(c->st, b, 100, w, 0, 64, err, sizeof err) ||
	    c->be->buffer_read(c->st, b, 100, back, 64, err, sizeof err))
		return fail(c, "buffer_copy/read: %s", err);
	if (back[0] != 0x5a || back[63] != 0x5a)
		return fail(c, "buffer_copy did not copy what the host wrote through its pointer");
	if (c->be->buffer_copy(c->st, b, 200, w, 0, 64, err, sizeof err) != TRIT_ERANGE)
		return fail(c, "buffer_copy past the end was not TRIT_ERANGE");
	if ((rc = c->be->get_memory(c->st, 0, &fr, &tot, err, sizeof err)) != 0 &&
	    rc != TRIT_EIO)
		return fail(c, "get_memory: %d %s", rc, err);
	if (rc == 0 && (tot == 0 || fr > tot))
		return fail(c, "get_memory: free %llu of total %llu", (ull)fr, (ull)tot);
	return 0;
}

/* ------------------------------------------------------------------------ */

static int (*const case_fns[])(struct oc *) = {
	case_rms, case_binary, case_unary, case_rope, case_quantize, case_cpy,
	case_kv_write, case_get_rows, case_matmul, case_attention, case_refusals,
	case_buffers,
};

const struct cpu_opcheck_case cpu_opcheck_cases[] = {
	{ "rms_norm_matches_double_weighted_strided_in_place_and_one_token" },
	{ "add_and_mul_broadcast_rows_scalars_and_planes_in_place_too" },
	{ "scale_activations_and_glu_match_double" },
	{ "rope_normal_and_neox_rotate_n_rot_dims_and_copy_the_rest" },
	{ "quantize_act_gives_trit_quantize_act_bits_and_scales" },
	{ "cpy_converts_f32_f16_bf16_q8_0_both_ways_bit_exact" },
	{ "kv_write_fills_cache_slots_and_refuses_positions_past_n_ctx" },
	{ "get_rows_decodes_every_table_type_and_refuses_bad_ids" },
	{ "matmul_every_weight_type_matches_double_gemv_and_gemm" },
	{ "attention_gqa_causal_matches_double_for_f32_f16_q8_0_caches" },
	{ "bad_nodes_are_refused_and_errors_name_the_node" },
	{ "host_pointer_buffers_copy_limits_and_memory" },
};

const unsigned cpu_opcheck_count = sizeof case_fns / sizeof *case_fns;

int cpu_opcheck_run(const struct trit_backend *be, void *state, unsigned i,
                    unsigned n_threads, char *msg, size_t len)
{
	struct oc c = { .be = be, .st = state, .threads = n_threads, .msg = msg, .len = len,
		        .rng = 0x9e3779b97f4a7c15ull + i };
	int rc;

	if (i >= cpu_opcheck_count)
		return fail(&c, "no case %u", i);
	msg[0] = 0;
	rc = case_fns[i](&c);
	release(&c);
	if (rc == 0)
		msg[0] = 0; /* a case may leave an expected failure's text behind */
	return rc;
}
