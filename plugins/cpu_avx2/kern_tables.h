/*
 * kern_tables.h - building the TL1/TL2 lookup tables of one token with AVX2
 * instructions, for kern_avx2.c and kern_avx512.c (each includes it and
 * compiles it under its own -m flags; every AVX-512 CPU has AVX2). The layout
 * is kernels.h's: 32 bytes per pair or triple, `group` entries stored
 * together as [lo bytes of each][hi bytes of each].
 */
#ifndef CPU_AVX2_KERN_TABLES_H
#define CPU_AVX2_KERN_TABLES_H

#include <immintrin.h>

#include "kernels.h"

#define KT_INLINE static inline __attribute__((always_inline))

/* A 16-entry int16 table (lane 0: entries 0-7, lane 1: 8-15) stored as its
 * low bytes at lo and its high bytes at hi. */
KT_INLINE void kt_store_split(__m256i t, uint8_t *lo, uint8_t *hi)
{
	const __m256i split = _mm256_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13,
	                                       15, 0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11,
	                                       13, 15);
	/* per lane: [lo 8][hi 8]; then qwords 0,2,1,3: [lo 0-7][lo 8-15][hi 0-7][hi 8-15] */
	t = _mm256_permute4x64_epi64(_mm256_shuffle_epi8(t, split), 0xd8);
	_mm_storeu_si128((__m128i *)lo, _mm256_castsi256_si128(t));
	_mm_storeu_si128((__m128i *)hi, _mm256_extracti128_si256(t, 1));
}

/* Where entry e's low-byte table goes for a layout of `group` entries. */
KT_INLINE uint8_t *kt_lo(uint8_t *tab, uint64_t e, unsigned group)
{
	return tab + (e / group) * (group * CPU_AVX2_TABLE_ENTRY_BYTES) + (e % group) * 16;
}

/* TL1: L[i] = (i / 3 - 1) * a0 + (i % 3 - 1) * a1 for i < 9, else 0. */
KT_INLINE void kt_tl1_tables(const int8_t *q, uint64_t cols_pad, uint8_t *tab, unsigned group)
{
	const __m256i u = _mm256_setr_epi16(-1, -1, -1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0);
	const __m256i v = _mm256_setr_epi16(-1, 0, 1, -1, 0, 1, -1, 0, 1, 0, 0, 0, 0, 0, 0, 0);

	for (uint64_t p = 0; p < cols_pad / 2; p++) {
		__m256i a0 = _mm256_set1_epi16(q[2 * p]), a1 = _mm256_set1_epi16(q[2 * p + 1]);
		__m256i t = _mm256_add_epi16(_mm256_mullo_epi16(a0, u), _mm256_mullo_epi16(a1, v));
		uint8_t *lo = kt_lo(tab, p, group);
		kt_store_split(t, lo, lo + group * 16);
	}
}

/* TL2: L[m] = d0 * a0 + d1 * a1 + d2 * a2 where m = 9 d0 + 3 d1 + d2 in
 * balanced ternary, m = 0..13; entries 14 and 15 are 0. */
KT_INLINE void kt_tl2_tables(const int8_t *q, uint64_t cols_pad, uint8_t *tab, unsigned group)
{
	/* digits of 0..13: 0=(0,0,0) 1=(0,0,1) 2=(0,1,-1) 3=(0,1,0) 4=(0,1,1)
	 * 5=(1,-1,-1) 6=(1,-1,0) 7=(1,-1,1) 8=(1,0,-1) 9=(1,0,0) 10=(1,0,1)
	 * 11=(1,1,-1) 12=(1,1,0) 13=(1,1,1) */
	const __m256i d0 = _mm256_setr_epi16(0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0);
	const __m256i d1 = _mm256_setr_epi16(0, 0, 1, 1, 1, -1, -1, -1, 0, 0, 0, 1, 1, 1, 0, 0);
	const __m256i d2 = _mm256_setr_epi16(0, 1, -1, 0, 1, -1, 0, 1, -1, 0, 1, -1, 0, 1, 0, 0);

	for (uint64_t g = 0; g < cols_pad / 3; g++) {
		__m256i t = _mm256_add_epi16(
		        _mm256_add_epi16(_mm256_mullo_epi16(_mm256_set1_epi16(q[3 * g]), d0),
		                         _mm256_mullo_epi16(_mm256_set1_epi16(q[3 * g + 1]), d1)),
		        _mm256_mullo_epi16(_mm256_set1_epi16(q[3 * g + 2]), d2));
		uint8_t *lo = kt_lo(tab, g, group);
		kt_store_split(t, lo, lo + group * 16);
	}
}

#endif /* CPU_AVX2_KERN_TABLES_H */
