/*
 * check_ternary.c - the specification of trit's ternary formats
 * (sdk/include/trit/ternary.h), the packer and the reference kernels
 * (runtime/formats/ternary.c) and the built-in `ref` backend's ternary matmul.
 *
 * The bitnet.cpp I2_S and llama.cpp TQ2_0 fixtures are built here by small
 * encoders written from the documented layouts (docs/formats.md), not with
 * the packer under test, so a mistake in one is caught by the other.
 */
#include <build-config.h>

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <trit/backend.h>
#include <trit/ternary.h>

#include "backend/ref.h"
#include "formats/ternary.h"
#include "support/support.h"

static const uint32_t formats[3] = { TRIT_TYPE_I2_S, TRIT_TYPE_TL1, TRIT_TYPE_TL2 };

/* A small deterministic generator (xorshift), so failures reproduce. */
static uint64_t rng_state;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static int rnd_trit(void)
{
	return (int)(rnd() % 3) - 1;
}

/* Random trits[rows][cols] and the float tensor trits * scale. */
static float *ternary_floats(uint64_t rows, uint64_t cols, float scale, int8_t **trits)
{
	float *w = malloc(rows * cols * sizeof *w);
	*trits = malloc(rows * cols);
	for (uint64_t i = 0; i < rows * cols; i++) {
		(*trits)[i] = (int8_t)rnd_trit();
		w[i] = (float)(*trits)[i] * scale;
	}
	return w;
}

static void *pack(uint32_t type, uint32_t src_type, const void *src, uint64_t src_bytes,
                  uint64_t rows, uint64_t cols)
{
	char err[256] = "";
	uint64_t n = trit_ternary_bytes(type, rows, cols);
	void *dst = malloc(n);
	int rc = trit_ternary_pack(type, dst, n, src_type, src, src_bytes, rows, cols, err, sizeof err);
	ck_assert_msg(rc == 0, "pack %u from %u %llux%llu: %s", type, src_type,
	              (unsigned long long)rows, (unsigned long long)cols, err);
	return dst;
}

/* ------------------------------------------------------------- geometry */

START_TEST(sizes_follow_the_documented_geometry)
{
	/* I2_S with K % 128 == 0 is bitnet.cpp's n / 4 + 32 */
	ck_assert_uint_eq(trit_ternary_bytes(TRIT_TYPE_I2_S, 2560, 2560), 2560 * 2560 / 4 + 32);
	ck_assert_uint_eq(trit_ternary_bytes(TRIT_TYPE_I2_S, 6912, 2560), 6912ull * 2560 / 4 + 32);
	/* ragged K pads each row to 128 columns */
	ck_assert_uint_eq(trit_ternary_bytes(TRIT_TYPE_I2_S, 3, 129), 3 * 64 + 32);
	/* TL1: 32-row tiles, K to 64: 2560 x 2560 is 2 bits a weight exactly */
	ck_assert_uint_eq(trit_ternary_bytes(TRIT_TYPE_TL1, 2560, 2560), 2560 * 2560 / 4 + 32);
	ck_assert_uint_eq(trit_ternary_bytes(TRIT_TYPE_TL1, 33, 65), 2 * 128 * 8 + 32);
	/* TL2: 640 bytes per 32 rows x 96 columns; 2560 columns pad to 2592 */
	ck_assert_uint_eq(trit_ternary_bytes(TRIT_TYPE_TL2, 2560, 2560), 80 * 27 * 640 + 32);
	ck_assert_uint_eq(trit_ternary_bytes(TRIT_TYPE_TL2, 6912, 2560), 216 * 27 * 640 + 32);
	ck_assert_uint_eq(trit_ternary_bytes(TRIT_TYPE_TL2, 2560, 6912), 80 * 72 * 640 + 32);
	ck_assert_uint_eq(trit_ternary_bytes(TRIT_TYPE_TL2, 1, 1), 640 + 32);
	/* not ternary, empty, or absurd */
	ck_assert_uint_eq(trit_ternary_bytes(TRIT_TYPE_F32, 4, 4), 0);
	ck_assert_uint_eq(trit_ternary_bytes(TRIT_TYPE_I2_S, 0, 4), 0);
	ck_assert_uint_eq(trit_ternary_bytes(TRIT_TYPE_TL2, UINT64_C(1) << 41, 4), 0);
	ck_assert_uint_eq(trit_ternary_bytes(99, 4, 4), 0);
}
END_TEST

/* ------------------------------------------------------------- packing */

START_TEST(packing_exactly_ternary_floats_keeps_every_trit_and_the_scale)
{
	static const uint64_t shapes[][2] = {
		{ 1, 1 }, { 1, 128 }, { 3, 129 }, { 31, 64 }, { 32, 96 }, { 33, 65 },
		{ 45, 200 }, { 64, 257 }, { 7, 383 },
	};
	rng_state = 0x1234567;
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
		uint64_t m = shapes[i][0], k = shapes[i][1];
		int8_t *tr;
		float *w = ternary_floats(m, k, 0.75f, &tr);
		for (int f = 0; f < 3; f++) {
			struct trit_ternary_geometry g;
			unsigned char *p = pack(formats[f], TRIT_TYPE_F32, w, m * k * 4, m, k);
			ck_assert_int_eq(trit_ternary_geometry(formats[f], m, k, &g), 0);
			ck_assert(trit_ternary_scale(p, g.data_bytes) == 0.75f);
			for (uint64_t r = 0; r < m; r++)
				for (uint64_t c = 0; c < k; c++)
					ck_assert_msg(trit_ternary_get(formats[f], &g, p, r, c) == tr[r * k + c],
					              "format %d %llux%llu at (%llu,%llu)", f,
					              (unsigned long long)m, (unsigned long long)k,
					              (unsigned long long)r, (unsigned long long)c);
			/* padding rows and columns are zero trits */
			for (uint64_t r = 0; r < g.rows_pad; r++)
				for (uint64_t c = (r < m ? k : 0); c < g.cols_pad; c++)
					ck_assert_int_eq(trit_ternary_get(formats[f], &g, p, r, c), 0);
			/* the trailer is the scale then 28 zero bytes */
			for (int b = 4; b < 32; b++)
				ck_assert_int_eq(p[g.data_bytes + b], 0);
			float *back = malloc(m * k * sizeof *back);
			char err[128];
			ck_assert_int_eq(trit_ternary_unpack_f32(formats[f], p, m, k, back, err, sizeof err), 0);
			ck_assert_mem_eq(back, w, m * k * sizeof *back);
			free(back);
			free(p);
		}
		free(w);
		free(tr);
	}
}
END_TEST

START_TEST(half_and_bfloat_sources_pack_like_their_float_values)
{
	/* 0x3c00 = 1.0 (f16), 0xbc00 = -1.0; 0x3f80 = 1.0 (bf16), 0xbf80 = -1.0 */
	uint16_t h[128], b[128];
	float f[128];
	rng_state = 99;
	for (int i = 0; i < 128; i++) {
		int t = rnd_trit();
		h[i] = t > 0 ? 0x3c00 : t < 0 ? 0xbc00 : 0;
		b[i] = t > 0 ? 0x3f80 : t < 0 ? 0xbf80 : 0x8000; /* -0.0 is a zero trit */
		f[i] = (float)t;
	}
	unsigned char *pf = pack(TRIT_TYPE_I2_S, TRIT_TYPE_F32, f, sizeof f, 2, 64);
	unsigned char *ph = pack(TRIT_TYPE_I2_S, TRIT_TYPE_F16, h, sizeof h, 2, 64);
	unsigned char *pb = pack(TRIT_TYPE_I2_S, TRIT_TYPE_BF16, b, sizeof b, 2, 64);
	ck_assert_mem_eq(pf, ph, trit_ternary_bytes(TRIT_TYPE_I2_S, 2, 64));
	ck_assert_mem_eq(pf, pb, trit_ternary_bytes(TRIT_TYPE_I2_S, 2, 64));
	free(pf);
	free(ph);
	free(pb);
}
END_TEST

START_TEST(non_ternary_floats_use_the_absmean_rule)
{
	/* mean |w| = (0.25 + 0.75 + 1 + 0 + 3 + 0.375 + 0.5 + 2.125) / 8 = 1, exactly */
	float w[8] = { 0.25f, -0.75f, 1.0f, 0.0f, -3.0f, 0.375f, 0.5f, -2.125f };
	int expect[8] = { 0, -1, 1, 0, -1, 0, 0, -1 }; /* rint(0.5) = 0: half to even */
	unsigned char *p = pack(TRIT_TYPE_TL1, TRIT_TYPE_F32, w, sizeof w, 1, 8);
	struct trit_ternary_geometry g;
	trit_ternary_geometry(TRIT_TYPE_TL1, 1, 8, &g);
	ck_assert_float_eq_tol(trit_ternary_scale(p, g.data_bytes), 1.0f, 1e-6f);
	for (int k = 0; k < 8; k++)
		ck_assert_int_eq(trit_ternary_get(TRIT_TYPE_TL1, &g, p, 0, (uint64_t)k), expect[k]);
	free(p);
}
END_TEST

START_TEST(non_finite_weights_are_refused_naming_row_and_column)
{
	float w[6] = { 1, 0, -1, 1, NAN, 0 };
	unsigned char dst[1024];
	char err[256];
	ck_assert_int_eq(trit_ternary_pack(TRIT_TYPE_I2_S, dst, sizeof dst, TRIT_TYPE_F32, w, sizeof w,
	                                   2, 3, err, sizeof err), TRIT_EFORMAT);
	ck_assert_msg(strstr(err, "(1, 1)") && strstr(err, "NaN"), "%s", err);
	w[4] = INFINITY;
	ck_assert_int_eq(trit_ternary_pack(TRIT_TYPE_I2_S, dst, sizeof dst, TRIT_TYPE_F32, w, sizeof w,
	                                   2, 3, err, sizeof err), TRIT_EFORMAT);
	ck_assert_msg(strstr(err, "infinite"), "%s", err);
}
END_TEST

START_TEST(short_buffers_and_unsupported_sources_are_refused)
{
	float w[256] = { 0 };
	unsigned char dst[4096];
	char err[256];
	ck_assert_int_eq(trit_ternary_pack(TRIT_TYPE_I2_S, dst, 10, TRIT_TYPE_F32, w, sizeof w,
	                                   2, 128, err, sizeof err), TRIT_ERANGE);
	ck_assert_msg(strstr(err, "needs 96 bytes"), "%s", err);
	ck_assert_int_eq(trit_ternary_pack(TRIT_TYPE_I2_S, dst, sizeof dst, TRIT_TYPE_F32, w, 100,
	                                   2, 128, err, sizeof err), TRIT_EFORMAT);
	ck_assert_msg(strstr(err, "needs 1024 bytes, the source has 100"), "%s", err);
	ck_assert_int_eq(trit_ternary_pack(TRIT_TYPE_I2_S, dst, sizeof dst, TRIT_TYPE_I8, w, sizeof w,
	                                   2, 128, err, sizeof err), TRIT_EUNSUPPORTED);
	ck_assert_msg(strstr(err, "I8"), "%s", err);
	ck_assert_int_eq(trit_ternary_pack(TRIT_TYPE_F16, dst, sizeof dst, TRIT_TYPE_F32, w, sizeof w,
	                                   2, 128, err, sizeof err), TRIT_EINVAL);
	ck_assert_int_eq(trit_ternary_pack(TRIT_TYPE_I2_S, dst, sizeof dst, TRIT_TYPE_TQ2_0, w, sizeof w,
	                                   2, 100, err, sizeof err), TRIT_EFORMAT);
	ck_assert_msg(strstr(err, "256-weight blocks"), "%s", err);
}
END_TEST

START_TEST(every_format_repacks_into_every_other_exactly)
{
	uint64_t m = 45, k = 200; /* ragged for all three */
	int8_t *tr;
	rng_state = 77;
	float *w = ternary_floats(m, k, 0.125f, &tr);
	for (int f = 0; f < 3; f++) {
		unsigned char *a = pack(formats[f], TRIT_TYPE_F32, w, m * k * 4, m, k);
		for (int t = 0; t < 3; t++) {
			unsigned char *b = pack(formats[t], formats[f], a, trit_ternary_bytes(formats[f], m, k), m, k);
			unsigned char *c = pack(formats[t], TRIT_TYPE_F32, w, m * k * 4, m, k);
			ck_assert_mem_eq(b, c, trit_ternary_bytes(formats[t], m, k));
			free(b);
			free(c);
		}
		free(a);
	}
	free(w);
	free(tr);
}
END_TEST

/* --------------------------------------------- bitnet.cpp I2_S fixtures */

/* bitnet.cpp's file layout, written from docs/formats.md: the tensor's codes
 * flattened row-major, 128-weight blocks of 32 bytes, byte b holding
 * elements b, b+32, b+64, b+96 in bits 7:6, 5:4, 3:2, 1:0; then the scale
 * and 28 zero bytes. */
static unsigned char *bitnet_i2s(const int8_t *tr, uint64_t n, float scale)
{
	unsigned char *p = calloc(1, n / 4 + 32);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t blk = i / 128, pos = i % 128;
		p[blk * 32 + pos % 32] |= (unsigned char)((tr[i] + 1) << (6 - 2 * (pos / 32)));
	}
	memcpy(p + n / 4, &scale, 4);
	return p;
}

START_TEST(bitnet_i2s_with_whole_blocks_is_trit_i2s_byte_for_byte)
{
	uint64_t m = 40, k = 256;
	int8_t *tr;
	rng_state = 7;
	float *w = ternary_floats(m, k, 0.0421f, &tr);
	unsigned char *file = bitnet_i2s(tr, m * k, 0.0421f);
	unsigned char *from_float = pack(TRIT_TYPE_I2_S, TRIT_TYPE_F32, w, m * k * 4, m, k);
	unsigned char *from_file = pack(TRIT_TYPE_I2_S, TRIT_TERNARY_SRC_I2S_BITNET, file, m * k / 4 + 32, m, k);
	ck_assert_mem_eq(from_float, file, m * k / 4 + 32);
	ck_assert_mem_eq(from_file, file, m * k / 4 + 32);
	free(w);
	free(tr);
	free(file);
	free(from_float);
	free(from_file);
}
END_TEST

START_TEST(weights_from_a_float_tensor_and_from_a_bitnet_file_give_the_same_results)
{
	/* 96 columns: bitnet.cpp's flat blocks straddle rows; trit repacks them */
	uint64_t m = 40, k = 96, tokens = 3; /* 3840 weights: 30 whole blocks */
	int8_t *tr;
	rng_state = 11;
	float *w = ternary_floats(m, k, 1.5f, &tr);
	unsigned char *file = bitnet_i2s(tr, m * k, 1.5f);
	float *x = malloc(tokens * k * sizeof *x), *y1 = malloc(tokens * m * 4), *y2 = malloc(tokens * m * 4);
	for (uint64_t i = 0; i < tokens * k; i++)
		x[i] = (float)((int64_t)(rnd() % 2001) - 1000) / 250.0f;
	for (int f = 0; f < 3; f++) {
		unsigned char *a = pack(formats[f], TRIT_TYPE_F32, w, m * k * 4, m, k);
		unsigned char *b = pack(formats[f], TRIT_TERNARY_SRC_I2S_BITNET, file, m * k / 4 + 32, m, k);
		ck_assert_mem_eq(a, b, trit_ternary_bytes(formats[f], m, k));
		ck_assert_int_eq(trit_ref_matmul_f32(formats[f], a, m, k, x, tokens, y1, NULL), 0);
		ck_assert_int_eq(trit_ref_matmul_f32(formats[f], b, m, k, x, tokens, y2, NULL), 0);
		ck_assert_mem_eq(y1, y2, tokens * m * 4);
		free(a);
		free(b);
	}
	free(x);
	free(y1);
	free(y2);
	free(w);
	free(tr);
	free(file);
}
END_TEST

START_TEST(i2s_code_3_is_refused_with_its_byte_offset)
{
	int8_t tr[256] = { 0 };
	unsigned char *file = bitnet_i2s(tr, 256, 1.0f), dst[4096];
	char err[256];
	file[37] = 0x07; /* element 128 + 5 + 96 gets code 3 (bits 1:0) */
	ck_assert_int_eq(trit_ternary_pack(TRIT_TYPE_TL2, dst, sizeof dst, TRIT_TERNARY_SRC_I2S_BITNET, file,
	                                   256 / 4 + 32, 2, 128, err, sizeof err), TRIT_EFORMAT);
	ck_assert_msg(strstr(err, "(1, 101)") && strstr(err, "byte offset 37"), "%s", err);
	free(file);
}
END_TEST

/* ------------------------------------------------------- TQ2_0 fixtures */

/* llama.cpp's TQ2_0: 256 weights in qs[64] then fp16 d; element e of a block
 * in byte (e / 128) * 32 + e % 32 at bit 2 * ((e % 128) / 32). */
static unsigned char *tq2(const int8_t *tr, uint64_t n, uint16_t d)
{
	unsigned char *p = calloc(n / 256, 66);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t e = i % 256;
		p[i / 256 * 66 + (e / 128) * 32 + e % 32] |= (unsigned char)((tr[i] + 1) << (2 * ((e % 128) / 32)));
	}
	for (uint64_t b = 0; b < n / 256; b++) {
		p[b * 66 + 64] = (unsigned char)(d & 0xff);
		p[b * 66 + 65] = (unsigned char)(d >> 8);
	}
	return p;
}

START_TEST(tq2_0_with_one_block_scale_repacks_exactly)
{
	uint64_t m = 5, k = 512;
	int8_t *tr;
	rng_state = 5;
	float *w = ternary_floats(m, k, 0.5f, &tr);
	unsigned char *src = tq2(tr, m * k, 0x3800); /* 0.5 in fp16 */
	for (int f = 0; f < 3; f++) {
		unsigned char *a = pack(formats[f], TRIT_TYPE_F32, w, m * k * 4, m, k);
		unsigned char *b = pack(formats[f], TRIT_TYPE_TQ2_0, src, m * k / 256 * 66, m, k);
		ck_assert_mem_eq(a, b, trit_ternary_bytes(formats[f], m, k));
		free(a);
		free(b);
	}
	free(src);
	free(w);
	free(tr);
}
END_TEST

START_TEST(tq2_0_with_two_block_scales_is_refused_naming_the_block)
{
	int8_t tr[512];
	unsigned char dst[4096];
	char err[256];
	memset(tr, 1, sizeof tr);
	unsigned char *src = tq2(tr, 512, 0x3800);
	src[66 + 64] = 0x00;
	src[66 + 65] = 0x3c; /* block 1: d = 1.0 */
	ck_assert_int_eq(trit_ternary_pack(TRIT_TYPE_I2_S, dst, sizeof dst, TRIT_TYPE_TQ2_0, src,
	                                   132, 2, 256, err, sizeof err), TRIT_EFORMAT);
	ck_assert_msg(strstr(err, "block 1") && strstr(err, "offset 130") && strstr(err, "one scale per tensor"),
	              "%s", err);
	free(src);
}
END_TEST

/* --------------------------------------------------------- activations */

START_TEST(activation_quantisation_is_absmax_per_token_rounding_half_to_even)
{
	float x[5] = { 1.0f, -2.0f, 0.5f, 0.0f, -0.0078740157f };
	int8_t q[5];
	float s = trit_quantize_act(x, 5, q);
	ck_assert(s == 63.5f);
	ck_assert_int_eq(q[0], 64);   /* 63.5 rounds to even */
	ck_assert_int_eq(q[1], -127);
	ck_assert_int_eq(q[2], 32);   /* 31.75 */
	ck_assert_int_eq(q[3], 0);
	ck_assert_int_eq(q[4], 0);    /* -0.5 rounds to even (-0) */

	float z[3] = { 0, 0, 0 };
	s = trit_quantize_act(z, 3, q);
	ck_assert(s == 127.0f / 1e-5f);
	ck_assert_int_eq(q[0] | q[1] | q[2], 0);

	float n[3] = { NAN, 1.0f, -1.0f };
	trit_quantize_act(n, 3, q);
	ck_assert_int_eq(q[0], 0);
	ck_assert_int_eq(q[1], 127);
	ck_assert_int_eq(q[2], -127);
}
END_TEST

START_TEST(tl2_stores_every_triple_as_magnitude_and_sign)
{
	/* all 27 triples in one row of 81 columns (padded to 96) */
	float w[81];
	for (int v = 0; v < 27; v++) {
		w[3 * v] = (float)(v / 9 - 1);
		w[3 * v + 1] = (float)(v / 3 % 3 - 1);
		w[3 * v + 2] = (float)(v % 3 - 1);
	}
	unsigned char *p = pack(TRIT_TYPE_TL2, TRIT_TYPE_F32, w, sizeof w, 1, 81);
	for (int v = 0; v < 27; v++) {
		int val = 9 * (v / 9 - 1) + 3 * (v / 3 % 3 - 1) + (v % 3 - 1);
		ck_assert_int_eq(p[16 * v] & 15, abs(val));
		ck_assert_int_eq(p[512 + 4 * v] & 1, val < 0);
	}
	free(p);
}
END_TEST

/* ------------------------------------------------------ reference kernels */

START_TEST(reference_dots_equal_a_plain_loop_over_the_trits)
{
	uint64_t m = 35, k = 200, tokens = 4;
	int8_t *tr, *q = malloc(tokens * k);
	int32_t *dots = malloc(tokens * m * 4);
	rng_state = 3;
	float *w = ternary_floats(m, k, 2.0f, &tr);
	for (uint64_t i = 0; i < tokens * k; i++)
		q[i] = (int8_t)((int)(rnd() % 256) - 128);
	for (int f = 0; f < 3; f++) {
		unsigned char *p = pack(formats[f], TRIT_TYPE_F32, w, m * k * 4, m, k);
		trit_ref_matmul_int(formats[f], p, m, k, q, tokens, dots);
		for (uint64_t t = 0; t < tokens; t++)
			for (uint64_t r = 0; r < m; r++) {
				int32_t acc = 0;
				for (uint64_t c = 0; c < k; c++)
					acc += tr[r * k + c] * q[t * k + c];
				ck_assert_int_eq(dots[t * m + r], acc);
			}
		free(p);
	}
	free(q);
	free(dots);
	free(w);
	free(tr);
}
END_TEST

START_TEST(reference_f32_output_is_dot_over_s_times_scale)
{
	uint64_t m = 3, k = 4;
	float w[12] = { 1, -1, 0, 1,  0, 0, 0, 0,  -1, -1, -1, -1 };
	float x[4] = { 1.0f, -2.0f, 0.5f, 0.25f };
	float y[3];
	unsigned char *p = pack(TRIT_TYPE_I2_S, TRIT_TYPE_F32, w, sizeof w, m, k);
	ck_assert_int_eq(trit_ref_matmul_f32(TRIT_TYPE_I2_S, p, m, k, x, 1, y, NULL), 0);
	/* s = 63.5; q = 64, -127, 32, 16 (15.875 -> 16) */
	ck_assert(y[0] == (float)(64 + 127 + 16) / 63.5f * 1.0f);
	ck_assert(y[1] == 0.0f);
	ck_assert(y[2] == (float)(-(64 - 127 + 32 + 16)) / 63.5f);
	free(p);
}
END_TEST

/* ------------------------------------------------- the ref backend via ABI */

struct abi {
	const struct trit_backend *be;
	void *st;
};

static struct trit_buffer *upload(struct abi *a, const void *data, uint64_t n)
{
	struct trit_buffer *b;
	char err[256];
	ck_assert_int_eq(a->be->buffer_alloc(a->st, 0, n, &b, err, sizeof err), 0);
	ck_assert_int_eq(a->be->buffer_write(a->st, b, 0, data, n, err, sizeof err), 0);
	return b;
}

static void abi_open(struct abi *a)
{
	struct trit_host host = test_minimal_host();
	char err[256];
	a->be = trit_ref_backend();
	ck_assert_int_eq(a->be->init(&host, &a->st, err, sizeof err), 0);
	ck_assert(a->be->device_get(a->st, 0)->matmul_types & TRIT_TYPE_BIT(TRIT_TYPE_I2_S));
	ck_assert(a->be->device_get(a->st, 0)->matmul_types & TRIT_TYPE_BIT(TRIT_TYPE_TL1));
	ck_assert(a->be->device_get(a->st, 0)->matmul_types & TRIT_TYPE_BIT(TRIT_TYPE_TL2));
}

START_TEST(ref_backend_runs_every_format_through_the_abi)
{
	struct abi a;
	uint64_t m = 33, k = 130, tokens = 2;
	int8_t *tr, *q = malloc(tokens * k);
	float *x = malloc(tokens * k * 4), *y = malloc(tokens * m * 4), *yr = malloc(tokens * m * 4);
	int32_t *d = malloc(tokens * m * 4), *dr = malloc(tokens * m * 4);
	char err[256];
	rng_state = 21;
	float *w = ternary_floats(m, k, 0.3f, &tr);
	for (uint64_t i = 0; i < tokens * k; i++) {
		x[i] = (float)((int64_t)(rnd() % 1001) - 500) / 100.0f;
		q[i] = (int8_t)((int)(rnd() % 256) - 128);
	}
	abi_open(&a);
	for (int f = 0; f < 3; f++) {
		uint64_t wb = trit_ternary_bytes(formats[f], m, k), ws = 0;
		unsigned char *p = pack(formats[f], TRIT_TYPE_F32, w, m * k * 4, m, k);
		struct trit_buffer *bw = upload(&a, p, wb), *bx = upload(&a, x, tokens * k * 4),
		                   *bq = upload(&a, q, tokens * k), *by, *bws;
		ck_assert_int_eq(a.be->buffer_alloc(a.st, 0, tokens * m * 4, &by, err, sizeof err), 0);
		struct trit_matmul op = { .struct_size = sizeof op, .weight_type = formats[f],
		                          .rows = m, .cols = k, .tokens = tokens,
		                          .weights = bw, .input = bx, .output = by };
		ck_assert_int_eq(a.be->matmul_workspace(a.st, 0, &op, &ws, err, sizeof err), 0);
		ck_assert_uint_eq(ws, k);
		ck_assert_int_eq(a.be->buffer_alloc(a.st, 0, ws, &bws, err, sizeof err), 0);
		/* without its workspace the F32 path refuses */
		ck_assert_int_eq(a.be->matmul(a.st, 0, &op, err, sizeof err), TRIT_EINVAL);
		op.workspace = bws;
		ck_assert_int_eq(a.be->matmul(a.st, 0, &op, err, sizeof err), 0);
		ck_assert_int_eq(a.be->buffer_read(a.st, by, 0, y, tokens * m * 4, err, sizeof err), 0);
		ck_assert_int_eq(trit_ref_matmul_f32(formats[f], p, m, k, x, tokens, yr, NULL), 0);
		ck_assert_mem_eq(y, yr, tokens * m * 4);

		op.flags = TRIT_MATMUL_INT_DOTS;
		op.input = bq;
		op.workspace = NULL;
		ck_assert_int_eq(a.be->matmul_workspace(a.st, 0, &op, &ws, err, sizeof err), 0);
		ck_assert_uint_eq(ws, 0);
		ck_assert_int_eq(a.be->matmul(a.st, 0, &op, err, sizeof err), 0);
		ck_assert_int_eq(a.be->buffer_read(a.st, by, 0, d, tokens * m * 4, err, sizeof err), 0);
		trit_ref_matmul_int(formats[f], p, m, k, q, tokens, dr);
		ck_assert_mem_eq(d, dr, tokens * m * 4);

		/* a weights buffer one byte short is refused, naming the sizes */
		struct trit_buffer *small = upload(&a, p, wb - 1);
		op.weights = small;
		ck_assert_int_eq(a.be->matmul(a.st, 0, &op, err, sizeof err), TRIT_ERANGE);
		ck_assert_msg(strstr(err, "outside"), "%s", err);
		op.weights = bw;
		op.flags = 0x80;
		ck_assert_int_eq(a.be->matmul(a.st, 0, &op, err, sizeof err), TRIT_EINVAL);
		ck_assert_msg(strstr(err, "flags"), "%s", err);
		a.be->buffer_free(a.st, small);
		a.be->buffer_free(a.st, bw);
		a.be->buffer_free(a.st, bx);
		a.be->buffer_free(a.st, bq);
		a.be->buffer_free(a.st, by);
		a.be->buffer_free(a.st, bws);
		free(p);
	}
	a.be->shutdown(a.st);
	free(w);
	free(tr);
	free(q);
	free(x);
	free(y);
	free(yr);
	free(d);
	free(dr);
}
END_TEST

/* ------------------------------------------------------------------ suite */

#define ADD(s, t) do { TCase *tc = tcase_create(#t); tcase_add_test(tc, t); suite_add_tcase(s, tc); } while (0)

int main(void)
{
	Suite *s = suite_create("ternary");

	ADD(s, sizes_follow_the_documented_geometry);
	ADD(s, packing_exactly_ternary_floats_keeps_every_trit_and_the_scale);
	ADD(s, half_and_bfloat_sources_pack_like_their_float_values);
	ADD(s, non_ternary_floats_use_the_absmean_rule);
	ADD(s, non_finite_weights_are_refused_naming_row_and_column);
	ADD(s, short_buffers_and_unsupported_sources_are_refused);
	ADD(s, every_format_repacks_into_every_other_exactly);
	ADD(s, bitnet_i2s_with_whole_blocks_is_trit_i2s_byte_for_byte);
	ADD(s, weights_from_a_float_tensor_and_from_a_bitnet_file_give_the_same_results);
	ADD(s, i2s_code_3_is_refused_with_its_byte_offset);
	ADD(s, tq2_0_with_one_block_scale_repacks_exactly);
	ADD(s, tq2_0_with_two_block_scales_is_refused_naming_the_block);
	ADD(s, activation_quantisation_is_absmax_per_token_rounding_half_to_even);
	ADD(s, tl2_stores_every_triple_as_magnitude_and_sign);
	ADD(s, reference_dots_equal_a_plain_loop_over_the_trits);
	ADD(s, reference_f32_output_is_dot_over_s_times_scale);
	ADD(s, ref_backend_runs_every_format_through_the_abi);

	return test_run_suite(s);
}
