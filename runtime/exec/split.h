/*
 * exec/split.h - one ubatch graph over several devices (internal).
 *
 * Each node runs on the target of its layer tag (embeddings, a layer, the
 * output part). Every target that runs nodes gets its own activation arena,
 * placed by exec/alloc.c from the slots as that target sees them: only the
 * slots its nodes use, each live from its first to its last use there. A
 * slot one target writes and another reads crosses once, at the start of
 * the reading segment (a maximal run of nodes on one target): so on the
 * reading target it is live from that segment's start, and on the writing
 * target until it. The graph's inputs are written into every arena that
 * holds them; the logits are read from the output target's. With a single
 * target the slots are the graph's own and the arena is what it always was.
 */
#ifndef TRIT_EXEC_SPLIT_H
#define TRIT_EXEC_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "graph/graph.h"

/* At most this many targets in one split (a slot's copies are a bit mask). */
#define TRIT_SPLIT_MAX_TARGETS 64

/* Where each node runs: layer_target[layer] (NULL: target 0) for a layer's
 * nodes, embd for the embeddings (tag -1), output for the output part (tag
 * n_layer). node_target has g->n_nodes entries. */
void trit_split_node_targets(const struct trit_nodelist *g, const uint32_t *layer_target,
                             uint32_t n_layer, uint32_t embd, uint32_t output,
                             uint32_t *node_target);

/* The slots of g as target t holds them, into out[0..g->n_slots): the
 * graph's slots with first/last rewritten as above; a slot t never touches
 * gets first 1 and last 0 (unused: no room in t's arena). */
int trit_split_slots(const struct trit_nodelist *g, const uint32_t *node_target, uint32_t t,
                     struct trit_gslot *out, char *err, size_t errlen);

/* Whether node i reads slot s (an operand, not only its destination) or
 * writes it (its destination; QUANTIZE_ACT's scales too). */
int trit_split_reads(const struct trit_gnode *n, int32_t s);
int trit_split_writes(const struct trit_gnode *n, int32_t s);

/* The arena bytes target t needs for g (0 when it runs none of its nodes). */
int trit_split_arena_bytes(const struct trit_nodelist *g, const uint32_t *node_target, uint32_t t,
                           uint64_t *bytes, char *err, size_t errlen);

/* The largest slot two or more of targets [0, n_targets) hold: the host
 * buffer a crossing passes through (0 when nothing crosses). */
int trit_split_crossing_bytes(const struct trit_nodelist *g, const uint32_t *node_target,
                              uint32_t n_targets, uint64_t *bytes, char *err, size_t errlen);

#endif
