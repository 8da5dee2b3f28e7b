/*
 * api_run.c - sessions and runs in <trit/trit.h>: load a model where its
 * plan says (re-planning once when a device has less memory than planned),
 * set up the forward pass with the plan's context, ubatch, KV type and
 * threads, read the tokenizer, and generate. Loading is load/'s, the forward
 * pass exec/'s, tokens and sampling text/'s, rendering report/'s; this file
 * connects them and measures what the run used.
 */
#include <build-config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "backend/registry.h"
#include "core/common.h"
#include "core/log.h"
#include "core/proc.h"
#include "exec/forward.h"
#include "exec/generate.h"
#include "exec/sched.h"
#include "load/load.h"
#include "model/gguf.h"
#include "bench/bench.h"
#include "report/run_report.h"
#include "text/chat.h"
#include "text/vocab.h"

struct trit_session {
	struct trit_runtime *rt;
	const struct trit_model *m;
	const struct trit_plan *plan;       /* the one loaded: the caller's or own_plan */
	struct trit_plan *own_plan;         /* made at load when memory was short */
	char *replanned;
	struct trit_load_target *targets;
	struct trit_sched_target *sched;    /* the same, as the forward pass takes them */
	char (*names)[96];
	const char **name_ptrs;
	uint32_t n_targets;
	struct trit_sched_target fallback;
	struct trit_weights *w;
	struct trit_load_report load;
	struct trit_forward *fwd;
	struct trit_vocab *vocab;
	char *chat_template;                /* tokenizer.chat_template, or NULL */
	uint64_t rss_start;
	int peak_reset;
	const struct trit_session_options *opts;
	int all_logits;                     /* opts->all_logits, kept (opts is borrowed) */
	uint32_t n_past;                    /* KV positions filled since the last reset */
};

struct trit_run_report {
	struct trit_gen_result gen;
	struct trit_run_view view;
	char *plan_json, *load_json;
	struct trit_run_dev_mem *devs;      /* view.devs */
	char *device;                       /* view.device */
};

static uint32_t kv_trit_type(enum trit_kv_type t)
{
	return t == TRIT_KV_F32 ? TRIT_TYPE_F32 : t == TRIT_KV_Q8_0 ? TRIT_TYPE_Q8_0 : TRIT_TYPE_F16;
}

static const char *kv_name(enum trit_kv_type t)
{
	return t == TRIT_KV_F32 ? "f32" : t == TRIT_KV_Q8_0 ? "q8_0" : "f16";
}

static void free_targets(struct trit_session *s)
{
	free(s->targets);
	free(s->sched);
	free(s->names);
	free(s->name_ptrs);
	s->targets = NULL;
	s->sched = NULL;
	s->names = NULL;
	s->name_ptrs = NULL;
	s->n_targets = 0;
}

/* One load target per plan slot, named "backend/device". */
static int make_targets(struct trit_session *s, char *err, size_t errlen)
{
	const struct trit_plan_result *r = &s->plan->r;
	uint32_t n = r->n_slots;

	free_targets(s);
	s->targets = calloc(n ? n : 1, sizeof *s->targets);
	s->sched = calloc(n ? n : 1, sizeof *s->sched);
	s->names = calloc(n ? n : 1, sizeof *s->names);
	s->name_ptrs = calloc(n ? n : 1, sizeof *s->name_ptrs);
	if (!s->targets || !s->sched || !s->names || !s->name_ptrs)
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	for (uint32_t i = 0; i < n; i++) {
		const struct trit_plan_device *d = &s->plan->devs[r->slots[i].input];
		snprintf(s->names[i], sizeof s->names[i], "%s/%s", d->backend, d->dev->id);
		s->name_ptrs[i] = s->names[i];
		s->sched[i] = (struct trit_sched_target){ .be = d->be, .state = d->state,
		                                          .device = d->index, .name = s->names[i] };
		s->targets[i] = (struct trit_load_target){ .t = s->sched[i],
		                                           .ternary_type = r->slots[i].format };
	}
	s->n_targets = n;
	return 0;
}

static void on_load_progress(void *ctx, const struct trit_load_progress *p)
{
	const struct trit_session_options *o = ctx;
	struct trit_load_status st = {
		.done_bytes = p->done_bytes, .total_bytes = p->total_bytes,
		.done_tensors = p->done_tensors, .total_tensors = p->total_tensors,
		.tensor = p->tensor, .seconds = p->seconds,
	};

	o->progress(o->ctx, &st);
}

static int load_plan(struct trit_session *s, char *err, size_t errlen)
{
	const struct trit_plan_result *r = &s->plan->r;
	struct trit_load_spec spec = {
		.layer_target = r->layer_slot, .embd_target = r->embd_slot,
		.output_target = r->output_slot,
		.allow_zero_copy = !(s->opts && s->opts->no_zero_copy),
		.ternarise_floats = !r->est.keep_floats,
	};
	int rc;

	if (r->strategy == TRIT_STRATEGY_NONE)
		return trit_errf(err, errlen, TRIT_ENOMEM, "the plan fits the model nowhere: "
		                 "nothing to load (see trit plan for the largest context that fits)");
	if ((rc = make_targets(s, err, errlen)))
		return rc;
	spec.targets = s->targets;
	spec.n_targets = s->n_targets;
	if (s->opts && s->opts->progress) {
		spec.progress = on_load_progress;
		spec.progress_ctx = (void *)s->opts;
	}
	return trit_load(s->m, &spec, &s->w, &s->load, err, errlen);
}

/* Measure again every device whose free memory a plan can use (the others,
 * such as the reference backend's, have none to re-measure). */
static void remeasure(struct trit_session *s)
{
	const struct trit_plan *old = s->plan;
	char e2[512];

	for (uint32_t i = 0; i < old->n_devs; i++) {
		const struct trit_plan_device *d = &old->devs[i];
		if (d->dev->mem_free.state == TRIT_VALUE_UNKNOWN)
			continue;
		for (size_t k = 0; k < trit_registry_plugin_count(s->rt->reg); k++)
			if (strcmp(trit_registry_plugin(s->rt->reg, k)->name, d->backend) == 0 &&
			    trit_registry_remeasure(s->rt->reg, k, d->index, e2, sizeof e2))
				trit_log(TRIT_LOG_WARN, "re-measuring %s/%s: %s", d->backend, d->dev->id,
				         e2);
	}
}

/* "cpu_avx2/cpu0 (layers 0-3)" for each device the plan puts layers on. */
static char *layer_places(const struct trit_plan *p)
{
	const struct trit_plan_result *r = &p->r;
	char buf[512] = "";
	size_t n = 0;

	for (uint32_t i = 0; i < r->n_slots && n < sizeof buf; i++) {
		const struct trit_plan_slot *sl = &r->slots[i];
		const struct trit_plan_device *d = &p->devs[sl->input];
		if (sl->n_layers)
			n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s/%s (layers %u-%u)",
			                      n ? ", " : "", d->backend, d->dev->id, sl->first_layer,
			                      sl->first_layer + sl->n_layers - 1);
	}
	return trit_strdup(n ? buf : "no layers");
}

/* Measure the devices again and plan with what is free now, for the
 * context and KV cache type the caller's plan was made for. */
static int replan(struct trit_session *s, const char *why, char *err, size_t errlen)
{
	struct trit_plan_options po;
	const struct trit_plan *old = s->plan;
	char *where;
	int rc;

	remeasure(s);
	trit_runtime_plan_options(s->rt, &po);
	po.n_ctx = old->r.est.n_ctx;
	po.kv_type = old->r.est.kv_type;
	po.all_logits = s->all_logits;
	if ((rc = trit_plan_create(s->rt, s->m, &po, &s->own_plan, err, errlen))) {
		char *e = trit_strdup(err);
		trit_errf(err, errlen, rc, "%s; re-planning with the memory measured now failed: %s",
		          why, e ? e : "out of memory");
		free(e);
		return rc;
	}
	s->plan = s->own_plan;
	if (s->plan->r.strategy == TRIT_STRATEGY_NONE)
		return trit_errf(err, errlen, TRIT_ENOMEM, "%s; with the memory measured now the "
		                 "model fits nowhere", why);
	if (!(where = layer_places(s->plan)))
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	s->replanned = trit_asprintf("%s; re-planned with the memory measured now: %s, %s", why,
	                             trit_strategy_name(s->plan->r.strategy), where);
	free(where);
	if (!s->replanned)
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	trit_log(TRIT_LOG_WARN, "%s", s->replanned);
	return 0;
}

static int make_forward(struct trit_session *s, char *err, size_t errlen)
{
	const struct trit_plan_result *r = &s->plan->r;
	struct trit_forward_params fp = {
		.model = s->m, .weights = s->w, .targets = s->sched, .n_targets = s->n_targets,
		.layer_target = r->layer_slot, .embd_target = r->embd_slot,
		.output_target = r->output_slot, .fallback = &s->fallback,
		.n_ctx = r->est.n_ctx, .n_ubatch = r->ubatch ? r->ubatch : 1,
		.kv_type = kv_trit_type(r->est.kv_type), .n_threads = r->threads,
		.all_logits = s->all_logits,
	};

	return trit_forward_new(&fp, &s->fwd, err, errlen);
}

/* The weights where the plan says and the forward pass over them (its KV
 * cache and activation arena are allocated on the plan's devices too). */
static int load_and_start(struct trit_session *s, char *err, size_t errlen)
{
	int rc = load_plan(s, err, errlen);

	return rc ? rc : make_forward(s, err, errlen);
}

/* Load and start as the plan says; when a device turns out to have less
 * memory than planned (TRIT_ENOMEM from the loader's check or from an
 * allocation of weights, KV cache or arena), drop what was placed, re-plan
 * once with the memory measured now and load that plan. */
static int load_with_replan(struct trit_session *s, char *err, size_t errlen)
{
	int rc = load_and_start(s, err, errlen);
	char *why;

	if (rc != TRIT_ENOMEM || s->plan->r.strategy == TRIT_STRATEGY_NONE)
		return rc;
	trit_forward_free(s->fwd);
	trit_weights_free(s->w);
	s->fwd = NULL;
	s->w = NULL;
	if (!(why = trit_strdup(err)))
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	rc = replan(s, why, err, errlen);
	free(why);
	if (rc || (rc = load_and_start(s, err, errlen)) == 0)
		return rc;
	if (!(why = trit_strdup(err)))
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	trit_errf(err, errlen, rc, "%s; and the new plan failed too: %s", s->replanned, why);
	free(why);
	return rc;
}

/* The vocabulary and chat template, from the model's GGUF. */
static int read_tokenizer(struct trit_session *s, char *err, size_t errlen)
{
	struct trit_gguf *g;
	struct trit_gguf_str tpl;
	int rc;

	if (s->m->format != TRIT_MODEL_GGUF || s->m->n_files < 1)
		return trit_errf(err, errlen, TRIT_EUNSUPPORTED, "%s: trit run reads the tokenizer "
		                 "from GGUF files only", s->m->path);
	if ((rc = trit_gguf_open(s->m->files[0], &g, err, errlen)))
		return rc;
	rc = trit_vocab_load(g, &s->vocab, err, errlen);
	if (!rc && trit_gguf_get_str(g, "tokenizer.chat_template", &tpl) == 0 &&
	    !(s->chat_template = strndup(tpl.s, (size_t)tpl.len)))
		rc = trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	trit_gguf_close(g);
	return rc;
}

int trit_session_new(struct trit_runtime *rt, const struct trit_model *m,
                     const struct trit_plan *p, const struct trit_session_options *o,
                     struct trit_session **out, char *err, size_t errlen)
{
	struct trit_session *s;
	int rc;

	*out = NULL;
	if (!rt->reg)
		return trit_errf(err, errlen, TRIT_EINVAL, "no devices: the runtime's devices were "
		                 "not opened (trit_runtime_open_devices)");
	if (!(s = calloc(1, sizeof *s)))
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	*s = (struct trit_session){ .rt = rt, .m = m, .plan = p, .opts = o,
	                            .all_logits = o && o->all_logits };
	s->rss_start = trit_rss_now();
	if ((rc = trit_sched_fallback(rt->reg, &s->fallback, err, errlen)) ||
	    (rc = read_tokenizer(s, err, errlen)) ||
	    (rc = load_with_replan(s, err, errlen))) {
		trit_session_free(s);
		return rc;
	}
	s->peak_reset = s->load.peak_source == TRIT_LOAD_PEAK_HWM;
	*out = s;
	return 0;
}

void trit_session_free(struct trit_session *s)
{
	if (!s)
		return;
	trit_forward_free(s->fwd);
	trit_weights_free(s->w);
	trit_vocab_free(s->vocab);
	free(s->chat_template);
	trit_plan_free(s->own_plan);
	free(s->replanned);
	free_targets(s);
	free(s);
}

uint32_t trit_session_n_vocab(const struct trit_session *s)
{
	return trit_forward_n_vocab(s->fwd);
}

uint32_t trit_session_n_ctx(const struct trit_session *s)
{
	return s->plan->r.est.n_ctx;
}

int trit_session_eval(struct trit_session *s, const int32_t *tokens, uint32_t n, uint32_t pos0,
                      float *logits, char *err, size_t errlen)
{
	int rc;

	if (!n || !tokens)
		return trit_errf(err, errlen, TRIT_EINVAL, "no tokens to evaluate");
	if (pos0 > s->n_past)
		return trit_errf(err, errlen, TRIT_EINVAL, "position %u: the KV cache holds "
		                 "positions below %u only (evaluate from there, or from 0)", pos0,
		                 s->n_past);
	rc = trit_forward_eval(s->fwd, tokens, n, pos0, logits, err, errlen);
	s->n_past = rc ? pos0 : pos0 + n; /* a failed eval may have written part of its range */
	return rc;
}

void trit_session_reset(struct trit_session *s)
{
	s->n_past = 0;
}

const struct trit_vocab *trit_api_session_vocab(const struct trit_session *s)
{
	return s->vocab;
}

int trit_api_session_all_logits(const struct trit_session *s)
{
	return s->all_logits;
}

const struct trit_plan *trit_session_plan(const struct trit_session *s)
{
	return s->plan;
}

const char *trit_session_replanned(const struct trit_session *s)
{
	return s->replanned;
}

void trit_session_load_report_text(const struct trit_session *s, FILE *out)
{
	trit_report_load_text(out, &s->load, s->name_ptrs);
}

char *trit_session_load_report_json(const struct trit_session *s)
{
	return trit_report_load_json(&s->load, s->name_ptrs);
}

/* ------------------------------------------------------------ generation */

void trit_generate_options_default(struct trit_generate_options *o)
{
	struct trit_sampler_params d = trit_sampler_params_default();

	*o = (struct trit_generate_options){
		.n_predict = 128, .temperature = d.temperature, .top_k = d.top_k, .top_p = d.top_p,
		.min_p = d.min_p, .repeat_penalty = d.repeat_penalty,
		.repeat_last_n = d.repeat_last_n, .seed = d.seed,
	};
}

/* The prompt as the model sees it: chat-formatted as a user turn when asked. */
static int format_prompt(const struct trit_session *s, const struct trit_generate_options *o,
                         char **out, char *err, size_t errlen)
{
	struct trit_chat_msg msgs[2];
	size_t n = 0;

	if (!o->chat) {
		*out = trit_strdup(o->prompt);
		return *out ? 0 : trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	}
	if (o->system)
		msgs[n++] = (struct trit_chat_msg){ TRIT_CHAT_SYSTEM, o->system };
	msgs[n++] = (struct trit_chat_msg){ TRIT_CHAT_USER, o->prompt };
	return trit_chat_format(o->chat_template, s->chat_template, NULL, msgs, n, 1, out, err,
	                        errlen);
}

/* Planned bytes of one component over the plan's devices. */
static uint64_t planned(const struct trit_plan_result *r, enum trit_mem_component c)
{
	uint64_t b = 0;

	for (uint32_t i = 0; i < r->est.n_devices; i++)
		b += r->est.device[i][c];
	return b;
}

/* Planned bytes of the plan's named buffers starting with `prefix`, all devices. */
static uint64_t planned_named(const struct trit_plan_result *r, const char *prefix)
{
	uint64_t b = 0;

	for (uint32_t i = 0; i < r->est.n_devices; i++)
		b += trit_estimate_named(&r->est, i, prefix);
	return b;
}

/* The overhead the plan counted that neither row below measures: a GPU's
 * context, which no host counter sees. */
static void device_overhead_row(const struct trit_plan_result *r, struct trit_run_view *v)
{
	uint64_t all = planned(r, TRIT_MEM_OVERHEAD);
	uint64_t host = planned_named(r, "process.baseline") + planned_named(r, "host.");

	if (all > host)
		v->rows[v->n_rows++] = (struct trit_run_mem_row){
			"device ovh.", all - host, 0, 0,
			"a device's own context: no host counter sees it" };
}

/* The plan's bytes on devices whose buffers are host memory (a CPU, or
 * mem.pool "host"): what the process's resident set can be held to. A
 * discrete GPU's buffers and context are not in it. */
static uint64_t planned_host(const struct trit_session *s)
{
	const struct trit_plan_result *r = &s->plan->r;
	uint64_t b = 0;

	for (uint32_t i = 0; i < r->n_slots && i < r->est.n_devices; i++)
		if (trit_bench_host_memory(s->plan->devs[r->slots[i].input].dev))
			b += r->est.device_total[i];
	return b;
}

static void mem_rows(const struct trit_session *s, const struct trit_gen_result *g,
                     struct trit_run_view *v)
{
	const struct trit_plan_result *r = &s->plan->r;
	const struct trit_forward_memory *fm = trit_forward_memory(s->fwd);
	uint64_t weights = 0;

	for (uint32_t i = 0; i < s->load.n_targets; i++)
		weights += s->load.target_bytes[i];
	struct trit_run_mem_row rows[] = {
		{ "weights", planned(r, TRIT_MEM_WEIGHTS), weights, 1,
		  "bytes placed by the loader (in place: mapped file pages)" },
		{ "kv", planned(r, TRIT_MEM_KV), fm->kv_total, 1, "KV cache buffers allocated" },
		{ "activations", planned(r, TRIT_MEM_ACTIVATIONS), fm->arena_bytes, 1,
		  "activation arena allocated (worst-case ubatch)" },
		{ "workspace", planned(r, TRIT_MEM_WORKSPACE),
		  fm->workspace_bytes + fm->fallback_workspace_bytes, 1,
		  "graph_workspace of the device and the fallback" },
		{ "repack", planned(r, TRIT_MEM_REPACK), s->load.staging_peak, 1,
		  "largest staging/repack chunk held at load" },
		{ "baseline", planned_named(r, "process.baseline"), s->rss_start, 1,
		  "resident memory before the load (runtime, plugins, parsed model)" },
		{ "host", planned_named(r, "host."), g->host_bytes + trit_vocab_bytes(s->vocab), 1,
		  "last logits, sampler buffers, tokenizer tables" },
	};
	memcpy(v->rows, rows, sizeof rows);
	v->n_rows = TRIT_ARRAY_LEN(rows);
	device_overhead_row(r, v);
	v->planned_total = r->est.total;
	v->planned_host = planned_host(s);
}

/* Each target's buffers, planned (the plan's slot i is target i) and held. */
static void dev_rows(const struct trit_session *s, struct trit_run_report *rep)
{
	const struct trit_plan_result *r = &s->plan->r;
	const struct trit_forward_memory *fm = trit_forward_memory(s->fwd);
	static const enum trit_mem_component comp[TRIT_RUN_DEV_N] = {
		TRIT_MEM_WEIGHTS, TRIT_MEM_KV, TRIT_MEM_ACTIVATIONS, TRIT_MEM_WORKSPACE
	};

	if (!s->n_targets || !(rep->devs = calloc(s->n_targets, sizeof *rep->devs)))
		return;
	for (uint32_t i = 0; i < s->n_targets; i++) {
		struct trit_run_dev_mem *d = &rep->devs[i];
		d->device = s->name_ptrs[i];
		for (int k = 0; k < TRIT_RUN_DEV_N; k++)
			d->planned[k] = i < r->est.n_devices ? r->est.device[i][comp[k]] : 0;
		d->measured[TRIT_RUN_DEV_WEIGHTS] = i < s->load.n_targets ? s->load.target_bytes[i] : 0;
		d->measured[TRIT_RUN_DEV_KV] = fm->kv_bytes[i];
		d->measured[TRIT_RUN_DEV_ACT] = fm->arena_target_bytes[i];
		d->measured[TRIT_RUN_DEV_WS] = fm->workspace_target_bytes[i];
	}
	rep->view.devs = rep->devs;
	rep->view.n_devs = s->n_targets;
}

/* "a + b" of the targets that run layers, in the plan's slot order. */
static char *layer_devices(const struct trit_session *s)
{
	const struct trit_plan_result *r = &s->plan->r;
	char buf[512] = "";
	size_t n = 0;

	for (uint32_t i = 0; i < s->n_targets && i < r->n_slots && n < sizeof buf; i++)
		if (r->slots[i].n_layers)
			n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", n ? " + " : "",
			                      s->name_ptrs[i]);
	return trit_strdup(n ? buf : "none");
}

static void fill_view(const struct trit_session *s, struct trit_run_report *rep)
{
	const struct trit_plan_result *r = &s->plan->r;
	const struct trit_gen_result *g = &rep->gen;
	struct trit_run_view *v = &rep->view;

	*v = (struct trit_run_view){
		.model = s->m->path, .device = rep->device ? rep->device : "none",
		.threads = r->threads, .n_ctx = r->est.n_ctx, .ubatch = r->ubatch,
		.kv_type = kv_name(r->est.kv_type), .replanned = s->replanned,
		.prompt_tokens = g->prompt, .tokens = g->tokens, .n_prompt = g->n_prompt,
		.n_tokens = g->n_tokens, .n_decode_evals = g->n_decode_evals, .text = g->text,
		.text_len = g->text_len, .stop = trit_gen_stop_name(g->stop),
		.prompt_seconds = g->prompt_seconds, .decode_seconds = g->decode_seconds,
		.sample_seconds = g->sample_seconds, .estimate_tps = r->tokens_per_s,
		.rss_start = s->rss_start, .rss_peak = trit_rss_peak(), .peak_reset = s->peak_reset,
	};
	mem_rows(s, g, v);
	dev_rows(s, rep);
}

int trit_session_generate(struct trit_session *s, const struct trit_generate_options *o,
                          struct trit_run_report **out, char *err, size_t errlen)
{
	struct trit_run_report *rep;
	char *prompt = NULL;
	int rc;

	*out = NULL;
	if (!o->prompt)
		return trit_errf(err, errlen, TRIT_EINVAL, "no prompt");
	if (s->all_logits)
		return trit_errf(err, errlen, TRIT_EINVAL, "a session opened with all_logits "
		                 "evaluates (trit_session_eval); it does not generate");
	s->n_past = 0; /* generation overwrites the cache from position 0 */
	if (!(rep = calloc(1, sizeof *rep)))
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	if ((rc = format_prompt(s, o, &prompt, err, errlen))) {
		free(rep);
		return rc;
	}
	struct trit_gen_params gp = {
		.vocab = s->vocab, .fwd = s->fwd, .n_ctx = s->plan->r.est.n_ctx, .prompt = prompt,
		.prompt_len = strlen(prompt), .add_special = 1, .parse_special = o->chat,
		.n_predict = o->n_predict, .on_text = o->on_text, .ctx = o->ctx,
		.sampling = trit_sampler_params_default(),
	};
	gp.sampling.temperature = o->temperature;
	gp.sampling.top_k = o->top_k;
	gp.sampling.top_p = o->top_p;
	gp.sampling.min_p = o->min_p;
	gp.sampling.repeat_penalty = o->repeat_penalty;
	gp.sampling.repeat_last_n = o->repeat_last_n;
	gp.sampling.seed = o->seed;
	rc = trit_generate(&gp, &rep->gen, err, errlen);
	free(prompt);
	rep->device = layer_devices(s);
	fill_view(s, rep);
	rep->plan_json = trit_plan_report_json(s->plan, 0);
	rep->load_json = trit_report_load_json(&s->load, s->name_ptrs);
	*out = rep;
	return rc;
}

void trit_run_report_free(struct trit_run_report *r)
{
	if (!r)
		return;
	trit_gen_result_free(&r->gen);
	free(r->plan_json);
	free(r->load_json);
	free(r->devs);
	free(r->device);
	free(r);
}

void trit_run_report_get(const struct trit_run_report *r, struct trit_run_summary *out)
{
	const struct trit_run_view *v = &r->view;

	*out = (struct trit_run_summary){
		.prompt_tokens = v->prompt_tokens, .n_prompt_tokens = v->n_prompt,
		.tokens = v->tokens, .n_tokens = v->n_tokens, .text = v->text ? v->text : "",
		.text_len = v->text_len, .stop = v->stop,
		.prompt_tokens_per_s = trit_run_rate(v->n_prompt, v->prompt_seconds),
		.decode_tokens_per_s = trit_run_rate(v->n_decode_evals, v->decode_seconds),
		.estimate_tokens_per_s = v->estimate_tps, .planned_bytes = v->planned_total,
		.measured_peak_bytes = v->rss_peak,
	};
}

void trit_run_report_text(const struct trit_run_report *r, FILE *out)
{
	trit_report_run_text(out, &r->view);
}

char *trit_run_report_json(const struct trit_run_report *r)
{
	return trit_report_run_json(&r->view, r->plan_json, r->load_json);
}
