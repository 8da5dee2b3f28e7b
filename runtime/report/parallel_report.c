/*
 * parallel_report.c - `trit plan --tp/--pp/--ep`: the degrees, each pipeline
 * stage's layers and what one of its ranks holds, every rank's GPU and
 * whether it fits, the sharding rules applied; explain adds every buffer of
 * one rank per stage with its rule. Text for people, JSON (docs/json.md,
 * "Parallel plan") for programs. Decides nothing.
 */
#include <build-config.h>

#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "report/json_build.h"
#include "report/parallel_report.h"

/* Components one rank's line lists (workspace is the engine's own). */
static const enum trit_mem_component shown[] = {
	TRIT_MEM_WEIGHTS, TRIT_MEM_KV, TRIT_MEM_ACTIVATIONS, TRIT_MEM_OVERHEAD
};

static void stage_title(FILE *out, const struct trit_pplan *p, uint32_t s)
{
	uint32_t pp = p->par.pp;

	fprintf(out, "Stage %u: layers %u-%u (%u)%s%s\n", s, p->first[s],
	        p->first[s] + p->count[s] - 1, p->count[s], s == 0 ? ", embeddings" : "",
	        s + 1 == pp ? ", output norm and head" : "");
}

static void stage_text(FILE *out, const struct trit_pplan *p, const struct trit_pplan_gpu *gpus,
                       uint32_t s)
{
	const struct trit_estimate *e = &p->est;
	char b[32], b2[32], b3[32];

	stage_title(out, p, s);
	fprintf(out, "  one rank holds");
	for (size_t c = 0; c < TRIT_ARRAY_LEN(shown); c++)
		fprintf(out, "%s %s %s", c ? "," : "", trit_mem_component_name(shown[c]),
		        trit_format_bytes(e->device[s][shown[c]], b, sizeof b));
	fprintf(out, " = %s\n", trit_format_bytes(e->device_total[s], b, sizeof b));
	for (uint32_t i = 0; i < p->n_ranks; i++) {
		const struct trit_pplan_rank *r = &p->ranks[i];
		const struct trit_pplan_gpu *g = r->gpu != TRIT_PPLAN_NO_GPU ? &gpus[r->gpu] : NULL;
		if (r->stage != s)
			continue;
		if (!g) {
			fprintf(out, "  rank %-3u no GPU left\n", r->rank);
			continue;
		}
		fprintf(out, "  rank %-3u %s%s%-14s needs %s + %s headroom of %s usable: %s\n",
		        r->rank, g->host, g->host[0] ? ":" : "", g->name,
		        trit_format_bytes(r->need, b, sizeof b),
		        trit_format_bytes(r->headroom, b2, sizeof b2),
		        trit_format_bytes(g->usable, b3, sizeof b3), r->fits ? "fits" : "DOES NOT FIT");
	}
}

/* The rules this model's tensors were sharded by, with the tensors' roles. */
static void rules_text(FILE *out, const struct trit_model *m, const struct trit_pplan *p)
{
	const struct trit_hparams *hp = &m->hp;
	uint32_t kv = hp->n_layer && hp->n_head_kv ? hp->n_head_kv[0] : 0;
	uint32_t tp = p->par.tp;

	fprintf(out, "Sharding (vLLM's rules, docs/memory.md):\n");
	if (tp > 1) {
		fprintf(out, "  heads/tp     q and o projections: %u of %u attention heads per rank\n",
		        hp->n_layer && hp->n_head ? hp->n_head[0] / tp : 0,
		        hp->n_layer && hp->n_head ? hp->n_head[0] : 0);
		if (!hp->kv_lora_rank)
			fprintf(out, "  kv-heads/tp  k and v projections and the KV cache: %u of %u KV "
			        "heads per rank%s\n", kv / tp ? kv / tp : 1, kv,
			        kv < tp ? " (replicated: fewer KV heads than ranks)" : "");
		else
			fprintf(out, "  MLA          the compressed KV cache is whole on every rank\n");
		fprintf(out, "  ffn/tp       gate, up and down: 1/%u of the feed-forward width%s\n", tp,
		        hp->n_expert && p->par.ep <= 1 ? " (each expert's too)" : "");
		fprintf(out, "  vocab/tp     embeddings and output head: %u rows padded to a multiple "
		        "of %u, 1/%u per rank\n", hp->n_vocab, TRIT_PARALLEL_VOCAB_PAD, tp);
	}
	if (p->par.ep > 1)
		fprintf(out, "  experts/ep   %u of %u whole experts per rank; the attention %s\n",
		        hp->n_expert / p->par.ep, hp->n_expert, p->par.ep > tp ?
		        "runs data-parallel (ep/tp copies)" : "as with tp");
	fprintf(out, "  replicated   norms, routers%s\n",
	        tp == 1 && p->par.ep == 1 ? ", and every matrix (no tensor parallelism)" : "");
}

/* explain: every buffer of one rank of stage s, with its rule. */
static void buffers_text(FILE *out, const struct trit_model *m, const struct trit_pplan *p,
                         uint32_t s)
{
	const struct trit_estimate *e = &p->est;
	char b[32];

	fprintf(out, "  buffers of one rank of stage %u:\n", s);
	for (size_t i = 0; i < e->n_buffers; i++) {
		const struct trit_mem_buffer *bf = &e->buffers[i];
		enum trit_shard_rule rule = TRIT_SHARD_REPLICATED;
		if (bf->device != s)
			continue;
		if (bf->tensor >= 0 && (size_t)bf->tensor < m->n_tensors)
			trit_parallel_tensor_bytes(m, &m->tensors[bf->tensor], 1, p->par.tp, p->par.ep,
			                           &rule);
		fprintf(out, "    %-40s %-11s %12s  %s\n", bf->name,
		        trit_mem_component_name((enum trit_mem_component)bf->component),
		        trit_format_bytes(bf->bytes, b, sizeof b),
		        bf->tensor >= 0 ? trit_shard_rule_name(rule) :
		        bf->component == TRIT_MEM_KV && p->par.tp > 1 ? "kv-heads/tp" : "");
	}
}

void trit_report_parallel_text(FILE *out, const struct trit_model *m, const struct trit_pplan *p,
                               const struct trit_pplan_gpu *gpus, int explain)
{
	const struct trit_estimate *e = &p->est;

	fprintf(out, "Model       %s (%s, %u layers)\n", m->path, m->hp.arch, m->hp.n_layer);
	fprintf(out, "Parallel    tp %u x pp %u%s = %u GPUs (%u per stage)\n", p->par.tp, p->par.pp,
	        p->par.ep > 1 ? " with ep" : "", p->n_ranks, p->stage_ranks);
	if (p->par.ep > 1)
		fprintf(out, "            ep %u: experts split over the %u GPUs of each stage\n",
		        p->par.ep, p->stage_ranks);
	fprintf(out, "Engine      another engine runs it (vLLM, llama.cpp RPC); trit runs no "
	        "parallel deployment\n");
	fprintf(out, "Context     %u tokens, KV %s, ubatch %u\n", e->n_ctx,
	        trit_kv_type_name(e->kv_type), e->n_ubatch);
	if (p->fits)
		fprintf(out, "Verdict     fits: every rank on its GPU with headroom\n\n");
	else
		fprintf(out, "Verdict     does not fit: %s\n\n", p->why);
	for (uint32_t s = 0; s < p->par.pp; s++) {
		stage_text(out, p, gpus, s);
		if (explain)
			buffers_text(out, m, p, s);
	}
	fputc('\n', out);
	rules_text(out, m, p);
	for (uint32_t i = 0; i < e->n_notes; i++)
		fprintf(out, "%s%s\n", i ? "            " : "Notes       ", e->notes[i]);
}

/* ---------------------------------------------------------------- JSON */

static void rank_bytes_json(struct jb *jb, cJSON *st, const struct trit_estimate *e, uint32_t s)
{
	cJSON *o = chk(jb, cJSON_AddObjectToObject(st, "rank_bytes"));

	if (!o)
		return;
	for (size_t c = 0; c < TRIT_ARRAY_LEN(shown); c++)
		json_num(jb, o, trit_mem_component_name(shown[c]), (double)e->device[s][shown[c]]);
	chk(jb, cJSON_AddNullToObject(o, "workspace"));
	json_num(jb, o, "total", (double)e->device_total[s]);
}

static void ranks_json(struct jb *jb, cJSON *st, const struct trit_pplan *p,
                       const struct trit_pplan_gpu *gpus, uint32_t s)
{
	cJSON *arr = chk(jb, cJSON_AddArrayToObject(st, "ranks"));

	for (uint32_t i = 0; arr && i < p->n_ranks; i++) {
		const struct trit_pplan_rank *r = &p->ranks[i];
		const struct trit_pplan_gpu *g = r->gpu != TRIT_PPLAN_NO_GPU ? &gpus[r->gpu] : NULL;
		cJSON *o;
		if (r->stage != s || !(o = chk(jb, cJSON_CreateObject())))
			continue;
		cJSON_AddItemToArray(arr, o);
		json_num(jb, o, "rank", r->rank);
		json_str(jb, o, "host", g ? g->host : NULL);
		json_str(jb, o, "gpu", g ? g->name : NULL);
		json_num(jb, o, "bytes", (double)r->need);
		json_num(jb, o, "headroom", (double)r->headroom);
		if (g)
			json_num(jb, o, "usable", (double)g->usable);
		else
			chk(jb, cJSON_AddNullToObject(o, "usable"));
		chk(jb, cJSON_AddBoolToObject(o, "fits", r->fits));
	}
}

static void buffers_json(struct jb *jb, cJSON *st, const struct trit_model *m,
                         const struct trit_pplan *p, uint32_t s)
{
	cJSON *arr = chk(jb, cJSON_AddArrayToObject(st, "buffers"));

	for (size_t i = 0; arr && i < p->est.n_buffers; i++) {
		const struct trit_mem_buffer *bf = &p->est.buffers[i];
		enum trit_shard_rule rule = TRIT_SHARD_REPLICATED;
		cJSON *o;
		if (bf->device != s || !(o = chk(jb, cJSON_CreateObject())))
			continue;
		cJSON_AddItemToArray(arr, o);
		json_str(jb, o, "name", bf->name);
		json_str(jb, o, "component",
		         trit_mem_component_name((enum trit_mem_component)bf->component));
		json_num(jb, o, "bytes", (double)bf->bytes);
		if (bf->tensor >= 0 && (size_t)bf->tensor < m->n_tensors) {
			trit_parallel_tensor_bytes(m, &m->tensors[bf->tensor], 1, p->par.tp, p->par.ep,
			                           &rule);
			json_str(jb, o, "rule", trit_shard_rule_name(rule));
		}
	}
}

static void stages_json(struct jb *jb, cJSON *root, const struct trit_model *m,
                        const struct trit_pplan *p, const struct trit_pplan_gpu *gpus, int explain)
{
	cJSON *arr = chk(jb, cJSON_AddArrayToObject(root, "stages"));

	for (uint32_t s = 0; arr && s < p->par.pp; s++) {
		cJSON *st = chk(jb, cJSON_CreateObject());
		if (!st)
			continue;
		cJSON_AddItemToArray(arr, st);
		json_num(jb, st, "stage", s);
		json_num(jb, st, "first_layer", p->first[s]);
		json_num(jb, st, "layers", p->count[s]);
		chk(jb, cJSON_AddBoolToObject(st, "embeddings", s == 0));
		chk(jb, cJSON_AddBoolToObject(st, "output", s + 1 == p->par.pp));
		rank_bytes_json(jb, st, &p->est, s);
		ranks_json(jb, st, p, gpus, s);
		if (explain)
			buffers_json(jb, st, m, p, s);
	}
}

cJSON *trit_report_parallel_tree(const struct trit_model *m, const struct trit_pplan *p,
                                 const struct trit_pplan_gpu *gpus, int explain)
{
	struct jb jb = { 0 };
	cJSON *root = cJSON_CreateObject(), *par, *notes;

	if (!root)
		return NULL;
	json_str(&jb, root, "model", m->path);
	if ((par = chk(&jb, cJSON_AddObjectToObject(root, "parallel")))) {
		json_num(&jb, par, "tp", p->par.tp);
		json_num(&jb, par, "pp", p->par.pp);
		json_num(&jb, par, "ep", p->par.ep);
		json_num(&jb, par, "gpus_per_stage", p->stage_ranks);
		json_num(&jb, par, "gpus", p->n_ranks);
		json_str(&jb, par, "rules", "vllm");
	}
	json_num(&jb, root, "n_ctx", p->est.n_ctx);
	json_num(&jb, root, "ubatch", p->est.n_ubatch);
	json_str(&jb, root, "kv_type", trit_kv_type_name(p->est.kv_type));
	json_num(&jb, root, "gpus_offered", p->n_gpus);
	chk(&jb, cJSON_AddBoolToObject(root, "fits", p->fits));
	json_str(&jb, root, "why", p->fits ? NULL : p->why);
	stages_json(&jb, root, m, p, gpus, explain);
	if ((notes = chk(&jb, cJSON_AddArrayToObject(root, "notes"))))
		for (uint32_t i = 0; i < p->est.n_notes; i++)
			if (!cJSON_AddItemToArray(notes, chk(&jb, cJSON_CreateString(p->est.notes[i]))))
				jb.oom = 1;
	if (jb.oom) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

char *trit_report_parallel_json(const struct trit_model *m, const struct trit_pplan *p,
                                const struct trit_pplan_gpu *gpus, int explain)
{
	cJSON *root = trit_report_parallel_tree(m, p, gpus, explain);
	char *s = root ? cJSON_Print(root) : NULL;

	cJSON_Delete(root);
	return s;
}
