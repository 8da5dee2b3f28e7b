/*
 * trit/ternary.h - the byte layouts of trit's ternary weight formats (I2_S,
 * TL1, TL2) and the activation quantisation every ternary kernel shares.
 *
 * This header is the contract between the runtime, which packs weights into
 * these layouts at load time, and the kernels in every backend, which read
 * them. Everything here is inline so a plugin needs no symbol from libtrit.
 * The same rules are written out with pictures in docs/formats.md.
 *
 * What it leaves to others: packing from model files and the reference
 * kernels live in the runtime (runtime/formats/ternary.c); fast kernels live in the
 * plugins.
 *
 * Part of the trit SDK; stable under TRIT_BACKEND_ABI_VERSION (see backend.h).
 *
 * ---------------------------------------------------------------------------
 * Common to all three formats
 *
 *   A tensor of M rows (output features) by K columns (input features) is
 *   stored as   [data: trit_ternary_geometry().data_bytes]
 *               [trailer: 32 bytes = float32 scale, then 28 zero bytes]
 *   The value of weight (r, k) is trit(r, k) * scale with trit in {-1, 0, +1}.
 *   The scale is one per tensor. Rows and columns beyond M and K (padding up
 *   to the geometry below) hold zero trits, so kernels may read whole blocks.
 *
 * I2_S (2 bits per weight; identical to bitnet.cpp's files when K % 128 == 0)
 *   K_pad = K rounded up to 128; rows are stored one after another, each
 *   K_pad / 4 bytes; M_pad = M. A row is a sequence of 128-weight blocks of
 *   32 bytes. In block j of row r, byte b (0..31) holds the codes of
 *       columns 128j + b       in bits 7:6
 *               128j + b + 32  in bits 5:4
 *               128j + b + 64  in bits 3:2
 *               128j + b + 96  in bits 1:0
 *   with code = trit + 1 (0 = -1, 1 = 0, 2 = +1). Code 3 never occurs in a
 *   valid tensor; the runtime refuses a file that contains it and never hands
 *   a kernel such a tensor, so a kernel need not check (its result for one is
 *   unspecified; trit_ternary_get() reads it as 0).
 *
 * TL1 (lookup-table format over weight pairs, 2 bits per weight)
 *   Rows are grouped in tiles of 32 (M_pad = M rounded up to 32) and columns
 *   in pairs (K_pad = K rounded up to 64). Pair p of row r is columns 2p and
 *   2p+1 and has the 4-bit index  3 * (trit(r,2p) + 1) + (trit(r,2p+1) + 1),
 *   0..8 (the zero pair is 4). Tile t (rows 32t .. 32t+31) occupies
 *   K_pad * 8 bytes; within it pair p occupies the 16 bytes at 16 * p, and
 *   byte j (0..15) holds row 32t + j in its low nibble and row 32t + 16 + j
 *   in its high nibble. A kernel builds, per token and pair, the table
 *   L[i] = (i / 3 - 1) * a[2p] + (i % 3 - 1) * a[2p+1] and looks rows up in it.
 *
 * TL2 (lookup-table format over weight triples with a sign, 5/3 bits/weight)
 *   Rows are grouped in tiles of 32 (M_pad = M rounded up to 32) and columns
 *   in triples, 32 triples to a group (K_pad = K rounded up to 96). Triple g
 *   of row r is columns 3g, 3g+1, 3g+2 with v = 9*trit(3g) + 3*trit(3g+1) +
 *   trit(3g+2), -13..13; it is stored as the 4-bit magnitude |v| and a sign
 *   bit (1 when v < 0). The balanced-ternary digits of |v| give the triple
 *   back (negated when the sign is set). Tile t occupies K_pad / 96 groups of
 *   640 bytes. In group G (triples 32G .. 32G+31) the first 512 bytes are
 *   magnitudes: triple 32G + i at 16 * i, byte j holding row 32t + j in its
 *   low nibble and row 32t + 16 + j in its high nibble (as TL1); the last 128
 *   bytes are signs: a little-endian 32-bit word per triple at 512 + 4 * i,
 *   bit j the sign of row 32t + j.
 *
 * ---------------------------------------------------------------------------
 * Activations (BitNet b1.58: 8-bit absmax per token)
 *
 *   For each token x[0..K-1]:  amax = max |x[k]|,  s = 127 / max(amax, 1e-5)
 *   (float division), q[k] = clamp(rint(x[k] * s), -128, 127) rounding half to
 *   even (a NaN quantises to 0). The integer dot of row r is  d = sum_k trit(r, k) * q[k]  and the
 *   output is  y = ((float)d / s) * scale. Every kernel of every backend
 *   computes d exactly; y then agrees within float rounding.
 */
#ifndef TRIT_TERNARY_H
#define TRIT_TERNARY_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include <trit/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes after the data of every ternary tensor: the F32 scale, then zeros. */
#define TRIT_TERNARY_TRAILER_BYTES 32u

/* Row tile of TL1/TL2 and column granularities of the three formats. */
#define TRIT_TL_TILE_ROWS   32u
#define TRIT_I2S_BLOCK_COLS 128u
#define TRIT_TL1_BLOCK_COLS 64u
#define TRIT_TL2_BLOCK_COLS 96u
#define TRIT_TL2_GROUP_BYTES 640u

/* Activation quantisation constants (see the header comment). */
#define TRIT_ACT_QMAX 127.0f
#define TRIT_ACT_EPS  1e-5f

/* Shape of a ternary tensor as stored. */
struct trit_ternary_geometry {
	uint64_t rows_pad;    /* M rounded up to the format's row tile */
	uint64_t cols_pad;    /* K rounded up to the format's column block */
	uint64_t data_bytes;  /* bytes before the trailer */
	uint64_t total_bytes; /* data_bytes + TRIT_TERNARY_TRAILER_BYTES */
};

static inline uint64_t trit_round_up_u64(uint64_t v, uint64_t m)
{
	return (v + m - 1) / m * m;
}

/*
 * Geometry of a rows x cols tensor of `type` (I2_S, TL1 or TL2). Returns 0, or
 * -1 when the type is not one of the three or the shape is empty or so large
 * that its byte count would not fit in 64 bits (rows, cols < 2^31 are safe).
 */
static inline int trit_ternary_geometry(uint32_t type, uint64_t rows, uint64_t cols,
                                        struct trit_ternary_geometry *g)
{
	uint64_t bytes;

	g->rows_pad = g->cols_pad = g->data_bytes = g->total_bytes = 0;
	if (rows == 0 || cols == 0 || rows > (UINT64_C(1) << 40) || cols > (UINT64_C(1) << 40))
		return -1;
	switch (type) {
	case TRIT_TYPE_I2_S:
		g->rows_pad = rows;
		g->cols_pad = trit_round_up_u64(cols, TRIT_I2S_BLOCK_COLS);
		if (g->cols_pad / 4 > UINT64_MAX / rows)
			return -1;
		bytes = rows * (g->cols_pad / 4);
		break;
	case TRIT_TYPE_TL1:
		g->rows_pad = trit_round_up_u64(rows, TRIT_TL_TILE_ROWS);
		g->cols_pad = trit_round_up_u64(cols, TRIT_TL1_BLOCK_COLS);
		if (g->cols_pad * 8 > UINT64_MAX / (g->rows_pad / TRIT_TL_TILE_ROWS))
			return -1;
		bytes = g->rows_pad / TRIT_TL_TILE_ROWS * (g->cols_pad * 8);
		break;
	case TRIT_TYPE_TL2:
		g->rows_pad = trit_round_up_u64(rows, TRIT_TL_TILE_ROWS);
		g->cols_pad = trit_round_up_u64(cols, TRIT_TL2_BLOCK_COLS);
		if (g->cols_pad / TRIT_TL2_BLOCK_COLS * TRIT_TL2_GROUP_BYTES >
		    UINT64_MAX / (g->rows_pad / TRIT_TL_TILE_ROWS))
			return -1;
		bytes = g->rows_pad / TRIT_TL_TILE_ROWS *
		        (g->cols_pad / TRIT_TL2_BLOCK_COLS * TRIT_TL2_GROUP_BYTES);
		break;
	default:
		return -1;
	}
	if (bytes > UINT64_MAX - TRIT_TERNARY_TRAILER_BYTES)
		return -1;
	g->data_bytes = bytes;
	g->total_bytes = bytes + TRIT_TERNARY_TRAILER_BYTES;
	return 0;
}

/* Bytes of a rows x cols tensor of `type`, trailer included; 0 if invalid. */
static inline uint64_t trit_ternary_bytes(uint32_t type, uint64_t rows, uint64_t cols)
{
	struct trit_ternary_geometry g;
	return trit_ternary_geometry(type, rows, cols, &g) ? 0 : g.total_bytes;
}

/* The per-tensor scale, read from the trailer that follows data_bytes. */
static inline float trit_ternary_scale(const void *tensor, uint64_t data_bytes)
{
	float s;
	memcpy(&s, (const unsigned char *)tensor + data_bytes, sizeof s);
	return s;
}

/*
 * The trit of weight (r, k) of a tensor whose data starts at `data`, for a
 * geometry g computed for `type`. For clarity, not speed: the reference
 * kernels and the tests use it; fast kernels decode whole blocks. An I2_S
 * code 3 (invalid) reads as 0.
 */
static inline int trit_ternary_get(uint32_t type, const struct trit_ternary_geometry *g,
                                   const void *data, uint64_t r, uint64_t k)
{
	const unsigned char *d = (const unsigned char *)data;

	switch (type) {
	case TRIT_TYPE_I2_S: {
		uint64_t blk = k / 128, pos = k % 128;
		unsigned char byte = d[r * (g->cols_pad / 4) + blk * 32 + pos % 32];
		int code = (byte >> (6 - 2 * (pos / 32))) & 3;
		return code == 3 ? 0 : code - 1;
	}
	case TRIT_TYPE_TL1: {
		uint64_t tile = r / 32, j = r % 32, p = k / 2;
		unsigned char byte = d[tile * (g->cols_pad * 8) + p * 16 + j % 16];
		int idx = j < 16 ? (byte & 15) : (byte >> 4);
		if (idx > 8)
			return 0;
		return (k % 2 == 0) ? idx / 3 - 1 : idx % 3 - 1;
	}
	case TRIT_TYPE_TL2: {
		uint64_t tile = r / 32, j = r % 32, t3 = k / 3;
		uint64_t grp = t3 / 32, i = t3 % 32;
		const unsigned char *gp = d + tile * (g->cols_pad / 96 * TRIT_TL2_GROUP_BYTES) +
		                          grp * TRIT_TL2_GROUP_BYTES;
		unsigned char byte = gp[16 * i + j % 16];
		int mag = j < 16 ? (byte & 15) : (byte >> 4);
		int neg = (gp[512 + 4 * i + j / 8] >> (j % 8)) & 1;
		int digit[3], v = mag, n;
		if (mag > 13)
			return 0;
		/* balanced-ternary digits of v, least significant last */
		for (n = 2; n >= 0; n--) {
			int rem = v % 3;
			if (rem == 2) {
				digit[n] = -1;
				v = v / 3 + 1;
			} else {
				digit[n] = rem;
				v /= 3;
			}
		}
		return neg ? -digit[k % 3] : digit[k % 3];
	}
	default:
		return 0;
	}
}

/*
 * Quantise one token of activations x[0..n-1] into q[0..n-1] and return the
 * multiplier s (q = x * s rounded). Exactly the rule in the header comment;
 * every backend must produce the same q from the same x.
 */
static inline float trit_quantize_act(const float *x, uint64_t n, int8_t *q)
{
	float amax = 0.0f, s;
	uint64_t k;

	for (k = 0; k < n; k++) {
		float a = fabsf(x[k]);
		if (a > amax)
			amax = a;
	}
	s = TRIT_ACT_QMAX / (amax > TRIT_ACT_EPS ? amax : TRIT_ACT_EPS);
	for (k = 0; k < n; k++) {
		float v = rintf(x[k] * s);
		q[k] = (int8_t)(v != v ? 0 : v > 127.0f ? 127 : v < -128.0f ? -128 : (int)v);
	}
	return s;
}

/* The output of one row from its integer dot, the token's s and the scale. */
static inline float trit_ternary_output(int32_t dot, float s, float scale)
{
	return ((float)dot / s) * scale;
}

#ifdef __cplusplus
}
#endif

#endif /* TRIT_TERNARY_H */
