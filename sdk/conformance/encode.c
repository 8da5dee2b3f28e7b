/*
 * encode.c - the suite's own encoders for the ternary weight layouts, written
 * from the documented layouts of trit/ternary.h (I2_S, TL1, TL2) and
 * trit/quant.h (TQ1_0, TQ2_0), so that the suite needs nothing internal to
 * libtrit. cf_check_ternary() decodes with the headers' readers, so an
 * encoder that drifts from the spec is caught before any backend is blamed.
 */
#include <string.h>

#include <trit/quant.h>
#include <trit/ternary.h>

#include "conformance.h"

static int8_t trit_at(const int8_t *t, uint64_t rows, uint64_t cols, uint64_t r, uint64_t k)
{
	return r < rows && k < cols ? t[r * cols + k] : 0; /* padding holds zero trits */
}

static void pack_i2s(const int8_t *t, uint64_t rows, uint64_t cols,
                     const struct trit_ternary_geometry *g, unsigned char *dst)
{
	uint64_t row_bytes = g->cols_pad / 4;

	for (uint64_t r = 0; r < rows; r++)
		for (uint64_t k = 0; k < g->cols_pad; k++) {
			uint64_t blk = k / 128, pos = k % 128;
			unsigned code = (unsigned)(trit_at(t, rows, cols, r, k) + 1);
			dst[r * row_bytes + blk * 32 + pos % 32] |= (unsigned char)(code << (6 - 2 * (pos / 32)));
		}
}

static void pack_tl1(const int8_t *t, uint64_t rows, uint64_t cols,
                     const struct trit_ternary_geometry *g, unsigned char *dst)
{
	for (uint64_t r = 0; r < g->rows_pad; r++)
		for (uint64_t p = 0; p < g->cols_pad / 2; p++) {
			unsigned idx = (unsigned)(3 * (trit_at(t, rows, cols, r, 2 * p) + 1) +
			                          (trit_at(t, rows, cols, r, 2 * p + 1) + 1));
			uint64_t j = r % 32;
			unsigned char *b = dst + r / 32 * (g->cols_pad * 8) + p * 16 + j % 16;
			*b |= (unsigned char)(j < 16 ? idx : idx << 4);
		}
}

static void pack_tl2(const int8_t *t, uint64_t rows, uint64_t cols,
                     const struct trit_ternary_geometry *g, unsigned char *dst)
{
	uint64_t tile_bytes = g->cols_pad / 96 * TRIT_TL2_GROUP_BYTES;

	for (uint64_t r = 0; r < g->rows_pad; r++)
		for (uint64_t t3 = 0; t3 < g->cols_pad / 3; t3++) {
			int v = 9 * trit_at(t, rows, cols, r, 3 * t3) + 3 * trit_at(t, rows, cols, r, 3 * t3 + 1) +
			        trit_at(t, rows, cols, r, 3 * t3 + 2);
			unsigned mag = (unsigned)(v < 0 ? -v : v);
			uint64_t j = r % 32, i = t3 % 32;
			unsigned char *gp = dst + r / 32 * tile_bytes + t3 / 32 * TRIT_TL2_GROUP_BYTES;
			gp[16 * i + j % 16] |= (unsigned char)(j < 16 ? mag : mag << 4);
			if (v < 0)
				gp[512 + 4 * i + j / 8] |= (unsigned char)(1u << (j % 8));
		}
}

void cf_pack_ternary(uint32_t type, const int8_t *t, uint64_t rows, uint64_t cols, float scale,
                     unsigned char *dst)
{
	struct trit_ternary_geometry g;

	if (trit_ternary_geometry(type, rows, cols, &g))
		return;
	memset(dst, 0, (size_t)g.total_bytes);
	if (type == TRIT_TYPE_I2_S)
		pack_i2s(t, rows, cols, &g, dst);
	else if (type == TRIT_TYPE_TL1)
		pack_tl1(t, rows, cols, &g, dst);
	else
		pack_tl2(t, rows, cols, &g, dst);
	memcpy(dst + g.data_bytes, &scale, sizeof scale);
}

static void put_f16(unsigned char *p, float d)
{
	uint16_t h = trit_f32_to_f16(d);
	p[0] = (unsigned char)(h & 0xff);
	p[1] = (unsigned char)(h >> 8);
}

void cf_pack_tq2_0(const int8_t t[256], float d, unsigned char *dst)
{
	memset(dst, 0, TRIT_TQ2_0_BYTES);
	for (int e = 0; e < TRIT_QK_K; e++) {
		int byte = (e / 128) * 32 + e % 32, shift = 2 * ((e % 128) / 32);
		dst[byte] |= (unsigned char)((t[e] + 1) << shift);
	}
	put_f16(dst + 64, d);
}

/* A base-3 byte of `n` trits, most significant first, as the fixed-point
 * fraction value / 3^5 scaled to 256 and rounded up: trit_tq1_digit() then
 * reads digit i by multiplying by 3^i and taking the top of the product. */
static unsigned char tq1_byte(const int8_t *t, int stride, int n)
{
	unsigned v = 0;
	for (int i = 0; i < 5; i++)
		v = v * 3 + (i < n ? (unsigned)(t[i * stride] + 1) : 0u);
	return (unsigned char)((v * 256 + 242) / 243);
}

void cf_pack_tq1_0(const int8_t t[256], float d, unsigned char *dst)
{
	for (int m = 0; m < 32; m++)
		dst[m] = tq1_byte(t + m, 32, 5);
	for (int m = 0; m < 16; m++)
		dst[32 + m] = tq1_byte(t + 160 + m, 16, 5);
	for (int j = 0; j < 4; j++)
		dst[48 + j] = tq1_byte(t + 240 + j, 4, 4);
	put_f16(dst + 52, d);
}

int cf_check_ternary(uint32_t type, const int8_t *t, uint64_t rows, uint64_t cols,
                     const unsigned char *packed)
{
	struct trit_ternary_geometry g;

	if (trit_ternary_geometry(type, rows, cols, &g))
		return -1;
	for (uint64_t r = 0; r < g.rows_pad; r++)
		for (uint64_t k = 0; k < g.cols_pad; k++)
			if (trit_ternary_get(type, &g, packed, r, k) != trit_at(t, rows, cols, r, k))
				return -1;
	return 0;
}
