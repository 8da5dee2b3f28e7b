/*
 * graph/graph.c - the node-list builder: slots with sizes and lifetimes,
 * views of them (reshapes, row ranges), nodes appended with their params,
 * and binding a finished list to an arena. Which nodes a model needs is
 * arch.c's business; where slots go is exec/alloc.c's.
 */
#include <build-config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "graph/graph.h"

void trit_graph_init(struct trit_nodelist *g)
{
	memset(g, 0, sizeof *g);
	g->in_tokens = g->in_pos = g->out_logits = -1;
}

void trit_graph_free(struct trit_nodelist *g)
{
	if (!g)
		return;
	free(g->slots);
	free(g->nodes);
	trit_graph_init(g);
}

uint64_t trit_graph_bytes(uint32_t type, uint64_t ne0, uint64_t ne1, uint64_t ne2)
{
	const struct trit_type_traits *tt = trit_type_traits(type);

	if (!tt || !tt->block_elems || ne0 % tt->block_elems)
		return 0;
	return ne0 / tt->block_elems * tt->block_bytes * ne1 * ne2;
}

/* Contiguous strides of `type` [ne0, ne1, ne2, 1]. */
static void set_contiguous(struct trit_tensor *t, uint64_t ne0, uint64_t ne1, uint64_t ne2)
{
	const struct trit_type_traits *tt = trit_type_traits(t->type);
	uint64_t row = tt && tt->block_elems ? ne0 / tt->block_elems * tt->block_bytes : 0;

	t->ne[0] = ne0, t->ne[1] = ne1, t->ne[2] = ne2, t->ne[3] = 1;
	t->nb[0] = tt ? tt->block_bytes : 0;
	t->nb[1] = row;
	t->nb[2] = row * ne1;
	t->nb[3] = row * ne1 * ne2;
}

struct trit_gref trit_graph_new(struct trit_nodelist *g, uint32_t type, uint64_t ne0, uint64_t ne1,
                                uint64_t ne2, const char *name, int *rc)
{
	struct trit_gref r = { .slot = -1 };
	uint64_t bytes = trit_graph_bytes(type, ne0, ne1, ne2);

	if (bytes == 0) {
		*rc = TRIT_EINVAL;
		return r;
	}
	if (g->n_slots == g->cap_slots) {
		uint32_t cap = g->cap_slots ? 2 * g->cap_slots : 64;
		struct trit_gslot *s = realloc(g->slots, cap * sizeof *s);
		if (!s) {
			*rc = TRIT_ENOMEM;
			return r;
		}
		g->slots = s;
		g->cap_slots = cap;
	}
	g->slots[g->n_slots] = (struct trit_gslot){ .bytes = bytes, .first = INT32_MAX,
	                                            .last = -1 };
	snprintf(g->slots[g->n_slots].name, sizeof g->slots[0].name, "%s", name);
	r.slot = (int32_t)g->n_slots++;
	r.t.type = type;
	set_contiguous(&r.t, ne0, ne1, ne2);
	return r;
}

struct trit_gref trit_gref_reshape(struct trit_gref r, uint64_t ne0, uint64_t ne1, uint64_t ne2)
{
	set_contiguous(&r.t, ne0, ne1, ne2);
	return r;
}

struct trit_gref trit_gref_rows(struct trit_gref r, uint64_t row, uint64_t n)
{
	r.t.offset += row * r.t.nb[1];
	r.t.ne[1] = n;
	r.t.nb[2] = r.t.nb[3] = r.t.nb[1] * n;
	return r;
}

struct trit_gref trit_gref_ext(const struct trit_tensor *t)
{
	struct trit_gref r = { .t = *t, .slot = -1 };
	return r;
}

static void touch(struct trit_nodelist *g, const struct trit_gref *r, int32_t when)
{
	struct trit_gslot *s;

	if (r->slot < 0)
		return;
	s = &g->slots[r->slot];
	if (when < s->first)
		s->first = when;
	if (when > s->last)
		s->last = when;
}

void trit_graph_mark_input(struct trit_nodelist *g, int32_t slot)
{
	if (slot >= 0)
		g->slots[slot].first = -1;
}

void trit_graph_mark_output(struct trit_nodelist *g, int32_t slot)
{
	if (slot >= 0)
		g->slots[slot].last = INT32_MAX;
}

int trit_graph_add(struct trit_nodelist *g, uint32_t op, struct trit_gref dst,
                   const struct trit_gref *src, unsigned n_src, const int32_t *ip,
                   const float *fp, const char *name, char *err, size_t errlen)
{
	struct trit_gnode *n;

	if (n_src > TRIT_NODE_MAX_SRC || (dst.slot >= (int32_t)g->n_slots))
		return trit_errf(err, errlen, TRIT_EINTERNAL, "graph node %s: bad operands", name);
	if (g->n_nodes == g->cap_nodes) {
		uint32_t cap = g->cap_nodes ? 2 * g->cap_nodes : 256;
		struct trit_gnode *v = realloc(g->nodes, cap * sizeof *v);
		if (!v)
			return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory building the graph");
		g->nodes = v;
		g->cap_nodes = cap;
	}
	n = &g->nodes[g->n_nodes];
	memset(n, 0, sizeof *n);
	n->op = op;
	n->dst = dst;
	for (unsigned i = 0; i < n_src; i++)
		n->src[i] = src[i];
	for (unsigned i = n_src; i < TRIT_NODE_MAX_SRC; i++)
		n->src[i].slot = -1;
	if (ip)
		memcpy(n->iparams, ip, sizeof n->iparams);
	if (fp)
		memcpy(n->fparams, fp, sizeof n->fparams);
	n->layer = g->cur_layer;
	snprintf(n->name, sizeof n->name, "%s", name);
	touch(g, &n->dst, (int32_t)g->n_nodes);
	for (unsigned i = 0; i < n_src; i++)
		touch(g, &n->src[i], (int32_t)g->n_nodes);
	g->n_nodes++;
	return 0;
}

static void bind_one(struct trit_tensor *out, const struct trit_gref *r, struct trit_buffer *arena,
                     const uint64_t *slot_offset)
{
	*out = r->t;
	if (r->slot >= 0) {
		out->buffer = arena;
		out->offset = slot_offset[r->slot] + r->t.offset;
	}
}

void trit_graph_bind(const struct trit_nodelist *g, uint32_t first, uint32_t n,
                     struct trit_buffer *arena, const uint64_t *slot_offset,
                     struct trit_node *out)
{
	for (uint32_t i = 0; i < n; i++) {
		const struct trit_gnode *gn = &g->nodes[first + i];
		struct trit_node *o = &out[i];
		memset(o, 0, sizeof *o);
		o->struct_size = sizeof *o;
		o->op = gn->op;
		bind_one(&o->dst, &gn->dst, arena, slot_offset);
		for (int k = 0; k < TRIT_NODE_MAX_SRC; k++)
			bind_one(&o->src[k], &gn->src[k], arena, slot_offset);
		memcpy(o->iparams, gn->iparams, sizeof o->iparams);
		memcpy(o->fparams, gn->fparams, sizeof o->fparams);
		o->name = gn->name;
	}
}
