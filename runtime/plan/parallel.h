/*
 * parallel.h - tensor, pipeline and expert parallelism as the engines that
 * run them do it (vLLM's sharding, which Megatron-LM's also is): which degrees
 * suit a model, which layers each pipeline stage holds, and how many bytes of
 * each tensor one rank holds. The estimator (estimate.h) counts one rank's
 * buffers with these rules; pplan.c places the ranks on GPUs.
 * docs/memory.md ("Parallel deployments") writes every rule out with the
 * engine code it follows.
 */
#ifndef TRIT_PARALLEL_H
#define TRIT_PARALLEL_H

#include <stddef.h>
#include <stdint.h>

#include "model/model.h"
#include "model/names.h"

/* The largest degree accepted (no model has more heads or experts to split). */
#define TRIT_PARALLEL_MAX 1024u

/* vLLM pads the vocabulary of its embedding and output head to a multiple of
 * this many rows before splitting them over the tensor-parallel ranks
 * (DEFAULT_VOCAB_PADDING_SIZE, vllm/model_executor/layers/vocab_parallel_embedding.py). */
#define TRIT_PARALLEL_VOCAB_PAD 64u

struct trit_parallel {
	uint32_t tp;  /* tensor-parallel ranks (1 = none) */
	uint32_t pp;  /* pipeline stages (1 = none) */
	uint32_t ep;  /* expert-parallel ranks (1 = none; a multiple of tp) */
};

/* How one rank holds a tensor. */
enum trit_shard_rule {
	TRIT_SHARD_REPLICATED = 0, /* whole on every rank: norms, routers, MLA down-projections */
	TRIT_SHARD_HEADS,          /* attention heads split: q, o, fused qkv's q part, MLA up-projections */
	TRIT_SHARD_KV_HEADS,       /* max(1, kv_heads / tp) heads: replicated when tp > kv_heads */
	TRIT_SHARD_FFN,            /* the FFN's intermediate size split (dense, shared, and experts without ep) */
	TRIT_SHARD_VOCAB,          /* vocabulary rows padded to 64 and split */
	TRIT_SHARD_EXPERTS,        /* n_expert / ep whole experts */
	TRIT_SHARD_RULE_COUNT
};

/* Whether role r is a routed expert's matrix (gate, up, down of the
 * experts a router picks from; not the router, not shared experts). */
int trit_parallel_routed_expert(enum trit_role r);

/* "replicated", "heads/tp", ... for reports. */
const char *trit_shard_rule_name(enum trit_shard_rule r);

/* 0 when model m can run with these degrees; else TRIT_EINVAL with a
 * sentence naming the degree and the model's number it does not suit (heads
 * not divisible by tp, experts by ep, fewer layers than stages, ...). */
int trit_parallel_check(const struct trit_model *m, const struct trit_parallel *par, char *err,
                        size_t errlen);

/* GPUs one pipeline stage takes: max(tp, ep) (with ep > tp the attention
 * runs data-parallel, ep / tp copies, as vLLM's expert parallelism does). */
uint32_t trit_parallel_stage_ranks(const struct trit_parallel *par);

/* The layers of stage s of pp over n_layer layers, vLLM's default partition
 * (get_pp_indices): n_layer / pp each, the remainder one more each on the
 * stages before the last, from the second-to-last backwards. */
void trit_parallel_stage_layers(uint32_t n_layer, uint32_t pp, uint32_t stage, uint32_t *first,
                                uint32_t *count);

/* Bytes of tensor t one rank holds, given `bytes` as the whole tensor is
 * held (the file's, or a repacked size), and the rule applied. With tp and
 * ep both 1 it returns bytes (rule REPLICATED). */
uint64_t trit_parallel_tensor_bytes(const struct trit_model *m, const struct trit_model_tensor *t,
                                    uint64_t bytes, uint32_t tp, uint32_t ep,
                                    enum trit_shard_rule *rule);

#endif
