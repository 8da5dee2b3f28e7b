/*
 * internal.h - helpers shared by the files of the conformance core
 * (tensors.c, setup.c, compare.c); not part of what a stand-alone driver
 * calls (that is conformance.h).
 */
#ifndef TRIT_CONFORMANCE_INTERNAL_H
#define TRIT_CONFORMANCE_INTERNAL_H

#include "conformance.h"

uint64_t cf_row_bytes(uint32_t type, uint64_t ne0);
int cf_operand_shape(struct cf_operand *o, uint32_t type, const uint64_t ne[4], int view);
void cf_operand_fill(struct cf_operand *o, const float *x);
int cf_operand_random(struct cf_operand *o, struct cf_rng *rng, float lo, float hi);
void cf_tensor_mask(const struct trit_tensor *t, unsigned char *mask);

/* 1 when the float v lies so close to a rounding tie (k + 0.5) that a
 * different legal float order of the scale could round it the other way. */
int cf_near_tie(float v);

#endif
