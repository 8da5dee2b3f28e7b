/*
 * exec/kvcache.h - the attention KV cache (internal): per layer, keys and
 * values [head_dim, n_head_kv, n_ctx] of F16 (the default), F32 or Q8_0 in
 * one buffer on that layer's device. The graph writes new positions with
 * KV_WRITE and reads them with ATTENTION; this file only sizes, allocates
 * and describes the tensors. Sizes are exact, and available without
 * allocating (for the planner).
 */
#ifndef TRIT_EXEC_KVCACHE_H
#define TRIT_EXEC_KVCACHE_H

#include <stddef.h>
#include <stdint.h>

#include <trit/backend.h>

#include "exec/sched.h"
#include "model/model.h"

struct trit_kvcache {
	uint32_t n_layer, n_ctx, type;
	struct trit_tensor *k, *v;          /* n_layer each: the graph's cache operands */
	struct trit_buffer **bufs;          /* n_layer: K then V of each layer */
	uint32_t *layer_target;             /* n_layer: target index of each layer */
	const struct trit_sched_target *targets; /* borrowed, n_targets */
	uint32_t n_targets;
	uint64_t bytes;                     /* all layers */
	uint64_t *target_bytes;             /* n_targets */
};

/* "f16", "f32", "q8_0" (any case) -> TRIT_TYPE_*; TRIT_EINVAL otherwise. */
int trit_kvcache_type(const char *name, uint32_t *type, char *err, size_t errlen);

/* Exact bytes of layer il's K and V together for n_ctx positions of `type`
 * (K's bytes rounded up to 64 so V starts aligned). TRIT_EINVAL when the
 * head size does not suit the type (Q8_0: a multiple of 32). */
int trit_kvcache_layer_bytes(const struct trit_hparams *hp, uint32_t il, uint32_t n_ctx,
                             uint32_t type, uint64_t *bytes, char *err, size_t errlen);
/* The sum over all layers. */
int trit_kvcache_bytes(const struct trit_hparams *hp, uint32_t n_ctx, uint32_t type,
                       uint64_t *bytes, char *err, size_t errlen);

/* Allocate every layer's buffer on targets[layer_target[il]] (layer_target
 * NULL: all on target 0). On error nothing stays allocated. */
int trit_kvcache_new(const struct trit_hparams *hp, uint32_t n_ctx, uint32_t type,
                     const struct trit_sched_target *targets, uint32_t n_targets,
                     const uint32_t *layer_target, struct trit_kvcache **out, char *err,
                     size_t errlen);
void trit_kvcache_free(struct trit_kvcache *kv);

#endif
