/*
 * partial.c - an ABI v2 backend ("test_partial") that runs only some ops:
 * ADD of equal-shape F32 tensors and MATMUL with F32 weights, through
 * graph_compute() (it has no matmul()). Its buffers are host memory and
 * host-visible unless its setting host_visible = 0, so the scheduler's two
 * ways of lending tensors to the CPU fallback can both be tested.
 */
#include "hostmem.h"

struct state {
	struct trit_device dev;
	int host_visible;
};

static int p_init(const struct trit_host *h, void **out, char *err, size_t errlen)
{
	struct state *s = calloc(1, sizeof *s);
	const char *v = h->config_get(h->ctx, "host_visible"), *k = h->config_key(h->ctx, 0);

	if (!s)
		return TRIT_ENOMEM;
	if ((k && strcmp(k, "host_visible") != 0) || (v && strcmp(v, "0") && strcmp(v, "1"))) {
		snprintf(err, errlen, "%s: only host_visible = 0 or 1 is understood",
		         h->config_where(h->ctx, k));
		free(s);
		return TRIT_ECONFIG;
	}
	s->host_visible = !v || strcmp(v, "1") == 0;
	s->dev.struct_size = sizeof s->dev;
	s->dev.kind = TRIT_DEVICE_GPU;
	s->dev.id = "part0";
	s->dev.name = "partial test device";
	s->dev.matmul_types = TRIT_TYPE_BIT(TRIT_TYPE_F32);
	*out = s;
	return 0;
}
static void p_shutdown(void *s) { free(s); }
static uint32_t p_count(void *s) { return 1; }
static const struct trit_device *p_get(void *s, uint32_t i)
{
	return i == 0 ? &((struct state *)s)->dev : NULL;
}

static void *p_host_ptr(void *st, struct trit_buffer *b)
{
	return ((struct state *)st)->host_visible ? b->data : NULL;
}

/* F32 [ne0, ne1] with rows back to back. */
static int dense(const struct trit_tensor *t, uint64_t ne0, uint64_t ne1)
{
	return t->type == TRIT_TYPE_F32 && t->ne[0] == ne0 && t->ne[1] == ne1 && t->ne[2] == 1 &&
	       t->ne[3] == 1 && t->nb[0] == 4 && (ne1 == 1 || t->nb[1] == 4 * ne0);
}

static int p_supports(void *st, uint32_t d, const struct trit_node *n)
{
	const struct trit_tensor *a = &n->src[0], *b = &n->src[1];

	if (n->op == TRIT_OP_ADD)
		return dense(a, a->ne[0], a->ne[1]) && dense(b, a->ne[0], a->ne[1]) &&
		       dense(&n->dst, a->ne[0], a->ne[1]);
	if (n->op == TRIT_OP_MATMUL)
		return dense(a, a->ne[0], a->ne[1]) && dense(b, a->ne[0], b->ne[1]) &&
		       dense(&n->dst, a->ne[1], b->ne[1]) && !n->src[2].ne[0];
	return 0;
}

static int in_range(const struct trit_tensor *t, char *err, size_t errlen)
{
	return hm_range(t->buffer, t->offset, t->ne[0] * t->ne[1] * 4, err, errlen);
}

static void run_add(const struct trit_node *n)
{
	uint64_t cnt = n->dst.ne[0] * n->dst.ne[1];
	for (uint64_t i = 0; i < cnt; i++)
		hm_set_f32(n->dst.buffer, n->dst.offset + i * 4,
		           hm_f32(n->src[0].buffer, n->src[0].offset + i * 4) +
		           hm_f32(n->src[1].buffer, n->src[1].offset + i * 4));
}

static void run_matmul(const struct trit_node *n)
{
	const struct trit_tensor *w = &n->src[0], *x = &n->src[1];
	uint64_t k = w->ne[0], m = w->ne[1], t = x->ne[1];

	for (uint64_t j = 0; j < t; j++)
		for (uint64_t r = 0; r < m; r++) {
			float acc = 0;
			for (uint64_t c = 0; c < k; c++)
				acc += hm_f32(w->buffer, w->offset + (r * k + c) * 4) *
				       hm_f32(x->buffer, x->offset + (j * k + c) * 4);
			hm_set_f32(n->dst.buffer, n->dst.offset + (j * m + r) * 4, acc);
		}
}

static int p_compute(void *st, uint32_t d, const struct trit_graph *g, char *err, size_t errlen)
{
	for (uint32_t i = 0; i < g->n_nodes; i++) {
		const struct trit_node *n = &g->nodes[i];
		int rc;
		if (!p_supports(st, d, n)) {
			snprintf(err, errlen, "node %u: not an op this backend runs", i);
			return TRIT_EUNSUPPORTED;
		}
		if ((rc = in_range(&n->src[0], err, errlen)) || (rc = in_range(&n->src[1], err, errlen)) ||
		    (rc = in_range(&n->dst, err, errlen)))
			return rc;
		if (n->op == TRIT_OP_ADD)
			run_add(n);
		else
			run_matmul(n);
	}
	return 0;
}

static const struct trit_backend table = {
	.abi_version = TRIT_BACKEND_ABI_VERSION,
	.struct_size = sizeof(struct trit_backend),
	.name = "test_partial",
	.version = "2.0.0",
	.description = "ABI v2 backend with ADD and F32 MATMUL only",
	.init = p_init,
	.shutdown = p_shutdown,
	.device_count = p_count,
	.device_get = p_get,
	.buffer_alloc = hm_alloc,
	.buffer_free = hm_free,
	.buffer_write = hm_write,
	.buffer_read = hm_read,
	.buffer_host_ptr = p_host_ptr,
	.supports_op = p_supports,
	.graph_compute = p_compute,
};

TRIT_EXPORT const struct trit_backend *trit_backend_entry(void)
{
	return &table;
}
