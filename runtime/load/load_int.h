/*
 * load/load_int.h - what the loader's files share (internal to runtime/load):
 * the weights handle, the per-tensor plan made before any byte is touched,
 * the file mappings, and the RSS probe.
 */
#ifndef TRIT_LOAD_LOAD_INT_H
#define TRIT_LOAD_LOAD_INT_H

#include <stddef.h>
#include <stdint.h>

#include "core/proc.h"
#include "load/load.h"

/* One model file, mapped read-only (base NULL for an empty file). */
struct load_map {
	unsigned char *base;
	uint64_t size;
};

/* A buffer the load created: freed through its backend with the weights. */
struct load_buf {
	const struct trit_sched_target *tgt;
	struct trit_buffer *b;
};

struct trit_weights {
	struct trit_weight *w;
	size_t n;                       /* entries of w: the model's tensors, then the
	                                 * head copy when there is one */
	size_t n_named;                 /* the model's tensors (by_name indexes these) */
	size_t *by_name;                /* indices of w sorted by name */
	struct load_map *maps;
	uint32_t n_maps;
	struct load_buf *bufs;
	size_t n_bufs, cap_bufs;
	struct trit_sched_target *targets; /* the spec's, copied */
	uint32_t n_targets;
	uint64_t *target_bytes;         /* n_targets */
};

/* What the planner decided for one tensor (no byte of it read yet). */
struct load_item {
	uint32_t target;
	uint32_t src_type;              /* trit type of the bytes as stored, or
	                                 * TRIT_TERNARY_SRC_I2S_BITNET */
	uint32_t type;                  /* trit type as placed */
	uint8_t repack;                 /* 1: converted from src_type to type */
	uint8_t check;                  /* enum load_check: what to scan before placing */
	uint64_t bytes;                 /* bytes as placed */
	struct trit_tensor t;           /* geometry as placed (buffer NULL) */
};

enum load_check {
	LOAD_CHECK_NONE = 0,
	LOAD_CHECK_F32 = 1,             /* every element finite (norms, *_scale) */
	LOAD_CHECK_I2S_SCALE = 2,       /* the trailer's F32 scale finite */
	LOAD_CHECK_BLOCK_SCALES = 3     /* TQ1_0/TQ2_0: every block's F16 d finite */
};

/* Plan tensor i of m for spec: target, types, geometry, support, checks.
 * Touches no tensor byte. Errors name the tensor. */
int load_plan_tensor(const struct trit_model *m, size_t i, const struct trit_load_spec *spec,
                     struct load_item *it, char *err, size_t errlen);
/* The same for a copy of tensor i (the tied token embeddings) that the head
 * multiplies by on the output target. */
int load_plan_head_copy(const struct trit_model *m, size_t i, const struct trit_load_spec *spec,
                        struct load_item *it, char *err, size_t errlen);

/* Map every file of m read-only; check each tensor's extent against its
 * file's size. On error nothing stays mapped. */
int load_map_files(const struct trit_model *m, struct load_map **maps, char *err, size_t errlen);
void load_unmap_files(struct load_map *maps, uint32_t n);

/* Let the kernel take back the pages of [p, p + n) of a read-only mapping
 * (they are read again from the file if touched), so what the load read
 * does not stay in its RSS. */
void load_drop_pages(const struct load_map *map, const void *p, uint64_t n);

/* Scan what it.check says of the tensor's bytes at p. */
int load_check_values(const struct trit_model_tensor *mt, const struct load_item *it,
                      const unsigned char *p, char *err, size_t errlen);


#endif
