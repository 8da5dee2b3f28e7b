/*
 * ternary.h - packing weights into trit's ternary layouts (trit/ternary.h)
 * and the scalar reference kernels every other kernel is tested against.
 *
 * Written for clarity, not speed: one weight at a time through
 * trit_ternary_get(). The fast kernels live in the plugins.
 */
#ifndef TRIT_RUNTIME_TERNARY_H
#define TRIT_RUNTIME_TERNARY_H

#include <stddef.h>
#include <stdint.h>

#include <trit/ternary.h>

/* Source type for bitnet.cpp's flat I2_S file layout (not a trit_type: it
 * never crosses the plugin boundary). */
#define TRIT_TERNARY_SRC_I2S_BITNET (0x100u | TRIT_TYPE_I2_S)

/*
 * Pack a rows x cols weight matrix given as `src` (src_bytes bytes of
 * src_type) into dst (dst_bytes >= trit_ternary_bytes(dst_type, rows, cols))
 * as dst_type (I2_S, TL1 or TL2). Sources:
 *   F32, F16, BF16  row-major floats. If every non-zero |w| is the same value
 *                   the tensor is already ternary times that scale and is
 *                   taken exactly; otherwise BitNet b1.58's absmean rule:
 *                   scale = mean |w|, trit = clamp(rint(w / scale), -1, 1).
 *   TQ2_0           llama.cpp's 256-weight blocks; every non-zero block scale
 *                   must be the same (I2_S/TL1/TL2 carry one per tensor).
 *   TRIT_TERNARY_SRC_I2S_BITNET
 *                   bitnet.cpp's file layout: the rows x cols codes flattened
 *                   row-major into 128-weight blocks, then the 32-byte trailer
 *                   (n / 4 + 32 bytes). Equal to trit's I2_S when cols % 128
 *                   == 0. Code 3 is refused, naming its byte offset.
 *   I2_S, TL1, TL2  trit's own layouts (repacking between formats; an I2_S
 *                   code 3 is refused as above).
 * Returns 0 or a negative TRIT_E* with a sentence in err.
 */
int trit_ternary_pack(uint32_t dst_type, void *dst, uint64_t dst_bytes,
                      uint32_t src_type, const void *src, uint64_t src_bytes,
                      uint64_t rows, uint64_t cols, char *err, size_t errlen);

/*
 * The same packing a bounded run of row tiles at a time, so a loader can
 * write a large tensor straight into its final buffer through a small
 * staging area. open() checks the source as trit_ternary_pack() does (its
 * scale, invalid codes: one pass over the source) and allocates one tile;
 * rows(p, r0, r1, dst, ...) writes the packed data of rows [r0, r1) - r0 a
 * multiple of tile_rows(), r1 one too or rows_pad - to dst, which stands for
 * the data bytes from r0 / tile_rows * tile_bytes on; trailer() gives the 32
 * bytes after the data (geometry()->data_bytes). Pieces written this way are
 * byte for byte trit_ternary_pack()'s output.
 */
struct trit_ternary_packer;
int trit_ternary_packer_open(struct trit_ternary_packer **out, uint32_t dst_type,
                             uint32_t src_type, const void *src, uint64_t src_bytes,
                             uint64_t rows, uint64_t cols, char *err, size_t errlen);
const struct trit_ternary_geometry *
trit_ternary_packer_geometry(const struct trit_ternary_packer *p);
uint64_t trit_ternary_packer_tile_rows(const struct trit_ternary_packer *p);
uint64_t trit_ternary_packer_tile_bytes(const struct trit_ternary_packer *p);
int trit_ternary_packer_rows(struct trit_ternary_packer *p, uint64_t r0, uint64_t r1,
                             void *dst, uint64_t dst_bytes, char *err, size_t errlen);
void trit_ternary_packer_trailer(const struct trit_ternary_packer *p,
                                 unsigned char out[TRIT_TERNARY_TRAILER_BYTES]);
void trit_ternary_packer_free(struct trit_ternary_packer *p);

/* Bytes trit_ternary_pack() reads for a src_type source of this shape
 * (the bitnet.cpp size rule for I2_S); 0 for an unsupported source. */
uint64_t trit_ternary_src_bytes(uint32_t src_type, uint64_t rows, uint64_t cols);

/* Weight (r, k) as a float (trit * scale) into out[rows][cols]. */
int trit_ternary_unpack_f32(uint32_t type, const void *w, uint64_t rows, uint64_t cols,
                            float *out, char *err, size_t errlen);

/*
 * Reference kernels. w is a packed tensor of `type` (rows x cols); q / x are
 * [tokens][cols]; dots / y are [tokens][rows].
 *   trit_ref_matmul_int: dots[t][r] = sum_k trit(r, k) * q[t][k], exactly.
 *   trit_ref_matmul_f32: quantise each token with trit_quantize_act(), then
 *                        y = trit_ternary_output(dot, s, scale).
 * q_scratch (tokens * cols bytes) may be NULL for trit_ref_matmul_f32, which
 * then allocates; returns TRIT_ENOMEM if that fails.
 */
void trit_ref_matmul_int(uint32_t type, const void *w, uint64_t rows, uint64_t cols,
                         const int8_t *q, uint64_t tokens, int32_t *dots);
int trit_ref_matmul_f32(uint32_t type, const void *w, uint64_t rows, uint64_t cols,
                        const float *x, uint64_t tokens, float *y, int8_t *q_scratch);

#endif /* TRIT_RUNTIME_TERNARY_H */
