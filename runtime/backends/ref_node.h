/*
 * ref_node.h - run one node of the ABI v2 op set (sdk/include/trit/backend.h)
 * on host memory with the scalar reference kernels: the oracle the
 * conformance suite holds every backend to.
 *
 * The files behind it (ref_node.c, ref_ops.c, ref_move.c, ref_attention.c,
 * ref_matmul.c) need only the SDK headers, the C library and
 * runtime/ternary.{c,h}, so a tool or test can compile them on their own and
 * run nodes without the plugin table. Buffers, devices and graphs are
 * runtime/backends/ref.c's business; here a caller maps each trit_buffer
 * to host memory through a resolver.
 */
#ifndef TRIT_BACKENDS_REF_NODE_H
#define TRIT_BACKENDS_REF_NODE_H

#include <stddef.h>
#include <stdint.h>

#include <trit/backend.h>

/* A buffer's host memory: its first byte and its size in bytes. */
struct trit_ref_mem {
	unsigned char *base;
	uint64_t size;
};

/* Maps a tensor's buffer to host memory; 0, or a negative TRIT_E* with a
 * sentence in err. Called only for operands the node uses. */
typedef int (*trit_ref_resolve_fn)(void *ctx, struct trit_buffer *buf, struct trit_ref_mem *out,
                                   char *err, size_t errlen);

/* 1 when the reference runs `n` (op, operand presence, types, shapes and
 * strides exactly as backend.h defines them), else 0. Buffers may be NULL.
 * An operand is present when its buffer or its ne[0] is non-zero. */
int trit_ref_supports(const struct trit_node *n);

/* The same check, with the reason for a 0 written into why. */
int trit_ref_supports_why(const struct trit_node *n, char *why, size_t whylen);

/* Scratch bytes trit_ref_node() needs for `n` (0 for a node it does not
 * support): a MATMUL of F32 activations by quantised weights holds one
 * token's quantised activations. */
uint64_t trit_ref_node_workspace(const struct trit_node *n);

/*
 * Run `n` on host memory. Checks the node as trit_ref_supports() does, maps
 * every operand through `resolve`, and checks that each tensor's extent lies
 * inside its buffer and its address is aligned for its element type before
 * touching memory. ids, positions and n_kv out of range give TRIT_ERANGE.
 * ws holds ws_size bytes of scratch (may be NULL when the node needs none).
 * Returns 0 or a negative TRIT_E* with a sentence in err.
 */
int trit_ref_node(const struct trit_node *n, trit_ref_resolve_fn resolve, void *ctx,
                  void *ws, uint64_t ws_size, char *err, size_t errlen);

/* ------------------------------------------------------------------------ */
/* The matmul kernels on plain host pointers, shared with the v1 matmul()   */
/* entry of ref.c. `w` is `rows` rows of `cols` weights of `type`, row r at  */
/* w + r * nb1 (ignored for I2_S, TL1 and TL2, which are whole packed        */
/* tensors of trit/ternary.h); x is one token of F32 activations, y its      */
/* `rows` outputs. ws holds trit_ref_matmul_ws(type, cols) bytes.            */

uint64_t trit_ref_matmul_ws(uint32_t type, uint64_t cols);
void trit_ref_matmul_token(uint32_t type, const unsigned char *w, uint64_t nb1, uint64_t rows,
                           uint64_t cols, const float *x, float *y, void *ws);
/* The I8 form (I2_S, TL1, TL2): q already quantised with multiplier s. */
void trit_ref_matmul_token_i8(uint32_t type, const unsigned char *w, uint64_t rows,
                              uint64_t cols, const int8_t *q, float s, float *y);

/* ------------------------------------------------------------------------ */
/* Internal to the ref_*.c files.                                            */

/* An operand ready to use: the tensor and the host address of element 0. */
struct ref_t {
	const struct trit_tensor *t;
	unsigned char *p;
};

/* Host address of row (i1, i2, i3) of a tensor. */
static inline unsigned char *ref_row(const struct ref_t *a, uint64_t i1, uint64_t i2, uint64_t i3)
{
	return a->p + i1 * a->t->nb[1] + i2 * a->t->nb[2] + i3 * a->t->nb[3];
}

/* Like snprintf into err, returning code. */
int ref_errf(char *err, size_t errlen, int code, const char *fmt, ...) TRIT_PRINTF(4, 5);

/* Element conversions of F32, F16, BF16 and Q8_0 rows (ref_move.c). n is a
 * multiple of 32 whenever either side is Q8_0. */
void ref_row_to_f32(uint32_t type, const unsigned char *src, uint64_t n, float *dst);
void ref_row_convert(uint32_t dst_type, unsigned char *dst, uint32_t src_type,
                     const unsigned char *src, uint64_t n);

/* The ops; `o` is dst then src[0..3], already checked and resolved. */
typedef int (*ref_op_fn)(const struct trit_node *n, const struct ref_t *o, void *ws,
                         char *err, size_t errlen);
int ref_op_get_rows(const struct trit_node *n, const struct ref_t *o, void *ws, char *err, size_t errlen);
int ref_op_rms_norm(const struct trit_node *n, const struct ref_t *o, void *ws, char *err, size_t errlen);
int ref_op_binary(const struct trit_node *n, const struct ref_t *o, void *ws, char *err, size_t errlen);
int ref_op_scale(const struct trit_node *n, const struct ref_t *o, void *ws, char *err, size_t errlen);
int ref_op_rope(const struct trit_node *n, const struct ref_t *o, void *ws, char *err, size_t errlen);
int ref_op_attention(const struct trit_node *n, const struct ref_t *o, void *ws, char *err, size_t errlen);
int ref_op_unary(const struct trit_node *n, const struct ref_t *o, void *ws, char *err, size_t errlen);
int ref_op_glu(const struct trit_node *n, const struct ref_t *o, void *ws, char *err, size_t errlen);
int ref_op_quantize_act(const struct trit_node *n, const struct ref_t *o, void *ws, char *err, size_t errlen);
int ref_op_matmul(const struct trit_node *n, const struct ref_t *o, void *ws, char *err, size_t errlen);
int ref_op_cpy(const struct trit_node *n, const struct ref_t *o, void *ws, char *err, size_t errlen);
int ref_op_kv_write(const struct trit_node *n, const struct ref_t *o, void *ws, char *err, size_t errlen);

#endif
