/*
 * pplan.c - one rank's memory per pipeline stage, and the ranks placed on
 * GPUs in order: stage 0's tp (or ep) ranks on the first GPUs, stage 1's on
 * the next, as vLLM numbers its ranks (the tensor-parallel rank varies
 * fastest). Each rank needs its stage's buffers plus its GPU's measured
 * overhead, with the usual headroom on top.
 */
#include <build-config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "plan/pplan.h"

/* Estimate one rank of each stage: estimate device s is stage s. */
static int estimate(const struct trit_model *m, const struct trit_estimate_opts *o,
                    struct trit_pplan *p, char *err, size_t errlen)
{
	uint32_t pp = p->par.pp, n_layer = m->hp.n_layer;
	struct trit_estimate_device *devs = calloc(pp, sizeof *devs);
	uint32_t *layer_dev = calloc(n_layer ? n_layer : 1, sizeof *layer_dev);
	char (*names)[16] = calloc(pp, sizeof *names);
	struct trit_estimate_opts eo = *o;
	int rc;

	if (!devs || !layer_dev || !names) {
		rc = trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
		goto out;
	}
	for (uint32_t s = 0; s < pp; s++) {
		snprintf(names[s], sizeof names[s], "stage%u", s);
		devs[s] = (struct trit_estimate_device){ .name = names[s], .ternary_pref = -1,
		                                        .as_stored = 1 };
		trit_parallel_stage_layers(n_layer, pp, s, &p->first[s], &p->count[s]);
		for (uint32_t il = p->first[s]; il < p->first[s] + p->count[s]; il++)
			layer_dev[il] = s;
	}
	struct trit_placement pl = { layer_dev, 0, pp - 1 };
	eo.tp = p->par.tp;
	eo.ep = p->par.ep;
	rc = trit_estimate_run(m, &eo, &pl, devs, pp, &p->est, err, errlen);
out:
	free(devs);
	free(layer_dev);
	free(names);
	return rc;
}

/* Give each rank its GPU and say whether it fits. The plan's why: the GPUs
 * missing, else the first rank that does not fit. */
static void place(struct trit_pplan *p, const struct trit_pplan_gpu *gpus, double headroom)
{
	char b1[32], b2[32], b3[32];

	p->fits = 1;
	for (uint32_t i = 0; i < p->n_ranks; i++) {
		struct trit_pplan_rank *r = &p->ranks[i];
		const struct trit_pplan_gpu *g = i < p->n_gpus ? &gpus[i] : NULL;
		r->stage = i / p->stage_ranks;
		r->rank = i % p->stage_ranks;
		r->gpu = g ? i : TRIT_PPLAN_NO_GPU;
		r->need = p->est.device_total[r->stage] + (g ? g->overhead : 0);
		r->headroom = trit_estimate_headroom(r->need, headroom);
		r->fits = g && r->need + r->headroom <= g->usable;
		p->n_placed += g != NULL;
		if (g && !r->fits && p->fits) {
			p->fits = 0;
			snprintf(p->why, sizeof p->why, "stage %u rank %u needs %s + %s headroom on "
			         "%s%s%s, which offers %s", r->stage, r->rank,
			         trit_format_bytes(r->need, b1, sizeof b1),
			         trit_format_bytes(r->headroom, b2, sizeof b2), g->host,
			         g->host[0] ? ":" : "", g->name,
			         trit_format_bytes(g->usable, b3, sizeof b3));
		}
	}
	if (p->n_placed < p->n_ranks) {
		p->fits = 0;
		snprintf(p->why, sizeof p->why, "%u pipeline stage%s x %u GPU%s each = %u GPUs, "
		         "but %u %s offered", p->par.pp, p->par.pp == 1 ? "" : "s", p->stage_ranks,
		         p->stage_ranks == 1 ? "" : "s", p->n_ranks, p->n_gpus,
		         p->n_gpus == 1 ? "is" : "are");
	}
}

int trit_pplan_make(const struct trit_model *m, const struct trit_estimate_opts *est,
                    const struct trit_parallel *par, const struct trit_pplan_gpu *gpus,
                    uint32_t n_gpus, struct trit_pplan *out, char *err, size_t errlen)
{
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = trit_parallel_check(m, par, err, errlen)))
		return rc;
	out->par = *par;
	out->stage_ranks = trit_parallel_stage_ranks(par);
	out->n_ranks = par->pp * out->stage_ranks;
	out->n_gpus = n_gpus;
	out->first = calloc(par->pp, sizeof *out->first);
	out->count = calloc(par->pp, sizeof *out->count);
	out->ranks = calloc(out->n_ranks, sizeof *out->ranks);
	if (!out->first || !out->count || !out->ranks) {
		trit_pplan_free(out);
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	}
	if ((rc = estimate(m, est, out, err, errlen))) {
		trit_pplan_free(out);
		return rc;
	}
	place(out, gpus, est->headroom);
	return 0;
}

void trit_pplan_free(struct trit_pplan *p)
{
	if (!p)
		return;
	trit_estimate_free(&p->est);
	free(p->first);
	free(p->count);
	free(p->ranks);
	memset(p, 0, sizeof *p);
}
