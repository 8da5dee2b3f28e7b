/*
 * plan.h - decide where a model runs: CPU only, GPU only, or a hybrid layer
 * split, with threads, ubatch and GPU memory fraction, from the model
 * (model.h), the measured devices and the estimator (estimate.h). Every
 * choice and every assumption is recorded as a reason: a code with its
 * numbers and names, no prose. report/reason.c turns a reason into its
 * sentence (docs/plan-reasons.md lists the codes).
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
	/* 1: the CPU device's overhead is this process's resident set at plan
	 * time, and the tokenizer's tables are sized by loading them from the
	 * model's GGUF (trit plan, trit run); 0: neither (tests, described
	 * machines). */
	int measure_process;
	/* [planner] ternary_format: TRIT_TYPE_I2_S, TL1 or TL2 for every
	 * device's BitLinear weights, over the bench cache and the file's own
	 * format; 0 = auto. ternary_format_where: where it was set ("deploy.ini:7"). */
	uint32_t ternary_format;
	const char *ternary_format_where;
};

/*
 * Why the plan is as it is: one code per kind of sentence the report says.
 * The numbers and names each code carries, and its sentence, are
 * report/reason.c's table (docs/plan-reasons.md); the planner writes only
 * data. Codes are stable: new ones are added at the end.
 */
enum trit_plan_reason {
	TRIT_REASON_NONE = 0,
	/* the strategy (topic "strategy") */
	TRIT_REASON_GPU_ONLY_FITS,          /* everything fits on the GPUs */
	TRIT_REASON_HYBRID_SPLIT,           /* the last N layers fit on the GPUs */
	TRIT_REASON_CPU_FORCED,             /* [planner] strategy = cpu */
	TRIT_REASON_CPU_NO_GPU,             /* no GPU with known free memory */
	TRIT_REASON_CPU_GPU_TOO_SMALL,      /* not one layer fits on the GPU */
	TRIT_REASON_NOTHING_FITS_MAX_CTX,   /* a shorter context would fit */
	TRIT_REASON_NOTHING_FITS_WEIGHTS,   /* not even the smallest context fits */
	/* a slot's usable memory (topic "usable") */
	TRIT_REASON_USABLE_FREE,            /* measured free memory (CPU) */
	TRIT_REASON_USABLE_LIMIT,           /* capped by a [memory] limit (CPU) */
	TRIT_REASON_USABLE_FRACTION,        /* free x GPU fraction */
	TRIT_REASON_USABLE_LIMIT_FRACTION,  /* capped by a limit, x GPU fraction */
	/* the ternary format a slot's weights are repacked into (topic "format") */
	TRIT_REASON_FORMAT_MEASURED,        /* trit bench measured it fastest */
	TRIT_REASON_FORMAT_KERNEL_GOPS,     /* one measured kernel's GOP/s, after FORMAT_MEASURED */
	TRIT_REASON_FORMAT_FIRST,           /* first advertised; bench preferred another */
	TRIT_REASON_FORMAT_FIRST_UNMEASURED,/* first advertised; nothing measured */
	/* the decode speed (topic "speed"), one record per term of the sum */
	TRIT_REASON_SPEED_KERNEL,           /* ternary weights at trit bench's rate */
	TRIT_REASON_SPEED_BANDWIDTH,        /* bytes at the device's memory bandwidth */
	TRIT_REASON_SPEED_BENCH_READ,       /* bytes at trit bench's streaming read */
	TRIT_REASON_SPEED_TOTAL,            /* the sum, as tokens per second */
	TRIT_REASON_SPEED_UNKNOWN,          /* a device's bandwidth is unknown */
	/* the thread count (topic "note", THREADS_CONFIGURED topic "threads") */
	TRIT_REASON_THREADS_CONFIGURED,     /* [runtime] threads */
	TRIT_REASON_THREADS_NO_CPU,         /* no CPU device in the plan */
	TRIT_REASON_THREADS_UNKNOWN,        /* the CPU reports neither count */
	TRIT_REASON_THREADS_HW,             /* hardware threads (throughput) */
	TRIT_REASON_THREADS_CORES,          /* physical cores (latency, balanced) */
	/* the ubatch (topic "ubatch") */
	TRIT_REASON_UBATCH_CONFIGURED,      /* --batch / [model] ubatch */
	TRIT_REASON_UBATCH_HALVED,          /* the largest power-of-two step that fits */
	/* devices (topic "note") */
	TRIT_REASON_DEVICE_FREE_UNKNOWN,    /* left out: free memory unknown */
	TRIT_REASON_DEVICE_NO_KERNEL,       /* advertises no kernel for the model's type */
	/* what decode reads per token on a device (topic "note") */
	TRIT_REASON_SPEED_READS,            /* ternary, head, other weights, a row, KV */
	/* the ternary format, forced (topic "format") */
	TRIT_REASON_FORMAT_CONFIGURED,      /* [planner] ternary_format */
	TRIT_REASON_DEVICE_BUDGET_OFFLOAD,  /* a CPU-kind device in an operator's budget */
	TRIT_REASON_COUNT
};

#define TRIT_PLAN_REASON_NUMS 6
#define TRIT_PLAN_REASON_ARGS 3

/* One reason. num[] and arg[] mean what report/reason.c's table names for
 * the code (unused entries are 0 and ""); bytes are exact in a double up to
 * 2^53. */
struct trit_plan_reason_rec {
	uint16_t code;                          /* enum trit_plan_reason */
	int16_t slot;                           /* the slot it is about, -1 none */
	double num[TRIT_PLAN_REASON_NUMS];      /* counts, bytes, rates, flags */
	char arg[TRIT_PLAN_REASON_ARGS][192];   /* names: backend, device, kernel, key, source */
};

/* One device the plan uses. */
struct trit_plan_slot {
	uint32_t input;                /* index into the devices given */
	uint64_t usable;               /* bytes the plan may use on it */
	uint32_t n_layers, first_layer;
	uint32_t workspace_batch;      /* GPUs: seed 002's batch for quantised linear layers */
	double seconds_per_token;      /* decode estimate, < 0 unknown */
	uint32_t format;               /* TRIT_TYPE_* its BitLinear weights are repacked
	                                * into; 0 = none repacked here (kept as stored) */
};

struct trit_plan_result {
	enum trit_strategy strategy;
	struct trit_plan_slot *slots;  /* GPUs first, then the CPU device */
	uint32_t n_slots;
	uint32_t n_gpu;                /* slots [0, n_gpu) are GPUs (offload devices) */
	uint32_t *layer_slot;          /* n_layer entries */
	uint32_t embd_slot, output_slot;
	struct trit_estimate est;      /* of the chosen placement; est.device[i] = slots[i] */
	uint32_t threads;
	uint32_t ubatch;
	double gpu_fraction;
	double tokens_per_s;           /* < 0: unknown (a SPEED_UNKNOWN reason says why) */
	uint32_t max_ctx;              /* when nothing fits: the largest context that would, 0 = none */
	struct trit_plan_reason_rec *reasons; /* every choice and assumption, in order */
	uint32_t n_reasons;
};

int trit_plan_make(const struct trit_model *m, const struct trit_plan_device *devs, uint32_t n,
                   const struct trit_plan_opts *o, struct trit_plan_result *out, char *err,
                   size_t errlen);
void trit_plan_result_free(struct trit_plan_result *p);

/* 1 when slot s is a GPU the placement puts nothing on (no layer, neither
 * the embeddings nor the output): nothing is allocated there, so it need not
 * fit; its context was made at the probe whatever the plan. */
int trit_plan_slot_unused(const struct trit_plan_result *p, uint32_t s);

/* Seed 002's workspace sizing for one quantised linear layer on a GPU with
 * `free_bytes` measured free: usable = fraction x free - weights - overhead x
 * free; batch = clamp(usable / (out_features x bytes per intermediate), 1, cap). */
uint32_t trit_plan_workspace_batch(uint64_t free_bytes, uint64_t weight_bytes,
                                   uint64_t out_features, uint32_t bytes_per_value,
                                   double fraction, double overhead, uint32_t cap);

/* The planner's CPU thread count for device d (NULL: none in the plan):
 * `forced` when non-zero ([runtime] threads), else its physical cores
 * (priority latency, balanced) or hardware threads (throughput); why (may
 * be NULL) gets the THREADS_* reason. `trit bench` runs kernels with it too. */
uint32_t trit_plan_threads(const struct trit_device *d, uint32_t forced,
                           enum trit_priority priority, struct trit_plan_reason_rec *why);

const char *trit_strategy_name(enum trit_strategy s);

#endif
