/*
 * exec/split.c - the slots of one ubatch graph as each target of a split
 * holds them (exec/split.h): which node runs where, each slot's lifetime on
 * each target including the crossings, and each target's arena size.
 */
#include <build-config.h>

#include <stdlib.h>

#include "core/common.h"
#include "exec/alloc.h"
#include "exec/split.h"

#define WRITER_NONE UINT32_MAX        /* not written yet */
#define WRITER_HOST (UINT32_MAX - 1)  /* an input, written into every arena */

void trit_split_node_targets(const struct trit_nodelist *g, const uint32_t *layer_target,
                             uint32_t n_layer, uint32_t embd, uint32_t output,
                             uint32_t *node_target)
{
	for (uint32_t i = 0; i < g->n_nodes; i++) {
		int32_t l = g->nodes[i].layer;
		if (l < 0)
			node_target[i] = embd;
		else if ((uint32_t)l >= n_layer)
			node_target[i] = output;
		else
			node_target[i] = layer_target ? layer_target[l] : 0;
	}
}

int trit_split_writes(const struct trit_gnode *n, int32_t s)
{
	return n->dst.slot == s || (n->op == TRIT_OP_QUANTIZE_ACT && n->src[1].slot == s);
}

int trit_split_reads(const struct trit_gnode *n, int32_t s)
{
	for (int k = 0; k < TRIT_NODE_MAX_SRC; k++)
		if (n->src[k].slot == s && !(n->op == TRIT_OP_QUANTIZE_ACT && k == 1))
			return 1;
	return 0;
}

/* Extend slot o's lifetime to node index i. */
static void touch(struct trit_gslot *o, int32_t i)
{
	if (i < o->first)
		o->first = i;
	if (i > o->last)
		o->last = i;
}

/* Node i's use of slot s, seen from target t. writer[s] is who holds its
 * value now; seg is the index of the first node of i's segment. */
static void use(const struct trit_gnode *n, int32_t s, uint32_t ti, uint32_t t, int32_t i,
                int32_t seg, uint32_t *writer, struct trit_gslot *out)
{
	int r = trit_split_reads(n, s), w = trit_split_writes(n, s);

	if (!r && !w)
		return;
	if (r && ti == t && writer[s] != t)   /* copied in (or an input) before the segment */
		touch(&out[s], writer[s] == WRITER_HOST ? -1 : seg);
	if (r && ti != t && writer[s] == t)   /* copied out to ti before its segment */
		touch(&out[s], seg);
	if (ti == t)
		touch(&out[s], i);
	if (w)
		writer[s] = ti;
}

/* The distinct slots node n touches, into s[]; their count. */
static int node_slots(const struct trit_gnode *n, int32_t *s)
{
	int m = 0;

	for (int k = -1; k < TRIT_NODE_MAX_SRC; k++) {
		int32_t v = k < 0 ? n->dst.slot : n->src[k].slot, dup = 0;
		for (int j = 0; j < m; j++)
			dup |= s[j] == v;
		if (v >= 0 && !dup)
			s[m++] = v;
	}
	return m;
}

int trit_split_slots(const struct trit_nodelist *g, const uint32_t *node_target, uint32_t t,
                     struct trit_gslot *out, char *err, size_t errlen)
{
	uint32_t *writer = malloc((g->n_slots ? g->n_slots : 1) * sizeof *writer);
	int32_t seg = 0, ss[TRIT_NODE_MAX_SRC + 1];

	if (!writer)
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory splitting the graph");
	for (uint32_t s = 0; s < g->n_slots; s++) {
		out[s] = g->slots[s];
		out[s].first = INT32_MAX, out[s].last = -2;
		writer[s] = g->slots[s].first < 0 ? WRITER_HOST : WRITER_NONE;
	}
	for (uint32_t i = 0; i < g->n_nodes; i++) {
		const struct trit_gnode *n = &g->nodes[i];
		int m = node_slots(n, ss);
		if (i && node_target[i] != node_target[i - 1])
			seg = (int32_t)i;
		for (int k = 0; k < m; k++)
			if ((uint32_t)ss[k] < g->n_slots)
				use(n, ss[k], node_target[i], t, (int32_t)i, seg, writer, out);
	}
	for (uint32_t s = 0; s < g->n_slots; s++) {
		if (g->slots[s].last >= (int32_t)g->n_nodes && writer[s] == t)
			touch(&out[s], (int32_t)g->n_nodes);   /* an output, read from here */
		if (out[s].first > out[s].last)
			out[s].first = 1, out[s].last = 0;
	}
	free(writer);
	return 0;
}

int trit_split_arena_bytes(const struct trit_nodelist *g, const uint32_t *node_target, uint32_t t,
                           uint64_t *bytes, char *err, size_t errlen)
{
	struct trit_gslot *sl = malloc((g->n_slots ? g->n_slots : 1) * sizeof *sl);
	int rc;

	if (!sl)
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory splitting the graph");
	rc = trit_split_slots(g, node_target, t, sl, err, errlen);
	if (!rc)
		rc = trit_alloc_plan(sl, g->n_slots, NULL, bytes, err, errlen);
	free(sl);
	return rc;
}

int trit_split_crossing_bytes(const struct trit_nodelist *g, const uint32_t *node_target,
                              uint32_t n_targets, uint64_t *bytes, char *err, size_t errlen)
{
	struct trit_gslot *sl = malloc((g->n_slots ? g->n_slots : 1) * sizeof *sl);
	uint32_t *holders = calloc(g->n_slots ? g->n_slots : 1, sizeof *holders);
	int rc = 0;

	*bytes = 0;
	if (!sl || !holders)
		rc = trit_errf(err, errlen, TRIT_ENOMEM, "out of memory splitting the graph");
	for (uint32_t t = 0; t < n_targets && !rc; t++)
		if (!(rc = trit_split_slots(g, node_target, t, sl, err, errlen)))
			for (uint32_t s = 0; s < g->n_slots; s++)
				holders[s] += sl[s].first <= sl[s].last;
	for (uint32_t s = 0; s < g->n_slots && !rc; s++)
		if (holders[s] > 1 && g->slots[s].bytes > *bytes)
			*bytes = g->slots[s].bytes;
	free(sl);
	free(holders);
	return rc;
}
