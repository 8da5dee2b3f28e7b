/*
 * run.c - one case on one device: allocate each operand in the device's own
 * buffers, upload with buffer_write, run the node, download the outputs with
 * buffer_read. Through a registry every table entry is callable and v1
 * plugins are wrapped already; a table used stand-alone (a plugin's sources
 * linked into a test, no registry) may lack the v2 entries, and then a
 * contiguous F32 MATMUL runs through the v1 matmul() the same way.
 */
#include <stdlib.h>
#include <string.h>

#include "conformance.h"

static int contiguous_f32(const struct trit_tensor *t)
{
	return t->type == TRIT_TYPE_F32 && t->nb[0] == 4 && t->nb[1] == 4 * t->ne[0] &&
	       t->ne[2] == 1 && t->ne[3] == 1;
}

/* Whether a table without supports_op() runs the node through matmul(). */
static int v1_supports(const struct cf_backend *b, const struct trit_node *n)
{
	const struct trit_device *dev = b->be->device_get(b->state, b->device);
	uint32_t w = n->src[0].type;

	return n->op == TRIT_OP_MATMUL && dev && b->be->matmul && w < 64 &&
	       (dev->matmul_types & TRIT_TYPE_BIT(w)) && !n->src[2].buffer && !n->src[2].ne[0] &&
	       contiguous_f32(&n->src[1]) && contiguous_f32(&n->dst) &&
	       (w != TRIT_TYPE_F32 || n->src[0].nb[1] == 4 * n->src[0].ne[0]);
}

int cf_supports(const struct cf_backend *b, const struct trit_node *n)
{
	if (n->op == CF_OP_BUFFER)
		return b->be->buffer_alloc != NULL;
	if (b->be->supports_op)
		return b->be->supports_op(b->state, b->device, n) == 1;
	return v1_supports(b, n);
}

/* Allocate `bytes` of scratch on the device (NULL when 0). */
static int scratch(const struct cf_backend *b, uint64_t bytes, struct trit_buffer **ws,
                   char *err, size_t errlen)
{
	*ws = NULL;
	return bytes ? b->be->buffer_alloc(b->state, b->device, bytes, ws, err, errlen) : 0;
}

static int v1_compute(const struct cf_backend *b, const struct trit_node *n, char *err, size_t errlen)
{
	struct trit_matmul op = { 0 };
	uint64_t bytes = 0;
	int rc;

	op.struct_size = sizeof op;
	op.weight_type = n->src[0].type;
	op.rows = n->src[0].ne[1];
	op.cols = n->src[0].ne[0];
	op.tokens = n->src[1].ne[1];
	op.weights = n->src[0].buffer, op.weights_offset = n->src[0].offset;
	op.input = n->src[1].buffer, op.input_offset = n->src[1].offset;
	op.output = n->dst.buffer, op.output_offset = n->dst.offset;
	if (b->be->matmul_workspace &&
	    (rc = b->be->matmul_workspace(b->state, b->device, &op, &bytes, err, errlen)))
		return rc;
	if ((rc = scratch(b, bytes, &op.workspace, err, errlen)))
		return rc;
	rc = b->be->matmul(b->state, b->device, &op, err, errlen);
	if (op.workspace)
		b->be->buffer_free(b->state, op.workspace);
	return rc;
}

int cf_compute(const struct cf_backend *b, const struct trit_node *n, char *err, size_t errlen)
{
	struct trit_graph g = { 0 };
	uint64_t bytes = 0;
	int rc;

	if (!b->be->graph_compute)
		return v1_compute(b, n, err, errlen);
	g.struct_size = sizeof g;
	g.n_nodes = 1;
	g.nodes = n;
	if (b->be->graph_workspace &&
	    (rc = b->be->graph_workspace(b->state, b->device, &g, &bytes, err, errlen)))
		return rc;
	if ((rc = scratch(b, bytes, &g.workspace, err, errlen)))
		return rc;
	g.workspace_size = bytes;
	rc = b->be->graph_compute(b->state, b->device, &g, err, errlen);
	if (g.workspace)
		b->be->buffer_free(b->state, g.workspace);
	return rc;
}

/* The BUFFER pseudo-op: src bytes into dst through buffer_copy (or a read
 * and a write when the table has none), at the operands' offsets. */
static int buffer_case(const struct cf_backend *b, const struct cf_setup *s,
                       struct trit_buffer *const *buf, char *err, size_t errlen)
{
	uint64_t n = cf_tensor_span(&s->o[1].t);
	unsigned char *tmp;
	int rc;

	if (b->be->buffer_copy)
		return b->be->buffer_copy(b->state, buf[0], s->o[0].t.offset, buf[1], s->o[1].t.offset,
		                          n, err, errlen);
	if (!(tmp = malloc((size_t)n)))
		return TRIT_ENOMEM;
	rc = b->be->buffer_read(b->state, buf[1], s->o[1].t.offset, tmp, n, err, errlen);
	if (!rc)
		rc = b->be->buffer_write(b->state, buf[0], s->o[0].t.offset, tmp, n, err, errlen);
	free(tmp);
	return rc;
}

static int upload(const struct cf_backend *b, const struct cf_setup *s, struct trit_buffer **buf,
                  struct trit_node *node, char *err, size_t errlen)
{
	for (int i = 0; i < CF_MAX_OPERANDS; i++) {
		const struct cf_operand *o = &s->o[i];
		struct trit_tensor *t = i ? &node->src[i - 1] : &node->dst;
		int rc;

		if (!o->used || o->alias)
			continue;
		if ((rc = b->be->buffer_alloc(b->state, b->device, o->bytes, &buf[i], err, errlen)) ||
		    (rc = b->be->buffer_write(b->state, buf[i], 0, o->init, o->bytes, err, errlen)))
			return rc;
		*t = o->t;
		t->buffer = buf[i];
	}
	if (s->o[0].alias)
		node->dst = node->src[0];
	return 0;
}

int cf_run(const struct cf_backend *b, const struct cf_setup *s, struct cf_result *r,
           char *err, size_t errlen)
{
	struct trit_buffer *buf[CF_MAX_OPERANDS] = { 0 };
	struct trit_node node = s->node;
	int rc = upload(b, s, buf, &node, err, errlen);

	memset(r, 0, sizeof *r);
	if (!rc)
		rc = s->node.op == CF_OP_BUFFER ? buffer_case(b, s, buf, err, errlen)
		                                : cf_compute(b, &node, err, errlen);
	for (int i = 0; !rc && i < CF_MAX_OPERANDS; i++) {
		struct trit_buffer *from = s->o[i].alias ? buf[1] : buf[i];
		if (!s->o[i].output)
			continue;
		if (!(r->out[i] = malloc((size_t)s->o[i].bytes)))
			rc = TRIT_ENOMEM;
		else
			rc = b->be->buffer_read(b->state, from, 0, r->out[i], s->o[i].bytes, err, errlen);
	}
	for (int i = 0; i < CF_MAX_OPERANDS; i++)
		if (buf[i])
			b->be->buffer_free(b->state, buf[i]);
	if (rc == TRIT_ENOMEM && err && errlen && !err[0])
		snprintf(err, errlen, "out of host memory");
	return rc;
}

void cf_result_free(struct cf_result *r)
{
	for (int i = 0; i < CF_MAX_OPERANDS; i++)
		free(r->out[i]);
	memset(r, 0, sizeof *r);
}
