/*
 * ops.c - the CPU plugins' graph driver: the geometry of every tensor a node
 * names (types, shapes, strides, extents) checked before anything is read,
 * operands resolved to memory through the plugin's span hook, the overlap
 * rule of backend.h (dst is src[0] exactly for the in-place ops, else it
 * overlaps nothing), the workspace, and the dispatch to the op files. The
 * arithmetic is in ops_elem.c, ops_matmul.c and ops_attn.c.
 */
#include <build-config.h>

#include <stdio.h>
#include <string.h>

#include <trit/quant.h>
#include <trit/ternary.h>

#include "ops_internal.h"

typedef unsigned long long ull;

#define MAX_NE   (UINT64_C(1) << 40)
#define MAX_ELEM (UINT64_C(1) << 50)

static const char *const op_names[TRIT_OP_COUNT] = {
	"NONE", "GET_ROWS", "RMS_NORM", "ADD", "MUL", "SCALE", "ROPE", "ATTENTION",
	"RELU2", "SILU", "GELU", "GLU", "QUANTIZE_ACT", "MATMUL", "CPY", "KV_WRITE",
};

const char *cpu_ops_name(uint32_t op)
{
	return op < TRIT_OP_COUNT ? op_names[op] : "an unknown op";
}

/* ------------------------------------------------------------------------ */
/* Helpers the op files share                                                */

int ops_same_shape(const struct ops_view *a, const struct ops_view *b)
{
	return !memcmp(a->ne, b->ne, sizeof a->ne);
}

uint64_t ops_nelem(const struct ops_view *v)
{
	return v->ne[0] * v->rows;
}

int ops_is_contiguous(const struct ops_view *v)
{
	return v->nb[1] == v->row_bytes && v->nb[2] == v->nb[1] * v->ne[1] &&
	       v->nb[3] == v->nb[2] * v->ne[2];
}

unsigned ops_parts(const struct cpu_ops_env *env, uint64_t units, uint64_t cost)
{
	uint64_t n = env->n_threads, work = units * (cost ? cost : 1);
	if (units < n)
		n = units;
	if (work / 16384 + 1 < n)
		n = work / 16384 + 1;
	return n ? (unsigned)n : 1;
}

/* ------------------------------------------------------------------------ */
/* One tensor's geometry                                                      */

static int mul_add(uint64_t *acc, uint64_t a, uint64_t b)
{
	if (a && b > UINT64_MAX / a)
		return -1;
	if (*acc > UINT64_MAX - a * b)
		return -1;
	*acc += a * b;
	return 0;
}

static int ternary_shape(const struct trit_tensor *t, const char *what, struct ops_view *v,
                         char *err, size_t errlen)
{
	struct trit_ternary_geometry g;
	const char *tn = trit_type_traits(t->type)->name;

	if (t->ne[2] != 1 || t->ne[3] != 1 ||
	    trit_ternary_geometry(t->type, t->ne[1], t->ne[0], &g) != 0)
		return cpu_common_errf(err, errlen, TRIT_EINVAL,
		                       "%s is a %s tensor of %llu x %llu x %llu x %llu; a ternary "
		                       "tensor is 2-D [K, M] with K and M below 2^40", what, tn,
		                       (ull)t->ne[0], (ull)t->ne[1], (ull)t->ne[2], (ull)t->ne[3]);
	if (t->type == TRIT_TYPE_I2_S ? t->ne[1] > 1 && t->nb[1] != g.cols_pad / 4
	                              : (t->nb[0] | t->nb[1] | t->nb[2] | t->nb[3]) != 0)
		return cpu_common_errf(err, errlen, TRIT_EINVAL,
		                       "%s (%s) has strides %llu/%llu/%llu/%llu; %s", what, tn,
		                       (ull)t->nb[0], (ull)t->nb[1], (ull)t->nb[2], (ull)t->nb[3],
		                       t->type == TRIT_TYPE_I2_S ? "an I2_S row is K_pad / 4 bytes"
		                                                 : "TL1 and TL2 strides are 0");
	v->row_bytes = t->type == TRIT_TYPE_I2_S ? g.cols_pad / 4 : 0;
	v->extent = g.total_bytes;
	return 0;
}

/* Block and element types: nb[0] is the element (block) size, each stride
 * keeps that alignment, and the extent fits 64 bits. */
static int plain_shape(const struct trit_tensor *t, const char *what, struct ops_view *v,
                       char *err, size_t errlen)
{
	const struct trit_type_traits *tt = trit_type_traits(t->type);
	uint64_t align = tt->block_elems == 1 ? tt->block_bytes : 1;

	if (t->ne[0] % tt->block_elems)
		return cpu_common_errf(err, errlen, TRIT_EINVAL,
		                       "%s is %s with ne[0] = %llu, not a multiple of its %u-element "
		                       "block", what, tt->name, (ull)t->ne[0], tt->block_elems);
	if (t->nb[0] != tt->block_bytes || t->nb[1] % align || t->nb[2] % align ||
	    t->nb[3] % align)
		return cpu_common_errf(err, errlen, TRIT_EINVAL,
		                       "%s (%s) has strides %llu/%llu/%llu/%llu; nb[0] must be %u "
		                       "and every stride a multiple of %llu", what, tt->name,
		                       (ull)t->nb[0], (ull)t->nb[1], (ull)t->nb[2], (ull)t->nb[3],
		                       tt->block_bytes, (ull)align);
	v->row_bytes = t->ne[0] / tt->block_elems * tt->block_bytes;
	v->extent = v->row_bytes;
	for (int d = 1; d < 4; d++)
		if (mul_add(&v->extent, t->ne[d] - 1, t->nb[d]) != 0)
			return cpu_common_errf(err, errlen, TRIT_ERANGE,
			                       "%s spans more bytes than 64 bits count", what);
	return 0;
}

static int view_shape(const struct trit_tensor *t, const char *what, struct ops_view *v,
                      char *err, size_t errlen)
{
	memset(v, 0, sizeof *v);
	if (t->type >= TRIT_TYPE_COUNT)
		return cpu_common_errf(err, errlen, TRIT_EINVAL, "%s has type %u, which is not a "
		                       "trit_type", what, (unsigned)t->type);
	for (int d = 0; d < 4; d++)
		if (t->ne[d] == 0 || t->ne[d] >= MAX_NE)
			return cpu_common_errf(err, errlen, TRIT_EINVAL,
			                       "%s has ne[%d] = %llu; each dimension is 1 .. 2^40-1",
			                       what, d, (ull)t->ne[d]);
	v->type = t->type;
	memcpy(v->ne, t->ne, sizeof v->ne);
	memcpy(v->nb, t->nb, sizeof v->nb);
	v->rows = t->ne[1] * t->ne[2];
	if (v->rows >= MAX_ELEM / t->ne[3] || v->rows * t->ne[3] >= MAX_ELEM / t->ne[0])
		return cpu_common_errf(err, errlen, TRIT_ERANGE, "%s has 2^50 elements or more",
		                       what);
	v->rows *= t->ne[3];
	if (trit_type_traits(t->type)->block_elems == 0 || t->type == TRIT_TYPE_I2_S)
		return ternary_shape(t, what, v, err, errlen);
	return plain_shape(t, what, v, err, errlen);
}

/* ------------------------------------------------------------------------ */
/* Which operands each op has                                                 */

static const char *const src_names[TRIT_NODE_MAX_SRC] = { "src[0]", "src[1]", "src[2]",
	                                                  "src[3]" };

/* Bits of src[] an op requires, and those it may take. */
static void op_operands(const struct trit_node *n, unsigned *need, unsigned *may)
{
	static const unsigned char req[TRIT_OP_COUNT] = {
		[TRIT_OP_GET_ROWS] = 3, [TRIT_OP_RMS_NORM] = 1, [TRIT_OP_ADD] = 3,
		[TRIT_OP_MUL] = 3, [TRIT_OP_SCALE] = 1, [TRIT_OP_ROPE] = 3,
		[TRIT_OP_ATTENTION] = 15, [TRIT_OP_RELU2] = 1, [TRIT_OP_SILU] = 1,
		[TRIT_OP_GELU] = 1, [TRIT_OP_GLU] = 3, [TRIT_OP_QUANTIZE_ACT] = 3,
		[TRIT_OP_MATMUL] = 3, [TRIT_OP_CPY] = 1, [TRIT_OP_KV_WRITE] = 3,
	};
	*need = n->op < TRIT_OP_COUNT ? req[n->op] : 0;
	*may = *need;
	if (n->op == TRIT_OP_RMS_NORM)
		*may |= 2;
	if (n->op == TRIT_OP_MATMUL)
		*may |= 4;
}

static int present(const struct trit_tensor *t)
{
	return t->buffer != NULL || t->ne[0] != 0;
}

/* Shapes of dst and the operands, then the op's own rules. v[0] is dst,
 * v[1 + i] is src[i] (type OPS_ABSENT when absent). */
static int node_shapes(const struct cpu_ops_env *env, const struct trit_node *n,
                       struct ops_view v[1 + TRIT_NODE_MAX_SRC], char *err, size_t errlen)
{
	unsigned need, may;
	int rc;

	if (n->op == TRIT_OP_NONE)
		return 0;
	if (n->op >= TRIT_OP_COUNT)
		return cpu_common_errf(err, errlen, TRIT_EUNSUPPORTED,
		                       "op %u is not one this plugin knows", (unsigned)n->op);
	op_operands(n, &need, &may);
	if ((rc = view_shape(&n->dst, "dst", &v[0], err, errlen)) != 0)
		return rc;
	for (unsigned i = 0; i < TRIT_NODE_MAX_SRC; i++) {
		v[1 + i].type = OPS_ABSENT;
		if (!present(&n->src[i])) {
			if (need & (1u << i))
				return cpu_common_errf(err, errlen, TRIT_EINVAL, "%s is absent but "
				                       "the op needs it", src_names[i]);
			continue;
		}
		if (!(may & (1u << i)))
			return cpu_common_errf(err, errlen, TRIT_EINVAL, "%s is given but the op "
			                       "takes no such operand", src_names[i]);
		if ((rc = view_shape(&n->src[i], src_names[i], &v[1 + i], err, errlen)) != 0)
			return rc;
	}
	if (n->op == TRIT_OP_MATMUL)
		return ops_check_matmul(env, n, v, err, errlen);
	if (n->op == TRIT_OP_ATTENTION)
		return ops_check_attention(n, v, err, errlen);
	return ops_check_elem(env, n, v, err, errlen);
}

#define NODE_MIN_SIZE (offsetof(struct trit_node, name) + sizeof(const char *))

int cpu_ops_supports(const struct cpu_ops_env *env, const struct trit_node *node)
{
	struct ops_view v[1 + TRIT_NODE_MAX_SRC];
	if (!node || node->struct_size < NODE_MIN_SIZE)
		return 0;
	return node_shapes(env, node, v, NULL, 0) == 0;
}

/* ------------------------------------------------------------------------ */
/* Memory                                                                      */

static int view_mem(const struct cpu_ops_env *env, const struct trit_tensor *t,
                    const char *what, struct ops_view *v, char *err, size_t errlen)
{
	const struct trit_type_traits *tt = trit_type_traits(v->type);
	unsigned char *base;
	uint64_t size, align = tt->block_elems == 1 ? tt->block_bytes : 1;

	if (!t->buffer || env->span(env->ctx, t->buffer, &base, &size) != 0)
		return cpu_common_errf(err, errlen, TRIT_EINVAL, "%s has %s buffer", what,
		                       t->buffer ? "a foreign (not this plugin's)" : "no");
	if (t->offset > size || v->extent > size - t->offset)
		return cpu_common_errf(err, errlen, TRIT_ERANGE,
		                       "%s spans %llu bytes from offset %llu but its buffer holds "
		                       "%llu", what, (ull)v->extent, (ull)t->offset, (ull)size);
	if (!base) {
		/* device memory (cpu_ops_check_node): buffers are aligned, so the
		 * offset must be */
		if (t->offset % align)
			return cpu_common_errf(err, errlen, TRIT_EINVAL,
			                       "%s (%s) at offset %llu is not %llu-byte aligned",
			                       what, tt->name, (ull)t->offset, (ull)align);
		return 0;
	}
	v->data = base + t->offset;
	if ((uintptr_t)v->data % align)
		return cpu_common_errf(err, errlen, TRIT_EINVAL,
		                       "%s (%s) at offset %llu is not %llu-byte aligned", what,
		                       tt->name, (ull)t->offset, (ull)align);
	return 0;
}

static int overlaps(const struct trit_tensor *a, const struct ops_view *va,
                    const struct trit_tensor *b, const struct ops_view *vb)
{
	return a->buffer == b->buffer && a->offset < b->offset + vb->extent &&
	       b->offset < a->offset + va->extent;
}

static int in_place_op(uint32_t op)
{
	return op == TRIT_OP_ADD || op == TRIT_OP_MUL || op == TRIT_OP_SCALE ||
	       op == TRIT_OP_RMS_NORM || op == TRIT_OP_ROPE || op == TRIT_OP_RELU2 ||
	       op == TRIT_OP_SILU || op == TRIT_OP_GELU || op == TRIT_OP_GLU;
}

static int same_tensor(const struct trit_tensor *a, const struct trit_tensor *b)
{
	return a->buffer == b->buffer && a->offset == b->offset && a->type == b->type &&
	       !memcmp(a->ne, b->ne, sizeof a->ne) && !memcmp(a->nb, b->nb, sizeof a->nb);
}

/* dst (and QUANTIZE_ACT's scales) against every operand. */
static int check_overlaps(const struct trit_node *n, const struct ops_view *v, char *err,
                          size_t errlen)
{
	for (unsigned i = 0; i < TRIT_NODE_MAX_SRC; i++) {
		if (v[1 + i].type == OPS_ABSENT || !overlaps(&n->dst, &v[0], &n->src[i], &v[1 + i]))
			continue;
		if (i == 0 && in_place_op(n->op) && same_tensor(&n->dst, &n->src[0]))
			continue;
		return cpu_common_errf(err, errlen, TRIT_EINVAL,
		                       "dst overlaps %s in the same buffer%s", src_names[i],
		                       in_place_op(n->op) && i == 0 ? " without being the very same "
		                       "tensor (in place)" : "; this op does not run in place");
	}
	if (n->op == TRIT_OP_QUANTIZE_ACT && overlaps(&n->src[1], &v[2], &n->src[0], &v[1]))
		return cpu_common_errf(err, errlen, TRIT_EINVAL,
		                       "the scales (src[1]) overlap the activations (src[0])");
	return 0;
}

static int resolve(const struct cpu_ops_env *env, const struct trit_node *n,
                   struct ops_view *v, char *err, size_t errlen)
{
	int rc = view_mem(env, &n->dst, "dst", &v[0], err, errlen);
	for (unsigned i = 0; rc == 0 && i < TRIT_NODE_MAX_SRC; i++)
		if (v[1 + i].type != OPS_ABSENT)
			rc = view_mem(env, &n->src[i], src_names[i], &v[1 + i], err, errlen);
	if (rc == 0 &&
	    ((n->dst.ne[1] > 1 && n->dst.nb[1] < v[0].row_bytes) ||
	     (n->dst.ne[2] > 1 && n->dst.nb[2] < n->dst.nb[1] * n->dst.ne[1]) ||
	     (n->dst.ne[3] > 1 && n->dst.nb[3] < n->dst.nb[2] * n->dst.ne[2])))
		return cpu_common_errf(err, errlen, TRIT_EINVAL,
		                       "dst's strides %llu/%llu/%llu make its rows overlap",
		                       (ull)n->dst.nb[1], (ull)n->dst.nb[2], (ull)n->dst.nb[3]);
	return rc ? rc : check_overlaps(n, v, err, errlen);
}

int cpu_ops_check_node(const struct cpu_ops_env *env, const struct trit_node *node,
                       char *err, size_t errlen)
{
	struct ops_view v[1 + TRIT_NODE_MAX_SRC];
	int rc;

	if (!node || node->struct_size < NODE_MIN_SIZE)
		return cpu_common_errf(err, errlen, TRIT_EABI, "the node is %s",
		                       node ? "smaller than struct trit_node of ABI v2" : "NULL");
	if (node->op == TRIT_OP_NONE)
		return 0;
	if ((rc = node_shapes(env, node, v, err, errlen)) != 0)
		return rc;
	return resolve(env, node, v, err, errlen);
}

/* ------------------------------------------------------------------------ */
/* Graphs                                                                      */

#define GRAPH_MIN_SIZE (offsetof(struct trit_graph, workspace_size) + sizeof(uint64_t))

const struct trit_node *cpu_ops_node_at(const struct trit_graph *g, uint32_t i)
{
	size_t stride = g->nodes[0].struct_size;
	return (const struct trit_node *)(const void *)((const char *)g->nodes + i * stride);
}

int cpu_ops_check_graph(const struct cpu_ops_env *env, const struct trit_graph *g, char *err,
                        size_t errlen)
{
	if (!g || g->struct_size < GRAPH_MIN_SIZE)
		return cpu_common_errf(err, errlen, g ? TRIT_EABI : TRIT_EINVAL,
		                       "%s: the graph is %s", env->plugin,
		                       g ? "smaller than struct trit_graph of ABI v2" : "NULL");
	if (g->n_nodes && (!g->nodes || g->nodes[0].struct_size < NODE_MIN_SIZE))
		return cpu_common_errf(err, errlen, TRIT_EABI,
		                       "%s: the graph's nodes are %s", env->plugin,
		                       g->nodes ? "smaller than struct trit_node of ABI v2"
		                                : "NULL");
	return 0;
}

int cpu_ops_node_fail(const struct cpu_ops_env *env, uint32_t i, const struct trit_node *n,
                      int rc, const char *detail, char *err, size_t errlen)
{
	return cpu_common_errf(err, errlen, rc, "%s: node %u '%s' (%s): %s", env->plugin,
	                       (unsigned)i, n->name ? n->name : "unnamed", cpu_ops_name(n->op),
	                       detail);
}

static int node_ws(const struct cpu_ops_env *env, const struct trit_node *n,
                   const struct ops_view *v, uint64_t *bytes)
{
	*bytes = 0;
	return n->op == TRIT_OP_MATMUL ? ops_matmul_ws(env, n, v, bytes) : 0;
}

int cpu_ops_graph_workspace(const struct cpu_ops_env *env, const struct trit_graph *graph,
                            uint64_t *bytes, char *err, size_t errlen)
{
	struct ops_view v[1 + TRIT_NODE_MAX_SRC];
	char detail[400];
	uint64_t most = 0, b;
	int rc;

	if (!bytes)
		return cpu_common_errf(err, errlen, TRIT_EINVAL, "%s: graph_workspace without a "
		                       "result pointer", env->plugin);
	*bytes = 0;
	if ((rc = cpu_ops_check_graph(env, graph, err, errlen)) != 0)
		return rc;
	for (uint32_t i = 0; i < graph->n_nodes; i++) {
		const struct trit_node *n = cpu_ops_node_at(graph, i);
		if ((rc = node_shapes(env, n, v, detail, sizeof detail)) != 0 ||
		    (rc = node_ws(env, n, v, &b)) != 0)
			return cpu_ops_node_fail(env, i, n, rc, rc ? detail : "", err, errlen);
		most = b > most ? b : most;
	}
	*bytes = most;
	return 0;
}

static int run_node(const struct cpu_ops_env *env, const struct trit_node *n,
                    unsigned char *ws, uint64_t ws_size, char *err, size_t errlen)
{
	struct ops_node o = { .env = env, .n = n, .ws = ws, .ws_size = ws_size };
	struct ops_view v[1 + TRIT_NODE_MAX_SRC];
	uint64_t need;
	int rc;

	if (n->op == TRIT_OP_NONE)
		return 0;
	if ((rc = node_shapes(env, n, v, err, errlen)) != 0 ||
	    (rc = resolve(env, n, v, err, errlen)) != 0 || (rc = node_ws(env, n, v, &need)) != 0)
		return rc;
	if (need > ws_size)
		return cpu_common_errf(err, errlen, TRIT_EINVAL,
		                       "needs %llu bytes of workspace but the graph gives %llu (ask "
		                       "graph_workspace)", (ull)need, (ull)ws_size);
	o.dst = v[0];
	memcpy(o.src, v + 1, sizeof o.src);
	if (n->op == TRIT_OP_MATMUL)
		return ops_run_matmul(&o, err, errlen);
	if (n->op == TRIT_OP_ATTENTION)
		return ops_run_attention(&o, err, errlen);
	return ops_run_elem(&o, err, errlen);
}

int cpu_ops_graph_compute(const struct cpu_ops_env *env, const struct trit_graph *graph,
                          char *err, size_t errlen)
{
	unsigned char *ws = NULL;
	uint64_t ws_size = 0, size;
	char detail[400];
	int rc;

	if ((rc = cpu_ops_check_graph(env, graph, err, errlen)) != 0)
		return rc;
	if (graph->workspace && graph->workspace_size) {
		if (env->span(env->ctx, graph->workspace, &ws, &size) != 0 ||
		    graph->workspace_offset > size ||
		    graph->workspace_size > size - graph->workspace_offset)
			return cpu_common_errf(err, errlen, TRIT_ERANGE,
			                       "%s: the graph's workspace (%llu bytes at offset %llu) "
			                       "is not inside one of this plugin's buffers",
			                       env->plugin, (ull)graph->workspace_size,
			                       (ull)graph->workspace_offset);
		ws += graph->workspace_offset;
		ws_size = graph->workspace_size;
	}
	for (uint32_t i = 0; i < graph->n_nodes; i++) {
		const struct trit_node *n = cpu_ops_node_at(graph, i);
		if ((rc = run_node(env, n, ws, ws_size, detail, sizeof detail)) != 0)
			return cpu_ops_node_fail(env, i, n, rc, detail, err, errlen);
	}
	return 0;
}
