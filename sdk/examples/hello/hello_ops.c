/*
 * hello_ops.c - the few graph ops the example backend runs: ADD, MUL, SCALE
 * and RMS_NORM on contiguous F32 tensors (ADD and MUL on operands of the same
 * shape: no broadcasting). supports_op() says no to everything else, and
 * trit runs those nodes on its CPU fallback instead; a real backend grows
 * this list op by op, each checked with trit-conformance.
 */
#include <math.h>
#include <string.h>

#include "hello.h"

static int is_contiguous_f32(const struct trit_tensor *t)
{
	uint64_t stride = sizeof(float);

	if (t->type != TRIT_TYPE_F32)
		return 0;
	for (int i = 0; i < TRIT_MAX_DIMS; i++) {
		if (t->ne[i] == 0 || t->nb[i] != stride)
			return 0;
		stride *= t->ne[i];
	}
	return 1;
}

static int same_shape(const struct trit_tensor *a, const struct trit_tensor *b)
{
	return memcmp(a->ne, b->ne, sizeof a->ne) == 0;
}

static uint64_t n_elems(const struct trit_tensor *t)
{
	return t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
}

int hello_supports_op(void *state, uint32_t device, const struct trit_node *n)
{
	const struct trit_tensor *d = &n->dst, *x = &n->src[0], *y = &n->src[1];

	(void)state;
	if (device != 0 || !is_contiguous_f32(d) || !is_contiguous_f32(x) || !same_shape(d, x))
		return 0;
	switch (n->op) {
	case TRIT_OP_ADD:
	case TRIT_OP_MUL:
		return is_contiguous_f32(y) && same_shape(x, y);
	case TRIT_OP_SCALE:
		return 1;
	case TRIT_OP_RMS_NORM: /* the weight, when present, is one row */
		return !y->buffer || (is_contiguous_f32(y) && n_elems(y) == x->ne[0]);
	default:
		return 0;
	}
}

int hello_graph_workspace(void *state, uint32_t device, const struct trit_graph *graph,
                          uint64_t *bytes, char *err, size_t errlen)
{
	(void)state;
	(void)device;
	(void)graph;
	(void)err;
	(void)errlen;
	*bytes = 0;
	return 0;
}

/* The host address of a tensor after checking it lies inside its buffer. */
static float *tensor_data(const struct trit_tensor *t, char *err, size_t errlen)
{
	uint64_t size = n_elems(t) * sizeof(float), have = hello_buffer_size(t->buffer);

	if (!t->buffer || t->offset > have || size > have - t->offset) {
		snprintf(err, errlen, "tensor of %llu bytes at offset %llu lies outside its %llu-byte buffer",
		         (unsigned long long)size, (unsigned long long)t->offset,
		         (unsigned long long)have);
		return NULL;
	}
	return (float *)((unsigned char *)hello_buffer_host_ptr(NULL, t->buffer) + t->offset);
}

static void rms_norm(float *d, const float *x, const float *w, uint64_t ne0, uint64_t rows,
                     float eps)
{
	for (uint64_t r = 0; r < rows; r++, x += ne0, d += ne0) {
		double sum = 0.0;
		for (uint64_t i = 0; i < ne0; i++)
			sum += (double)x[i] * x[i];
		float k = 1.0f / sqrtf((float)(sum / (double)ne0) + eps);
		for (uint64_t i = 0; i < ne0; i++)
			d[i] = x[i] * k * (w ? w[i] : 1.0f);
	}
}

static int run_node(const struct trit_node *n, char *err, size_t errlen)
{
	float *d = tensor_data(&n->dst, err, errlen), *x = tensor_data(&n->src[0], err, errlen);
	float *y = n->src[1].buffer ? tensor_data(&n->src[1], err, errlen) : NULL;
	uint64_t count = n_elems(&n->dst);

	if (!d || !x || (n->src[1].buffer && !y))
		return TRIT_ERANGE;
	switch (n->op) {
	case TRIT_OP_ADD:
		for (uint64_t i = 0; i < count; i++)
			d[i] = x[i] + y[i];
		return 0;
	case TRIT_OP_MUL:
		for (uint64_t i = 0; i < count; i++)
			d[i] = x[i] * y[i];
		return 0;
	case TRIT_OP_SCALE:
		for (uint64_t i = 0; i < count; i++)
			d[i] = x[i] * n->fparams[0];
		return 0;
	case TRIT_OP_RMS_NORM:
		rms_norm(d, x, y, n->dst.ne[0], count / n->dst.ne[0], n->fparams[0]);
		return 0;
	default:
		snprintf(err, errlen, "op %u is not one hello runs", n->op);
		return TRIT_EUNSUPPORTED;
	}
}

int hello_graph_compute(void *state, uint32_t device, const struct trit_graph *graph,
                        char *err, size_t errlen)
{
	for (uint32_t i = 0; i < graph->n_nodes; i++) {
		const struct trit_node *n = &graph->nodes[i];
		char why[256] = "";
		int rc = hello_supports_op(state, device, n) ? run_node(n, why, sizeof why)
		                                            : TRIT_EUNSUPPORTED;
		if (rc) {
			snprintf(err, errlen, "node %u (%s): %s", i, n->name ? n->name : "unnamed",
			         why[0] ? why : "not an op hello runs");
			return rc;
		}
	}
	return 0;
}
