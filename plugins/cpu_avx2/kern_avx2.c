/*
 * kern_avx2.c - the AVX2 ternary kernels (compiled with -mavx2 -mfma; run only
 * when the CPU has both). Each computes exact int32 dots and hands them to
 * cpu_avx2_store(); splitting the work over threads and preparing the
 * activations is matmul.c's job.
 *
 * I2_S: 32 weight bytes hold 4 x 32 two-bit codes (code = trit + 1). Shifting
 *   by 6, 4, 2, 0 and masking gives the codes of columns b, b+32, b+64, b+96;
 *   maddubs(code, q) sums code * q pairwise into int16, and the dot is
 *   sum(code * q) - sum(q). Per block of 128 columns the four products sum
 *   to at most 4 * 2 * 3 * 128 = 3072 in magnitude (even with the invalid
 *   code 3), so 8 blocks accumulate safely in int16 before madd widens them.
 * TL1/TL2: 32 nibble bytes are two pairs (triples) of a 32-row tile: the low
 *   nibbles index rows 0-15, the high nibbles rows 16-31. pshufb looks each
 *   index up in the low-byte and the high-byte table of its pair (one pair
 *   per 128-bit lane) and unpacking the two results gives int16 values.
 *   |L| <= 256 (TL1) and 384 (TL2), so 64 lookups per int16 lane stay below
 *   32767 before they are widened to int32. TL2 negates per row with
 *   sign_epi16, its operand built from the triple's 32-bit sign word.
 */
#include <build-config.h>

#include <immintrin.h>
#include <string.h>

#include "kern_tables.h"
#include "kernels.h"

#define INLINE static inline __attribute__((always_inline))
/* The loops over rows, tokens and row groups of a block have constant
 * bounds; unrolled, their accumulators live in registers. */
#define UNROLL _Pragma("GCC unroll 8")

#define I2S_FLUSH_BLOCKS 8u   /* 128-column blocks per int16 accumulation */
#define TL_FLUSH_STEPS   64u  /* lookups per int16 lane before widening */
#define TL_NT            2    /* tokens per pass over a TL tile */
/* Software prefetch distance in weight bytes. Measured on a Zen 3 VM with a
 * 6912 x 2560 GEMV out of cache: without it the kernels reached 20-65% of
 * the streaming-read bandwidth, with it 75-95%. */
#define PF_BYTES         2048

INLINE int32_t hsum_epi32(__m256i v)
{
	__m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
	return _mm_cvtsi128_si32(s);
}

/* ------------------------------------------------------------------------ */
/* I2_S                                                                      */

/* NR rows from r, NT tokens from t (NR * NT <= 8: accumulators stay in
 * registers). NR and NT are constants at every call, so the loops unroll. */
INLINE void i2s_block(const struct cpu_avx2_mm *mm, uint64_t r, uint64_t t, const int NR,
                      const int NT)
{
	const uint64_t row_bytes = mm->cols_pad / 4, nblk = mm->cols_pad / 128;
	const __m256i m3 = _mm256_set1_epi8(3), ones = _mm256_set1_epi16(1);
	const uint8_t *w[4];
	const int8_t *q[4];
	__m256i acc[4][4];

	UNROLL
	for (int i = 0; i < NR; i++)
		w[i] = mm->w + (r + (uint64_t)i) * row_bytes;
	UNROLL
	for (int j = 0; j < NT; j++)
		q[j] = mm->q + (t + (uint64_t)j) * mm->cols_pad;
	UNROLL
	for (int i = 0; i < NR; i++)
		UNROLL
		for (int j = 0; j < NT; j++)
			acc[i][j] = _mm256_setzero_si256();

	for (uint64_t b0 = 0; b0 < nblk; b0 += I2S_FLUSH_BLOCKS) {
		uint64_t b1 = b0 + I2S_FLUSH_BLOCKS < nblk ? b0 + I2S_FLUSH_BLOCKS : nblk;
		__m256i a16[4][4];
		UNROLL
		for (int i = 0; i < NR; i++)
			UNROLL
			for (int j = 0; j < NT; j++)
				a16[i][j] = _mm256_setzero_si256();
		for (uint64_t b = b0; b < b1; b++) {
			UNROLL
			for (int i = 0; i < NR; i++) {
				_mm_prefetch((const char *)(w[i] + 32 * b + PF_BYTES), _MM_HINT_T0);
				__m256i v = _mm256_loadu_si256((const __m256i *)(w[i] + 32 * b));
				__m256i c0 = _mm256_and_si256(_mm256_srli_epi16(v, 6), m3);
				__m256i c1 = _mm256_and_si256(_mm256_srli_epi16(v, 4), m3);
				__m256i c2 = _mm256_and_si256(_mm256_srli_epi16(v, 2), m3);
				__m256i c3 = _mm256_and_si256(v, m3);
				UNROLL
				for (int j = 0; j < NT; j++) {
					const int8_t *qb = q[j] + 128 * b;
					__m256i p0 = _mm256_maddubs_epi16(
					        c0, _mm256_loadu_si256((const __m256i *)qb));
					__m256i p1 = _mm256_maddubs_epi16(
					        c1, _mm256_loadu_si256((const __m256i *)(qb + 32)));
					__m256i p2 = _mm256_maddubs_epi16(
					        c2, _mm256_loadu_si256((const __m256i *)(qb + 64)));
					__m256i p3 = _mm256_maddubs_epi16(
					        c3, _mm256_loadu_si256((const __m256i *)(qb + 96)));
					a16[i][j] = _mm256_add_epi16(
					        a16[i][j], _mm256_add_epi16(_mm256_add_epi16(p0, p1),
					                                    _mm256_add_epi16(p2, p3)));
				}
			}
		}
		UNROLL
		for (int i = 0; i < NR; i++)
			UNROLL
			for (int j = 0; j < NT; j++)
				acc[i][j] = _mm256_add_epi32(acc[i][j],
				                             _mm256_madd_epi16(a16[i][j], ones));
	}
	UNROLL
	for (int i = 0; i < NR; i++)
		UNROLL
		for (int j = 0; j < NT; j++) {
			uint32_t d = (uint32_t)hsum_epi32(acc[i][j]) - (uint32_t)mm->qsum[t + j];
			cpu_avx2_store(mm, t + j, r + i, (int32_t)d);
		}
}

/* The rows [r, r1) for tokens [t, t + NT), one row at a time: several rows
 * per block saved nothing in cache and, out of cache, their interleaved
 * streams ran at half the speed of one sequential stream. */
INLINE void i2s_rows(const struct cpu_avx2_mm *mm, uint64_t r, uint64_t r1, uint64_t t,
                     const int NT)
{
	for (; r < r1; r++)
		i2s_block(mm, r, t, 1, NT);
}

/* Rows in chunks that keep one chunk's weights in L2 while the tokens pass
 * over them four at a time. */
#define I2S_ROW_CHUNK 32u

static void i2s(const struct cpu_avx2_mm *mm, uint64_t r0, uint64_t r1)
{
	if (mm->tokens == 1) {
		i2s_rows(mm, r0, r1, 0, 1);
		return;
	}
	for (uint64_t c = r0; c < r1; c += I2S_ROW_CHUNK) {
		uint64_t c1 = c + I2S_ROW_CHUNK < r1 ? c + I2S_ROW_CHUNK : r1, t = 0;
		for (; t + 4 <= mm->tokens; t += 4)
			i2s_rows(mm, c, c1, t, 4);
		switch (mm->tokens - t) {
		case 3: i2s_rows(mm, c, c1, t, 3); break;
		case 2: i2s_rows(mm, c, c1, t, 2); break;
		case 1: i2s_rows(mm, c, c1, t, 1); break;
		default: break;
		}
	}
}

/* ------------------------------------------------------------------------ */
/* TL1 and TL2                                                               */

/* int16 accumulators of one token: rows 0-7, 8-15, 16-23, 24-31, each with
 * one pair (triple) per 128-bit lane; widened into acc32 (rows 8k .. 8k+7). */
INLINE void tl_widen(__m256i a16[4], __m256i acc32[4])
{
	UNROLL
	for (int k = 0; k < 4; k++) {
		__m256i lo = _mm256_cvtepi16_epi32(_mm256_castsi256_si128(a16[k]));
		__m256i hi = _mm256_cvtepi16_epi32(_mm256_extracti128_si256(a16[k], 1));
		acc32[k] = _mm256_add_epi32(acc32[k], _mm256_add_epi32(lo, hi));
		a16[k] = _mm256_setzero_si256();
	}
}

INLINE void tl_store(const struct cpu_avx2_mm *mm, uint64_t tile, uint64_t t,
                     const __m256i acc32[4])
{
	int32_t d[32];
	uint64_t r0 = tile * TRIT_TL_TILE_ROWS;
	uint64_t n = mm->rows - r0 < 32 ? mm->rows - r0 : 32;

	UNROLL
	for (int k = 0; k < 4; k++)
		_mm256_storeu_si256((__m256i *)(d + 8 * k), acc32[k]);
	for (uint64_t i = 0; i < n; i++)
		cpu_avx2_store(mm, t, r0 + i, d[i]);
}

/* Look up 32 rows x 2 pairs (one per lane) of one token and add them. The
 * optional sign operands (TL2) negate per row. */
INLINE void tl_lookup(__m256i a16[4], __m256i lo_idx, __m256i hi_idx, const uint8_t *tab,
                      const __m256i *sign)
{
	__m256i tl = _mm256_loadu_si256((const __m256i *)tab);
	__m256i th = _mm256_loadu_si256((const __m256i *)(tab + 32));
	__m256i a = _mm256_shuffle_epi8(tl, lo_idx), b = _mm256_shuffle_epi8(th, lo_idx);
	__m256i c = _mm256_shuffle_epi8(tl, hi_idx), d = _mm256_shuffle_epi8(th, hi_idx);
	__m256i x[4] = { _mm256_unpacklo_epi8(a, b), _mm256_unpackhi_epi8(a, b),
	                 _mm256_unpacklo_epi8(c, d), _mm256_unpackhi_epi8(c, d) };
	UNROLL
	for (int k = 0; k < 4; k++)
		a16[k] = _mm256_add_epi16(a16[k], sign ? _mm256_sign_epi16(x[k], sign[k]) : x[k]);
}

/* One TL1 tile for NT tokens from t. */
INLINE void tl1_tile(const struct cpu_avx2_mm *mm, uint64_t tile, uint64_t t, const int NT)
{
	const uint8_t *w = mm->w + tile * (mm->cols_pad * 8);
	const uint64_t steps = mm->cols_pad / 4; /* two pairs per step */
	const __m256i m4 = _mm256_set1_epi8(0x0f);
	__m256i acc32[4][4], a16[4][4];

	UNROLL
	for (int j = 0; j < NT; j++)
		UNROLL
		for (int k = 0; k < 4; k++)
			acc32[j][k] = a16[j][k] = _mm256_setzero_si256();
	for (uint64_t s0 = 0; s0 < steps; s0 += TL_FLUSH_STEPS) {
		uint64_t s1 = s0 + TL_FLUSH_STEPS < steps ? s0 + TL_FLUSH_STEPS : steps;
		for (uint64_t m = s0; m < s1; m++) {
			_mm_prefetch((const char *)(w + 32 * m + PF_BYTES), _MM_HINT_T0);
			__m256i v = _mm256_loadu_si256((const __m256i *)(w + 32 * m));
			__m256i lo = _mm256_and_si256(v, m4);
			__m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
			UNROLL
			for (int j = 0; j < NT; j++)
				tl_lookup(a16[j], lo, hi,
				          mm->tables + (t + (uint64_t)j) * mm->table_bytes + 64 * m,
				          NULL);
		}
		UNROLL
		for (int j = 0; j < NT; j++)
			tl_widen(a16[j], acc32[j]);
	}
	UNROLL
	for (int j = 0; j < NT; j++)
		tl_store(mm, tile, t + (uint64_t)j, acc32[j]);
}

/* The sign operands of two triples (words at sw[0], sw[1]) for the rows
 * 0-7, 8-15, 16-23, 24-31 of each: negative where the row's sign bit is
 * set, never zero. mullo by 2^(15-b) moves bit b of the word's half into
 * the int16's sign bit. */
INLINE void tl2_signs(const uint8_t *sw, __m256i sign[4])
{
	const __m256i sel_lo = _mm256_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1,
	                                        4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5);
	const __m256i sel_hi = _mm256_setr_epi8(2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3,
	                                        6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7);
	const __m256i mul_a = _mm256_setr_epi16(
	        (short)0x8000, 0x4000, 0x2000, 0x1000, 0x0800, 0x0400, 0x0200, 0x0100,
	        (short)0x8000, 0x4000, 0x2000, 0x1000, 0x0800, 0x0400, 0x0200, 0x0100);
	const __m256i mul_b = _mm256_setr_epi16(0x80, 0x40, 0x20, 0x10, 0x08, 0x04, 0x02, 0x01,
	                                        0x80, 0x40, 0x20, 0x10, 0x08, 0x04, 0x02, 0x01);
	const __m256i one = _mm256_set1_epi16(1);
	long long both;
	memcpy(&both, sw, sizeof both);
	__m256i all = _mm256_set1_epi64x(both);
	__m256i lo = _mm256_shuffle_epi8(all, sel_lo), hi = _mm256_shuffle_epi8(all, sel_hi);
	sign[0] = _mm256_or_si256(_mm256_mullo_epi16(lo, mul_a), one);
	sign[1] = _mm256_or_si256(_mm256_mullo_epi16(lo, mul_b), one);
	sign[2] = _mm256_or_si256(_mm256_mullo_epi16(hi, mul_a), one);
	sign[3] = _mm256_or_si256(_mm256_mullo_epi16(hi, mul_b), one);
}

/* One TL2 tile for NT tokens from t. */
INLINE void tl2_tile(const struct cpu_avx2_mm *mm, uint64_t tile, uint64_t t, const int NT)
{
	const uint64_t groups = mm->cols_pad / TRIT_TL2_BLOCK_COLS;
	const uint8_t *w = mm->w + tile * (groups * TRIT_TL2_GROUP_BYTES);
	const __m256i m4 = _mm256_set1_epi8(0x0f);
	__m256i acc32[4][4], a16[4][4];

	UNROLL
	for (int j = 0; j < NT; j++)
		UNROLL
		for (int k = 0; k < 4; k++)
			acc32[j][k] = a16[j][k] = _mm256_setzero_si256();
	/* 16 steps per group; widen every 4 groups (64 lookups per lane). */
	for (uint64_t g = 0; g < groups; g++) {
		const uint8_t *gp = w + g * TRIT_TL2_GROUP_BYTES;
		for (unsigned l = 0; l < TRIT_TL2_GROUP_BYTES; l += 64)
			_mm_prefetch((const char *)(gp + PF_BYTES + l), _MM_HINT_T0);
		for (unsigned m = 0; m < 16; m++) {
			__m256i sign[4];
			__m256i v = _mm256_loadu_si256((const __m256i *)(gp + 32 * m));
			__m256i lo = _mm256_and_si256(v, m4);
			__m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
			tl2_signs(gp + 512 + 8 * m, sign);
			UNROLL
			for (int j = 0; j < NT; j++)
				tl_lookup(a16[j], lo, hi,
				          mm->tables + (t + (uint64_t)j) * mm->table_bytes +
				                  64 * (16 * g + m),
				          sign);
		}
		if (g % 4 == 3 || g + 1 == groups)
			UNROLL
			for (int j = 0; j < NT; j++)
				tl_widen(a16[j], acc32[j]);
	}
	UNROLL
	for (int j = 0; j < NT; j++)
		tl_store(mm, tile, t + (uint64_t)j, acc32[j]);
}

/* Tiles [t0, t1), tokens two at a time (the tile's weights are re-read
 * from L1/L2 for the next two). */
#define TL_TILES(name, tile_fn)                                                   \
	static void name(const struct cpu_avx2_mm *mm, uint64_t t0, uint64_t t1)  \
	{                                                                         \
		for (uint64_t tile = t0; tile < t1; tile++) {                     \
			uint64_t t = 0;                                           \
			for (; t + TL_NT <= mm->tokens; t += TL_NT)               \
				tile_fn(mm, tile, t, TL_NT);                      \
			for (; t < mm->tokens; t++)                               \
				tile_fn(mm, tile, t, 1);                          \
		}                                                                 \
	}
TL_TILES(tl1, tl1_tile)
TL_TILES(tl2, tl2_tile)

static void tl1_tables(const int8_t *q, uint64_t cols_pad, uint8_t *tab)
{
	kt_tl1_tables(q, cols_pad, tab, 2);
}

static void tl2_tables(const int8_t *q, uint64_t cols_pad, uint8_t *tab)
{
	kt_tl2_tables(q, cols_pad, tab, 2);
}

/* ------------------------------------------------------------------------ */
/* The peak int8 throughput loop (kernels.h, peak.c)                         */

/*
 * PEAK_CHAINS independent int16 accumulators, each taking per iteration what
 * the I2_S kernel above does per code: vpmaddubsw ymm (32 u8 x s8 products)
 * then vpaddw ymm. The chain is the add's (1 cycle), so the products of all
 * chains overlap. 12 accumulators, a, b and one product fit the 16 YMM
 * registers. The empty asm before each product makes the compiler believe b
 * changed, so it neither hoists the product out of the loop nor shares one
 * among the chains; the accumulators start from values it cannot see, or
 * it finds the chains equal and runs one.
 */
#define PEAK_CHAINS 12u
#define PEAK_OPS_PER_ITER (PEAK_CHAINS * 32u * 2u)
/* Iterations between folds of the accumulators into the count: an int16
 * lane grows by 2 per iteration and would wrap at 32768 of them. */
#define PEAK_FOLD UINT64_C(4096)

/* The lanes of the accumulators summed into the count, and zeroed. */
static uint64_t peak_fold(__m256i acc[PEAK_CHAINS])
{
	uint64_t sum = 0;

	for (unsigned c = 0; c < PEAK_CHAINS; c++) {
		uint16_t lane[16];
		_mm256_storeu_si256((__m256i *)lane, acc[c]);
		for (size_t l = 0; l < 16; l++)
			sum += lane[l];
		acc[c] = _mm256_setzero_si256();
		__asm__ volatile("" : "+x"(acc[c])); /* else equal chains may be merged */
	}
	return sum;
}

static uint64_t peak_loop(uint64_t iters)
{
	__m256i acc[PEAK_CHAINS], a = _mm256_set1_epi8(1), b = _mm256_set1_epi8(1);
	uint64_t sum = 0;

	_Pragma("GCC unroll 12")
	for (unsigned c = 0; c < PEAK_CHAINS; c++) {
		acc[c] = _mm256_setzero_si256();
		__asm__ volatile("" : "+x"(acc[c])); /* else equal chains may be merged */
	}
	__asm__ volatile("" : "+x"(a));
	for (uint64_t done = 0; done < iters;) {
		uint64_t n = iters - done < PEAK_FOLD ? iters - done : PEAK_FOLD;
		for (uint64_t i = 0; i < n; i++) {
			_Pragma("GCC unroll 12")
			for (unsigned c = 0; c < PEAK_CHAINS; c++) {
				__asm__ volatile("" : "+x"(b));
				acc[c] = _mm256_add_epi16(acc[c], _mm256_maddubs_epi16(a, b));
			}
		}
		done += n;
		sum += peak_fold(acc);
	}
	return sum;
}

const struct cpu_avx2_kernels cpu_avx2_kernels_avx2 = {
	.isa = "avx2",
	.needs = CPU_AVX2_NEEDS_AVX2,
	.i2s = i2s,
	.tl1 = tl1,
	.tl2 = tl2,
	.tl1_tables = tl1_tables,
	.tl2_tables = tl2_tables,
	.peak_loop = peak_loop,
	.peak_ops_per_iter = PEAK_OPS_PER_ITER,
	.peak_chains = PEAK_CHAINS,
	.peak_insn = "vpmaddubsw ymm + vpaddw ymm",
};
