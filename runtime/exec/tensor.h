/*
 * exec/tensor.h - byte geometry of a struct trit_tensor (internal): how many
 * bytes of its buffer a tensor spans, whether it is a plain contiguous
 * matrix, and op names for messages. The scheduler and the host's table
 * wrappers use these; what an op computes is each backend's business.
 */
#ifndef TRIT_EXEC_TENSOR_H
#define TRIT_EXEC_TENSOR_H

#include <stdint.h>

#include <trit/backend.h>

/* "MATMUL", "ADD", ...; "op N" style text is the caller's job for NULL. */
const char *trit_op_name(uint32_t op);

/* Bytes of one row of ne0 elements of `type` (block types: ne0 a multiple
 * of the block; I2_S padded to its 128-column blocks). 0 when the type has
 * no row geometry (TL1, TL2), is unknown, or ne0 does not fit the blocks. */
uint64_t trit_tensor_row_bytes(uint32_t type, uint64_t ne0);

/* The tensor's bytes from its offset: the last byte it touches + 1, so
 * [offset, offset + *bytes) holds every element (and, for ternary types, the
 * scale trailer). 0 bytes for an empty tensor. TRIT_EINVAL/TRIT_ERANGE with
 * a sentence naming `what` when the type, strides or sizes make no sense. */
int trit_tensor_span(const struct trit_tensor *t, const char *what, uint64_t *bytes,
                     char *err, size_t errlen);

/* 1 when t is `type` [ne0, ne1] with ne[2] = ne[3] = 1 and rows stored one
 * after another with nothing between them (the layout struct trit_matmul
 * describes), else 0. */
int trit_tensor_is_matrix(const struct trit_tensor *t, uint32_t type, uint64_t ne0, uint64_t ne1);

#endif
