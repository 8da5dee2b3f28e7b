/*
 * graph.c - the opencl backend's ABI v2 graph entries: supports_op,
 * graph_workspace and graph_compute, and get_memory. A node is checked as
 * the CPU plugins check it (plugins/common/ops.h: types, shapes, strides,
 * extents, overlaps; cpu_ops_check_node with this plugin's buffer sizes),
 * then against what ops.cl and ternary.cl compute here; graph_compute
 * enqueues every node's kernels back to back on the device's in-order
 * queue and waits once, reading the kernels' error words (bad row ids and
 * positions) at the end. The kernels themselves are in ops.cl.
 */
#include <build-config.h>

#include <string.h>

#include <trit/ternary.h>

#include "ocl.h"
#include "../common/ops.h"

typedef unsigned long long ull;

#define ATTN_MAX_D 4096u

/* What the shared checks are lent: this device's buffers (sizes only). */
struct gctx {
	struct ocl_state *st;
	uint32_t device;
};

static int span(void *ctx, const struct trit_buffer *b, unsigned char **data, uint64_t *size)
{
	const struct gctx *g = ctx;
	if (!b || b->magic != OCL_BUFFER_MAGIC || !b->mem || b->device != g->device)
		return -1;
	*data = NULL; /* device memory: the checks use the size only */
	*size = b->size;
	return 0;
}

static void env_of(struct gctx *g, const struct ocl_device *d, struct cpu_ops_env *env)
{
	cpu_ops_device_env(env, "opencl", g, span, d->have_kernels);
}

static struct ocl_device *device_of(struct ocl_state *st, uint32_t device, char *err,
                                    size_t errlen)
{
	if (!st || device >= st->n_devs) {
		ocl_errf(err, errlen, TRIT_EINVAL, "opencl: device %u does not exist (%u found)",
		         (unsigned)device, st ? (unsigned)st->n_devs : 0);
		return NULL;
	}
	return &st->devs[device];
}

/* A device described from the probe cache comes up at its first use. */
static struct ocl_device *live_device(struct ocl_state *st, uint32_t device, char *err,
                                      size_t errlen)
{
	struct ocl_device *d = device_of(st, device, err, errlen);
	if (d && !d->live && ocl_bring_up(st, d, err, errlen) != 0)
		return NULL;
	return d;
}

/* ------------------------------------------------------------------------ */
/* What this backend computes (beyond the shared shape rules)                */

static int is_ternary(uint32_t t)
{
	return t == TRIT_TYPE_I2_S || t == TRIT_TYPE_TL1 || t == TRIT_TYPE_TL2;
}

static int f32_f16(uint32_t t)
{
	return t == TRIT_TYPE_F32 || t == TRIT_TYPE_F16;
}

static int conv(uint32_t t)
{
	return f32_f16(t) || t == TRIT_TYPE_BF16 || t == TRIT_TYPE_Q8_0;
}

/* Q8_0 weights: x as Q8_0 blocks in the workspace, token after token. */
static uint64_t q8_ws(const struct trit_node *n)
{
	return n->src[0].ne[0] / 32 * 34 * n->src[1].ne[1] * n->src[1].ne[2] * n->src[1].ne[3];
}

static void matmul_of(const struct trit_node *n, uint64_t ws_off, struct trit_matmul *mm)
{
	memset(mm, 0, sizeof *mm);
	mm->struct_size = sizeof *mm;
	mm->weight_type = n->src[0].type;
	mm->rows = n->src[0].ne[1];
	mm->cols = n->src[0].ne[0];
	mm->tokens = n->src[1].ne[1] * n->src[1].ne[2] * n->src[1].ne[3];
	mm->weights_offset = n->src[0].offset;
	mm->input_offset = n->src[1].offset;
	mm->output_offset = n->dst.offset;
	mm->workspace_offset = ws_off;
}

/* 0 when this device's kernels compute the (shape-checked) node exactly,
 * else TRIT_EUNSUPPORTED with the reason. */
static int computes(struct ocl_state *st, uint32_t device, const struct ocl_device *d,
                    const struct trit_node *n, char *err, size_t errlen)
{
	uint64_t ws, lmem = d->f.local_mem ? d->f.local_mem : 16384;
	struct trit_matmul mm;

	if (n->op == TRIT_OP_NONE)
		return 0;
	if (n->op == TRIT_OP_MATMUL && is_ternary(n->src[0].type)) {
		if (!d->have_kernels)
			return ocl_errf(err, errlen, TRIT_EUNSUPPORTED, "no ternary kernels on %s",
			                d->dev.id);
		matmul_of(n, 0, &mm);
		return ocl_matmul_workspace(st, device, &mm, &ws, err, errlen);
	}
	if (!d->have_ops)
		return ocl_errf(err, errlen, TRIT_EUNSUPPORTED, "%s has no graph-op kernels (the "
		                "program lacks ops.cl); it runs ternary matmuls only", d->dev.id);
	switch (n->op) {
	case TRIT_OP_GET_ROWS:
		if (conv(n->src[0].type))
			return 0;
		break;
	case TRIT_OP_MATMUL:
		if (conv(n->src[0].type) && n->src[1].type == TRIT_TYPE_F32)
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
		if (n->src[0].ne[0] <= ATTN_MAX_D &&
		    (n->src[0].ne[0] + d->ops.local) * 8 <= lmem)
			return 0;
		return ocl_errf(err, errlen, TRIT_EUNSUPPORTED, "a head of %llu dimensions does "
		                "not fit the attention kernel's local memory (%llu bytes)",
		                (ull)n->src[0].ne[0], (ull)lmem);
	default:
		return 0; /* the F32 row ops: the shared rules admit F32 only */
	}
	return ocl_errf(err, errlen, TRIT_EUNSUPPORTED, "the opencl kernels do not run %s with "
	                "these types (%s <- %s, %s)", cpu_ops_name(n->op),
	                trit_type_traits(n->dst.type)->name,
	                trit_type_traits(n->src[0].type)->name,
	                n->src[1].ne[0] ? trit_type_traits(n->src[1].type)->name : "-");
}

int ocl_supports_op(void *state, uint32_t device, const struct trit_node *node)
{
	struct ocl_state *st = state;
	struct ocl_device *d = live_device(st, device, NULL, 0);
	struct gctx g = { st, device };
	struct cpu_ops_env env;

	if (!d || !node || node->struct_size < CPU_OPS_NODE_MIN_SIZE)
		return 0;
	env_of(&g, d, &env);
	return cpu_ops_supports(&env, node) && computes(st, device, d, node, NULL, 0) == 0;
}

/* ------------------------------------------------------------------------ */
/* Graphs                                                                    */

int ocl_graph_workspace(void *state, uint32_t device, const struct trit_graph *graph,
                        uint64_t *bytes, char *err, size_t errlen)
{
	struct ocl_state *st = state;
	struct ocl_device *d = live_device(st, device, err, errlen);
	struct gctx g = { st, device };
	struct cpu_ops_env env;
	char detail[400];
	int rc;

	if (!d)
		return TRIT_EINVAL;
	if (!bytes)
		return ocl_errf(err, errlen, TRIT_EINVAL, "opencl: graph_workspace without a result "
		                "pointer");
	*bytes = 0;
	env_of(&g, d, &env);
	if ((rc = cpu_ops_check_graph(&env, graph, err, errlen)) != 0)
		return rc;
	for (uint32_t i = 0; i < graph->n_nodes; i++) {
		const struct trit_node *n = cpu_ops_node_at(graph, i);
		if (!cpu_ops_supports(&env, n))
			return cpu_ops_node_fail(&env, i, n, TRIT_EUNSUPPORTED, "not a node this device "
			                         "runs (ask supports_op)", err, errlen);
		if ((rc = computes(st, device, d, n, detail, sizeof detail)) != 0)
			return cpu_ops_node_fail(&env, i, n, rc, detail, err, errlen);
	}
	return cpu_ops_graph_workspace(&env, graph, bytes, err, errlen);
}

/* One graph_compute on one device: what every node's enqueue needs. */
struct run {
	struct ocl_device *d;
	const struct trit_node *n;
	int index;            /* the node's, for the error words */
	cl_mem ws;
	uint64_t ws_off, ws_size;
	char *err;
	size_t errlen;
};

struct karg {
	size_t size;
	const void *value;    /* NULL: local memory of `size` bytes */
};

#define A(v) { sizeof(v), &(v) }
#define LOCAL(n) { (n), NULL }

static cl_ulong8 geom(const struct trit_tensor *t)
{
	cl_ulong8 g;
	g.s[0] = t->offset;
	for (int i = 1; i < 4; i++)
		g.s[i] = t->nb[i];
	for (int i = 0; i < 4; i++)
		g.s[4 + i] = t->ne[i];
	return g;
}

static uint64_t rows_of(const struct trit_tensor *t)
{
	return t->ne[1] * t->ne[2] * t->ne[3];
}

static int launch(struct run *r, int kid, const struct karg *a, unsigned na, cl_uint dims,
                  const size_t *global, const size_t *local)
{
	cl_kernel k = r->d->ops.k[kid];
	char ebuf[64];
	cl_int e;

	for (unsigned i = 0; i < na; i++)
		if ((e = clSetKernelArg(k, i, a[i].size, a[i].value)) != CL_SUCCESS)
			return ocl_errf(r->err, r->errlen, TRIT_EINTERNAL, "setting argument %u of "
			                "kernel %d failed: %s", i, kid,
			                ocl_strerror(e, ebuf, sizeof ebuf));
	e = clEnqueueNDRangeKernel(r->d->queue, k, dims, NULL, global, local, 0, NULL, NULL);
	if (e != CL_SUCCESS)
		return ocl_errf(r->err, r->errlen, ocl_result(e), "%s '%s': launching kernel %d "
		                "failed: %s", r->d->dev.id, r->d->dev.name, kid,
		                ocl_strerror(e, ebuf, sizeof ebuf));
	return 0;
}

static cl_mem mem_of(const struct trit_tensor *t)
{
	return t->buffer->mem;
}

static int run_unary(struct run *r)
{
	const struct trit_node *n = r->n;
	cl_mem x = mem_of(&n->src[0]), d = mem_of(&n->dst);
	cl_ulong8 xg = geom(&n->src[0]), dg = geom(&n->dst);
	cl_int op = (cl_int)n->op;
	cl_float f = n->fparams[0];
	struct karg a[] = { A(x), A(xg), A(d), A(dg), A(op), A(f) };
	size_t global[2] = { (size_t)n->dst.ne[0], (size_t)rows_of(&n->dst) };
	return launch(r, OCL_OP_UNARY, a, 6, 2, global, NULL);
}

static int run_binary(struct run *r)
{
	const struct trit_node *n = r->n;
	cl_mem x = mem_of(&n->src[0]), y = mem_of(&n->src[1]), d = mem_of(&n->dst);
	cl_ulong8 xg = geom(&n->src[0]), yg = geom(&n->src[1]), dg = geom(&n->dst);
	cl_int op = (cl_int)n->op, glu = n->iparams[0];
	struct karg a[] = { A(x), A(xg), A(y), A(yg), A(d), A(dg), A(op), A(glu) };
	size_t global[2] = { (size_t)n->dst.ne[0], (size_t)rows_of(&n->dst) };
	return launch(r, OCL_OP_BINARY, a, 8, 2, global, NULL);
}

static int run_rms_norm(struct run *r)
{
	const struct trit_node *n = r->n;
	cl_int has_w = n->src[1].ne[0] != 0;
	cl_mem x = mem_of(&n->src[0]), w = has_w ? mem_of(&n->src[1]) : x, d = mem_of(&n->dst);
	cl_ulong8 xg = geom(&n->src[0]), dg = geom(&n->dst);
	cl_ulong w_off = has_w ? n->src[1].offset : 0;
	cl_float eps = n->fparams[0];
	size_t local = r->d->ops.local, global = (size_t)rows_of(&n->dst) * local;
	struct karg a[] = { A(x), A(xg), A(w), A(w_off), A(has_w), A(d), A(dg), A(eps),
		            LOCAL(local * sizeof(cl_float)) };
	return launch(r, OCL_OP_RMS_NORM, a, 9, 1, &global, &local);
}

static int run_quantize(struct run *r)
{
	const struct trit_node *n = r->n;
	cl_mem x = mem_of(&n->src[0]), d = mem_of(&n->dst), s = mem_of(&n->src[1]);
	cl_ulong8 xg = geom(&n->src[0]), dg = geom(&n->dst);
	cl_ulong s_off = n->src[1].offset;
	size_t local = r->d->ops.local, global = (size_t)rows_of(&n->dst) * local;
	struct karg a[] = { A(x), A(xg), A(d), A(dg), A(s), A(s_off),
		            LOCAL(local * sizeof(cl_float)) };
	return launch(r, OCL_OP_QUANTIZE, a, 7, 1, &global, &local);
}

static int run_rope(struct run *r)
{
	const struct trit_node *n = r->n;
	cl_mem x = mem_of(&n->src[0]), p = mem_of(&n->src[1]), d = mem_of(&n->dst);
	cl_ulong8 xg = geom(&n->src[0]), dg = geom(&n->dst);
	cl_ulong p_off = n->src[1].offset;
	cl_int neox = n->iparams[0] == TRIT_ROPE_NEOX;
	cl_uint n_rot = (cl_uint)n->iparams[1];
	cl_float base = n->fparams[0], fscale = n->fparams[1];
	struct karg a[] = { A(x), A(xg), A(p), A(p_off), A(d), A(dg), A(neox), A(n_rot),
		            A(base), A(fscale) };
	size_t global[2] = { (size_t)(n->dst.ne[0] - n_rot / 2), (size_t)rows_of(&n->dst) };
	return launch(r, OCL_OP_ROPE, a, 10, 2, global, NULL);
}

static int run_get_rows(struct run *r)
{
	const struct trit_node *n = r->n;
	cl_mem t = mem_of(&n->src[0]), ids = mem_of(&n->src[1]), d = mem_of(&n->dst);
	cl_mem e = r->d->ops.errors;
	cl_ulong8 tg = geom(&n->src[0]), dg = geom(&n->dst);
	cl_uint ttype = n->src[0].type;
	cl_ulong i_off = n->src[1].offset;
	cl_int node = r->index;
	struct karg a[] = { A(t), A(tg), A(ttype), A(ids), A(i_off), A(d), A(dg), A(e), A(node) };
	size_t global[2] = { (size_t)n->dst.ne[0], (size_t)n->dst.ne[1] };
	return launch(r, OCL_OP_GET_ROWS, a, 9, 2, global, NULL);
}

/* Both contiguous with different shapes: one row of every element. */
static cl_ulong8 flat(const struct trit_tensor *t, uint64_t nelem)
{
	cl_ulong8 g;
	memset(&g, 0, sizeof g);
	g.s[0] = t->offset;
	g.s[4] = nelem;
	g.s[5] = g.s[6] = g.s[7] = 1;
	return g;
}

static int run_cpy(struct run *r)
{
	const struct trit_node *n = r->n;
	cl_mem x = mem_of(&n->src[0]), d = mem_of(&n->dst);
	int same = !memcmp(n->dst.ne, n->src[0].ne, sizeof n->dst.ne);
	uint64_t nelem = n->dst.ne[0] * rows_of(&n->dst);
	cl_ulong8 xg = same ? geom(&n->src[0]) : flat(&n->src[0], nelem),
	          dg = same ? geom(&n->dst) : flat(&n->dst, nelem);
	cl_uint xtype = n->src[0].type, dtype = n->dst.type;
	struct karg a[] = { A(x), A(xg), A(xtype), A(d), A(dg), A(dtype) };
	size_t global[2] = { (size_t)(dtype == TRIT_TYPE_Q8_0 ? dg.s[4] / 32 : dg.s[4]),
		             (size_t)(same ? rows_of(&n->dst) : 1) };
	return launch(r, OCL_OP_CPY, a, 6, 2, global, NULL);
}

static int run_kv_write(struct run *r)
{
	const struct trit_node *n = r->n;
	cl_mem x = mem_of(&n->src[0]), p = mem_of(&n->src[1]), c = mem_of(&n->dst);
	cl_mem e = r->d->ops.errors;
	cl_ulong8 xg = geom(&n->src[0]), cg = geom(&n->dst);
	cl_ulong p_off = n->src[1].offset;
	cl_uint ctype = n->dst.type;
	cl_int node = r->index;
	struct karg a[] = { A(x), A(xg), A(p), A(p_off), A(c), A(cg), A(ctype), A(e), A(node) };
	size_t global[2] = { (size_t)(ctype == TRIT_TYPE_Q8_0 ? n->dst.ne[0] / 32 : n->dst.ne[0]),
		             (size_t)n->dst.ne[1] };
	return launch(r, OCL_OP_KV_WRITE, a, 9, 2, global, NULL);
}

static int run_attention(struct run *r)
{
	const struct trit_node *n = r->n;
	cl_mem q = mem_of(&n->src[0]), k = mem_of(&n->src[1]), v = mem_of(&n->src[2]),
	       p = mem_of(&n->src[3]), d = mem_of(&n->dst), e = r->d->ops.errors;
	cl_ulong8 qg = geom(&n->src[0]), kg = geom(&n->src[1]), vg = geom(&n->src[2]),
	          dg = geom(&n->dst);
	cl_uint ktype = n->src[1].type, vtype = n->src[2].type, n_kv = (cl_uint)n->iparams[0];
	cl_ulong p_off = n->src[3].offset;
	cl_float scale = n->fparams[0];
	cl_int node = r->index;
	size_t D = (size_t)n->src[0].ne[0], L = r->d->ops.local;
	struct karg a[] = { A(q), A(qg), A(k), A(kg), A(ktype), A(v), A(vg), A(vtype), A(p),
		            A(p_off), A(d), A(dg), A(n_kv), A(scale), A(e), A(node),
		            LOCAL(D * 4), LOCAL(D * 4), LOCAL(L * 4), LOCAL(L * 4) };
	size_t global[2] = { (size_t)n->src[0].ne[1] * L, (size_t)n->src[0].ne[2] };
	size_t local[2] = { L, 1 };
	return launch(r, OCL_OP_ATTENTION, a, 20, 2, global, local);
}

static int run_matmul_q8(struct run *r)
{
	const struct trit_node *n = r->n;
	cl_mem w = mem_of(&n->src[0]), x = mem_of(&n->src[1]), d = mem_of(&n->dst), ws = r->ws;
	cl_ulong8 wg = geom(&n->src[0]), xg = geom(&n->src[1]), dg = geom(&n->dst);
	cl_ulong ws_off = r->ws_off;
	size_t tokens = (size_t)rows_of(&n->src[1]);
	struct karg q[] = { A(x), A(xg), A(ws), A(ws_off) };
	struct karg a[] = { A(w), A(wg), A(ws), A(ws_off), A(d), A(dg) };
	size_t gq[2] = { (size_t)(n->src[0].ne[0] / 32), tokens };
	size_t gm[2] = { (size_t)n->src[0].ne[1], tokens };
	int rc;

	if (!ws || ws_off % 2)
		return ocl_errf(r->err, r->errlen, TRIT_EINVAL, "the graph gives %s; a Q8_0 matmul "
		                "needs graph_workspace() bytes at an even offset",
		                ws ? "a misaligned workspace" : "no workspace");
	if ((rc = launch(r, OCL_OP_QUANT_Q8, q, 4, 2, gq, NULL)) != 0)
		return rc;
	return launch(r, OCL_OP_MATMUL_Q8, a, 6, 2, gm, NULL);
}

static int run_matmul(struct run *r)
{
	const struct trit_node *n = r->n;
	if (is_ternary(n->src[0].type)) {
		struct trit_matmul mm;
		int scaled = n->src[2].ne[0] != 0;
		if (!r->ws || r->ws_off % 4)
			return ocl_errf(r->err, r->errlen, TRIT_EINVAL, "the graph gives %s; a ternary "
			                "matmul needs graph_workspace() bytes at an offset that is a "
			                "multiple of 4", r->ws ? "a misaligned workspace" : "no workspace");
		matmul_of(n, r->ws_off, &mm);
		return ocl_ternary_enqueue(r->d, &mm, mem_of(&n->src[0]), mem_of(&n->src[1]),
		                           scaled ? mem_of(&n->src[2]) : NULL,
		                           scaled ? n->src[2].offset : 0, mem_of(&n->dst), r->ws,
		                           r->err, r->errlen);
	}
	if (n->src[0].type == TRIT_TYPE_Q8_0)
		return run_matmul_q8(r);
	{
		cl_mem w = mem_of(&n->src[0]), x = mem_of(&n->src[1]), d = mem_of(&n->dst);
		cl_ulong8 wg = geom(&n->src[0]), xg = geom(&n->src[1]), dg = geom(&n->dst);
		cl_uint wtype = n->src[0].type;
		struct karg a[] = { A(w), A(wg), A(wtype), A(x), A(xg), A(d), A(dg) };
		size_t global[2] = { (size_t)n->src[0].ne[1], (size_t)rows_of(&n->src[1]) };
		return launch(r, OCL_OP_MATMUL_F, a, 7, 2, global, NULL);
	}
}

static int enqueue_node(struct run *r)
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
		return ocl_errf(r->err, r->errlen, TRIT_EUNSUPPORTED, "op %u is not one this "
		                "backend runs", (unsigned)r->n->op);
	}
}

/* Check one node in full, then enqueue it. */
static int node_enqueue(struct ocl_state *st, uint32_t device, struct run *r,
                        const struct cpu_ops_env *env)
{
	uint64_t need = 0;
	int rc;

	if ((rc = cpu_ops_check_node(env, r->n, r->err, r->errlen)) != 0 ||
	    (rc = computes(st, device, r->d, r->n, r->err, r->errlen)) != 0)
		return rc;
	if (r->n->op == TRIT_OP_MATMUL && is_ternary(r->n->src[0].type)) {
		struct trit_matmul mm;
		matmul_of(r->n, 0, &mm);
		if ((rc = ocl_matmul_workspace(st, device, &mm, &need, r->err, r->errlen)) != 0)
			return rc;
	}
	if (r->n->op == TRIT_OP_MATMUL && r->n->src[0].type == TRIT_TYPE_Q8_0)
		need = q8_ws(r->n);
	if (need > r->ws_size)
		return ocl_errf(r->err, r->errlen, TRIT_EINVAL, "needs %llu bytes of workspace but "
		                "the graph gives %llu (ask graph_workspace)", (ull)need,
		                (ull)r->ws_size);
	return enqueue_node(r);
}

static int graph_workspace_of(uint32_t device, const struct trit_graph *g, struct run *r,
                              char *err, size_t errlen)
{
	const struct trit_buffer *b = g->workspace;
	if (!b || !g->workspace_size)
		return 0;
	if (b->magic != OCL_BUFFER_MAGIC || !b->mem || b->device != device ||
	    g->workspace_offset > b->size || g->workspace_size > b->size - g->workspace_offset)
		return ocl_errf(err, errlen, TRIT_ERANGE, "opencl: the graph's workspace (%llu bytes "
		                "at offset %llu) is not inside one of this device's buffers",
		                (ull)g->workspace_size, (ull)g->workspace_offset);
	r->ws = b->mem;
	r->ws_off = g->workspace_offset;
	r->ws_size = g->workspace_size;
	return 0;
}

/* The kernels' error words, read once every node has run: the wait. */
static int finish(struct ocl_device *d, const struct cpu_ops_env *env, const struct trit_graph *g,
                  char *err, size_t errlen)
{
	cl_int w[4] = { 0, 0, 0, 0 }, e;
	char ebuf[64], detail[200];
	const struct trit_node *n;
	uint32_t i;

	e = d->have_ops ? clEnqueueReadBuffer(d->queue, d->ops.errors, CL_TRUE, 0, sizeof w, w, 0,
	                                      NULL, NULL)
	                : clFinish(d->queue);
	if (e != CL_SUCCESS)
		return ocl_errf(err, errlen, TRIT_EDEVICE, "opencl %s '%s': the graph failed on the "
		                "device: %s", d->dev.id, d->dev.name, ocl_strerror(e, ebuf, sizeof ebuf));
	if (w[0] <= 0 || (uint32_t)w[0] > g->n_nodes)
		return 0;
	i = (uint32_t)w[0] - 1;
	n = cpu_ops_node_at(g, i);
	cpu_ops_device_range_error(n, (int)w[1], (int)w[2], detail, sizeof detail);
	return cpu_ops_node_fail(env, i, n, TRIT_ERANGE, detail, err, errlen);
}

int ocl_graph_compute(void *state, uint32_t device, const struct trit_graph *graph, char *err,
                      size_t errlen)
{
	static const cl_int zeros[4] = { 0, 0, 0, 0 };
	struct ocl_state *st = state;
	struct ocl_device *d = live_device(st, device, err, errlen);
	struct gctx g = { st, device };
	struct run r;
	struct cpu_ops_env env;
	char detail[600], ebuf[64];
	cl_int e;
	int rc = 0, frc;

	if (!d)
		return TRIT_EINVAL;
	env_of(&g, d, &env);
	if ((rc = cpu_ops_check_graph(&env, graph, err, errlen)) != 0)
		return rc;
	memset(&r, 0, sizeof r);
	r.d = d;
	r.err = detail;
	r.errlen = sizeof detail;
	if ((rc = graph_workspace_of(device, graph, &r, err, errlen)) != 0)
		return rc;
	pthread_mutex_lock(&d->lock);
	if (d->have_ops &&
	    (e = clEnqueueWriteBuffer(d->queue, d->ops.errors, CL_FALSE, 0, sizeof zeros, zeros, 0,
	                              NULL, NULL)) != CL_SUCCESS)
		rc = ocl_errf(err, errlen, ocl_result(e), "opencl %s: clearing the error words "
		              "failed: %s", d->dev.id, ocl_strerror(e, ebuf, sizeof ebuf));
	for (uint32_t i = 0; rc == 0 && i < graph->n_nodes; i++) {
		r.n = cpu_ops_node_at(graph, i);
		r.index = (int)i;
		if ((rc = node_enqueue(st, device, &r, &env)) != 0)
			cpu_ops_node_fail(&env, i, r.n, rc, detail, err, errlen);
	}
	/* wait even after a failure: queued kernels still use the buffers */
	frc = rc ? finish(d, &env, graph, detail, sizeof detail)
	         : finish(d, &env, graph, err, errlen);
	pthread_mutex_unlock(&d->lock);
	return rc ? rc : frc;
}

int ocl_get_memory(void *state, uint32_t device, uint64_t *free_bytes, uint64_t *total_bytes,
                   char *err, size_t errlen)
{
	struct ocl_state *st = state;
	struct ocl_device *d = device_of(st, device, err, errlen);
	int rc;

	if (!d)
		return TRIT_EINVAL;
	if (!free_bytes || !total_bytes)
		return ocl_errf(err, errlen, TRIT_EINVAL, "opencl: get_memory without result "
		                "pointers");
	*free_bytes = *total_bytes = 0;
	if (st->opt.memory) {
		ocl_budget(st, device, free_bytes, total_bytes);
		return 0;
	}
	if ((rc = ocl_device_update(state, device, err, errlen)) != 0)
		return rc;
	if (d->dev.mem_free.state == TRIT_VALUE_UNKNOWN || d->dev.mem_total.state ==
	    TRIT_VALUE_UNKNOWN)
		return ocl_errf(err, errlen, TRIT_EUNSUPPORTED, "opencl %s: free memory is unknown: "
		                "%s (set [plugin.opencl] memory to give the device a budget)",
		                d->dev.id, d->dev.mem_free.source ? d->dev.mem_free.source : "");
	*free_bytes = d->dev.mem_free.value;
	*total_bytes = d->dev.mem_total.value;
	return 0;
}
