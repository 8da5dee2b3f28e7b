/*
 * ternary.c - packing weights into trit's ternary layouts and the scalar
 * reference kernels (the oracle every backend's kernels are tested against).
 *
 * A pack runs in two steps: a source decoder turns one row of the source
 * (floats, TQ2_0 blocks, bitnet.cpp I2_S codes, or a trit layout) into trits
 * in {-1, 0, +1} plus the tensor's one scale, and an encoder writes a tile of
 * such rows (one row for I2_S, 32 for TL1/TL2) into the destination layout.
 * Only a tile of trits is held at a time, so packing the 128256 x 2560 output
 * matrix needs 82 KiB of scratch, not a copy of the tensor.
 *
 * Written for clarity: trit_ternary_get() one weight at a time. Speed is the
 * plugins' business.
 */
#include <build-config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "formats/ternary.h"

/* ------------------------------------------------------------------------ */
/* Half-precision conversions (exact; no rounding involved in widening).      */

static float f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 31, man = h & 1023, bits;
	float f;

	if (exp == 0) {
		/* zero or subnormal: man * 2^-24 */
		f = ldexpf((float)man, -24);
		return sign ? -f : f;
	}
	if (exp == 31)
		bits = sign | 0x7f800000u | (man << 13);
	else
		bits = sign | ((exp + 112) << 23) | (man << 13);
	memcpy(&f, &bits, sizeof f);
	return f;
}

static float bf16_to_f32(uint16_t h)
{
	uint32_t bits = (uint32_t)h << 16;
	float f;
	memcpy(&f, &bits, sizeof f);
	return f;
}

static uint16_t rd16(const unsigned char *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

/* ------------------------------------------------------------------------ */
/* Sources: a row of trits at a time.                                        */

struct source {
	uint32_t type;
	const unsigned char *data;
	uint64_t rows, cols;
	float scale;                       /* the tensor's one scale */
	int exact;                         /* floats: already ternary x scale */
	struct trit_ternary_geometry geo;  /* trit-layout sources */
};

static float float_at(const struct source *s, uint64_t i)
{
	switch (s->type) {
	case TRIT_TYPE_F32: {
		float f;
		memcpy(&f, s->data + 4 * i, sizeof f);
		return f;
	}
	case TRIT_TYPE_F16:
		return f16_to_f32(rd16(s->data + 2 * i));
	default:
		return bf16_to_f32(rd16(s->data + 2 * i));
	}
}

/*
 * Floats: one pass decides the scale. If every non-zero |w| is the same value
 * the tensor is ternary already (a BitNet checkpoint stored as floats) and
 * that value is the scale, exactly; otherwise BitNet b1.58's absmean.
 */
static int float_scan(struct source *s, char *err, size_t errlen)
{
	uint64_t n = s->rows * s->cols, i;
	double sum = 0.0;
	float mag = 0.0f;

	s->exact = 1;
	for (i = 0; i < n; i++) {
		float w = float_at(s, i), a = fabsf(w);
		if (!isfinite(w))
			return trit_errf(err, errlen, TRIT_EFORMAT,
			                 "weight (%llu, %llu) is %s; a ternary tensor needs finite weights",
			                 (unsigned long long)(i / s->cols), (unsigned long long)(i % s->cols),
			                 isnan(w) ? "NaN" : "infinite");
		sum += a;
		if (a != 0.0f) {
			if (mag == 0.0f)
				mag = a;
			else if (a != mag)
				s->exact = 0;
		}
	}
	s->scale = s->exact ? mag : (float)(sum / (double)n);
	return 0;
}

static int float_trit(const struct source *s, float w)
{
	float v;

	if (s->scale == 0.0f || w == 0.0f)
		return 0;
	if (s->exact)
		return w > 0.0f ? 1 : -1;
	v = rintf(w / s->scale);
	return v > 1.0f ? 1 : v < -1.0f ? -1 : (int)v;
}

/* TQ2_0: 256-weight blocks of qs[64] then an fp16 d; element e of a block is
 * in byte (e / 128) * 32 + e % 32 at bit 2 * ((e % 128) / 32). */
static int tq2_scan(struct source *s, char *err, size_t errlen)
{
	uint64_t nblk = s->rows * s->cols / 256, b;
	uint16_t d0 = 0;

	for (b = 0; b < nblk; b++) {
		uint16_t d = rd16(s->data + b * 66 + 64);
		float f = f16_to_f32(d);
		if (!isfinite(f) || f < 0.0f)
			return trit_errf(err, errlen, TRIT_EFORMAT,
			                 "TQ2_0 block %llu (byte offset %llu): scale d is %g; expected a finite, non-negative value",
			                 (unsigned long long)b, (unsigned long long)(b * 66 + 64), (double)f);
		if (f == 0.0f)
			continue;
		if (!d0)
			d0 = d;
		else if (d != d0)
			return trit_errf(err, errlen, TRIT_EFORMAT,
			                 "TQ2_0 block %llu (byte offset %llu) has scale %g but earlier blocks have %g; "
			                 "I2_S, TL1 and TL2 carry one scale per tensor, so only TQ2_0 tensors with one "
			                 "non-zero block scale can be repacked",
			                 (unsigned long long)b, (unsigned long long)(b * 66 + 64),
			                 (double)f, (double)f16_to_f32(d0));
	}
	s->scale = d0 ? f16_to_f32(d0) : 0.0f;
	return 0;
}

/* The 2-bit code of weight (r, k) of a TQ2_0, flat bitnet.cpp I2_S or trit
 * I2_S source, and the byte it is in. */
static int code_at(const struct source *s, uint64_t r, uint64_t k, uint64_t *off)
{
	uint64_t i = r * s->cols + k, pos;

	switch (s->type) {
	case TRIT_TYPE_TQ2_0:
		pos = i % 256;
		*off = i / 256 * 66 + (pos / 128) * 32 + pos % 32;
		return (s->data[*off] >> (2 * ((pos % 128) / 32))) & 3;
	case TRIT_TERNARY_SRC_I2S_BITNET:
		pos = i % 128; /* flattened over the whole tensor */
		*off = i / 128 * 32 + pos % 32;
		return (s->data[*off] >> (6 - 2 * (pos / 32))) & 3;
	default: /* trit's I2_S: rows padded to 128 columns */
		pos = k % 128;
		*off = r * (s->geo.cols_pad / 4) + k / 128 * 32 + pos % 32;
		return (s->data[*off] >> (6 - 2 * (pos / 32))) & 3;
	}
}

/* Where a source's rows are whole 128-weight I2_S blocks, row r starting at
 * byte r * *stride: trit's I2_S, and bitnet.cpp's when cols % 128 == 0. */
static int i2s_rows(const struct source *s, uint64_t *stride)
{
	if (s->type == TRIT_TYPE_I2_S)
		*stride = s->geo.cols_pad / 4;
	else if (s->type == TRIT_TERNARY_SRC_I2S_BITNET && s->cols % 128 == 0)
		*stride = s->cols / 4;
	else
		return 0;
	return 1;
}

/* 1 when some 2-bit field of the n bytes at p is 3. */
static int any_code3(const unsigned char *p, uint64_t n)
{
	unsigned char acc = 0;
	for (uint64_t i = 0; i < n; i++)
		acc |= (unsigned char)(p[i] & (p[i] >> 1) & 0x55);
	return acc != 0;
}

static int codes_scan(struct source *s, char *err, size_t errlen)
{
	uint64_t off, stride;

	/* whole-block rows: a byte-wise pass, and the exact position only
	 * when it found a code 3 */
	if (i2s_rows(s, &stride) && !any_code3(s->data, s->rows * stride))
		return 0;
	for (uint64_t r = 0; r < s->rows; r++)
		for (uint64_t k = 0; k < s->cols; k++)
			if (code_at(s, r, k, &off) == 3)
				return trit_errf(err, errlen, TRIT_EFORMAT,
				                 "%s weight (%llu, %llu) has code 3 at byte offset %llu; valid codes are "
				                 "0, 1 and 2 (-1, 0, +1)",
				                 s->type == TRIT_TYPE_TQ2_0 ? "TQ2_0" : "I2_S",
				                 (unsigned long long)r, (unsigned long long)k, (unsigned long long)off);
	return 0;
}

static int source_trit(const struct source *s, uint64_t r, uint64_t k)
{
	uint64_t off;

	switch (s->type) {
	case TRIT_TYPE_F32:
	case TRIT_TYPE_F16:
	case TRIT_TYPE_BF16:
		return float_trit(s, float_at(s, r * s->cols + k));
	case TRIT_TYPE_TQ2_0:
	case TRIT_TYPE_I2_S:
	case TRIT_TERNARY_SRC_I2S_BITNET:
		return code_at(s, r, k, &off) - 1; /* code 3 was refused by the scan */
	default:
		return trit_ternary_get(s->type, &s->geo, s->data, r, k);
	}
}

/* Row r's trits into out[0..cols): whole I2_S blocks decoded 32 bytes at a
 * time, any other source a weight at a time. */
static void source_row(const struct source *s, uint64_t r, int8_t *out)
{
	uint64_t stride;

	if (!i2s_rows(s, &stride)) {
		for (uint64_t k = 0; k < s->cols; k++)
			out[k] = (int8_t)source_trit(s, r, k);
		return;
	}
	for (uint64_t j = 0; j * 128 < s->cols; j++) {
		const unsigned char *b = s->data + r * stride + 32 * j;
		int8_t *o = out + 128 * j;
		uint64_t n = s->cols - 128 * j < 128 ? s->cols - 128 * j : 128;
		for (int i = 0; i < 32; i++)
			for (int q = 0; q < 4; q++)
				if ((uint64_t)(32 * q + i) < n)
					o[32 * q + i] = (int8_t)(((b[i] >> (6 - 2 * q)) & 3) - 1);
	}
}

uint64_t trit_ternary_src_bytes(uint32_t src_type, uint64_t rows, uint64_t cols)
{
	uint64_t n;

	if (rows == 0 || cols == 0 || rows > (UINT64_C(1) << 40) || cols > (UINT64_C(1) << 40) ||
	    cols > UINT64_MAX / 4 / rows)
		return 0;
	n = rows * cols;
	switch (src_type) {
	case TRIT_TYPE_F32:  return n * 4;
	case TRIT_TYPE_F16:
	case TRIT_TYPE_BF16: return n * 2;
	case TRIT_TYPE_TQ2_0: return cols % 256 ? 0 : n / 256 * 66;
	case TRIT_TERNARY_SRC_I2S_BITNET: return n % 128 ? 0 : n / 4 + TRIT_TERNARY_TRAILER_BYTES;
	case TRIT_TYPE_I2_S:
	case TRIT_TYPE_TL1:
	case TRIT_TYPE_TL2:  return trit_ternary_bytes(src_type, rows, cols);
	default:             return 0;
	}
}

static int source_open(struct source *s, uint32_t type, const void *data, uint64_t bytes,
                       uint64_t rows, uint64_t cols, char *err, size_t errlen)
{
	const struct trit_type_traits *tt =
		trit_type_traits(type == TRIT_TERNARY_SRC_I2S_BITNET ? TRIT_TYPE_I2_S : type);
	uint64_t need = trit_ternary_src_bytes(type, rows, cols);

	memset(s, 0, sizeof *s);
	s->type = type;
	s->data = data;
	s->rows = rows;
	s->cols = cols;
	if (!need) {
		if (type == TRIT_TYPE_TQ2_0 && cols % 256)
			return trit_errf(err, errlen, TRIT_EFORMAT,
			                 "a TQ2_0 row must be a whole number of 256-weight blocks; %llu columns is not",
			                 (unsigned long long)cols);
		if (type == TRIT_TERNARY_SRC_I2S_BITNET && rows && cols && (rows * cols) % 128)
			return trit_errf(err, errlen, TRIT_EFORMAT,
			                 "a bitnet.cpp I2_S tensor holds whole 128-weight blocks; %llu x %llu is not",
			                 (unsigned long long)rows, (unsigned long long)cols);
		if (rows == 0 || cols == 0)
			return trit_errf(err, errlen, TRIT_EINVAL, "empty weight matrix (%llu x %llu)",
			                 (unsigned long long)rows, (unsigned long long)cols);
		return trit_errf(err, errlen, TRIT_EUNSUPPORTED,
		                 "cannot make ternary weights from %s (sources: F32, F16, BF16, TQ2_0, I2_S "
		                 "(trit's or bitnet.cpp's), TL1, TL2)",
		                 tt ? tt->name : "an unknown type");
	}
	if (bytes < need)
		return trit_errf(err, errlen, TRIT_EFORMAT,
		                 "%s %llu x %llu needs %llu bytes, the source has %llu",
		                 tt->name, (unsigned long long)rows, (unsigned long long)cols,
		                 (unsigned long long)need, (unsigned long long)bytes);
	switch (type) {
	case TRIT_TYPE_F32:
	case TRIT_TYPE_F16:
	case TRIT_TYPE_BF16:
		return float_scan(s, err, errlen);
	case TRIT_TYPE_TQ2_0: {
		int rc = codes_scan(s, err, errlen);
		return rc ? rc : tq2_scan(s, err, errlen);
	}
	case TRIT_TERNARY_SRC_I2S_BITNET:
		memcpy(&s->scale, s->data + rows * cols / 4, sizeof s->scale);
		break;
	default:
		trit_ternary_geometry(type, rows, cols, &s->geo);
		s->scale = trit_ternary_scale(data, s->geo.data_bytes);
		break;
	}
	if (!isfinite(s->scale))
		return trit_errf(err, errlen, TRIT_EFORMAT,
		                 "%s scale (the float after the weights) is not finite", tt->name);
	return (type == TRIT_TYPE_I2_S || type == TRIT_TERNARY_SRC_I2S_BITNET) ? codes_scan(s, err, errlen) : 0;
}

/* ------------------------------------------------------------------------ */
/* Encoders: one tile of trits (t[row][cols_pad], zero-padded) at a time.    */

static void encode_i2s_row(const int8_t *t, uint64_t cols_pad, unsigned char *out)
{
	for (uint64_t j = 0; j < cols_pad / 128; j++)
		for (int b = 0; b < 32; b++) {
			const int8_t *w = t + 128 * j + b;
			out[32 * j + b] = (unsigned char)(((w[0] + 1) << 6) | ((w[32] + 1) << 4) |
			                                  ((w[64] + 1) << 2) | (w[96] + 1));
		}
}

static void encode_tl1_tile(const int8_t *t, uint64_t cols_pad, unsigned char *out)
{
	for (uint64_t p = 0; p < cols_pad / 2; p++)
		for (int j = 0; j < 16; j++) {
			const int8_t *lo = t + (uint64_t)j * cols_pad + 2 * p;
			const int8_t *hi = t + (uint64_t)(j + 16) * cols_pad + 2 * p;
			int il = 3 * (lo[0] + 1) + (lo[1] + 1), ih = 3 * (hi[0] + 1) + (hi[1] + 1);
			out[16 * p + j] = (unsigned char)(il | (ih << 4));
		}
}

static void encode_tl2_tile(const int8_t *t, uint64_t cols_pad, unsigned char *out)
{
	for (uint64_t grp = 0; grp < cols_pad / 96; grp++) {
		unsigned char *gp = out + grp * TRIT_TL2_GROUP_BYTES;
		memset(gp, 0, TRIT_TL2_GROUP_BYTES);
		for (int i = 0; i < 32; i++) {
			uint64_t k = 96 * grp + 3 * (uint64_t)i;
			uint32_t signs = 0;
			for (int j = 0; j < 32; j++) {
				const int8_t *w = t + (uint64_t)j * cols_pad + k;
				int v = 9 * w[0] + 3 * w[1] + w[2], mag = v < 0 ? -v : v;
				gp[16 * i + j % 16] |= (unsigned char)(j < 16 ? mag : mag << 4);
				if (v < 0)
					signs |= UINT32_C(1) << j;
			}
			for (int b = 0; b < 4; b++)
				gp[512 + 4 * i + b] = (unsigned char)(signs >> (8 * b));
		}
	}
}

/* ------------------------------------------------------------------------ */
/* Packing, whole or a bounded run of row tiles at a time.                   */

struct trit_ternary_packer {
	uint32_t dst_type;
	struct trit_ternary_geometry g;
	struct source s;
	uint64_t tile_rows, tile_bytes;
	int8_t *tile;                      /* tile_rows x cols_pad trits */
};

int trit_ternary_packer_open(struct trit_ternary_packer **out, uint32_t dst_type,
                             uint32_t src_type, const void *src, uint64_t src_bytes,
                             uint64_t rows, uint64_t cols, char *err, size_t errlen)
{
	const struct trit_type_traits *tt = trit_type_traits(dst_type);
	struct trit_ternary_packer *p;
	int rc;

	*out = NULL;
	if (!(p = calloc(1, sizeof *p)))
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory for a ternary packer");
	p->dst_type = dst_type;
	if (trit_ternary_geometry(dst_type, rows, cols, &p->g)) {
		free(p);
		return trit_errf(err, errlen, TRIT_EINVAL,
		                 "cannot pack %llu x %llu weights as %s (I2_S, TL1 or TL2 only)",
		                 (unsigned long long)rows, (unsigned long long)cols,
		                 tt ? tt->name : "an unknown type");
	}
	if ((rc = source_open(&p->s, src_type, src, src_bytes, rows, cols, err, errlen))) {
		free(p);
		return rc;
	}
	p->tile_rows = dst_type == TRIT_TYPE_I2_S ? 1 : TRIT_TL_TILE_ROWS;
	p->tile_bytes = p->g.data_bytes / (p->g.rows_pad / p->tile_rows);
	if (!(p->tile = malloc((size_t)(p->tile_rows * p->g.cols_pad)))) {
		uint64_t n = p->tile_rows * p->g.cols_pad;
		free(p);
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory for a %llu-byte packing tile",
		                 (unsigned long long)n);
	}
	*out = p;
	return 0;
}

void trit_ternary_packer_free(struct trit_ternary_packer *p)
{
	if (p)
		free(p->tile);
	free(p);
}

const struct trit_ternary_geometry *
trit_ternary_packer_geometry(const struct trit_ternary_packer *p)
{
	return &p->g;
}

uint64_t trit_ternary_packer_tile_rows(const struct trit_ternary_packer *p)
{
	return p->tile_rows;
}

uint64_t trit_ternary_packer_tile_bytes(const struct trit_ternary_packer *p)
{
	return p->tile_bytes;
}

int trit_ternary_packer_rows(struct trit_ternary_packer *p, uint64_t r0, uint64_t r1,
                             void *dst, uint64_t dst_bytes, char *err, size_t errlen)
{
	unsigned char *o = dst;

	if (r1 > p->g.rows_pad)
		r1 = p->g.rows_pad;
	if (r0 % p->tile_rows || (r1 % p->tile_rows && r1 != p->g.rows_pad) || r0 > r1)
		return trit_errf(err, errlen, TRIT_EINVAL,
		                 "rows %llu..%llu do not start and end on %llu-row tiles",
		                 (unsigned long long)r0, (unsigned long long)r1,
		                 (unsigned long long)p->tile_rows);
	if (dst_bytes < (r1 - r0) / p->tile_rows * p->tile_bytes)
		return trit_errf(err, errlen, TRIT_ERANGE,
		                 "rows %llu..%llu need %llu bytes, the destination has %llu",
		                 (unsigned long long)r0, (unsigned long long)r1,
		                 (unsigned long long)((r1 - r0) / p->tile_rows * p->tile_bytes),
		                 (unsigned long long)dst_bytes);
	for (uint64_t t0 = r0; t0 < r1; t0 += p->tile_rows, o += p->tile_bytes) {
		memset(p->tile, 0, (size_t)(p->tile_rows * p->g.cols_pad));
		for (uint64_t j = 0; j < p->tile_rows && t0 + j < p->s.rows; j++)
			source_row(&p->s, t0 + j, p->tile + j * p->g.cols_pad);
		if (p->dst_type == TRIT_TYPE_I2_S)
			encode_i2s_row(p->tile, p->g.cols_pad, o);
		else if (p->dst_type == TRIT_TYPE_TL1)
			encode_tl1_tile(p->tile, p->g.cols_pad, o);
		else
			encode_tl2_tile(p->tile, p->g.cols_pad, o);
	}
	return 0;
}

void trit_ternary_packer_trailer(const struct trit_ternary_packer *p,
                                 unsigned char out[TRIT_TERNARY_TRAILER_BYTES])
{
	memset(out, 0, TRIT_TERNARY_TRAILER_BYTES);
	memcpy(out, &p->s.scale, sizeof p->s.scale);
}

int trit_ternary_pack(uint32_t dst_type, void *dst, uint64_t dst_bytes,
                      uint32_t src_type, const void *src, uint64_t src_bytes,
                      uint64_t rows, uint64_t cols, char *err, size_t errlen)
{
	struct trit_ternary_geometry g;
	struct trit_ternary_packer *p;
	unsigned char *out = dst;
	int rc;

	if (trit_ternary_geometry(dst_type, rows, cols, &g))
		return trit_errf(err, errlen, TRIT_EINVAL,
		                 "cannot pack %llu x %llu weights as %s (I2_S, TL1 or TL2 only)",
		                 (unsigned long long)rows, (unsigned long long)cols,
		                 trit_type_traits(dst_type) ? trit_type_traits(dst_type)->name : "an unknown type");
	if (dst_bytes < g.total_bytes)
		return trit_errf(err, errlen, TRIT_ERANGE,
		                 "%s %llu x %llu needs %llu bytes, the destination has %llu",
		                 trit_type_traits(dst_type)->name, (unsigned long long)rows,
		                 (unsigned long long)cols, (unsigned long long)g.total_bytes,
		                 (unsigned long long)dst_bytes);
	if ((rc = trit_ternary_packer_open(&p, dst_type, src_type, src, src_bytes, rows, cols,
	                                   err, errlen)))
		return rc;
	rc = trit_ternary_packer_rows(p, 0, g.rows_pad, out, g.data_bytes, err, errlen);
	if (!rc)
		trit_ternary_packer_trailer(p, out + g.data_bytes);
	trit_ternary_packer_free(p);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Unpacking and the reference kernels.                                      */

int trit_ternary_unpack_f32(uint32_t type, const void *w, uint64_t rows, uint64_t cols,
                            float *out, char *err, size_t errlen)
{
	struct trit_ternary_geometry g;
	float scale;

	if (trit_ternary_geometry(type, rows, cols, &g))
		return trit_errf(err, errlen, TRIT_EINVAL, "not a ternary type or shape");
	scale = trit_ternary_scale(w, g.data_bytes);
	for (uint64_t r = 0; r < rows; r++)
		for (uint64_t k = 0; k < cols; k++)
			out[r * cols + k] = (float)trit_ternary_get(type, &g, w, r, k) * scale;
	return 0;
}

void trit_ref_matmul_int(uint32_t type, const void *w, uint64_t rows, uint64_t cols,
                         const int8_t *q, uint64_t tokens, int32_t *dots)
{
	struct trit_ternary_geometry g;

	if (trit_ternary_geometry(type, rows, cols, &g))
		return;
	for (uint64_t r = 0; r < rows; r++)
		for (uint64_t t = 0; t < tokens; t++) {
			int32_t acc = 0;
			for (uint64_t k = 0; k < cols; k++)
				acc += trit_ternary_get(type, &g, w, r, k) * q[t * cols + k];
			dots[t * rows + r] = acc;
		}
}

int trit_ref_matmul_f32(uint32_t type, const void *w, uint64_t rows, uint64_t cols,
                        const float *x, uint64_t tokens, float *y, int8_t *q_scratch)
{
	struct trit_ternary_geometry g;
	int8_t *q = q_scratch;
	int32_t *dots;
	float *s;

	if (trit_ternary_geometry(type, rows, cols, &g))
		return TRIT_EINVAL;
	if (!q && !(q = malloc((size_t)(tokens * cols))))
		return TRIT_ENOMEM;
	dots = malloc((size_t)(tokens * rows) * sizeof *dots);
	s = malloc((size_t)tokens * sizeof *s);
	if (!dots || !s) {
		if (q != q_scratch)
			free(q);
		free(dots);
		free(s);
		return TRIT_ENOMEM;
	}
	for (uint64_t t = 0; t < tokens; t++)
		s[t] = trit_quantize_act(x + t * cols, cols, q + t * cols);
	trit_ref_matmul_int(type, w, rows, cols, q, tokens, dots);
	float scale = trit_ternary_scale(w, g.data_bytes);
	for (uint64_t t = 0; t < tokens; t++)
		for (uint64_t r = 0; r < rows; r++)
			y[t * rows + r] = trit_ternary_output(dots[t * rows + r], s[t], scale);
	if (q != q_scratch)
		free(q);
	free(dots);
	free(s);
	return 0;
}
