/*
 * estimate.h - every buffer trit will allocate to run a model, with its bytes
 * and its device: weights per tensor, KV cache per layer, the forward pass's
 * activation buffers, kernel workspace, per-device overhead; and the headroom
 * kept free, shown separately. This list is the one source of truth: the
 * loader and the forward pass allocate exactly these buffers.
 *
 * Everything here is computed from the model file (model.h) and from what
 * the backends report; where a backend reports nothing the estimate says so
 * in a note. Where to put what is plan.c's decision, not this file's.
 */
#ifndef TRIT_ESTIMATE_H
#define TRIT_ESTIMATE_H

#include <stddef.h>
#include <stdint.h>

#include <trit/backend.h>

#include "model/model.h"

enum trit_kv_type { TRIT_KV_F32 = 0, TRIT_KV_F16 = 1, TRIT_KV_Q8_0 = 2 };

enum trit_mem_component {
	TRIT_MEM_WEIGHTS, TRIT_MEM_KV, TRIT_MEM_ACTIVATIONS, TRIT_MEM_WORKSPACE,
	TRIT_MEM_OVERHEAD, TRIT_MEM_COUNT
};

/* KV cache cells are allocated in multiples of this many tokens by default
 * (llama.cpp pads its context the same way; [memory] kv_pad overrides). */
#define TRIT_KV_PAD 256u

struct trit_estimate_opts {
	uint32_t n_ctx;      /* context in tokens (KV cells, shared by all sequences); 0 = training context */
	uint32_t n_ubatch;   /* tokens in one forward pass (activation buffers scale with it) */
	uint32_t n_seq;      /* sequences decoded together (1 = one conversation) */
	enum trit_kv_type kv_type;
	uint32_t tp;         /* tensor-parallel ranks: matrices and KV heads split across them (1 = none) */
	double headroom;     /* fraction kept free; < 0: the default rule (10%, 20% above 8 GiB) */
	uint32_t kv_pad;     /* KV cells are a multiple of this; 0 = TRIT_KV_PAD */
};

/* A device as the estimator needs it. `be`/`state` may be NULL (a device
 * with no backend table, e.g. in tests): then no workspace is asked for. */
struct trit_estimate_device {
	const char *name;          /* "cpu_avx2/cpu0" */
	int is_cpu;
	const struct trit_backend *be;
	void *state;
	uint32_t index;            /* device index within its backend */
	uint64_t overhead;         /* runtime overhead the backend measured (property mem.overhead) */
	const char *overhead_source;
};

/* Which device holds each part. Devices are indices into the array passed to
 * trit_estimate_run; a pipeline split is simply layers on different devices. */
struct trit_placement {
	const uint32_t *layer_device;  /* n_layer entries */
	uint32_t embd_device;          /* token (and position) embeddings */
	uint32_t output_device;        /* output norm + output matrix + logits */
};

struct trit_mem_buffer {
	char name[64];        /* "blk.3.kv.k", "weights.blk.3", "act.ffn", "workspace" */
	uint32_t device;
	uint8_t component;    /* enum trit_mem_component */
	int32_t layer;        /* -1 when not per layer */
	uint64_t bytes;
};

struct trit_estimate {
	uint32_t n_ctx;            /* context actually allocated (padded) */
	uint32_t n_ubatch;
	enum trit_kv_type kv_type; /* element type of the KV cache */
	uint32_t n_devices;
	struct trit_mem_buffer *buffers;
	size_t n_buffers;
	uint64_t (*device)[TRIT_MEM_COUNT];  /* bytes per device and component */
	uint64_t *device_total;    /* sum over components */
	uint64_t *device_headroom; /* kept free on top of device_total */
	uint64_t totals[TRIT_MEM_COUNT];
	uint64_t total, headroom;
	uint64_t *kv_layer;        /* KV bytes of each layer */
	uint32_t *kv_cells;        /* KV cells of each layer (sliding-window layers fewer) */
	char notes[4][200];        /* what was assumed, e.g. "cpu0 reports no kernels: workspace 0" */
	uint32_t n_notes;
};

/* Fill *out (free with trit_estimate_free). Fails on inconsistent input
 * (placement outside the device array, missing hyper-parameters the KV cache
 * needs) with a sentence in err. */
int trit_estimate_run(const struct trit_model *m, const struct trit_estimate_opts *o,
                      const struct trit_placement *p, const struct trit_estimate_device *devs,
                      uint32_t n_devs, struct trit_estimate *out, char *err, size_t errlen);
void trit_estimate_free(struct trit_estimate *e);

/* KV bytes of one layer for n_cells cells (exported for tests and the planner). */
uint64_t trit_estimate_kv_layer(const struct trit_model *m, uint32_t layer, uint32_t n_cells,
                                enum trit_kv_type t, uint32_t tp);
/* Headroom for a requirement of `bytes`: fraction >= 0 as given, else 10%,
 * or 20% when the requirement exceeds 8 GiB. */
uint64_t trit_estimate_headroom(uint64_t bytes, double fraction);

const char *trit_mem_component_name(enum trit_mem_component c);
const char *trit_kv_type_name(enum trit_kv_type t);
int trit_kv_type_from_name(const char *name, enum trit_kv_type *out);

#endif
