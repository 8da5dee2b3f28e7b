/*
 * adopt.c - the host's copy of a plugin's backend table: every ABI v2 entry
 * callable, forwarding to the plugin where it has the entry and answering as
 * backend.h promises where it has not (v1 matmul() under graph_compute(), a
 * synchronous graph_submit(), staged buffer_copy(), live memory through
 * device_update()). Checking and loading the plugin is registry.c's job.
 */
#include <build-config.h>

#include <stdlib.h>
#include <string.h>

#include "backend/adopt.h"
#include "core/common.h"
#include "exec/tensor.h"

/* buffer_copy() without the plugin's own copies through this much at most. */
#define STAGING_MAX (UINT64_C(1) << 20)

/* The host-side event of a plugin without graph_submit(): the graph already
 * ran; this is its result. */
struct host_event {
	int rc;
	char msg[1024];
};

static struct trit_adopted *A(void *s)
{
	return s;
}

/* What a plugin's entry returned, its message in err ended on our side: a
 * plugin may fill the whole buffer and leave out the NUL. */
static int ended(int rc, char *err, size_t errlen)
{
	if (err && errlen)
		err[errlen - 1] = '\0';
	return rc;
}

static int absent(const struct trit_adopted *a, const char *entry, const char *what,
                  char *err, size_t errlen)
{
	return trit_errf(err, errlen, TRIT_EUNSUPPORTED, "backend %s %s (no %s)", a->name, what,
	                 entry);
}

static int bad_device(const struct trit_adopted *a, uint32_t d, char *err, size_t errlen)
{
	if (d < a->n_devices)
		return 0;
	return trit_errf(err, errlen, TRIT_EINVAL, "backend %s has no device %u (it has %u)",
	                 a->name, d, a->n_devices);
}

static const char *node_name(const struct trit_node *n)
{
	return n->name ? n->name : "unnamed";
}

/* ------------------------------------------------------------------------ */
/* Devices                                                                   */

static uint32_t h_device_count(void *s)
{
	return A(s)->n_devices;
}

static const struct trit_device *h_device_get(void *s, uint32_t i)
{
	struct trit_adopted *a = A(s);
	return i < a->n_devices ? &a->devices[i] : NULL;
}

/* After a device_update(), take the re-measured memory into the host's copy
 * when the plugin's report is still sane; keep the old values otherwise. */
static void refresh_memory(struct trit_adopted *a, uint32_t d)
{
	const struct trit_device *p = a->t.device_get(a->state, d);
	struct trit_device *h = &a->devices[d];

	if (!p || p->struct_size < TRIT_DEVICE_MIN_STRUCT_SIZE)
		return;
	if (p->mem_total.state > TRIT_VALUE_CONFIGURED || p->mem_free.state > TRIT_VALUE_CONFIGURED)
		return;
	if (p->mem_total.state && p->mem_free.state && p->mem_free.value > p->mem_total.value)
		return;
	if (!trit_adopt_text_ok(p->mem_total.source) || !trit_adopt_text_ok(p->mem_free.source))
		return;
	h->mem_total = p->mem_total;
	h->mem_free = p->mem_free;
}

static int h_device_update(void *s, uint32_t d, char *err, size_t errlen)
{
	struct trit_adopted *a = A(s);
	int rc = bad_device(a, d, err, errlen);

	if (rc)
		return rc;
	if (!a->t.device_update)
		return absent(a, "device_update", "cannot re-measure its devices", err, errlen);
	rc = ended(a->t.device_update(a->state, d, err, errlen), err, errlen);
	if (!rc)
		refresh_memory(a, d);
	return rc;
}

static int live(const struct trit_value *v)
{
	return v->state == TRIT_VALUE_MEASURED || v->state == TRIT_VALUE_DERIVED;
}

static int h_get_memory(void *s, uint32_t d, uint64_t *free_bytes, uint64_t *total_bytes,
                        char *err, size_t errlen)
{
	struct trit_adopted *a = A(s);
	char why[512] = "";
	int rc = bad_device(a, d, err, errlen);

	*free_bytes = *total_bytes = 0;
	if (rc)
		return rc;
	if (a->t.get_memory)
		return ended(a->t.get_memory(a->state, d, free_bytes, total_bytes, err, errlen),
		             err, errlen);
	if ((rc = h_device_update(s, d, why, sizeof why)))
		return trit_errf(err, errlen, rc, "backend %s cannot measure the live memory of %s "
		                 "(no get_memory, and device_update failed: %s)", a->name,
		                 a->devices[d].id, why[0] ? why : "no reason given");
	const struct trit_device *h = &a->devices[d];
	if (!live(&h->mem_free) || !live(&h->mem_total)) {
		const struct trit_value *v = live(&h->mem_free) ? &h->mem_total : &h->mem_free;
		return trit_errf(err, errlen, TRIT_EUNSUPPORTED, "backend %s does not measure the %s "
		                 "memory of %s: %s", a->name, v == &h->mem_free ? "free" : "total",
		                 h->id, v->source ? v->source : "no reason given");
	}
	*free_bytes = h->mem_free.value;
	*total_bytes = h->mem_total.value;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Buffers                                                                   */

static int h_buffer_alloc(void *s, uint32_t d, uint64_t size, struct trit_buffer **out,
                          char *err, size_t errlen)
{
	struct trit_adopted *a = A(s);
	int rc = bad_device(a, d, err, errlen);

	*out = NULL;
	if (rc)
		return rc;
	if (!a->t.buffer_alloc)
		return absent(a, "buffer_alloc", "does not allocate buffers", err, errlen);
	return ended(a->t.buffer_alloc(a->state, d, size, out, err, errlen), err, errlen);
}

static void h_buffer_free(void *s, struct trit_buffer *b)
{
	struct trit_adopted *a = A(s);
	if (b && a->t.buffer_free)
		a->t.buffer_free(a->state, b);
}

static int h_buffer_write(void *s, struct trit_buffer *b, uint64_t off, const void *src,
                          uint64_t size, char *err, size_t errlen)
{
	struct trit_adopted *a = A(s);
	if (!a->t.buffer_write)
		return absent(a, "buffer_write", "does not write buffers", err, errlen);
	return ended(a->t.buffer_write(a->state, b, off, src, size, err, errlen), err, errlen);
}

static int h_buffer_read(void *s, struct trit_buffer *b, uint64_t off, void *dst,
                         uint64_t size, char *err, size_t errlen)
{
	struct trit_adopted *a = A(s);
	if (!a->t.buffer_read)
		return absent(a, "buffer_read", "does not read buffers", err, errlen);
	return ended(a->t.buffer_read(a->state, b, off, dst, size, err, errlen), err, errlen);
}

static int h_buffer_limits(void *s, uint32_t d, struct trit_buffer_limits *out,
                           char *err, size_t errlen)
{
	struct trit_adopted *a = A(s);
	int rc = bad_device(a, d, err, errlen);

	if (rc)
		return rc;
	if (!a->t.buffer_limits)
		return absent(a, "buffer_limits", "does not describe its buffers", err, errlen);
	return ended(a->t.buffer_limits(a->state, d, out, err, errlen), err, errlen);
}

static int h_buffer_from_host_ptr(void *s, uint32_t d, void *ptr, uint64_t size,
                                  struct trit_buffer **out, char *err, size_t errlen)
{
	struct trit_adopted *a = A(s);
	int rc = bad_device(a, d, err, errlen);

	*out = NULL;
	if (rc)
		return rc;
	if (!a->t.buffer_from_host_ptr)
		return absent(a, "buffer_from_host_ptr", "cannot wrap host memory", err, errlen);
	return ended(a->t.buffer_from_host_ptr(a->state, d, ptr, size, out, err, errlen),
	             err, errlen);
}

static void *h_buffer_host_ptr(void *s, struct trit_buffer *b)
{
	struct trit_adopted *a = A(s);
	return b && a->t.buffer_host_ptr ? a->t.buffer_host_ptr(a->state, b) : NULL;
}

/* Copy through a bounded host buffer, chunk by chunk; backwards when the
 * ranges overlap with the destination after the source. */
static int staged_copy(struct trit_adopted *a, struct trit_buffer *dst, uint64_t doff,
                       struct trit_buffer *src, uint64_t soff, uint64_t size,
                       char *err, size_t errlen)
{
	uint64_t chunk = size < STAGING_MAX ? size : STAGING_MAX;
	int backward = dst == src && doff > soff && doff - soff < size;
	unsigned char *tmp;
	int rc = 0;

	if (soff > UINT64_MAX - size || doff > UINT64_MAX - size)
		return trit_errf(err, errlen, TRIT_ERANGE, "buffer_copy: offset + %llu bytes "
		                 "overflows", (unsigned long long)size);
	if (!(tmp = malloc((size_t)chunk)))
		return trit_errf(err, errlen, TRIT_ENOMEM, "buffer_copy: out of memory for a "
		                 "%llu-byte staging buffer", (unsigned long long)chunk);
	for (uint64_t done = 0; done < size && !rc; done += chunk) {
		uint64_t n = size - done < chunk ? size - done : chunk;
		uint64_t at = backward ? size - done - n : done;
		rc = ended(a->t.buffer_read(a->state, src, soff + at, tmp, n, err, errlen),
		           err, errlen);
		if (!rc)
			rc = ended(a->t.buffer_write(a->state, dst, doff + at, tmp, n, err, errlen),
			           err, errlen);
	}
	free(tmp);
	return rc;
}

static int h_buffer_copy(void *s, struct trit_buffer *dst, uint64_t doff,
                         struct trit_buffer *src, uint64_t soff, uint64_t size,
                         char *err, size_t errlen)
{
	struct trit_adopted *a = A(s);

	if (a->t.buffer_copy)
		return ended(a->t.buffer_copy(a->state, dst, doff, src, soff, size, err, errlen),
		             err, errlen);
	if (!a->t.buffer_read || !a->t.buffer_write)
		return absent(a, "buffer_copy", "cannot copy buffers (and has no buffer_read and "
		              "buffer_write to stage through)", err, errlen);
	return size ? staged_copy(a, dst, doff, src, soff, size, err, errlen) : 0;
}

static const void *h_extension(void *s, const char *name)
{
	struct trit_adopted *a = A(s);
	return name && a->t.extension ? a->t.extension(a->state, name) : NULL;
}

/* ------------------------------------------------------------------------ */
/* matmul() and MATMUL nodes, each in terms of the other                     */

/* A dense [ne0, ne1] tensor of `type` with rows of `row` bytes. */
static int set_matrix(struct trit_tensor *t, uint32_t type, uint64_t ne0, uint64_t ne1,
                      struct trit_buffer *buf, uint64_t off, char *err, size_t errlen)
{
	const struct trit_type_traits *tr = trit_type_traits(type);
	uint64_t row = trit_tensor_row_bytes(type, ne0);

	memset(t, 0, sizeof *t);
	t->type = type;
	t->ne[0] = ne0;
	t->ne[1] = ne1;
	t->ne[2] = t->ne[3] = 1;
	t->buffer = buf;
	t->offset = off;
	if (type == TRIT_TYPE_TL1 || type == TRIT_TYPE_TL2)
		return 0; /* packed whole; no strides */
	if (!row || (ne1 && row > UINT64_MAX / ne1))
		return trit_errf(err, errlen, TRIT_EINVAL, "matmul: %s [%llu, %llu] has no row "
		                 "layout (columns not whole blocks, or too large)", tr->name,
		                 (unsigned long long)ne0, (unsigned long long)ne1);
	t->nb[0] = tr->block_bytes;
	t->nb[1] = row;
	t->nb[2] = t->nb[3] = row * ne1;
	return 0;
}

/* The MATMUL node that does what `op` asks. */
static int matmul_node(const struct trit_matmul *op, struct trit_node *n,
                       char *err, size_t errlen)
{
	int rc;

	if (!op)
		return trit_errf(err, errlen, TRIT_EINVAL, "matmul: no operation given");
	if (!trit_type_traits(op->weight_type))
		return trit_errf(err, errlen, TRIT_EINVAL, "matmul: weight type %u is not a trit "
		                 "type", op->weight_type);
	if (op->flags & TRIT_MATMUL_INT_DOTS)
		return trit_errf(err, errlen, TRIT_EUNSUPPORTED, "matmul: the integer-dot form "
		                 "(TRIT_MATMUL_INT_DOTS) has no MATMUL node to run it as, and this "
		                 "backend has only graph_compute()");
	memset(n, 0, sizeof *n);
	n->struct_size = sizeof *n;
	n->op = TRIT_OP_MATMUL;
	n->name = "matmul";
	if ((rc = set_matrix(&n->src[0], op->weight_type, op->cols, op->rows, op->weights,
	                     op->weights_offset, err, errlen)) ||
	    (rc = set_matrix(&n->src[1], TRIT_TYPE_F32, op->cols, op->tokens, op->input,
	                     op->input_offset, err, errlen)) ||
	    (rc = set_matrix(&n->dst, TRIT_TYPE_F32, op->rows, op->tokens, op->output,
	                     op->output_offset, err, errlen)))
		return rc;
	return 0;
}

/* The trit_matmul a v1 matmul() needs for MATMUL node `n`. */
static void node_matmul(const struct trit_node *n, const struct trit_graph *g,
                        struct trit_matmul *op)
{
	memset(op, 0, sizeof *op);
	op->struct_size = sizeof *op;
	op->weight_type = n->src[0].type;
	op->rows = n->src[0].ne[1];
	op->cols = n->src[0].ne[0];
	op->tokens = n->src[1].ne[1];
	op->weights = n->src[0].buffer;
	op->weights_offset = n->src[0].offset;
	op->input = n->src[1].buffer;
	op->input_offset = n->src[1].offset;
	op->output = n->dst.buffer;
	op->output_offset = n->dst.offset;
	op->n_threads = g ? g->n_threads : 0;
}

/* What a v1 matmul() can run: an F32 product of dense matrices with a
 * weight type the device lists in matmul_types. */
static int v1_runs(const struct trit_adopted *a, uint32_t d, const struct trit_node *n)
{
	const struct trit_tensor *w = &n->src[0];
	uint64_t k = w->ne[0], m = w->ne[1], t = n->src[1].ne[1];

	if (!a->t.matmul || n->op != TRIT_OP_MATMUL || w->type >= 64 ||
	    !(a->devices[d].matmul_types & TRIT_TYPE_BIT(w->type)))
		return 0;
	if (n->src[2].ne[0] || n->src[3].ne[0])
		return 0; /* an absent operand has ne[0] 0 (buffers may be NULL here) */
	return trit_tensor_is_matrix(w, w->type, k, m) &&
	       trit_tensor_is_matrix(&n->src[1], TRIT_TYPE_F32, k, t) &&
	       trit_tensor_is_matrix(&n->dst, TRIT_TYPE_F32, m, t);
}

static int h_supports_op(void *s, uint32_t d, const struct trit_node *n)
{
	struct trit_adopted *a = A(s);

	if (!n || d >= a->n_devices)
		return 0;
	if (a->t.supports_op)
		return a->t.supports_op(a->state, d, n) == 1;
	return v1_runs(a, d, n);
}

static int check_graph(const struct trit_adopted *a, uint32_t d, const struct trit_graph *g,
                       char *err, size_t errlen)
{
	int rc = bad_device(a, d, err, errlen);

	if (rc)
		return rc;
	if (!g || (g->n_nodes && !g->nodes))
		return trit_errf(err, errlen, TRIT_EINVAL, "backend %s: no graph, or a graph of "
		                 "%u nodes without its node array", a->name, g ? g->n_nodes : 0);
	return 0;
}

/* The host promises a plugin only nodes its supports_op() accepted. */
static int check_nodes(struct trit_adopted *a, uint32_t d, const struct trit_graph *g,
                       char *err, size_t errlen)
{
	for (uint32_t i = 0; i < g->n_nodes; i++) {
		const struct trit_node *n = &g->nodes[i];
		const char *op = trit_op_name(n->op);
		if (n->op == TRIT_OP_NONE || h_supports_op(a, d, n))
			continue;
		return trit_errf(err, errlen, TRIT_EUNSUPPORTED, "node %u (%s): device %s of "
		                 "backend %s does not run this %s%s%s", i, node_name(n),
		                 a->devices[d].id, a->name, op ? op : "unknown op",
		                 n->op == TRIT_OP_MATMUL ? " of " : "",
		                 n->op == TRIT_OP_MATMUL && trit_type_traits(n->src[0].type) ?
		                 trit_type_traits(n->src[0].type)->name : "");
	}
	return 0;
}

/* Workspace of one v1 matmul(); a plugin without matmul_workspace()
 * declared none, so its matmul() runs with a NULL workspace. */
static int v1_workspace(struct trit_adopted *a, uint32_t d, const struct trit_matmul *op,
                        uint64_t *bytes, char *err, size_t errlen)
{
	*bytes = 0;
	if (!a->t.matmul_workspace)
		return 0;
	return ended(a->t.matmul_workspace(a->state, d, op, bytes, err, errlen),
	             err, errlen);
}

static int h_graph_workspace(void *s, uint32_t d, const struct trit_graph *g,
                             uint64_t *bytes, char *err, size_t errlen)
{
	struct trit_adopted *a = A(s);
	int rc = check_graph(a, d, g, err, errlen);

	*bytes = 0;
	if (rc)
		return rc;
	if (a->t.graph_workspace)
		return ended(a->t.graph_workspace(a->state, d, g, bytes, err, errlen),
		             err, errlen);
	if (a->t.graph_compute)
		return 0; /* its graph_compute() declared no need */
	for (uint32_t i = 0; i < g->n_nodes; i++) {
		struct trit_matmul op;
		uint64_t need;
		if (g->nodes[i].op != TRIT_OP_MATMUL)
			continue;
		node_matmul(&g->nodes[i], g, &op);
		if ((rc = v1_workspace(a, d, &op, &need, err, errlen)))
			return rc;
		if (need > *bytes)
			*bytes = need;
	}
	return 0;
}

/* One MATMUL node through the v1 matmul(), with the graph's workspace. */
static int v1_node(struct trit_adopted *a, uint32_t d, const struct trit_graph *g, uint32_t i,
                   char *err, size_t errlen)
{
	const struct trit_node *n = &g->nodes[i];
	struct trit_matmul op;
	uint64_t need;
	char why[1024] = "";
	int rc;

	node_matmul(n, g, &op);
	if (!(rc = v1_workspace(a, d, &op, &need, why, sizeof why)) && need &&
	    (!g->workspace || need > g->workspace_size))
		return trit_errf(err, errlen, TRIT_EINVAL, "node %u (%s): matmul needs %llu bytes "
		                 "of workspace; the graph gives %llu", i, node_name(n),
		                 (unsigned long long)need,
		                 (unsigned long long)(g->workspace ? g->workspace_size : 0));
	if (!rc && need) {
		op.workspace = g->workspace;
		op.workspace_offset = g->workspace_offset;
	}
	if (!rc)
		rc = ended(a->t.matmul(a->state, d, &op, why, sizeof why), why, sizeof why);
	return rc ? trit_errf(err, errlen, rc, "node %u (%s): %s", i, node_name(n),
	                      why[0] ? why : "matmul failed without a reason") : 0;
}

static int h_graph_compute(void *s, uint32_t d, const struct trit_graph *g,
                           char *err, size_t errlen)
{
	struct trit_adopted *a = A(s);
	int rc = check_graph(a, d, g, err, errlen);

	if (rc || (rc = check_nodes(a, d, g, err, errlen)))
		return rc;
	if (a->t.graph_compute)
		return ended(a->t.graph_compute(a->state, d, g, err, errlen), err, errlen);
	for (uint32_t i = 0; i < g->n_nodes && !rc; i++)
		if (g->nodes[i].op == TRIT_OP_MATMUL)
			rc = v1_node(a, d, g, i, err, errlen);
	return rc;
}

/* A v2-only plugin's matmul: the one-node graph. */
static int graph_matmul(struct trit_adopted *a, uint32_t d, const struct trit_matmul *op,
                        uint64_t *ws_bytes, char *err, size_t errlen)
{
	struct trit_node n;
	struct trit_graph g = { .struct_size = sizeof g, .n_nodes = 1, .nodes = &n };
	uint64_t need = 0;
	int rc = matmul_node(op, &n, err, errlen);

	if (rc)
		return rc;
	g.n_threads = op->n_threads;
	if (!h_supports_op(a, d, &n))
		return trit_errf(err, errlen, TRIT_EUNSUPPORTED, "device %s of backend %s does not "
		                 "run a %s matmul of %llux%llu", a->devices[d].id, a->name,
		                 trit_type_traits(op->weight_type)->name,
		                 (unsigned long long)op->rows, (unsigned long long)op->cols);
	if (a->t.graph_workspace &&
	    (rc = ended(a->t.graph_workspace(a->state, d, &g, &need, err, errlen), err, errlen)))
		return rc;
	if (ws_bytes) {
		*ws_bytes = need;
		return 0;
	}
	if (need && !op->workspace)
		return trit_errf(err, errlen, TRIT_EINVAL, "matmul needs %llu bytes of workspace "
		                 "and none was given", (unsigned long long)need);
	g.workspace = need ? op->workspace : NULL;
	g.workspace_offset = op->workspace_offset;
	g.workspace_size = need;
	return ended(a->t.graph_compute(a->state, d, &g, err, errlen), err, errlen);
}

static int h_matmul_workspace(void *s, uint32_t d, const struct trit_matmul *op,
                              uint64_t *bytes, char *err, size_t errlen)
{
	struct trit_adopted *a = A(s);
	int rc = bad_device(a, d, err, errlen);

	*bytes = 0;
	if (rc)
		return rc;
	if (a->t.matmul_workspace)
		return ended(a->t.matmul_workspace(a->state, d, op, bytes, err, errlen),
		             err, errlen);
	if (!a->t.matmul && a->t.graph_compute)
		return graph_matmul(a, d, op, bytes, err, errlen);
	return absent(a, "matmul_workspace", "has no matmul kernels", err, errlen);
}

static int h_matmul(void *s, uint32_t d, const struct trit_matmul *op, char *err, size_t errlen)
{
	struct trit_adopted *a = A(s);
	int rc = bad_device(a, d, err, errlen);

	if (rc)
		return rc;
	if (a->t.matmul)
		return ended(a->t.matmul(a->state, d, op, err, errlen), err, errlen);
	if (a->t.graph_compute)
		return graph_matmul(a, d, op, NULL, err, errlen);
	return absent(a, "matmul", "has no matmul kernels", err, errlen);
}

/* ------------------------------------------------------------------------ */
/* Asynchronous graphs: the plugin's own, or graph_compute() and a           */
/* completed host-side event.                                                */

static int h_graph_submit(void *s, uint32_t d, const struct trit_graph *g,
                          struct trit_event **ev, char *err, size_t errlen)
{
	struct trit_adopted *a = A(s);
	struct host_event *e;
	int rc;

	*ev = NULL;
	if (a->async) {
		if ((rc = check_graph(a, d, g, err, errlen)) || (rc = check_nodes(a, d, g, err, errlen)))
			return rc;
		return ended(a->t.graph_submit(a->state, d, g, ev, err, errlen), err, errlen);
	}
	if (!(e = calloc(1, sizeof *e)))
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory for an event");
	e->rc = h_graph_compute(s, d, g, e->msg, sizeof e->msg);
	*ev = (struct trit_event *)e;
	return 0;
}

static int h_event_wait(void *s, struct trit_event *ev, char *err, size_t errlen)
{
	struct trit_adopted *a = A(s);
	const struct host_event *e = (const struct host_event *)ev;

	if (!ev)
		return trit_errf(err, errlen, TRIT_EINVAL, "backend %s: event_wait without an event",
		                 a->name);
	if (a->async)
		return ended(a->t.event_wait(a->state, ev, err, errlen), err, errlen);
	return e->rc ? trit_errf(err, errlen, e->rc, "%s", e->msg) : 0;
}

static void h_event_free(void *s, struct trit_event *ev)
{
	struct trit_adopted *a = A(s);

	if (ev && a->async)
		a->t.event_free(a->state, ev);
	else
		free(ev);
}

/* ------------------------------------------------------------------------ */

int trit_adopt_text_ok(const char *s)
{
	return !s || strnlen(s, TRIT_ADOPT_MAX_TEXT) < TRIT_ADOPT_MAX_TEXT;
}

void trit_adopt_entries(struct trit_adopted *a, const struct trit_backend *t)
{
	size_t cap = t->abi_version < 2 ? TRIT_ADOPT_V1_TABLE_SIZE : sizeof a->t;
	size_t n = t->struct_size < cap ? t->struct_size : cap;

	/* Past the two leading uint32_t every field is a pointer: copy whole
	 * ones only, so an odd struct_size cannot leave half an address. */
	n -= n % sizeof(void *);
	memset(&a->t, 0, sizeof a->t);
	memcpy(&a->t, t, n);
	a->async = a->t.graph_submit && a->t.event_wait && a->t.event_free;
}

void trit_adopt_table(struct trit_backend *h, const struct trit_adopted *a)
{
	memset(h, 0, sizeof *h);
	h->abi_version = TRIT_BACKEND_ABI_VERSION;
	h->struct_size = sizeof *h;
	h->name = a->t.name;
	h->version = a->t.version;
	h->description = a->t.description;
	h->device_count = h_device_count;
	h->device_get = h_device_get;
	h->device_update = h_device_update;
	h->buffer_alloc = h_buffer_alloc;
	h->buffer_free = h_buffer_free;
	h->buffer_write = h_buffer_write;
	h->buffer_read = h_buffer_read;
	h->matmul_workspace = h_matmul_workspace;
	h->matmul = h_matmul;
	h->get_memory = h_get_memory;
	h->buffer_limits = h_buffer_limits;
	h->buffer_from_host_ptr = h_buffer_from_host_ptr;
	h->buffer_host_ptr = h_buffer_host_ptr;
	h->buffer_copy = h_buffer_copy;
	h->supports_op = h_supports_op;
	h->graph_workspace = h_graph_workspace;
	h->graph_compute = h_graph_compute;
	h->graph_submit = h_graph_submit;
	h->event_wait = h_event_wait;
	h->event_free = h_event_free;
	h->extension = h_extension;
}
