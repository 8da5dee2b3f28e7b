/*
 * exec/alloc.h - place a graph's activation slots in one arena (internal).
 *
 * Liveness-based: slots whose lifetimes (first to last node that uses them)
 * do not overlap may share bytes. Deterministic (the same slots give the
 * same offsets on every machine) and memory-free apart from its own small
 * tables, so the planner can ask for the arena size of a worst-case ubatch
 * without allocating it, and the executor allocates exactly that.
 */
#ifndef TRIT_EXEC_ALLOC_H
#define TRIT_EXEC_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#include "graph/graph.h"

/* Alignment of every slot's offset: enough for any element type and vector. */
#define TRIT_ALLOC_ALIGN UINT64_C(64)

/* Offsets of slots[0..n) (offsets may be NULL: size only) and the arena's
 * size. A slot no node uses gets offset 0 and takes no room. */
int trit_alloc_plan(const struct trit_gslot *slots, uint32_t n, uint64_t *offsets,
                    uint64_t *arena_bytes, char *err, size_t errlen);

/* The bytes the slots would take without sharing (each aligned). */
uint64_t trit_alloc_sum(const struct trit_gslot *slots, uint32_t n);

/* Check a placement: every used slot inside the arena and aligned, no two
 * slots with overlapping lifetimes sharing a byte. TRIT_EINTERNAL naming the
 * first pair that does. */
int trit_alloc_check(const struct trit_gslot *slots, uint32_t n, const uint64_t *offsets,
                     uint64_t arena_bytes, char *err, size_t errlen);

#endif
