/*
 * api_plan.c - models and plans in <trit/trit.h>: the model's facts, the
 * planner's options from the typed configuration, the devices offered to the
 * planner (with their [memory] limits), and the plan handle with its
 * getters and reports. Analysis is model.c's, planning plan.c's, rendering
 * report.c's; this file only connects them.
 */
#include <build-config.h>

#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/common.h"
#include "core/log.h"
#include "model/model.h"
#include "plan/plan.h"
#include "backend/registry.h"
#include "report/plan_model.h"
#include "report/report.h"

void trit_model_get_facts(const struct trit_model *m, struct trit_model_facts *out)
{
	const struct trit_hparams *hp = &m->hp;
	int layered = hp->n_layer > 0;

	*out = (struct trit_model_facts){
		.path = m->path,
		.format = m->format == TRIT_MODEL_GGUF ? "gguf" : "safetensors",
		.arch = hp->arch, .family = hp->family,
		.n_layer = hp->n_layer, .n_embd = hp->n_embd, .n_vocab = hp->n_vocab,
		.n_ctx_train = hp->n_ctx_train,
		.n_head = layered && hp->n_head ? hp->n_head[0] : 0,
		.n_head_kv = layered && hp->n_head_kv ? hp->n_head_kv[0] : 0,
		.n_ff = layered && hp->n_ff ? hp->n_ff[0] : 0,
		.n_expert = hp->n_expert, .n_expert_used = hp->n_expert_used,
		.n_params = m->n_params, .n_bytes = m->n_bytes, .file_bytes = m->file_bytes,
		.n_tensors = m->n_tensors, .n_files = m->n_files, .n_warnings = m->n_warnings,
		.primary_type = m->quant.primary, .mixed_types = m->quant.mixed,
		.bits_per_weight = m->quant.bits_per_weight,
		.ternary_kernels = m->quant.ternary_kernels,
		.ternary_why = m->quant.ternary_kernels ? "" : m->quant.ternary_why,
	};
}

void trit_model_report_text(const struct trit_model *m, FILE *out, int with_tensors)
{
	trit_report_model_text(out, m, with_tensors);
}

char *trit_model_report_json(const struct trit_model *m, int with_tensors)
{
	return trit_report_model_json(m, with_tensors);
}

int trit_model_report_json_write(const struct trit_model *m, FILE *out, int with_tensors)
{
	return trit_report_model_json_write(out, m, with_tensors);
}

void trit_runtime_plan_options(const struct trit_runtime *rt, struct trit_plan_options *out)
{
	const struct trit_config *c = &rt->cfg;
	int64_t ubatch = trit_config_int(c, "model", "ubatch", 0);

	/* Choice keys are typed as the index among their choices, which the
	 * schema lists in the enums' order (check_config holds it to that). */
	*out = (struct trit_plan_options){
		.n_ctx = (uint32_t)trit_config_int(c, "model", "context", 0),
		.n_ubatch = (uint32_t)(ubatch ? ubatch : trit_config_int(c, "model", "batch", 0)),
		.n_seq = (uint32_t)trit_config_int(c, "model", "sequences", 1),
		.kv_type = (enum trit_kv_type)trit_config_int(c, "model", "kv_type", TRIT_KV_F16),
		.headroom = trit_config_fraction(c, "memory", "headroom", -1),
		.kv_pad = (uint32_t)trit_config_int(c, "memory", "kv_pad", TRIT_KV_PAD),
		.strategy = (enum trit_strategy)trit_config_int(c, "planner", "strategy", 0),
		.priority = (enum trit_priority)trit_config_int(c, "planner", "priority", 0),
		.max_gpu_layers = (int32_t)trit_config_int(c, "planner", "max_gpu_layers", -1),
		.gpu_fraction = trit_config_fraction(c, "planner", "gpu_fraction", 0.90),
		.workspace_fraction = trit_config_fraction(c, "planner", "workspace_fraction", 0.80),
		.workspace_overhead = trit_config_fraction(c, "planner", "workspace_overhead", -1),
		.max_batch = (uint32_t)trit_config_int(c, "planner", "max_batch", 256),
		.threads = (uint32_t)trit_config_int(c, "runtime", "threads", 0),
	};
}

struct trit_plan_device *trit_api_plan_devices(const struct trit_registry *reg,
                                               const struct trit_config *cfg, uint32_t *n)
{
	size_t cap = 0;
	struct trit_plan_device *v;

	*n = 0;
	for (size_t i = 0; i < trit_registry_plugin_count(reg); i++)
		cap += trit_registry_plugin(reg, i)->n_devices;
	v = calloc(cap ? cap : 1, sizeof *v);
	for (size_t i = 0; v && i < trit_registry_plugin_count(reg); i++) {
		const struct trit_plugin_info *pi = trit_registry_plugin(reg, i);
		void *state = NULL;
		const struct trit_backend *be = trit_registry_backend(reg, i, &state);
		for (uint32_t k = 0; be && k < pi->n_devices; k++) {
			struct trit_plan_device *d = &v[(*n)++];
			char key[160];
			const struct trit_config_entry *e;
			*d = (struct trit_plan_device){ .dev = &pi->devices[k], .backend = pi->name,
			                                .be = be, .state = state, .index = k };
			snprintf(key, sizeof key, "limit.%s.%s", pi->name, d->dev->id);
			if ((e = trit_config_find(cfg, "memory", key))) {
				d->limit = e->size;
				d->limit_where = e->where;
			}
		}
	}
	return v;
}

static struct trit_plan_opts planner_opts(const struct trit_plan_options *o,
                                          const struct trit_bench_cache *bench)
{
	return (struct trit_plan_opts){
		.est = { .n_ctx = o->n_ctx, .n_ubatch = o->n_ubatch, .n_seq = o->n_seq,
		         .kv_type = o->kv_type, .headroom = o->headroom, .kv_pad = o->kv_pad,
		         .all_logits = o->all_logits },
		.force = o->strategy, .priority = o->priority, .max_gpu_layers = o->max_gpu_layers,
		.gpu_fraction = o->gpu_fraction, .workspace_fraction = o->workspace_fraction,
		.workspace_overhead = o->workspace_overhead, .max_batch = o->max_batch,
		.threads = o->threads, .bench = bench,
	};
}

int trit_plan_create(const struct trit_runtime *rt, const struct trit_model *m,
                     const struct trit_plan_options *o, struct trit_plan **out, char *err,
                     size_t errlen)
{
	const char *why;
	const struct trit_bench_cache *bench = trit_api_bench(rt, &why);
	struct trit_plan *p;
	int rc;

	*out = NULL;
	if (!rt->reg)
		return trit_errf(err, errlen, TRIT_EINVAL, "no devices to plan on: the runtime's "
		                 "devices were not opened (trit_runtime_open_devices)");
	if (why)
		trit_log(TRIT_LOG_WARN, "bench results not used: %s", why);
	p = calloc(1, sizeof *p);
	if (!p || !(p->devs = trit_api_plan_devices(rt->reg, &rt->cfg, &p->n_devs))) {
		free(p);
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	}
	struct trit_plan_opts po = planner_opts(o, bench);
	po.measure_process = !rt->described; /* this machine's process, not a described one */
	po.est.keep_floats = trit_config_int(&rt->cfg, "planner", "bitnet_floats", 0) == 1;
	switch (trit_config_int(&rt->cfg, "planner", "ternary_format", 0)) {
	case 1: po.ternary_format = TRIT_TYPE_I2_S; break;
	case 2: po.ternary_format = TRIT_TYPE_TL1; break;
	case 3: po.ternary_format = TRIT_TYPE_TL2; break;
	default: po.ternary_format = 0; break;
	}
	po.ternary_format_where = trit_config_where(&rt->cfg, "planner", "ternary_format");
	if ((rc = trit_plan_make(m, p->devs, p->n_devs, &po, &p->r, err, errlen))) {
		free(p->devs);
		free(p);
		return rc;
	}
	p->m = m;
	if (!(p->why = trit_pm_sentence(&p->r, TRIT_TOPIC_STRATEGY, -2))) {
		trit_plan_free(p);
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	}
	*out = p;
	return 0;
}

void trit_plan_free(struct trit_plan *p)
{
	if (!p)
		return;
	trit_plan_result_free(&p->r);
	free(p->devs);
	free(p->why);
	free(p);
}

void trit_plan_get_summary(const struct trit_plan *p, struct trit_plan_summary *out)
{
	const struct trit_plan_result *r = &p->r;

	*out = (struct trit_plan_summary){
		.strategy = r->strategy, .strategy_name = trit_strategy_name(r->strategy),
		.why = p->why, .n_devices = r->n_slots, .n_ctx = r->est.n_ctx, .ubatch = r->ubatch,
		.threads = r->threads, .gpu_fraction = r->gpu_fraction,
		.tokens_per_s = r->tokens_per_s, .max_ctx = r->max_ctx,
		.total_bytes = r->est.total, .headroom_bytes = r->est.headroom,
	};
}

int trit_plan_get_device(const struct trit_plan *p, uint32_t index,
                         struct trit_plan_device_info *out)
{
	const struct trit_plan_result *r = &p->r;
	const struct trit_plan_slot *s;

	if (index >= r->n_slots)
		return TRIT_ERANGE;
	s = &r->slots[index];
	*out = (struct trit_plan_device_info){
		.backend = p->devs[s->input].backend, .device_id = p->devs[s->input].dev->id,
		.n_layers = s->n_layers, .first_layer = s->first_layer, .usable = s->usable,
		.bytes = index < r->est.n_devices ? r->est.device_total[index] : 0,
		.headroom = index < r->est.n_devices ? r->est.device_headroom[index] : 0,
	};
	/* the repack format, else the one ternary type run as stored */
	if (s->format && trit_type_traits(s->format))
		out->ternary_format = trit_type_traits(s->format)->name;
	else if (index < r->est.n_devices && r->est.repack)
		for (uint32_t t = 0; t < TRIT_TYPE_COUNT && t < 32; t++)
			if ((r->est.repack[index].as_is_types & (1u << t)) && trit_type_traits(t) &&
			    trit_type_traits(t)->is_ternary)
				out->ternary_format = trit_type_traits(t)->name;
	return 0;
}

void trit_plan_report_text(const struct trit_plan *p, FILE *out, int explain)
{
	trit_report_plan_text(out, p->m, &p->r, p->devs, explain);
}

char *trit_plan_report_json(const struct trit_plan *p, int explain)
{
	return trit_report_plan_json(p->m, &p->r, p->devs, explain);
}
