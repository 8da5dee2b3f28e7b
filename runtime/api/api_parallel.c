/*
 * api_parallel.c - parallel deployments in <trit/trit.h>: the degrees from
 * [parallel], the runtime's GPUs offered to pplan.c (free memory, [memory]
 * limits, gpu_fraction, measured overhead), a cluster inventory searched by
 * cplan.c, and the plan handles with their summaries and reports.
 */
#include <build-config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "backend/registry.h"
#include "core/common.h"
#include "plan/cluster.h"
#include "plan/cplan.h"
#include "plan/emit.h"
#include "plan/llamacpp.h"
#include "plan/pplan.h"
#include "report/cluster_report.h"
#include "report/emit_report.h"
#include "report/engine_report.h"
#include "report/parallel_report.h"

struct trit_parallel_plan {
	struct trit_pplan p;
	struct trit_pplan_gpu *gpus;
	const struct trit_model *m;
	struct trit_plan_options o;
	int described;                  /* the GPUs are a described machine's */
};

void trit_runtime_parallel_options(const struct trit_runtime *rt,
                                   struct trit_parallel_options *out)
{
	*out = (struct trit_parallel_options){
		.tp = (uint32_t)trit_config_int(&rt->cfg, "parallel", "tp", 1),
		.pp = (uint32_t)trit_config_int(&rt->cfg, "parallel", "pp", 1),
		.ep = (uint32_t)trit_config_int(&rt->cfg, "parallel", "ep", 1),
	};
}

static uint64_t overhead(const struct trit_device *d)
{
	for (uint32_t k = 0; k < d->n_props; k++)
		if (strcmp(d->props[k].key, "mem.overhead") == 0 &&
		    d->props[k].value.state != TRIT_VALUE_UNKNOWN)
			return d->props[k].value.value;
	return 0;
}

/* The runtime's GPUs and accelerators with known free memory, in order:
 * usable = free (or its [memory] limit) x fraction; total 0 when the
 * backend could not measure it. */
static struct trit_pplan_gpu *gpus_of(const struct trit_runtime *rt, double frac, uint32_t *n)
{
	uint32_t n_devs = 0;
	struct trit_plan_device *devs = trit_api_plan_devices(rt->reg, &rt->cfg, &n_devs);
	struct trit_pplan_gpu *v = devs ? calloc(n_devs ? n_devs : 1, sizeof *v) : NULL;

	*n = 0;
	for (uint32_t i = 0; v && i < n_devs; i++) {
		const struct trit_device *d = devs[i].dev;
		struct trit_pplan_gpu *g = &v[*n];
		uint64_t usable = d->mem_free.value;
		if (d->kind == TRIT_DEVICE_CPU || d->mem_free.state == TRIT_VALUE_UNKNOWN)
			continue;
		if (devs[i].limit && devs[i].limit < usable)
			usable = devs[i].limit;
		snprintf(g->name, sizeof g->name, "%s/%s", devs[i].backend, d->id);
		g->free = d->mem_free.value;
		g->usable = (uint64_t)((double)usable * frac);
		g->overhead = overhead(d);
		g->total = d->mem_total.state != TRIT_VALUE_UNKNOWN ? d->mem_total.value : 0;
		snprintf(g->vendor, sizeof g->vendor, "%s", d->vendor ? d->vendor : "");
		g->local = (*n)++;
	}
	free(devs);
	return v;
}

struct trit_cluster_plan {
	struct trit_cluster cl;
	struct trit_cplan p;
	const struct trit_model *m;
	struct trit_plan_options o;
};

static struct trit_estimate_opts estimate_opts(const struct trit_plan_options *o)
{
	return (struct trit_estimate_opts){ .n_ctx = o->n_ctx, .n_ubatch = o->n_ubatch,
	                                    .n_seq = o->n_seq, .kv_type = o->kv_type,
	                                    .headroom = o->headroom, .kv_pad = o->kv_pad,
	                                    .sampler_history = -1, .all_logits = o->all_logits };
}

static double gpu_fraction(const struct trit_plan_options *o)
{
	return o->gpu_fraction > 0 && o->gpu_fraction <= 0.95 ? o->gpu_fraction : 0.90;
}

int trit_parallel_plan_create(const struct trit_runtime *rt, const struct trit_model *m,
                              const struct trit_plan_options *o,
                              const struct trit_parallel_options *par,
                              struct trit_parallel_plan **out, char *err, size_t errlen)
{
	struct trit_estimate_opts eo = estimate_opts(o);
	struct trit_parallel deg = { par->tp, par->pp, par->ep };
	double frac = gpu_fraction(o);
	struct trit_parallel_plan *p;
	uint32_t n = 0;
	int rc;

	*out = NULL;
	if (!rt->reg)
		return trit_errf(err, errlen, TRIT_EINVAL, "no devices to plan on: the runtime's "
		                 "devices were not opened (trit_runtime_open_devices)");
	if (!(p = calloc(1, sizeof *p)) || !(p->gpus = gpus_of(rt, frac, &n))) {
		free(p);
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	}
	if ((rc = trit_pplan_make(m, &eo, &deg, p->gpus, n, &p->p, err, errlen))) {
		free(p->gpus);
		free(p);
		return rc;
	}
	p->m = m;
	p->o = *o;
	p->described = rt->described;
	*out = p;
	return 0;
}

void trit_parallel_plan_free(struct trit_parallel_plan *p)
{
	if (!p)
		return;
	trit_pplan_free(&p->p);
	free(p->gpus);
	free(p);
}

void trit_parallel_plan_get_summary(const struct trit_parallel_plan *p,
                                    struct trit_parallel_summary *out)
{
	uint64_t most = 0;

	for (uint32_t i = 0; i < p->p.n_ranks; i++)
		if (p->p.ranks[i].gpu != TRIT_PPLAN_NO_GPU && p->p.ranks[i].need > most)
			most = p->p.ranks[i].need;
	*out = (struct trit_parallel_summary){
		.gpus_per_stage = p->p.stage_ranks, .n_ranks = p->p.n_ranks, .n_gpus = p->p.n_gpus,
		.fits = p->p.fits, .why = p->p.fits ? "" : p->p.why, .most_bytes = most,
	};
}

void trit_parallel_plan_report_text(const struct trit_parallel_plan *p, FILE *out, int explain)
{
	trit_report_parallel_text(out, p->m, &p->p, p->gpus, explain);
}

char *trit_parallel_plan_report_json(const struct trit_parallel_plan *p, int explain)
{
	return trit_report_parallel_json(p->m, &p->p, p->gpus, explain);
}

int trit_cluster_plan_create(const struct trit_model *m, const struct trit_plan_options *o,
                             const char *cluster_file, const struct trit_parallel_options *par,
                             struct trit_cluster_plan **out, char *err, size_t errlen)
{
	struct trit_estimate_opts eo = estimate_opts(o);
	struct trit_cluster_plan *p = calloc(1, sizeof *p);
	struct trit_parallel only = { par ? par->tp : 0, par ? par->pp : 0, par ? par->ep : 0 };
	int rc;

	*out = NULL;
	if (!p)
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	if ((rc = trit_cluster_read(cluster_file, &p->cl, err, errlen)) ||
	    (rc = trit_cplan_make(m, &eo, &p->cl, gpu_fraction(o), &only, &p->p, err, errlen))) {
		trit_cluster_plan_free(p);
		return rc;
	}
	p->m = m;
	p->o = *o;
	*out = p;
	return 0;
}

void trit_cluster_plan_free(struct trit_cluster_plan *p)
{
	if (!p)
		return;
	trit_cplan_free(&p->p);
	trit_cluster_free(&p->cl);
	free(p);
}

void trit_cluster_plan_get_summary(const struct trit_cluster_plan *p,
                                   struct trit_cluster_summary *out)
{
	const struct trit_cplan_candidate *b = p->p.n_fit ? &p->p.c[0] : NULL;

	*out = (struct trit_cluster_summary){
		.n_searched = p->p.n, .n_fit = p->p.n_fit,
		.tp = b ? b->par.tp : 0, .pp = b ? b->par.pp : 0, .ep = b ? b->par.ep : 0,
		.n_gpus = b ? b->n_gpus : 0, .tokens_per_s = b ? b->tokens_per_s : -1,
	};
}

void trit_cluster_plan_report_text(const struct trit_cluster_plan *p, FILE *out, int explain)
{
	trit_report_cluster_text(out, p->m, &p->cl, &p->p, explain);
}

char *trit_cluster_plan_report_json(const struct trit_cluster_plan *p, int explain)
{
	return trit_report_cluster_json(p->m, &p->cl, &p->p, explain);
}

/* ---------------------------------------------------------- deployments */

static struct trit_emit_in emit_in(const struct trit_model *m, const struct trit_plan_options *o,
                                   const struct trit_pplan *plan,
                                   const struct trit_pplan_gpu *gpus,
                                   const struct trit_emit_machine *machines, uint32_t n_machines)
{
	return (struct trit_emit_in){
		.model = m->path, .gguf = m->format == TRIT_MODEL_GGUF,
		.n_ctx = o->n_ctx ? o->n_ctx : m->hp.n_ctx_train,
		.n_seq = o->n_seq ? o->n_seq : 1, .n_ubatch = plan->est.n_ubatch,
		.kv_type = o->kv_type, .plan = plan, .gpus = gpus, .machines = machines,
		.n_machines = n_machines,
	};
}

/* Print e as text, or as JSON with the plan's tree nested. */
static int emit_print(const struct trit_emit *e, const struct trit_emit_machine *machines,
                      const struct trit_model *m, const struct trit_pplan *plan,
                      const struct trit_pplan_gpu *gpus, int json, FILE *out, char *err,
                      size_t errlen)
{
	cJSON *tree;
	char *s;

	if (!json) {
		trit_report_emit_text(out, e, machines);
		return 0;
	}
	tree = trit_report_emit_tree(e, machines, &plan->par,
	                             trit_report_parallel_tree(m, plan, gpus, 0));
	s = tree ? cJSON_Print(tree) : NULL;
	cJSON_Delete(tree);
	if (!s)
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	fprintf(out, "%s\n", s);
	free(s);
	return 0;
}

int trit_parallel_plan_emit(const struct trit_parallel_plan *p, const char *engine, int json,
                            FILE *out, char *err, size_t errlen)
{
	struct trit_emit_machine here = { p->described ? "the described machine" : "this machine",
	                                  "localhost", p->p.n_gpus };
	struct trit_emit_in in = emit_in(p->m, &p->o, &p->p, p->gpus, &here, 1);
	struct trit_emit e;
	enum trit_engine eng;
	int rc;

	if (trit_engine_from_name(engine, &eng))
		return trit_errf(err, errlen, TRIT_EINVAL, "unknown engine '%s': vllm or "
		                 "llama.cpp-rpc", engine ? engine : "");
	if ((rc = trit_emit_make(eng, &in, &e, err, errlen)))
		return rc;
	rc = emit_print(&e, &here, p->m, &p->p, p->gpus, json, out, err, errlen);
	trit_emit_free(&e);
	return rc;
}

int trit_cluster_plan_emit(const struct trit_cluster_plan *p, const char *engine, int json,
                           FILE *out, char *err, size_t errlen)
{
	struct trit_emit_machine *ms = calloc(p->cl.n_machines ? p->cl.n_machines : 1, sizeof *ms);
	struct trit_emit e;
	enum trit_engine eng;
	char first[1024] = "";
	int rc = TRIT_EINVAL;

	if (!ms)
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	for (uint32_t i = 0; i < p->cl.n_machines; i++)
		ms[i] = (struct trit_emit_machine){ p->cl.machines[i].name, p->cl.machines[i].address,
		                                    p->cl.machines[i].n_gpus };
	if (trit_engine_from_name(engine, &eng)) {
		free(ms);
		return trit_errf(err, errlen, TRIT_EINVAL, "unknown engine '%s': vllm or "
		                 "llama.cpp-rpc", engine ? engine : "");
	}
	if (!p->p.n_fit)
		trit_errf(err, errlen, TRIT_EINVAL, "no deployment fits, so none is written");
	/* the fastest deployment the engine runs */
	for (uint32_t i = 0; rc == TRIT_EINVAL && i < p->p.n_fit; i++) {
		const struct trit_cplan_candidate *c = &p->p.c[i];
		struct trit_emit_in in = emit_in(p->m, &p->o, &c->plan, c->gpus, ms, p->cl.n_machines);
		rc = trit_emit_make(eng, &in, &e, i ? NULL : first, i ? 0 : sizeof first);
		if (!rc) {
			rc = emit_print(&e, ms, p->m, &c->plan, c->gpus, json, out, err, errlen);
			trit_emit_free(&e);
		}
	}
	if (rc == TRIT_EINVAL && first[0])
		trit_errf(err, errlen, rc, "none of the %u deployments that fit runs on %s; the best "
		          "does not because %s", p->p.n_fit, engine, first);
	free(ms);
	return rc;
}

/* ------------------------------------------------------- engine profiles */

int trit_engine_profile_write(const struct trit_runtime *rt, const struct trit_model *m,
                              const struct trit_plan_options *o, int json, FILE *out,
                              char *err, size_t errlen)
{
	struct trit_llamacpp_opts lo = {
		.n_ctx = o->n_ctx, .n_ubatch = o->n_ubatch, .n_seq = o->n_seq, .kv_type = o->kv_type,
		.fa = (enum trit_fa_mode)trit_config_int(&rt->cfg, "engine", "flash_attn", 0),
	};
	struct trit_llamacpp_mem mem;
	char *s;
	int rc;

	if (trit_config_int(&rt->cfg, "engine", "name", 0) != 1)
		return trit_errf(err, errlen, TRIT_EINVAL, "[engine] name is not llama.cpp");
	if ((rc = trit_llamacpp_predict(m, &lo, &mem, err, errlen)))
		return rc;
	if (!json) {
		trit_report_llamacpp_text(out, m, &lo, &mem);
		return 0;
	}
	if (!(s = trit_report_llamacpp_json(m, &lo, &mem)))
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	fprintf(out, "%s\n", s);
	free(s);
	return 0;
}
