/*
 * check_cuda.c - the cuda plugin against the fake driver (tests/fakecuda):
 * what it detects and reports (figures exactly as simulated), memory
 * accounting, allocation failures, broken environments (no driver, a
 * library that is not a driver, zero devices, cuInit failing, a device lost
 * at probe or later, kernels that do not load), the configuration, the
 * workspace sizes, kernel launches that the fake refuses, launches it
 * checks and counts without running them (FAKECUDA_LAUNCH=noop, its log),
 * and memory another process takes after the probe (FAKECUDA_FAIL taken=).
 * Each case runs in its own process (Check's fork mode) with its own
 * environment; a case that reads the launch log, which the fake writes at
 * exit, runs the plugin in a child of its own.
 */
#include <build-config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <trit/ternary.h>

#include "internal.h"

#define GIB (UINT64_C(1) << 30)
#define MIB (UINT64_C(1) << 20)

static const char *fake_path(void)
{
	return FAKECUDA_DIR "/" LT_OBJDIR "fakecuda.so";
}

/* ------------------------------------------------------------------------ */
/* A host table with an INI section of our choosing and a log we can read.  */

struct test_host {
	struct trit_host h;
	const char *keys[4], *vals[4], *where[4];
	int n;
	char log[16384];
};

static const char *cfg_get(void *ctx, const char *key)
{
	struct test_host *t = ctx;
	for (int i = 0; i < t->n; i++)
		if (strcmp(t->keys[i], key) == 0)
			return t->vals[i];
	return NULL;
}

static const char *cfg_key(void *ctx, uint32_t index)
{
	struct test_host *t = ctx;
	return (int)index < t->n ? t->keys[index] : NULL;
}

static const char *cfg_where(void *ctx, const char *key)
{
	struct test_host *t = ctx;
	for (int i = 0; i < t->n; i++)
		if (strcmp(t->keys[i], key) == 0)
			return t->where[i];
	return NULL;
}

static void host_log(void *ctx, int level, const char *msg)
{
	struct test_host *t = ctx;
	size_t n = strlen(t->log);
	snprintf(t->log + n, sizeof t->log - n, "%d %s\n", level, msg);
}

static struct test_host th;
static const struct trit_backend *be;
static void *st;
static char err[4096];

static void host_reset(void)
{
	memset(&th, 0, sizeof th);
	th.h = (struct trit_host){
		.abi_version = TRIT_BACKEND_ABI_VERSION, .struct_size = sizeof(struct trit_host),
		.host_version = PACKAGE_VERSION, .ctx = &th, .log = host_log,
		.config_get = cfg_get, .config_key = cfg_key, .config_where = cfg_where,
	};
}

static void setup(void)
{
	host_reset();
	be = cuda_LTX_trit_backend_entry();
	st = NULL;
	err[0] = '\0';
	setenv("TRIT_CUDA_DRIVER", fake_path(), 1);
	unsetenv("FAKECUDA_FAIL");
	unsetenv("FAKECUDA_DEVICES");
	unsetenv("FAKECUDA_LAUNCH");
	unsetenv("FAKECUDA_LAUNCH_LOG");
}

static void teardown(void)
{
	if (st)
		be->shutdown(st);
	st = NULL;
}

/* init with these devices; fails the test unless it succeeds */
static void init_ok(const char *devices)
{
	if (devices)
		setenv("FAKECUDA_DEVICES", devices, 1);
	int rc = be->init(&th.h, &st, err, sizeof err);
	ck_assert_msg(rc == 0, "init failed (%d): %s", rc, err);
}

static int init_rc(const char *devices)
{
	if (devices)
		setenv("FAKECUDA_DEVICES", devices, 1);
	int rc = be->init(&th.h, &st, err, sizeof err);
	if (rc)
		st = NULL;
	return rc;
}

static const struct trit_property *prop(const struct trit_device *d, const char *key)
{
	for (uint32_t i = 0; i < d->n_props; i++)
		if (strcmp(d->props[i].key, key) == 0)
			return &d->props[i];
	ck_abort_msg("device %s has no property %s", d->id, key);
	return NULL;
}

static int kernels_built(void)
{
	size_t n;
	const char *why;
	return cuda_kernel_image(&n, &why) != NULL;
}

#define THREE "RTX 3050:4GiB cc=8.6 sms=20 bus=128 memclock=7001MHz clock=1777MHz ctx=256MiB, " \
	"RTX 4090:24GiB/20GiB free cc=8.9 sms=128 bus=384 memclock=10501MHz clock=2520MHz, " \
	"A100:80GiB cc=8.0 sms=108 bus=5120 memclock=1593MHz clock=1410MHz ctx=500MiB l2=40MiB"

/* ------------------------------------------------------------------------ */
/* Detection                                                                 */

START_TEST(three_simulated_devices_report_exactly_what_was_simulated)
{
	init_ok(THREE);
	ck_assert_uint_eq(be->device_count(st), 3);
	const struct trit_device *a = be->device_get(st, 0), *b = be->device_get(st, 1),
	                         *c = be->device_get(st, 2);
	ck_assert_ptr_null(be->device_get(st, 3));
	ck_assert_str_eq(a->id, "cuda0");
	ck_assert_str_eq(b->id, "cuda1");
	ck_assert_str_eq(a->name, "RTX 3050");
	ck_assert_str_eq(c->name, "A100");
	ck_assert_str_eq(a->vendor, "NVIDIA");
	ck_assert_uint_eq(a->kind, TRIT_DEVICE_GPU);
	ck_assert_uint_eq(a->struct_size, sizeof(struct trit_device));

	/* memory: total measured; free = what was free before trit's context */
	ck_assert_uint_eq(a->mem_total.state, TRIT_VALUE_MEASURED);
	ck_assert_uint_eq(a->mem_total.value, 4 * GIB);
	ck_assert_uint_eq(b->mem_total.value, 24 * GIB);
	ck_assert_uint_eq(c->mem_total.value, 80 * GIB);
	ck_assert_uint_eq(a->mem_free.state, TRIT_VALUE_DERIVED);
	ck_assert_uint_eq(a->mem_free.value, 4 * GIB);
	ck_assert_uint_eq(b->mem_free.value, 20 * GIB);
	ck_assert_uint_eq(c->mem_free.value, 80 * GIB);
	ck_assert_ptr_nonnull(strstr(a->mem_free.source, "cuMemGetInfo"));
	/* the context's cost, measured with a second context */
	ck_assert_uint_eq(prop(a, "mem.overhead")->value.state, TRIT_VALUE_MEASURED);
	ck_assert_uint_eq(prop(a, "mem.overhead")->value.value, 256 * MIB);
	ck_assert_uint_eq(prop(b, "mem.overhead")->value.value, 300 * MIB); /* the fake's default */
	ck_assert_uint_eq(prop(c, "mem.overhead")->value.value, 500 * MIB);
	ck_assert_str_eq(prop(a, "mem.overhead")->unit, "bytes");

	/* bandwidth = 2 x memory clock x bus width / 8, derived */
	ck_assert_uint_eq(a->mem_bandwidth.state, TRIT_VALUE_DERIVED);
	ck_assert_uint_eq(a->mem_bandwidth.value, 2ull * 7001000000ull * 128 / 8);
	ck_assert_uint_eq(b->mem_bandwidth.value, 2ull * 10501000000ull * 384 / 8);
	ck_assert_uint_eq(c->mem_bandwidth.value, 2ull * 1593000000ull * 5120 / 8);
	ck_assert_ptr_nonnull(strstr(a->mem_bandwidth.source, "2 x 7001000 kHz memory clock x 128-bit bus / 8"));

	ck_assert_uint_eq(a->compute_units.state, TRIT_VALUE_MEASURED);
	ck_assert_uint_eq(a->compute_units.value, 20);
	ck_assert_uint_eq(c->compute_units.value, 108);
	ck_assert_uint_eq(a->clock_hz.value, 1777000000ull);
	ck_assert_uint_eq(a->compute_capability.value, 86);
	ck_assert_uint_eq(b->compute_capability.value, 89);
	ck_assert_uint_eq(c->compute_capability.value, 80);
	ck_assert_uint_eq(a->hw_threads.state, TRIT_VALUE_UNKNOWN);
	ck_assert_ptr_nonnull(a->hw_threads.source);
	ck_assert(a->caps & TRIT_CAP_FP16);
	ck_assert(a->caps & TRIT_CAP_BF16);
	ck_assert(!(a->caps & (TRIT_CAP_INTEGRATED | TRIT_CAP_UNIFIED_MEM)));

	/* each discrete GPU is its own memory pool */
	ck_assert_str_eq(prop(a, "mem.pool")->text, "pci:0000:01:00.0");
	ck_assert_str_eq(prop(b, "mem.pool")->text, "pci:0000:02:00.0");
	ck_assert_str_eq(prop(a, "pci.bus_id")->text, "0000:01:00.0");
	ck_assert_str_eq(prop(a, "cuda.driver_version")->text, "13.0");
	ck_assert_ptr_nonnull(strstr(prop(a, "cuda.driver_library")->text, "TRIT_CUDA_DRIVER"));
	ck_assert_uint_eq(prop(a, "mem.bus_width")->value.value, 128);
	ck_assert_uint_eq(prop(a, "mem.clock")->value.value, 7001000000ull);
	ck_assert_uint_eq(prop(c, "cache.l2")->value.state, TRIT_VALUE_MEASURED);
	ck_assert_uint_eq(prop(c, "cache.l2")->value.value, 40 * MIB);
	ck_assert_uint_eq(prop(a, "cache.l2")->value.value, 4 * MIB); /* the fake's default */

	uint64_t ternary = TRIT_TYPE_BIT(TRIT_TYPE_I2_S) | TRIT_TYPE_BIT(TRIT_TYPE_TL1) |
	                   TRIT_TYPE_BIT(TRIT_TYPE_TL2);
	if (kernels_built()) {
		ck_assert_uint_eq(a->matmul_types, ternary);
		ck_assert_ptr_nonnull(strstr(prop(a, "kernels")->text, "I2_S TL1 TL2"));
	} else {
		ck_assert_uint_eq(a->matmul_types, 0);
		ck_assert_ptr_nonnull(strstr(prop(a, "kernels")->text, "built without kernels"));
	}
}
END_TEST

START_TEST(an_integrated_gpu_shares_the_host_pool)
{
	init_ok("Orin:32GiB/30GiB free integrated pageable cc=8.7 sms=16");
	const struct trit_device *d = be->device_get(st, 0);
	ck_assert(d->caps & TRIT_CAP_INTEGRATED);
	ck_assert(d->caps & TRIT_CAP_UNIFIED_MEM);
	ck_assert_str_eq(prop(d, "mem.pool")->text, "host");
	ck_assert_uint_eq(d->mem_free.value, 30 * GIB);
}
END_TEST

START_TEST(an_old_gpu_has_no_bf16_and_a_pre_maxwell_one_no_fp16)
{
	init_ok("T4:16GiB cc=7.5, K80:12GiB cc=3.7");
	ck_assert(be->device_get(st, 0)->caps & TRIT_CAP_FP16);
	ck_assert(!(be->device_get(st, 0)->caps & TRIT_CAP_BF16));
	ck_assert(!(be->device_get(st, 1)->caps & TRIT_CAP_FP16));
}
END_TEST

START_TEST(a_memory_clock_of_zero_leaves_bandwidth_unknown_with_the_reason)
{
	init_ok("Odd:8GiB memclock=0");
	const struct trit_device *d = be->device_get(st, 0);
	ck_assert_uint_eq(d->mem_bandwidth.state, TRIT_VALUE_UNKNOWN);
	ck_assert_ptr_nonnull(strstr(d->mem_bandwidth.source, "memory clock of 0"));
	ck_assert_uint_eq(prop(d, "mem.clock")->value.state, TRIT_VALUE_UNKNOWN);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Broken environments                                                       */

START_TEST(no_driver_is_a_skip_reason_naming_the_file)
{
	setenv("TRIT_CUDA_DRIVER", "/nonexistent/libcuda.so.1", 1);
	ck_assert_int_eq(init_rc("A:4GiB"), TRIT_ENODEV);
	ck_assert_ptr_nonnull(strstr(err, "no CUDA driver"));
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/libcuda.so.1"));
	ck_assert_ptr_nonnull(strstr(err, "environment TRIT_CUDA_DRIVER"));
}
END_TEST

START_TEST(a_library_that_is_not_a_driver_is_refused_naming_the_symbol)
{
	setenv("TRIT_CUDA_DRIVER", "libm.so.6", 1);
	ck_assert_int_eq(init_rc("A:4GiB"), TRIT_ENODEV);
	ck_assert_ptr_nonnull(strstr(err, "does not export cuInit"));
}
END_TEST

START_TEST(a_driver_with_no_device_gives_zero_devices_and_says_so)
{
	init_ok("");
	ck_assert_uint_eq(be->device_count(st), 0);
	ck_assert_ptr_null(be->device_get(st, 0));
	ck_assert_msg(strstr(th.log, "reports no device") != NULL, "log: %s", th.log);
	ck_assert_ptr_nonnull(strstr(th.log, "CUDA_ERROR_NO_DEVICE"));
}
END_TEST

START_TEST(a_failing_cuinit_is_a_skip_reason_with_the_driver_error)
{
	setenv("FAKECUDA_FAIL", "init=803", 1);
	ck_assert_int_eq(init_rc("A:4GiB"), TRIT_ENODEV);
	ck_assert_ptr_nonnull(strstr(err, "failed to initialise"));
	ck_assert_ptr_nonnull(strstr(err, "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH"));
}
END_TEST

START_TEST(a_malformed_fake_description_reaches_the_reason)
{
	ck_assert_int_eq(init_rc("A:lots"), TRIT_ENODEV);
	ck_assert_msg(strstr(err, "FAKECUDA_DEVICES device 0") != NULL, "%s", err);
}
END_TEST

START_TEST(a_device_lost_at_probe_is_left_out_and_logged)
{
	setenv("FAKECUDA_FAIL", "lost=0", 1);
	init_ok("Lost:8GiB, Fine:16GiB");
	ck_assert_uint_eq(be->device_count(st), 1);
	ck_assert_str_eq(be->device_get(st, 0)->name, "Fine");
	ck_assert_str_eq(be->device_get(st, 0)->id, "cuda1"); /* ids follow CUDA's ordinals */
	ck_assert_msg(strstr(th.log, "CUDA device 0 is not used") != NULL, "log: %s", th.log);
	ck_assert_ptr_nonnull(strstr(th.log, "CUDA_ERROR_UNKNOWN"));
}
END_TEST

START_TEST(when_every_device_is_lost_init_fails_with_the_reason)
{
	setenv("FAKECUDA_FAIL", "lost=0", 1);
	ck_assert_int_eq(init_rc("Lost:8GiB"), TRIT_EDEVICE);
	ck_assert_ptr_nonnull(strstr(err, "none of the 1 CUDA device could be used"));
	ck_assert_ptr_nonnull(strstr(err, "cuCtxCreate on cuda0 (Lost)"));
}
END_TEST

START_TEST(a_device_lost_after_probe_fails_calls_with_edevice)
{
	struct trit_buffer *b = NULL;
	init_ok("A:8GiB");
	setenv("FAKECUDA_FAIL", "lost=0", 1);
	ck_assert_int_eq(be->buffer_alloc(st, 0, 4096, &b, err, sizeof err), TRIT_EDEVICE);
	ck_assert_ptr_null(b);
	ck_assert_ptr_nonnull(strstr(err, "cuda0"));
	ck_assert_int_eq(be->device_update(st, 0, err, sizeof err), TRIT_EDEVICE);
	ck_assert_ptr_nonnull(strstr(err, "cuMemGetInfo on cuda0 (A)"));
	/* and back */
	unsetenv("FAKECUDA_FAIL");
	ck_assert_int_eq(be->device_update(st, 0, err, sizeof err), 0);
}
END_TEST

START_TEST(kernels_that_do_not_load_are_not_advertised_and_the_device_stays)
{
	setenv("FAKECUDA_FAIL", "module=1", 1);
	init_ok("A:8GiB cc=8.6, B:8GiB cc=3.5");
	const struct trit_device *a = be->device_get(st, 0), *b = be->device_get(st, 1);
	uint64_t ws;
	struct trit_matmul op = { .struct_size = sizeof op, .weight_type = TRIT_TYPE_I2_S,
	                          .rows = 64, .cols = 128, .tokens = 1 };
	ck_assert_uint_eq(be->device_count(st), 2);
	ck_assert_uint_eq(b->matmul_types, 0);
	if (!kernels_built()) {
		ck_assert_ptr_nonnull(strstr(prop(b, "kernels")->text, "built without kernels"));
		return;
	}
	ck_assert_uint_ne(a->matmul_types, 0);
	ck_assert_msg(strstr(prop(b, "kernels")->text, "none: cuModuleLoadData failed: "
	                     "CUDA_ERROR_NO_BINARY_FOR_GPU") != NULL, "%s", prop(b, "kernels")->text);
	ck_assert_ptr_nonnull(strstr(prop(b, "kernels")->text, "this device is sm_35"));
	ck_assert_msg(strstr(th.log, "cuda1 (B): kernels not available") != NULL, "log: %s", th.log);
	ck_assert_int_eq(be->matmul_workspace(st, 1, &op, &ws, err, sizeof err), TRIT_EUNSUPPORTED);
	ck_assert_ptr_nonnull(strstr(err, "cuda1 (B) runs no kernels"));
	ck_assert_int_eq(be->matmul_workspace(st, 0, &op, &ws, err, sizeof err), 0);
}
END_TEST

START_TEST(without_a_second_context_the_overhead_is_unknown_and_free_is_as_measured)
{
	setenv("FAKECUDA_FAIL", "ctxlimit=1", 1);
	init_ok("A:8GiB ctx=200MiB");
	const struct trit_device *d = be->device_get(st, 0);
	ck_assert_uint_eq(prop(d, "mem.overhead")->value.state, TRIT_VALUE_UNKNOWN);
	ck_assert_ptr_nonnull(strstr(prop(d, "mem.overhead")->value.source, "second context"));
	ck_assert_uint_eq(d->mem_free.state, TRIT_VALUE_MEASURED);
	ck_assert_uint_eq(d->mem_free.value, 8 * GIB - 200 * MIB);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Configuration                                                             */

START_TEST(the_ini_driver_key_names_the_library)
{
	unsetenv("TRIT_CUDA_DRIVER");
	th.keys[0] = "driver";
	th.vals[0] = fake_path();
	th.where[0] = "deploy.ini:7";
	th.n = 1;
	init_ok("A:4GiB");
	ck_assert_msg(strstr(prop(be->device_get(st, 0), "cuda.driver_library")->text,
	                     "deploy.ini:7") != NULL, "%s",
	              prop(be->device_get(st, 0), "cuda.driver_library")->text);
}
END_TEST

START_TEST(trit_cuda_driver_wins_over_the_ini_key)
{
	th.keys[0] = "driver";
	th.vals[0] = "/nonexistent/from-ini.so";
	th.where[0] = "deploy.ini:7";
	th.n = 1;
	init_ok("A:4GiB"); /* TRIT_CUDA_DRIVER (the fake) is set by setup() */
	unsetenv("TRIT_CUDA_DRIVER");
	be->shutdown(st);
	st = NULL;
	ck_assert_int_eq(init_rc(NULL), TRIT_ENODEV);
	ck_assert_ptr_nonnull(strstr(err, "from-ini.so (deploy.ini:7)"));
}
END_TEST

START_TEST(unknown_and_empty_keys_are_configuration_errors_naming_where)
{
	th.keys[0] = "drvier";
	th.vals[0] = "x";
	th.where[0] = "deploy.ini:9";
	th.n = 1;
	ck_assert_int_eq(init_rc("A:4GiB"), TRIT_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "deploy.ini:9: [plugin.cuda] drvier: unknown key"));
	th.keys[0] = "driver";
	th.vals[0] = "";
	ck_assert_int_eq(init_rc("A:4GiB"), TRIT_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "driver is empty"));
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Memory                                                                    */

START_TEST(allocations_lower_free_memory_by_exactly_their_size)
{
	struct trit_buffer *b1, *b2;
	init_ok("A:4GiB ctx=256MiB");
	const struct trit_device *d = be->device_get(st, 0);
	ck_assert_uint_eq(d->mem_free.value, 4 * GIB);
	ck_assert_int_eq(be->buffer_alloc(st, 0, GIB, &b1, err, sizeof err), 0);
	ck_assert_int_eq(be->buffer_alloc(st, 0, 12345, &b2, err, sizeof err), 0);
	ck_assert_int_eq(be->device_update(st, 0, err, sizeof err), 0);
	ck_assert_uint_eq(d->mem_free.value, 3 * GIB - 12345);
	be->buffer_free(st, b1);
	be->buffer_free(st, b2);
	ck_assert_int_eq(be->device_update(st, 0, err, sizeof err), 0);
	ck_assert_uint_eq(d->mem_free.value, 4 * GIB);
}
END_TEST

START_TEST(buffers_keep_what_is_written_and_refuse_ranges_outside)
{
	struct trit_buffer *b, *empty;
	unsigned char in[4096], out[4096];
	init_ok("A:4GiB");
	for (size_t i = 0; i < sizeof in; i++)
		in[i] = (unsigned char)(i * 7);
	ck_assert_int_eq(be->buffer_alloc(st, 0, sizeof in, &b, err, sizeof err), 0);
	ck_assert_int_eq(be->buffer_write(st, b, 0, in, sizeof in, err, sizeof err), 0);
	ck_assert_int_eq(be->buffer_read(st, b, 100, out, 1000, err, sizeof err), 0);
	ck_assert_mem_eq(out, in + 100, 1000);
	ck_assert_int_eq(be->buffer_write(st, b, 4000, in, 97, err, sizeof err), TRIT_ERANGE);
	ck_assert_ptr_nonnull(strstr(err, "outside the 4096-byte buffer"));
	ck_assert_int_eq(be->buffer_read(st, b, UINT64_MAX, out, 2, err, sizeof err), TRIT_ERANGE);
	ck_assert_int_eq(be->buffer_write(st, NULL, 0, in, 1, err, sizeof err), TRIT_EINVAL);
	/* an empty buffer takes no device memory and accepts empty copies */
	ck_assert_int_eq(be->buffer_alloc(st, 0, 0, &empty, err, sizeof err), 0);
	ck_assert_int_eq(be->buffer_write(st, empty, 0, in, 0, err, sizeof err), 0);
	be->buffer_free(st, empty);
	be->buffer_free(st, b);
	ck_assert_int_eq(be->buffer_alloc(st, 7, 16, &b, err, sizeof err), TRIT_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "no device 7"));
}
END_TEST

START_TEST(out_of_device_memory_is_enomem_with_a_sentence_and_the_host_carries_on)
{
	struct trit_buffer *b = (struct trit_buffer *)&b, *ok_b;
	init_ok("Small:4GiB ctx=256MiB");
	ck_assert_int_eq(be->buffer_alloc(st, 0, 5 * GIB, &b, err, sizeof err), TRIT_ENOMEM);
	ck_assert_ptr_null(b);
	ck_assert_msg(strstr(err, "out of device memory: cannot allocate 5368709120 bytes on "
	                     "cuda0 (Small), which has 4026531840 bytes free of 4294967296") != NULL,
	              "%s", err);
	ck_assert_ptr_nonnull(strstr(err, "CUDA_ERROR_OUT_OF_MEMORY"));
	/* the device and the host are unharmed: a smaller buffer works */
	ck_assert_int_eq(be->buffer_alloc(st, 0, GIB, &ok_b, err, sizeof err), 0);
	be->buffer_free(st, ok_b);
	/* an injected failure of the second allocation */
	setenv("FAKECUDA_FAIL", "alloc=3", 1); /* this test's third cuMemAlloc */
	ck_assert_int_eq(be->buffer_alloc(st, 0, 1024, &b, err, sizeof err), TRIT_ENOMEM);
	ck_assert_int_eq(be->buffer_alloc(st, 0, 1024, &ok_b, err, sizeof err), 0);
	be->buffer_free(st, ok_b);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Kernels                                                                   */

START_TEST(matmul_workspace_is_the_exact_layout)
{
	uint64_t ws = 0;
	struct trit_matmul op = { .struct_size = sizeof op, .weight_type = TRIT_TYPE_I2_S,
	                          .rows = 2560, .cols = 6912, .tokens = 512 };
	init_ok("A:8GiB");
	if (!kernels_built()) {
		ck_assert_int_eq(be->matmul_workspace(st, 0, &op, &ws, err, sizeof err), TRIT_EUNSUPPORTED);
		ck_assert_ptr_nonnull(strstr(err, "built without kernels"));
		return;
	}
	/* F32: int8 activations padded to cols_pad, then one F32 per token */
	ck_assert_int_eq(be->matmul_workspace(st, 0, &op, &ws, err, sizeof err), 0);
	ck_assert_uint_eq(ws, 512 * 6912 + 512 * 4);
	op.cols = 100;
	ck_assert_int_eq(be->matmul_workspace(st, 0, &op, &ws, err, sizeof err), 0);
	ck_assert_uint_eq(ws, 512 * 128 + 512 * 4);
	op.weight_type = TRIT_TYPE_TL1;
	ck_assert_int_eq(be->matmul_workspace(st, 0, &op, &ws, err, sizeof err), 0);
	ck_assert_uint_eq(ws, 512 * 128 + 512 * 4);
	op.weight_type = TRIT_TYPE_TL2;
	ck_assert_int_eq(be->matmul_workspace(st, 0, &op, &ws, err, sizeof err), 0);
	ck_assert_uint_eq(ws, 512 * 192 + 512 * 4);
	/* integer dots: a padded copy only when cols is ragged */
	op.flags = TRIT_MATMUL_INT_DOTS;
	ck_assert_int_eq(be->matmul_workspace(st, 0, &op, &ws, err, sizeof err), 0);
	ck_assert_uint_eq(ws, 512 * 192);
	op.cols = 192;
	ck_assert_int_eq(be->matmul_workspace(st, 0, &op, &ws, err, sizeof err), 0);
	ck_assert_uint_eq(ws, 0);
	/* what the backend does not run */
	op.weight_type = TRIT_TYPE_F16;
	ck_assert_int_eq(be->matmul_workspace(st, 0, &op, &ws, err, sizeof err), TRIT_EUNSUPPORTED);
	ck_assert_ptr_nonnull(strstr(err, "no F16 matmul"));
	op.weight_type = TRIT_TYPE_I2_S;
	op.flags = 0x80;
	ck_assert_int_eq(be->matmul_workspace(st, 0, &op, &ws, err, sizeof err), TRIT_EUNSUPPORTED);
	op.flags = 0;
	op.tokens = 0;
	ck_assert_int_eq(be->matmul_workspace(st, 0, &op, &ws, err, sizeof err), TRIT_EINVAL);
}
END_TEST

/* Buffers for an I2_S rows x cols x tokens product on device 0. */
struct mm {
	struct trit_buffer *w, *in, *out, *ws;
	struct trit_matmul op;
};

/* The same on `dev`: 0, or the failing call's result with err set (for
 * children that report through their exit status, not Check). */
static int mm_make(struct mm *m, uint32_t dev, uint64_t rows, uint64_t cols, uint64_t tokens,
                   uint32_t flags)
{
	uint64_t ws = 0;
	int rc;
	memset(m, 0, sizeof *m);
	m->op = (struct trit_matmul){ .struct_size = sizeof m->op, .weight_type = TRIT_TYPE_I2_S,
	                              .rows = rows, .cols = cols, .tokens = tokens, .flags = flags };
	if ((rc = be->matmul_workspace(st, dev, &m->op, &ws, err, sizeof err)) ||
	    (rc = be->buffer_alloc(st, dev, trit_ternary_bytes(TRIT_TYPE_I2_S, rows, cols), &m->w,
	                           err, sizeof err)) ||
	    (rc = be->buffer_alloc(st, dev, tokens * cols * 4, &m->in, err, sizeof err)) ||
	    (rc = be->buffer_alloc(st, dev, tokens * rows * 4, &m->out, err, sizeof err)) ||
	    (rc = be->buffer_alloc(st, dev, ws, &m->ws, err, sizeof err)))
		return rc;
	m->op.weights = m->w;
	m->op.input = m->in;
	m->op.output = m->out;
	m->op.workspace = m->ws;
	return 0;
}

static void mm_setup(struct mm *m, uint64_t rows, uint64_t cols, uint64_t tokens, uint32_t flags)
{
	int rc = mm_make(m, 0, rows, cols, tokens, flags);
	ck_assert_msg(rc == 0, "matmul buffers (%d): %s", rc, err);
}

static void mm_free(struct mm *m)
{
	be->buffer_free(st, m->w);
	be->buffer_free(st, m->in);
	be->buffer_free(st, m->out);
	be->buffer_free(st, m->ws);
}

START_TEST(kernel_launches_on_the_fake_fail_with_its_reason_not_a_crash)
{
	struct mm m;
	init_ok("A:8GiB");
	if (!kernels_built())
		return; /* covered by matmul_workspace_is_the_exact_layout */
	mm_setup(&m, 64, 100, 3, 0);
	ck_assert_int_eq(be->matmul(st, 0, &m.op, err, sizeof err), TRIT_EUNSUPPORTED);
	ck_assert_msg(strstr(err, "launching trit_quantize on cuda0 (A): CUDA_ERROR_NOT_SUPPORTED "
	                     "(operation not supported: a simulated device cannot run kernels")
	              != NULL, "%s", err);
	mm_free(&m);
	/* GEMV on an unpadded integer input goes straight to the matmul kernel */
	mm_setup(&m, 64, 128, 1, TRIT_MATMUL_INT_DOTS);
	m.op.workspace = NULL;
	ck_assert_int_eq(be->matmul(st, 0, &m.op, err, sizeof err), TRIT_EUNSUPPORTED);
	ck_assert_msg(strstr(err, "launching trit_i2s_gemv on cuda0") != NULL, "%s", err);
	mm_free(&m);
	/* the device still answers */
	ck_assert_int_eq(be->device_update(st, 0, err, sizeof err), 0);
}
END_TEST

START_TEST(matmul_refuses_buffers_that_do_not_fit_the_operation)
{
	struct mm m;
	init_ok("A:8GiB, B:8GiB");
	if (!kernels_built())
		return;
	mm_setup(&m, 64, 100, 3, 0);
	m.op.input_offset = 8;
	ck_assert_int_eq(be->matmul(st, 0, &m.op, err, sizeof err), TRIT_ERANGE);
	ck_assert_ptr_nonnull(strstr(err, "input: range [8, +1200)"));
	m.op.input_offset = 0;
	m.op.workspace = NULL;
	ck_assert_int_eq(be->matmul(st, 0, &m.op, err, sizeof err), TRIT_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "workspace: not a buffer"));
	m.op.workspace = m.ws;
	m.op.output_offset = 2;
	ck_assert_int_eq(be->matmul(st, 0, &m.op, err, sizeof err), TRIT_ERANGE);
	m.op.output_offset = 0;
	m.op.rows = 65; /* the weights buffer holds 64 rows */
	ck_assert_int_eq(be->matmul(st, 0, &m.op, err, sizeof err), TRIT_ERANGE);
	ck_assert_ptr_nonnull(strstr(err, "weights"));
	m.op.rows = 64;
	/* a word-sized element at an odd offset */
	struct trit_buffer *big;
	ck_assert_int_eq(be->buffer_alloc(st, 0, 3 * 100 * 4 + 4, &big, err, sizeof err), 0);
	m.op.input = big;
	m.op.input_offset = 2;
	ck_assert_int_eq(be->matmul(st, 0, &m.op, err, sizeof err), TRIT_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "the input offset 2 is not a multiple of 4"));
	m.op.input = m.in;
	m.op.input_offset = 0;
	be->buffer_free(st, big);
	/* buffers of another device */
	ck_assert_int_eq(be->matmul(st, 1, &m.op, err, sizeof err), TRIT_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "on cuda device 0, not 1"));
	mm_free(&m);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The fake driver directly                                                  */

/* The fake driver opened directly, as the plugin opens it (the same
 * dlopen handle, so the same simulation). */
static struct cuda_driver drv;
static char etext[1024];

static const char *drv_text(CUresult rc)
{
	return cuda_error_text(&drv, rc, etext, sizeof etext);
}

static void drv_init(const char *devices)
{
	setenv("FAKECUDA_DEVICES", devices, 1);
	ck_assert_msg(cuda_driver_open(&drv, fake_path(), "check_cuda", err, sizeof err) == 0,
	              "%s", err);
	ck_assert_int_eq(drv.Init(0), CUDA_SUCCESS);
}

/* ------------------------------------------------------------------------ */
/* Graphs (ABI v2), with the kernels run by the fake's emulator              */

static struct trit_tensor tensor_of(uint32_t type, uint64_t ne0, uint64_t ne1,
                                    struct trit_buffer *b, uint64_t offset)
{
	struct trit_tensor t;
	uint64_t esz = type == TRIT_TYPE_I32 || type == TRIT_TYPE_F32 ? 4 : 2;

	memset(&t, 0, sizeof t);
	t.type = type;
	t.ne[0] = ne0;
	t.ne[1] = ne1;
	t.ne[2] = t.ne[3] = 1;
	t.nb[0] = esz;
	t.nb[1] = ne0 * esz;
	t.nb[2] = t.nb[3] = ne0 * ne1 * esz;
	t.buffer = b;
	t.offset = offset;
	return t;
}

/* 1 when the fake runs kernels (built with its emulator), else a skip. */
static int emulating(void)
{
	if (!kernels_built())
		return 0;
	setenv("FAKECUDA_LAUNCH", "emulate", 1);
	return 1;
}

/* GET_ROWS of rows {1, 0} then of {1, 3} from a table of 3 rows: the first
 * copies the rows, the second is TRIT_ERANGE naming the node and the id. */
START_TEST(a_graph_runs_and_a_row_id_out_of_range_is_erange_naming_the_node)
{
	enum { K = 40, ROWS = 3, T = 2 };
	float tab[K * ROWS], got[K * T];
	int32_t ids[T] = { 1, 0 };
	struct trit_buffer *b;
	struct trit_node n;
	struct trit_graph g;
	uint64_t o_ids = sizeof tab, o_dst = o_ids + 64;
	int rc;

	if (!emulating())
		return;
	init_ok("A:1GiB");
	for (int i = 0; i < K * ROWS; i++)
		tab[i] = (float)i * 0.5f - 7.0f;
	ck_assert_int_eq(be->buffer_alloc(st, 0, o_dst + sizeof got, &b, err, sizeof err), 0);
	ck_assert_int_eq(be->buffer_write(st, b, 0, tab, sizeof tab, err, sizeof err), 0);
	ck_assert_int_eq(be->buffer_write(st, b, o_ids, ids, sizeof ids, err, sizeof err), 0);
	memset(&n, 0, sizeof n);
	n.struct_size = sizeof n;
	n.op = TRIT_OP_GET_ROWS;
	n.name = "tok_embd";
	n.src[0] = tensor_of(TRIT_TYPE_F32, K, ROWS, b, 0);
	n.src[1] = tensor_of(TRIT_TYPE_I32, T, 1, b, o_ids);
	n.dst = tensor_of(TRIT_TYPE_F32, K, T, b, o_dst);
	ck_assert_int_eq(be->supports_op(st, 0, &n), 1);
	memset(&g, 0, sizeof g);
	g.struct_size = sizeof g;
	g.nodes = &n;
	g.n_nodes = 1;
	rc = be->graph_compute(st, 0, &g, err, sizeof err);
	if (rc == TRIT_EINVAL && strstr(err, "without its kernel emulator")) {
		be->buffer_free(st, b);
		return; /* a fake built without C++17: nothing runs */
	}
	ck_assert_msg(rc == 0, "graph_compute: %s", err);
	ck_assert_int_eq(be->buffer_read(st, b, o_dst, got, sizeof got, err, sizeof err), 0);
	ck_assert_mem_eq(got, tab + K, K * sizeof(float));
	ck_assert_mem_eq(got + K, tab, K * sizeof(float));
	ids[1] = ROWS;
	ck_assert_int_eq(be->buffer_write(st, b, o_ids, ids, sizeof ids, err, sizeof err), 0);
	ck_assert_int_eq(be->graph_compute(st, 0, &g, err, sizeof err), TRIT_ERANGE);
	ck_assert_msg(strstr(err, "cuda: node 0 'tok_embd' (GET_ROWS): row id 3 at [1] is "
	                     "outside the table of 3 rows"), "%s", err);
	be->buffer_free(st, b);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Launches the fake checks and counts (FAKECUDA_LAUNCH=noop)                */

/* A kernel of the plugin's image, loaded into the current context as *mod
 * (the caller unloads it). */
static CUfunction drv_kernel(const char *name, CUmodule *mod)
{
	size_t n;
	const char *why;
	const unsigned char *image = cuda_kernel_image(&n, &why);
	CUfunction fn;

	ck_assert_ptr_nonnull(image);
	ck_assert_int_eq(drv.ModuleLoadData(mod, image), CUDA_SUCCESS);
	ck_assert_int_eq(drv.ModuleGetFunction(&fn, *mod, name), CUDA_SUCCESS);
	return fn;
}

/* Run body in a child process, which exits as a program does: the fake
 * writes its launch log then. The child's exit status, or -1. */
static int run_child(int (*body)(void))
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0)
		exit(body());
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int child_fail(const char *what, int rc)
{
	fprintf(stderr, "child: %s: %d: %s\n", what, rc, err);
	return 1;
}

/* In a child: matmuls on two simulated GPUs, then two launches of its own. */
static int count_launches(void)
{
	struct mm a, v, b;
	CUmodule mod;
	CUfunction fn;
	struct cuda_driver d2;
	size_t n;
	const char *why;
	int rc, arg = 0;
	void *params[] = { &arg };

	if ((rc = be->init(&th.h, &st, err, sizeof err)) || (rc = mm_make(&a, 0, 64, 100, 3, 0)))
		return child_fail("init and buffers", rc);
	/* without FAKECUDA_LAUNCH the launch fails as always and is not counted */
	if ((rc = be->matmul(st, 0, &a.op, err, sizeof err)) != TRIT_EUNSUPPORTED)
		return child_fail("matmul without FAKECUDA_LAUNCH", rc);
	setenv("FAKECUDA_LAUNCH", "noop", 1);
	for (int i = 0; i < 2; i++) /* trit_quantize + trit_i2s_gemm */
		if ((rc = be->matmul(st, 0, &a.op, err, sizeof err)))
			return child_fail("F32 matmul on cuda0", rc);
	/* an unpadded integer GEMV: trit_i2s_gemv only */
	if ((rc = mm_make(&v, 0, 64, 128, 1, TRIT_MATMUL_INT_DOTS)))
		return child_fail("GEMV buffers", rc);
	v.op.workspace = NULL;
	if ((rc = be->matmul(st, 0, &v.op, err, sizeof err)))
		return child_fail("GEMV on cuda0", rc);
	/* more tokens than one grid's 65535 x 8: trit_quantize + 2 x trit_i2s_gemm */
	if ((rc = mm_make(&b, 1, 64, 100, 65535 * 8 + 1, 0)) ||
	    (rc = be->matmul(st, 1, &b.op, err, sizeof err)))
		return child_fail("matmul of 524281 tokens on cuda1", rc);
	/* trit_quantize loaded again (another handle, the same name) in cuda1's
	 * context, which the last matmul left current: refused over a limit,
	 * counted with the plugin's when valid */
	if ((rc = cuda_driver_open(&d2, fake_path(), "child", err, sizeof err)))
		return child_fail("opening the fake", rc);
	if (d2.ModuleLoadData(&mod, cuda_kernel_image(&n, &why)) ||
	    d2.ModuleGetFunction(&fn, mod, "trit_quantize"))
		return child_fail("loading trit_quantize", -1);
	if ((rc = d2.LaunchKernel(fn, 1, 1, 1, 2048, 1, 1, 0, NULL, params, NULL)) !=
	    CUDA_ERROR_INVALID_VALUE)
		return child_fail("a 2048-thread block", rc);
	if ((rc = d2.LaunchKernel(fn, 1, 1, 1, 64, 1, 1, 1024, NULL, params, NULL)))
		return child_fail("a launch with 1024 bytes of shared memory", rc);
	d2.ModuleUnload(mod);
	mm_free(&a);
	mm_free(&v);
	mm_free(&b);
	be->shutdown(st);
	st = NULL;
	return 0;
}

static int init_and_exit(void)
{
	int rc = be->init(&th.h, &st, err, sizeof err);
	return rc ? child_fail("init", rc) : 0;
}

/* In a child: init, then fork a process that exits at once: the log is
 * the initialising process's, not written by the fork. */
static int fork_after_init(void)
{
	int rc = be->init(&th.h, &st, err, sizeof err), status;
	pid_t pid;

	if (rc)
		return child_fail("init", rc);
	fflush(NULL);
	if ((pid = fork()) == 0)
		exit(0);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return child_fail("fork", -1);
	if (access(getenv("FAKECUDA_LAUNCH_LOG"), F_OK) == 0)
		return child_fail("the forked process wrote the launch log", -1);
	return 0;
}

static char *slurp(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	ck_assert_msg(f != NULL, "%s was not written", path);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

START_TEST(noop_launches_succeed_and_are_counted_per_device_and_kernel_in_the_log)
{
	const char *tmpdir = getenv("TMPDIR");
	char dir[512], path[600], other[640];

	if (!kernels_built())
		return; /* the fake loads fatbins only */
	snprintf(dir, sizeof dir, "%s/check_cuda-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/launches", dir);
	setenv("FAKECUDA_DEVICES", "A:8GiB, B:8GiB", 1);
	setenv("FAKECUDA_LAUNCH_LOG", path, 1);
	ck_assert_int_eq(run_child(count_launches), 0);
	ck_assert_str_eq(slurp(path), "0 trit_i2s_gemm 2\n"
	                              "0 trit_i2s_gemv 1\n"
	                              "0 trit_quantize 2\n"
	                              "1 trit_i2s_gemm 2\n"
	                              "1 trit_quantize 2\n"
	                              "max_shared_bytes 1024\n"
	                              "max_block_threads 256\n"
	                              "total 9\n");
	snprintf(other, sizeof other, "%s.tmp", path);
	ck_assert_int_ne(access(other, F_OK), 0);
	ck_assert_int_eq(unlink(path), 0);
	/* no launch: the log still says so */
	ck_assert_int_eq(run_child(fork_after_init), 0);
	ck_assert_str_eq(slurp(path), "max_shared_bytes 0\nmax_block_threads 0\ntotal 0\n");
	ck_assert_int_eq(unlink(path), 0);
	/* a log that cannot be written: said on stderr, the program exits as it would */
	snprintf(other, sizeof other, "%s/missing/launches", dir);
	setenv("FAKECUDA_LAUNCH_LOG", other, 1);
	ck_assert_int_eq(run_child(init_and_exit), 0);
	ck_assert_int_ne(access(other, F_OK), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

START_TEST(noop_launches_beyond_the_hardware_limits_are_refused_naming_the_limit)
{
	static const struct {
		unsigned g[3], b[3], shared;
		uintptr_t stream;
		int no_params, extra;
		const char *refused; /* NULL: accepted */
	} cases[] = {
		{ { 1, 1, 1 }, { 1024, 1, 1 }, 0, 0, 0, 0, NULL },
		{ { 1, 1, 1 }, { 1, 1024, 1 }, 0, 0, 0, 0, NULL },
		{ { 1, 1, 1 }, { 16, 1, 64 }, 0, 0, 0, 0, NULL },
		{ { 2147483647u, 65535, 65535 }, { 1, 1, 1 }, 49152, 0, 0, 0, NULL },
		{ { 1, 1, 1 }, { 32, 1, 1 }, 0, 0x1 /* CU_STREAM_LEGACY */, 0, 0, NULL },
		{ { 1, 1, 1 }, { 32, 1, 1 }, 0, 0x2 /* CU_STREAM_PER_THREAD */, 0, 0, NULL },
		{ { 1, 1, 1 }, { 1025, 1, 1 }, 0, 0, 0, 0, "block.x 1025 > 1024" },
		{ { 1, 1, 1 }, { 1, 1025, 1 }, 0, 0, 0, 0, "block.y 1025 > 1024" },
		{ { 1, 1, 1 }, { 1, 1, 65 }, 0, 0, 0, 0, "block.z 65 > 64" },
		{ { 1, 1, 1 }, { 32, 32, 2 }, 0, 0, 0, 0, "2048 threads a block > 1024" },
		{ { 2147483648u, 1, 1 }, { 1, 1, 1 }, 0, 0, 0, 0, "grid.x 2147483648 > 2147483647" },
		{ { 1, 65536, 1 }, { 1, 1, 1 }, 0, 0, 0, 0, "grid.y 65536 > 65535" },
		{ { 1, 1, 65536 }, { 1, 1, 1 }, 0, 0, 0, 0, "grid.z 65536 > 65535" },
		{ { 0, 1, 1 }, { 1, 1, 1 }, 0, 0, 0, 0, "a grid or block dimension of 0" },
		{ { 1, 1, 1 }, { 1, 0, 1 }, 0, 0, 0, 0, "a grid or block dimension of 0" },
		{ { 1, 1, 1 }, { 1, 1, 1 }, 49153, 0, 0, 0, "49153 bytes of dynamic shared memory > 49152" },
		{ { 1, 1, 1 }, { 1, 1, 1 }, 0, 0, 1, 1, "kernelParams is NULL" },
		{ { 1, 1, 1 }, { 1, 1, 1 }, 0, 0, 0, 1, "extra is not NULL" },
		{ { 1, 1, 1 }, { 1, 1, 1 }, 0, 0x40, 0, 0, "is not a stream" },
	};
	CUcontext ctx;
	CUmodule mod;
	CUfunction fn;
	CUdeviceptr p;
	int arg = 0;
	void *params[] = { &arg }, *extra[] = { NULL };

	if (!kernels_built())
		return;
	drv_init("A:8GiB");
	ck_assert_int_eq(drv.CtxCreate(&ctx, 0, 0), CUDA_SUCCESS);
	fn = drv_kernel("trit_i2s_gemm", &mod);
	setenv("FAKECUDA_LAUNCH", "noop", 1);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		CUresult rc = drv.LaunchKernel(fn, cases[i].g[0], cases[i].g[1], cases[i].g[2],
		                               cases[i].b[0], cases[i].b[1], cases[i].b[2],
		                               cases[i].shared, (CUstream)cases[i].stream,
		                               cases[i].no_params ? NULL : params,
		                               cases[i].extra ? extra : NULL);
		if (!cases[i].refused) {
			ck_assert_msg(rc == CUDA_SUCCESS, "case %zu: %s", i, drv_text(rc));
			continue;
		}
		ck_assert_msg(rc == CUDA_ERROR_INVALID_VALUE, "case %zu (%s): %s", i,
		              cases[i].refused, drv_text(rc));
		ck_assert_msg(strstr(drv_text(rc), cases[i].refused) != NULL &&
		              strstr(drv_text(rc), "cuLaunchKernel(trit_i2s_gemm, grid") != NULL,
		              "case %zu: %s", i, drv_text(rc));
	}
	/* the reason belongs to the launch: the next call's failure has its own */
	ck_assert_int_eq(drv.MemAlloc(&p, 0), CUDA_ERROR_INVALID_VALUE);
	ck_assert_str_eq(drv_text(CUDA_ERROR_INVALID_VALUE), "CUDA_ERROR_INVALID_VALUE (invalid argument)");
	drv.ModuleUnload(mod);
	drv.CtxDestroy(ctx);
}
END_TEST

START_TEST(without_fakecuda_launch_a_launch_fails_as_before)
{
	CUcontext ctx;
	CUmodule mod;
	CUfunction fn;
	int arg = 0;
	void *params[] = { &arg };

	if (!kernels_built())
		return;
	drv_init("A:8GiB");
	ck_assert_int_eq(drv.CtxCreate(&ctx, 0, 0), CUDA_SUCCESS);
	fn = drv_kernel("trit_quantize", &mod);
	for (int empty = 0; empty < 2; empty++) {
		if (empty)
			setenv("FAKECUDA_LAUNCH", "", 1); /* empty: the same */
		CUresult rc = drv.LaunchKernel(fn, 1, 1, 1, 256, 1, 1, 49153, NULL, params, NULL);
		ck_assert_int_eq(rc, CUDA_ERROR_NOT_SUPPORTED);
		ck_assert_str_eq(drv_text(rc), "CUDA_ERROR_NOT_SUPPORTED (operation not supported: a "
		                 "simulated device cannot run kernels (fakecuda))");
		/* the checks it always made, with the plain text */
		rc = drv.LaunchKernel(fn, 1, 1, 1, 2048, 1, 1, 0, NULL, params, NULL);
		ck_assert_int_eq(rc, CUDA_ERROR_INVALID_VALUE);
		ck_assert_str_eq(drv_text(rc), "CUDA_ERROR_INVALID_VALUE (invalid argument)");
	}
	drv.ModuleUnload(mod);
	drv.CtxDestroy(ctx);
}
END_TEST

START_TEST(a_malformed_fakecuda_launch_fails_every_launch_saying_what_is_known)
{
	struct mm m;
	init_ok("A:8GiB");
	if (!kernels_built())
		return;
	mm_setup(&m, 64, 100, 3, 0);
	setenv("FAKECUDA_LAUNCH", "nop", 1);
	ck_assert_int_eq(be->matmul(st, 0, &m.op, err, sizeof err), TRIT_EINVAL);
	ck_assert_msg(strstr(err, "launching trit_quantize on cuda0 (A): CUDA_ERROR_INVALID_VALUE "
	                     "(invalid argument: FAKECUDA_LAUNCH='nop' is not a known value: "
	                     "'noop'") != NULL, "%s", err);
	setenv("FAKECUDA_LAUNCH", "noop", 1); /* read at every launch */
	ck_assert_msg(be->matmul(st, 0, &m.op, err, sizeof err) == 0, "%s", err);
	mm_free(&m);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Memory another process takes (FAKECUDA_FAIL taken=)                       */

START_TEST(taken_memory_counts_from_the_kth_cumemgetinfo_after_the_probe)
{
	struct trit_buffer *b = NULL;
	/* the probe calls cuMemGetInfo twice per device: @3 is the first after it */
	setenv("FAKECUDA_FAIL", "taken=0:4GiB@3, taken=1:1GiB", 1);
	init_ok("A:8GiB ctx=256MiB, B:8GiB ctx=256MiB");
	const struct trit_device *a = be->device_get(st, 0), *d1 = be->device_get(st, 1);
	ck_assert_uint_eq(a->mem_free.value, 8 * GIB);          /* not seen by the probe */
	ck_assert_uint_eq(d1->mem_free.value, 7 * GIB);         /* @1: seen from the start */
	ck_assert_uint_eq(prop(d1, "mem.overhead")->value.value, 256 * MIB);
	/* before the third cuMemGetInfo, 4 GiB fit */
	ck_assert_int_eq(be->buffer_alloc(st, 0, 4 * GIB, &b, err, sizeof err), 0);
	be->buffer_free(st, b);
	ck_assert_int_eq(be->device_update(st, 0, err, sizeof err), 0); /* the third */
	ck_assert_uint_eq(a->mem_free.value, 4 * GIB);
	ck_assert_int_eq(be->buffer_alloc(st, 0, 4 * GIB, &b, err, sizeof err), TRIT_ENOMEM);
	ck_assert_msg(strstr(err, "which has 4026531840 bytes free") != NULL, "%s", err);
	ck_assert_int_eq(be->buffer_alloc(st, 0, 3 * GIB, &b, err, sizeof err), 0);
	be->buffer_free(st, b);
	/* the other device was never short of more than its 1 GiB */
	ck_assert_int_eq(be->buffer_alloc(st, 1, 6 * GIB, &b, err, sizeof err), 0);
	be->buffer_free(st, b);
}
END_TEST

START_TEST(taken_entries_add_up_and_never_leave_less_than_nothing)
{
	CUcontext c0, c1;
	CUdeviceptr p;
	size_t fr, tot;

	setenv("FAKECUDA_FAIL", "taken=0:1GiB@2,taken=0:2GiB@3,taken=1:100GiB", 1);
	drv_init("A:8GiB ctx=1GiB, B:2GiB ctx=0");
	ck_assert_int_eq(drv.CtxCreate(&c0, 0, 0), CUDA_SUCCESS);
	size_t want[] = { 7 * GIB, 6 * GIB, 4 * GIB, 4 * GIB };
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(drv.MemGetInfo(&fr, &tot), CUDA_SUCCESS);
		ck_assert_msg(fr == want[i], "call %d: %zu free, wanted %zu", i + 1, fr, want[i]);
		ck_assert_uint_eq(tot, 8 * GIB);
	}
	ck_assert_int_eq(drv.MemAlloc(&p, 4 * GIB + 1), CUDA_ERROR_OUT_OF_MEMORY);
	ck_assert_int_eq(drv.MemAlloc(&p, 4 * GIB), CUDA_SUCCESS);
	ck_assert_int_eq(drv.MemFree(p), CUDA_SUCCESS);
	ck_assert_int_eq(drv.CtxCreate(&c1, 0, 1), CUDA_SUCCESS);
	ck_assert_int_eq(drv.MemGetInfo(&fr, &tot), CUDA_SUCCESS);
	ck_assert_uint_eq(fr, 0);
	ck_assert_int_eq(drv.MemAlloc(&p, 1), CUDA_ERROR_OUT_OF_MEMORY);
	/* the simulation's own accounting is untouched: without taken= all is back */
	unsetenv("FAKECUDA_FAIL");
	ck_assert_int_eq(drv.MemGetInfo(&fr, &tot), CUDA_SUCCESS);
	ck_assert_uint_eq(fr, 2 * GIB);
	drv.CtxDestroy(c1);
	drv.CtxDestroy(c0);
}
END_TEST

START_TEST(a_malformed_taken_entry_is_an_invalid_value_saying_what_is_wrong)
{
	static const struct {
		const char *fail, *why;
	} cases[] = {
		{ "taken", "taken='': expected taken=DEV:SIZE[@K]" },
		{ "taken=0", "taken='0': expected taken=DEV:SIZE[@K]" },
		{ "taken=x:1GiB", "DEV is not a device ordinal" },
		{ "taken=-1:1GiB", "DEV is not a device ordinal" },
		{ "taken=2:1GiB", "there is no device 2 (2 simulated)" },
		{ "taken=0:lots", "taken='0:lots': SIZE is not a size" },
		{ "taken=0:", "SIZE is not a size" },
		{ "taken=0:1GiB@0", "K after '@' is not a count from 1" },
		{ "taken=0:1GiB@", "K after '@' is not a count from 1" },
		{ "taken=0:1GiB@3x", "K after '@' is not a count from 1" },
		{ "taken=1:1GiB,taken=0:1GiB@-1", "taken='0:1GiB@-1'" },
		{ "taken=0:1111111111111111111111111111111111111111111111111111111111111111GiB",
		  "longer than 63 bytes" },
	};
	CUcontext ctx;
	CUdeviceptr p;
	size_t fr, tot;

	drv_init("A:8GiB, B:8GiB");
	ck_assert_int_eq(drv.CtxCreate(&ctx, 0, 0), CUDA_SUCCESS);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		setenv("FAKECUDA_FAIL", cases[i].fail, 1);
		CUresult rc = drv.MemGetInfo(&fr, &tot);
		ck_assert_msg(rc == CUDA_ERROR_INVALID_VALUE, "%s: %s", cases[i].fail, drv_text(rc));
		ck_assert_msg(strstr(drv_text(rc), cases[i].why) != NULL, "%s: %s", cases[i].fail,
		              drv_text(rc));
		rc = drv.MemAlloc(&p, 1);
		ck_assert_msg(rc == CUDA_ERROR_INVALID_VALUE && strstr(drv_text(rc), cases[i].why),
		              "cuMemAlloc with %s: %s", cases[i].fail, drv_text(rc));
	}
	/* through the plugin: the probe's context creation says it */
	drv.CtxDestroy(ctx);
	setenv("FAKECUDA_FAIL", "taken=0:lots", 1);
	ck_assert_int_eq(init_rc("A:8GiB"), TRIT_EINVAL);
	ck_assert_msg(strstr(err, "cuCtxCreate on cuda0 (A): CUDA_ERROR_INVALID_VALUE (invalid "
	                     "argument: FAKECUDA_FAIL taken='0:lots': SIZE is not a size") != NULL,
	              "%s", err);
}
END_TEST

/* ------------------------------------------------------------------------ */

static Suite *suite(void)
{
	Suite *s = suite_create("cuda");
	TCase *tc = tcase_create("fake driver");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, three_simulated_devices_report_exactly_what_was_simulated);
	tcase_add_test(tc, an_integrated_gpu_shares_the_host_pool);
	tcase_add_test(tc, an_old_gpu_has_no_bf16_and_a_pre_maxwell_one_no_fp16);
	tcase_add_test(tc, a_memory_clock_of_zero_leaves_bandwidth_unknown_with_the_reason);
	tcase_add_test(tc, no_driver_is_a_skip_reason_naming_the_file);
	tcase_add_test(tc, a_library_that_is_not_a_driver_is_refused_naming_the_symbol);
	tcase_add_test(tc, a_driver_with_no_device_gives_zero_devices_and_says_so);
	tcase_add_test(tc, a_failing_cuinit_is_a_skip_reason_with_the_driver_error);
	tcase_add_test(tc, a_malformed_fake_description_reaches_the_reason);
	tcase_add_test(tc, a_device_lost_at_probe_is_left_out_and_logged);
	tcase_add_test(tc, when_every_device_is_lost_init_fails_with_the_reason);
	tcase_add_test(tc, a_device_lost_after_probe_fails_calls_with_edevice);
	tcase_add_test(tc, kernels_that_do_not_load_are_not_advertised_and_the_device_stays);
	tcase_add_test(tc, without_a_second_context_the_overhead_is_unknown_and_free_is_as_measured);
	tcase_add_test(tc, the_ini_driver_key_names_the_library);
	tcase_add_test(tc, trit_cuda_driver_wins_over_the_ini_key);
	tcase_add_test(tc, unknown_and_empty_keys_are_configuration_errors_naming_where);
	tcase_add_test(tc, allocations_lower_free_memory_by_exactly_their_size);
	tcase_add_test(tc, buffers_keep_what_is_written_and_refuse_ranges_outside);
	tcase_add_test(tc, out_of_device_memory_is_enomem_with_a_sentence_and_the_host_carries_on);
	tcase_add_test(tc, matmul_workspace_is_the_exact_layout);
	tcase_add_test(tc, kernel_launches_on_the_fake_fail_with_its_reason_not_a_crash);
	tcase_add_test(tc, matmul_refuses_buffers_that_do_not_fit_the_operation);
	tcase_add_test(tc, noop_launches_succeed_and_are_counted_per_device_and_kernel_in_the_log);
	tcase_add_test(tc, noop_launches_beyond_the_hardware_limits_are_refused_naming_the_limit);
	tcase_add_test(tc, without_fakecuda_launch_a_launch_fails_as_before);
	tcase_add_test(tc, a_malformed_fakecuda_launch_fails_every_launch_saying_what_is_known);
	tcase_add_test(tc, taken_memory_counts_from_the_kth_cumemgetinfo_after_the_probe);
	tcase_add_test(tc, taken_entries_add_up_and_never_leave_less_than_nothing);
	tcase_add_test(tc, a_malformed_taken_entry_is_an_invalid_value_saying_what_is_wrong);
	tcase_add_test(tc, a_graph_runs_and_a_row_id_out_of_range_is_erange_naming_the_node);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
