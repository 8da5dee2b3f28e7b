/*
 * shrink.c - an ABI v2 GPU-kind backend ("test_shrink") whose memory shrinks
 * between the probe and the load, as when another process takes a GPU's
 * memory after trit planned: device_get() reports probe_free bytes free at
 * init, while get_memory(), buffer_alloc() and device_update() count against
 * `free` bytes. With `largest` set its memory is also fragmented: no single
 * buffer larger than that is allocated although get_memory() counts all that
 * is free, and device_update() reports the largest block as what is free.
 * With `bad_update` = 1 device_update() reports more free than total memory,
 * a report the host must not plan on. Settings of [plugin.test_shrink] (or
 * TRIT_PLUGIN_TEST_SHRINK_<KEY>), in bytes unless said. It drives trit run's re-plan at load (tests/replan.sh). Buffers are host memory (hostmem.h); it runs
 * dense F32 GET_ROWS, RMS_NORM and MATMUL itself and leaves every other op
 * to the CPU fallback through host-visible buffers.
 */
#include <errno.h>
#include <math.h>

#include "hostmem.h"

struct state {
	struct trit_device dev;
	uint64_t limit;         /* bytes it really holds (setting `free`) */
	uint64_t used;          /* bytes of its live buffers */
	uint64_t largest;       /* largest single buffer (setting `largest`) */
	uint64_t bad_update;    /* 1: device_update reports free > total */
};

/* A setting as a byte count: decimal digits only. 0 when valid. */
static int bytes_setting(const struct trit_host *h, const char *key, uint64_t def,
                         uint64_t *out, char *err, size_t errlen)
{
	const char *v = h->config_get(h->ctx, key);
	char *end;
	unsigned long long x;

	*out = def;
	if (!v)
		return 0;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (!*v || *v == '-' || *end || errno) {
		snprintf(err, errlen, "%s: %s = '%s' is not a byte count (decimal digits)",
		         h->config_where(h->ctx, key), key, v);
		return TRIT_ECONFIG;
	}
	*out = x;
	return 0;
}

static int check_keys(const struct trit_host *h, char *err, size_t errlen)
{
	const char *k;

	for (uint32_t i = 0; (k = h->config_key(h->ctx, i)); i++)
		if (strcmp(k, "free") && strcmp(k, "probe_free") && strcmp(k, "largest") &&
		    strcmp(k, "bad_update")) {
			snprintf(err, errlen, "%s: %s: test_shrink understands only free, probe_free, "
			         "largest and bad_update",
			         h->config_where(h->ctx, k), k);
			return TRIT_ECONFIG;
		}
	return 0;
}

/* What can be allocated now: the free bytes, at most one largest block. */
static void set_free(struct state *s)
{
	uint64_t fr = s->limit - s->used;

	s->dev.mem_free.value = fr < s->largest ? fr : s->largest;
	s->dev.mem_free.state = TRIT_VALUE_DERIVED;
	s->dev.mem_free.source = "the free setting less the bytes of live buffers, at most the "
	                         "largest setting";
}

static int s_init(const struct trit_host *h, void **out, char *err, size_t errlen)
{
	struct state *s = calloc(1, sizeof *s);
	uint64_t probe;
	int rc;

	if (!s)
		return TRIT_ENOMEM;
	if ((rc = check_keys(h, err, errlen)) ||
	    (rc = bytes_setting(h, "probe_free", UINT64_C(8) << 30, &probe, err, errlen)) ||
	    (rc = bytes_setting(h, "free", UINT64_C(64) << 10, &s->limit, err, errlen)) ||
	    (rc = bytes_setting(h, "largest", UINT64_MAX, &s->largest, err, errlen)) ||
	    (rc = bytes_setting(h, "bad_update", 0, &s->bad_update, err, errlen))) {
		free(s);
		return rc;
	}
	if (s->limit > probe)
		s->limit = probe; /* free never exceeds total */
	s->dev.struct_size = sizeof s->dev;
	s->dev.kind = TRIT_DEVICE_GPU;
	s->dev.id = "shrink0";
	s->dev.name = "test device whose memory shrinks after the probe";
	s->dev.mem_total = (struct trit_value){ .value = probe, .state = TRIT_VALUE_CONFIGURED,
	                                        .source = "[plugin.test_shrink] probe_free" };
	s->dev.mem_free = s->dev.mem_total;
	s->dev.mem_bandwidth.source = "not measured by the test device";
	s->dev.matmul_types = TRIT_TYPE_BIT(TRIT_TYPE_F32);
	*out = s;
	return 0;
}

static void s_shutdown(void *s) { free(s); }
static uint32_t s_count(void *s) { return 1; }
static const struct trit_device *s_get(void *s, uint32_t i)
{
	return i == 0 ? &((struct state *)s)->dev : NULL;
}

static int s_update(void *st, uint32_t d, char *err, size_t errlen)
{
	if (d != 0) {
		snprintf(err, errlen, "test_shrink has one device (0), not %u", d);
		return TRIT_EINVAL;
	}
	set_free(st);
	if (((struct state *)st)->bad_update)
		((struct state *)st)->dev.mem_free.value = ((struct state *)st)->dev.mem_total.value + 1;
	return 0;
}

static int s_get_memory(void *st, uint32_t d, uint64_t *fr, uint64_t *tot, char *err,
                        size_t errlen)
{
	struct state *s = st;

	if (d != 0) {
		snprintf(err, errlen, "test_shrink has one device (0), not %u", d);
		return TRIT_EINVAL;
	}
	*fr = s->limit - s->used;
	*tot = s->dev.mem_total.value;
	return 0;
}

static int s_alloc(void *st, uint32_t d, uint64_t size, struct trit_buffer **out, char *err,
                   size_t errlen)
{
	struct state *s = st;
	int rc;

	if (size > s->limit - s->used || size > s->largest) {
		snprintf(err, errlen, "test_shrink allocates at most %llu bytes in one buffer "
		         "(setting largest)", (unsigned long long)s->largest);
		if (size > s->limit - s->used)
			snprintf(err, errlen, "test_shrink holds %llu bytes more (setting free)",
			         (unsigned long long)(s->limit - s->used));
		return TRIT_ENOMEM;
	}
	if ((rc = hm_alloc(st, d, size, out, err, errlen)))
		return rc;
	s->used += size;
	return 0;
}

static void s_free(void *st, struct trit_buffer *b)
{
	struct state *s = st;

	if (b)
		s->used -= b->size;
	hm_free(st, b);
}

/* Host-visible, but no wrapping of host memory: weights are copied, so the
 * loader checks get_memory() before it allocates them. */
static int s_limits(void *st, uint32_t d, struct trit_buffer_limits *out, char *err,
                    size_t errlen)
{
	if (d != 0 || out->struct_size < sizeof *out) {
		snprintf(err, errlen, "device %u, limits struct of %u bytes", d, out->struct_size);
		return TRIT_EINVAL;
	}
	out->host_visible = 1;
	out->from_host_ptr = 0;
	out->reserved = 0;
	out->alignment = 64;
	out->max_size = (uint64_t)1 << 32; /* hm_alloc's own limit */
	return 0;
}

static void *s_host_ptr(void *st, struct trit_buffer *b)
{
	return b->data;
}

/* F32 [ne0, ne1] with rows back to back. */
static int dense(const struct trit_tensor *t, uint32_t type, uint64_t ne0, uint64_t ne1)
{
	uint64_t es = type == TRIT_TYPE_I32 || type == TRIT_TYPE_F32 ? 4 : 0;
	return t->type == type && t->ne[0] == ne0 && t->ne[1] == ne1 && t->ne[2] == 1 &&
	       t->ne[3] == 1 && t->nb[0] == es && (ne1 == 1 || t->nb[1] == es * ne0);
}

static int s_supports(void *st, uint32_t d, const struct trit_node *n)
{
	const struct trit_tensor *a = &n->src[0], *b = &n->src[1];
	const uint32_t F = TRIT_TYPE_F32;

	if (n->op == TRIT_OP_GET_ROWS)
		return dense(a, F, a->ne[0], a->ne[1]) && dense(b, TRIT_TYPE_I32, b->ne[0], 1) &&
		       dense(&n->dst, F, a->ne[0], b->ne[0]);
	if (n->op == TRIT_OP_RMS_NORM)
		return dense(a, F, a->ne[0], a->ne[1]) && dense(&n->dst, F, a->ne[0], a->ne[1]) &&
		       (!b->buffer || dense(b, F, a->ne[0], 1));
	if (n->op == TRIT_OP_MATMUL)
		return dense(a, F, a->ne[0], a->ne[1]) && dense(b, F, a->ne[0], b->ne[1]) &&
		       dense(&n->dst, F, a->ne[1], b->ne[1]) && !n->src[2].buffer;
	return 0;
}

static int in_range(const struct trit_tensor *t, char *err, size_t errlen)
{
	return !t->buffer ? 0 : hm_range(t->buffer, t->offset, t->ne[0] * t->ne[1] * 4, err, errlen);
}

static int run_get_rows(const struct trit_node *n, char *err, size_t errlen)
{
	const struct trit_tensor *tab = &n->src[0], *ids = &n->src[1];

	for (uint64_t t = 0; t < ids->ne[0]; t++) {
		int32_t id;
		memcpy(&id, ids->buffer->data + ids->offset + t * 4, sizeof id);
		if (id < 0 || (uint64_t)id >= tab->ne[1]) {
			snprintf(err, errlen, "GET_ROWS: id %d outside the %llu-row table", (int)id,
			         (unsigned long long)tab->ne[1]);
			return TRIT_ERANGE;
		}
		memmove(n->dst.buffer->data + n->dst.offset + t * tab->nb[1],
		        tab->buffer->data + tab->offset + (uint64_t)id * tab->nb[1], tab->nb[1]);
	}
	return 0;
}

static void run_rms_norm(const struct trit_node *n)
{
	const struct trit_tensor *x = &n->src[0], *w = &n->src[1];

	for (uint64_t r = 0; r < x->ne[1]; r++) {
		double ss = 0;
		for (uint64_t k = 0; k < x->ne[0]; k++) {
			double v = hm_f32(x->buffer, x->offset + (r * x->ne[0] + k) * 4);
			ss += v * v;
		}
		float inv = (float)(1.0 / sqrt(ss / (double)x->ne[0] + (double)n->fparams[0]));
		for (uint64_t k = 0; k < x->ne[0]; k++) {
			uint64_t o = (r * x->ne[0] + k) * 4;
			float y = hm_f32(x->buffer, x->offset + o) * inv;
			hm_set_f32(n->dst.buffer, n->dst.offset + o,
			           w->buffer ? y * hm_f32(w->buffer, w->offset + k * 4) : y);
		}
	}
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

static int s_compute(void *st, uint32_t d, const struct trit_graph *g, char *err, size_t errlen)
{
	for (uint32_t i = 0; i < g->n_nodes; i++) {
		const struct trit_node *n = &g->nodes[i];
		int rc;
		if (!s_supports(st, d, n)) {
			snprintf(err, errlen, "node %u: not an op this backend runs", i);
			return TRIT_EUNSUPPORTED;
		}
		if ((rc = in_range(&n->src[0], err, errlen)) || (rc = in_range(&n->src[1], err, errlen)) ||
		    (rc = in_range(&n->dst, err, errlen)))
			return rc;
		if (n->op == TRIT_OP_GET_ROWS)
			rc = run_get_rows(n, err, errlen);
		else if (n->op == TRIT_OP_RMS_NORM)
			run_rms_norm(n);
		else
			run_matmul(n);
		if (rc)
			return rc;
	}
	return 0;
}

static const struct trit_backend table = {
	.abi_version = TRIT_BACKEND_ABI_VERSION,
	.struct_size = sizeof(struct trit_backend),
	.name = "test_shrink",
	.version = "2.0.0",
	.description = "GPU-kind test backend with less memory at load than at probe",
	.init = s_init,
	.shutdown = s_shutdown,
	.device_count = s_count,
	.device_get = s_get,
	.device_update = s_update,
	.buffer_alloc = s_alloc,
	.buffer_free = s_free,
	.buffer_write = hm_write,
	.buffer_read = hm_read,
	.get_memory = s_get_memory,
	.buffer_limits = s_limits,
	.buffer_host_ptr = s_host_ptr,
	.supports_op = s_supports,
	.graph_compute = s_compute,
};

TRIT_EXPORT const struct trit_backend *trit_backend_entry(void)
{
	return &table;
}
