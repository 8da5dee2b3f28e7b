/*
 * kern_avx512.c - the AVX-512 ternary kernels, compiled twice: with
 * -mavx512f -mavx512bw (cpu_avx2_kernels_avx512bw) and, adding -mavx512vnni
 * and KERN_VNNI, with vpdpbusd (cpu_avx2_kernels_avx512vnni). They run only
 * when the CPU has those features (matmul.c chooses). The algorithms are
 * kern_avx2.c's at twice the width; what changes:
 *
 * I2_S: one ZMM holds 64 weight bytes of one row (two blocks), and the
 *   activations are reordered once per matmul (i2s_order, called by
 *   matmul.c) so the 64 that meet each 2-bit code are one load. With VNNI,
 *   dpbusd(acc, code, q) adds the four code * q products of each int32
 *   lane straight into it; without, it is maddubs into int16 as in AVX2.
 * TL1/TL2: one ZMM holds four pairs (triples) of a tile, one per 128-bit
 *   lane, with the tables of those four loaded in two loads (layout group 4,
 *   kernels.h). TL2's signs become mask registers (vptestmw against the
 *   row's bit) and a masked subtraction negates the rows they select.
 *
 * CPU_AVX2_EMULATE builds the same code against SIMDe's portable versions of
 * the intrinsics (tables named ..._emu), so the test suite can check these
 * kernels' logic on a CPU without AVX-512. The short v_* names below are the
 * only place the two builds differ.
 */
#include <build-config.h>

#include <string.h>

#include "kern_tables.h" /* before SIMDe: it includes <immintrin.h> */
#include "kernels.h"

#ifdef CPU_AVX2_EMULATE
#include <simde/x86/avx512.h>
typedef simde__m512i V;
typedef simde__mmask32 M32;
#define v_loadu(p)          simde_mm512_loadu_si512((const void *)(p))
#define v_zero()            simde_mm512_setzero_si512()
#define v_set1_8(x)         simde_mm512_set1_epi8(x)
#define v_set1_16(x)        simde_mm512_set1_epi16(x)
#define v_and(a, b)         simde_mm512_and_si512(a, b)
#define v_srli16(a, n)      simde_mm512_srli_epi16(a, n)
#define v_add16(a, b)       simde_mm512_add_epi16(a, b)
#define v_add32(a, b)       simde_mm512_add_epi32(a, b)
#define v_maddubs(a, b)     simde_mm512_maddubs_epi16(a, b)
#define v_madd16(a, b)      simde_mm512_madd_epi16(a, b)
#define v_dpbusd(c, a, b)   simde_mm512_dpbusd_epi32(c, a, b)
#define v_shuffle8(t, i)    simde_mm512_shuffle_epi8(t, i)
#define v_unpacklo8(a, b)   simde_mm512_unpacklo_epi8(a, b)
#define v_unpackhi8(a, b)   simde_mm512_unpackhi_epi8(a, b)
#define v_test16(a, b)      emu_test16(a, b)
#define v_neg_where(x, k)   simde_mm512_mask_mov_epi16(x, k, simde_mm512_sub_epi16(v_zero(), x))
#define v_bcast256(p)       simde_mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(p)))
#define v_bcast128(p)       simde_mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(p)))
#define v_two256(a, b)      simde_mm512_inserti64x4(simde_mm512_castsi256_si512(a), b, 1)
#define v_lo256(x)          simde_mm512_castsi512_si256(x)
#define v_hi256(x)          simde_mm512_extracti64x4_epi64(x, 1)
#define KERN_NAME(n)        n##_emu
/* SIMDe 0.7.4's simde_mm512_test_epi16_mask shifts an int 1 left by 31,
 * which UBSan rejects; the same operation, written out. */
static inline M32 emu_test16(V a, V b)
{
	int16_t v[32];
	uint32_t m = 0;
	simde_mm512_storeu_si512((void *)v, simde_mm512_and_si512(a, b));
	for (int i = 0; i < 32; i++)
		m |= (uint32_t)(v[i] != 0) << i;
	return (M32)m;
}
#else
typedef __m512i V;
typedef __mmask32 M32;
#define v_loadu(p)          _mm512_loadu_si512((const void *)(p))
#define v_zero()            _mm512_setzero_si512()
#define v_set1_8(x)         _mm512_set1_epi8(x)
#define v_set1_16(x)        _mm512_set1_epi16(x)
#define v_and(a, b)         _mm512_and_si512(a, b)
#define v_srli16(a, n)      _mm512_srli_epi16(a, n)
#define v_add16(a, b)       _mm512_add_epi16(a, b)
#define v_add32(a, b)       _mm512_add_epi32(a, b)
#define v_maddubs(a, b)     _mm512_maddubs_epi16(a, b)
#define v_madd16(a, b)      _mm512_madd_epi16(a, b)
#define v_dpbusd(c, a, b)   _mm512_dpbusd_epi32(c, a, b)
#define v_shuffle8(t, i)    _mm512_shuffle_epi8(t, i)
#define v_unpacklo8(a, b)   _mm512_unpacklo_epi8(a, b)
#define v_unpackhi8(a, b)   _mm512_unpackhi_epi8(a, b)
#define v_test16(a, b)      _mm512_test_epi16_mask(a, b)
#define v_neg_where(x, k)   _mm512_mask_sub_epi16(x, k, _mm512_setzero_si512(), x)
#define v_bcast256(p)       _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(p)))
#define v_bcast128(p)       _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(p)))
#define v_two256(a, b)      _mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1)
#define v_lo256(x)          _mm512_castsi512_si256(x)
#define v_hi256(x)          _mm512_extracti64x4_epi64(x, 1)
#define KERN_NAME(n)        n
#endif

#define INLINE static inline __attribute__((always_inline))
/* The loops over rows, tokens and row groups of a block have constant
 * bounds; unrolled, their accumulators live in registers. */
#define UNROLL _Pragma("GCC unroll 8")

#define I2S_FLUSH_BLOCKS 8u   /* as in kern_avx2.c */
#define TL_FLUSH_STEPS   64u
#define PF_BYTES         8192 /* software prefetch distance (docs/bench.md) */

INLINE int32_t hsum256(__m256i v)
{
	__m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
	return _mm_cvtsi128_si32(s);
}

/* ------------------------------------------------------------------------ */
/* I2_S                                                                      */

/*
 * A row is read 64 bytes, two 128-weight blocks, at a time, and the
 * activations are stored in the order that makes the four 2-bit codes of
 * those 64 bytes meet their 64 activations in one 64-byte load each
 * (i2s_order below).
 *
 * Every kernel here loads its weights as two 256-bit halves (w_load64): on
 * the Zen 5 this was tuned on, an I2_S loop whose 512-bit loads missed the
 * cache streamed at 14-16 GB/s on one core where the same loop with two
 * 256-bit loads reached 22-27 GB/s; and it prefetches PF_BYTES ahead, which
 * must cover the memory's latency at the rate the loop consumes (2 KiB did
 * not: 22 GB/s, against 25-27 with 8 KiB). docs/bench.md, "The AVX-512
 * path".
 */
#define I2S_STEP_BYTES 64u  /* per row and step: 256 weights */
#define I2S_STEP_COLS 256u

/* One token's activations, in place: for each 256 of them, the 32 that
 * meet code k of the first block, the 32 of code k of the second, k = 0..3.
 * A last odd block of 128 keeps its order (the kernel reads it in halves). */
static void i2s_order(int8_t *q, uint64_t cols_pad)
{
	int8_t tmp[I2S_STEP_COLS];

	for (uint64_t p = 0; p + I2S_STEP_COLS <= cols_pad; p += I2S_STEP_COLS) {
		memcpy(tmp, q + p, sizeof tmp);
		for (int k = 0; k < 4; k++)
			for (int h = 0; h < 2; h++)
				memcpy(q + p + 64 * k + 32 * h, tmp + 128 * h + 32 * k, 32);
	}
}

/* 64 bytes of weights, as two 256-bit loads (above). */
INLINE V w_load64(const uint8_t *p)
{
	return v_two256(_mm256_loadu_si256((const __m256i *)p),
	                _mm256_loadu_si256((const __m256i *)(p + 32)));
}

/* The four 2-bit codes of each byte of v, the high pair first. */
INLINE void i2s_codes(V v, V c[4])
{
	const V m3 = v_set1_8(3);
	c[0] = v_and(v_srli16(v, 6), m3);
	c[1] = v_and(v_srli16(v, 4), m3);
	c[2] = v_and(v_srli16(v, 2), m3);
	c[3] = v_and(v, m3);
}

INLINE int32_t hsum512(V v)
{
	return hsum256(_mm256_add_epi32(v_lo256(v), v_hi256(v)));
}

#ifdef KERN_VNNI
#define I2S_SUMS acc
/* Accumulators per row and token: four when one row and one token leave
 * nothing else to overlap (a chain of four dpbusd per step would bound the
 * loop by their latency), else one. */
#define I2S_NA(NR, NT) ((NR) * (NT) == 1 ? 4 : 1)
#else
#define I2S_SUMS a16 /* int16 sums of at most I2S_FLUSH_BLOCKS steps */
#endif

/* The 64 activations of each code of one token's step (a last odd block:
 * its 32, zero above). */
INLINE void i2s_qload(V qv[4], const int8_t *q, int half)
{
	UNROLL
	for (int k = 0; k < 4; k++)
		qv[k] = half ? v_two256(_mm256_loadu_si256((const __m256i *)(q + 32 * k)),
		                        _mm256_setzero_si256())
		             : v_loadu(q + 64 * k);
}

/* NR rows from r, NT tokens from t (NR, NT <= 4). `code` holds the codes
 * of each row's step; q[j] the 256 activations of token j it meets, 64
 * bytes per code (a last odd block: 32 bytes per code, zero above). */
#ifdef KERN_VNNI
INLINE void i2s_step(V acc[4][4][4], const V code[4][4], const int8_t *const q[4], int half,
                     const int NR, const int NT)
{
	UNROLL
	for (int j = 0; j < NT; j++) {
		V qv[4];
		i2s_qload(qv, q[j], half);
		UNROLL
		for (int i = 0; i < NR; i++)
			UNROLL
			for (int k = 0; k < 4; k++) {
				const int a = k % I2S_NA(NR, NT);
				acc[i][j][a] = v_dpbusd(acc[i][j][a], code[i][k], qv[k]);
			}
	}
}
#else
INLINE void i2s_step(V a16[4][4], const V code[4][4], const int8_t *const q[4], int half,
                     const int NR, const int NT)
{
	UNROLL
	for (int j = 0; j < NT; j++) {
		V qv[4];
		i2s_qload(qv, q[j], half);
		UNROLL
		for (int i = 0; i < NR; i++)
			a16[i][j] = v_add16(a16[i][j],
			                    v_add16(v_add16(v_maddubs(code[i][0], qv[0]),
			                                    v_maddubs(code[i][1], qv[1])),
			                            v_add16(v_maddubs(code[i][2], qv[2]),
			                                    v_maddubs(code[i][3], qv[3]))));
	}
}
#endif

INLINE void i2s_block(const struct cpu_avx2_mm *mm, uint64_t r, uint64_t t, const int NR,
                      const int NT)
{
	const uint64_t row_bytes = mm->cols_pad / 4, nsteps = mm->cols_pad / I2S_STEP_COLS;
	const int odd = (mm->cols_pad / 128) & 1;
	const uint8_t *w[4];
	const int8_t *q0[4], *qs[4];
	V code[4][4];
#ifdef KERN_VNNI
	V acc[4][4][4];
#else
	const V ones = v_set1_16(1);
	V acc[4][4], a16[4][4];
#endif

	UNROLL
	for (int i = 0; i < NR; i++)
		w[i] = mm->w + (r + (uint64_t)i) * row_bytes;
	UNROLL
	for (int j = 0; j < NT; j++)
		q0[j] = mm->q + (t + (uint64_t)j) * mm->cols_pad;
	UNROLL
	for (int i = 0; i < NR; i++)
		UNROLL
		for (int j = 0; j < NT; j++) {
#ifdef KERN_VNNI
			UNROLL
			for (int a = 0; a < 4; a++)
				acc[i][j][a] = v_zero();
#else
			acc[i][j] = v_zero();
#endif
		}

	for (uint64_t s0 = 0; s0 < nsteps + (uint64_t)odd; s0 += I2S_FLUSH_BLOCKS) {
		uint64_t s1 = s0 + I2S_FLUSH_BLOCKS < nsteps ? s0 + I2S_FLUSH_BLOCKS : nsteps;
#ifndef KERN_VNNI
		UNROLL
		for (int i = 0; i < NR; i++)
			UNROLL
			for (int j = 0; j < NT; j++)
				a16[i][j] = v_zero();
#endif
		for (uint64_t s = s0; s < s1; s++) {
			UNROLL
			for (int i = 0; i < NR; i++) {
				const uint8_t *p = w[i] + I2S_STEP_BYTES * s;
				_mm_prefetch((const char *)(p + PF_BYTES), _MM_HINT_T0);
				i2s_codes(w_load64(p), code[i]);
			}
			UNROLL
			for (int j = 0; j < NT; j++)
				qs[j] = q0[j] + I2S_STEP_COLS * s;
			i2s_step(I2S_SUMS, (const V(*)[4])code, qs, 0, NR, NT);
		}
		if (odd && s0 + I2S_FLUSH_BLOCKS > nsteps) {
			/* the last group: its last block, 32 bytes a row, in the low
			 * halves (at most I2S_FLUSH_BLOCKS steps with the others) */
			UNROLL
			for (int i = 0; i < NR; i++)
				i2s_codes(v_two256(_mm256_loadu_si256(
				                           (const __m256i *)(w[i] + I2S_STEP_BYTES * nsteps)),
				                   _mm256_setzero_si256()),
				          code[i]);
			UNROLL
			for (int j = 0; j < NT; j++)
				qs[j] = q0[j] + I2S_STEP_COLS * nsteps;
			i2s_step(I2S_SUMS, (const V(*)[4])code, qs, 1, NR, NT);
		}
#ifndef KERN_VNNI
		UNROLL
		for (int i = 0; i < NR; i++)
			UNROLL
			for (int j = 0; j < NT; j++)
				acc[i][j] = v_add32(acc[i][j], v_madd16(a16[i][j], ones));
#endif
	}
	UNROLL
	for (int i = 0; i < NR; i++)
		UNROLL
		for (int j = 0; j < NT; j++) {
#ifdef KERN_VNNI
			V a = v_add32(v_add32(acc[i][j][0], acc[i][j][1]),
			              v_add32(acc[i][j][2], acc[i][j][3]));
#else
			V a = acc[i][j];
#endif
			uint32_t d = (uint32_t)hsum512(a) - (uint32_t)mm->qsum[t + j];
			cpu_avx2_store(mm, t + j, r + (uint64_t)i, (int32_t)d);
		}
}

/* Rows that share each activation load when there are several tokens:
 * with VNNI, 4 x 4 (rows x tokens) dpbusd chains ran at the measured peak
 * of dpbusd on one core where 2 x 4 reached 0.75 of it (every step pays
 * its codes once per row and its activation loads once per token); the
 * int16 sums without VNNI need twice the registers. */
#ifdef KERN_VNNI
#define I2S_GEMM_ROWS 4
#else
#define I2S_GEMM_ROWS 2
#endif

/* One token: a row at a time (one sequential stream; see kern_avx2.c).
 * Several tokens: I2S_GEMM_ROWS rows at a time. */
INLINE void i2s_rows(const struct cpu_avx2_mm *mm, uint64_t r, uint64_t r1, uint64_t t,
                     const int NT)
{
	if (NT == 1) {
		for (; r < r1; r++)
			i2s_block(mm, r, t, 1, 1);
		return;
	}
	for (; r + I2S_GEMM_ROWS <= r1; r += I2S_GEMM_ROWS)
		i2s_block(mm, r, t, I2S_GEMM_ROWS, NT);
	switch (r1 - r) {
	case 3: i2s_block(mm, r, t, 3, NT); break;
	case 2: i2s_block(mm, r, t, 2, NT); break;
	case 1: i2s_block(mm, r, t, 1, NT); break;
	default: break;
	}
}

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

/* a16[k]: rows 8k..8k+7, one pair (triple) per 128-bit lane; the four lanes
 * are summed into acc32[k] in int32. */
INLINE void tl_widen(V a16[4], __m256i acc32[4])
{
	UNROLL
	for (int k = 0; k < 4; k++) {
		__m256i lo = v_lo256(a16[k]), hi = v_hi256(a16[k]);
		__m256i s = _mm256_add_epi32(
		        _mm256_add_epi32(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(lo)),
		                         _mm256_cvtepi16_epi32(_mm256_extracti128_si256(lo, 1))),
		        _mm256_add_epi32(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(hi)),
		                         _mm256_cvtepi16_epi32(_mm256_extracti128_si256(hi, 1))));
		acc32[k] = _mm256_add_epi32(acc32[k], s);
		a16[k] = v_zero();
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

/* Four pairs (triples) x 32 rows of one token; tab holds their tables. */
INLINE void tl_lookup(V a16[4], V lo_idx, V hi_idx, const uint8_t *tab, const M32 *neg)
{
	V tl = v_loadu(tab), th = v_loadu(tab + 64);
	V a = v_shuffle8(tl, lo_idx), b = v_shuffle8(th, lo_idx);
	V c = v_shuffle8(tl, hi_idx), d = v_shuffle8(th, hi_idx);
	V x[4] = { v_unpacklo8(a, b), v_unpackhi8(a, b), v_unpacklo8(c, d), v_unpackhi8(c, d) };
	UNROLL
	for (int k = 0; k < 4; k++)
		a16[k] = v_add16(a16[k], neg ? v_neg_where(x[k], neg[k]) : x[k]);
}

INLINE void tl1_tile(const struct cpu_avx2_mm *mm, uint64_t tile, uint64_t t, const int NT)
{
	const uint8_t *w = mm->w + tile * (mm->cols_pad * 8);
	const uint64_t steps = mm->cols_pad / 8; /* four pairs per step */
	const V m4 = v_set1_8(0x0f);
	__m256i acc32[2][4];
	V a16[2][4];

	UNROLL
	for (int j = 0; j < NT; j++)
		UNROLL
		for (int k = 0; k < 4; k++) {
			acc32[j][k] = _mm256_setzero_si256();
			a16[j][k] = v_zero();
		}
	for (uint64_t s0 = 0; s0 < steps; s0 += TL_FLUSH_STEPS) {
		uint64_t s1 = s0 + TL_FLUSH_STEPS < steps ? s0 + TL_FLUSH_STEPS : steps;
		for (uint64_t m = s0; m < s1; m++) {
			_mm_prefetch((const char *)(w + 64 * m + PF_BYTES), _MM_HINT_T0);
			V v = w_load64(w + 64 * m);
			V lo = v_and(v, m4), hi = v_and(v_srli16(v, 4), m4);
			UNROLL
			for (int j = 0; j < NT; j++)
				tl_lookup(a16[j], lo, hi,
				          mm->tables + (t + (uint64_t)j) * mm->table_bytes + 128 * m,
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

/* Masks of the rows to negate, for four triples whose sign words are at sw:
 * rows 0-7, 8-15, 16-23, 24-31, each with one triple per 128-bit lane. */
INLINE void tl2_masks(const uint8_t *sw, M32 neg[4])
{
	static const uint8_t sel[2][64] = {
		{ 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1,
		  4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5,
		  8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9,
		  12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13 },
		{ 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3,
		  6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7,
		  10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11,
		  14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15 },
	};
	static const uint16_t bit[2][32] = {
		{ 1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128,
		  1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128 },
		{ 256, 512, 1024, 2048, 4096, 8192, 16384, 32768,
		  256, 512, 1024, 2048, 4096, 8192, 16384, 32768,
		  256, 512, 1024, 2048, 4096, 8192, 16384, 32768,
		  256, 512, 1024, 2048, 4096, 8192, 16384, 32768 },
	};
	V words = v_bcast128(sw);
	V lo = v_shuffle8(words, v_loadu(sel[0])), hi = v_shuffle8(words, v_loadu(sel[1]));
	V b0 = v_loadu(bit[0]), b1 = v_loadu(bit[1]);
	neg[0] = v_test16(lo, b0);
	neg[1] = v_test16(lo, b1);
	neg[2] = v_test16(hi, b0);
	neg[3] = v_test16(hi, b1);
}

INLINE void tl2_tile(const struct cpu_avx2_mm *mm, uint64_t tile, uint64_t t, const int NT)
{
	const uint64_t groups = mm->cols_pad / TRIT_TL2_BLOCK_COLS;
	const uint8_t *w = mm->w + tile * (groups * TRIT_TL2_GROUP_BYTES);
	const V m4 = v_set1_8(0x0f);
	__m256i acc32[2][4];
	V a16[2][4];

	UNROLL
	for (int j = 0; j < NT; j++)
		UNROLL
		for (int k = 0; k < 4; k++) {
			acc32[j][k] = _mm256_setzero_si256();
			a16[j][k] = v_zero();
		}
	/* 8 steps per group; widen every 8 groups (64 lookups per lane). */
	for (uint64_t g = 0; g < groups; g++) {
		const uint8_t *gp = w + g * TRIT_TL2_GROUP_BYTES;
		for (unsigned l = 0; l < TRIT_TL2_GROUP_BYTES; l += 64)
			_mm_prefetch((const char *)(gp + PF_BYTES + l), _MM_HINT_T0);
		for (unsigned m = 0; m < 8; m++) {
			M32 neg[4];
			V v = w_load64(gp + 64 * m);
			V lo = v_and(v, m4), hi = v_and(v_srli16(v, 4), m4);
			tl2_masks(gp + 512 + 16 * m, neg);
			UNROLL
			for (int j = 0; j < NT; j++)
				tl_lookup(a16[j], lo, hi,
				          mm->tables + (t + (uint64_t)j) * mm->table_bytes +
				                  128 * (8 * g + m),
				          neg);
		}
		if (g % 8 == 7 || g + 1 == groups)
			UNROLL
			for (int j = 0; j < NT; j++)
				tl_widen(a16[j], acc32[j]);
	}
	UNROLL
	for (int j = 0; j < NT; j++)
		tl_store(mm, tile, t + (uint64_t)j, acc32[j]);
}

#define TL_TILES(name, tile_fn)                                                   \
	static void name(const struct cpu_avx2_mm *mm, uint64_t t0, uint64_t t1)  \
	{                                                                         \
		for (uint64_t tile = t0; tile < t1; tile++) {                     \
			uint64_t t = 0;                                           \
			for (; t + 2 <= mm->tokens; t += 2)                       \
				tile_fn(mm, tile, t, 2);                          \
			if (t < mm->tokens)                                       \
				tile_fn(mm, tile, t, 1);                          \
		}                                                                 \
	}
TL_TILES(tl1, tl1_tile)
TL_TILES(tl2, tl2_tile)

static void tl1_tables(const int8_t *q, uint64_t cols_pad, uint8_t *tab)
{
	kt_tl1_tables(q, cols_pad, tab, 4);
}

static void tl2_tables(const int8_t *q, uint64_t cols_pad, uint8_t *tab)
{
	kt_tl2_tables(q, cols_pad, tab, 4);
}

/* ------------------------------------------------------------------------ */
/* The peak int8 throughput loop (kernels.h, peak.c)                         */

/*
 * PEAK_CHAINS independent accumulators, each taking per iteration the
 * instruction(s) this path's I2_S kernel multiplies with: vpdpbusd zmm (VNNI:
 * 64 u8 x s8 products summed into 16 int32 lanes, latency about 4-5 cycles
 * at up to 2 per cycle, so 12 chains keep every unit busy), or vpmaddubsw
 * zmm then vpaddw zmm into an int16 accumulator (BW: 64 products, the add's
 * 1-cycle latency is the chain). Empty asm statements make the compiler
 * believe b changes before every use, so it can neither hoist the products
 * out of the loop (a and b are invariant) nor share one product among the
 * chains, and the accumulators start from values it cannot see, or it
 * finds the chains equal and runs one. In the emulated build the operands
 * go through memory ("+m": SIMDe's vectors are structs).
 */
#define PEAK_CHAINS 12u
#define PEAK_OPS_PER_ITER (PEAK_CHAINS * 64u * 2u)
#ifdef KERN_VNNI
#define PEAK_INSN "vpdpbusd zmm"
#else
#define PEAK_INSN "vpmaddubsw zmm + vpaddw zmm"
#endif
#ifdef CPU_AVX2_EMULATE
#define v_opaque(x) __asm__ volatile("" : "+m"(x))
#define v_store(p, x) simde_mm512_storeu_si512((void *)(p), x)
#else
#define v_opaque(x) __asm__ volatile("" : "+v"(x))
#define v_store(p, x) _mm512_storeu_si512((void *)(p), x)
#endif

/* Iterations between folds of the accumulators into the count: without
 * VNNI an int16 lane grows by 2 per iteration and must not overflow (in
 * the emulated build that is undefined behaviour, which UBSan rejects). */
#ifdef KERN_VNNI
#define PEAK_FOLD (UINT64_C(1) << 24)
#else
#define PEAK_FOLD UINT64_C(4096)
#endif

/* The lanes of the accumulators summed into the count, and zeroed. */
static uint64_t peak_fold(V acc[PEAK_CHAINS])
{
	uint64_t sum = 0;

	for (unsigned c = 0; c < PEAK_CHAINS; c++) {
#ifdef KERN_VNNI
		uint32_t lane[16];
#else
		uint16_t lane[32];
#endif
		v_store(lane, acc[c]);
		for (size_t l = 0; l < sizeof lane / sizeof lane[0]; l++)
			sum += lane[l];
		acc[c] = v_zero();
		v_opaque(acc[c]); /* else equal chains may be merged into one */
	}
	return sum;
}

static uint64_t peak_loop(uint64_t iters)
{
	V acc[PEAK_CHAINS], a = v_set1_8(1), b = v_set1_8(1);
	uint64_t sum = 0;

	_Pragma("GCC unroll 12")
	for (unsigned c = 0; c < PEAK_CHAINS; c++) {
		acc[c] = v_zero();
		v_opaque(acc[c]); /* else equal chains may be merged into one */
	}
	v_opaque(a);
	for (uint64_t done = 0; done < iters;) {
		uint64_t n = iters - done < PEAK_FOLD ? iters - done : PEAK_FOLD;
		for (uint64_t i = 0; i < n; i++) {
#ifdef KERN_VNNI
			v_opaque(b);
			_Pragma("GCC unroll 12")
			for (unsigned c = 0; c < PEAK_CHAINS; c++)
				acc[c] = v_dpbusd(acc[c], a, b);
#else
			_Pragma("GCC unroll 12")
			for (unsigned c = 0; c < PEAK_CHAINS; c++) {
				v_opaque(b);
				acc[c] = v_add16(acc[c], v_maddubs(a, b));
			}
#endif
		}
		done += n;
		sum += peak_fold(acc);
	}
	return sum;
}

#ifdef KERN_VNNI
const struct cpu_avx2_kernels KERN_NAME(cpu_avx2_kernels_avx512vnni) = {
	.isa = "avx512vnni",
	.needs = CPU_AVX2_NEEDS_AVX512VNNI,
#else
const struct cpu_avx2_kernels KERN_NAME(cpu_avx2_kernels_avx512bw) = {
	.isa = "avx512bw",
	.needs = CPU_AVX2_NEEDS_AVX512BW,
#endif
	.i2s = i2s,
	.i2s_order = i2s_order,
	.tl1 = tl1,
	.tl2 = tl2,
	.tl1_tables = tl1_tables,
	.tl2_tables = tl2_tables,
	.peak_loop = peak_loop,
	.peak_ops_per_iter = PEAK_OPS_PER_ITER,
	.peak_chains = PEAK_CHAINS,
	.peak_insn = PEAK_INSN,
};
