/*
 * wrong_ops.c - a deliberately wrong ABI v2 test backend ("test_wrong") for
 * tests/conformance.sh: its I2_S MATMUL never writes the last output row
 * (the last element of each token's column of dst), and its ADD adds the
 * wrong y element to the last element of x. trit-conformance must fail both
 * and name the op; everything else here (buffers, supports_op, the graph
 * call) is correct, so the failures are the kernels' alone.
 */
#define trit_backend_entry wrong_ops_LTX_trit_backend_entry

#include <stdlib.h>
#include <string.h>

#include <trit/backend.h>
#include <trit/ternary.h>

struct trit_buffer {
	uint64_t size;
	unsigned char *data;
};

struct state {
	struct trit_device dev;
};

static int w_init(const struct trit_host *host, void **out, char *err, size_t errlen)
{
	struct state *s = calloc(1, sizeof *s);

	(void)host;
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return TRIT_ENOMEM;
	}
	s->dev.struct_size = sizeof s->dev;
	s->dev.kind = TRIT_DEVICE_CPU;
	s->dev.id = "wrong0";
	s->dev.name = "deliberately wrong kernels";
	s->dev.matmul_types = TRIT_TYPE_BIT(TRIT_TYPE_I2_S);
	*out = s;
	return 0;
}

static void w_shutdown(void *st) { free(st); }
static uint32_t w_count(void *st) { (void)st; return 1; }
static const struct trit_device *w_get(void *st, uint32_t i)
{
	return i == 0 ? &((struct state *)st)->dev : NULL;
}

static int w_alloc(void *st, uint32_t dev, uint64_t size, struct trit_buffer **out,
                   char *err, size_t errlen)
{
	struct trit_buffer *b = calloc(1, sizeof *b);

	(void)st, (void)dev;
	if (!b || !(b->data = malloc(size ? (size_t)size : 1))) {
		free(b);
		snprintf(err, errlen, "out of memory allocating %llu bytes", (unsigned long long)size);
		return TRIT_ENOMEM;
	}
	b->size = size;
	*out = b;
	return 0;
}

static void w_free(void *st, struct trit_buffer *b)
{
	(void)st;
	if (b)
		free(b->data);
	free(b);
}

static int w_range(const struct trit_buffer *b, uint64_t off, uint64_t size, char *err, size_t errlen)
{
	if (off > b->size || size > b->size - off) {
		snprintf(err, errlen, "range outside the %llu-byte buffer", (unsigned long long)b->size);
		return TRIT_ERANGE;
	}
	return 0;
}

static int w_write(void *st, struct trit_buffer *b, uint64_t off, const void *src, uint64_t size,
                   char *err, size_t errlen)
{
	int rc = w_range(b, off, size, err, errlen);
	(void)st;
	if (!rc)
		memcpy(b->data + off, src, (size_t)size);
	return rc;
}

static int w_read(void *st, struct trit_buffer *b, uint64_t off, void *dst, uint64_t size,
                  char *err, size_t errlen)
{
	int rc = w_range(b, off, size, err, errlen);
	(void)st;
	if (!rc)
		memcpy(dst, b->data + off, (size_t)size);
	return rc;
}

static int contiguous_f32(const struct trit_tensor *t)
{
	return t->type == TRIT_TYPE_F32 && t->nb[0] == 4 && t->nb[1] == 4 * t->ne[0] &&
	       t->nb[2] == t->nb[1] * t->ne[1] && t->ne[3] == 1;
}

static int w_supports(void *st, uint32_t dev, const struct trit_node *n)
{
	(void)st, (void)dev;
	if (n->op == TRIT_OP_MATMUL)
		return n->src[0].type == TRIT_TYPE_I2_S && contiguous_f32(&n->src[1]) &&
		       contiguous_f32(&n->dst) && !n->src[2].ne[0] && n->src[1].ne[2] == 1;
	if (n->op == TRIT_OP_ADD)
		return contiguous_f32(&n->src[0]) && contiguous_f32(&n->src[1]) && contiguous_f32(&n->dst) &&
		       !memcmp(n->src[0].ne, n->src[1].ne, sizeof n->src[0].ne);
	return 0;
}

static float *f32(const struct trit_tensor *t)
{
	return (float *)(void *)(t->buffer->data + t->offset);
}

/* Correct but for the last row of every token, which it leaves unwritten. */
static void w_matmul(const struct trit_node *n)
{
	uint64_t k = n->src[0].ne[0], m = n->src[0].ne[1], tokens = n->src[1].ne[1];
	const unsigned char *w = n->src[0].buffer->data + n->src[0].offset;
	struct trit_ternary_geometry g;
	int8_t *q = malloc((size_t)k);

	if (!q || trit_ternary_geometry(TRIT_TYPE_I2_S, m, k, &g)) {
		free(q);
		return;
	}
	for (uint64_t t = 0; t < tokens; t++) {
		float s = trit_quantize_act(f32(&n->src[1]) + t * k, k, q);
		for (uint64_t r = 0; r + 1 < m; r++) {
			int32_t dot = 0;
			for (uint64_t i = 0; i < k; i++)
				dot += trit_ternary_get(TRIT_TYPE_I2_S, &g, w, r, i) * q[i];
			f32(&n->dst)[t * m + r] = trit_ternary_output(dot, s, trit_ternary_scale(w, g.data_bytes));
		}
	}
	free(q);
}

/* Off by one: the last element adds y's element before it. */
static void w_add(const struct trit_node *n)
{
	uint64_t count = n->src[0].ne[0] * n->src[0].ne[1] * n->src[0].ne[2];
	const float *x = f32(&n->src[0]), *y = f32(&n->src[1]);

	for (uint64_t i = 0; i < count; i++)
		f32(&n->dst)[i] = x[i] + y[i + 1 == count && i ? i - 1 : i];
}

static int w_compute(void *st, uint32_t dev, const struct trit_graph *g, char *err, size_t errlen)
{
	for (uint32_t i = 0; i < g->n_nodes; i++) {
		if (!w_supports(st, dev, &g->nodes[i])) {
			snprintf(err, errlen, "node %u: not supported", i);
			return TRIT_EUNSUPPORTED;
		}
		if (g->nodes[i].op == TRIT_OP_MATMUL)
			w_matmul(&g->nodes[i]);
		else
			w_add(&g->nodes[i]);
	}
	return 0;
}

static int w_workspace(void *st, uint32_t dev, const struct trit_graph *g, uint64_t *bytes,
                       char *err, size_t errlen)
{
	(void)st, (void)dev, (void)g, (void)err, (void)errlen;
	*bytes = 0;
	return 0;
}

static const struct trit_backend backend = {
	.abi_version = TRIT_BACKEND_ABI_VERSION,
	.struct_size = sizeof(struct trit_backend),
	.name = "test_wrong",
	.version = "1",
	.description = "deliberately wrong kernels for trit-conformance's own test",
	.init = w_init,
	.shutdown = w_shutdown,
	.device_count = w_count,
	.device_get = w_get,
	.buffer_alloc = w_alloc,
	.buffer_free = w_free,
	.buffer_write = w_write,
	.buffer_read = w_read,
	.supports_op = w_supports,
	.graph_workspace = w_workspace,
	.graph_compute = w_compute,
};

TRIT_EXPORT const struct trit_backend *trit_backend_entry(void)
{
	return &backend;
}
