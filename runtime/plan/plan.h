/*
 * plan.h - decide where a model runs: CPU only, GPU only, or a hybrid layer
 * split, with threads, ubatch and GPU memory fraction, from the model
 * (model.h), the measured devices and the estimator (estimate.h). Every
 * choice comes with the reason and every assumption with a note.
 *
 * Loading and running the plan are load.c's and infer.c's business.
 */
#ifndef TRIT_PLAN_H
#define TRIT_PLAN_H

#include <stdint.h>

#include <trit/trit.h> /* enum trit_strategy, trit_priority */

#include "bench/bench.h"
#include "plan/estimate.h"
#include "model/model.h"

/* Named constants of the planner (documented in docs/memory.md, each
 * overridable through [planner]). */
#define TRIT_PLAN_GPU_FRACTION_MAX     0.95 /* never plan on more of a GPU's free memory */
#define TRIT_PLAN_WORKSPACE_OVERHEAD   0.05 /* seed 002: 5% of free memory kept from workspace */
#define TRIT_PLAN_UBATCH_MAX           512u /* largest ubatch tried */

/* A device offered to the planner. */
struct trit_plan_device {
	const struct trit_device *dev;
	const char *backend;           /* plugin name */
	const struct trit_backend *be; /* may be NULL (tests) */
	void *state;
	uint32_t index;
	uint64_t limit;                /* [memory] limit.<backend>.<id>; 0 = none */
	const char *limit_where;
};

struct trit_plan_opts {
	struct trit_estimate_opts est; /* n_ctx, n_ubatch (0 = planner chooses), kv type, headroom */
	enum trit_strategy force;      /* AUTO or a forced strategy */
	enum trit_priority priority;
	int32_t max_gpu_layers;        /* -1 = no cap */
	double gpu_fraction;           /* of free GPU memory the plan may use, <= 0.95 */
	double workspace_fraction;     /* seed 002's 80% */
	double workspace_overhead;     /* seed 002's 5%; < 0 = TRIT_PLAN_WORKSPACE_OVERHEAD */
	uint32_t max_batch;            /* cap on the workspace batch (<= 256) */
	uint32_t threads;              /* 0 = from measured cores */
	/* `trit bench` results (may be NULL): the measured fastest ternary
	 * format of a device is the one its weights are repacked into, and the
	 * measured weight streaming rate replaces the bandwidth formula. */
	const struct trit_bench_cache *bench;
};

/* One device the plan uses. */
struct trit_plan_slot {
	uint32_t input;                /* index into the devices given */
	uint64_t usable;               /* bytes the plan may use on it */
	char usable_why[160];
	uint32_t n_layers, first_layer;
	uint32_t workspace_batch;      /* GPUs: seed 002's batch for quantised linear layers */
	double seconds_per_token;      /* decode estimate, < 0 unknown */
	char format_why[240];          /* the ternary format its repacked weights get, and why
	                                * (empty when nothing is repacked there) */
	char pref_why[240];            /* why trit bench's measurements prefer a format */
};

struct trit_plan_result {
	enum trit_strategy strategy;
	char why[400];                 /* why this strategy */
	struct trit_plan_slot *slots;  /* GPUs first, then the CPU device */
	uint32_t n_slots;
	uint32_t *layer_slot;          /* n_layer entries */
	uint32_t embd_slot, output_slot;
	struct trit_estimate est;      /* of the chosen placement; est.device[i] = slots[i] */
	uint32_t threads;
	uint32_t ubatch;
	double gpu_fraction;
	double tokens_per_s;           /* < 0: unknown (see speed_why) */
	char speed_why[800];           /* the formula with its numbers, or why unknown */
	uint32_t max_ctx;              /* when nothing fits: the largest context that would, 0 = none */
	char notes[8][240];            /* assumptions and exclusions */
	uint32_t n_notes;
};

int trit_plan_make(const struct trit_model *m, const struct trit_plan_device *devs, uint32_t n,
                   const struct trit_plan_opts *o, struct trit_plan_result *out, char *err,
                   size_t errlen);
void trit_plan_result_free(struct trit_plan_result *p);

/* Seed 002's workspace sizing for one quantised linear layer on a GPU with
 * `free_bytes` measured free: usable = fraction x free - weights - overhead x
 * free; batch = clamp(usable / (out_features x bytes per intermediate), 1, cap). */
uint32_t trit_plan_workspace_batch(uint64_t free_bytes, uint64_t weight_bytes,
                                   uint64_t out_features, uint32_t bytes_per_value,
                                   double fraction, double overhead, uint32_t cap);

/* The planner's CPU thread count for device d (NULL: none in the plan):
 * `forced` when non-zero ([runtime] threads), else its physical cores
 * (priority latency, balanced) or hardware threads (throughput); why gets
 * the sentence the plan notes. `trit bench` runs kernels with it too. */
uint32_t trit_plan_threads(const struct trit_device *d, uint32_t forced,
                           enum trit_priority priority, char *why, size_t len);

const char *trit_strategy_name(enum trit_strategy s);

#endif
