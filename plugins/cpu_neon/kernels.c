/*
 * kernels.c - the ternary matmul kernels every aarch64 CPU runs (Advanced
 * SIMD only), and the driver that prepares the activations and spreads the
 * work over threads. The layouts are trit/ternary.h's:
 *
 *   I2_S  rows of 2-bit codes; a block is decoded to trits with one table
 *         lookup per 16 columns and multiplied into int16 sums (vmlal_s8)
 *         that are widened into int32 every 8 blocks (vpadalq_s16).
 *         kernels_dotprod.c does the same with vdotq_s32.
 *   TL1   per token and column pair, a table of the 9 possible pair sums is
 *         built once (int16, split into a low-byte and a high-byte table);
 *         a 32-row tile then looks its 16 bytes of 4-bit indices up with
 *         vqtbl1q_u8 (low nibbles: rows 0-15, high nibbles: rows 16-31),
 *         zips the two bytes back into int16 and sums 32 pairs (64 columns)
 *         in int16 before widening to int32.
 *   TL2   the same over column triples with a 32-entry table: entries 0-15
 *         are the triple sums by magnitude, 16-31 their negations, and each
 *         row's sign bit selects the half (vqtbl2q_u8), 32 triples (96
 *         columns) summed in int16 at a time.
 *
 * Checking the arguments is backend.c's job; here every job is valid.
 */
#include <build-config.h>

#include <arm_neon.h>
#include <string.h>

#include <trit/ternary.h>

#include "neon.h"
#include "kernels_i2s.h"

#if defined(__AARCH64EB__)
#error "the cpu_neon kernels assume little-endian aarch64"
#endif

/* Blocks of 16 int16 products per lane summed before widening: 8 blocks of
 * at most 16 * 128 stay below 2^15. */
#define I2S_WIDEN_BLOCKS 8u
/* Tokens a TL tile serves per pass over its indices (stack: 2 KiB of dots). */
#define TL_TOKENS 16u
/* Column pairs or triples one LUT-building unit of work covers. */
#define LUT_CHUNK 512u

/* ------------------------------------------------------------------------ */
/* Workspace and output                                                      */

int cpu_neon_ws_layout(uint32_t type, uint64_t cols_pad, uint64_t tokens, int int_dots,
                       struct cpu_neon_ws_layout *l)
{
	uint64_t per = 0;

	memset(l, 0, sizeof *l);
	if (type == TRIT_TYPE_TL1)
		per = cols_pad / 2 * 32;
	else if (type == TRIT_TYPE_TL2)
		per = cols_pad / 3 * 64;
	if (tokens > UINT64_MAX / 4 || (cols_pad && tokens > UINT64_MAX / cols_pad) ||
	    (per && tokens > UINT64_MAX / per))
		return -1;
	l->s = 0;
	l->q = int_dots ? 0 : tokens * 4;
	if (tokens * cols_pad > UINT64_MAX - l->q)
		return -1;
	l->lut = l->q + tokens * cols_pad;
	if (tokens * per > UINT64_MAX - l->lut)
		return -1;
	l->total = l->lut + tokens * per;
	l->lut_per_token = per;
	return 0;
}

void cpu_neon_emit(const struct cpu_neon_job *job, uint64_t t, uint64_t r,
                   const int32_t *dots, unsigned n)
{
	if (r >= job->rows)
		return;
	if (n > job->rows - r)
		n = (unsigned)(job->rows - r);
	if (job->int_dots) {
		memcpy((int32_t *)job->out + t * job->rows + r, dots, n * sizeof *dots);
	} else {
		float *y = (float *)job->out + t * job->rows + r, s;
		memcpy(&s, job->ws + job->lay.s + t * 4, sizeof s);
		for (unsigned i = 0; i < n; i++)
			y[i] = trit_ternary_output(dots[i], s, job->scale);
	}
}

/* ------------------------------------------------------------------------ */
/* Activations                                                               */

/* Token t into the workspace: quantised (F32) or copied (I8), zero past
 * cols so that the kernels may read whole blocks. */
static void prep_token(const struct cpu_neon_job *job, uint64_t t)
{
	int8_t *q = (int8_t *)(job->ws + job->lay.q + t * job->cols_pad);

	if (job->int_dots || job->scales) {
		memcpy(q, (const int8_t *)job->in + t * job->cols, job->cols);
		if (job->scales)
			memcpy(job->ws + job->lay.s + t * 4, job->scales + t, 4);
	} else {
		float s = trit_quantize_act((const float *)job->in + t * job->cols, job->cols, q);
		memcpy(job->ws + job->lay.s + t * 4, &s, sizeof s);
	}
	memset(q + job->cols, 0, job->cols_pad - job->cols);
}

/* Store the int16 table entry v as its low byte at lo[i] and high byte at
 * hi[i]: the kernels zip the two lookups back into an int16. */
static inline void put16(uint8_t *lo, uint8_t *hi, unsigned i, int v)
{
	uint16_t u = (uint16_t)v;
	lo[i] = (uint8_t)(u & 0xff);
	hi[i] = (uint8_t)(u >> 8);
}

/* TL1 tables of pairs [p0, p1) of token t: 16 low bytes then 16 high bytes
 * per pair, entry i = (i / 3 - 1) * a0 + (i % 3 - 1) * a1 for i < 9, and 0
 * for the index values no valid tensor holds (as trit_ternary_get reads
 * them). */
static void lut_tl1(const struct cpu_neon_job *job, uint64_t t, uint64_t p0, uint64_t p1)
{
	const int8_t *q = cpu_neon_job_q(job, t);
	uint8_t *lut = job->ws + job->lay.lut + t * job->lay.lut_per_token;

	for (uint64_t p = p0; p < p1; p++) {
		uint8_t *lo = lut + 32 * p, *hi = lo + 16;
		int a0 = q[2 * p], a1 = q[2 * p + 1];
		memset(lo, 0, 32);
		for (unsigned i = 0; i < 9; i++)
			put16(lo, hi, i, ((int)(i / 3) - 1) * a0 + ((int)(i % 3) - 1) * a1);
	}
}

/* The balanced-ternary digits of the TL2 magnitudes 0..13, most
 * significant first: m = 9 * d[0] + 3 * d[1] + d[2]. */
static const int8_t tl2_digits[14][3] = {
	{ 0, 0, 0 },  { 0, 0, 1 },  { 0, 1, -1 }, { 0, 1, 0 },  { 0, 1, 1 },
	{ 1, -1, -1 }, { 1, -1, 0 }, { 1, -1, 1 }, { 1, 0, -1 }, { 1, 0, 0 },
	{ 1, 0, 1 },  { 1, 1, -1 }, { 1, 1, 0 },  { 1, 1, 1 },
};

/* TL2 tables of triples [g0, g1) of token t: 32 low bytes then 32 high
 * bytes per triple; entry m (< 14) is the triple with magnitude m, entry
 * 16 + m its negation, and 14, 15, 30, 31 are 0 (magnitudes no valid tensor
 * holds). */
static void lut_tl2(const struct cpu_neon_job *job, uint64_t t, uint64_t g0, uint64_t g1)
{
	const int8_t *q = cpu_neon_job_q(job, t);
	uint8_t *lut = job->ws + job->lay.lut + t * job->lay.lut_per_token;

	for (uint64_t g = g0; g < g1; g++) {
		uint8_t *lo = lut + 64 * g, *hi = lo + 32;
		int a0 = q[3 * g], a1 = q[3 * g + 1], a2 = q[3 * g + 2];
		memset(lo, 0, 64);
		for (unsigned m = 0; m < 14; m++) {
			int v = tl2_digits[m][0] * a0 + tl2_digits[m][1] * a1 + tl2_digits[m][2] * a2;
			put16(lo, hi, m, v);
			put16(lo, hi, 16 + m, -v);
		}
	}
}

/* ------------------------------------------------------------------------ */
/* I2_S, plain NEON                                                          */

static void i2s_neon(const struct cpu_neon_job *job, uint64_t r0, uint64_t r1)
{
	const uint64_t nblk = job->cols_pad / 128, row_bytes = job->cols_pad / 4;

	for (uint64_t r = r0; r < r1; r++) {
		const uint8_t *wr = job->w + r * row_bytes;
		for (uint64_t t0 = 0; t0 < job->tokens; t0 += CPU_NEON_I2S_TOKENS) {
			unsigned nt = job->tokens - t0 < CPU_NEON_I2S_TOKENS
			                      ? (unsigned)(job->tokens - t0)
			                      : CPU_NEON_I2S_TOKENS;
			int32x4_t acc[CPU_NEON_I2S_TOKENS];
			int16x8_t part[CPU_NEON_I2S_TOKENS];

			for (unsigned t = 0; t < nt; t++) {
				acc[t] = vdupq_n_s32(0);
				part[t] = vdupq_n_s16(0);
			}
			for (uint64_t b = 0; b < nblk; b++) {
				int8x16_t v[8];
				cpu_neon_i2s_decode(wr + 32 * b, v);
				for (unsigned t = 0; t < nt; t++) {
					const int8_t *q = cpu_neon_job_q(job, t0 + t) + 128 * b;
					int16x8_t s = part[t];
					for (unsigned i = 0; i < 8; i++) {
						int8x16_t x = vld1q_s8(q + 16 * i);
						s = vmlal_s8(s, vget_low_s8(v[i]), vget_low_s8(x));
						s = vmlal_high_s8(s, v[i], x);
					}
					part[t] = s;
				}
				if (b % I2S_WIDEN_BLOCKS == I2S_WIDEN_BLOCKS - 1 || b + 1 == nblk) {
					for (unsigned t = 0; t < nt; t++) {
						acc[t] = vpadalq_s16(acc[t], part[t]);
						part[t] = vdupq_n_s16(0);
					}
				}
			}
			for (unsigned t = 0; t < nt; t++) {
				int32_t d = vaddvq_s32(acc[t]);
				cpu_neon_emit(job, t0 + t, r, &d, 1);
			}
		}
	}
}

const struct cpu_neon_kernels cpu_neon_kernels_neon = {
	.name = "neon",
	.i2s_how = "Advanced SIMD: table-decoded trits, vmlal_s8 into int16, vpadalq_s16 "
	           "into int32",
	.i2s = i2s_neon,
};

const struct cpu_neon_kernels *cpu_neon_kernels_for(uint64_t caps)
{
	return (caps & TRIT_CAP_DOTPROD) ? &cpu_neon_kernels_dotprod : &cpu_neon_kernels_neon;
}

/* ------------------------------------------------------------------------ */
/* TL1 and TL2                                                               */

/* Add four int16x8 sums (rows 0-7, 8-15, 16-23, 24-31 of a tile) to the
 * tile's 32 int32 dots. */
static inline void widen_add(int32_t d[32], int16x8_t s0, int16x8_t s1, int16x8_t s2,
                             int16x8_t s3)
{
	vst1q_s32(d + 0, vaddw_s16(vld1q_s32(d + 0), vget_low_s16(s0)));
	vst1q_s32(d + 4, vaddw_high_s16(vld1q_s32(d + 4), s0));
	vst1q_s32(d + 8, vaddw_s16(vld1q_s32(d + 8), vget_low_s16(s1)));
	vst1q_s32(d + 12, vaddw_high_s16(vld1q_s32(d + 12), s1));
	vst1q_s32(d + 16, vaddw_s16(vld1q_s32(d + 16), vget_low_s16(s2)));
	vst1q_s32(d + 20, vaddw_high_s16(vld1q_s32(d + 20), s2));
	vst1q_s32(d + 24, vaddw_s16(vld1q_s32(d + 24), vget_low_s16(s3)));
	vst1q_s32(d + 28, vaddw_high_s16(vld1q_s32(d + 28), s3));
}

/* The int16 entries of rows 0-7 and 8-15 from the low and high bytes of 16
 * looked-up entries (little-endian: low byte first). */
#define ZIP_LO(l, h) vreinterpretq_s16_u8(vzip1q_u8((l), (h)))
#define ZIP_HI(l, h) vreinterpretq_s16_u8(vzip2q_u8((l), (h)))

static void tl1_tiles(const struct cpu_neon_job *job, uint64_t tile0, uint64_t tile1)
{
	const uint64_t tile_bytes = job->cols_pad * 8, groups = job->cols_pad / 64;
	const uint8x16_t nibble = vdupq_n_u8(0x0f);

	for (uint64_t tile = tile0; tile < tile1; tile++) {
		const uint8_t *wt = job->w + tile * tile_bytes;
		for (uint64_t t0 = 0; t0 < job->tokens; t0 += TL_TOKENS) {
			unsigned nt = job->tokens - t0 < TL_TOKENS ? (unsigned)(job->tokens - t0)
			                                           : TL_TOKENS;
			int32_t dots[TL_TOKENS][32];
			memset(dots, 0, sizeof dots);
			for (uint64_t g = 0; g < groups; g++) {
				uint8x16_t idx[32][2];
				for (unsigned i = 0; i < 32; i++) {
					uint8x16_t b = vld1q_u8(wt + 16 * (32 * g + i));
					idx[i][0] = vandq_u8(b, nibble);
					idx[i][1] = vshrq_n_u8(b, 4);
				}
				for (unsigned t = 0; t < nt; t++) {
					const uint8_t *lut = job->ws + job->lay.lut +
					                     (t0 + t) * job->lay.lut_per_token +
					                     32 * (32 * g);
					int16x8_t s0 = vdupq_n_s16(0), s1 = s0, s2 = s0, s3 = s0;
					for (unsigned i = 0; i < 32; i++) {
						uint8x16_t tl = vld1q_u8(lut + 32 * i);
						uint8x16_t th = vld1q_u8(lut + 32 * i + 16);
						uint8x16_t l0 = vqtbl1q_u8(tl, idx[i][0]);
						uint8x16_t h0 = vqtbl1q_u8(th, idx[i][0]);
						uint8x16_t l1 = vqtbl1q_u8(tl, idx[i][1]);
						uint8x16_t h1 = vqtbl1q_u8(th, idx[i][1]);
						s0 = vaddq_s16(s0, ZIP_LO(l0, h0));
						s1 = vaddq_s16(s1, ZIP_HI(l0, h0));
						s2 = vaddq_s16(s2, ZIP_LO(l1, h1));
						s3 = vaddq_s16(s3, ZIP_HI(l1, h1));
					}
					widen_add(dots[t], s0, s1, s2, s3);
				}
			}
			for (unsigned t = 0; t < nt; t++)
				cpu_neon_emit(job, t0 + t, 32 * tile, dots[t], 32);
		}
	}
}

static void tl2_tiles(const struct cpu_neon_job *job, uint64_t tile0, uint64_t tile1)
{
	const uint64_t groups = job->cols_pad / 96;
	const uint64_t tile_bytes = groups * TRIT_TL2_GROUP_BYTES;
	static const uint8_t spread_lo[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1 };
	static const uint8_t spread_hi[16] = { 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3 };
	static const uint8_t bit[16] = { 1, 2, 4, 8, 16, 32, 64, 128,
	                                 1, 2, 4, 8, 16, 32, 64, 128 };
	const uint8x16_t nibble = vdupq_n_u8(0x0f), neg = vdupq_n_u8(0x10);
	const uint8x16_t sp_lo = vld1q_u8(spread_lo), sp_hi = vld1q_u8(spread_hi);
	const uint8x16_t bits = vld1q_u8(bit);

	for (uint64_t tile = tile0; tile < tile1; tile++) {
		const uint8_t *wt = job->w + tile * tile_bytes;
		for (uint64_t t0 = 0; t0 < job->tokens; t0 += TL_TOKENS) {
			unsigned nt = job->tokens - t0 < TL_TOKENS ? (unsigned)(job->tokens - t0)
			                                           : TL_TOKENS;
			int32_t dots[TL_TOKENS][32];
			memset(dots, 0, sizeof dots);
			for (uint64_t g = 0; g < groups; g++) {
				const uint8_t *gp = wt + g * TRIT_TL2_GROUP_BYTES;
				uint8x16_t idx[32][2];
				/* 5-bit indices: the magnitude, plus 16 where the
				 * row's sign bit is set. */
				for (unsigned i = 0; i < 32; i++) {
					uint32_t sw;
					uint8x16_t b = vld1q_u8(gp + 16 * i), s;
					memcpy(&sw, gp + 512 + 4 * i, sizeof sw);
					s = vreinterpretq_u8_u32(vdupq_n_u32(sw));
					idx[i][0] = vorrq_u8(vandq_u8(b, nibble),
					                     vandq_u8(vtstq_u8(vqtbl1q_u8(s, sp_lo), bits),
					                              neg));
					idx[i][1] = vorrq_u8(vshrq_n_u8(b, 4),
					                     vandq_u8(vtstq_u8(vqtbl1q_u8(s, sp_hi), bits),
					                              neg));
				}
				for (unsigned t = 0; t < nt; t++) {
					const uint8_t *lut = job->ws + job->lay.lut +
					                     (t0 + t) * job->lay.lut_per_token +
					                     64 * (32 * g);
					int16x8_t s0 = vdupq_n_s16(0), s1 = s0, s2 = s0, s3 = s0;
					for (unsigned i = 0; i < 32; i++) {
						uint8x16x2_t tl = { { vld1q_u8(lut + 64 * i),
						                      vld1q_u8(lut + 64 * i + 16) } };
						uint8x16x2_t th = { { vld1q_u8(lut + 64 * i + 32),
						                      vld1q_u8(lut + 64 * i + 48) } };
						uint8x16_t l0 = vqtbl2q_u8(tl, idx[i][0]);
						uint8x16_t h0 = vqtbl2q_u8(th, idx[i][0]);
						uint8x16_t l1 = vqtbl2q_u8(tl, idx[i][1]);
						uint8x16_t h1 = vqtbl2q_u8(th, idx[i][1]);
						s0 = vaddq_s16(s0, ZIP_LO(l0, h0));
						s1 = vaddq_s16(s1, ZIP_HI(l0, h0));
						s2 = vaddq_s16(s2, ZIP_LO(l1, h1));
						s3 = vaddq_s16(s3, ZIP_HI(l1, h1));
					}
					widen_add(dots[t], s0, s1, s2, s3);
				}
			}
			for (unsigned t = 0; t < nt; t++)
				cpu_neon_emit(job, t0 + t, 32 * tile, dots[t], 32);
		}
	}
}

/* ------------------------------------------------------------------------ */
/* The driver                                                                */

enum phase { PREP, LUT, KERNEL };

struct run {
	const struct cpu_neon_job *job;
	enum phase phase;
	uint64_t units;          /* work items of this phase */
	uint64_t lut_chunks;     /* LUT: chunks per token */
};

static void run_share(void *arg, unsigned i, unsigned n)
{
	const struct run *run = arg;
	const struct cpu_neon_job *job = run->job;
	uint64_t u0 = run->units * i / n, u1 = run->units * (i + 1) / n;

	switch (run->phase) {
	case PREP:
		for (uint64_t t = u0; t < u1; t++)
			prep_token(job, t);
		break;
	case LUT:
		for (uint64_t u = u0; u < u1; u++) {
			uint64_t t = u / run->lut_chunks, c = u % run->lut_chunks;
			uint64_t n_items = job->type == TRIT_TYPE_TL1 ? job->cols_pad / 2
			                                              : job->cols_pad / 3;
			uint64_t e0 = c * LUT_CHUNK;
			uint64_t e1 = e0 + LUT_CHUNK < n_items ? e0 + LUT_CHUNK : n_items;
			if (job->type == TRIT_TYPE_TL1)
				lut_tl1(job, t, e0, e1);
			else
				lut_tl2(job, t, e0, e1);
		}
		break;
	case KERNEL:
		if (u0 == u1)
			break;
		if (job->type == TRIT_TYPE_I2_S)
			job->k->i2s(job, u0, u1);
		else if (job->type == TRIT_TYPE_TL1)
			tl1_tiles(job, u0, u1);
		else
			tl2_tiles(job, u0, u1);
		break;
	}
}

static unsigned run_phase(struct run *run, struct cpu_common_team *team, unsigned n_threads)
{
	unsigned n = run->units < n_threads ? (unsigned)run->units : n_threads;
	if (n == 0)
		return 0;
	if (!team || n == 1) {
		run_share(run, 0, 1);
		return 1;
	}
	return cpu_common_team_run(team, n, run_share, run);
}

unsigned cpu_neon_run(const struct cpu_neon_job *job, struct cpu_common_team *team,
                      unsigned n_threads)
{
	struct run run = { job, PREP, job->tokens, 0 };
	unsigned used, most;

	if (n_threads == 0)
		n_threads = 1;
	most = run_phase(&run, team, n_threads);
	if (job->type != TRIT_TYPE_I2_S) {
		uint64_t n_items = job->type == TRIT_TYPE_TL1 ? job->cols_pad / 2
		                                              : job->cols_pad / 3;
		run.phase = LUT;
		run.lut_chunks = (n_items + LUT_CHUNK - 1) / LUT_CHUNK;
		run.units = job->tokens * run.lut_chunks;
		used = run_phase(&run, team, n_threads);
		most = used > most ? used : most;
	}
	run.phase = KERNEL;
	run.units = job->type == TRIT_TYPE_I2_S ? job->rows : job->rows_pad / TRIT_TL_TILE_ROWS;
	used = run_phase(&run, team, n_threads);
	return used > most ? used : most;
}
