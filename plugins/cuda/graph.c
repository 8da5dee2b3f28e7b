/*
 * graph.c - the cuda backend's ABI v2 entries: supports_op,
 * graph_workspace, graph_compute and get_memory. A node is checked as the
 * CPU plugins check it (plugins/common/ops.h: types, shapes, strides,
 * extents, overlaps; cpu_ops_check_node with this plugin's buffer sizes),
 * then against what ops.cuh and the ternary kernels compute here and the
 * grid limits of a launch; graph_compute launches every node's kernels back
 * to back on the context's stream, synchronises once, and reads the kernels'
 * error words (bad row ids and positions) at the end. The host never copies
 * an activation between two nodes.
 */
#include <build-config.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <trit/ternary.h>

#include "internal.h"
#include "lanes.h"
#include "opsabi.h"
#include "../common/ops.h"

typedef unsigned long long ull;

_Static_assert(CU_OP_ADD == TRIT_OP_ADD && CU_OP_MUL == TRIT_OP_MUL &&
               CU_OP_SCALE == TRIT_OP_SCALE && CU_OP_RELU2 == TRIT_OP_RELU2 &&
               CU_OP_SILU == TRIT_OP_SILU && CU_OP_GELU == TRIT_OP_GELU,
               "opsabi.h's op numbers are trit/backend.h's");
_Static_assert(CU_T_F32 == TRIT_TYPE_F32 && CU_T_F16 == TRIT_TYPE_F16 &&
               CU_T_BF16 == TRIT_TYPE_BF16 && CU_T_Q8_0 == TRIT_TYPE_Q8_0,
               "opsabi.h's type numbers are trit/types.h's");

#define GRID_X_MAX 2147483647ull
#define GRID_Y_MAX 65535ull

/* What the shared checks are lent: this device's buffers (sizes only). */
struct gctx {
	struct cuda_state *s;
	uint32_t device;
};

static int span(void *ctx, const struct trit_buffer *b, unsigned char **data, uint64_t *size)
{
	const struct gctx *g = ctx;
	if (!b || b->magic != CUDA_BUFFER_MAGIC || b->device != g->device)
		return -1;
	*data = NULL; /* device memory: the checks use the size only */
	*size = b->size;
	return 0;
}

static void env_of(struct gctx *g, const struct cuda_dev *d, struct cpu_ops_env *env)
{
	cpu_ops_device_env(env, "cuda", g, span, d->has_kernels);
}

static struct cuda_dev *device_of(struct cuda_state *s, uint32_t device, char *err,
                                  size_t errlen)
{
	if (!s || device >= s->n_devs) {
		if (err)
			snprintf(err, errlen, "cuda: device %u does not exist (%u found)",
			         (unsigned)device, s ? (unsigned)s->n_devs : 0);
		return NULL;
	}
	return &s->devs[device];
}

/* ------------------------------------------------------------------------ */
/* What this backend computes (beyond the shared shape rules)                */

static int is_ternary(uint32_t t)
{
	return t == TRIT_TYPE_I2_S || t == TRIT_TYPE_TL1 || t == TRIT_TYPE_TL2;
}

static int conv(uint32_t t)
{
	return t == TRIT_TYPE_F32 || t == TRIT_TYPE_F16 || t == TRIT_TYPE_BF16 ||
	       t == TRIT_TYPE_Q8_0;
}

static uint64_t rows_of(const struct trit_tensor *t)
{
	return t->ne[1] * t->ne[2] * t->ne[3];
}

/* Rows of t follow each other with no gap (dimensions 1..3 flattened). */
static int dense_rows(const struct trit_tensor *t, uint64_t row_bytes)
{
	return t->nb[1] == row_bytes && t->nb[2] == row_bytes * t->ne[1] &&
	       t->nb[3] == row_bytes * t->ne[1] * t->ne[2];
}

/* Q8_0 weights: x as Q8_0 blocks in the workspace, token after token. */
static uint64_t q8_ws(const struct trit_node *n)
{
	return n->src[0].ne[0] / 32 * 34 * rows_of(&n->src[1]);
}

static int unsupported(char *err, size_t errlen, const char *fmt, ...) TRIT_PRINTF(3, 4);
static int unsupported(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (err) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return TRIT_EUNSUPPORTED;
}

/* The grid a node's launches need fits CUDA's limits (x < 2^31, y < 2^16). */
static int grid_fits(const struct trit_node *n)
{
	uint64_t items = n->dst.ne[0] / CU_ELEM + 1;
	switch (n->op) {
	case TRIT_OP_ATTENTION:
		return n->src[0].ne[1] * n->src[0].ne[2] <= GRID_X_MAX;
	case TRIT_OP_MATMUL:
		return rows_of(&n->src[1]) <= GRID_Y_MAX && (is_ternary(n->src[0].type) ||
		       n->src[0].ne[1] / CU_MMW < GRID_X_MAX);
	case TRIT_OP_KV_WRITE:
		return items <= GRID_Y_MAX;
	default:
		return rows_of(&n->dst) <= GRID_X_MAX && items <= GRID_Y_MAX;
	}
}

/* 0 when this device's kernels compute the (shape-checked) node exactly,
 * else TRIT_EUNSUPPORTED with the reason. */
static int computes(const struct cuda_dev *d, const struct trit_node *n, char *err,
                    size_t errlen)
{
	const struct trit_tensor *x = &n->src[1];

	if (n->op == TRIT_OP_NONE)
		return 0;
	if (cuda_no_kernels(d, err, errlen))
		return TRIT_EUNSUPPORTED;
	if (!grid_fits(n))
		return unsupported(err, errlen, "the node's shape needs a larger grid than a CUDA "
		                   "launch takes");
	switch (n->op) {
	case TRIT_OP_MATMUL:
		if (is_ternary(n->src[0].type)) {
			if ((x->type == TRIT_TYPE_I8 || x->type == TRIT_TYPE_F32) &&
			    dense_rows(x, x->ne[0] * (x->type == TRIT_TYPE_I8 ? 1 : 4)))
				return 0;
			return unsupported(err, errlen, "the ternary kernels take activations whose "
			                   "rows follow each other");
		}
		if (conv(n->src[0].type) && x->type == TRIT_TYPE_F32)
			return 0;
		break;
	case TRIT_OP_GET_ROWS:
		if (conv(n->src[0].type))
			return 0;
		break;
	case TRIT_OP_CPY:
		if (conv(n->src[0].type) && conv(n->dst.type))
			return 0;
		break;
	case TRIT_OP_KV_WRITE:
		if (conv(n->dst.type) && n->dst.type != TRIT_TYPE_BF16)
			return 0;
		break;
	case TRIT_OP_ATTENTION:
		if (n->src[0].ne[0] <= CU_ATTN_MAX_D)
			return 0;
		return unsupported(err, errlen, "a head of %llu dimensions does not fit the "
		                   "attention kernel's shared memory (at most %d)",
		                   (ull)n->src[0].ne[0], CU_ATTN_MAX_D);
	default:
		return 0; /* the F32 row ops: the shared rules admit F32 only */
	}
	return unsupported(err, errlen, "the cuda kernels do not run %s with these types (%s <- "
	                   "%s, %s)", cpu_ops_name(n->op), trit_type_traits(n->dst.type)->name,
	                   trit_type_traits(n->src[0].type)->name,
	                   x->ne[0] ? trit_type_traits(x->type)->name : "-");
}

int cuda_supports_op(void *state, uint32_t device, const struct trit_node *node)
{
	struct cuda_state *s = state;
	struct cuda_dev *d = device_of(s, device, NULL, 0);
	struct gctx g = { s, device };
	struct cpu_ops_env env;

	if (!d || !node || node->struct_size < CPU_OPS_NODE_MIN_SIZE)
		return 0;
	env_of(&g, d, &env);
	return cpu_ops_supports(&env, node) && computes(d, node, NULL, 0) == 0;
}

/* ------------------------------------------------------------------------ */
/* Graphs                                                                    */

int cuda_graph_workspace(void *state, uint32_t device, const struct trit_graph *graph,
                         uint64_t *bytes, char *err, size_t errlen)
{
	struct cuda_state *s = state;
	struct cuda_dev *d = device_of(s, device, err, errlen);
	struct gctx g = { s, device };
	struct cpu_ops_env env;
	char detail[400];
	int rc;

	if (!d)
		return TRIT_EINVAL;
	if (!bytes) {
		snprintf(err, errlen, "cuda: graph_workspace without a result pointer");
		return TRIT_EINVAL;
	}
	*bytes = 0;
	env_of(&g, d, &env);
	if ((rc = cpu_ops_check_graph(&env, graph, err, errlen)) != 0)
		return rc;
	for (uint32_t i = 0; i < graph->n_nodes; i++) {
		const struct trit_node *n = cpu_ops_node_at(graph, i);
		if (!cpu_ops_supports(&env, n))
			return cpu_ops_node_fail(&env, i, n, TRIT_EUNSUPPORTED, "not a node this device "
			                         "runs (ask supports_op)", err, errlen);
		if ((rc = computes(d, n, detail, sizeof detail)) != 0)
			return cpu_ops_node_fail(&env, i, n, rc, detail, err, errlen);
	}
	return cpu_ops_graph_workspace(&env, graph, bytes, err, errlen);
}

/* One graph_compute on one device: what every node's launch needs. */
struct run {
	struct cuda_state *s;
	struct cuda_dev *d;
	const struct trit_node *n;
	int index;            /* the node's, for the error words */
	CUdeviceptr ws;       /* the graph's workspace (its offset applied) */
	uint64_t ws_size;
	char *err;
	size_t errlen;
};

static struct cu_geom geom(const struct trit_tensor *t)
{
	struct cu_geom g;
	g.off = t->offset;
	for (int i = 0; i < 3; i++)
		g.nb[i] = t->nb[i + 1];
	for (int i = 0; i < 4; i++)
		g.ne[i] = t->ne[i];
	return g;
}

/* Both contiguous with different shapes: one row of every element. */
static struct cu_geom flat(const struct trit_tensor *t, uint64_t nelem)
{
	struct cu_geom g;
	memset(&g, 0, sizeof g);
	g.off = t->offset;
	g.ne[0] = nelem;
	g.ne[1] = g.ne[2] = g.ne[3] = 1;
	return g;
}

static CUdeviceptr mem_of(const struct trit_tensor *t)
{
	return t->buffer->ptr;
}

static unsigned blocks(uint64_t items, unsigned per)
{
	return (unsigned)((items + per - 1) / per);
}

static int launch(struct run *r, enum cuda_kernel k, uint64_t gx, uint64_t gy, unsigned threads,
                  unsigned shared, void **params)
{
	return cuda_launch(r->s, r->d, k, (unsigned)gx, (unsigned)gy, threads, shared, params,
	                   r->err, r->errlen);
}

static int run_unary(struct run *r)
{
	const struct trit_node *n = r->n;
	CUdeviceptr x = mem_of(&n->src[0]), d = mem_of(&n->dst);
	struct cu_geom xg = geom(&n->src[0]), dg = geom(&n->dst);
	int op = (int)n->op;
	float f = n->fparams[0];
	void *a[] = { &x, &xg, &d, &dg, &op, &f };
	return launch(r, CUDA_K_OP_UNARY, rows_of(&n->dst), blocks(n->dst.ne[0], CU_ELEM), CU_ELEM,
	              0, a);
}

static int run_binary(struct run *r)
{
	const struct trit_node *n = r->n;
	CUdeviceptr x = mem_of(&n->src[0]), y = mem_of(&n->src[1]), d = mem_of(&n->dst);
	struct cu_geom xg = geom(&n->src[0]), yg = geom(&n->src[1]), dg = geom(&n->dst);
	int op = (int)n->op, glu = n->iparams[0];
	void *a[] = { &x, &xg, &y, &yg, &d, &dg, &op, &glu };
	return launch(r, CUDA_K_OP_BINARY, rows_of(&n->dst), blocks(n->dst.ne[0], CU_ELEM), CU_ELEM,
	              0, a);
}

static int run_rms_norm(struct run *r)
{
	const struct trit_node *n = r->n;
	int has_w = n->src[1].ne[0] != 0;
	CUdeviceptr x = mem_of(&n->src[0]), w = has_w ? mem_of(&n->src[1]) : x,
	            d = mem_of(&n->dst);
	struct cu_geom xg = geom(&n->src[0]), dg = geom(&n->dst);
	uint64_t w_off = has_w ? n->src[1].offset : 0;
	float eps = n->fparams[0];
	void *a[] = { &x, &xg, &w, &w_off, &has_w, &d, &dg, &eps };
	return launch(r, CUDA_K_OP_RMS_NORM, rows_of(&n->dst), 1, CU_ROWT, 0, a);
}

static int run_quantize(struct run *r)
{
	const struct trit_node *n = r->n;
	CUdeviceptr x = mem_of(&n->src[0]), d = mem_of(&n->dst), s = mem_of(&n->src[1]);
	struct cu_geom xg = geom(&n->src[0]), dg = geom(&n->dst);
	uint64_t s_off = n->src[1].offset;
	void *a[] = { &x, &xg, &d, &dg, &s, &s_off };
	return launch(r, CUDA_K_OP_QUANTIZE, rows_of(&n->dst), 1, CU_ROWT, 0, a);
}

static int run_rope(struct run *r)
{
	const struct trit_node *n = r->n;
	CUdeviceptr x = mem_of(&n->src[0]), p = mem_of(&n->src[1]), d = mem_of(&n->dst);
	struct cu_geom xg = geom(&n->src[0]), dg = geom(&n->dst);
	uint64_t p_off = n->src[1].offset;
	int neox = n->iparams[0] == TRIT_ROPE_NEOX;
	unsigned n_rot = (unsigned)n->iparams[1];
	float base = n->fparams[0], fscale = n->fparams[1];
	void *a[] = { &x, &xg, &p, &p_off, &d, &dg, &neox, &n_rot, &base, &fscale };
	return launch(r, CUDA_K_OP_ROPE, rows_of(&n->dst),
	              blocks(n->dst.ne[0] - n_rot / 2, CU_ELEM), CU_ELEM, 0, a);
}

static int run_get_rows(struct run *r)
{
	const struct trit_node *n = r->n;
	CUdeviceptr t = mem_of(&n->src[0]), ids = mem_of(&n->src[1]), d = mem_of(&n->dst),
	            e = r->d->errors;
	struct cu_geom tg = geom(&n->src[0]), dg = geom(&n->dst);
	unsigned ttype = n->src[0].type;
	uint64_t i_off = n->src[1].offset;
	int node = r->index;
	void *a[] = { &t, &tg, &ttype, &ids, &i_off, &d, &dg, &e, &node };
	return launch(r, CUDA_K_OP_GET_ROWS, n->dst.ne[1], blocks(n->dst.ne[0], CU_ELEM), CU_ELEM,
	              0, a);
}

static int run_cpy(struct run *r)
{
	const struct trit_node *n = r->n;
	CUdeviceptr x = mem_of(&n->src[0]), d = mem_of(&n->dst);
	int same = !memcmp(n->dst.ne, n->src[0].ne, sizeof n->dst.ne);
	uint64_t nelem = n->dst.ne[0] * rows_of(&n->dst);
	struct cu_geom xg = same ? geom(&n->src[0]) : flat(&n->src[0], nelem),
	               dg = same ? geom(&n->dst) : flat(&n->dst, nelem);
	unsigned xtype = n->src[0].type, dtype = n->dst.type;
	uint64_t items = dtype == TRIT_TYPE_Q8_0 ? dg.ne[0] / 32 : dg.ne[0];
	void *a[] = { &x, &xg, &xtype, &d, &dg, &dtype, &items };
	if (!same && blocks(items, CU_ELEM) > GRID_Y_MAX)
		return unsupported(r->err, r->errlen, "a reshaping copy of %llu elements needs a "
		                   "larger grid than a CUDA launch takes", (ull)nelem);
	return launch(r, CUDA_K_OP_CPY, same ? rows_of(&n->dst) : 1, blocks(items, CU_ELEM),
	              CU_ELEM, 0, a);
}

static int run_kv_write(struct run *r)
{
	const struct trit_node *n = r->n;
	CUdeviceptr x = mem_of(&n->src[0]), p = mem_of(&n->src[1]), c = mem_of(&n->dst),
	            e = r->d->errors;
	struct cu_geom xg = geom(&n->src[0]), cg = geom(&n->dst);
	uint64_t p_off = n->src[1].offset;
	unsigned ctype = n->dst.type;
	uint64_t items = ctype == TRIT_TYPE_Q8_0 ? n->dst.ne[0] / 32 : n->dst.ne[0];
	int node = r->index;
	void *a[] = { &x, &xg, &p, &p_off, &c, &cg, &ctype, &items, &e, &node };
	return launch(r, CUDA_K_OP_KV_WRITE, n->dst.ne[1], blocks(items, CU_ELEM), CU_ELEM, 0, a);
}

static int run_attention(struct run *r)
{
	const struct trit_node *n = r->n;
	CUdeviceptr q = mem_of(&n->src[0]), k = mem_of(&n->src[1]), v = mem_of(&n->src[2]),
	            p = mem_of(&n->src[3]), d = mem_of(&n->dst), e = r->d->errors;
	struct cu_geom qg = geom(&n->src[0]), kg = geom(&n->src[1]), vg = geom(&n->src[2]),
	               dg = geom(&n->dst);
	unsigned ktype = n->src[1].type, vtype = n->src[2].type, n_kv = (unsigned)n->iparams[0];
	uint64_t p_off = n->src[3].offset;
	float scale = n->fparams[0];
	int node = r->index;
	unsigned shared = (unsigned)((2 * n->src[0].ne[0] + 2 * CU_ATTNT) * sizeof(float));
	void *a[] = { &q, &qg, &k, &kg, &ktype, &v, &vg, &vtype, &p, &p_off, &d, &dg, &n_kv,
		      &scale, &e, &node };
	return launch(r, CUDA_K_OP_ATTENTION, n->src[0].ne[1] * n->src[0].ne[2], 1, CU_ATTNT,
	              shared, a);
}

static int need_ws(struct run *r, uint64_t bytes, unsigned align)
{
	if (bytes <= r->ws_size && (!bytes || r->ws % align == 0))
		return 0;
	snprintf(r->err, r->errlen, "needs %llu bytes of workspace at an offset that is a "
	         "multiple of %u, but the graph gives %llu (ask graph_workspace)", (ull)bytes,
	         align, (ull)r->ws_size);
	return TRIT_EINVAL;
}

static int run_matmul_q8(struct run *r)
{
	const struct trit_node *n = r->n;
	CUdeviceptr w = mem_of(&n->src[0]), x = mem_of(&n->src[1]), d = mem_of(&n->dst), ws = r->ws;
	struct cu_geom wg = geom(&n->src[0]), xg = geom(&n->src[1]), dg = geom(&n->dst);
	uint64_t ws_off = 0, nb = n->src[0].ne[0] / 32, tokens = rows_of(&n->src[1]);
	void *q[] = { &x, &xg, &ws, &ws_off, &nb };
	void *a[] = { &w, &wg, &ws, &ws_off, &d, &dg };
	int rc;

	if ((rc = need_ws(r, q8_ws(n), 2)) ||
	    (rc = launch(r, CUDA_K_OP_QUANT_Q8, tokens, blocks(nb, CU_ELEM), CU_ELEM, 0, q)))
		return rc;
	return launch(r, CUDA_K_OP_MATMUL_Q8, blocks(n->src[0].ne[1], CU_MMW), tokens,
	              CU_MMW * CU_WARP, 0, a);
}

static int run_matmul(struct run *r)
{
	const struct trit_node *n = r->n;
	if (is_ternary(n->src[0].type)) {
		uint64_t need = 0;
		int rc, i8 = n->src[1].type == TRIT_TYPE_I8;
		struct cuda_ternary_job j = {
			.type = n->src[0].type, .rows = n->src[0].ne[1], .cols = n->src[0].ne[0],
			.tokens = rows_of(&n->src[1]),
			.w = mem_of(&n->src[0]) + n->src[0].offset,
			.in = mem_of(&n->src[1]) + n->src[1].offset,
			.out = mem_of(&n->dst) + n->dst.offset, .ws = r->ws, .in_i8 = i8,
			.scales = i8 && n->src[2].ne[0] ? mem_of(&n->src[2]) + n->src[2].offset : 0,
		};
		if (i8 && !j.scales)
			return unsupported(r->err, r->errlen, "an I8 ternary matmul without its "
			                   "activation scales (src[2]) would output integer dots");
		cpu_ops_device_ternary_ws(NULL, j.type, j.rows, j.cols, j.tokens, &need);
		if ((rc = need_ws(r, need, 4)))
			return rc;
		return cuda_ternary_launch(r->s, r->d, &j, r->err, r->errlen);
	}
	if (n->src[0].type == TRIT_TYPE_Q8_0)
		return run_matmul_q8(r);
	{
		CUdeviceptr w = mem_of(&n->src[0]), x = mem_of(&n->src[1]), d = mem_of(&n->dst);
		struct cu_geom wg = geom(&n->src[0]), xg = geom(&n->src[1]), dg = geom(&n->dst);
		unsigned wtype = n->src[0].type;
		void *a[] = { &w, &wg, &wtype, &x, &xg, &d, &dg };
		return launch(r, CUDA_K_OP_MATMUL_F, blocks(n->src[0].ne[1], CU_MMW),
		              rows_of(&n->src[1]), CU_MMW * CU_WARP, 0, a);
	}
}

static int launch_node(struct run *r)
{
	switch (r->n->op) {
	case TRIT_OP_NONE: return 0;
	case TRIT_OP_SCALE: case TRIT_OP_RELU2: case TRIT_OP_SILU: case TRIT_OP_GELU:
		return run_unary(r);
	case TRIT_OP_ADD: case TRIT_OP_MUL: case TRIT_OP_GLU: return run_binary(r);
	case TRIT_OP_RMS_NORM: return run_rms_norm(r);
	case TRIT_OP_QUANTIZE_ACT: return run_quantize(r);
	case TRIT_OP_ROPE: return run_rope(r);
	case TRIT_OP_GET_ROWS: return run_get_rows(r);
	case TRIT_OP_CPY: return run_cpy(r);
	case TRIT_OP_KV_WRITE: return run_kv_write(r);
	case TRIT_OP_ATTENTION: return run_attention(r);
	case TRIT_OP_MATMUL: return run_matmul(r);
	default:
		return unsupported(r->err, r->errlen, "op %u is not one this backend runs",
		                   (unsigned)r->n->op);
	}
}

static int graph_workspace_of(uint32_t device, const struct trit_graph *g, struct run *r,
                              char *err, size_t errlen)
{
	const struct trit_buffer *b = g->workspace;
	if (!b || !g->workspace_size)
		return 0;
	if (b->magic != CUDA_BUFFER_MAGIC || !b->ptr || b->device != device ||
	    g->workspace_offset > b->size || g->workspace_size > b->size - g->workspace_offset) {
		snprintf(err, errlen, "cuda: the graph's workspace (%llu bytes at offset %llu) is not "
		         "inside one of this device's buffers", (ull)g->workspace_size,
		         (ull)g->workspace_offset);
		return TRIT_ERANGE;
	}
	r->ws = b->ptr + g->workspace_offset;
	r->ws_size = g->workspace_size;
	return 0;
}

/* The error words: allocated at the device's first graph, zeroed before each. */
static int errors_reset(struct cuda_state *s, struct cuda_dev *d, char *err, size_t errlen)
{
	static const int32_t zeros[CU_ERR_WORDS];
	CUresult r;

	if (!d->errors && (r = s->drv.MemAlloc(&d->errors, sizeof zeros)) != CUDA_SUCCESS) {
		d->errors = 0;
		return cuda_fail(&s->drv, r, err, errlen, "allocating the graph's error words on %s "
		                 "(%s)", d->id, d->name);
	}
	if ((r = s->drv.MemcpyHtoD(d->errors, zeros, sizeof zeros)) != CUDA_SUCCESS)
		return cuda_fail(&s->drv, r, err, errlen, "clearing the graph's error words on %s "
		                 "(%s)", d->id, d->name);
	return 0;
}

void cuda_graph_release(struct cuda_state *s, struct cuda_dev *d)
{
	if (d->errors)
		s->drv.MemFree(d->errors);
	d->errors = 0;
}

/* Wait for every launch, then read the kernels' error words. */
static int finish(struct cuda_state *s, struct cuda_dev *d, const struct cpu_ops_env *env,
                  const struct trit_graph *g, char *err, size_t errlen)
{
	int32_t w[CU_ERR_WORDS] = { 0 };
	char detail[200];
	CUresult r;

	if ((r = s->drv.CtxSynchronize()) != CUDA_SUCCESS ||
	    (r = s->drv.MemcpyDtoH(w, d->errors, sizeof w)) != CUDA_SUCCESS)
		return cuda_fail(&s->drv, r, err, errlen, "cuda %s (%s): the graph failed on the "
		                 "device", d->id, d->name);
	if (w[0] <= 0 || (uint32_t)w[0] > g->n_nodes)
		return 0;
	uint32_t i = (uint32_t)w[0] - 1;
	const struct trit_node *n = cpu_ops_node_at(g, i);
	cpu_ops_device_range_error(n, (int)w[1], (int)w[2], detail, sizeof detail);
	return cpu_ops_node_fail(env, i, n, TRIT_ERANGE, detail, err, errlen);
}

/* Check one node in full, then launch it. */
static int node_launch(struct run *r, const struct cpu_ops_env *env)
{
	int rc;
	if ((rc = cpu_ops_check_node(env, r->n, r->err, r->errlen)) != 0 ||
	    (rc = computes(r->d, r->n, r->err, r->errlen)) != 0)
		return rc;
	return launch_node(r);
}

int cuda_graph_compute(void *state, uint32_t device, const struct trit_graph *graph, char *err,
                       size_t errlen)
{
	struct cuda_state *s = state;
	struct cuda_dev *d = device_of(s, device, err, errlen);
	struct gctx g = { s, device };
	struct run r;
	struct cpu_ops_env env;
	char detail[600];
	int rc = 0, frc;

	if (!d)
		return TRIT_EINVAL;
	env_of(&g, d, &env);
	if ((rc = cpu_ops_check_graph(&env, graph, err, errlen)) != 0)
		return rc;
	if (cuda_no_kernels(d, err, errlen))
		return TRIT_EUNSUPPORTED;
	memset(&r, 0, sizeof r);
	r.s = s;
	r.d = d;
	r.err = detail;
	r.errlen = sizeof detail;
	if ((rc = graph_workspace_of(device, graph, &r, err, errlen)) != 0 ||
	    (rc = cuda_use(s, device, err, errlen)) != 0 ||
	    (rc = errors_reset(s, d, err, errlen)) != 0)
		return rc;
	for (uint32_t i = 0; rc == 0 && i < graph->n_nodes; i++) {
		r.n = cpu_ops_node_at(graph, i);
		r.index = (int)i;
		if ((rc = node_launch(&r, &env)) != 0)
			cpu_ops_node_fail(&env, i, r.n, rc, detail, err, errlen);
	}
	/* wait even after a failure: launched kernels still use the buffers */
	frc = rc ? finish(s, d, &env, graph, detail, sizeof detail)
	         : finish(s, d, &env, graph, err, errlen);
	return rc ? rc : frc;
}

/* What can be allocated now, in trit's context: cuMemGetInfo as it is (the
 * device's mem_free adds back what the context costs, for plans made before
 * it existed; the loader's check needs the memory left beside it). */
int cuda_get_memory(void *state, uint32_t device, uint64_t *free_bytes, uint64_t *total_bytes,
                    char *err, size_t errlen)
{
	struct cuda_state *s = state;
	struct cuda_dev *d = device_of(s, device, err, errlen);
	size_t fr = 0, tot = 0;
	CUresult r;
	int rc;

	if (!d)
		return TRIT_EINVAL;
	if (!free_bytes || !total_bytes) {
		snprintf(err, errlen, "cuda: get_memory without result pointers");
		return TRIT_EINVAL;
	}
	*free_bytes = *total_bytes = 0;
	if ((rc = cuda_use(s, device, err, errlen)) != 0)
		return rc;
	if ((r = s->drv.MemGetInfo(&fr, &tot)) != CUDA_SUCCESS)
		return cuda_fail(&s->drv, r, err, errlen, "cuMemGetInfo on %s (%s)", d->id, d->name);
	*free_bytes = fr;
	*total_bytes = tot;
	return 0;
}
