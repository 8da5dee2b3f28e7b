/*
 * ops_internal.h - what the files of the CPU graph ops (ops.c, ops_elem.c,
 * ops_matmul.c, ops_attn.c) share: a tensor resolved to memory, a node with
 * its operands resolved, and the per-op run and workspace functions. Only
 * those files include it; plugins see ops.h.
 */
#ifndef TRIT_PLUGINS_CPU_OPS_INTERNAL_H
#define TRIT_PLUGINS_CPU_OPS_INTERNAL_H

#include <stdint.h>

#include "cpu_common.h"
#include "ops.h"

/* A tensor as a run sees it: backend.h's geometry and the address of
 * element [0,0,0,0] (NULL while only shapes are checked). */
struct ops_view {
	uint32_t type;
	uint64_t ne[4], nb[4];
	unsigned char *data;
	uint64_t rows;       /* ne[1] * ne[2] * ne[3] */
	uint64_t row_bytes;  /* bytes of one row of ne[0] elements (0 for TL1/TL2) */
	uint64_t extent;     /* bytes from data to one past the last byte read */
};

/* Row i (0 .. rows-1) of v, dims 1..3 flattened in order. */
static inline unsigned char *ops_row(const struct ops_view *v, uint64_t i)
{
	uint64_t i1 = i % v->ne[1], i23 = i / v->ne[1];
	return v->data + i1 * v->nb[1] + (i23 % v->ne[2]) * v->nb[2] +
	       (i23 / v->ne[2]) * v->nb[3];
}

/* A node being run: its operands resolved (src[i].type == UINT32_MAX when
 * absent), the graph's workspace, and the thread count. */
struct ops_node {
	const struct cpu_ops_env *env;
	const struct trit_node *n;
	struct ops_view dst, src[TRIT_NODE_MAX_SRC];
	unsigned char *ws;
	uint64_t ws_size;
};

#define OPS_ABSENT UINT32_MAX

/* Shape checks (no memory touched): 0 or a TRIT_E* code with a sentence. */
int ops_check_elem(const struct cpu_ops_env *env, const struct trit_node *n,
                   const struct ops_view *v, char *err, size_t errlen);
int ops_check_matmul(const struct cpu_ops_env *env, const struct trit_node *n,
                     const struct ops_view *v, char *err, size_t errlen);
int ops_check_attention(const struct trit_node *n, const struct ops_view *v, char *err,
                        size_t errlen);

/* Runs: every operand checked and resolved. */
int ops_run_elem(struct ops_node *o, char *err, size_t errlen);
int ops_run_matmul(struct ops_node *o, char *err, size_t errlen);
int ops_run_attention(struct ops_node *o, char *err, size_t errlen);

/* Workspace of a checked MATMUL node (the only op that needs one). */
int ops_matmul_ws(const struct cpu_ops_env *env, const struct trit_node *n,
                  const struct ops_view *v, uint64_t *bytes);

/* Helpers (ops.c). */
int ops_same_shape(const struct ops_view *a, const struct ops_view *b);
int ops_is_contiguous(const struct ops_view *v);
uint64_t ops_nelem(const struct ops_view *v);
/* Parts to split `units` of work of about `cost` scalar operations each. */
unsigned ops_parts(const struct cpu_ops_env *env, uint64_t units, uint64_t cost);
/* [part/nparts] share of units. */
static inline uint64_t ops_split(uint64_t units, unsigned part, unsigned nparts)
{
	return (uint64_t)((unsigned __int128)units * part / nparts);
}
/* Convert n elements (n % 32 == 0 when either is Q8_0) between F32, F16,
 * BF16 and Q8_0 rows. */
void ops_convert(uint32_t st, const unsigned char *s, uint32_t dt, unsigned char *d, uint64_t n);

#endif /* TRIT_PLUGINS_CPU_OPS_INTERNAL_H */
