/*
 * cluster_report.c - `trit plan MODEL --cluster FILE`: the machines, the
 * deployments searched and how they ranked (degrees, GPUs, machines, decode
 * estimate, bytes over the network), the best one's stages and ranks
 * (parallel_report.c); explain adds every candidate that lost, with why.
 * Text for people, JSON (docs/json.md, "Cluster plan") for programs.
 */
#include <build-config.h>

#include <string.h>

#include "core/common.h"
#include "report/cluster_report.h"
#include "report/json_build.h"
#include "report/parallel_report.h"

/* Text lists this many fitting deployments unless explain. */
#define SHOWN 10u

static const char *verdict_name(enum trit_cplan_verdict v)
{
	return v == TRIT_CAND_FITS ? "fits" : v == TRIT_CAND_NO_FIT ? "does not fit" : "refused";
}

static void machines_text(FILE *out, const struct trit_cluster *cl)
{
	char b1[32], b2[32], b3[32];

	fprintf(out, "Cluster     %s: %u machine%s, network %s%s\n", cl->path, cl->n_machines,
	        cl->n_machines == 1 ? "" : "s",
	        cl->network ? trit_format_bytes(cl->network, b1, sizeof b1) : "not described",
	        cl->network ? "/s" : "");
	for (uint32_t i = 0; i < cl->n_machines; i++) {
		const struct trit_cluster_machine *m = &cl->machines[i];
		uint64_t mem = 0;
		for (uint32_t k = 0; k < m->n_gpus; k++)
			mem += cl->gpus[m->first_gpu + k].free;
		fprintf(out, "  %-12s %-24s %u GPU%s, %s; RAM %s; GPU link %s%s\n", m->name, m->address,
		        m->n_gpus, m->n_gpus == 1 ? "" : "s", trit_format_bytes(mem, b1, sizeof b1),
		        m->ram ? trit_format_bytes(m->ram, b2, sizeof b2) : "not described",
		        m->gpu_link ? trit_format_bytes(m->gpu_link, b3, sizeof b3) : "not described",
		        m->gpu_link ? "/s" : "");
	}
}

static uint64_t most_bytes(const struct trit_cplan_candidate *c)
{
	uint64_t most = 0;

	for (uint32_t i = 0; c->verdict == TRIT_CAND_FITS && i < c->plan.n_ranks; i++)
		if (c->plan.ranks[i].need > most)
			most = c->plan.ranks[i].need;
	return most;
}

static void candidate_text(FILE *out, uint32_t i, const struct trit_cplan_candidate *c)
{
	char b1[32], b2[32], tps[32] = "unknown";

	if (c->verdict != TRIT_CAND_FITS) {
		fprintf(out, "  -   tp %-2u pp %-2u ep %-2u %s: %s\n", c->par.tp, c->par.pp, c->par.ep,
		        verdict_name(c->verdict), c->why);
		return;
	}
	if (c->tokens_per_s >= 0)
		snprintf(tps, sizeof tps, "%.1f", c->tokens_per_s);
	fprintf(out, "  %-3u tp %-2u pp %-2u ep %-2u %4u %8u %10s %14s %12s\n", i + 1, c->par.tp,
	        c->par.pp, c->par.ep, c->n_gpus, c->n_machines, tps,
	        trit_format_bytes(most_bytes(c), b1, sizeof b1),
	        trit_format_bytes(c->net_bytes, b2, sizeof b2));
}

void trit_report_cluster_text(FILE *out, const struct trit_model *m, const struct trit_cluster *cl,
                              const struct trit_cplan *p, int explain)
{
	uint32_t shown = 0;

	fprintf(out, "Model       %s (%s, %u layers)\n", m->path, m->hp.arch, m->hp.n_layer);
	machines_text(out, cl);
	fprintf(out, "Searched    %u deployments (tp within a machine, pp within and across "
	        "machines%s): %u fit\n\n", p->n, m->hp.n_expert ? ", ep for the experts" : "",
	        p->n_fit);
	if (p->n_fit)
		fprintf(out, "  #   degrees          GPUs machines tokens/s  most per GPU  "
		        "network/token\n");
	for (uint32_t i = 0; i < p->n; i++) {
		const struct trit_cplan_candidate *c = &p->c[i];
		if (c->verdict == TRIT_CAND_FITS && (explain || shown < SHOWN)) {
			candidate_text(out, i, c);
			if (explain) /* why it ranks where it does */
				fprintf(out, "        %s\n", c->speed);
			shown++;
		}
	}
	if (p->n_fit > shown)
		fprintf(out, "  ... %u more that fit (--explain lists them)\n", p->n_fit - shown);
	if (explain) {
		fprintf(out, "\nLost:\n");
		for (uint32_t i = p->n_fit; i < p->n; i++)
			candidate_text(out, i, &p->c[i]);
	}
	if (!p->n_fit) {
		fprintf(out, "Verdict     nothing fits; --explain says why each deployment lost\n");
		return;
	}
	fprintf(out, "\nBest: tp %u x pp %u%s, %s\n\n", p->c[0].par.tp, p->c[0].par.pp,
	        p->c[0].par.ep > 1 ? " with ep" : "", p->c[0].speed);
	trit_report_parallel_text(out, m, &p->c[0].plan, p->c[0].gpus, explain);
}

/* ---------------------------------------------------------------- JSON */

static void machines_json(struct jb *jb, cJSON *root, const struct trit_cluster *cl)
{
	cJSON *o = chk(jb, cJSON_AddObjectToObject(root, "cluster")), *arr;

	if (!o)
		return;
	json_str(jb, o, "path", cl->path);
	if (cl->network)
		json_num(jb, o, "network", (double)cl->network);
	else
		chk(jb, cJSON_AddNullToObject(o, "network"));
	arr = chk(jb, cJSON_AddArrayToObject(o, "machines"));
	for (uint32_t i = 0; arr && i < cl->n_machines; i++) {
		const struct trit_cluster_machine *m = &cl->machines[i];
		cJSON *mo = chk(jb, cJSON_CreateObject());
		if (!mo)
			continue;
		cJSON_AddItemToArray(arr, mo);
		json_str(jb, mo, "name", m->name);
		json_str(jb, mo, "address", m->address);
		json_str(jb, mo, "devices", m->devices);
		json_num(jb, mo, "gpus", m->n_gpus);
		json_num(jb, mo, "ram", (double)m->ram);
		if (m->gpu_link)
			json_num(jb, mo, "gpu_link", (double)m->gpu_link);
		else
			chk(jb, cJSON_AddNullToObject(mo, "gpu_link"));
	}
}

static void candidate_json(struct jb *jb, cJSON *arr, const struct trit_cplan_candidate *c)
{
	cJSON *o = chk(jb, cJSON_CreateObject());

	if (!o)
		return;
	cJSON_AddItemToArray(arr, o);
	json_num(jb, o, "tp", c->par.tp);
	json_num(jb, o, "pp", c->par.pp);
	json_num(jb, o, "ep", c->par.ep);
	json_num(jb, o, "gpus", c->n_gpus);
	json_str(jb, o, "verdict", verdict_name(c->verdict));
	if (c->verdict != TRIT_CAND_FITS) {
		json_str(jb, o, "why", c->why);
		return;
	}
	json_num(jb, o, "machines", c->n_machines);
	if (c->tokens_per_s >= 0)
		json_num(jb, o, "tokens_per_s", c->tokens_per_s);
	else
		chk(jb, cJSON_AddNullToObject(o, "tokens_per_s"));
	json_str(jb, o, "speed", c->speed);
	json_num(jb, o, "most_bytes", (double)most_bytes(c));
	json_num(jb, o, "network_bytes_per_token", (double)c->net_bytes);
	json_num(jb, o, "link_bytes_per_token", (double)c->link_bytes);
}

char *trit_report_cluster_json(const struct trit_model *m, const struct trit_cluster *cl,
                               const struct trit_cplan *p, int explain)
{
	struct jb jb = { 0 };
	cJSON *root = cJSON_CreateObject(), *arr, *best;
	char *s = NULL;

	if (!root)
		return NULL;
	json_str(&jb, root, "model", m->path);
	machines_json(&jb, root, cl);
	json_num(&jb, root, "searched", p->n);
	json_num(&jb, root, "fit", p->n_fit);
	if ((arr = chk(&jb, cJSON_AddArrayToObject(root, "candidates"))))
		for (uint32_t i = 0; i < p->n; i++)
			candidate_json(&jb, arr, &p->c[i]);
	if (p->n_fit && (best = trit_report_parallel_tree(m, &p->c[0].plan, p->c[0].gpus, explain)))
		cJSON_AddItemToObject(root, "best", best);
	else if (p->n_fit)
		jb.oom = 1;
	else
		chk(&jb, cJSON_AddNullToObject(root, "best"));
	if (!jb.oom)
		s = cJSON_Print(root);
	cJSON_Delete(root);
	return s;
}
