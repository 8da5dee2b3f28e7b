/*
 * plan_model.h - the plan report as data: every value and every sentence
 * `trit plan` shows, gathered once from a plan result. The text and the
 * JSON renderers (plan_report.c) read only this, so they say the same
 * things; sentences come from the reason records (reason.h) and nowhere
 * else.
 */
#ifndef TRIT_REPORT_PLAN_MODEL_H
#define TRIT_REPORT_PLAN_MODEL_H

#include <stdint.h>

#include "model/model.h"
#include "plan/plan.h"
#include "report/reason.h"

/* One reason with its sentence. */
struct trit_pm_reason {
	const struct trit_plan_reason_rec *rec;
	const struct trit_reason_info *info;
	const char *device;            /* the id of the slot it is about, NULL none */
	char *text;
};

/* One device of the plan (a slot). */
struct trit_pm_device {
	const char *backend, *id, *name, *kind;  /* kind: "cpu", "gpu", "accelerator" */
	const struct trit_device *dev;  /* for its properties (the kernel paths) */
	uint64_t free, usable;
	uint32_t first_layer, n_layers, workspace_batch;
	int embeddings, output;
	const uint64_t *memory;        /* per TRIT_MEM_* component; NULL without an estimate */
	uint64_t total, headroom;
	int fits;                      /* total + headroom <= usable */
	const struct trit_repack_summary *repack;  /* NULL without an estimate */
	const char *format;            /* the format repacked weights get, NULL none */
	char *usable_why, *format_why; /* joined sentences of its reasons, "" none */
};

struct trit_pm {
	/* the header */
	const char *path, *arch, *primary;  /* primary: NULL when unknown */
	double params_b;               /* parameters, billions */
	uint32_t n_ctx, kv_pad, ubatch, threads, max_ctx;
	const char *kv_type, *strategy;
	int planned;                   /* strategy is not "none" */
	char *why, *speed;             /* the strategy's and the speed's sentences */
	double gpu_fraction, tokens_per_s; /* < 0: unknown */
	/* placement and memory */
	struct trit_pm_device *devices;
	uint32_t n_devices;
	const struct trit_estimate *est; /* totals, KV per layer, buffers */
	const uint32_t *layer_slot;    /* n_layer entries: index into devices */
	uint32_t n_layer;
	const struct trit_model *model;
	int any_bitlinear;             /* some device holds BitLinear weights */
	const char *repack_device;     /* id of the device the repack buffers count on, NULL none */
	/* every reason, in the plan's order; notes are the note-topic ones'
	 * sentences followed by the estimate's notes */
	struct trit_pm_reason *reasons;
	uint32_t n_reasons;
	const char **notes;
	uint32_t n_notes;
};

/* Build the model of plan p (made from devs for model m); 0 or TRIT_ENOMEM
 * (then *pm is empty). Free with trit_pm_free. */
int trit_pm_build(struct trit_pm *pm, const struct trit_model *m,
                  const struct trit_plan_result *p, const struct trit_plan_device *devs);
void trit_pm_free(struct trit_pm *pm);

/* The joined sentence of one topic of p (slot: as trit_reason_join), as a
 * heap string; NULL when out of memory. */
char *trit_pm_sentence(const struct trit_plan_result *p, enum trit_reason_topic topic, int slot);

#endif
