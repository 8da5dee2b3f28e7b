/*
 * check_opencl.c - the opencl backend as the runtime meets it, on whatever
 * OpenCL device this machine has (pocl's CPU device on the development and
 * CI machines): the device report, the I2_S/TL1/TL2 kernels against the
 * scalar reference (exact integer dots, F32 within 1e-5 and in fact bit for
 * bit) on random ragged shapes, the binary cache, and the broken
 * environments (no platform, no device, out of device memory, a kernel that
 * does not build), each an error with a reason and the process unharmed;
 * the memory budget option, and graphs of several ops in one graph_compute
 * (the op-by-op comparison with the reference is trit-conformance's).
 *
 * Every case runs in its own process (CK_FORK): OpenCL state does not survive
 * fork(), so main() itself never calls OpenCL. When the machine has no
 * OpenCL device with working kernels, the suite says it skipped.
 */
#include <build-config.h>

#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <trit/backend.h>
#include <trit/ternary.h>

#include "ocl.h"
#include "formats/ternary.h"
#include "tests/support/support.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#if UNDER_ASAN
/* ASan aborts when an allocation fails unless told to return NULL, as a
 * plain malloc does; the out-of-memory case needs the plain behaviour. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}
#endif

static const uint32_t formats[3] = { TRIT_TYPE_I2_S, TRIT_TYPE_TL1, TRIT_TYPE_TL2 };
static const char *const format_names[3] = { "I2_S", "TL1", "TL2" };

/* The binary cache all cases share (made in main), so that only the first
 * process pays for the compiler. Cases about the cache use their own. */
static char shared_cache[256];

/* ------------------------------------------------------------------------ */
/* A host table with settable [plugin.opencl] keys and a log that keeps the */
/* messages.                                                                 */

static char logbuf[16384];

static void set_cfg(const char *key, const char *value)
{
	for (unsigned i = 0; i < test_n_settings; i++)
		if (!strcmp(test_settings[i].key, key)) {
			test_settings[i].value = value;
			return;
		}
	if (test_n_settings >= TEST_MAX_SETTINGS) { /* no ck_assert: main() calls this outside a test */
		fprintf(stderr, "test bug: more than 8 settings\n");
		exit(2);
	}
	test_settings[test_n_settings++] = (struct test_setting){ key, value, "test.ini:7" };
}

static void host_log(void *ctx, int level, const char *message)
{
	size_t n = strlen(logbuf);
	(void)ctx;
	(void)level;
	if (n + strlen(message) + 2 < sizeof logbuf) {
		strcpy(logbuf + n, message);
		strcat(logbuf, "\n");
	}
}

static const struct trit_host host = {
	.abi_version = TRIT_BACKEND_ABI_VERSION,
	.struct_size = sizeof(struct trit_host),
	.host_version = "test",
	.ctx = NULL,
	.log = host_log,
	.config_get = test_cfg_get,
	.config_key = test_cfg_key,
	.config_where = test_cfg_where,
};

static const struct trit_backend *be(void)
{
	return opencl_LTX_trit_backend_entry();
}

/* Init with the current settings plus the shared cache. */
static int init_with(void **state, char *err, size_t errlen)
{
	if (!test_cfg_get(NULL, "cache_dir") && shared_cache[0])
		set_cfg("cache_dir", shared_cache);
	return be()->init(&host, state, err, errlen);
}

/* Init that must succeed and give a device with kernels; returns the state. */
static void *init_ok(void)
{
	char err[1024] = "";
	void *st = NULL;
	int rc = init_with(&st, err, sizeof err);
	ck_assert_msg(rc == 0, "init: %s", err);
	ck_assert_uint_ge(be()->device_count(st), 1);
	ck_assert_msg(be()->device_get(st, 0)->matmul_types != 0, "device 0 has no kernels: %s",
	              logbuf);
	return st;
}

static const struct trit_property *find_prop(const struct trit_device *d, const char *key)
{
	for (uint32_t i = 0; i < d->n_props; i++)
		if (!strcmp(d->props[i].key, key))
			return &d->props[i];
	return NULL;
}

/* A new directory under $TMPDIR, or NULL. */
static char *temp_dir(void)
{
	const char *tmp = getenv("TMPDIR");
	char *path = malloc(512);
	if (!path)
		return NULL;
	snprintf(path, 512, "%s/trit-ocl-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(path)) {
		free(path);
		return NULL;
	}
	return path;
}

static char *make_temp_dir(void)
{
	char *path = temp_dir();
	ck_assert_msg(path != NULL, "cannot make a temporary directory: %s", strerror(errno));
	return path;
}

static void remove_tree(const char *dir)
{
	char cmd[700];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

/* ------------------------------------------------------------------------ */
/* Random problems.                                                          */

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* A random ternary matrix (trits x 0.37) packed by the runtime's packer from
 * F32; the caller frees. */
static void *packed_weights(uint32_t type, uint64_t rows, uint64_t cols, uint64_t *bytes)
{
	float *w = malloc(rows * cols * sizeof *w);
	uint64_t n = trit_ternary_bytes(type, rows, cols);
	void *dst = malloc(n);
	char err[256] = "";
	int rc;

	ck_assert_ptr_nonnull(w);
	ck_assert_ptr_nonnull(dst);
	for (uint64_t i = 0; i < rows * cols; i++)
		w[i] = ((int)(rnd() % 3) - 1) * 0.37f;
	w[0] = 0.37f; /* at least one non-zero, so the scale is 0.37 */
	rc = trit_ternary_pack(type, dst, n, TRIT_TYPE_F32, w, rows * cols * sizeof *w, rows, cols,
	                       err, sizeof err);
	ck_assert_msg(rc == 0, "pack: %s", err);
	free(w);
	*bytes = n;
	return dst;
}

struct bufs {
	struct trit_buffer *w, *in, *out, *ws;
};

static struct trit_buffer *alloc_buf(void *st, uint64_t size)
{
	struct trit_buffer *b = NULL;
	char err[512] = "";
	int rc = be()->buffer_alloc(st, 0, size, &b, err, sizeof err);
	ck_assert_msg(rc == 0, "buffer_alloc(%llu): %s", (unsigned long long)size, err);
	return b;
}

static void write_buf(void *st, struct trit_buffer *b, uint64_t off, const void *src, uint64_t n)
{
	char err[512] = "";
	int rc = be()->buffer_write(st, b, off, src, n, err, sizeof err);
	ck_assert_msg(rc == 0, "buffer_write: %s", err);
}

static void read_buf(void *st, struct trit_buffer *b, uint64_t off, void *dst, uint64_t n)
{
	char err[512] = "";
	int rc = be()->buffer_read(st, b, off, dst, n, err, sizeof err);
	ck_assert_msg(rc == 0, "buffer_read: %s", err);
}

/*
 * One matmul on device 0 against the reference: exact integer dots with
 * TRIT_MATMUL_INT_DOTS, then F32 within 1e-5 of the row set's max |y|
 * (counting in *inexact how many outputs were not bit for bit equal).
 * Buffers sit at odd-looking but aligned offsets; the workspace is exactly
 * what matmul_workspace reports.
 */
static void check_one(void *st, uint32_t type, uint64_t rows, uint64_t cols, uint64_t tokens,
                      uint64_t *inexact)
{
	const uint64_t w_off = 24, in_off = 16, out_off = 8, ws_off = 4;
	uint64_t wbytes, ws_int, ws_f32;
	void *w = packed_weights(type, rows, cols, &wbytes);
	int8_t *q = malloc(tokens * cols);
	float *x = malloc(tokens * cols * sizeof *x);
	int32_t *dots = malloc(tokens * rows * sizeof *dots), *got_i = malloc(tokens * rows * 4);
	float *y = malloc(tokens * rows * sizeof *y), *got_f = malloc(tokens * rows * 4);
	struct trit_matmul op;
	struct bufs b;
	char err[512] = "";
	int rc;
	float ymax = 0;

	for (uint64_t i = 0; i < tokens * cols; i++) {
		q[i] = (int8_t)(rnd() % 256);
		x[i] = (float)((double)(rnd() % 2000001) / 1e6 - 1.0) * (float)(1 + i % 7);
	}
	if (tokens > 2)
		for (uint64_t k = 0; k < cols; k++)
			x[cols + k] = 0.0f; /* a token of zeros: s = 127 / eps */
	memset(&op, 0, sizeof op);
	op.struct_size = sizeof op;
	op.weight_type = type;
	op.rows = rows;
	op.cols = cols;
	op.tokens = tokens;
	op.flags = TRIT_MATMUL_INT_DOTS;
	rc = be()->matmul_workspace(st, 0, &op, &ws_int, err, sizeof err);
	ck_assert_msg(rc == 0, "matmul_workspace: %s", err);
	op.flags = 0;
	rc = be()->matmul_workspace(st, 0, &op, &ws_f32, err, sizeof err);
	ck_assert_msg(rc == 0, "matmul_workspace: %s", err);
	{
		struct trit_ternary_geometry g;
		trit_ternary_geometry(type, rows, cols, &g);
		ck_assert_uint_eq(ws_int, tokens * g.cols_pad);
		ck_assert_uint_eq(ws_f32, tokens * g.cols_pad + 4 * tokens);
	}

	b.w = alloc_buf(st, w_off + wbytes);
	b.in = alloc_buf(st, in_off + tokens * cols * 4);
	b.out = alloc_buf(st, out_off + tokens * rows * 4);
	b.ws = alloc_buf(st, ws_off + ws_f32); /* exactly: the kernels must not need more */
	write_buf(st, b.w, w_off, w, wbytes);
	op.weights = b.w;
	op.weights_offset = w_off;
	op.input = b.in;
	op.input_offset = in_off;
	op.output = b.out;
	op.output_offset = out_off;
	op.workspace = b.ws;
	op.workspace_offset = ws_off;

	/* exact integer dots */
	write_buf(st, b.in, in_off, q, tokens * cols);
	op.flags = TRIT_MATMUL_INT_DOTS;
	rc = be()->matmul(st, 0, &op, err, sizeof err);
	ck_assert_msg(rc == 0, "%s int matmul %llux%llux%llu: %s",
	              format_names[type == TRIT_TYPE_I2_S ? 0 : type == TRIT_TYPE_TL1 ? 1 : 2],
	              (unsigned long long)rows, (unsigned long long)cols,
	              (unsigned long long)tokens, err);
	read_buf(st, b.out, out_off, got_i, tokens * rows * 4);
	trit_ref_matmul_int(type, w, rows, cols, q, tokens, dots);
	for (uint64_t i = 0; i < tokens * rows; i++)
		ck_assert_msg(got_i[i] == dots[i], "type %u %llux%llux%llu: dot of row %llu token "
		              "%llu is %d, the reference says %d", (unsigned)type,
		              (unsigned long long)rows, (unsigned long long)cols,
		              (unsigned long long)tokens, (unsigned long long)(i % rows),
		              (unsigned long long)(i / rows), (int)got_i[i], (int)dots[i]);

	/* F32 */
	write_buf(st, b.in, in_off, x, tokens * cols * 4);
	op.flags = 0;
	rc = be()->matmul(st, 0, &op, err, sizeof err);
	ck_assert_msg(rc == 0, "F32 matmul: %s", err);
	read_buf(st, b.out, out_off, got_f, tokens * rows * 4);
	ck_assert_int_eq(trit_ref_matmul_f32(type, w, rows, cols, x, tokens, y, NULL), 0);
	for (uint64_t i = 0; i < tokens * rows; i++)
		if (fabsf(y[i]) > ymax)
			ymax = fabsf(y[i]);
	for (uint64_t i = 0; i < tokens * rows; i++) {
		ck_assert_msg(fabsf(got_f[i] - y[i]) <= 1e-5f * ymax,
		              "type %u %llux%llux%llu: y of row %llu token %llu is %.9g, the "
		              "reference says %.9g (max |y| %.9g)", (unsigned)type,
		              (unsigned long long)rows, (unsigned long long)cols,
		              (unsigned long long)tokens, (unsigned long long)(i % rows),
		              (unsigned long long)(i / rows), (double)got_f[i], (double)y[i],
		              (double)ymax);
		if (memcmp(&got_f[i], &y[i], 4) != 0)
			(*inexact)++;
	}

	be()->buffer_free(st, b.w);
	be()->buffer_free(st, b.in);
	be()->buffer_free(st, b.out);
	be()->buffer_free(st, b.ws);
	free(w);
	free(q);
	free(x);
	free(dots);
	free(got_i);
	free(y);
	free(got_f);
}

/* Random shapes, ragged on purpose: rows not a multiple of 32, cols not of
 * 128/64/96, tokens 1..17. */
static void random_shapes(void *st, uint32_t type, int n, uint64_t *inexact)
{
	for (int i = 0; i < n; i++) {
		uint64_t rows = 1 + rnd() % 150, cols = 1 + rnd() % 700, tokens = 1 + rnd() % 17;
		if (i == 0) /* GEMV */
			tokens = 1;
		check_one(st, type, rows, cols, tokens, inexact);
	}
}

/* ------------------------------------------------------------------------ */
/* The device report.                                                        */

START_TEST(entry_point_returns_a_complete_static_table)
{
	const struct trit_backend *b = be();
	ck_assert_uint_eq(b->abi_version, TRIT_BACKEND_ABI_VERSION);
	ck_assert_uint_eq(b->struct_size, sizeof(struct trit_backend));
	ck_assert_str_eq(b->name, "opencl");
	ck_assert_ptr_eq(b, be());
	ck_assert_ptr_nonnull(b->matmul);
	ck_assert_ptr_nonnull(b->matmul_workspace);
	ck_assert_ptr_nonnull(b->buffer_alloc);
}
END_TEST

START_TEST(device_reports_memory_kernels_and_host_pool)
{
	void *st = init_ok();
	const struct trit_device *d = be()->device_get(st, 0);
	const struct trit_property *pool = find_prop(d, "mem.pool");
	const struct trit_property *alloc = find_prop(d, "opencl.max_alloc");
	const struct trit_property *kern = find_prop(d, "opencl.kernels");
	cl_platform_id plats[16];
	cl_device_id devs[16];
	cl_ulong total = 0;
	cl_uint cu = 0, np = 0, nd = 0, p = 99, i = 99;

	/* the numbers are OpenCL's own, for the device the id pPdD names */
	ck_assert_int_eq(sscanf(d->id, "p%ud%u", &p, &i), 2);
	ck_assert_int_eq(clGetPlatformIDs(16, plats, &np), CL_SUCCESS);
	ck_assert_uint_lt(p, np);
	ck_assert_int_eq(clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 16, devs, &nd), CL_SUCCESS);
	ck_assert_uint_lt(i, nd);
	clGetDeviceInfo(devs[i], CL_DEVICE_GLOBAL_MEM_SIZE, sizeof total, &total, NULL);
	clGetDeviceInfo(devs[i], CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
	ck_assert_uint_eq(d->mem_total.state, TRIT_VALUE_MEASURED);
	ck_assert_uint_eq(d->mem_total.value, total);
	ck_assert_uint_eq(d->compute_units.value, cu);
	ck_assert_ptr_nonnull(d->name);
	ck_assert_uint_eq(d->matmul_types, TRIT_TYPE_BIT(TRIT_TYPE_I2_S) |
	                  TRIT_TYPE_BIT(TRIT_TYPE_TL1) | TRIT_TYPE_BIT(TRIT_TYPE_TL2));
	ck_assert_ptr_nonnull(kern);
	ck_assert_str_eq(kern->text, "I2_S TL1 TL2");
	ck_assert_ptr_nonnull(alloc);
	ck_assert_uint_gt(alloc->value.value, 0);
	ck_assert_ptr_nonnull(pool);
	if (d->kind == TRIT_DEVICE_CPU) {
		/* a CPU device draws on host memory and says so; its free memory is
		 * unknown with a reason, not a guess */
		ck_assert_str_eq(pool->text, "host");
		ck_assert_uint_eq(d->mem_free.state, TRIT_VALUE_UNKNOWN);
		ck_assert_ptr_nonnull(strstr(d->mem_free.source, "host memory"));
	}
	ck_assert_int_eq(be()->device_update(st, 0, NULL, 0), 0);
	ck_assert_uint_eq(be()->device_get(st, 0)->mem_total.value, total);
	be()->shutdown(st);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The kernels against the reference.                                        */

static void kernel_case(uint32_t type, int n)
{
	void *st = init_ok();
	struct ocl_device *d = &((struct ocl_state *)st)->devs[0];
	int chosen = d->k.tl_vector;
	uint64_t inexact = 0;

	/* TL1 and TL2 have two variants (a work-item per tile with vectors, for
	 * CPU devices; one per row pair, for GPUs): run both here, the device's
	 * own choice last */
	for (int v = 0; v < (type == TRIT_TYPE_I2_S ? 1 : 2); v++) {
		d->k.tl_vector = type == TRIT_TYPE_I2_S ? chosen : v == 0 ? !chosen : chosen;
		random_shapes(st, type, n, &inexact);
		/* bigger, and exact multiples of every block */
		check_one(st, type, 96, 384, 5, &inexact);
		check_one(st, type, 257, 1000, 17, &inexact);
	}
	/* correctly rounded division makes the F32 path bit for bit */
	ck_assert_uint_eq(inexact, 0);
	be()->shutdown(st);
}

START_TEST(i2s_matches_the_reference_on_random_ragged_shapes) { kernel_case(TRIT_TYPE_I2_S, 12); }
END_TEST
START_TEST(tl1_matches_the_reference_on_random_ragged_shapes) { kernel_case(TRIT_TYPE_TL1, 12); }
END_TEST
START_TEST(tl2_matches_the_reference_on_random_ragged_shapes) { kernel_case(TRIT_TYPE_TL2, 12); }
END_TEST

START_TEST(emulated_division_is_exact_too)
{
	void *st;
	uint64_t inexact = 0;
	set_cfg("divide", "emulate");
	st = init_ok();
	ck_assert_ptr_nonnull(strstr(find_prop(be()->device_get(st, 0), "opencl.kernels")
	                             ->value.source, "emulated"));
	for (int f = 0; f < 3; f++)
		random_shapes(st, formats[f], 4, &inexact);
	ck_assert_uint_eq(inexact, 0);
	be()->shutdown(st);
}
END_TEST

START_TEST(activation_ties_round_half_to_even)
{
	/* amax 127 gives s = 1, so x = k + 0.5 lands exactly on a tie */
	void *st = init_ok();
	const uint64_t rows = 32, cols = 128;
	uint64_t wbytes, ws;
	void *w = packed_weights(TRIT_TYPE_I2_S, rows, cols, &wbytes);
	float x[128], got[32], want[32];
	struct trit_matmul op = { .struct_size = sizeof op, .weight_type = TRIT_TYPE_I2_S,
		                  .rows = rows, .cols = cols, .tokens = 1 };
	char err[512] = "";

	for (int k = 0; k < 128; k++)
		x[k] = (float)(k % 9) - 4.5f;
	x[5] = 127.0f;
	x[6] = -126.5f;
	ck_assert_int_eq(be()->matmul_workspace(st, 0, &op, &ws, err, sizeof err), 0);
	op.weights = alloc_buf(st, wbytes);
	op.input = alloc_buf(st, sizeof x);
	op.output = alloc_buf(st, sizeof got);
	op.workspace = alloc_buf(st, ws);
	write_buf(st, op.weights, 0, w, wbytes);
	write_buf(st, op.input, 0, x, sizeof x);
	ck_assert_msg(be()->matmul(st, 0, &op, err, sizeof err) == 0, "%s", err);
	read_buf(st, op.output, 0, got, sizeof got);
	trit_ref_matmul_f32(TRIT_TYPE_I2_S, w, rows, cols, x, 1, want, NULL);
	ck_assert_mem_eq(got, want, sizeof got);
	free(w);
	/* the four buffers are left to shutdown, which frees them (the ASan
	 * and valgrind runs see a leak if it does not) */
	be()->shutdown(st);
}
END_TEST

START_TEST(invalid_codes_read_as_zero_as_in_the_reference)
{
	/* The runtime refuses tensors with invalid codes, but a kernel must
	 * still agree with trit_ternary_get() on them: I2_S code 3, TL1 pair
	 * indices 9..15 and TL2 magnitudes 14, 15 are zero trits. */
	void *st = init_ok();
	const uint64_t rows = 40, cols = 200, tokens = 5;

	for (int f = 0; f < 3; f++) {
		uint64_t wbytes, ws;
		unsigned char *w = packed_weights(formats[f], rows, cols, &wbytes);
		struct trit_ternary_geometry g;
		int8_t q[5 * 200];
		int32_t got[5 * 40], want[5 * 40];
		struct trit_matmul op = { .struct_size = sizeof op, .weight_type = formats[f],
			                  .rows = rows, .cols = cols, .tokens = tokens,
			                  .flags = TRIT_MATMUL_INT_DOTS };
		char err[512] = "";

		trit_ternary_geometry(formats[f], rows, cols, &g);
		for (int n = 0; n < 300; n++) {
			uint64_t i = rnd() % g.data_bytes;
			if (formats[f] == TRIT_TYPE_I2_S)
				w[i] |= (unsigned char)(3u << (2 * (rnd() % 4)));
			else if (formats[f] == TRIT_TYPE_TL1)
				w[i] = (unsigned char)((w[i] & 0xf0) | (9 + rnd() % 7));
			else if (i % TRIT_TL2_GROUP_BYTES < 512)
				w[i] = (unsigned char)((w[i] & 0x0f) | ((14 + rnd() % 2) << 4));
		}
		for (size_t i = 0; i < sizeof q; i++)
			q[i] = (int8_t)(rnd() % 256);
		ck_assert_int_eq(be()->matmul_workspace(st, 0, &op, &ws, err, sizeof err), 0);
		op.weights = alloc_buf(st, wbytes);
		op.input = alloc_buf(st, sizeof q);
		op.output = alloc_buf(st, sizeof got);
		op.workspace = alloc_buf(st, ws);
		write_buf(st, op.weights, 0, w, wbytes);
		write_buf(st, op.input, 0, q, sizeof q);
		ck_assert_msg(be()->matmul(st, 0, &op, err, sizeof err) == 0, "%s", err);
		read_buf(st, op.output, 0, got, sizeof got);
		trit_ref_matmul_int(formats[f], w, rows, cols, q, tokens, want);
		ck_assert_mem_eq(got, want, sizeof got);
		be()->buffer_free(st, op.weights);
		be()->buffer_free(st, op.input);
		be()->buffer_free(st, op.output);
		be()->buffer_free(st, op.workspace);
		free(w);
	}
	be()->shutdown(st);
}
END_TEST

START_TEST(one_arena_buffer_holds_all_four_regions)
{
	void *st = init_ok();
	const uint64_t rows = 70, cols = 200, tokens = 3;
	uint64_t wbytes, ws, in_off, out_off, ws_off, total;
	void *w = packed_weights(TRIT_TYPE_TL2, rows, cols, &wbytes);
	float x[3 * 200], got[3 * 70], want[3 * 70];
	struct trit_matmul op = { .struct_size = sizeof op, .weight_type = TRIT_TYPE_TL2,
		                  .rows = rows, .cols = cols, .tokens = tokens };
	struct trit_buffer *arena;
	char err[512] = "";

	for (size_t i = 0; i < 3 * 200; i++)
		x[i] = (float)((int)(rnd() % 2001) - 1000) / 300.0f;
	ck_assert_int_eq(be()->matmul_workspace(st, 0, &op, &ws, err, sizeof err), 0);
	in_off = trit_round_up_u64(wbytes, 4);
	out_off = in_off + sizeof x;
	ws_off = out_off + sizeof got;
	total = ws_off + ws;
	arena = alloc_buf(st, total);
	write_buf(st, arena, 0, w, wbytes);
	write_buf(st, arena, in_off, x, sizeof x);
	op.weights = op.input = op.output = op.workspace = arena;
	op.input_offset = in_off;
	op.output_offset = out_off;
	op.workspace_offset = ws_off;
	ck_assert_msg(be()->matmul(st, 0, &op, err, sizeof err) == 0, "%s", err);
	read_buf(st, arena, out_off, got, sizeof got);
	trit_ref_matmul_f32(TRIT_TYPE_TL2, w, rows, cols, x, tokens, want, NULL);
	ck_assert_mem_eq(got, want, sizeof got);
	/* but overlapping regions are refused */
	op.output_offset = in_off;
	ck_assert_int_eq(be()->matmul(st, 0, &op, err, sizeof err), TRIT_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "overlaps"));
	be()->buffer_free(st, arena);
	free(w);
	be()->shutdown(st);
}
END_TEST

START_TEST(matmul_refuses_what_it_cannot_do_with_reasons)
{
	void *st = init_ok();
	struct trit_matmul op = { .struct_size = sizeof op, .weight_type = TRIT_TYPE_F32,
		                  .rows = 64, .cols = 128, .tokens = 2 };
	uint64_t ws = 0;
	char err[512] = "";

	ck_assert_int_eq(be()->matmul_workspace(st, 0, &op, &ws, err, sizeof err),
	                 TRIT_EUNSUPPORTED);
	ck_assert_ptr_nonnull(strstr(err, "I2_S, TL1 and TL2"));
	op.weight_type = TRIT_TYPE_TL1;
	ck_assert_int_eq(be()->matmul_workspace(st, 0, &op, &ws, err, sizeof err), 0);
	ck_assert_uint_eq(ws, 2 * 128 + 2 * 4);
	op.weights = alloc_buf(st, trit_ternary_bytes(TRIT_TYPE_TL1, 64, 128));
	op.input = alloc_buf(st, 2 * 128 * 4);
	op.output = alloc_buf(st, 2 * 64 * 4);
	op.workspace = alloc_buf(st, ws - 1);
	ck_assert_int_eq(be()->matmul(st, 0, &op, err, sizeof err), TRIT_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "needs 264 bytes of workspace"));
	be()->buffer_free(st, op.workspace);
	op.workspace = alloc_buf(st, ws);
	op.rows = 65; /* the weights buffer is now too small */
	ck_assert_int_eq(be()->matmul(st, 0, &op, err, sizeof err), TRIT_ERANGE);
	ck_assert_ptr_nonnull(strstr(err, "overrun"));
	op.rows = 64;
	op.input_offset = 2;
	ck_assert_int_eq(be()->matmul(st, 0, &op, err, sizeof err), TRIT_ERANGE);
	op.input_offset = 0;
	ck_assert_int_eq(be()->matmul(st, 1, &op, err, sizeof err), TRIT_EINVAL);
	ck_assert_int_eq(be()->matmul(st, 0, &op, err, sizeof err), 0);
	be()->shutdown(st);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The binary cache.                                                         */

START_TEST(second_init_loads_the_program_from_the_cache)
{
	char *dir = make_temp_dir(), path[700], err[1024] = "";
	const struct trit_property *prog;
	void *st = NULL;
	int files = 0;
	FILE *ls;

	set_cfg("cache_dir", dir);
	st = init_ok();
	prog = find_prop(be()->device_get(st, 0), "opencl.program");
	ck_assert_ptr_nonnull(strstr(prog->text, "compiled"));
	be()->shutdown(st);
	snprintf(path, sizeof path, "ls '%s' | grep -c '\\.bin$'", dir);
	ls = popen(path, "r");
	ck_assert_int_eq(fscanf(ls, "%d", &files), 1);
	pclose(ls);
	ck_assert_int_eq(files, 1);

	st = init_ok();
	prog = find_prop(be()->device_get(st, 0), "opencl.program");
	ck_assert_msg(strstr(prog->text, "loaded from the binary cache") != NULL, "%s", prog->text);
	be()->shutdown(st);

	/* a damaged cache file is rebuilt, with a note, and still works */
	snprintf(path, sizeof path, "for f in '%s'/*.bin; do printf 'garbage' >\"$f\"; done", dir);
	ck_assert_int_eq(system(path), 0);
	logbuf[0] = '\0';
	ck_assert_int_eq(init_with(&st, err, sizeof err), 0);
	ck_assert_ptr_nonnull(strstr(logbuf, "not a trit OpenCL cache file"));
	prog = find_prop(be()->device_get(st, 0), "opencl.program");
	ck_assert_ptr_nonnull(strstr(prog->text, "compiled"));
	be()->shutdown(st);
	remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(cache_no_writes_nothing)
{
	char *dir = make_temp_dir(), sub[600];
	struct stat sb;
	void *st;

	snprintf(sub, sizeof sub, "%s/cache", dir);
	set_cfg("cache_dir", sub);
	set_cfg("cache", "no");
	st = init_ok();
	be()->shutdown(st);
	ck_assert_int_ne(stat(sub, &sb), 0);
	remove_tree(dir);
	free(dir);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The probe cache: a host whose cache_get/cache_put keep "key TAB stamp TAB */
/* value" lines in a file, so that it outlives the process that filled it.  */

static char probe_cache_path[600];

static int pc_get(void *ctx, const char *key, const char *stamp, char *value, size_t len,
                  uint64_t *age)
{
	char line[TRIT_HOST_CACHE_VALUE_MAX + 2200];
	FILE *f = fopen(probe_cache_path, "r");
	int found = 0;

	(void)ctx;
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f)) {
		char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
		if (!t2)
			continue;
		*t1 = *t2 = '\0';
		line[strcspn(t2 + 1, "\n") + (size_t)(t2 + 1 - line)] = '\0';
		if (strcmp(line, key) != 0 || strcmp(t1 + 1, stamp) != 0)
			continue;
		if (strlen(t2 + 1) >= len) {
			fclose(f);
			return TRIT_ERANGE;
		}
		strcpy(value, t2 + 1);
		found = 1;
	}
	fclose(f);
	if (found && age)
		*age = 5;
	return found;
}

static int pc_put(void *ctx, const char *key, const char *stamp, const char *value)
{
	char line[TRIT_HOST_CACHE_VALUE_MAX + 2200], tmp[700];
	FILE *in = fopen(probe_cache_path, "r"), *out;

	(void)ctx;
	snprintf(tmp, sizeof tmp, "%s.tmp", probe_cache_path);
	if (!(out = fopen(tmp, "w"))) {
		if (in)
			fclose(in);
		return TRIT_EIO;
	}
	while (in && fgets(line, sizeof line, in))
		if (strncmp(line, key, strlen(key)) != 0 || line[strlen(key)] != '\t')
			fputs(line, out);
	fprintf(out, "%s\t%s\t%s\n", key, stamp, value);
	if (in)
		fclose(in);
	fclose(out);
	return rename(tmp, probe_cache_path) == 0 ? 0 : TRIT_EIO;
}

static const struct trit_host cache_host = {
	.abi_version = TRIT_BACKEND_ABI_VERSION,
	.struct_size = sizeof(struct trit_host),
	.host_version = "test",
	.ctx = NULL,
	.log = host_log,
	.config_get = test_cfg_get,
	.config_key = test_cfg_key,
	.config_where = test_cfg_where,
	.cache_get = pc_get,
	.cache_put = pc_put,
};

static int init_cached(void **state, char *err, size_t errlen)
{
	if (!test_cfg_get(NULL, "cache_dir") && shared_cache[0])
		set_cfg("cache_dir", shared_cache);
	return be()->init(&cache_host, state, err, errlen);
}

/* Everything device_get shows, one field a line; opencl.program (and the
 * source of opencl.kernels), which tell how the program was made, left out
 * unless `all`. */
static void dump_value(FILE *f, const char *what, struct trit_value v)
{
	fprintf(f, "%s: state %u value %llu source %s\n", what, (unsigned)v.state,
	        (unsigned long long)v.value, v.source ? v.source : "(null)");
}

static void dump_device(const struct trit_device *d, FILE *f)
{
	fprintf(f, "id %s\nkind %u\nname %s\nvendor %s\n", d->id, (unsigned)d->kind, d->name,
	        d->vendor ? d->vendor : "(null)");
	dump_value(f, "mem_total", d->mem_total);
	dump_value(f, "mem_free", d->mem_free);
	dump_value(f, "mem_bandwidth", d->mem_bandwidth);
	dump_value(f, "compute_units", d->compute_units);
	dump_value(f, "hw_threads", d->hw_threads);
	dump_value(f, "clock_hz", d->clock_hz);
	dump_value(f, "compute_capability", d->compute_capability);
	fprintf(f, "caps %llx\nmatmul_types %llx\nprops %u\n", (unsigned long long)d->caps,
	        (unsigned long long)d->matmul_types, (unsigned)d->n_props);
	for (uint32_t i = 0; i < d->n_props; i++) {
		const struct trit_property *p = &d->props[i];
		fprintf(f, "prop %s unit %s text %s\n", p->key, p->unit ? p->unit : "(null)",
		        strcmp(p->key, "opencl.program") && p->text ? p->text : "(null)");
		if (strcmp(p->key, "opencl.program") && strcmp(p->key, "opencl.kernels"))
			dump_value(f, p->key, p->value);
		else
			fprintf(f, "%s: state %u\n", p->key, (unsigned)p->value.state);
	}
}

static char *dump_text(const struct trit_device *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
	dump_device(d, f);
	fclose(f);
	return buf;
}

/* A new probe cache file in dir, filled by a probe in a child process
 * (this one must not load the driver); the child's device 0 is dumped to
 * dir/probed. */
static void fill_probe_cache(const char *dir)
{
	char path[700];
	pid_t pid;
	int status = 0;

	snprintf(probe_cache_path, sizeof probe_cache_path, "%s/probe-cache.txt", dir);
	unlink(probe_cache_path);
	snprintf(path, sizeof path, "%s/probed", dir);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char err[1024] = "";
		void *st = NULL;
		FILE *f;
		if (init_cached(&st, err, sizeof err) != 0 || be()->device_count(st) == 0 ||
		    ((struct ocl_state *)st)->probe_cache_hit || !(f = fopen(path, "w")))
			_exit(1);
		dump_device(be()->device_get(st, 0), f);
		fclose(f);
		be()->shutdown(st);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the probe that fills the "
	              "cache failed");
}

static char *slurp(const char *path)
{
	char *data = NULL, why[300];
	size_t len = 0;
	ck_assert_msg(ocl_read_file(path, 1u << 20, &data, &len, why, sizeof why) == 0, "%s", why);
	return data;
}

/* Is a library whose path contains `name` mapped into this process? */
static int mapped(const char *name)
{
	char *maps = slurp("/proc/self/maps");
	int found = strstr(maps, name) != NULL;
	free(maps);
	return found;
}

/* Replace the value stored under key in the probe cache file with `value`
 * (stamp kept; a new key gets the stamp of the others); value NULL: remove
 * the line. */
static void set_cached(const char *key, const char *value)
{
	char *data = slurp(probe_cache_path), *line, *save = NULL, stamp[1100] = "";
	FILE *out = fopen(probe_cache_path, "w");
	int done = 0;

	ck_assert_ptr_nonnull(out);
	for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
		ck_assert_ptr_nonnull(t2);
		snprintf(stamp, sizeof stamp, "%.*s", (int)(t2 - t1 - 1), t1 + 1);
		if (strncmp(line, key, strlen(key)) || line[strlen(key)] != '\t')
			fprintf(out, "%s\n", line);
		else if ((done = 1) && value)
			fprintf(out, "%.*s%s\n", (int)(t2 + 1 - line), line, value);
	}
	if (!done && value)
		fprintf(out, "%s\t%s\t%s\n", key, stamp, value);
	fclose(out);
	free(data);
}

/* The value stored under key (a copy), or NULL. */
static char *cached(const char *key)
{
	char *data = slurp(probe_cache_path), *line, *save = NULL, *v = NULL;

	for (line = strtok_r(data, "\n", &save); line && !v; line = strtok_r(NULL, "\n", &save))
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == '\t')
			v = strdup(strchr(strchr(line, '\t') + 1, '\t') + 1);
	free(data);
	return v;
}

START_TEST(a_probe_cache_hit_loads_no_driver_describes_the_same_and_runs)
{
	char *dir = make_temp_dir(), path[700], err[1024] = "", *probed, *now, *v;
	const struct trit_property *prog;
	struct ocl_state *ost;
	void *st = NULL;
	uint64_t inexact = 0;

	fill_probe_cache(dir);
	ck_assert_ptr_nonnull(v = cached("devices"));
	ck_assert_str_eq(v, "ocl-list 1;n=1;p0d0");
	free(v);
	ck_assert_ptr_nonnull(v = cached("p0d0.desc"));
	ck_assert_ptr_nonnull(strstr(v, "kern=ok"));
	free(v);

	ck_assert_int_eq(mapped("libpocl"), 0);
	ck_assert_msg(init_cached(&st, err, sizeof err) == 0, "init: %s", err);
	ost = st;
	ck_assert_int_eq(ost->probe_cache_hit, 1);
	ck_assert_int_eq(ost->devs[0].live, 0);
	/* the driver (and LLVM with it) was not even loaded */
	ck_assert_msg(!mapped("libpocl") && !mapped("libLLVM"), "init loaded the driver");

	/* field for field what the probe said, the program's own story aside */
	snprintf(path, sizeof path, "%s/probed", dir);
	probed = slurp(path);
	now = dump_text(be()->device_get(st, 0));
	for (size_t i = 0; now[i] || probed[i]; i++)
		if (now[i] != probed[i]) {
			size_t line = i;
			while (line > 0 && now[line - 1] != '\n')
				line--;
			ck_abort_msg("from the cache '%.200s', probed '%.200s'", now + line,
			             probed + line);
		}
	free(now);
	free(probed);
	prog = find_prop(be()->device_get(st, 0), "opencl.program");
	ck_assert_ptr_nonnull(prog);
	ck_assert_msg(strstr(prog->text, "when the device is first used") &&
	              !strstr(prog->text, "passed"), "%s", prog->text);
	ck_assert_int_eq(be()->device_update(st, 0, err, sizeof err), 0);
	ck_assert_int_eq(ost->devs[0].live, 0);

	/* the first use brings OpenCL up; the kernels run as after a probe */
	check_one(st, TRIT_TYPE_I2_S, 70, 300, 3, &inexact);
	ck_assert_int_eq(ost->devs[0].live, 1);
	check_one(st, TRIT_TYPE_TL1, 33, 200, 5, &inexact);
	check_one(st, TRIT_TYPE_TL2, 40, 500, 1, &inexact);
	ck_assert_uint_eq(inexact, 0);
	prog = find_prop(be()->device_get(st, 0), "opencl.program");
	ck_assert_msg(strstr(prog->text, "self-test passed") != NULL, "%s", prog->text);
	be()->shutdown(st);
	remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(a_damaged_cached_description_is_probed_again)
{
	static const char *const damage[] = {
		NULL, /* truncated: filled in below */
		"ocl-desc 2;plat=+x",
		"garbage",
		"",
		"%s;extra=1",
		"bad escape",
		"NUL escape",
		"number",
	};
	char *dir = make_temp_dir(), err[1024] = "", *good, bad[TRIT_HOST_CACHE_VALUE_MAX];

	fill_probe_cache(dir);
	ck_assert_ptr_nonnull(good = cached("p0d0.desc"));
	for (size_t i = 0; i < sizeof damage / sizeof damage[0]; i++) {
		struct ocl_state *ost;
		void *st = NULL;
		char *v, *p;

		if (i == 0)
			snprintf(bad, sizeof bad, "%.*s", (int)strlen(good) / 2, good);
		else if (i == 4)
			snprintf(bad, sizeof bad, "%s;extra=1", good);
		else if (i == 5 || i == 6 || i == 7) {
			snprintf(bad, sizeof bad, "%s", good);
			ck_assert_ptr_nonnull(p = strstr(bad, i == 7 ? ";mem=" : ";name=+"));
			memcpy(p + (i == 7 ? 5 : 7), i == 5 ? "%G1" : i == 6 ? "%00" : "x", i == 7 ? 1 : 3);
		} else
			snprintf(bad, sizeof bad, "%s", damage[i]);
		set_cached("p0d0.desc", bad);
		logbuf[0] = '\0';
		ck_assert_msg(init_cached(&st, err, sizeof err) == 0, "init: %s", err);
		ost = st;
		ck_assert_msg(!ost->probe_cache_hit && ost->devs[0].live, "damage %zu: '%s' was "
		              "taken", i, bad);
		ck_assert_msg(strstr(logbuf, "probe cache not used"), "damage %zu: %s", i, logbuf);
		be()->shutdown(st);
		/* the probe stored the description again */
		ck_assert_ptr_nonnull(v = cached("p0d0.desc"));
		ck_assert_str_eq(v, good);
		free(v);
	}
	/* a damaged device list too */
	set_cached("devices", "ocl-list 1;n=2;p0d0");
	{
		void *st = NULL;
		ck_assert_int_eq(init_cached(&st, err, sizeof err), 0);
		ck_assert_int_eq(((struct ocl_state *)st)->probe_cache_hit, 0);
		be()->shutdown(st);
	}
	free(good);
	remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(a_cached_device_that_differs_or_is_gone_fails_its_first_use)
{
	char *dir = make_temp_dir(), err[1024] = "", *good, *p, v[TRIT_HOST_CACHE_VALUE_MAX];
	struct trit_buffer *b = NULL;
	void *st = NULL;

	fill_probe_cache(dir);
	ck_assert_ptr_nonnull(good = cached("p0d0.desc"));
	/* another device name: the hardware or the driver changed */
	ck_assert_ptr_nonnull(p = strstr(good, ";name=+"));
	snprintf(v, sizeof v, "%.*s;name=+Imaginary%%3B Device%s", (int)(p - good), good,
	         p + strcspn(p + 1, ";") + 1);
	set_cached("p0d0.desc", v);
	logbuf[0] = '\0';
	ck_assert_msg(init_cached(&st, err, sizeof err) == 0, "init: %s", err);
	ck_assert_msg(((struct ocl_state *)st)->probe_cache_hit == 1, "%s", logbuf);
	ck_assert_str_eq(be()->device_get(st, 0)->name, "Imaginary; Device");
	ck_assert_int_eq(be()->buffer_alloc(st, 0, 64, &b, err, sizeof err), TRIT_EDEVICE);
	ck_assert_msg(strstr(err, "not the one in the probe cache") &&
	              strstr(err, "trit devices --remeasure"), "%s", err);
	ck_assert_ptr_null(b);
	err[0] = '\0';
	ck_assert_int_eq(be()->buffer_alloc(st, 0, 64, &b, err, sizeof err), TRIT_EDEVICE);
	ck_assert_ptr_nonnull(strstr(err, "--remeasure"));
	be()->shutdown(st);

	/* a device the driver no longer lists */
	set_cached("p0d0.desc", NULL);
	set_cached("p0d9.desc", good);
	set_cached("devices", "ocl-list 1;n=1;p0d9");
	ck_assert_msg(init_cached(&st, err, sizeof err) == 0, "init: %s", err);
	ck_assert_int_eq(((struct ocl_state *)st)->probe_cache_hit, 1);
	ck_assert_int_eq(be()->buffer_alloc(st, 0, 64, &b, err, sizeof err), TRIT_EDEVICE);
	ck_assert_msg(strstr(err, "is gone") && strstr(err, "trit devices --remeasure"), "%s", err);
	be()->shutdown(st);
	free(good);
	remove_tree(dir);
	free(dir);
}
END_TEST

/* The stamp of a fresh state with the current settings and environment. */
static void stamp_now(char *out, size_t len)
{
	struct ocl_state st;
	char err[512] = "";

	memset(&st, 0, sizeof st);
	st.host = cache_host;
	ck_assert_msg(ocl_options_read(&cache_host, &st.opt, &st.pool, err, sizeof err) == 0, "%s",
	              err);
	ocl_cache_stamp(&st);
	ck_assert_uint_gt(strlen(st.stamp), 0);
	ck_assert_uint_le(strlen(st.stamp), TRIT_HOST_CACHE_STAMP_MAX);
	snprintf(out, len, "%s", st.stamp);
	ocl_pool_free(&st.pool);
}

START_TEST(the_stamp_follows_icd_files_libraries_environment_and_options)
{
	char *dir = make_temp_dir(), path[700], lib[700], a[1100], b[1100];
	FILE *f;

	stamp_now(a, sizeof a);
	stamp_now(b, sizeof b);
	ck_assert_str_eq(a, b);
	/* another vendors directory, then its .icd file's contents, then the
	 * library it names */
	snprintf(path, sizeof path, "%s/x.icd", dir);
	snprintf(lib, sizeof lib, "%s/libx.so", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fprintf(f, "%s\n", lib);
	fclose(f);
	setenv("OCL_ICD_VENDORS", dir, 1);
	stamp_now(b, sizeof b);
	ck_assert_str_ne(a, b);
	snprintf(a, sizeof a, "%s", b);
	ck_assert_ptr_nonnull(f = fopen(lib, "w"));
	fputs("not a library, but its size counts", f);
	fclose(f);
	stamp_now(b, sizeof b);
	ck_assert_str_ne(a, b);
	snprintf(a, sizeof a, "%s", b);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fprintf(f, "%s \n", lib);
	fclose(f);
	stamp_now(b, sizeof b);
	ck_assert_str_ne(a, b);
	snprintf(a, sizeof a, "%s", b);
	/* a driver's environment */
	setenv("POCL_CPU_MAX_CU_COUNT", "1", 1);
	stamp_now(b, sizeof b);
	ck_assert_str_ne(a, b);
	snprintf(a, sizeof a, "%s", b);
	/* the options that change the list or the kernels; not cache_dir */
	set_cfg("cache_dir", "/nonexistent/elsewhere");
	stamp_now(b, sizeof b);
	ck_assert_str_eq(a, b);
	set_cfg("device_type", "cpu");
	stamp_now(b, sizeof b);
	ck_assert_str_ne(a, b);
	snprintf(a, sizeof a, "%s", b);
	set_cfg("build_options", "-DX=1");
	stamp_now(b, sizeof b);
	ck_assert_str_ne(a, b);
	unsetenv("OCL_ICD_VENDORS");
	unsetenv("POCL_CPU_MAX_CU_COUNT");
	remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(without_a_cache_in_the_host_init_probes_as_before)
{
	void *st = init_ok();
	ck_assert_int_eq(((struct ocl_state *)st)->probe_cache_hit, 0);
	ck_assert_int_eq(((struct ocl_state *)st)->devs[0].live, 1);
	ck_assert_str_eq(((struct ocl_state *)st)->stamp, "");
	be()->shutdown(st);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Broken environments.                                                      */

START_TEST(no_icd_platform_is_enodev_with_the_reason)
{
	char *dir = make_temp_dir(), err[1024] = "";
	void *st = (void *)1;

	setenv("OCL_ICD_VENDORS", dir, 1);
	ck_assert_int_eq(init_with(&st, err, sizeof err), TRIT_ENODEV);
	ck_assert_ptr_null(st);
	ck_assert_msg(strstr(err, "found no platform") && strstr(err, dir), "%s", err);
	remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(a_broken_vendor_library_is_skipped_not_fatal)
{
	char *dir = make_temp_dir(), path[600], err[1024] = "";
	void *st = NULL;
	FILE *f;

	/* one .icd names a library that does not exist, one a library that is
	 * no OpenCL driver at all */
	snprintf(path, sizeof path, "%s/missing.icd", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs("/nonexistent/libtrit-no-such-driver.so\n", f);
	fclose(f);
	snprintf(path, sizeof path, "%s/libc.icd", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs("libc.so.6\n", f);
	fclose(f);
	setenv("OCL_ICD_VENDORS", dir, 1);
	ck_assert_int_eq(init_with(&st, err, sizeof err), TRIT_ENODEV);
	ck_assert_ptr_nonnull(strstr(err, "missing or broken"));
	remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(no_device_of_the_asked_type_is_enodev_with_the_reason)
{
	char err[1024] = "";
	void *st = NULL;

	set_cfg("device_type", "accelerator");
	ck_assert_int_eq(init_with(&st, err, sizeof err), TRIT_ENODEV);
	ck_assert_msg(strstr(err, "has no accelerator device (device_type = accelerator)"), "%s",
	              err);
}
END_TEST

START_TEST(a_buffer_beyond_the_largest_allocation_is_enomem)
{
	void *st = init_ok();
	const struct trit_property *max = find_prop(be()->device_get(st, 0), "opencl.max_alloc");
	struct trit_buffer *b = (struct trit_buffer *)1;
	char err[512] = "";

	ck_assert_int_eq(be()->buffer_alloc(st, 0, max->value.value + 1, &b, err, sizeof err),
	                 TRIT_ENOMEM);
	ck_assert_ptr_null(b);
	ck_assert_ptr_nonnull(strstr(err, "CL_DEVICE_MAX_MEM_ALLOC_SIZE"));
	/* and the device still works */
	{
		uint64_t inexact = 0;
		check_one(st, TRIT_TYPE_I2_S, 33, 130, 2, &inexact);
	}
	be()->shutdown(st);
}
END_TEST

/* A device that runs out of memory, for real. A CPU device's memory is the
 * process' address space, so capping that (RLIMIT_AS) makes the allocation
 * fail; a GPU is filled with buffers of the largest size until one fails.
 * Either way buffer_alloc must say so, and the device must carry on. */
static void fill_gpu_until_enomem(void *st, const struct trit_device *d, uint64_t max)
{
	uint64_t total = d->mem_total.value, n = total / max + 2;
	struct trit_buffer **held = calloc(n, sizeof *held);
	char err[512] = "";
	uint64_t i;
	int rc = 0;

	ck_assert_ptr_nonnull(held);
	for (i = 0; i < n; i++) {
		rc = be()->buffer_alloc(st, 0, max, &held[i], err, sizeof err);
		if (rc != 0)
			break;
	}
	ck_assert_msg(rc == TRIT_ENOMEM, "%llu buffers of %llu bytes on a %llu-byte device did not "
	              "run out (rc %d: %s)", (unsigned long long)i, (unsigned long long)max,
	              (unsigned long long)total, rc, err);
	ck_assert_ptr_nonnull(strstr(err, "could not allocate"));
	while (i-- > 0)
		be()->buffer_free(st, held[i]);
	free(held);
}

START_TEST(device_out_of_memory_at_allocation_is_enomem_and_harmless)
{
	void *st = init_ok();
	const struct trit_device *d = be()->device_get(st, 0);
	const struct trit_property *max = find_prop(d, "opencl.max_alloc");
	struct trit_buffer *b = (struct trit_buffer *)1;
	struct rlimit rl;
	char err[512] = "", line[256];
	uint64_t want = UINT64_C(1) << 30, vm_kib = 0, inexact = 0;
	FILE *f;
	int rc;

	if (d->kind != TRIT_DEVICE_CPU) {
		fill_gpu_until_enomem(st, d, max->value.value);
	} else {
		ck_assert_uint_ge(max->value.value, want);
		ck_assert_ptr_nonnull(f = fopen("/proc/self/status", "r"));
		while (fgets(line, sizeof line, f))
			if (sscanf(line, "VmSize: %llu kB", (unsigned long long *)&vm_kib) == 1)
				break;
		fclose(f);
		ck_assert_uint_gt(vm_kib, 0);
		rl.rlim_cur = rl.rlim_max = vm_kib * 1024 + (UINT64_C(256) << 20);
		ck_assert_int_eq(setrlimit(RLIMIT_AS, &rl), 0);
		rc = be()->buffer_alloc(st, 0, want, &b, err, sizeof err);
		ck_assert_msg(rc == TRIT_ENOMEM, "rc %d: %s", rc, err);
		ck_assert_ptr_null(b);
		ck_assert_msg(strstr(err, "could not allocate") != NULL, "%s", err);
	}
	/* the process and the device carry on */
	check_one(st, TRIT_TYPE_TL1, 40, 100, 3, &inexact);
	be()->shutdown(st);
}
END_TEST

START_TEST(a_bad_build_option_leaves_the_device_without_kernels)
{
	char err[1024] = "";
	void *st = NULL;
	const struct trit_device *d;
	const struct trit_property *k;
	struct trit_matmul op = { .struct_size = sizeof op, .weight_type = TRIT_TYPE_I2_S,
		                  .rows = 4, .cols = 4, .tokens = 1 };

	set_cfg("build_options", "-cl-trit-no-such-option");
	ck_assert_int_eq(init_with(&st, err, sizeof err), 0);
	d = be()->device_get(st, 0);
	ck_assert_uint_eq(d->matmul_types, 0);
	k = find_prop(d, "opencl.kernels");
	ck_assert_ptr_null(k->text);
	ck_assert_uint_eq(k->value.state, TRIT_VALUE_UNKNOWN);
	ck_assert_msg(strstr(k->value.source, "-cl-trit-no-such-option") != NULL, "%s",
	              k->value.source);
	ck_assert_ptr_nonnull(strstr(logbuf, "no ternary kernels"));
	ck_assert_int_eq(be()->matmul(st, 0, &op, err, sizeof err), TRIT_EUNSUPPORTED);
	ck_assert_ptr_nonnull(strstr(err, "has no ternary kernels"));
	be()->shutdown(st);
}
END_TEST

START_TEST(a_source_that_does_not_compile_gives_the_build_log)
{
	char *dir = make_temp_dir(), path[600], err[1024] = "";
	void *st = NULL;
	const struct trit_property *k;
	FILE *f;

	snprintf(path, sizeof path, "%s/broken.cl", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs("__kernel void trit_quantize(__global int *p) { p[0] = undeclared_thing; }\n", f);
	fclose(f);
	set_cfg("source", path);
	ck_assert_int_eq(init_with(&st, err, sizeof err), 0);
	ck_assert_uint_eq(be()->device_get(st, 0)->matmul_types, 0);
	k = find_prop(be()->device_get(st, 0), "opencl.kernels");
	ck_assert_msg(strstr(k->value.source, "broken.cl") && strstr(k->value.source, "undeclared"),
	              "%s", k->value.source);
	be()->shutdown(st);
	remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(a_source_that_computes_wrong_fails_the_self_test)
{
	/* the real source with TL1's decoding of the second trit of a pair
	 * wrong (idx % 2 for idx % 3): it builds, but the self-test catches it
	 * before the kernels are advertised */
	char *dir = make_temp_dir(), path[600], err[1024] = "";
	char *src = malloc(ocl_ternary_cl_len + 1), *p;
	void *st = NULL;
	const struct trit_property *k;
	FILE *f;

	memcpy(src, ocl_ternary_cl, ocl_ternary_cl_len + 1);
	/* every TL1 decoder, scalar and vector */
	ck_assert_ptr_nonnull(strstr(src, "idx % 3"));
	ck_assert_ptr_nonnull(strstr(src, "idx % (short16)3"));
	for (p = src; (p = strstr(p, "idx % 3")) != NULL; p++)
		p[6] = '2';
	for (p = src; (p = strstr(p, "idx % (short16)3")) != NULL; p++)
		p[15] = '2';
	snprintf(path, sizeof path, "%s/wrong.cl", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(src, f);
	fclose(f);
	set_cfg("source", path);
	ck_assert_int_eq(init_with(&st, err, sizeof err), 0);
	ck_assert_uint_eq(be()->device_get(st, 0)->matmul_types, 0);
	k = find_prop(be()->device_get(st, 0), "opencl.kernels");
	ck_assert_msg(strstr(k->value.source, "self-test: TL1") != NULL, "%s", k->value.source);
	be()->shutdown(st);
	free(src);
	remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(bad_settings_are_configuration_errors_naming_where)
{
	char err[1024] = "";
	void *st = NULL;

	set_cfg("frobnicate", "1");
	ck_assert_int_eq(init_with(&st, err, sizeof err), TRIT_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "test.ini:7"));
	ck_assert_ptr_nonnull(strstr(err, "frobnicate"));
	test_n_settings = 0;
	set_cfg("divide", "sometimes");
	ck_assert_int_eq(init_with(&st, err, sizeof err), TRIT_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "auto, option, emulate"));
	test_n_settings = 0;
	set_cfg("source", "/nonexistent/trit.cl");
	ck_assert_int_eq(init_with(&st, err, sizeof err), TRIT_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/trit.cl"));
	test_n_settings = 0;
	set_cfg("kernels", "no");
	ck_assert_int_eq(init_with(&st, err, sizeof err), 0);
	ck_assert_uint_eq(be()->device_get(st, 0)->matmul_types, 0);
	ck_assert_ptr_nonnull(strstr(find_prop(be()->device_get(st, 0), "opencl.kernels")
	                             ->value.source, "kernels = no"));
	be()->shutdown(st);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The memory budget ([plugin.opencl] memory).                                */

static void memory_now(void *st, uint64_t *free_bytes, uint64_t *total)
{
	char err[512] = "";
	int rc = be()->get_memory(st, 0, free_bytes, total, err, sizeof err);
	ck_assert_msg(rc == 0, "get_memory: %s", err);
}

START_TEST(a_memory_budget_is_the_total_and_buffers_count_against_it)
{
	const uint64_t mib = UINT64_C(1) << 20, big = 600u << 10;
	struct trit_buffer *a, *b = NULL;
	const struct trit_device *d;
	uint64_t fr, tot;
	char err[1024] = "";
	void *st;

	set_cfg("memory", "1MiB");
	st = init_ok();
	d = be()->device_get(st, 0);
	ck_assert_uint_eq(d->mem_total.state, TRIT_VALUE_CONFIGURED);
	ck_assert_uint_eq(d->mem_total.value, mib);
	ck_assert_ptr_nonnull(strstr(d->mem_total.source, "[plugin.opencl] memory = 1MiB (test.ini:7)"));
	ck_assert_uint_eq(d->mem_free.state, TRIT_VALUE_DERIVED);
	ck_assert_uint_eq(d->mem_free.value, mib);
	ck_assert_ptr_nonnull(strstr(d->mem_free.source, "budget"));
	a = alloc_buf(st, big);
	memory_now(st, &fr, &tot);
	ck_assert_uint_eq(tot, mib);
	ck_assert_uint_eq(fr, mib - big);
	ck_assert_int_eq(be()->device_update(st, 0, err, sizeof err), 0);
	ck_assert_uint_eq(be()->device_get(st, 0)->mem_free.value, mib - big);
	/* a second one does not fit: refused before the driver is asked */
	ck_assert_int_eq(be()->buffer_alloc(st, 0, big, &b, err, sizeof err), TRIT_ENOMEM);
	ck_assert_ptr_null(b);
	ck_assert_ptr_nonnull(strstr(err, "memory budget"));
	ck_assert_ptr_nonnull(strstr(err, "test.ini:7"));
	memory_now(st, &fr, &tot);
	ck_assert_uint_eq(fr, mib - big);
	/* freeing gives it back, to the byte */
	be()->buffer_free(st, a);
	memory_now(st, &fr, &tot);
	ck_assert_uint_eq(fr, mib);
	b = alloc_buf(st, mib);
	memory_now(st, &fr, &tot);
	ck_assert_uint_eq(fr, 0);
	be()->buffer_free(st, b);
	be()->shutdown(st);
}
END_TEST

START_TEST(without_a_budget_free_memory_stays_unknown_and_a_bad_one_is_refused)
{
	char err[1024] = "";
	uint64_t fr = 1, tot = 1;
	void *st = init_ok();
	const struct trit_device *d = be()->device_get(st, 0);

	ck_assert_uint_eq(d->mem_total.state, TRIT_VALUE_MEASURED);
	if (d->kind == TRIT_DEVICE_CPU) {
		ck_assert_uint_eq(d->mem_free.state, TRIT_VALUE_UNKNOWN);
		ck_assert_int_eq(be()->get_memory(st, 0, &fr, &tot, err, sizeof err),
		                 TRIT_EUNSUPPORTED);
		ck_assert_ptr_nonnull(strstr(err, "[plugin.opencl] memory"));
	}
	be()->shutdown(st);
	test_n_settings = 0;
	set_cfg("memory", "lots");
	st = NULL;
	ck_assert_int_eq(init_with(&st, err, sizeof err), TRIT_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "test.ini:7"));
	ck_assert_ptr_nonnull(strstr(err, "memory = 'lots'"));
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Graphs: several ops in one graph_compute.                                  */

static struct trit_tensor tensor2(uint32_t type, uint64_t ne0, uint64_t ne1,
                                  struct trit_buffer *b, uint64_t off)
{
	struct trit_tensor t;
	uint64_t es = type == TRIT_TYPE_F16 ? 2 : type == TRIT_TYPE_I8 ? 1 : 4;

	memset(&t, 0, sizeof t);
	t.type = type;
	t.ne[0] = ne0, t.ne[1] = ne1, t.ne[2] = t.ne[3] = 1;
	t.nb[0] = es, t.nb[1] = ne0 * es, t.nb[2] = t.nb[3] = ne0 * es * ne1;
	if (type == TRIT_TYPE_I2_S) {
		t.nb[0] = trit_type_traits(type)->block_bytes;
		t.nb[1] = ne0 / 4, t.nb[2] = t.nb[3] = ne0 / 4 * ne1;
	}
	t.buffer = b;
	t.offset = off;
	return t;
}

static struct trit_node node_of(uint32_t op, const char *name)
{
	struct trit_node n;
	memset(&n, 0, sizeof n);
	n.struct_size = sizeof n;
	n.op = op;
	n.name = name;
	return n;
}

enum { GK = 128, GM = 40, GT = 3, GR = 10 };

/* Byte offsets in the arena of the graph below. */
enum {
	O_TAB = 0, O_IDS = O_TAB + GK * GR * 4, O_X = O_IDS + 64, O_Q = O_X + GK * GT * 4,
	O_S = O_Q + GK * GT, O_NW = O_S + 64, O_G = O_NW + GM * 4, O_Y = O_G + GM * 4,
	O_H = O_Y + GM * GT * 4, O_Z = O_H + GM * GT * 4, O_W = O_Z + GM * GT * 4
};

/* The first half of a BitNet block: embedding lookup, activation
 * quantisation, an I2_S matmul, RMS norm with its weight, SILU in place,
 * a row-broadcast MUL. */
static void block_graph(struct trit_node *n, struct trit_buffer *a)
{
	n[0] = node_of(TRIT_OP_GET_ROWS, "tok_embd");
	n[0].dst = tensor2(TRIT_TYPE_F32, GK, GT, a, O_X);
	n[0].src[0] = tensor2(TRIT_TYPE_F32, GK, GR, a, O_TAB);
	n[0].src[1] = tensor2(TRIT_TYPE_I32, GT, 1, a, O_IDS);
	n[1] = node_of(TRIT_OP_QUANTIZE_ACT, "blk.0.act_q");
	n[1].dst = tensor2(TRIT_TYPE_I8, GK, GT, a, O_Q);
	n[1].src[0] = n[0].dst;
	n[1].src[1] = tensor2(TRIT_TYPE_F32, GT, 1, a, O_S);
	n[2] = node_of(TRIT_OP_MATMUL, "blk.0.ffn_up");
	n[2].dst = tensor2(TRIT_TYPE_F32, GM, GT, a, O_Y);
	n[2].src[0] = tensor2(TRIT_TYPE_I2_S, GK, GM, a, O_W);
	n[2].src[1] = n[1].dst;
	n[2].src[2] = n[1].src[1];
	n[3] = node_of(TRIT_OP_RMS_NORM, "blk.0.ffn_norm");
	n[3].dst = tensor2(TRIT_TYPE_F32, GM, GT, a, O_H);
	n[3].src[0] = n[2].dst;
	n[3].src[1] = tensor2(TRIT_TYPE_F32, GM, 1, a, O_NW);
	n[3].fparams[0] = 1e-6f;
	n[4] = node_of(TRIT_OP_SILU, "blk.0.ffn_act");
	n[4].dst = n[4].src[0] = n[3].dst;
	n[5] = node_of(TRIT_OP_MUL, "blk.0.ffn_gate");
	n[5].dst = tensor2(TRIT_TYPE_F32, GM, GT, a, O_Z);
	n[5].src[0] = n[3].dst;
	n[5].src[1] = n[3].src[1];
	n[5].src[1].offset = O_G;
}

/* What the graph computes, on the host: q, s and z. */
static void block_reference(const float *tab, const int32_t *ids, const unsigned char *w,
                            const float *nw, const float *gv, int8_t *q, float *s, double *z)
{
	struct trit_ternary_geometry g;
	float scale;

	ck_assert_int_eq(trit_ternary_geometry(TRIT_TYPE_I2_S, GM, GK, &g), 0);
	scale = trit_ternary_scale(w, g.data_bytes);
	for (int t = 0; t < GT; t++) {
		float y[GM];
		double ss = 0;
		s[t] = trit_quantize_act(tab + ids[t] * GK, GK, q + t * GK);
		for (int r = 0; r < GM; r++) {
			int32_t dot = 0;
			for (int k = 0; k < GK; k++)
				dot += trit_ternary_get(TRIT_TYPE_I2_S, &g, w, r, k) * q[t * GK + k];
			y[r] = trit_ternary_output(dot, s[t], scale);
			ss += (double)y[r] * y[r];
		}
		for (int r = 0; r < GM; r++) {
			double h = y[r] / sqrt(ss / GM + 1e-6) * nw[r];
			z[t * GM + r] = h / (1 + exp(-h)) * gv[r];
		}
	}
}

static struct trit_buffer *block_setup(void *st, int32_t *ids, float *tab, unsigned char **w,
                                       float *nw, float *gv)
{
	uint64_t wbytes;
	struct trit_buffer *a;

	*w = packed_weights(TRIT_TYPE_I2_S, GM, GK, &wbytes);
	a = alloc_buf(st, O_W + wbytes);
	for (int i = 0; i < GK * GR; i++)
		tab[i] = (float)((int)(rnd() % 2001) - 1000) / 250.0f;
	for (int i = 0; i < GM; i++) {
		nw[i] = 0.5f + (float)(rnd() % 100) / 100.0f;
		gv[i] = (float)((int)(rnd() % 201) - 100) / 50.0f;
	}
	write_buf(st, a, O_TAB, tab, GK * GR * 4);
	write_buf(st, a, O_IDS, ids, GT * 4);
	write_buf(st, a, O_NW, nw, GM * 4);
	write_buf(st, a, O_G, gv, GM * 4);
	write_buf(st, a, O_W, *w, wbytes);
	return a;
}

static int run_graph(void *st, const struct trit_node *n, uint32_t count, char *err,
                     size_t errlen)
{
	struct trit_graph g;
	struct trit_buffer *ws = NULL;
	uint64_t bytes = 0;
	int rc;

	memset(&g, 0, sizeof g);
	g.struct_size = sizeof g;
	g.n_nodes = count;
	g.nodes = n;
	for (uint32_t i = 0; i < count; i++)
		ck_assert_msg(be()->supports_op(st, 0, &n[i]), "node %u (%s) is not supported", i,
		              n[i].name);
	rc = be()->graph_workspace(st, 0, &g, &bytes, err, errlen);
	ck_assert_msg(rc == 0, "graph_workspace: %s", err);
	if (bytes) {
		ws = alloc_buf(st, bytes);
		g.workspace = ws;
		g.workspace_size = bytes;
	}
	rc = be()->graph_compute(st, 0, &g, err, errlen);
	if (ws)
		be()->buffer_free(st, ws);
	return rc;
}

START_TEST(a_graph_of_several_ops_runs_in_one_call_as_the_reference)
{
	int32_t ids[GT] = { 7, 0, 9 };
	float tab[GK * GR], nw[GM], gv[GM], s[GT], got_s[GT], z[GM * GT];
	int8_t q[GK * GT], got_q[GK * GT];
	double want[GM * GT], amax = 0;
	unsigned char *w;
	struct trit_node n[6];
	char err[1024] = "";
	void *st = init_ok();
	struct trit_buffer *a = block_setup(st, ids, tab, &w, nw, gv);
	int rc;

	block_graph(n, a);
	rc = run_graph(st, n, 6, err, sizeof err);
	ck_assert_msg(rc == 0, "graph_compute: %s", err);
	block_reference(tab, ids, w, nw, gv, q, s, want);
	read_buf(st, a, O_Q, got_q, sizeof got_q);
	read_buf(st, a, O_S, got_s, sizeof got_s);
	read_buf(st, a, O_Z, z, sizeof z);
	ck_assert_int_eq(memcmp(got_q, q, sizeof q), 0);
	ck_assert_int_eq(memcmp(got_s, s, sizeof s), 0);
	for (int i = 0; i < GM * GT; i++)
		amax = fabs(want[i]) > amax ? fabs(want[i]) : amax;
	ck_assert(amax > 0.1);
	for (int i = 0; i < GM * GT; i++)
		ck_assert_msg(fabs(z[i] - want[i]) <= 1e-5 * amax, "z[%d] = %.9g, want %.9g", i,
		              (double)z[i], want[i]);
	be()->buffer_free(st, a);
	free(w);
	be()->shutdown(st);
}
END_TEST

START_TEST(a_row_id_or_position_out_of_range_is_erange_naming_the_node)
{
	int32_t ids[GT] = { 7, GR, 0 }, pos[2] = { 3, 16 };
	float tab[GK * GR], nw[GM], gv[GM], kv[2 * 8];
	unsigned char *w;
	struct trit_node n[6], kvn;
	char err[1024] = "";
	void *st = init_ok();
	struct trit_buffer *a = block_setup(st, ids, tab, &w, nw, gv), *c = alloc_buf(st, 16 * 8 * 4);

	block_graph(n, a);
	ck_assert_int_eq(run_graph(st, n, 6, err, sizeof err), TRIT_ERANGE);
	ck_assert_msg(strstr(err, "node 0 'tok_embd' (GET_ROWS)") && strstr(err, "row id 10"),
	              "%s", err);
	/* KV_WRITE of two tokens of one head of 8 into a cache of 16 positions */
	memset(kv, 0, sizeof kv);
	write_buf(st, a, O_X, kv, sizeof kv);
	write_buf(st, a, O_IDS, pos, sizeof pos);
	kvn = node_of(TRIT_OP_KV_WRITE, "blk.3.k_cache");
	kvn.dst = tensor2(TRIT_TYPE_F32, 8, 1, c, 0);
	kvn.dst.ne[2] = 16;
	kvn.src[0] = tensor2(TRIT_TYPE_F32, 8, 1, a, O_X);
	kvn.src[0].ne[2] = 2;
	kvn.src[1] = tensor2(TRIT_TYPE_I32, 2, 1, a, O_IDS);
	ck_assert_int_eq(run_graph(st, &kvn, 1, err, sizeof err), TRIT_ERANGE);
	ck_assert_msg(strstr(err, "'blk.3.k_cache' (KV_WRITE)") && strstr(err, "position 16"),
	              "%s", err);
	be()->buffer_free(st, c);
	be()->buffer_free(st, a);
	free(w);
	be()->shutdown(st);
}
END_TEST

/* A source whose ADD subtracts: it builds and the ternary kernels pass,
 * but the ops' self-test catches it, and the device then claims no op but
 * the ternary matmul. */
START_TEST(ops_that_compute_wrong_are_not_claimed)
{
	char *dir = make_temp_dir(), path[600], err[1024] = "";
	const char *bad = "op == OP_ADD ? x + y";
	char *p;
	void *st = NULL;
	struct trit_node n = node_of(TRIT_OP_ADD, "a");
	FILE *f;

	ck_assert_ptr_nonnull(p = strstr(ocl_ops_cl, bad));
	snprintf(path, sizeof path, "%s/wrong.cl", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(ocl_ternary_cl, f);
	fwrite(ocl_ops_cl, 1, (size_t)(p - ocl_ops_cl) + strlen(bad) - 3, f);
	fputs("- y", f);
	fputs(p + strlen(bad), f);
	fclose(f);
	set_cfg("source", path);
	ck_assert_int_eq(init_with(&st, err, sizeof err), 0);
	ck_assert_uint_ne(be()->device_get(st, 0)->matmul_types, 0);
	ck_assert_msg(strstr(logbuf, "graph ops failed their self-test (ADD of") != NULL, "%s",
	              logbuf);
	n.dst = n.src[0] = tensor2(TRIT_TYPE_F32, 64, 2, NULL, 0);
	n.src[1] = tensor2(TRIT_TYPE_F32, 1, 1, NULL, 0);
	ck_assert_int_eq(be()->supports_op(st, 0, &n), 0);
	be()->shutdown(st);
	remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(supports_op_refuses_what_the_kernels_do_not_compute)
{
	void *st = init_ok();
	struct trit_node n = node_of(TRIT_OP_MATMUL, "m");
	struct trit_tensor tq = tensor2(TRIT_TYPE_F32, 256, 32, NULL, 0);

	/* a TQ2_0 [256, 32] tensor: one 66-byte block per row */
	tq.type = TRIT_TYPE_TQ2_0;
	tq.nb[0] = tq.nb[1] = 66, tq.nb[2] = tq.nb[3] = 66 * 32;
	n.dst = tensor2(TRIT_TYPE_F32, 32, 2, NULL, 0);
	n.src[0] = tensor2(TRIT_TYPE_F16, 256, 32, NULL, 0);
	n.src[1] = tensor2(TRIT_TYPE_F32, 256, 2, NULL, 0);
	ck_assert_int_eq(be()->supports_op(st, 0, &n), 1);
	n.src[0] = tq; /* no TQ2_0 kernel here */
	ck_assert_int_eq(be()->supports_op(st, 0, &n), 0);
	n = node_of(TRIT_OP_GET_ROWS, "g");
	n.dst = tensor2(TRIT_TYPE_F32, 256, 2, NULL, 0);
	n.src[0] = tensor2(TRIT_TYPE_F16, 256, 32, NULL, 0);
	n.src[1] = tensor2(TRIT_TYPE_I32, 2, 1, NULL, 0);
	ck_assert_int_eq(be()->supports_op(st, 0, &n), 1);
	n.src[0] = tq;
	ck_assert_int_eq(be()->supports_op(st, 0, &n), 0);
	n = node_of(TRIT_OP_ADD, "a"); /* y's ne[0] neither 1 nor x's */
	n.dst = n.src[0] = tensor2(TRIT_TYPE_F32, 64, 2, NULL, 0);
	n.src[1] = tensor2(TRIT_TYPE_F32, 32, 1, NULL, 0);
	ck_assert_int_eq(be()->supports_op(st, 0, &n), 0);
	n.src[1].ne[0] = 1;
	ck_assert_int_eq(be()->supports_op(st, 0, &n), 1);
	be()->shutdown(st);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Speed, for the record (not a pass/fail criterion).                        */

static double time_matmul(void *st, uint32_t type, uint64_t rows, uint64_t cols, uint64_t tokens,
                          int reps)
{
	uint64_t wbytes, ws;
	void *w = packed_weights(type, rows, cols, &wbytes);
	float *x = calloc(tokens * cols, 4);
	struct trit_matmul op = { .struct_size = sizeof op, .weight_type = type, .rows = rows,
		                  .cols = cols, .tokens = tokens };
	char err[512] = "";
	double t0, best = 1e9;

	for (uint64_t i = 0; i < tokens * cols; i++)
		x[i] = (float)(i % 13) - 6.0f;
	be()->matmul_workspace(st, 0, &op, &ws, err, sizeof err);
	op.weights = alloc_buf(st, wbytes);
	op.input = alloc_buf(st, tokens * cols * 4);
	op.output = alloc_buf(st, tokens * rows * 4);
	op.workspace = alloc_buf(st, ws);
	write_buf(st, op.weights, 0, w, wbytes);
	write_buf(st, op.input, 0, x, tokens * cols * 4);
	ck_assert_msg(be()->matmul(st, 0, &op, err, sizeof err) == 0, "%s", err); /* warm-up */
	for (int r = 0; r < reps; r++) {
		t0 = ocl_now();
		ck_assert_msg(be()->matmul(st, 0, &op, err, sizeof err) == 0, "%s", err);
		if (ocl_now() - t0 < best)
			best = ocl_now() - t0;
	}
	be()->buffer_free(st, op.weights);
	be()->buffer_free(st, op.input);
	be()->buffer_free(st, op.output);
	be()->buffer_free(st, op.workspace);
	free(w);
	free(x);
	return 2.0 * (double)rows * (double)cols * (double)tokens / best / 1e9;
}

START_TEST(speed_is_measured_and_printed)
{
	void *st = init_ok();
	const struct trit_device *d = be()->device_get(st, 0);

	for (int f = 0; f < 3; f++) {
		double gemv = time_matmul(st, formats[f], 2560, 2560, 1, 3);
		double gemm = time_matmul(st, formats[f], 2560, 2560, 16, 2);
		fprintf(stderr, "# opencl %s on '%s': %s%s 2560x2560 GEMV %.2f GOP/s, GEMM (16 "
		        "tokens) %.2f GOP/s\n", d->id, d->name, format_names[f],
		        f && ((struct ocl_state *)st)->devs[0].k.tl_vector ? " (vector variant)" : "",
		        gemv, gemm);
		ck_assert(gemv > 0 && gemm > 0);
	}
	be()->shutdown(st);
}
END_TEST

/* ------------------------------------------------------------------------ */

static void reset(void)
{
	test_n_settings = 0;
	logbuf[0] = '\0';
}

static Suite *opencl_suite(void)
{
	Suite *s = suite_create("opencl");
	TCase *t = tcase_create("device");
	TCase *k = tcase_create("kernels");
	TCase *c = tcase_create("cache");
	TCase *b = tcase_create("broken");
	TCase *g = tcase_create("graph");

	tcase_add_checked_fixture(t, reset, NULL);
	tcase_add_checked_fixture(k, reset, NULL);
	tcase_add_checked_fixture(c, reset, NULL);
	tcase_add_checked_fixture(b, reset, NULL);
	tcase_add_checked_fixture(g, reset, NULL);
	tcase_set_timeout(g, 120);
	tcase_set_timeout(t, 120);
	tcase_set_timeout(k, 300);
	tcase_set_timeout(c, 120);
	tcase_set_timeout(b, 120);
	tcase_add_test(t, entry_point_returns_a_complete_static_table);
	tcase_add_test(t, device_reports_memory_kernels_and_host_pool);
	tcase_add_test(k, i2s_matches_the_reference_on_random_ragged_shapes);
	tcase_add_test(k, tl1_matches_the_reference_on_random_ragged_shapes);
	tcase_add_test(k, tl2_matches_the_reference_on_random_ragged_shapes);
	tcase_add_test(k, emulated_division_is_exact_too);
	tcase_add_test(k, activation_ties_round_half_to_even);
	tcase_add_test(k, invalid_codes_read_as_zero_as_in_the_reference);
	tcase_add_test(k, one_arena_buffer_holds_all_four_regions);
	tcase_add_test(k, matmul_refuses_what_it_cannot_do_with_reasons);
	tcase_add_test(k, speed_is_measured_and_printed);
	tcase_add_test(g, a_graph_of_several_ops_runs_in_one_call_as_the_reference);
	tcase_add_test(g, a_row_id_or_position_out_of_range_is_erange_naming_the_node);
	tcase_add_test(g, supports_op_refuses_what_the_kernels_do_not_compute);
	tcase_add_test(g, ops_that_compute_wrong_are_not_claimed);
	tcase_add_test(t, a_memory_budget_is_the_total_and_buffers_count_against_it);
	tcase_add_test(t, without_a_budget_free_memory_stays_unknown_and_a_bad_one_is_refused);
	tcase_add_test(c, second_init_loads_the_program_from_the_cache);
	tcase_add_test(c, cache_no_writes_nothing);
	tcase_add_test(c, a_probe_cache_hit_loads_no_driver_describes_the_same_and_runs);
	tcase_add_test(c, a_damaged_cached_description_is_probed_again);
	tcase_add_test(c, a_cached_device_that_differs_or_is_gone_fails_its_first_use);
	tcase_add_test(c, the_stamp_follows_icd_files_libraries_environment_and_options);
	tcase_add_test(c, without_a_cache_in_the_host_init_probes_as_before);
	tcase_add_test(b, no_icd_platform_is_enodev_with_the_reason);
	tcase_add_test(b, a_broken_vendor_library_is_skipped_not_fatal);
	tcase_add_test(b, no_device_of_the_asked_type_is_enodev_with_the_reason);
	tcase_add_test(b, a_buffer_beyond_the_largest_allocation_is_enomem);
	tcase_add_test(b, device_out_of_memory_at_allocation_is_enomem_and_harmless);
	tcase_add_test(b, a_bad_build_option_leaves_the_device_without_kernels);
	tcase_add_test(b, a_source_that_does_not_compile_gives_the_build_log);
	tcase_add_test(b, a_source_that_computes_wrong_fails_the_self_test);
	tcase_add_test(b, bad_settings_are_configuration_errors_naming_where);
	suite_add_tcase(s, t);
	suite_add_tcase(s, k);
	suite_add_tcase(s, c);
	suite_add_tcase(s, b);
	suite_add_tcase(s, g);
	return s;
}

/* In a child process (OpenCL must not be initialised in this one): does
 * init find a device with kernels? Returns 1, or 0 with the reason. */
static int device_here(char *why, size_t len)
{
	int fds[2], status = 0;
	pid_t pid;
	ssize_t n;

	if (pipe(fds) != 0)
		return snprintf(why, len, "pipe: %s", strerror(errno)), 0;
	pid = fork();
	if (pid == 0) {
		char err[1024] = "";
		void *st = NULL;
		int rc = init_with(&st, err, sizeof err);
		if (rc == 0 && (!be()->device_count(st) || !be()->device_get(st, 0)->matmul_types))
			snprintf(err, sizeof err, "the first OpenCL device has no kernels: %.900s", logbuf);
		if (write(fds[1], err, strlen(err)) < 0)
			_exit(2);
		_exit(rc == 0 && !err[0] ? 0 : 1);
	}
	close(fds[1]);
	n = read(fds[0], why, len - 1);
	why[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return 0;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int main(void)
{
	char why[1100] = "", *dir = temp_dir();
	SRunner *sr;
	int failed;

	if (!dir) {
		printf("1..0 # SKIP cannot make a temporary directory: %s\n", strerror(errno));
		return 0;
	}
	snprintf(shared_cache, sizeof shared_cache, "%s", dir);
	if (!device_here(why, sizeof why)) {
		for (char *p = why; *p; p++)
			if (*p == '\n')
				*p = ' ';
		printf("1..0 # SKIP no OpenCL device with working kernels here: %s\n", why);
		remove_tree(dir);
		free(dir);
		return 0;
	}
	sr = srunner_create(opencl_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	remove_tree(dir);
	free(dir);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
