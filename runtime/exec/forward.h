/*
 * exec/forward.h - run a model's forward pass over its loaded weights
 * (internal). A context holds the KV cache and one activation arena sized by
 * exec/alloc.c for the worst-case ubatch; trit_forward_eval() feeds tokens
 * in ubatches, builds each ubatch's graph (graph/), binds it to the arena
 * and runs it with trit_sched_run() per device segment, with the fallback
 * taking the nodes a device does not support. Every byte it holds is
 * accounted for (trit_forward_memory) so `trit run` can compare with RSS.
 *
 * Placement: each layer's nodes run on the target its layer names, the
 * embedding lookup on embd_target and the output norm and head on
 * output_target. Each target that runs nodes has its own arena, and an
 * activation one target writes and another reads is copied once, at the
 * start of the reading segment (exec/split.h).
 */
#ifndef TRIT_EXEC_FORWARD_H
#define TRIT_EXEC_FORWARD_H

#include <stddef.h>
#include <stdint.h>

#include <trit/backend.h>

#include "exec/sched.h"
#include "graph/graph.h"
#include "model/model.h"

struct trit_weights;

struct trit_forward_params {
	const struct trit_model *model;
	/* The weights: either the loader's (weights) or any lookup by GGUF name
	 * (weight, weight_ctx; used when weights is NULL). */
	const struct trit_weights *weights;
	const struct trit_tensor *(*weight)(void *ctx, const char *name);
	void *weight_ctx;
	const struct trit_sched_target *targets;  /* borrowed; outlive the context */
	uint32_t n_targets;
	const uint32_t *layer_target;   /* n_layer entries (copied); NULL: all on target 0 */
	uint32_t embd_target, output_target;
	const struct trit_sched_target *fallback; /* the CPU fallback, or NULL: none */
	uint32_t n_ctx;                 /* KV cache positions */
	uint32_t n_ubatch;              /* tokens per graph run (>= 1) */
	uint32_t kv_type;               /* TRIT_TYPE_F16, F32 or Q8_0 */
	uint32_t n_threads;             /* CPU backends; 0 = backend's choice */
	int all_logits;                 /* eval returns every token's logits */
};

/* Exact bytes a context holds, per target where it has a place. */
struct trit_forward_memory {
	uint32_t n_targets;
	const uint64_t *weight_bytes;   /* n_targets: bytes of the weights the graph reads */
	const uint64_t *kv_bytes;       /* n_targets */
	uint64_t kv_total;
	uint64_t arena_bytes;           /* the activation arenas, all targets */
	const uint64_t *arena_target_bytes; /* n_targets: each target's arena (0: none) */
	uint64_t arena_unshared;        /* what the activations would take without reuse */
	uint64_t workspace_bytes;       /* sum over targets of workspace_target_bytes */
	const uint64_t *workspace_target_bytes; /* n_targets: largest graph_workspace() of
	                                 * the nodes a target's device runs */
	uint64_t fallback_workspace_bytes; /* ... and of the fallback's nodes, any target */
	uint64_t bounce_bytes;          /* host buffer activations cross devices through */
	uint32_t n_slots, n_nodes;      /* of the worst-case ubatch graph */
};

/* Where the last eval's nodes ran (summed over its ubatches). */
struct trit_forward_stats {
	uint64_t device_nodes, fallback_nodes, device_calls, fallback_calls;
	uint64_t ubatches, tokens;
	uint64_t segments;              /* runs of nodes on one target */
	uint64_t crossings, crossing_bytes; /* activations moved between targets' arenas */
};

struct trit_forward;

int trit_forward_new(const struct trit_forward_params *p, struct trit_forward **out,
                     char *err, size_t errlen);
void trit_forward_free(struct trit_forward *f);

/* Run tokens[0..n) at positions pos0 .. pos0 + n - 1 (the cache holds
 * positions below pos0 from earlier calls; later ones are overwritten).
 * logits: n_vocab floats of the last token, or n * n_vocab with all_logits;
 * may be NULL. TRIT_ERANGE for a token outside the vocabulary or positions
 * past n_ctx. */
int trit_forward_eval(struct trit_forward *f, const int32_t *tokens, uint32_t n, uint32_t pos0,
                      float *logits, char *err, size_t errlen);

const struct trit_forward_memory *trit_forward_memory(const struct trit_forward *f);
const struct trit_forward_stats *trit_forward_stats(const struct trit_forward *f);
uint32_t trit_forward_n_vocab(const struct trit_forward *f);

/* The planner's question, without allocating: the arena bytes (and the sum
 * without reuse) of the worst-case ubatch graph of this model, with the
 * weights' types as `weight` reports them (buffers may be NULL). */
int trit_forward_arena_bytes(const struct trit_hparams *hp,
                             const struct trit_tensor *(*weight)(void *ctx, const char *name),
                             void *weight_ctx, uint32_t n_ctx, uint32_t kv_type,
                             uint32_t n_ubatch, int all_logits, uint64_t *arena_bytes,
                             uint64_t *unshared_bytes, char *err, size_t errlen);

/* The same for a model file's tensor table, before anything is loaded:
 * each tensor as its stored type, ternary matrices as ternary_type when
 * that is not 0 (the loader's repack). TRIT_EUNSUPPORTED for a tensor of a
 * type no backend runs. */
int trit_forward_model_arena_bytes(const struct trit_model *m, uint32_t ternary_type,
                                   uint32_t n_ctx, uint32_t kv_type, uint32_t n_ubatch,
                                   int all_logits, uint64_t *arena_bytes,
                                   uint64_t *unshared_bytes, char *err, size_t errlen);

/* A split, as the planner describes one: each layer's target (n_layer
 * entries), the embeddings' and the output's, and the target asked about. */
struct trit_forward_place {
	const uint32_t *layer_target;
	uint32_t embd_target, output_target;
	uint32_t target;
	uint32_t n_targets;             /* targets the indices above count */
	uint64_t *crossing_bytes;       /* NULL, or receives the host buffer activations
	                                 * cross devices through (0: none cross) */
};

/* The arena bytes the forward pass allocates on pl->target for a model
 * split as pl says (0 when no node runs there), as
 * trit_forward_model_arena_bytes otherwise. */
int trit_forward_model_split_arena_bytes(const struct trit_model *m, uint32_t ternary_type,
                                         uint32_t n_ctx, uint32_t kv_type, uint32_t n_ubatch,
                                         int all_logits, const struct trit_forward_place *pl,
                                         uint64_t *arena_bytes, char *err, size_t errlen);

/* The workspace device dev asks (graph_workspace) for the nodes of the
 * worst-case ubatch graph it would run itself: those placed on pl->target
 * (pl NULL: every node) that its supports_op() takes; a 2-D float tensor
 * for which ternarised() says 1 (may be NULL) runs as ternary_type too, as
 * the loader ternarises BitNet's float projections. The forward pass
 * allocates what the same call says of the same nodes. TRIT_EUNSUPPORTED
 * when the device has no graph calls or runs none of the graph's matrices
 * as it builds them (then only its kernels' own figure can size it). */
int trit_forward_model_workspace(const struct trit_model *m, uint32_t ternary_type,
                                 uint32_t n_ctx, uint32_t kv_type, uint32_t n_ubatch,
                                 int all_logits, const struct trit_forward_place *pl,
                                 int (*ternarised)(const struct trit_model *m,
                                                   const struct trit_model_tensor *t),
                                 const struct trit_sched_target *dev, uint64_t *bytes,
                                 char *err, size_t errlen);

#endif
