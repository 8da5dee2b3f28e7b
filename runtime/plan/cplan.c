/*
 * cplan.c - search a cluster for the parallel deployments of a model.
 *
 * Candidates: tp from 1 to the most GPUs one machine has (tensor and expert
 * parallelism stay within a machine, on its GPU links), ep 1 or a multiple
 * of tp for a mixture of experts, pp from 1 to the stages the machines hold
 * (each takes max(tp, ep) GPUs of one machine, machines filled in order so
 * a deployment spans as few as it can). Each is planned by pplan.c.
 *
 * Decode speed, one sequence, per token (docs/cluster.md): each stage in
 * turn, its slowest rank reading its weights (routed experts: the share the
 * busiest rank reads for one token) and KV cache at its GPU's memory
 * bandwidth, plus its
 * tensor-parallel all-reduces (two a layer, ring: 2(tp-1)/tp of the f16
 * hidden state a GPU) and expert all-to-alls (each token to its experts and
 * back) over the machine's GPU link; plus each stage boundary's hidden state
 * and residual (f16) over the GPU link or, between machines, the network.
 * Latency is not counted: bandwidth only, a bound from above.
 */
#include <build-config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "model/names.h"
#include "plan/cplan.h"

/* GPUs of the stages of one candidate, machine by machine: idx gets pp x g
 * cluster GPU indices; returns the machines used, 0 when there is no room. */
static uint32_t place(const struct trit_cluster *cl, uint32_t g, uint32_t pp, uint32_t *idx)
{
	uint32_t s = 0, used = 0;

	for (uint32_t i = 0; i < cl->n_machines && s < pp; i++) {
		const struct trit_cluster_machine *m = &cl->machines[i];
		uint32_t slots = m->n_gpus / g;
		if (slots)
			used++;
		for (uint32_t k = 0; k < slots && s < pp; k++, s++)
			for (uint32_t r = 0; r < g; r++)
				idx[s * g + r] = m->first_gpu + k * g + r;
	}
	return s == pp ? used : 0;
}

/* The share of its routed-expert bytes the busiest rank reads for one
 * token: n_expert_used / n_expert of each expert's slice without ep; with
 * ep, ceil(n_expert_used / ep) whole experts of the n_expert / ep it holds
 * (a token's experts land on different ranks at best). */
static double expert_share(const struct trit_hparams *hp, uint32_t ep)
{
	if (ep <= 1)
		return (double)hp->n_expert_used / hp->n_expert;
	return (double)((hp->n_expert_used + ep - 1) / ep) / (hp->n_expert / ep);
}

/* Bytes the busiest rank of stage s reads per decoded token: its weights
 * (the token embeddings only where they are the output head; routed
 * experts by expert_share) and its KV cache. */
static double stage_read(const struct trit_model *m, const struct trit_pplan *p, uint32_t s)
{
	const struct trit_hparams *hp = &m->hp;
	double sum = 0;

	for (size_t i = 0; i < p->est.n_buffers; i++) {
		const struct trit_mem_buffer *b = &p->est.buffers[i];
		const struct trit_model_tensor *t;
		if (b->device != s)
			continue;
		if (b->component == TRIT_MEM_KV)
			sum += (double)b->bytes;
		if (b->component != TRIT_MEM_WEIGHTS || b->tensor < 0)
			continue;
		t = &m->tensors[b->tensor];
		if (t->role == TRIT_ROLE_TOKEN_EMBD && !(hp->tied_embeddings && s + 1 == p->par.pp))
			continue;
		if (hp->n_expert && trit_parallel_routed_expert((enum trit_role)t->role))
			sum += (double)b->bytes * expert_share(hp, p->par.ep);
		else
			sum += (double)b->bytes;
	}
	return sum;
}

/* MoE layers among [first, first + count). */
static uint32_t moe_layers(const struct trit_model *m, uint32_t first, uint32_t count)
{
	uint32_t lead = m->hp.n_layer_dense_lead, n = 0;

	if (!m->hp.n_expert)
		return 0;
	for (uint32_t il = first; il < first + count; il++)
		n += il >= lead;
	return n;
}

struct speed_sum {
	double seconds, read_bytes, link_bytes, net_bytes;
	char unknown[200];
};

static void stage_speed(const struct trit_model *m, const struct trit_cluster *cl,
                        struct trit_cplan_candidate *c, uint32_t s, struct speed_sum *sum)
{
	const struct trit_pplan *p = &c->plan;
	double read = stage_read(m, p, s), slowest = 0, embd = m->hp.n_embd, link_b = 0;
	uint32_t g = p->stage_ranks, tp = p->par.tp, ep = p->par.ep;
	uint32_t gi = c->gpu_index[s * g];
	const struct trit_cluster_machine *mc = &cl->machines[cl->gpu_machine[gi]];

	for (uint32_t r = 0; r < g; r++) {
		uint32_t k = c->gpu_index[s * g + r];
		if (!cl->gpu_bandwidth[k]) {
			snprintf(sum->unknown, sizeof sum->unknown, "%s:%s's memory bandwidth is not "
			         "described", mc->name, cl->gpus[k].name);
			return;
		}
		if (read / (double)cl->gpu_bandwidth[k] > slowest)
			slowest = read / (double)cl->gpu_bandwidth[k];
	}
	if (tp > 1)
		link_b += p->count[s] * 2.0 * 2.0 * (tp - 1) / tp * embd * 2;
	if (ep > 1)
		link_b += moe_layers(m, p->first[s], p->count[s]) * 2.0 * m->hp.n_expert_used *
		          embd * 2 * (ep - 1) / ep;
	if (link_b > 0 && !mc->gpu_link) {
		snprintf(sum->unknown, sizeof sum->unknown, "machine %s's gpu_link is not described "
		         "(the tensor- and expert-parallel traffic crosses it)", mc->name);
		return;
	}
	sum->seconds += slowest + (link_b > 0 ? link_b / (double)mc->gpu_link : 0);
	sum->read_bytes += read;
	sum->link_bytes += link_b;
}

/* The boundary after stage s: hidden state and residual, f16. */
static void boundary(const struct trit_model *m, const struct trit_cluster *cl,
                     struct trit_cplan_candidate *c, uint32_t s, struct speed_sum *sum)
{
	uint32_t g = c->plan.stage_ranks;
	uint32_t a = cl->gpu_machine[c->gpu_index[s * g]], b = cl->gpu_machine[c->gpu_index[(s + 1) * g]];
	double bytes = 2.0 * m->hp.n_embd * 2;
	uint64_t bw = a == b ? cl->machines[a].gpu_link : cl->network;

	if (!bw) {
		snprintf(sum->unknown, sizeof sum->unknown, "machine %s's gpu_link is not described "
		         "(stages %u and %u meet on it)", cl->machines[a].name, s, s + 1);
		return;
	}
	sum->seconds += bytes / (double)bw;
	*(a == b ? &sum->link_bytes : &sum->net_bytes) += bytes;
}

static void speed(const struct trit_model *m, const struct trit_cluster *cl,
                  struct trit_cplan_candidate *c)
{
	struct speed_sum sum = { 0 };
	char b0[32], b1[32], b2[32];

	for (uint32_t s = 0; s < c->par.pp && !sum.unknown[0]; s++) {
		stage_speed(m, cl, c, s, &sum);
		if (s + 1 < c->par.pp && !sum.unknown[0])
			boundary(m, cl, c, s, &sum);
	}
	c->link_bytes = (uint64_t)sum.link_bytes;
	c->net_bytes = (uint64_t)sum.net_bytes;
	if (sum.unknown[0] || sum.seconds <= 0) {
		c->tokens_per_s = -1;
		snprintf(c->speed, sizeof c->speed, "unknown: %s", sum.unknown[0] ? sum.unknown :
		         "nothing is read");
		return;
	}
	c->tokens_per_s = 1 / sum.seconds;
	snprintf(c->speed, sizeof c->speed, "a token: each stage's busiest GPU reads %s in all, "
	         "%s cross GPU links and %s the network; latency not counted",
	         trit_format_bytes((uint64_t)sum.read_bytes, b0, sizeof b0),
	         trit_format_bytes(c->link_bytes, b1, sizeof b1),
	         trit_format_bytes(c->net_bytes, b2, sizeof b2));
}

/* Plan one candidate: refused, does not fit, or fits with its speed. */
static int candidate(const struct trit_model *m, const struct trit_estimate_opts *est,
                     const struct trit_cluster *cl, double frac, struct trit_cplan_candidate *c)
{
	uint32_t g = trit_parallel_stage_ranks(&c->par), n = c->par.pp * g;
	int rc;

	c->n_gpus = n;
	c->gpu_index = calloc(n, sizeof *c->gpu_index);
	c->gpus = calloc(n, sizeof *c->gpus);
	if (!c->gpu_index || !c->gpus)
		return TRIT_ENOMEM;
	c->n_machines = place(cl, g, c->par.pp, c->gpu_index);
	for (uint32_t i = 0; i < n; i++) {
		c->gpus[i] = cl->gpus[c->gpu_index[i]];
		c->gpus[i].usable = (uint64_t)((double)c->gpus[i].free * frac);
	}
	rc = trit_pplan_make(m, est, &c->par, c->gpus, n, &c->plan, c->why, sizeof c->why);
	if (rc == TRIT_EINVAL) {
		c->verdict = TRIT_CAND_REFUSED;
		return 0;
	}
	if (rc)
		return rc;
	if (!c->plan.fits) {
		c->verdict = TRIT_CAND_NO_FIT;
		snprintf(c->why, sizeof c->why, "%s", c->plan.why);
		return 0;
	}
	c->verdict = TRIT_CAND_FITS;
	speed(m, cl, c);
	return 0;
}

static void candidate_free(struct trit_cplan_candidate *c)
{
	trit_pplan_free(&c->plan);
	free(c->gpus);
	free(c->gpu_index);
	c->gpus = NULL;
	c->gpu_index = NULL;
}

/* Fitting first, fastest first (unknown speeds after known ones), then
 * fewer GPUs, fewer stages; then the others in search order. */
static int rank_cmp(const void *pa, const void *pb)
{
	const struct trit_cplan_candidate *a = pa, *b = pb;

	if (a->verdict != b->verdict)
		return (int)a->verdict - (int)b->verdict;
	if (a->verdict == TRIT_CAND_FITS) {
		if ((a->tokens_per_s < 0) != (b->tokens_per_s < 0))
			return a->tokens_per_s < 0 ? 1 : -1;
		if (a->tokens_per_s != b->tokens_per_s)
			return a->tokens_per_s > b->tokens_per_s ? -1 : 1;
		if (a->n_gpus != b->n_gpus)
			return a->n_gpus < b->n_gpus ? -1 : 1;
	}
	return a->order < b->order ? -1 : a->order > b->order;
}

/* Slots for stages of g GPUs over the whole cluster. */
static uint32_t slots(const struct trit_cluster *cl, uint32_t g)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < cl->n_machines; i++)
		n += cl->machines[i].n_gpus / g;
	return n;
}

static int add(struct trit_cplan *p, uint32_t *cap, struct trit_parallel par)
{
	if (p->n == *cap) {
		uint32_t nc = *cap ? *cap * 2 : 64;
		void *v = realloc(p->c, nc * sizeof *p->c);
		if (!v)
			return TRIT_ENOMEM;
		p->c = v;
		*cap = nc;
	}
	memset(&p->c[p->n], 0, sizeof p->c[p->n]);
	p->c[p->n].order = p->n;
	p->c[p->n++].par = par;
	return 0;
}

/* Expert-parallel degrees with tp: 1, and for a mixture of experts every
 * multiple of tp from 2 up to most. Returns how many (at most cap). */
static uint32_t ep_values(const struct trit_model *m, uint32_t tp, uint32_t most, uint32_t *v,
                          uint32_t cap)
{
	uint32_t n = 0;

	v[n++] = 1;
	for (uint32_t e = tp; m->hp.n_expert && e <= most && n < cap; e += tp)
		if (e >= 2)
			v[n++] = e;
	return n;
}

/* Whether a degree is the one asked for (0: any). */
static int kept(uint32_t asked, uint32_t d)
{
	return !asked || asked == d;
}

/* Every (tp, ep, pp) the cluster has room for and `only` keeps; a refused
 * (tp, ep) once, as pp 1. */
static int enumerate(const struct trit_model *m, const struct trit_cluster *cl,
                     const struct trit_parallel *only, struct trit_cplan *p)
{
	uint32_t most = 0, cap = 0, eps[TRIT_PARALLEL_MAX];

	for (uint32_t i = 0; i < cl->n_machines; i++)
		if (cl->machines[i].n_gpus > most)
			most = cl->machines[i].n_gpus;
	if (most > TRIT_PARALLEL_MAX)
		most = TRIT_PARALLEL_MAX;
	for (uint32_t tp = 1; tp <= most; tp++) {
		uint32_t n_ep = ep_values(m, tp, most, eps, TRIT_PARALLEL_MAX);
		for (uint32_t e = 0; kept(only->tp, tp) && e < n_ep; e++) {
			struct trit_parallel par = { tp, 1, eps[e] };
			uint32_t top = slots(cl, trit_parallel_stage_ranks(&par));
			if (!kept(only->ep, eps[e]))
				continue;
			if (trit_parallel_check(m, &par, NULL, 0))
				top = 1; /* refused: once, with its reason */
			else if (top > m->hp.n_layer)
				top = m->hp.n_layer;
			for (uint32_t pp = 1; pp <= top; pp++) {
				par.pp = pp;
				if (kept(only->pp, pp) && add(p, &cap, par))
					return TRIT_ENOMEM;
			}
		}
	}
	return 0;
}

int trit_cplan_make(const struct trit_model *m, const struct trit_estimate_opts *est,
                    const struct trit_cluster *cl, double gpu_fraction,
                    const struct trit_parallel *only, struct trit_cplan *out, char *err,
                    size_t errlen)
{
	static const struct trit_parallel any;
	int rc;

	memset(out, 0, sizeof *out);
	if (!cl->n_gpus)
		return trit_errf(err, errlen, TRIT_EINVAL, "%s describes no GPU", cl->path);
	if ((rc = enumerate(m, cl, only ? only : &any, out)))
		goto fail;
	for (uint32_t i = 0; i < out->n; i++) {
		if ((rc = candidate(m, est, cl, gpu_fraction, &out->c[i])))
			goto fail;
		if (out->c[i].verdict != TRIT_CAND_FITS)
			candidate_free(&out->c[i]);
		else
			out->n_fit++;
	}
	qsort(out->c, out->n, sizeof *out->c, rank_cmp);
	return 0;
fail:
	trit_cplan_free(out);
	return rc == TRIT_ENOMEM ? trit_errf(err, errlen, rc, "out of memory") : rc;
}

void trit_cplan_free(struct trit_cplan *p)
{
	for (uint32_t i = 0; p->c && i < p->n; i++)
		candidate_free(&p->c[i]);
	free(p->c);
	memset(p, 0, sizeof *p);
}
