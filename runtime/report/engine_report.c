/*
 * engine_report.c - `trit plan MODEL --engine llama.cpp`: the buffers
 * llama.cpp allocates for the model on the CPU, each with what it holds,
 * and the three moments of its graph the compute buffer is the largest of.
 * Decides nothing.
 */
#include <build-config.h>

#include "core/common.h"
#include "plan/estimate.h"
#include "report/engine_report.h"
#include "report/json_build.h"

#define LLAMACPP_VERSION "llama.cpp v0.5.0 (as node-llama-cpp 3.22.1 ships it)"

void trit_report_llamacpp_text(FILE *out, const struct trit_model *m,
                               const struct trit_llamacpp_opts *o,
                               const struct trit_llamacpp_mem *p)
{
	char b[32];

	fprintf(out, "Model       %s (%s, %u layers)\n", m->path, m->hp.arch, m->hp.n_layer);
	fprintf(out, "Engine      %s on the CPU; its own buffers, not trit's "
	        "(docs/llamacpp-memory.md)\n", LLAMACPP_VERSION);
	fprintf(out, "Context     %u cells, graph of %u tokens, KV %s, %u sequence%s, flash "
	        "attention %s%s\n", p->n_ctx, p->n_tokens, trit_kv_type_name(o->kv_type),
	        o->n_seq ? o->n_seq : 1, o->n_seq > 1 ? "s" : "", p->flash_attn ? "on" : "off",
	        o->fa == TRIT_FA_AUTO ? " (auto)" : "");
	fprintf(out, "  model     %12s  the tensor data, mapped\n",
	        trit_format_bytes(p->model, b, sizeof b));
	fprintf(out, "  KV cache  %12s\n", trit_format_bytes(p->kv, b, sizeof b));
	if (!p->compute) {
		fprintf(out, "  compute   %12s  %s\n", "unknown", p->compute_why);
		return;
	}
	fprintf(out, "  compute   %12s  the largest of:\n", trit_format_bytes(p->compute, b, sizeof b));
	fprintf(out, "              logits     %12s\n", trit_format_bytes(p->logits_phase, b, sizeof b));
	if (p->flash_attn)
		fprintf(out, "              attention  %12s  (flash attention keeps no scores)\n", "-");
	else
		fprintf(out, "              attention  %12s\n",
		        trit_format_bytes(p->attention_phase, b, sizeof b));
	fprintf(out, "              FFN        %12s\n", trit_format_bytes(p->ffn_phase, b, sizeof b));
	fprintf(out, "  total     %12s\n",
	        trit_format_bytes(p->model + p->kv + p->compute, b, sizeof b));
}

char *trit_report_llamacpp_json(const struct trit_model *m, const struct trit_llamacpp_opts *o,
                                const struct trit_llamacpp_mem *p)
{
	struct jb jb = { 0 };
	cJSON *root = cJSON_CreateObject(), *bufs, *phases;
	char *s = NULL;

	if (!root)
		return NULL;
	json_str(&jb, root, "model", m->path);
	json_str(&jb, root, "engine", "llama.cpp");
	json_str(&jb, root, "version", LLAMACPP_VERSION);
	json_str(&jb, root, "device", "CPU");
	json_num(&jb, root, "n_ctx", p->n_ctx);
	json_num(&jb, root, "graph_tokens", p->n_tokens);
	json_str(&jb, root, "kv_type", trit_kv_type_name(o->kv_type));
	json_num(&jb, root, "sequences", o->n_seq ? o->n_seq : 1);
	json_str(&jb, root, "flash_attn", p->flash_attn ? "on" : "off");
	if ((bufs = chk(&jb, cJSON_AddObjectToObject(root, "buffers")))) {
		json_num(&jb, bufs, "model", (double)p->model);
		json_num(&jb, bufs, "kv", (double)p->kv);
		if (p->compute)
			json_num(&jb, bufs, "compute", (double)p->compute);
		else
			chk(&jb, cJSON_AddNullToObject(bufs, "compute"));
	}
	json_str(&jb, root, "compute_why", p->compute ? NULL : p->compute_why);
	if (p->compute && (phases = chk(&jb, cJSON_AddObjectToObject(root, "compute_phases")))) {
		json_num(&jb, phases, "logits", (double)p->logits_phase);
		json_num(&jb, phases, "attention", (double)p->attention_phase);
		json_num(&jb, phases, "ffn", (double)p->ffn_phase);
	}
	if (!jb.oom)
		s = cJSON_Print(root);
	cJSON_Delete(root);
	return s;
}
