/*
 * graph/graph.h - a forward pass written as a list of ABI v2 nodes over
 * tensors (internal). Activations are slots: contiguous byte ranges with a
 * size, not yet placed; weights and KV caches are tensors that already live
 * somewhere. Each node's operands are tensors whose byte offset counts from
 * their slot's start (slot >= 0) or from their own buffer (slot -1), so one
 * graph is built without memory and bound to an arena later
 * (trit_graph_bind) once exec/alloc.c has placed the slots.
 *
 * The architectures (graph/arch.c) write a model's pass with the helpers
 * below; what each op computes is backend.h's spec.
 */
#ifndef TRIT_GRAPH_GRAPH_H
#define TRIT_GRAPH_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include <trit/backend.h>

#include "model/model.h"

/* An operand: a tensor, in a slot (slot >= 0, t.offset from the slot's
 * start, t.buffer NULL until bound) or outside the graph (slot -1: a weight,
 * a KV cache; t.buffer as given). A zero-filled one is "absent". */
struct trit_gref {
	struct trit_tensor t;
	int32_t slot;
};

/* One activation buffer. first/last: the indices of the first and last node
 * that use it (read or write); an input written before the run starts at
 * -1, an output read after it ends at n_nodes. */
struct trit_gslot {
	uint64_t bytes;
	int32_t first, last;
	char name[40];
};

struct trit_gnode {
	uint32_t op;
	struct trit_gref dst, src[TRIT_NODE_MAX_SRC];
	int32_t iparams[4];
	float fparams[4];
	int32_t layer;          /* -1: embeddings; n_layer: output norm and head */
	char name[40];
};

struct trit_nodelist {
	struct trit_gslot *slots;
	uint32_t n_slots, cap_slots;
	struct trit_gnode *nodes;
	uint32_t n_nodes, cap_nodes;
	int32_t cur_layer;      /* tag of nodes appended now */
	/* The graph's inputs and output (slot indices, -1 when absent). */
	int32_t in_tokens, in_pos, out_logits;
	uint32_t n_tokens, n_outputs, n_vocab;
};

/* ------------------------------------------------------------------ */
/* Building                                                            */

void trit_graph_init(struct trit_nodelist *g);
void trit_graph_free(struct trit_nodelist *g);

/* A new slot holding a contiguous `type` tensor [ne0, ne1, ne2] (block
 * types: ne0 a multiple of the block). The returned ref views all of it.
 * TRIT_ENOMEM / TRIT_EINVAL in err; rc in *rc (left alone on success). */
struct trit_gref trit_graph_new(struct trit_nodelist *g, uint32_t type, uint64_t ne0, uint64_t ne1,
                                uint64_t ne2, const char *name, int *rc);

/* The same bytes seen as a contiguous [ne0, ne1, ne2] of the same type
 * (element counts must agree). */
struct trit_gref trit_gref_reshape(struct trit_gref r, uint64_t ne0, uint64_t ne1, uint64_t ne2);

/* Rows [row, row + n) of a 2-D contiguous ref. */
struct trit_gref trit_gref_rows(struct trit_gref r, uint64_t row, uint64_t n);

/* An external tensor (weight, cache) as an operand. */
struct trit_gref trit_gref_ext(const struct trit_tensor *t);

/* Append a node; its operands' slots get their lifetimes extended. */
int trit_graph_add(struct trit_nodelist *g, uint32_t op, struct trit_gref dst,
                   const struct trit_gref *src, unsigned n_src, const int32_t *ip,
                   const float *fp, const char *name, char *err, size_t errlen);

/* Mark a slot as written before the run (inputs) or read after it (outputs). */
void trit_graph_mark_input(struct trit_nodelist *g, int32_t slot);
void trit_graph_mark_output(struct trit_nodelist *g, int32_t slot);

/* Bytes of a contiguous tensor of `type` [ne0, ne1, ne2]; 0 when ne0 does
 * not suit the type's block or the type has no row geometry. */
uint64_t trit_graph_bytes(uint32_t type, uint64_t ne0, uint64_t ne1, uint64_t ne2);

/* ------------------------------------------------------------------ */
/* Binding                                                             */

/* Fill out[0..n_nodes) from nodes [first, first + n): slot operands move to
 * `arena` at slot_offset[slot] + their offset. */
void trit_graph_bind(const struct trit_nodelist *g, uint32_t first, uint32_t n,
                     struct trit_buffer *arena, const uint64_t *slot_offset,
                     struct trit_node *out);

/* ------------------------------------------------------------------ */
/* Architectures (graph/arch.c)                                        */

/* Where the weights and the KV cache are: a lookup by GGUF name (NULL when
 * the model has no such tensor) and each layer's cache tensors. */
struct trit_graph_inputs {
	const struct trit_tensor *(*weight)(void *ctx, const char *name);
	void *weight_ctx;
	/* n_layer entries each; may be NULL only for a size-only build (the
	 * attention then reads a cache of kv_type with no buffer). */
	const struct trit_tensor *k_cache, *v_cache;
	uint32_t kv_type;        /* type of the caches when k_cache is NULL */
	uint32_t n_ctx;          /* cache positions, when k_cache is NULL */
	/* The head's matrix when it is a copy of the tied token embeddings
	 * placed on another device than they are (NULL: by name). */
	const struct trit_tensor *head;
};

/* Whether the head of a model with these hyper-parameters multiplies by
 * token_embd (tied: llama.cpp's bitnet always, the others when the file has
 * no output.weight). */
int trit_graph_head_is_tied(const struct trit_hparams *hp, int has_output);

enum trit_arch {
	TRIT_ARCH_LLAMA = 1,       /* Llama 2/3, Mistral: normal RoPE, SiLU-gated FFN */
	TRIT_ARCH_BITNET_B158 = 2, /* bitnet.cpp's bitnet-b1.58 / bitnet-25: sub-norms, ReLU^2 */
	TRIT_ARCH_BITNET = 3       /* llama.cpp's bitnet: sub-norms, SiLU (or relu2) */
};

/* The architecture a model's hyper-parameters name, or TRIT_EUNSUPPORTED. */
int trit_graph_arch(const struct trit_hparams *hp, enum trit_arch *out, char *err, size_t errlen);
const char *trit_graph_arch_name(enum trit_arch a);

struct trit_graph_params {
	const struct trit_hparams *hp;
	uint32_t n_tokens;        /* tokens of this ubatch (T >= 1) */
	uint32_t n_kv;            /* cache positions attention reads: pos0 + T */
	int all_logits;           /* logits of every token, else of the last only */
};

/* Build the forward pass of one ubatch into g (initialised by the caller).
 * Inputs: g->in_tokens (I32 [T]) and g->in_pos (I32 [T]); output
 * g->out_logits (F32 [n_vocab, n_outputs]). The graph's shape and slot
 * sequence depend on T only through the slots' sizes, so the allocation
 * made for the largest ubatch serves every smaller one. */
int trit_graph_build(const struct trit_graph_params *p, const struct trit_graph_inputs *in,
                     struct trit_nodelist *g, char *err, size_t errlen);

#endif
