/*
 * plan_report.c - `trit plan` for people (text) and programs (JSON, keys in
 * docs/json.md), both rendered from the one report model plan_model.c
 * builds: the same values and the same sentences in both. Deciding is
 * plan.c's; wording the reasons is reason.c's.
 */
#include <build-config.h>

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/common.h"
#include "core/textsafe.h"
#include "report/json_build.h"
#include "report/plan_model.h"
#include "report/report.h"

static double mib(uint64_t b)
{
	return (double)b / 1048576.0;
}

/* "I2_S, F16" for a mask of (1 << trit type) bits. */
static char *type_list(uint32_t mask, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (uint32_t t = 0; t < 32 && n < len; t++)
		if ((mask & (1u << t)) && trit_type_traits(t)) {
			int k = snprintf(buf + n, len - n, "%s%s", n ? ", " : "", trit_type_traits(t)->name);
			if (k < 0)
				break;
			n += (size_t)k;
		}
	return buf;
}

static const char *type_name_or(int32_t t, const char *none)
{
	const struct trit_type_traits *tt = t >= 0 ? trit_type_traits((uint32_t)t) : NULL;
	return tt ? tt->name : none;
}

/* ------------------------------------------------------------------------ */
/* Text                                                                      */

static void text_header(FILE *out, const struct trit_pm *pm)
{
	char arch[128];

	/* the path, the architecture and sentences naming tensors come from the
	 * file: printed through core/textsafe.h */
	fputs("Plan for ", out);
	trit_text_fputs(pm->path, out);
	fprintf(out, "\n  model       %s, %.3f B parameters, %s\n",
	        trit_text_safe(pm->arch, arch, sizeof arch), pm->params_b,
	        pm->primary ? pm->primary : "?");
	fprintf(out, "  context     %u tokens (KV cells, padded to %u), ubatch %u\n", pm->n_ctx,
	        pm->kv_pad, pm->ubatch);
	fprintf(out, "  strategy    %s\n  why         ", pm->strategy);
	trit_text_fputs(pm->why, out);
	fputc('\n', out);
	if (pm->planned) {
		fprintf(out, "  threads     %u\n  GPU fraction %.2f\n", pm->threads, pm->gpu_fraction);
		if (pm->tokens_per_s >= 0)
			fprintf(out, "  decode      %.1f tokens/s (estimate)\n", pm->tokens_per_s);
		else
			fprintf(out, "  decode      %s\n", pm->speed);
	}
}

static void text_memory(FILE *out, const struct trit_pm *pm)
{
	const struct trit_estimate *e = pm->est;

	fprintf(out, "\nMemory per device (MiB)\n  %-14s %9s %9s %9s %9s %9s %9s %10s %9s %10s %5s\n",
	        "device", "weights", "kv", "activ.", "workspace", "overhead", "repack", "total",
	        "headroom", "usable", "fits");
	for (uint32_t s = 0; s < pm->n_devices && pm->devices[s].memory; s++) {
		const struct trit_pm_device *d = &pm->devices[s];
		const uint64_t *c = d->memory;
		fprintf(out, "  %-14s %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f %10.1f %9.1f %10.1f %5s\n",
		        d->id, mib(c[TRIT_MEM_WEIGHTS]), mib(c[TRIT_MEM_KV]),
		        mib(c[TRIT_MEM_ACTIVATIONS]), mib(c[TRIT_MEM_WORKSPACE]), mib(c[TRIT_MEM_OVERHEAD]),
		        mib(c[TRIT_MEM_REPACK]), mib(d->total), mib(d->headroom), mib(d->usable),
		        d->fits ? "yes" : "NO");
	}
	fprintf(out, "  %-14s %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f %10.1f %9.1f\n", "total",
	        mib(e->totals[TRIT_MEM_WEIGHTS]), mib(e->totals[TRIT_MEM_KV]),
	        mib(e->totals[TRIT_MEM_ACTIVATIONS]), mib(e->totals[TRIT_MEM_WORKSPACE]),
	        mib(e->totals[TRIT_MEM_OVERHEAD]), mib(e->totals[TRIT_MEM_REPACK]), mib(e->total),
	        mib(e->headroom));
	for (uint32_t s = 0; s < pm->n_devices; s++)
		if (pm->devices[s].workspace_batch)
			fprintf(out, "  %s: workspace batch %u for its quantised linear layers (seed 002 rule)\n",
			        pm->devices[s].id, pm->devices[s].workspace_batch);
}

/* Which format each device runs its BitLinear weights in and what repacking
 * them costs. */
static void text_repack(FILE *out, const struct trit_pm *pm)
{
	const struct trit_estimate *e = pm->est;
	char types[64];

	if (!pm->any_bitlinear)
		return;
	fprintf(out, "\nTernary weights (BitLinear projections; docs/memory.md)\n");
	for (uint32_t s = 0; s < pm->n_devices; s++) {
		const struct trit_repack_summary *r = pm->devices[s].repack;
		const char *id = pm->devices[s].id;
		if (r && r->n_as_is) {
			fprintf(out, "  %-14s %u run as stored (%s): %.1f MiB\n", id, r->n_as_is,
			        type_list(r->as_is_types, types, sizeof types), mib(r->as_is_bytes));
			id = "";
		}
		if (r && r->n_repacked) {
			fprintf(out, "  %-14s %u repacked at load from %s into %s: %.1f MiB in the file -> "
			        "%.1f MiB\n", id, r->n_repacked, type_list(r->from_types, types, sizeof types),
			        pm->devices[s].format ? pm->devices[s].format : "?", mib(r->file_bytes),
			        mib(r->repacked_bytes));
			fprintf(out, "  %-14s   format ", "");
			trit_text_fputs(pm->devices[s].format_why, out);
			fputc('\n', out);
			id = "";
		}
		if (r && r->n_no_kernel) {
			fprintf(out, "  %-14s %u cannot run here (", id, r->n_no_kernel);
			trit_text_fputs(r->no_kernel_why ? r->no_kernel_why : "?", out);
			fprintf(out, "): %.1f MiB counted as stored\n", mib(r->no_kernel_bytes));
		}
	}
	if (pm->repack_device)
		fprintf(out, "  %-14s repack buffers %.1f MiB (largest source) + %.1f MiB (largest "
		        "repacked), host memory while loading, counted on %s\n", "loader",
		        mib(e->repack_source), mib(e->repack_staging), pm->repack_device);
}

static void text_explain(FILE *out, const struct trit_pm *pm)
{
	const struct trit_estimate *e = pm->est;
	const struct trit_model *m = pm->model;

	fprintf(out, "\nHow the numbers are made (docs/memory.md)\n");
	fprintf(out, "  usable     = measured free memory, capped by [memory] limit.<backend>.<id>, "
	        "x GPU fraction on GPUs\n");
	fprintf(out, "  fits       = total + headroom <= usable; headroom = 10%% of total, 20%% above "
	        "8 GiB, unless [memory] headroom is set\n");
	fprintf(out, "  KV / layer = cells x (KV heads x K dim + KV heads x V dim) x bytes per element "
	        "(%s); sliding-window layers: min(context, window x sequences + ubatch) cells\n",
	        pm->kv_type);
	fprintf(out, "  repacked   = trit_ternary_bytes(format, rows, cols) for each BitLinear weight "
	        "the device does not run as stored: I2_S rows x pad128(cols) / 4, TL1 pad32(rows) / 32 "
	        "x pad64(cols) x 8, TL2 pad32(rows) / 32 x pad96(cols) / 96 x 640, each + 32 bytes of "
	        "scale trailer; repack buffers = the largest source tensor + the largest repacked one "
	        "(host memory, one tensor at a time)\n");
	fprintf(out, "  speed      = 1 / sum over devices (bytes read per token / bandwidth); %s\n",
	        pm->speed);
	fprintf(out, "\nKV cache per layer\n");
	for (uint32_t il = 0; il < pm->n_layer && e->kv_layer; il++)
		fprintf(out, "  layer %-4u %8u cells %12llu bytes  on %s\n", il, e->kv_cells[il],
		        (unsigned long long)e->kv_layer[il], pm->devices[pm->layer_slot[il]].id);
	fprintf(out, "\nBuffers\n");
	for (size_t i = 0; i < e->n_buffers; i++) {
		const struct trit_mem_buffer *b = &e->buffers[i];
		char form[40] = "", name[192];
		if (b->from_type >= 0)
			snprintf(form, sizeof form, "%s <- %s", type_name_or(b->run_type, "?"),
			         type_name_or(b->from_type, "?"));
		else if (b->component == TRIT_MEM_WEIGHTS && b->run_type >= 0)
			snprintf(form, sizeof form, "%s", type_name_or(b->run_type, "?"));
		else if (b->component == TRIT_MEM_WEIGHTS && b->tensor >= 0 &&
		         trit_estimate_is_bitlinear(m, &m->tensors[b->tensor]))
			snprintf(form, sizeof form, "(no kernel)");
		fprintf(out, "  %-40s %-12s %-14s %14llu  on %s\n",
		        trit_text_safe(b->name, name, sizeof name),
		        trit_mem_component_name(b->component), form, (unsigned long long)b->bytes,
		        pm->devices[b->device].id);
	}
}

/* The ternary kernel paths a device reports (kernel.isa.<type>, else
 * kernel.isa for all), which run its layers, and how each was chosen. */
static const char *const kernel_keys[][2] = {
	{ "I2_S", "kernel.isa.i2_s" }, { "TL1", "kernel.isa.tl1" }, { "TL2", "kernel.isa.tl2" },
};

static const struct trit_property *find_prop(const struct trit_device *d, const char *key)
{
	for (uint32_t i = 0; d && i < d->n_props; i++)
		if (d->props[i].key && d->props[i].text && strcmp(d->props[i].key, key) == 0)
			return &d->props[i];
	return NULL;
}

static const char *chosen(const struct trit_property *p)
{
	switch (p->value.state) {
	case TRIT_VALUE_MEASURED: return "the fastest measured";
	case TRIT_VALUE_CONFIGURED: return "set by the operator";
	case TRIT_VALUE_DERIVED: return "not measured";
	default: return "unknown why";
	}
}

static void text_kernels(FILE *out, const struct trit_pm_device *d, int explain)
{
	const struct trit_property *all = find_prop(d->dev, "kernel.isa");
	char name[96];

	if (!d->n_layers || !all)
		return;
	if (!find_prop(d->dev, kernel_keys[0][1])) {
		fprintf(out, "  %-22s kernels %s (%s)\n", "", trit_text_safe(all->text, name, sizeof name),
		        chosen(all));
		if (explain && all->value.source)
			fprintf(out, "  %-22s   %s\n", "", all->value.source);
		return;
	}
	fprintf(out, "  %-22s kernels", "");
	for (size_t k = 0; k < TRIT_ARRAY_LEN(kernel_keys); k++) {
		const struct trit_property *p = find_prop(d->dev, kernel_keys[k][1]);
		if (p)
			fprintf(out, "%s %s %s (%s)", k ? "," : "", kernel_keys[k][0],
			        trit_text_safe(p->text, name, sizeof name), chosen(p));
	}
	fputc('\n', out);
	for (size_t k = 0; explain && k < TRIT_ARRAY_LEN(kernel_keys); k++) {
		const struct trit_property *p = find_prop(d->dev, kernel_keys[k][1]);
		if (p && p->value.source)
			fprintf(out, "  %-22s   %s: %s\n", "", kernel_keys[k][0], p->value.source);
	}
}

static void text_plan(FILE *out, const struct trit_pm *pm, int explain)
{
	text_header(out, pm);
	fprintf(out, "\nPlacement\n");
	for (uint32_t s = 0; s < pm->n_devices; s++) {
		const struct trit_pm_device *d = &pm->devices[s];
		fprintf(out, "  %-22s", d->id);
		if (d->n_layers)
			fprintf(out, " layers %u-%u (%u)", d->first_layer, d->first_layer + d->n_layers - 1,
			        d->n_layers);
		else
			fprintf(out, " no layers");
		if (d->embeddings)
			fprintf(out, ", token embeddings");
		if (d->output)
			fprintf(out, ", output");
		fprintf(out, "   [%s/%s]\n", d->backend, d->name);
		text_kernels(out, d, explain);
	}
	text_memory(out, pm);
	text_repack(out, pm);
	if (pm->n_notes) {
		fprintf(out, "\nNotes\n");
		for (uint32_t i = 0; i < pm->n_notes; i++) {
			fputs("  - ", out);
			trit_text_fputs(pm->notes[i], out);
			fputc('\n', out);
		}
	}
	if (explain)
		text_explain(out, pm);
}

void trit_report_plan_text(FILE *out, const struct trit_model *m, const struct trit_plan_result *p,
                           const struct trit_plan_device *devs, int explain)
{
	struct trit_pm pm;

	if (trit_pm_build(&pm, m, p, devs)) {
		fputs("Plan for ", out);
		trit_text_fputs(m->path, out);
		fputs(": out of memory writing the report\n", out);
		return;
	}
	text_plan(out, &pm, explain);
	trit_pm_free(&pm);
}

/* ------------------------------------------------------------------------ */
/* JSON                                                                      */

/* {"code", "topic", "device", "numbers": {...}, "names": {...}, "text"} */
static void json_reason(struct jb *jb, cJSON *a, const struct trit_pm_reason *r)
{
	cJSON *x = chk(jb, cJSON_CreateObject()), *n;

	if (!x || !cJSON_AddItemToArray(a, x)) {
		cJSON_Delete(x);
		jb->oom = 1;
		return;
	}
	json_str(jb, x, "code", r->info ? r->info->name : NULL);
	json_str(jb, x, "topic", r->info ? trit_reason_topic_name(r->info->topic) : NULL);
	json_str(jb, x, "device", r->device);
	if ((n = chk(jb, cJSON_AddObjectToObject(x, "numbers"))))
		for (int i = 0; r->info && i < TRIT_PLAN_REASON_NUMS; i++)
			if (r->info->num[i].name)
				json_num(jb, n, r->info->num[i].name, r->rec->num[i]);
	if ((n = chk(jb, cJSON_AddObjectToObject(x, "names"))))
		for (int i = 0; r->info && i < TRIT_PLAN_REASON_ARGS; i++)
			if (r->info->arg[i])
				json_str(jb, n, r->info->arg[i], r->rec->arg[i]);
	json_str(jb, x, "text", r->text);
}

static cJSON *json_types(struct jb *jb, cJSON *o, const char *key, uint32_t mask)
{
	cJSON *a = chk(jb, cJSON_AddArrayToObject(o, key));
	for (uint32_t t = 0; a && t < 32; t++)
		if ((mask & (1u << t)) && trit_type_traits(t) &&
		    !cJSON_AddItemToArray(a, chk(jb, cJSON_CreateString(trit_type_traits(t)->name))))
			jb->oom = 1;
	return a;
}

static void json_repack(struct jb *jb, cJSON *dev, const struct trit_pm_device *d)
{
	const struct trit_repack_summary *r = d->repack;
	cJSON *o = chk(jb, cJSON_AddObjectToObject(dev, "ternary")), *x;

	if (!o)
		return;
	json_str(jb, o, "format", d->format);
	json_str(jb, o, "format_why", *d->format_why ? d->format_why : NULL);
	if ((x = chk(jb, cJSON_AddObjectToObject(o, "as_stored")))) {
		json_num(jb, x, "tensors", r->n_as_is);
		json_num(jb, x, "bytes", (double)r->as_is_bytes);
		json_types(jb, x, "types", r->as_is_types);
	}
	if ((x = chk(jb, cJSON_AddObjectToObject(o, "repacked")))) {
		json_num(jb, x, "tensors", r->n_repacked);
		json_types(jb, x, "from", r->from_types);
		json_num(jb, x, "file_bytes", (double)r->file_bytes);
		json_num(jb, x, "bytes", (double)r->repacked_bytes);
	}
	if ((x = chk(jb, cJSON_AddObjectToObject(o, "no_kernel")))) {
		json_num(jb, x, "tensors", r->n_no_kernel);
		json_num(jb, x, "bytes", (double)r->no_kernel_bytes);
		json_str(jb, x, "why", r->no_kernel_why);
	}
}

/* One path of "kernels": {"path", "chosen", "source"}. */
static void json_kernel(struct jb *jb, cJSON *k, const char *name, const struct trit_property *p)
{
	cJSON *o = p ? chk(jb, cJSON_AddObjectToObject(k, name)) : NULL;

	if (!o)
		return;
	json_str(jb, o, "path", p->text);
	json_str(jb, o, "chosen", chosen(p));
	json_str(jb, o, "source", p->value.source);
}

/* "kernels": {"I2_S": ..., "TL1": ..., "TL2": ..., "all": ...} as the
 * device names them (empty when it names no path). */
static void json_kernels(struct jb *jb, cJSON *x, const struct trit_pm_device *d)
{
	const struct trit_property *all = find_prop(d->dev, "kernel.isa");
	cJSON *k = chk(jb, cJSON_AddObjectToObject(x, "kernels"));

	if (!k || !all)
		return;
	for (size_t i = 0; i < TRIT_ARRAY_LEN(kernel_keys); i++)
		json_kernel(jb, k, kernel_keys[i][0], find_prop(d->dev, kernel_keys[i][1]));
	json_kernel(jb, k, "all", all);
}

static void json_device(struct jb *jb, cJSON *a, const struct trit_pm_device *d)
{
	cJSON *x = chk(jb, cJSON_CreateObject()), *c;

	if (!x || !cJSON_AddItemToArray(a, x)) {
		cJSON_Delete(x);
		jb->oom = 1;
		return;
	}
	json_str(jb, x, "backend", d->backend);
	json_str(jb, x, "id", d->id);
	json_str(jb, x, "kind", d->kind);
	json_num(jb, x, "free", (double)d->free);
	json_num(jb, x, "usable", (double)d->usable);
	json_str(jb, x, "usable_why", d->usable_why);
	json_kernels(jb, x, d);
	json_num(jb, x, "first_layer", d->first_layer);
	json_num(jb, x, "n_layers", d->n_layers);
	chk(jb, cJSON_AddBoolToObject(x, "embeddings", d->embeddings));
	chk(jb, cJSON_AddBoolToObject(x, "output", d->output));
	c = chk(jb, cJSON_AddObjectToObject(x, "memory"));
	for (int k = 0; c && d->memory && k < TRIT_MEM_COUNT; k++)
		json_num(jb, c, trit_mem_component_name(k), (double)d->memory[k]);
	if (d->memory) {
		json_num(jb, x, "total", (double)d->total);
		json_num(jb, x, "headroom", (double)d->headroom);
		chk(jb, cJSON_AddBoolToObject(x, "fits", d->fits));
	}
	if (d->workspace_batch)
		json_num(jb, x, "workspace_batch", d->workspace_batch);
	if (d->repack)
		json_repack(jb, x, d);
}

static void json_header(struct jb *jb, cJSON *root, const struct trit_pm *pm)
{
	json_str(jb, root, "model", pm->path);
	json_str(jb, root, "strategy", pm->strategy);
	json_str(jb, root, "why", pm->why);
	json_num(jb, root, "n_ctx", pm->n_ctx);
	json_num(jb, root, "ubatch", pm->ubatch);
	json_str(jb, root, "kv_type", pm->kv_type);
	json_num(jb, root, "threads", pm->threads);
	json_num(jb, root, "gpu_fraction", pm->gpu_fraction);
	if (pm->tokens_per_s >= 0)
		json_num(jb, root, "tokens_per_s", pm->tokens_per_s);
	else
		chk(jb, cJSON_AddNullToObject(root, "tokens_per_s"));
	json_str(jb, root, "speed", pm->speed);
	if (pm->max_ctx)
		json_num(jb, root, "max_ctx_that_fits", pm->max_ctx);
	else
		chk(jb, cJSON_AddNullToObject(root, "max_ctx_that_fits"));
}

static void json_buffers(struct jb *jb, cJSON *root, const struct trit_pm *pm)
{
	const struct trit_estimate *e = pm->est;
	cJSON *a = chk(jb, cJSON_AddArrayToObject(root, "buffers"));

	for (size_t i = 0; a && i < e->n_buffers; i++) {
		const struct trit_mem_buffer *b = &e->buffers[i];
		cJSON *x = chk(jb, cJSON_CreateObject());
		if (!x || !cJSON_AddItemToArray(a, x)) {
			cJSON_Delete(x);
			jb->oom = 1;
			break;
		}
		json_str(jb, x, "name", b->name);
		json_str(jb, x, "component", trit_mem_component_name(b->component));
		json_str(jb, x, "device", pm->devices[b->device].id);
		json_num(jb, x, "bytes", (double)b->bytes);
		if (b->component == TRIT_MEM_WEIGHTS) {
			json_str(jb, x, "type", type_name_or(b->run_type, NULL));
			json_str(jb, x, "repacked_from", type_name_or(b->from_type, NULL));
		}
	}
}

static void json_plan(struct jb *jb, cJSON *root, const struct trit_pm *pm, int explain)
{
	const struct trit_estimate *e = pm->est;
	cJSON *o, *a;

	json_header(jb, root, pm);
	if ((o = chk(jb, cJSON_AddObjectToObject(root, "totals")))) {
		for (int c = 0; c < TRIT_MEM_COUNT; c++)
			json_num(jb, o, trit_mem_component_name(c), (double)e->totals[c]);
		json_num(jb, o, "total", (double)e->total);
		json_num(jb, o, "headroom", (double)e->headroom);
	}
	a = chk(jb, cJSON_AddArrayToObject(root, "devices"));
	for (uint32_t s = 0; a && s < pm->n_devices; s++)
		json_device(jb, a, &pm->devices[s]);
	if (pm->repack_device && (o = chk(jb, cJSON_AddObjectToObject(root, "repack_buffers")))) {
		json_str(jb, o, "device", pm->repack_device);
		json_num(jb, o, "source", (double)e->repack_source);
		json_num(jb, o, "staging", (double)e->repack_staging);
	} else if (!pm->repack_device) {
		chk(jb, cJSON_AddNullToObject(root, "repack_buffers"));
	}
	a = chk(jb, cJSON_AddArrayToObject(root, "notes"));
	for (uint32_t i = 0; a && i < pm->n_notes; i++)
		if (!cJSON_AddItemToArray(a, chk(jb, cJSON_CreateString(pm->notes[i]))))
			jb->oom = 1;
	a = chk(jb, cJSON_AddArrayToObject(root, "reasons"));
	for (uint32_t i = 0; a && i < pm->n_reasons; i++)
		json_reason(jb, a, &pm->reasons[i]);
	a = chk(jb, cJSON_AddArrayToObject(root, "layers"));
	for (uint32_t il = 0; a && il < pm->n_layer; il++) {
		cJSON *x = chk(jb, cJSON_CreateObject());
		if (!x || !cJSON_AddItemToArray(a, x)) {
			cJSON_Delete(x);
			jb->oom = 1;
			break;
		}
		json_str(jb, x, "device", pm->devices[pm->layer_slot[il]].id);
		json_num(jb, x, "kv_cells", e->kv_cells ? e->kv_cells[il] : 0);
		json_num(jb, x, "kv_bytes", e->kv_layer ? (double)e->kv_layer[il] : 0);
	}
	if (explain)
		json_buffers(jb, root, pm);
}

char *trit_report_plan_json(const struct trit_model *m, const struct trit_plan_result *p,
                            const struct trit_plan_device *devs, int explain)
{
	struct jb jb = { 0 };
	struct trit_pm pm;
	cJSON *root;
	char *s = NULL;

	if (trit_pm_build(&pm, m, p, devs))
		return NULL;
	if ((root = cJSON_CreateObject())) {
		json_plan(&jb, root, &pm, explain);
		if (!jb.oom)
			s = trit_json_make_safe(cJSON_Print(root)); /* core/textsafe.h */
		cJSON_Delete(root);
	}
	trit_pm_free(&pm);
	return s;
}
