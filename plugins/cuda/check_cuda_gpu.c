/*
 * check_cuda_gpu.c - the cuda kernels on a real GPU against the reference
 * kernels: exact integer dots (TRIT_MATMUL_INT_DOTS) and F32 outputs within
 * 1e-5 of max |y| per token, on ragged shapes of every format, through the
 * plugin's own buffer and matmul functions; guard bytes around the workspace
 * and the output check that matmul_workspace is exact and nothing is written
 * out of bounds.
 *
 * Without a usable driver, device or kernel image it prints a TAP skip with
 * the reason instead (CUDA contexts do not survive fork(), so the suite runs
 * without Check's fork mode, in the process that initialised the driver).
 */
#include <build-config.h>

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <trit/ternary.h>

#include "internal.h"
#include "formats/ternary.h"

#define GUARD 256u
#define GUARD_BYTE 0xa5

static const uint32_t formats[3] = { TRIT_TYPE_I2_S, TRIT_TYPE_TL1, TRIT_TYPE_TL2 };
static const struct trit_backend *be;
static void *st;
static uint32_t dev;

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void host_log(void *ctx, int level, const char *msg)
{
	if (level <= TRIT_LOG_WARN)
		printf("# cuda: %s\n", msg);
}

static struct trit_host host = {
	.abi_version = TRIT_BACKEND_ABI_VERSION,
	.struct_size = sizeof(struct trit_host),
	.host_version = PACKAGE_VERSION,
	.log = host_log,
};

/* A device buffer holding `data` (n bytes) followed by GUARD guard bytes. */
static struct trit_buffer *upload(const void *data, uint64_t n)
{
	struct trit_buffer *b;
	char err[512];
	unsigned char *tmp = malloc(n + GUARD);

	ck_assert(tmp);
	memset(tmp, GUARD_BYTE, n + GUARD);
	if (data)
		memcpy(tmp, data, n);
	ck_assert_msg(be->buffer_alloc(st, dev, n + GUARD, &b, err, sizeof err) == 0, "%s", err);
	ck_assert_msg(be->buffer_write(st, b, 0, tmp, n + GUARD, err, sizeof err) == 0, "%s", err);
	free(tmp);
	return b;
}

/* Read n bytes back and check the guard after them is untouched. */
static void download(struct trit_buffer *b, void *out, uint64_t n, const char *what)
{
	unsigned char *tmp = malloc(n + GUARD);
	char err[512];

	ck_assert(tmp);
	ck_assert_msg(be->buffer_read(st, b, 0, tmp, n + GUARD, err, sizeof err) == 0, "%s", err);
	for (uint64_t i = n; i < n + GUARD; i++)
		ck_assert_msg(tmp[i] == GUARD_BYTE, "%s: byte %llu past its %llu bytes was written",
		              what, (unsigned long long)(i - n), (unsigned long long)n);
	if (out)
		memcpy(out, tmp, n);
	free(tmp);
}

static void run_shape(uint32_t type, uint64_t rows, uint64_t cols, uint64_t tokens)
{
	const char *name = trit_type_traits(type)->name;
	uint64_t wbytes = trit_ternary_bytes(type, rows, cols), ws = 0;
	float *wf = malloc(rows * cols * sizeof *wf), *x = malloc(tokens * cols * sizeof *x);
	float *y = malloc(tokens * rows * sizeof *y), *y_ref = malloc(tokens * rows * sizeof *y);
	int32_t *d = malloc(tokens * rows * sizeof *d), *d_ref = malloc(tokens * rows * sizeof *d);
	int8_t *q = malloc(tokens * cols);
	unsigned char *w = malloc(wbytes);
	char err[512];

	ck_assert(wf && x && y && y_ref && d && d_ref && q && w);
	for (uint64_t i = 0; i < rows * cols; i++)
		wf[i] = (float)((int)(rnd() % 3) - 1) * 0.043f;
	wf[0] = 0.043f;
	ck_assert_msg(trit_ternary_pack(type, w, wbytes, TRIT_TYPE_F32, wf, rows * cols * 4, rows,
	                                cols, err, sizeof err) == 0, "%s", err);
	for (uint64_t t = 0; t < tokens; t++) {
		float mag = (float)(1 + rnd() % 100);
		for (uint64_t k = 0; k < cols; k++)
			x[t * cols + k] = ((float)(rnd() % 20001) / 10000.0f - 1.0f) * mag;
		trit_quantize_act(x + t * cols, cols, q + t * cols);
	}
	trit_ref_matmul_int(type, w, rows, cols, q, tokens, d_ref);
	ck_assert(trit_ref_matmul_f32(type, w, rows, cols, x, tokens, y_ref, NULL) == 0);

	struct trit_buffer *bw = upload(w, wbytes);
	for (int path = 0; path < 2; path++) {
		int int_dots = path == 0;
		struct trit_matmul op = {
			.struct_size = sizeof op, .weight_type = type, .rows = rows, .cols = cols,
			.tokens = tokens, .flags = int_dots ? TRIT_MATMUL_INT_DOTS : 0,
		};
		ck_assert_msg(be->matmul_workspace(st, dev, &op, &ws, err, sizeof err) == 0, "%s", err);
		struct trit_buffer *bi = upload(int_dots ? (const void *)q : (const void *)x,
		                                tokens * cols * (int_dots ? 1 : 4));
		struct trit_buffer *bo = upload(NULL, tokens * rows * 4);
		struct trit_buffer *bs = ws ? upload(NULL, ws) : NULL;
		op.weights = bw;
		op.input = bi;
		op.output = bo;
		op.workspace = bs;
		ck_assert_msg(be->matmul(st, dev, &op, err, sizeof err) == 0, "%s %llux%llu x %llu: %s",
		              name, (unsigned long long)rows, (unsigned long long)cols,
		              (unsigned long long)tokens, err);
		download(bo, int_dots ? (void *)d : (void *)y, tokens * rows * 4, "output");
		if (bs)
			download(bs, NULL, ws, "workspace");
		if (int_dots) {
			for (uint64_t i = 0; i < tokens * rows; i++)
				ck_assert_msg(d[i] == d_ref[i], "%s %llux%llu x %llu: dot [%llu][%llu] = %d, "
				              "reference %d", name, (unsigned long long)rows,
				              (unsigned long long)cols, (unsigned long long)tokens,
				              (unsigned long long)(i / rows), (unsigned long long)(i % rows),
				              d[i], d_ref[i]);
		} else {
			for (uint64_t t = 0; t < tokens; t++) {
				float ymax = 0.0f;
				for (uint64_t r = 0; r < rows; r++)
					ymax = fmaxf(ymax, fabsf(y_ref[t * rows + r]));
				for (uint64_t r = 0; r < rows; r++)
					ck_assert_msg(fabsf(y[t * rows + r] - y_ref[t * rows + r]) <= 1e-5f * ymax,
					              "%s %llux%llu token %llu row %llu: %g, reference %g", name,
					              (unsigned long long)rows, (unsigned long long)cols,
					              (unsigned long long)t, (unsigned long long)r,
					              (double)y[t * rows + r], (double)y_ref[t * rows + r]);
			}
		}
		be->buffer_free(st, bi);
		be->buffer_free(st, bo);
		be->buffer_free(st, bs);
	}
	be->buffer_free(st, bw);
	free(wf);
	free(x);
	free(y);
	free(y_ref);
	free(d);
	free(d_ref);
	free(q);
	free(w);
}

START_TEST(kernels_match_the_reference_on_ragged_shapes)
{
	static const uint64_t rows[] = { 1, 31, 32, 33, 100, 257 };
	static const uint64_t cols[] = { 1, 64, 96, 100, 128, 129, 384, 1000 };
	uint32_t type = formats[_i];

	for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++)
		for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++)
			run_shape(type, rows[r], cols[c], 1 + rnd() % 17);
}
END_TEST

START_TEST(kernels_match_the_reference_on_bitnet_2b_shapes)
{
	uint32_t type = formats[_i];
	run_shape(type, 2560, 2560, 1);
	run_shape(type, 6912, 2560, 1);
	run_shape(type, 2560, 6912, 1);
	run_shape(type, 2560, 6912, 64);
}
END_TEST

int main(void)
{
	char err[4096] = "";
	int rc, failed;

	be = cuda_LTX_trit_backend_entry();
	rc = be->init(&host, &st, err, sizeof err);
	if (rc || be->device_count(st) == 0) {
		printf("1..1\nok 1 # SKIP no GPU to run the cuda kernels on: %s\n",
		       rc ? err : "the CUDA driver reports no device");
		if (!rc)
			be->shutdown(st);
		return 0;
	}
	/* the first device that runs kernels */
	for (dev = 0; dev < be->device_count(st); dev++)
		if (be->device_get(st, dev)->matmul_types & TRIT_TYPE_BIT(TRIT_TYPE_I2_S))
			break;
	if (dev == be->device_count(st)) {
		const struct trit_device *d0 = be->device_get(st, 0);
		const char *why = "no reason given";
		for (uint32_t k = 0; k < d0->n_props; k++)
			if (strcmp(d0->props[k].key, "kernels") == 0)
				why = d0->props[k].text;
		printf("1..1\nok 1 # SKIP %s (%s) runs no cuda kernels: %s\n", d0->id, d0->name, why);
		be->shutdown(st);
		return 0;
	}
	/* a 1 x 1 product first: a device that loads kernels but cannot run
	 * them (the fake driver, a broken one) is a skip, not 30 failures */
	{
		unsigned char w[TRIT_TERNARY_TRAILER_BYTES + 32] = { 0 };
		int8_t q = 1;
		float one = 1.0f;
		struct trit_buffer *bw = NULL, *bi = NULL, *bo = NULL;
		memset(w, 0x55, 32); /* code 1: zero trits */
		memcpy(w + 32, &one, sizeof one);
		struct trit_matmul op = { .struct_size = sizeof op, .weight_type = TRIT_TYPE_I2_S,
		                          .rows = 1, .cols = 128, .tokens = 1,
		                          .flags = TRIT_MATMUL_INT_DOTS };
		unsigned char qs[128] = { 0 };
		qs[0] = (unsigned char)q;
		rc = be->buffer_alloc(st, dev, sizeof w, &bw, err, sizeof err);
		if (!rc) rc = be->buffer_alloc(st, dev, sizeof qs, &bi, err, sizeof err);
		if (!rc) rc = be->buffer_alloc(st, dev, 4, &bo, err, sizeof err);
		if (!rc) rc = be->buffer_write(st, bw, 0, w, sizeof w, err, sizeof err);
		if (!rc) rc = be->buffer_write(st, bi, 0, qs, sizeof qs, err, sizeof err);
		op.weights = bw;
		op.input = bi;
		op.output = bo;
		if (!rc) rc = be->matmul(st, dev, &op, err, sizeof err);
		be->buffer_free(st, bw);
		be->buffer_free(st, bi);
		be->buffer_free(st, bo);
		if (rc == TRIT_EUNSUPPORTED) {
			printf("1..1\nok 1 # SKIP %s cannot run the cuda kernels: %s\n",
			       be->device_get(st, dev)->id, err);
			be->shutdown(st);
			return 0;
		}
		if (rc) {
			printf("1..1\nnot ok 1 - a 1 x 128 I2_S product on %s failed: %s\n",
			       be->device_get(st, dev)->id, err);
			be->shutdown(st);
			return 1;
		}
	}
	printf("# running the kernels on %s (%s, compute capability %llu)\n",
	       be->device_get(st, dev)->id, be->device_get(st, dev)->name,
	       (unsigned long long)be->device_get(st, dev)->compute_capability.value);

	Suite *s = suite_create("cuda_gpu");
	TCase *tc = tcase_create("gpu");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, kernels_match_the_reference_on_ragged_shapes, 0, 3);
	tcase_add_loop_test(tc, kernels_match_the_reference_on_bitnet_2b_shapes, 0, 3);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	be->shutdown(st);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
