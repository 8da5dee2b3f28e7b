/*
 * plan_model.c - gather a plan result into the report model (plan_model.h):
 * the devices with their numbers and joined sentences, the header values,
 * every reason with its sentence, the notes. Rendering is plan_report.c's;
 * the sentences themselves are reason.c's.
 */
#include <build-config.h>

#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "report/plan_model.h"

char *trit_pm_sentence(const struct trit_plan_result *p, enum trit_reason_topic topic, int slot)
{
	int n = trit_reason_join(p->reasons, p->n_reasons, topic, slot, NULL, 0);
	char *s = malloc(n > 0 ? (size_t)n + 1 : 1);

	if (s)
		trit_reason_join(p->reasons, p->n_reasons, topic, slot, s, n > 0 ? (size_t)n + 1 : 1);
	return s;
}

static char *record_text(const struct trit_plan_reason_rec *r)
{
	int n = trit_reason_text(r, NULL, 0);
	char *s = malloc(n > 0 ? (size_t)n + 1 : 1);

	if (s)
		trit_reason_text(r, s, n > 0 ? (size_t)n + 1 : 1);
	return s;
}

static const char *kind_name(uint32_t kind)
{
	switch (kind) {
	case TRIT_DEVICE_CPU: return "cpu";
	case TRIT_DEVICE_GPU: return "gpu";
	default: return "accelerator";
	}
}

/* Device s of the plan; 0 or TRIT_ENOMEM. */
static int device(struct trit_pm_device *d, const struct trit_plan_result *p,
                  const struct trit_plan_device *devs, uint32_t s)
{
	const struct trit_plan_device *in = &devs[p->slots[s].input];
	const struct trit_estimate *e = &p->est;
	const struct trit_type_traits *tt;

	*d = (struct trit_pm_device){
		.backend = in->backend, .id = in->dev->id, .name = in->dev->name, .dev = in->dev,
		.kind = kind_name(in->dev->kind), .free = in->dev->mem_free.value,
		.usable = p->slots[s].usable, .first_layer = p->slots[s].first_layer,
		.n_layers = p->slots[s].n_layers, .workspace_batch = p->slots[s].workspace_batch,
		.embeddings = p->embd_slot == s, .output = p->output_slot == s,
	};
	if (e->device && s < e->n_devices)
		d->memory = e->device[s];
	if (e->device_total && s < e->n_devices) {
		d->total = e->device_total[s];
		d->headroom = e->device_headroom[s];
	}
	d->fits = trit_plan_slot_unused(p, s) || d->total + d->headroom <= d->usable;
	if (e->repack && s < e->n_devices) {
		d->repack = &e->repack[s];
		if (d->repack->run_type >= 0 && (tt = trit_type_traits((uint32_t)d->repack->run_type)))
			d->format = tt->name;
	}
	d->usable_why = trit_pm_sentence(p, TRIT_TOPIC_USABLE, (int)s);
	d->format_why = trit_pm_sentence(p, TRIT_TOPIC_FORMAT, (int)s);
	return d->usable_why && d->format_why ? 0 : TRIT_ENOMEM;
}

/* Every reason with its sentence, and the notes. */
static int reasons(struct trit_pm *pm, const struct trit_plan_result *p)
{
	const struct trit_estimate *e = &p->est;

	pm->reasons = calloc(p->n_reasons ? p->n_reasons : 1, sizeof *pm->reasons);
	pm->notes = calloc(p->n_reasons + e->n_notes + 1, sizeof *pm->notes);
	if (!pm->reasons || !pm->notes)
		return TRIT_ENOMEM;
	for (uint32_t i = 0; i < p->n_reasons; i++) {
		struct trit_pm_reason *r = &pm->reasons[pm->n_reasons++];
		r->rec = &p->reasons[i];
		r->info = trit_reason_info(r->rec->code);
		if (r->rec->slot >= 0 && (uint32_t)r->rec->slot < pm->n_devices)
			r->device = pm->devices[r->rec->slot].id;
		if (!(r->text = record_text(r->rec)))
			return TRIT_ENOMEM;
		if (r->info && r->info->topic == TRIT_TOPIC_NOTE)
			pm->notes[pm->n_notes++] = r->text;
	}
	for (uint32_t i = 0; i < e->n_notes; i++)
		pm->notes[pm->n_notes++] = e->notes[i];
	return 0;
}

static int any_bitlinear(const struct trit_estimate *e, uint32_t n)
{
	for (uint32_t s = 0; e->repack && s < n; s++)
		if (e->repack[s].n_as_is + e->repack[s].n_repacked + e->repack[s].n_no_kernel)
			return 1;
	return 0;
}

int trit_pm_build(struct trit_pm *pm, const struct trit_model *m,
                  const struct trit_plan_result *p, const struct trit_plan_device *devs)
{
	const struct trit_estimate *e = &p->est;
	int rc = 0;

	*pm = (struct trit_pm){
		.path = m->path, .arch = m->hp.arch, .primary = m->quant.primary,
		.params_b = (double)m->n_params / 1e9, .n_ctx = e->n_ctx, .kv_pad = TRIT_KV_PAD,
		.ubatch = p->ubatch, .threads = p->threads, .max_ctx = p->max_ctx,
		.kv_type = trit_kv_type_name(e->kv_type), .strategy = trit_strategy_name(p->strategy),
		.planned = p->strategy != TRIT_STRATEGY_NONE, .gpu_fraction = p->gpu_fraction,
		.tokens_per_s = p->tokens_per_s, .est = e, .layer_slot = p->layer_slot,
		.n_layer = m->hp.n_layer, .model = m, .any_bitlinear = any_bitlinear(e, p->n_slots),
	};
	pm->why = trit_pm_sentence(p, TRIT_TOPIC_STRATEGY, -2);
	pm->speed = trit_pm_sentence(p, TRIT_TOPIC_SPEED, -2);
	pm->devices = calloc(p->n_slots ? p->n_slots : 1, sizeof *pm->devices);
	if (!pm->why || !pm->speed || !pm->devices)
		rc = TRIT_ENOMEM;
	for (uint32_t s = 0; !rc && s < p->n_slots; s++) {
		pm->n_devices++;
		rc = device(&pm->devices[s], p, devs, s);
	}
	if (!rc && e->repack_source && e->repack_device >= 0 &&
	    (uint32_t)e->repack_device < pm->n_devices)
		pm->repack_device = pm->devices[e->repack_device].id;
	if (!rc)
		rc = reasons(pm, p);
	if (rc)
		trit_pm_free(pm);
	return rc;
}

void trit_pm_free(struct trit_pm *pm)
{
	free(pm->why);
	free(pm->speed);
	for (uint32_t s = 0; pm->devices && s < pm->n_devices; s++) {
		free(pm->devices[s].usable_why);
		free(pm->devices[s].format_why);
	}
	free(pm->devices);
	for (uint32_t i = 0; pm->reasons && i < pm->n_reasons; i++)
		free(pm->reasons[i].text);
	free(pm->reasons);
	free(pm->notes);
	memset(pm, 0, sizeof *pm);
}
