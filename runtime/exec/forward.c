/*
 * exec/forward.c - the forward pass context: KV cache, the activation arena
 * placed once for the worst-case ubatch, and per ubatch: build the graph,
 * write tokens and positions, bind, run each device segment through the
 * scheduler, read the logits. Graphs are graph/'s, placement alloc.c's,
 * kernels the backends'.
 */
#include <build-config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "exec/alloc.h"
#include "exec/forward.h"
#include "exec/kvcache.h"
#include "exec/split.h"
#include "exec/tensor.h"
#include "load/load.h"

struct trit_forward {
	struct trit_forward_params p;
	const struct trit_hparams *hp;
	struct trit_kvcache *kv;
	struct trit_graph_inputs in;
	/* the worst-case ubatch: its slots' sizes, and per target (offs[t *
	 * n_slots + s], NO_SLOT where t does not hold s) their offsets */
	uint64_t *offs, *slot_bytes;
	uint32_t n_slots, n_nodes;
	uint32_t *node_tgt;             /* n_nodes: the target each node runs on */
	struct trit_buffer **arenas;    /* n_targets; NULL where no node runs */
	uint64_t *arena_bytes, *ws_bytes; /* n_targets */
	uint64_t *valid;                /* n_slots: the targets holding a slot's value */
	unsigned char *bounce;          /* a crossing slot on its way between arenas */
	struct trit_node *nodes;        /* n_nodes, rebound per ubatch */
	uint8_t *where;
	uint64_t *weight_bytes;         /* n_targets */
	uint32_t *layer_target;         /* our copy of p.layer_target (n_layer) */
	struct trit_forward_memory mem;
	struct trit_forward_stats st;
};

/* Target index of a node of layer tag `layer`. */
static uint32_t node_target(const struct trit_forward *f, int32_t layer)
{
	if (layer < 0)
		return f->p.embd_target;
	if ((uint32_t)layer >= f->hp->n_layer)
		return f->p.output_target;
	return f->p.layer_target[layer];
}

static int check_params(const struct trit_forward_params *p, char *err, size_t errlen)
{
	const struct trit_hparams *hp;

	if (!p->model || !p->targets || !p->n_targets || (!p->weights && !p->weight))
		return trit_errf(err, errlen, TRIT_EINVAL, "forward pass: no model, weights or target");
	hp = &p->model->hp;
	if (!p->n_ctx || !p->n_ubatch || p->n_ubatch > p->n_ctx || p->n_ctx > INT32_MAX)
		return trit_errf(err, errlen, TRIT_EINVAL, "forward pass: n_ctx %u and ubatch %u "
		                 "(need 1 <= ubatch <= n_ctx < 2^31)", p->n_ctx, p->n_ubatch);
	if (p->embd_target >= p->n_targets || p->output_target >= p->n_targets)
		return trit_errf(err, errlen, TRIT_EINVAL, "forward pass: target index past %u",
		                 p->n_targets);
	for (uint32_t il = 0; il < hp->n_layer; il++) {
		uint32_t t = p->layer_target ? p->layer_target[il] : 0;
		if (t >= p->n_targets)
			return trit_errf(err, errlen, TRIT_EINVAL, "layer %u placed on target %u of %u",
			                 il, t, p->n_targets);
	}
	if (p->n_targets > TRIT_SPLIT_MAX_TARGETS)
		return trit_errf(err, errlen, TRIT_EINVAL, "forward pass: %u targets (at most %u)",
		                 p->n_targets, TRIT_SPLIT_MAX_TARGETS);
	return 0;
}

/* Weight bytes per target: every distinct external tensor the graph reads,
 * counted once on the target of the first node that reads it. */
static int count_weights(struct trit_forward *f, const struct trit_nodelist *g, char *err,
                         size_t errlen)
{
	for (uint32_t i = 0; i < g->n_nodes; i++)
		for (int k = 0; k < TRIT_NODE_MAX_SRC; k++) {
			const struct trit_gref *r = &g->nodes[i].src[k];
			uint64_t bytes;
			int seen = 0, rc;
			if (r->slot >= 0 || !r->t.buffer || g->nodes[i].op == TRIT_OP_ATTENTION)
				continue;
			for (uint32_t j = 0; j <= i && !seen; j++)
				for (int m = 0; m < TRIT_NODE_MAX_SRC && !seen; m++) {
					const struct trit_gref *o = &g->nodes[j].src[m];
					if ((j < i || m < k) && o->slot < 0 && o->t.buffer == r->t.buffer &&
					    o->t.offset == r->t.offset && g->nodes[j].op != TRIT_OP_ATTENTION)
						seen = 1;
				}
			if (seen)
				continue;
			if ((rc = trit_tensor_span(&r->t, g->nodes[i].name, &bytes, err, errlen)))
				return rc;
			f->weight_bytes[node_target(f, g->nodes[i].layer)] += bytes;
		}
	return 0;
}

static int build(struct trit_forward *f, uint32_t T, uint32_t n_kv, struct trit_nodelist *g,
                 char *err, size_t errlen)
{
	struct trit_graph_params gp = { f->hp, T, n_kv, f->p.all_logits };

	trit_graph_init(g);
	return trit_graph_build(&gp, &f->in, g, err, errlen);
}

#define NO_SLOT UINT64_MAX

/* Offset of slot s in target t's arena, or NO_SLOT. */
static uint64_t slot_at(const struct trit_forward *f, uint32_t t, int32_t s)
{
	return f->arenas[t] ? f->offs[(size_t)t * f->n_slots + (uint32_t)s] : NO_SLOT;
}

/* graph_workspace() of target tg's nodes placed on `where_is` (its device
 * or the fallback, t). */
static int workspace(struct trit_forward *f, uint32_t tg, const struct trit_sched_target *t,
                     uint8_t where_is, uint64_t *bytes, char *err, size_t errlen)
{
	struct trit_node *sel = malloc((f->n_nodes ? f->n_nodes : 1) * sizeof *sel);
	struct trit_graph g = { .struct_size = sizeof g };
	char why[512] = "";
	int rc = 0;

	*bytes = 0;
	if (!sel)
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	for (uint32_t i = 0; i < f->n_nodes; i++)
		if (f->node_tgt[i] == tg && f->where[i] == where_is)
			sel[g.n_nodes++] = f->nodes[i];
	g.nodes = sel;
	g.n_threads = f->p.n_threads;
	if (g.n_nodes && (rc = t->be->graph_workspace(t->state, t->device, &g, bytes, why,
	                                              sizeof why)))
		rc = trit_errf(err, errlen, rc, "%s: graph workspace: %s", t->name, why);
	free(sel);
	return rc;
}

static int alloc_tables(struct trit_forward *f, const struct trit_nodelist *g, char *err,
                        size_t errlen)
{
	uint32_t nt = f->p.n_targets, ns = g->n_slots ? g->n_slots : 1;
	uint32_t nn = g->n_nodes ? g->n_nodes : 1;

	f->n_slots = g->n_slots, f->n_nodes = g->n_nodes;
	f->offs = calloc((size_t)nt * ns, sizeof *f->offs);
	f->slot_bytes = calloc(ns, sizeof *f->slot_bytes);
	f->valid = calloc(ns, sizeof *f->valid);
	f->nodes = calloc(nn, sizeof *f->nodes);
	f->where = calloc(nn, 1);
	f->node_tgt = calloc(nn, sizeof *f->node_tgt);
	f->arenas = calloc(nt, sizeof *f->arenas);
	f->arena_bytes = calloc(nt, sizeof *f->arena_bytes);
	f->ws_bytes = calloc(nt, sizeof *f->ws_bytes);
	if (!f->offs || !f->slot_bytes || !f->valid || !f->nodes || !f->where || !f->node_tgt ||
	    !f->arenas || !f->arena_bytes || !f->ws_bytes)
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory planning activations");
	for (uint32_t i = 0; i < g->n_slots; i++)
		f->slot_bytes[i] = g->slots[i].bytes;
	trit_split_node_targets(g, f->p.layer_target, f->hp->n_layer, f->p.embd_target,
	                        f->p.output_target, f->node_tgt);
	return 0;
}

/* Place target tg's slots (sl: scratch of n_slots), allocate and clear its
 * arena; nothing when no node runs there. */
static int make_arena(struct trit_forward *f, const struct trit_nodelist *g, uint32_t tg,
                      struct trit_gslot *sl, char *err, size_t errlen)
{
	const struct trit_sched_target *t = &f->p.targets[tg];
	uint64_t *off = f->offs + (size_t)tg * f->n_slots, *bytes = &f->arena_bytes[tg];
	char why[512] = "";
	int rc = trit_split_slots(g, f->node_tgt, tg, sl, err, errlen), runs = 0;

	for (uint32_t i = 0; i < f->n_nodes; i++)
		runs |= f->node_tgt[i] == tg;
	if (!rc)
		rc = trit_alloc_plan(sl, g->n_slots, off, bytes, err, errlen);
	if (!rc)
		rc = trit_alloc_check(sl, g->n_slots, off, *bytes, err, errlen);
	for (uint32_t s = 0; s < g->n_slots; s++)
		if (sl[s].first > sl[s].last)
			off[s] = NO_SLOT;
	if (rc || !runs || !*bytes)
		return rc;
	if ((rc = t->be->buffer_alloc(t->state, t->device, *bytes, &f->arenas[tg], why,
	                              sizeof why)))
		return trit_errf(err, errlen, rc, "%s: cannot allocate the %llu-byte activation "
		                 "arena: %s", t->name, (unsigned long long)*bytes, why);
	if ((rc = trit_sched_zero(t, f->arenas[tg], *bytes, why, sizeof why)))
		return trit_errf(err, errlen, rc, "%s: cannot clear the activation arena: %s",
		                 t->name, why);
	return 0;
}

/* End of the segment (a run of nodes on one target) that starts at i. */
static uint32_t segment_end(const struct trit_forward *f, uint32_t i, uint32_t n)
{
	uint32_t j = i + 1;

	while (j < n && f->node_tgt[j] == f->node_tgt[i])
		j++;
	return j;
}

/* Bind every segment of g to its target's arena. */
static void bind_all(struct trit_forward *f, const struct trit_nodelist *g)
{
	for (uint32_t i = 0, j; i < g->n_nodes; i = j) {
		uint32_t tg = f->node_tgt[i];
		j = segment_end(f, i, g->n_nodes);
		trit_graph_bind(g, i, j - i, f->arenas[tg], f->offs + (size_t)tg * f->n_slots,
		                f->nodes + i);
	}
}

/* Where each node runs (device or fallback), and each target's workspace. */
static int place_nodes(struct trit_forward *f, char *err, size_t errlen)
{
	int rc = 0;

	for (uint32_t i = 0, j; i < f->n_nodes && !rc; i = j) {
		j = segment_end(f, i, f->n_nodes);
		rc = trit_sched_place(&f->p.targets[f->node_tgt[i]], f->p.fallback, f->nodes + i,
		                      j - i, f->where + i, NULL, err, errlen);
	}
	for (uint32_t t = 0; t < f->p.n_targets && !rc; t++) {
		uint64_t fb = 0;
		if (!f->arenas[t])
			continue;
		rc = workspace(f, t, &f->p.targets[t], TRIT_SCHED_DEVICE, &f->ws_bytes[t], err,
		               errlen);
		if (!rc && f->p.fallback)
			rc = workspace(f, t, f->p.fallback, TRIT_SCHED_FALLBACK, &fb, err, errlen);
		f->mem.workspace_bytes += f->ws_bytes[t];
		if (fb > f->mem.fallback_workspace_bytes)
			f->mem.fallback_workspace_bytes = fb;
	}
	return rc;
}

/* The host buffer slots cross devices through: as large as the largest slot
 * two arenas hold (the planner's host.crossing, by the same function); none
 * when nothing crosses. */
static int make_bounce(struct trit_forward *f, const struct trit_nodelist *g, char *err,
                       size_t errlen)
{
	uint64_t most = 0;
	int rc = trit_split_crossing_bytes(g, f->node_tgt, f->p.n_targets, &most, err, errlen);

	if (!rc && most && !(f->bounce = malloc(most)))
		rc = trit_errf(err, errlen, TRIT_ENOMEM, "out of memory for the %llu-byte buffer "
		               "activations cross devices through", (unsigned long long)most);
	f->mem.bounce_bytes = f->bounce ? most : 0;
	return rc;
}

/* Place the worst-case ubatch's slots on each target, allocate the arenas,
 * count memory. */
static int plan_arena(struct trit_forward *f, char *err, size_t errlen)
{
	struct trit_nodelist g;
	struct trit_gslot *sl = NULL;
	int rc = build(f, f->p.n_ubatch, f->p.n_ubatch, &g, err, errlen);

	if (!rc)
		rc = alloc_tables(f, &g, err, errlen);
	if (!rc && !(sl = malloc((g.n_slots ? g.n_slots : 1) * sizeof *sl)))
		rc = trit_errf(err, errlen, TRIT_ENOMEM, "out of memory planning activations");
	for (uint32_t t = 0; t < f->p.n_targets && !rc; t++) {
		rc = make_arena(f, &g, t, sl, err, errlen);
		f->mem.arena_bytes += f->arena_bytes[t];
	}
	if (!rc)
		rc = count_weights(f, &g, err, errlen);
	if (!rc)
		rc = make_bounce(f, &g, err, errlen);
	if (!rc) {
		f->mem.arena_unshared = trit_alloc_sum(g.slots, g.n_slots);
		f->mem.arena_target_bytes = f->arena_bytes;
		f->mem.workspace_target_bytes = f->ws_bytes;
		f->mem.n_slots = g.n_slots, f->mem.n_nodes = g.n_nodes;
		bind_all(f, &g);
		rc = place_nodes(f, err, errlen);
	}
	free(sl);
	trit_graph_free(&g);
	return rc;
}

static const struct trit_tensor *loaded_weight(void *ctx, const char *name)
{
	const struct trit_weight *w = trit_weights_find(ctx, name);
	return w ? &w->t : NULL;
}

int trit_forward_new(const struct trit_forward_params *p, struct trit_forward **out,
                     char *err, size_t errlen)
{
	struct trit_forward *f;
	int rc;

	*out = NULL;
	if ((rc = check_params(p, err, errlen)))
		return rc;
	if (!(f = calloc(1, sizeof *f)))
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	f->p = *p;
	f->hp = &p->model->hp;
	f->weight_bytes = calloc(p->n_targets, sizeof *f->weight_bytes);
	f->layer_target = calloc(f->hp->n_layer, sizeof *f->layer_target);
	if (!f->weight_bytes || !f->layer_target) {
		trit_forward_free(f);
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	}
	if (p->layer_target)
		memcpy(f->layer_target, p->layer_target, f->hp->n_layer * sizeof *f->layer_target);
	f->p.layer_target = f->layer_target;
	rc = trit_kvcache_new(f->hp, p->n_ctx, p->kv_type, p->targets, p->n_targets,
	                      p->layer_target, &f->kv, err, errlen);
	if (!rc) {
		f->in = (struct trit_graph_inputs){ p->weight, p->weight_ctx, f->kv->k, f->kv->v,
		                                    p->kv_type, p->n_ctx, NULL };
		if (p->weights) {
			const struct trit_weight *h = trit_weights_head_copy(p->weights);
			f->in.weight = loaded_weight, f->in.weight_ctx = (void *)p->weights;
			f->in.head = h ? &h->t : NULL;
		}
		rc = plan_arena(f, err, errlen);
	}
	if (rc) {
		trit_forward_free(f);
		return rc;
	}
	f->mem.n_targets = p->n_targets;
	f->mem.weight_bytes = f->weight_bytes;
	f->mem.kv_bytes = f->kv->target_bytes;
	f->mem.kv_total = f->kv->bytes;
	*out = f;
	return 0;
}

void trit_forward_free(struct trit_forward *f)
{
	if (!f)
		return;
	for (uint32_t t = 0; f->arenas && t < f->p.n_targets; t++)
		if (f->arenas[t])
			f->p.targets[t].be->buffer_free(f->p.targets[t].state, f->arenas[t]);
	trit_kvcache_free(f->kv);
	free(f->offs);
	free(f->slot_bytes);
	free(f->valid);
	free(f->nodes);
	free(f->where);
	free(f->node_tgt);
	free(f->arenas);
	free(f->arena_bytes);
	free(f->ws_bytes);
	free(f->bounce);
	free(f->weight_bytes);
	free(f->layer_target);
	free(f);
}

/* The ubatch graph must fit the worst case's placement: same slots, none
 * larger. */
static int fits_plan(const struct trit_forward *f, const struct trit_nodelist *g, char *err,
                     size_t errlen)
{
	if (g->n_slots != f->n_slots || g->n_nodes != f->n_nodes)
		return trit_errf(err, errlen, TRIT_EINTERNAL, "the ubatch graph has %u slots and %u "
		                 "nodes, the planned one %u and %u", g->n_slots, g->n_nodes,
		                 f->n_slots, f->n_nodes);
	for (uint32_t i = 0; i < g->n_slots; i++)
		if (g->slots[i].bytes > f->slot_bytes[i])
			return trit_errf(err, errlen, TRIT_EINTERNAL, "activation %s of the ubatch graph "
			                 "outgrows its planned size", g->slots[i].name);
	return 0;
}

/* Tokens and positions into every arena that holds them. */
static int write_inputs(struct trit_forward *f, const struct trit_nodelist *g, const int32_t *tok,
                        uint32_t T, uint32_t pos, char *err, size_t errlen)
{
	int32_t *p = malloc(T * sizeof *p);
	char why[512] = "";
	int rc = 0;

	if (!p)
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	for (uint32_t i = 0; i < T; i++)
		p[i] = (int32_t)(pos + i);
	memset(f->valid, 0, f->n_slots * sizeof *f->valid);
	for (uint32_t t = 0; t < f->p.n_targets && !rc; t++) {
		const struct trit_sched_target *tg = &f->p.targets[t];
		for (int k = 0; k < 2 && !rc; k++) {
			int32_t s = k ? g->in_pos : g->in_tokens;
			uint64_t at = s >= 0 ? slot_at(f, t, s) : NO_SLOT;
			if (at == NO_SLOT)
				continue;
			rc = tg->be->buffer_write(tg->state, f->arenas[t], at, k ? (void *)p : tok,
			                          T * sizeof *p, why, sizeof why);
			if (rc)
				rc = trit_errf(err, errlen, rc, "%s: writing the ubatch's inputs: %s",
				               tg->name, why);
			f->valid[s] |= UINT64_C(1) << t;
		}
	}
	free(p);
	return rc;
}

/* Copy slot s (bytes of this ubatch) from a target holding it to target t. */
static int cross(struct trit_forward *f, const struct trit_nodelist *g, int32_t s, uint32_t t,
                 char *err, size_t errlen)
{
	uint32_t from = 0;
	uint64_t n = g->slots[s].bytes;
	const struct trit_sched_target *a, *b = &f->p.targets[t];
	char why[512] = "";
	int rc;

	while (from < f->p.n_targets && !(f->valid[s] >> from & 1))
		from++;
	if (from == f->p.n_targets || slot_at(f, from, s) == NO_SLOT || slot_at(f, t, s) == NO_SLOT)
		return trit_errf(err, errlen, TRIT_EINTERNAL, "activation %s is needed on %s but "
		                 "no arena holds it", g->slots[s].name, b->name);
	a = &f->p.targets[from];
	if (!f->bounce || n > f->mem.bounce_bytes)
		return trit_errf(err, errlen, TRIT_EINTERNAL, "activation %s (%llu bytes) crosses "
		                 "devices past the %llu bytes planned for that", g->slots[s].name,
		                 (unsigned long long)n, (unsigned long long)f->mem.bounce_bytes);
	rc = a->be->buffer_read(a->state, f->arenas[from], slot_at(f, from, s), f->bounce, n,
	                        why, sizeof why);
	if (!rc)
		rc = b->be->buffer_write(b->state, f->arenas[t], slot_at(f, t, s), f->bounce, n, why,
		                         sizeof why);
	if (rc)
		return trit_errf(err, errlen, rc, "moving activation %s from %s to %s: %s",
		                 g->slots[s].name, a->name, b->name, why);
	f->valid[s] |= UINT64_C(1) << t;
	f->st.crossings++;
	f->st.crossing_bytes += n;
	return 0;
}

/* Bring into target t every slot nodes [i, j) read before writing it. */
static int cross_in(struct trit_forward *f, const struct trit_nodelist *g, uint32_t i, uint32_t j,
                    char *err, size_t errlen)
{
	uint64_t bit = UINT64_C(1) << f->node_tgt[i];
	int rc = 0;

	for (uint32_t k = i; k < j && !rc; k++) {
		const struct trit_gnode *n = &g->nodes[k];
		for (int m = 0; m < TRIT_NODE_MAX_SRC && !rc; m++) {
			int32_t s = n->src[m].slot;
			if (s >= 0 && trit_split_reads(n, s) && !(f->valid[s] & bit))
				rc = cross(f, g, s, f->node_tgt[i], err, errlen);
		}
		if (n->dst.slot >= 0)
			f->valid[n->dst.slot] = bit;
		if (n->op == TRIT_OP_QUANTIZE_ACT && n->src[1].slot >= 0)
			f->valid[n->src[1].slot] = bit;
	}
	return rc;
}

/* Run nodes [0, n) in segments of one target each, moving the activations
 * a segment reads from the target that wrote them first. */
static int run_segments(struct trit_forward *f, const struct trit_nodelist *g, uint32_t n,
                        char *err, size_t errlen)
{
	for (uint32_t i = 0, j; i < n; i = j) {
		uint32_t tg = f->node_tgt[i];
		struct trit_sched_stats st;
		int rc;
		j = segment_end(f, i, n);
		if ((rc = cross_in(f, g, i, j, err, errlen)))
			return rc;
		trit_graph_bind(g, i, j - i, f->arenas[tg], f->offs + (size_t)tg * f->n_slots,
		                f->nodes + i);
		rc = trit_sched_run(&f->p.targets[tg], f->p.fallback, f->nodes + i, j - i,
		                    f->p.n_threads, NULL, &st, err, errlen);
		if (rc)
			return rc;
		f->st.device_nodes += st.device_nodes, f->st.fallback_nodes += st.fallback_nodes;
		f->st.device_calls += st.device_calls, f->st.fallback_calls += st.fallback_calls;
		f->st.segments++;
	}
	return 0;
}

/* Nodes up to the output part (layer tag n_layer), which only the last
 * ubatch needs unless every token's logits are wanted. */
static uint32_t body_nodes(const struct trit_forward *f, const struct trit_nodelist *g)
{
	uint32_t n = g->n_nodes;

	while (n && g->nodes[n - 1].layer == (int32_t)f->hp->n_layer)
		n--;
	return n;
}

static int read_logits(struct trit_forward *f, const struct trit_nodelist *g, float *out,
                       char *err, size_t errlen)
{
	uint32_t ot = f->p.output_target;
	const struct trit_sched_target *t = &f->p.targets[ot];
	char why[512] = "";
	uint64_t bytes = (uint64_t)g->n_outputs * g->n_vocab * sizeof(float);
	int rc = t->be->buffer_read(t->state, f->arenas[ot], slot_at(f, ot, g->out_logits), out,
	                            bytes, why, sizeof why);

	return rc ? trit_errf(err, errlen, rc, "%s: reading the logits: %s", t->name, why) : 0;
}

static int eval_ubatch(struct trit_forward *f, const int32_t *tok, uint32_t T, uint32_t pos,
                       int last, float *logits, char *err, size_t errlen)
{
	struct trit_nodelist g;
	int rc = build(f, T, pos + T, &g, err, errlen);

	if (!rc)
		rc = fits_plan(f, &g, err, errlen);
	if (!rc)
		rc = write_inputs(f, &g, tok, T, pos, err, errlen);
	if (!rc) {
		int head = f->p.all_logits || last;
		rc = run_segments(f, &g, head ? g.n_nodes : body_nodes(f, &g), err, errlen);
		if (!rc && head && logits)
			rc = read_logits(f, &g, logits, err, errlen);
	}
	trit_graph_free(&g);
	return rc;
}

int trit_forward_eval(struct trit_forward *f, const int32_t *tokens, uint32_t n, uint32_t pos0,
                      float *logits, char *err, size_t errlen)
{
	uint32_t nv = f->hp->n_vocab;

	if (!n || !tokens)
		return trit_errf(err, errlen, TRIT_EINVAL, "no tokens to evaluate");
	if (pos0 > f->p.n_ctx || n > f->p.n_ctx - pos0)
		return trit_errf(err, errlen, TRIT_ERANGE, "positions %u to %u are past the context "
		                 "of %u", pos0, pos0 + n - 1, f->p.n_ctx);
	for (uint32_t i = 0; i < n; i++)
		if (tokens[i] < 0 || (uint32_t)tokens[i] >= nv)
			return trit_errf(err, errlen, TRIT_ERANGE, "token %u is %d, outside the "
			                 "vocabulary of %u", i, (int)tokens[i], nv);
	memset(&f->st, 0, sizeof f->st);
	for (uint32_t done = 0; done < n;) {
		uint32_t T = n - done < f->p.n_ubatch ? n - done : f->p.n_ubatch;
		float *out = logits && f->p.all_logits ? logits + (size_t)done * nv : logits;
		int rc = eval_ubatch(f, tokens + done, T, pos0 + done, done + T == n, out, err,
		                     errlen);
		if (rc)
			return rc;
		done += T;
		f->st.ubatches++;
		f->st.tokens += T;
	}
	return 0;
}

const struct trit_forward_memory *trit_forward_memory(const struct trit_forward *f)
{
	return &f->mem;
}

const struct trit_forward_stats *trit_forward_stats(const struct trit_forward *f)
{
	return &f->st;
}

uint32_t trit_forward_n_vocab(const struct trit_forward *f)
{
	return f->hp->n_vocab;
}

/* graph_workspace() of the nodes of g that device dev would run itself
 * (those on target pl->target, or all when pl is NULL, that its
 * supports_op() takes), unbound: shapes only. */
static int device_workspace(const struct trit_nodelist *g, const uint32_t *nt,
                            const struct trit_forward_place *pl,
                            const struct trit_sched_target *dev, uint64_t *bytes, char *err,
                            size_t errlen)
{
	uint32_t matmuls = 0;
	struct trit_node *all = calloc(g->n_nodes ? g->n_nodes : 1, sizeof *all);
	uint64_t *zero = calloc(g->n_slots ? g->n_slots : 1, sizeof *zero);
	struct trit_graph gr = { .struct_size = sizeof gr };
	uint32_t n = 0;
	char why[512] = "";
	int rc = 0;

	*bytes = 0;
	if (!all || !zero) {
		free(all);
		free(zero);
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	}
	trit_graph_bind(g, 0, g->n_nodes, NULL, zero, all);
	free(zero);
	for (uint32_t i = 0; i < g->n_nodes; i++)
		if ((!pl || nt[i] == pl->target) && all[i].op != TRIT_OP_NONE &&
		    dev->be->supports_op(dev->state, dev->device, &all[i])) {
			matmuls += all[i].op == TRIT_OP_MATMUL;
			all[n++] = all[i];
		}
	gr.nodes = all, gr.n_nodes = n;
	if (!matmuls)      /* runs none of the graph's matrices as built (a v1 kernel) */
		rc = trit_errf(err, errlen, TRIT_EUNSUPPORTED, "%s runs none of the graph's "
		               "matrices itself", dev->name);
	else if ((rc = dev->be->graph_workspace(dev->state, dev->device, &gr, bytes, why,
	                                        sizeof why)))
		rc = trit_errf(err, errlen, rc, "%s: graph workspace: %s", dev->name, why);
	free(all);
	return rc;
}

/* The arena of the worst-case ubatch graph: all of it (pl NULL) or what
 * target pl->target holds of the split pl describes; and, when dev is not
 * NULL, the workspace that device asks for the nodes it runs of it. */
static int arena_of(const struct trit_hparams *hp,
                    const struct trit_tensor *(*weight)(void *ctx, const char *name),
                    void *weight_ctx, uint32_t n_ctx, uint32_t kv_type, uint32_t n_ubatch,
                    int all_logits, const struct trit_forward_place *pl, uint64_t *arena_bytes,
                    uint64_t *unshared_bytes, const struct trit_sched_target *dev,
                    uint64_t *ws_bytes, char *err, size_t errlen)
{
	struct trit_graph_inputs in = { weight, weight_ctx, NULL, NULL, kv_type, n_ctx, NULL };
	struct trit_graph_params gp = { hp, n_ubatch, n_ubatch, all_logits };
	struct trit_nodelist g;
	uint32_t *nt = NULL;
	int rc;

	trit_graph_init(&g);
	rc = trit_graph_build(&gp, &in, &g, err, errlen);
	if (!rc && !pl)
		rc = trit_alloc_plan(g.slots, g.n_slots, NULL, arena_bytes, err, errlen);
	if (!rc && pl && !(nt = malloc((g.n_nodes ? g.n_nodes : 1) * sizeof *nt)))
		rc = trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	if (!rc && pl) {
		trit_split_node_targets(&g, pl->layer_target, hp->n_layer, pl->embd_target,
		                        pl->output_target, nt);
		rc = trit_split_arena_bytes(&g, nt, pl->target, arena_bytes, err, errlen);
		if (!rc && pl->crossing_bytes)
			rc = trit_split_crossing_bytes(&g, nt, pl->n_targets, pl->crossing_bytes, err,
			                               errlen);
	}
	if (!rc && unshared_bytes)
		*unshared_bytes = trit_alloc_sum(g.slots, g.n_slots);
	if (!rc && dev)
		rc = device_workspace(&g, nt, pl, dev, ws_bytes, err, errlen);
	free(nt);
	trit_graph_free(&g);
	return rc;
}

int trit_forward_arena_bytes(const struct trit_hparams *hp,
                             const struct trit_tensor *(*weight)(void *ctx, const char *name),
                             void *weight_ctx, uint32_t n_ctx, uint32_t kv_type,
                             uint32_t n_ubatch, int all_logits, uint64_t *arena_bytes,
                             uint64_t *unshared_bytes, char *err, size_t errlen)
{
	return arena_of(hp, weight, weight_ctx, n_ctx, kv_type, n_ubatch, all_logits, NULL,
	                arena_bytes, unshared_bytes, NULL, NULL, err, errlen);
}

/* ------------------------------------------------------------------------ */
/* The planner's lookup over a model file's tensor table                     */

struct model_lookup {
	const struct trit_model *m;
	uint32_t ternary_type;
	/* a float tensor the loader ternarises (NULL: none) */
	int (*ternarised)(const struct trit_model *m, const struct trit_model_tensor *t);
	struct trit_tensor t[4];    /* the last four tensors looked up (the builder holds
	                             * up to two lookups at a time) */
	unsigned next;
	int rc;
	char *err;
	size_t errlen;
};

static int type_by_name(const char *name, uint32_t *type)
{
	for (uint32_t t = 0; t < TRIT_TYPE_COUNT; t++)
		if (trit_type_traits(t) && !strcmp(trit_type_traits(t)->name, name)) {
			*type = t;
			return 0;
		}
	return -1;
}

static const struct trit_tensor *model_weight(void *ctx, const char *name)
{
	struct model_lookup *ml = ctx;
	struct trit_tensor *t = &ml->t[ml->next++ % 4];

	for (size_t i = 0; i < ml->m->n_tensors; i++) {
		const struct trit_model_tensor *mt = &ml->m->tensors[i];
		uint32_t type;
		uint64_t bytes;
		char why[8];
		if (strcmp(mt->name, name) != 0)
			continue;
		if (type_by_name(mt->type_name, &type)) {
			if (!ml->rc)
				ml->rc = trit_errf(ml->err, ml->errlen, TRIT_EUNSUPPORTED, "tensor %s is "
				                   "%s, a type trit's backends do not run", name,
				                   mt->type_name);
			type = TRIT_TYPE_F32; /* sized as any other; the call fails with rc */
		}
		if (ml->ternary_type && (mt->ternary || (ml->ternarised && mt->n_dims == 2 &&
		    (type == TRIT_TYPE_F32 || type == TRIT_TYPE_F16 || type == TRIT_TYPE_BF16) &&
		    ml->ternarised(ml->m, mt))))
			type = ml->ternary_type;
		/* laid out as the loader will; a shape the loader refuses keeps
		 * its sizes only (the load names it) */
		if (trit_load_geometry(mt, type, t, &bytes, why, sizeof why)) {
			memset(t, 0, sizeof *t);
			t->type = type;
			for (int d = 0; d < 4; d++)
				t->ne[d] = mt->ne[d] ? mt->ne[d] : 1;
		}
		return t;
	}
	return NULL;
}

int trit_forward_model_arena_bytes(const struct trit_model *m, uint32_t ternary_type,
                                   uint32_t n_ctx, uint32_t kv_type, uint32_t n_ubatch,
                                   int all_logits, uint64_t *arena_bytes,
                                   uint64_t *unshared_bytes, char *err, size_t errlen)
{
	struct model_lookup ml = { .m = m, .ternary_type = ternary_type, .err = err,
	                           .errlen = errlen };
	int rc = trit_forward_arena_bytes(&m->hp, model_weight, &ml, n_ctx, kv_type, n_ubatch,
	                                  all_logits, arena_bytes, unshared_bytes, err, errlen);
	return ml.rc ? ml.rc : rc;
}

int trit_forward_model_split_arena_bytes(const struct trit_model *m, uint32_t ternary_type,
                                         uint32_t n_ctx, uint32_t kv_type, uint32_t n_ubatch,
                                         int all_logits, const struct trit_forward_place *pl,
                                         uint64_t *arena_bytes, char *err, size_t errlen)
{
	struct model_lookup ml = { .m = m, .ternary_type = ternary_type, .err = err,
	                           .errlen = errlen };
	int rc = arena_of(&m->hp, model_weight, &ml, n_ctx, kv_type, n_ubatch, all_logits, pl,
	                  arena_bytes, NULL, NULL, NULL, err, errlen);
	return ml.rc ? ml.rc : rc;
}

int trit_forward_model_workspace(const struct trit_model *m, uint32_t ternary_type,
                                 uint32_t n_ctx, uint32_t kv_type, uint32_t n_ubatch,
                                 int all_logits, const struct trit_forward_place *pl,
                                 int (*ternarised)(const struct trit_model *m,
                                                   const struct trit_model_tensor *t),
                                 const struct trit_sched_target *dev, uint64_t *bytes,
                                 char *err, size_t errlen)
{
	struct model_lookup ml = { .m = m, .ternary_type = ternary_type, .ternarised = ternarised,
	                           .err = err, .errlen = errlen };
	uint64_t arena = 0;
	int rc;

	*bytes = 0;
	if (!dev->be->supports_op || !dev->be->graph_workspace)
		return trit_errf(err, errlen, TRIT_EUNSUPPORTED, "%s has no graph calls", dev->name);
	rc = arena_of(&m->hp, model_weight, &ml, n_ctx, kv_type, n_ubatch, all_logits, pl, &arena,
	              NULL, dev, bytes, err, errlen);
	return ml.rc ? ml.rc : rc;
}
