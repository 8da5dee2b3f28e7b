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

#include <trit/trit.h> /* enum trit_kv_type */

#include "model/model.h"

/* REPACK is the loader's transient host memory for converting weights into a
 * format the device runs (see struct trit_weight_form); it is counted on the
 * plan's CPU device because that is where the host memory is. */
enum trit_mem_component {
	TRIT_MEM_WEIGHTS, TRIT_MEM_KV, TRIT_MEM_ACTIVATIONS, TRIT_MEM_WORKSPACE,
	TRIT_MEM_OVERHEAD, TRIT_MEM_REPACK, TRIT_MEM_COUNT
};

/* KV cache cells are allocated in multiples of this many tokens by default
 * (llama.cpp pads its context the same way; [memory] kv_pad overrides). */
#define TRIT_KV_PAD 256u

struct trit_estimate_opts {
	uint32_t n_ctx;      /* context in tokens (KV cells, shared by all sequences); 0 = training context */
	uint32_t n_ubatch;   /* tokens in one forward pass (activation buffers scale with it) */
	uint32_t n_seq;      /* sequences decoded together (1 = one conversation) */
	enum trit_kv_type kv_type;
	/* Tensor- and expert-parallel ranks (0 or 1 = none): the buffers
	 * counted are one rank's, each tensor sharded by plan/parallel.h's
	 * rules; activations and workspace then by formula (the forward pass
	 * runs neither). */
	uint32_t tp, ep;
	double headroom;     /* fraction kept free; < 0: the default rule (10%, 20% above 8 GiB) */
	uint32_t kv_pad;     /* KV cells are a multiple of this; 0 = TRIT_KV_PAD */
	/* Host memory `trit run` holds besides weights, KV cache and arena,
	 * counted on the placement's CPU device (docs/memory.md): */
	uint64_t host_tokenizer;  /* the tokenizer's tables (trit_vocab_bytes); 0: none */
	int32_t sampler_history;  /* the sampler's repeat_last_n (its token ring); < 0: none */
	/* 1: a BitNet model's F32/F16/BF16 projection matrices run as stored on a
	 * device with that float kernel ([planner] bitnet_floats = as-stored, as
	 * llama.cpp runs them); 0: ternarised at load time (the default) */
	int keep_floats;
	/* 1: the forward pass returns every token's logits (trit perplexity):
	 * the activation arena holds a ubatch of logit rows, not one */
	int all_logits;
};

/* A device as the estimator needs it. `be`/`state` may be NULL (a device
 * with no backend table, e.g. in tests): then no workspace is asked for. */
struct trit_estimate_device {
	const char *name;          /* "cpu_avx2/cpu0" */
	int is_cpu;
	const struct trit_backend *be;
	void *state;
	uint32_t index;            /* device index within its backend */
	uint64_t overhead;         /* runtime overhead the backend measured (property mem.overhead);
	                            * on the CPU device: the process's resident set before
	                            * the model's buffers (plan.c measures it) */
	const char *overhead_source;
	uint64_t matmul_types;     /* TRIT_TYPE_BIT set of the kernels it runs (0: none) */
	int32_t ternary_pref;      /* format to repack ternary weights into when it runs
	                            * several: the fastest `trit bench` measured; any
	                            * other value (0, -1) = the default order I2_S, TL2, TL1 */
	const char *ternary_pref_why; /* where ternary_pref comes from (for the report) */
	/* TRIT_TYPE_I2_S, TL1 or TL2: every BitLinear weight runs in that format,
	 * repacked when the file holds another (even I2_S), or cannot run here
	 * when the device lacks it ([planner] ternary_format); 0 = none forced */
	uint32_t ternary_force;
	/* 1: another engine runs the model (a parallel deployment): weights are
	 * counted as the file stores them, nothing is repacked, and the
	 * engine's kernel workspace is not counted (a note says so) */
	int as_stored;
};

/*
 * How the loader holds one weight tensor on a device. Only BitLinear
 * projection weights (attention and feed-forward matrices, experts included,
 * that are ternary in the file, or F32/F16/BF16 in a BitNet model) are ever
 * converted: when the device's kernels do not run the file's type, the loader
 * repacks the tensor at load time into a ternary format the device runs
 * (trit_ternary_pack), and the device holds trit_ternary_bytes() of it (row
 * and column padding and the 32-byte scale trailer included). Every other
 * tensor (norms, embeddings, the output matrix of a BitNet model) stays as in
 * the file.
 */
enum trit_weight_fate {
	TRIT_WEIGHT_AS_IS = 0,    /* not a BitLinear weight, or the device runs its type */
	TRIT_WEIGHT_REPACKED,     /* converted at load time from_type -> run_type */
	TRIT_WEIGHT_NO_KERNEL     /* a BitLinear weight the device can neither run nor get
	                           * repacked (`why` says which); counted as in the file */
};

struct trit_weight_form {
	int bitlinear;            /* a BitLinear projection weight */
	enum trit_weight_fate fate;
	int32_t file_type;        /* trit type of the file's data; -1 when it has none
	                           * (Q4_0, U8-packed, bitnet.cpp's TL1/TL2 tilings) */
	int32_t run_type;         /* the type the device's matmul runs it as; -1 unknown */
	uint64_t bytes;           /* bytes the device holds */
	const char *why;          /* for TRIT_WEIGHT_NO_KERNEL, and for a repack: why */
};

/* Decide the form of tensor t of model m on a device that runs matmul_types,
 * repacking into `pref` when it is one of them (else I2_S, TL2, TL1 in that
 * order); `force` (a ternary_force, 0 = none) overrides both and the file's
 * own format; keep_floats as trit_estimate_opts'. Pure: reads only its
 * arguments. */
void trit_estimate_weight_form(const struct trit_model *m, const struct trit_model_tensor *t,
                               uint64_t matmul_types, int32_t pref, uint32_t force,
                               int keep_floats, struct trit_weight_form *out);

/* Whether tensor t is a BitLinear projection weight (the only ones repacked). */
int trit_estimate_is_bitlinear(const struct trit_model *m, const struct trit_model_tensor *t);

/* What repacking does on one device: counts and bytes of its BitLinear
 * weights by fate. */
struct trit_repack_summary {
	int32_t run_type;          /* format repacked weights get here; -1 = none repacked */
	uint32_t n_as_is, n_repacked, n_no_kernel;
	uint64_t as_is_bytes;      /* BitLinear weights kept as in the file */
	uint64_t file_bytes;       /* file bytes of the repacked ones */
	uint64_t repacked_bytes;   /* their bytes after repacking */
	uint64_t no_kernel_bytes;
	uint32_t from_types;       /* bit (1 << trit type) of each file type repacked */
	uint32_t as_is_types;      /* bit (1 << trit type) of each type run as in the file */
	const char *no_kernel_why; /* the first reason a weight cannot run here */
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
	int32_t tensor;       /* weights: index into the model's tensors; else -1 */
	int32_t run_type;     /* weights: the trit type its kernel runs (-1 none/unknown) */
	int32_t from_type;    /* a repacked weight: its type in the file; else -1 */
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
	int keep_floats;           /* the options' keep_floats: the loader follows it */
	uint32_t *kv_cells;        /* KV cells of each layer (sliding-window layers fewer) */
	struct trit_repack_summary *repack; /* per device */
	/* The loader converts one tensor at a time through two host buffers
	 * sized for the largest: the source as read from the file and the
	 * repacked tensor on its way to the device (buffer_write). */
	uint64_t repack_source, repack_staging;
	int32_t repack_device;     /* where they are counted (the CPU device); -1 none */
	char notes[8][200];        /* what was assumed, e.g. "cpu0 reports no kernels: workspace 0" */
	uint32_t n_notes;
};

/* Fill *out (free with trit_estimate_free). Fails on inconsistent input
 * (placement outside the device array, missing hyper-parameters the KV cache
 * needs) with a sentence in err. */
int trit_estimate_run(const struct trit_model *m, const struct trit_estimate_opts *o,
                      const struct trit_placement *p, const struct trit_estimate_device *devs,
                      uint32_t n_devs, struct trit_estimate *out, char *err, size_t errlen);
void trit_estimate_free(struct trit_estimate *e);

/* The planned bytes on device dev of the buffers whose names start with
 * `prefix` ("act.arena", "host.", "process.baseline", "blk.3.kv"): what a
 * command that measures its buffers (trit run, tests/trit-forward) prints
 * next to each measurement. Per component: e->device[dev][component]. */
uint64_t trit_estimate_named(const struct trit_estimate *e, uint32_t dev, const char *prefix);

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
