/*
 * exec/sched.c - run a device's list of nodes, sending what the device does
 * not support to the CPU fallback (the built-in `ref` backend). It stages
 * or wraps tensors for the fallback; what a node computes is the backends'
 * business, and which nodes a device gets is the planner's.
 */
#include <build-config.h>

#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "exec/sched.h"
#include "exec/tensor.h"

/* Alignment of the host copies the fallback reads (and of a wrapped
 * range's start), enough for any element type and vector load. */
#define STAGE_ALIGN UINT64_C(64)

/* One device buffer as the fallback sees it during one run. */
struct stage {
	struct trit_buffer *dev_buf;
	uint64_t lo, hi;                /* bytes [lo, hi) of dev_buf the run touches */
	unsigned char *dev_host;        /* the device's host address of lo, or NULL */
	unsigned char *bounce;          /* our host copy, unless dev_host is wrapped */
	struct trit_buffer *fb_buf;     /* the fallback's buffer for [lo, hi) */
	int fb_wraps;                   /* fb_buf is dev_host or bounce itself */
	uint32_t node;                  /* the node whose tensor reaches hi, for messages */
};

struct fb_run {
	const struct trit_sched_target *dev, *fb;
	const struct trit_node *orig;   /* the caller's nodes of this run */
	struct trit_node *nodes;        /* rewritten onto fallback buffers */
	uint32_t n;
	uint32_t first;                 /* index of orig[0] in the caller's list */
	struct stage *stages;
	uint32_t n_stages;
};

static const char *node_name(const struct trit_node *n)
{
	return n->name ? n->name : "unnamed";
}

int trit_sched_fallback(struct trit_registry *reg, struct trit_sched_target *out,
                        char *err, size_t errlen)
{
	for (size_t i = 0; i < trit_registry_plugin_count(reg); i++) {
		const struct trit_plugin_info *p = trit_registry_plugin(reg, i);
		void *state = NULL;
		const struct trit_backend *be = trit_registry_backend(reg, i, &state);
		if (!be || strcmp(p->name, "ref") != 0 || p->n_devices == 0)
			continue;
		*out = (struct trit_sched_target){ be, state, 0, "ref/ref0" };
		return 0;
	}
	return trit_errf(err, errlen, TRIT_ENODEV, "no CPU fallback: the built-in backend "
	                 "'ref' is not loaded (was the registry opened without it?)");
}

int trit_sched_place(const struct trit_sched_target *dev, const struct trit_sched_target *fb,
                     const struct trit_node *nodes, uint32_t n, uint8_t *where,
                     struct trit_sched_stats *st, char *err, size_t errlen)
{
	struct trit_sched_stats local = { 0 };

	if (n && !nodes)
		return trit_errf(err, errlen, TRIT_EINVAL, "%u nodes but no node array", n);
	for (uint32_t i = 0; i < n; i++) {
		const struct trit_node *nd = &nodes[i];
		uint8_t w;
		if (nd->op == TRIT_OP_NONE)
			w = TRIT_SCHED_SKIPPED, local.skipped_nodes++;
		else if (dev->be->supports_op(dev->state, dev->device, nd))
			w = TRIT_SCHED_DEVICE, local.device_nodes++;
		else if (fb && fb->be->supports_op(fb->state, fb->device, nd))
			w = TRIT_SCHED_FALLBACK, local.fallback_nodes++;
		else
			return trit_errf(err, errlen, TRIT_EUNSUPPORTED, "node %u (%s): %s runs on "
			                 "neither %s nor %s", i, node_name(nd),
			                 trit_op_name(nd->op) ? trit_op_name(nd->op) : "an unknown op",
			                 dev->name, fb ? fb->name : "a fallback (none given)");
		if (where)
			where[i] = w;
	}
	if (st)
		*st = local;
	return 0;
}

/* One graph_compute() on t with the workspace it asks for. */
static int run_graph(const struct trit_sched_target *t, const struct trit_node *nodes,
                     uint32_t first, uint32_t n, uint32_t n_threads, char *err, size_t errlen)
{
	struct trit_graph g = { .struct_size = sizeof g, .n_nodes = n, .nodes = nodes,
	                        .n_threads = n_threads };
	struct trit_buffer *ws = NULL;
	uint64_t need = 0;
	char why[1024] = "";
	int rc = t->be->graph_workspace(t->state, t->device, &g, &need, why, sizeof why);

	if (!rc && need)
		rc = t->be->buffer_alloc(t->state, t->device, need, &ws, why, sizeof why);
	g.workspace = ws;
	g.workspace_size = ws ? need : 0;
	if (!rc)
		rc = t->be->graph_compute(t->state, t->device, &g, why, sizeof why);
	if (ws)
		t->be->buffer_free(t->state, ws);
	if (rc)
		return trit_errf(err, errlen, rc, "%s, nodes %u to %u (indices in the message count "
		                 "from %u): %s", t->name, first, first + n - 1, first,
		                 why[0] ? why : "no reason given");
	return 0;
}

/* Tensor slot k of a node: 0 is dst, 1..TRIT_NODE_MAX_SRC the sources. */
static const struct trit_tensor *slot(const struct trit_node *n, int k)
{
	return k == 0 ? &n->dst : &n->src[k - 1];
}

/* Whether the op writes the tensor in slot k (dst; QUANTIZE_ACT's scales). */
static int written(const struct trit_node *n, int k)
{
	return k == 0 || (n->op == TRIT_OP_QUANTIZE_ACT && k == 2);
}

static struct stage *find_stage(struct fb_run *r, const struct trit_buffer *b)
{
	for (uint32_t i = 0; i < r->n_stages; i++)
		if (r->stages[i].dev_buf == b)
			return &r->stages[i];
	return NULL;
}

/* Gather the device buffers of the run and the byte range each is used in. */
static int collect_stages(struct fb_run *r, char *err, size_t errlen)
{
	for (uint32_t i = 0; i < r->n; i++)
		for (int k = 0; k <= TRIT_NODE_MAX_SRC; k++) {
			const struct trit_tensor *t = slot(&r->orig[i], k);
			struct stage *s;
			uint64_t bytes;
			char what[96];
			int rc;
			if (!t->buffer)
				continue;
			snprintf(what, sizeof what, "node %u (%s), %s", r->first + i,
			         node_name(&r->orig[i]),
			         k ? "a source" : "dst");
			if ((rc = trit_tensor_span(t, what, &bytes, err, errlen)))
				return rc;
			if (!(s = find_stage(r, t->buffer))) {
				s = &r->stages[r->n_stages++];
				s->dev_buf = t->buffer;
				s->lo = t->offset;
				s->hi = t->offset + bytes;
				s->node = i;
			}
			if (t->offset < s->lo)
				s->lo = t->offset;
			if (t->offset + bytes > s->hi) {
				s->hi = t->offset + bytes;
				s->node = i;
			}
		}
	return 0;
}

/* The device confirms that bytes [lo, hi) lie inside its buffer by reading
 * the last of them: the host knows no buffer's size, and must not lend the
 * fallback memory past a host-visible buffer's end. */
static int check_range(struct fb_run *r, const struct stage *s, char *err, size_t errlen)
{
	unsigned char last;
	char why[512] = "";

	if (s->hi == s->lo ||
	    !r->dev->be->buffer_read(r->dev->state, s->dev_buf, s->hi - 1, &last, 1, why, sizeof why))
		return 0;
	return trit_errf(err, errlen, TRIT_ERANGE, "node %u (%s): its tensors reach byte %llu of a "
	                 "buffer of %s, which refuses it: %s", r->first + s->node, node_name(&r->orig[s->node]),
	                 (unsigned long long)s->hi - 1, r->dev->name, why[0] ? why : "no reason");
}

/* Wrap the device's host memory of stage s for the fallback, starting at an
 * address aligned for it; 0 on success. */
static int wrap_host(struct fb_run *r, struct stage *s, unsigned char *host)
{
	uint64_t mis = (uint64_t)((uintptr_t)(host + s->lo) % STAGE_ALIGN);
	char why[512];

	if (mis > s->lo)
		return -1;
	if (r->fb->be->buffer_from_host_ptr(r->fb->state, r->fb->device, host + s->lo - mis,
	                                    s->hi - s->lo + mis, &s->fb_buf, why, sizeof why))
		return -1;
	s->lo -= mis;
	s->fb_wraps = 1;
	return 0;
}

/* Give the fallback a buffer for stage s: the device's own host memory when
 * it is host-visible and the fallback can wrap it, else a host copy. */
static int open_stage(struct fb_run *r, struct stage *s, struct trit_sched_stats *st,
                      char *err, size_t errlen)
{
	const struct trit_sched_target *dev = r->dev, *fb = r->fb;
	unsigned char *host = dev->be->buffer_host_ptr(dev->state, s->dev_buf);
	uint64_t size;
	char why[512];
	int rc = check_range(r, s, err, errlen);

	if (rc)
		return rc;
	if (host && !wrap_host(r, s, host)) {
		st->wrapped_buffers++;
		return 0;
	}
	st->staged_buffers++;
	s->lo &= ~(STAGE_ALIGN - 1); /* the copy keeps each tensor's alignment */
	size = s->hi - s->lo;
	s->dev_host = host ? host + s->lo : NULL;
	if (size > SIZE_MAX - STAGE_ALIGN ||
	    !(s->bounce = aligned_alloc(STAGE_ALIGN, (size_t)((size + STAGE_ALIGN - 1) &
	                                                      ~(STAGE_ALIGN - 1)))))
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory staging %llu bytes of "
		                 "%s for %s", (unsigned long long)size, dev->name, fb->name);
	if (s->dev_host)
		memcpy(s->bounce, s->dev_host, (size_t)size);
	else if (dev->be->buffer_read(dev->state, s->dev_buf, s->lo, s->bounce, size, why,
	                              sizeof why))
		return trit_errf(err, errlen, TRIT_EIO, "reading %llu bytes of %s to stage them for "
		                 "%s: %s", (unsigned long long)size, dev->name, fb->name, why);
	if (fb->be->buffer_from_host_ptr(fb->state, fb->device, s->bounce, size, &s->fb_buf,
	                                 why, sizeof why) == 0) {
		s->fb_wraps = 1;
		return 0;
	}
	if (fb->be->buffer_alloc(fb->state, fb->device, size, &s->fb_buf, why, sizeof why) ||
	    fb->be->buffer_write(fb->state, s->fb_buf, 0, s->bounce, size, why, sizeof why))
		return trit_errf(err, errlen, TRIT_ENOMEM, "%s: cannot hold %llu staged bytes of "
		                 "%s: %s", fb->name, (unsigned long long)size, dev->name, why);
	return 0;
}

/* Copy what the fallback wrote in tensor t back to the device. */
static int write_back(struct fb_run *r, const struct trit_tensor *t, char *err, size_t errlen)
{
	struct stage *s = find_stage(r, t->buffer);
	uint64_t rel = t->offset - s->lo, bytes;
	char why[512];
	int rc;

	if (!s->bounce)
		return 0; /* the fallback wrote the device's memory itself */
	if ((rc = trit_tensor_span(t, "dst", &bytes, err, errlen)))
		return rc;
	if (!s->fb_wraps && r->fb->be->buffer_read(r->fb->state, s->fb_buf, rel, s->bounce + rel,
	                                            bytes, why, sizeof why))
		return trit_errf(err, errlen, TRIT_EIO, "%s: reading back a result: %s",
		                 r->fb->name, why);
	if (s->dev_host)
		memcpy(s->dev_host + rel, s->bounce + rel, (size_t)bytes);
	else if (r->dev->be->buffer_write(r->dev->state, s->dev_buf, t->offset, s->bounce + rel,
	                                  bytes, why, sizeof why))
		return trit_errf(err, errlen, TRIT_EIO, "%s: writing back the fallback's result: %s",
		                 r->dev->name, why);
	return 0;
}

static void close_stages(struct fb_run *r)
{
	for (uint32_t i = 0; i < r->n_stages; i++) {
		struct stage *s = &r->stages[i];
		if (s->fb_buf)
			r->fb->be->buffer_free(r->fb->state, s->fb_buf);
		free(s->bounce);
	}
}

/* The run's nodes with every tensor moved onto its stage's buffer. */
static void rewrite(struct fb_run *r)
{
	memcpy(r->nodes, r->orig, r->n * sizeof *r->nodes);
	for (uint32_t i = 0; i < r->n; i++)
		for (int k = 0; k <= TRIT_NODE_MAX_SRC; k++) {
			struct trit_tensor *t = k ? &r->nodes[i].src[k - 1] : &r->nodes[i].dst;
			struct stage *s = t->buffer ? find_stage(r, t->buffer) : NULL;
			if (s) {
				t->buffer = s->fb_buf;
				t->offset -= s->lo;
			}
		}
}

static int fallback_run(struct fb_run *r, uint32_t n_threads,
                        struct trit_sched_stats *st, char *err, size_t errlen)
{
	int rc = 0;

	r->nodes = calloc(r->n, sizeof *r->nodes);
	r->stages = calloc((size_t)r->n * (TRIT_NODE_MAX_SRC + 1), sizeof *r->stages);
	if (!r->nodes || !r->stages)
		rc = trit_errf(err, errlen, TRIT_ENOMEM, "out of memory planning the fallback");
	if (!rc)
		rc = collect_stages(r, err, errlen);
	for (uint32_t i = 0; i < r->n_stages && !rc; i++)
		rc = open_stage(r, &r->stages[i], st, err, errlen);
	if (!rc) {
		rewrite(r);
		rc = run_graph(r->fb, r->nodes, r->first, r->n, n_threads, err, errlen);
	}
	for (uint32_t i = 0; i < r->n && !rc; i++)
		for (int k = 0; k <= TRIT_NODE_MAX_SRC && !rc; k++)
			if (written(&r->orig[i], k) && slot(&r->orig[i], k)->buffer)
				rc = write_back(r, slot(&r->orig[i], k), err, errlen);
	if (r->stages)
		close_stages(r);
	free(r->stages);
	free(r->nodes);
	return rc;
}

int trit_sched_run(const struct trit_sched_target *dev, const struct trit_sched_target *fb,
                   const struct trit_node *nodes, uint32_t n, uint32_t n_threads,
                   uint8_t *where, struct trit_sched_stats *st, char *err, size_t errlen)
{
	struct trit_sched_stats local = { 0 };
	uint8_t *w = where ? where : malloc(n ? n : 1);
	int rc;

	if (!w)
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory placing %u nodes", n);
	rc = trit_sched_place(dev, fb, nodes, n, w, &local, err, errlen);
	for (uint32_t i = 0; i < n && !rc;) {
		uint32_t j = i, cur = TRIT_SCHED_SKIPPED;
		/* a segment: one placement, with the skipped nodes around it */
		for (; j < n && (w[j] == TRIT_SCHED_SKIPPED || cur == TRIT_SCHED_SKIPPED ||
		                 w[j] == cur); j++)
			if (w[j] != TRIT_SCHED_SKIPPED)
				cur = w[j];
		if (cur == TRIT_SCHED_DEVICE) {
			rc = run_graph(dev, nodes + i, i, j - i, n_threads, err, errlen);
			local.device_calls++;
		} else if (cur == TRIT_SCHED_FALLBACK) {
			struct fb_run r = { .dev = dev, .fb = fb, .orig = nodes + i, .n = j - i,
			                    .first = i };
			rc = fallback_run(&r, n_threads, &local, err, errlen);
			local.fallback_calls++;
		}
		i = j;
	}
	if (st)
		*st = local;
	if (!where)
		free(w);
	return rc;
}

int trit_sched_zero(const struct trit_sched_target *t, struct trit_buffer *b, uint64_t bytes,
                    char *why, size_t whylen)
{
	static const unsigned char zero[1 << 16];
	int rc = 0;

	for (uint64_t off = 0; off < bytes && !rc; off += sizeof zero)
		rc = t->be->buffer_write(t->state, b, off, zero,
		                         bytes - off < sizeof zero ? bytes - off : sizeof zero, why,
		                         whylen);
	return rc;
}
