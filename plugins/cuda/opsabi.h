/*
 * opsabi.h - what the cuda plugin's host code (graph.c) and its graph-op
 * kernels (ops.cuh, built by nvcc) must agree on: the geometry a tensor is
 * passed with, the op and type numbers the kernels switch on, the block
 * sizes, and the layout of the error words. Both compilers read this file,
 * so the two sides cannot drift apart.
 */
#ifndef TRIT_CUDA_OPSABI_H
#define TRIT_CUDA_OPSABI_H

#include <stdint.h>

/*
 * A tensor as a kernel sees it, passed by value: off is the byte offset of
 * element [0,0,0,0] in its buffer, nb[i] the stride of dimension i + 1 in
 * bytes, ne the elements per dimension. Row r (dimensions 1..3 flattened in
 * order) starts at CU_ROW(g, r) bytes from the buffer's start.
 */
struct cu_geom {
	uint64_t off;
	uint64_t nb[3];
	uint64_t ne[4];
};

#define CU_ROW(g, r) ((g).off + ((r) % (g).ne[1]) * (g).nb[0] + \
                      (((r) / (g).ne[1]) % (g).ne[2]) * (g).nb[1] + \
                      ((r) / ((g).ne[1] * (g).ne[2])) * (g).nb[2])

/* enum trit_op and enum trit_type values the kernels switch on (graph.c
 * checks at compile time that they match trit/backend.h and trit/types.h). */
#define CU_OP_ADD   3
#define CU_OP_MUL   4
#define CU_OP_SCALE 5
#define CU_OP_RELU2 8
#define CU_OP_SILU  9
#define CU_OP_GELU  10
#define CU_T_F32    0
#define CU_T_F16    1
#define CU_T_BF16   2
#define CU_T_Q8_0   10

/* Threads per block: element-wise kernels cover CU_ELEM elements of a row
 * per block; row reductions (RMS_NORM, QUANTIZE_ACT) use CU_ROWT threads on
 * one row; attention CU_ATTNT threads on one (query head, token); the F32,
 * F16, BF16 and Q8_0 matmuls a warp per output row, CU_MMW warps a block. */
#define CU_ELEM  256
#define CU_ROWT  256
#define CU_ATTNT 128
#define CU_MMW   8

/* The largest head the attention kernel takes: its shared memory is
 * (2 x D + 2 x CU_ATTNT) floats, which must stay within 48 KiB. */
#define CU_ATTN_MAX_D 4096

/* The error words, an int32 [4] per device: [0] = 1 + the index of the first
 * node that met a bad row id or position (0: none), [1] the value, [2] where
 * it was (the token). The host zeroes them before a graph, reads them after. */
#define CU_ERR_WORDS 4

#endif /* TRIT_CUDA_OPSABI_H */
