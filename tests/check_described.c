/*
 * check_described.c - the specification of `trit --devices FILE`: the
 * built-in `described` backend reports exactly the devices an INI file
 * describes (configured values with FILE:LINE sources, unknown otherwise),
 * refuses every mistake naming FILE:LINE, and is then the registry's only
 * backend. The example machines in docs/machines must all load.
 */
#include <build-config.h>

#include <check.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <trit/trit.h>

#include "backend/described.h"
#include "core/log.h"
#include "backend/registry.h"
#include "config/config.h"
#include "support/support.h"

/* ---------------------------------------------------------------- fixture */

static char tmpdir[64];
static char fixture_path[PATH_MAX];
static struct trit_config cfg;
static struct trit_registry *reg;
static char err[8192];

static void setup(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/trit-check-described-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	test_clear_trit_env();
	trit_config_init(&cfg);
	reg = NULL;
	err[0] = '\0';
}

static void teardown(void)
{
	test_remove_tree(tmpdir);
	trit_registry_close(reg);
	reg = NULL;
	trit_config_free(&cfg);
	test_clear_trit_env();
}

/* Write `text` to tmpdir/machine.ini; returns its path. */
static const char *fixture(const char *text)
{
	FILE *f;

	snprintf(fixture_path, sizeof fixture_path, "%s/machine.ini", tmpdir);
	f = fopen(fixture_path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	return fixture_path;
}

/* Open the registry on a devices file; the `described` entry it holds. */
static const struct trit_plugin_info *open_devices(const char *path)
{
	struct trit_registry_options o = { .config = &cfg, .devices_file = path };
	char e[512];
	const struct trit_plugin_info *p;

	trit_registry_close(reg);
	reg = NULL;
	ck_assert_msg(trit_registry_open(&o, &reg, e, sizeof e) == 0, "registry_open: %s", e);
	ck_assert_uint_eq(trit_registry_plugin_count(reg), 1);
	p = trit_registry_plugin(reg, 0);
	ck_assert_str_eq(p->name, "described");
	return p;
}

static const struct trit_plugin_info *load_ok(const char *path)
{
	const struct trit_plugin_info *p = open_devices(path);
	ck_assert_msg(p->status == TRIT_PLUGIN_LOADED, "%s did not load: %s", path, p->reason);
	return p;
}

/* Load `text` and expect the backend skipped; err holds the reason. */
static const char *load_bad(const char *text)
{
	const char *path = fixture(text);
	const struct trit_plugin_info *p = open_devices(path);

	ck_assert_msg(p->status == TRIT_PLUGIN_SKIPPED, "a bad file loaded:\n%s", text);
	ck_assert_ptr_nonnull(p->reason);
	ck_assert_uint_eq(p->n_devices, 0);
	snprintf(err, sizeof err, "%s", p->reason);
	return path;
}

#define assert_err_has(s) \
	ck_assert_msg(strstr(err, (s)) != NULL, "error message lacks \"%s\"; it is:\n%s", (s), err)

/* "FILE:LINE: " for a path. */
static const char *at(const char *path, int line)
{
	static char buf[4][PATH_MAX + 16];
	static unsigned i;
	char *b = buf[i++ % 4];
	snprintf(b, PATH_MAX + 16, "%s:%d: ", path, line);
	return b;
}

static const struct trit_device *device(const struct trit_plugin_info *p, const char *id)
{
	for (uint32_t i = 0; i < p->n_devices; i++)
		if (strcmp(p->devices[i].id, id) == 0)
			return &p->devices[i];
	ck_abort_msg("no device %s", id);
	return NULL;
}

static const struct trit_property *prop(const struct trit_device *d, const char *key)
{
	for (uint32_t i = 0; i < d->n_props; i++)
		if (strcmp(d->props[i].key, key) == 0)
			return &d->props[i];
	return NULL;
}

static void assert_configured(const struct trit_value *v, uint64_t value, const char *path,
                              int line)
{
	char want[PATH_MAX + 32];

	snprintf(want, sizeof want, "described in %s:%d", path, line);
	ck_assert_uint_eq(v->state, TRIT_VALUE_CONFIGURED);
	ck_assert_uint_eq(v->value, value);
	ck_assert_ptr_nonnull(v->source);
	ck_assert_msg(strncmp(v->source, want, strlen(want)) == 0 &&
	              !(v->source[strlen(want)] >= '0' && v->source[strlen(want)] <= '9'),
	              "source '%s' is not '%s'", v->source, want);
}

static void assert_unknown(const struct trit_value *v, const char *path)
{
	char want[PATH_MAX + 32];

	snprintf(want, sizeof want, "not described in %s", path);
	ck_assert_uint_eq(v->state, TRIT_VALUE_UNKNOWN);
	ck_assert_ptr_nonnull(v->source);
	ck_assert_str_eq(v->source, want);
}

#define GiB (UINT64_C(1) << 30)
#define MiB (UINT64_C(1) << 20)

/* ------------------------------------------------------- example machines */

static const char *top_srcdir(void)
{
	const char *top = getenv("top_srcdir");
	ck_assert_msg(top != NULL, "top_srcdir is not set (run through make check)");
	return top;
}

static const struct {
	const char *file;
	const char *ids[9];       /* in file order */
	uint32_t kinds[9];
	uint64_t memory_gib[9];
} machines[] = {
	{ "gpu8-ram16.ini", { "gpu0", "cpu0" }, { TRIT_DEVICE_GPU, TRIT_DEVICE_CPU }, { 8, 16 } },
	{ "gpu24-ram64.ini", { "gpu0", "cpu0" }, { TRIT_DEVICE_GPU, TRIT_DEVICE_CPU }, { 24, 64 } },
	{ "2x24-ram128.ini", { "gpu0", "gpu1", "cpu0" },
	  { TRIT_DEVICE_GPU, TRIT_DEVICE_GPU, TRIT_DEVICE_CPU }, { 24, 24, 128 } },
	{ "a100-80.ini", { "gpu0", "cpu0" }, { TRIT_DEVICE_GPU, TRIT_DEVICE_CPU }, { 80, 170 } },
	{ "cpu-ram8.ini", { "cpu0" }, { TRIT_DEVICE_CPU }, { 8 } },
	{ "gpu4-ram16.ini", { "gpu0", "cpu0" }, { TRIT_DEVICE_GPU, TRIT_DEVICE_CPU }, { 4, 16 } },
	{ "dgx-h100.ini",
	  { "gpu0", "gpu1", "gpu2", "gpu3", "gpu4", "gpu5", "gpu6", "gpu7", "cpu0" },
	  { TRIT_DEVICE_GPU, TRIT_DEVICE_GPU, TRIT_DEVICE_GPU, TRIT_DEVICE_GPU, TRIT_DEVICE_GPU,
	    TRIT_DEVICE_GPU, TRIT_DEVICE_GPU, TRIT_DEVICE_GPU, TRIT_DEVICE_CPU },
	  { 80, 80, 80, 80, 80, 80, 80, 80, 2048 } },
};

START_TEST(every_example_machine_loads_with_its_devices)
{
	char path[PATH_MAX];

	for (size_t m = 0; m < sizeof machines / sizeof machines[0]; m++) {
		const struct trit_plugin_info *p;
		uint32_t n = 0;

		snprintf(path, sizeof path, "%s/docs/machines/%s", top_srcdir(), machines[m].file);
		p = load_ok(path);
		while (n < 9 && machines[m].ids[n])
			n++;
		ck_assert_msg(p->n_devices == n, "%s: %u devices, expected %u", machines[m].file,
		              p->n_devices, n);
		for (uint32_t i = 0; i < n; i++) {
			const struct trit_device *d = &p->devices[i];
			ck_assert_str_eq(d->id, machines[m].ids[i]);
			ck_assert_uint_eq(d->kind, machines[m].kinds[i]);
			ck_assert_uint_eq(d->mem_total.value, machines[m].memory_gib[i] * GiB);
			ck_assert_uint_eq(d->mem_total.state, TRIT_VALUE_CONFIGURED);
			/* A published bandwidth is what a planner needs most. */
			if (d->kind == TRIT_DEVICE_GPU) {
				ck_assert_uint_eq(d->mem_bandwidth.state, TRIT_VALUE_CONFIGURED);
				ck_assert_uint_eq(d->compute_capability.state, TRIT_VALUE_CONFIGURED);
				ck_assert_uint_ne(d->matmul_types & TRIT_TYPE_BIT(TRIT_TYPE_I2_S), 0);
			}
		}
	}
}
END_TEST

START_TEST(every_file_in_docs_machines_is_an_example_tested_here)
{
	char dir[PATH_MAX];
	DIR *d;
	struct dirent *de;
	unsigned seen = 0;

	snprintf(dir, sizeof dir, "%s/docs/machines", top_srcdir());
	d = opendir(dir);
	ck_assert_msg(d != NULL, "cannot open %s", dir);
	while ((de = readdir(d)) != NULL) {
		int known = 0;
		if (de->d_name[0] == '.')
			continue;
		for (size_t m = 0; m < sizeof machines / sizeof machines[0]; m++)
			known |= strcmp(de->d_name, machines[m].file) == 0;
		ck_assert_msg(known, "docs/machines/%s is not in this suite's table", de->d_name);
		seen++;
	}
	closedir(d);
	ck_assert_uint_eq(seen, sizeof machines / sizeof machines[0]);
}
END_TEST

START_TEST(the_example_in_docs_devices_md_loads)
{
	char path[PATH_MAX], line[512];
	FILE *f;
	int blocks = 0;

	snprintf(path, sizeof path, "%s/docs/devices.md", top_srcdir());
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	while (fgets(line, sizeof line, f)) {
		char block[8192] = "";
		if (strcmp(line, "```ini\n") != 0)
			continue;
		while (fgets(line, sizeof line, f) && strcmp(line, "```\n") != 0)
			strncat(block, line, sizeof block - strlen(block) - 1);
		const struct trit_plugin_info *p = load_ok(fixture(block));
		ck_assert_uint_ge(p->n_devices, 1);
		blocks++;
	}
	fclose(f);
	ck_assert_int_ge(blocks, 1);
}
END_TEST

/* ----------------------------------------------------------------- values */

static const char full[] =
	"; a machine to plan for\n"                 /* 1 */
	"[device.gpu0]\n"                           /* 2 */
	"kind = gpu                 ; required\n"   /* 3 */
	"name = RTX 4060\n"                         /* 4 */
	"vendor = NVIDIA\n"                         /* 5 */
	"memory = 8GiB\n"                           /* 6 */
	"free = 7.5GiB\n"                           /* 7 */
	"bandwidth = 272GB/s\n"                     /* 8 */
	"compute_units = 24\n"                      /* 9 */
	"clock = 2.46GHz\n"                         /* 10 */
	"compute_capability = 8.9\n"                /* 11 */
	"kernels = I2_S, TL2, F16\n"                /* 12 */
	"caps = fp16, bf16\n"                       /* 13 */
	"pool = card0\n"                            /* 14 */
	"overhead = 300MiB\n"                       /* 15 */
	"\n"                                        /* 16 */
	"[device.cpu0]\n"                           /* 17 */
	"kind = cpu\n"                              /* 18 */
	"memory = 16GiB\n"                          /* 19 */
	"hw_threads = 16\n";                        /* 20 */

START_TEST(every_given_value_is_configured_with_its_file_and_line)
{
	const char *path = fixture(full);
	const struct trit_plugin_info *p = load_ok(path);
	const struct trit_device *g = device(p, "gpu0");
	const struct trit_property *overhead = prop(g, "mem.overhead");

	ck_assert_uint_eq(p->n_devices, 2);
	ck_assert_str_eq(p->devices[0].id, "gpu0"); /* file order */
	ck_assert_uint_eq(g->kind, TRIT_DEVICE_GPU);
	ck_assert_str_eq(g->name, "RTX 4060");
	ck_assert_str_eq(g->vendor, "NVIDIA");
	assert_configured(&g->mem_total, 8 * GiB, path, 6);
	assert_configured(&g->mem_free, 15 * GiB / 2, path, 7);
	assert_configured(&g->mem_bandwidth, UINT64_C(272000000000), path, 8);
	assert_configured(&g->compute_units, 24, path, 9);
	assert_configured(&g->clock_hz, UINT64_C(2460000000), path, 10);
	assert_configured(&g->compute_capability, 89, path, 11);
	ck_assert_uint_eq(g->matmul_types, TRIT_TYPE_BIT(TRIT_TYPE_I2_S) |
	                  TRIT_TYPE_BIT(TRIT_TYPE_TL2) | TRIT_TYPE_BIT(TRIT_TYPE_F16));
	ck_assert_uint_eq(g->caps, TRIT_CAP_FP16 | TRIT_CAP_BF16);
	ck_assert_str_eq(prop(g, "mem.pool")->text, "card0");
	ck_assert_ptr_nonnull(overhead);
	ck_assert_str_eq(overhead->unit, "bytes");
	assert_configured(&overhead->value, 300 * MiB, path, 15);
}
END_TEST

START_TEST(values_not_given_are_unknown_not_described_in_the_file)
{
	const char *path = fixture(full);
	const struct trit_plugin_info *p = load_ok(path);
	const struct trit_device *c = device(p, "cpu0"), *g = device(p, "gpu0");

	assert_unknown(&c->mem_bandwidth, path);
	assert_unknown(&c->compute_units, path);
	assert_unknown(&c->clock_hz, path);
	assert_unknown(&c->compute_capability, path);
	assert_unknown(&g->hw_threads, path);
	assert_configured(&c->hw_threads, 16, path, 20);
	ck_assert_uint_eq(c->caps, 0);
	ck_assert_uint_eq(c->matmul_types, 0);
	ck_assert_ptr_null(c->vendor);
	ck_assert_ptr_null(prop(c, "mem.overhead")); /* only when given */
}
END_TEST

START_TEST(free_defaults_to_memory_and_says_so)
{
	const char *path = fixture(full);
	const struct trit_device *c = device(load_ok(path), "cpu0");

	assert_configured(&c->mem_free, 16 * GiB, path, 19);
	ck_assert_msg(strstr(c->mem_free.source, "no free given"), "source: %s",
	              c->mem_free.source);
}
END_TEST

START_TEST(name_defaults_to_the_id_and_pool_to_host_for_a_cpu_else_the_id)
{
	const struct trit_plugin_info *p = load_ok(fixture(
		"[device.cpu0]\nkind = cpu\nmemory = 8GiB\n"
		"[device.gpu1]\nkind = gpu\nmemory = 8GiB\n"
		"[device.npu0]\nkind = accelerator\nmemory = 8GiB\n"
		"[device.igpu]\nkind = gpu\nmemory = 2GiB\npool = host\ncaps = integrated\n"));

	ck_assert_str_eq(device(p, "cpu0")->name, "cpu0");
	ck_assert_str_eq(prop(device(p, "cpu0"), "mem.pool")->text, "host");
	ck_assert_str_eq(prop(device(p, "gpu1"), "mem.pool")->text, "gpu1");
	ck_assert_str_eq(prop(device(p, "npu0"), "mem.pool")->text, "npu0");
	ck_assert_uint_eq(device(p, "npu0")->kind, TRIT_DEVICE_ACCELERATOR);
	ck_assert_str_eq(prop(device(p, "igpu"), "mem.pool")->text, "host");
	ck_assert_uint_eq(device(p, "igpu")->caps, TRIT_CAP_INTEGRATED);
}
END_TEST

START_TEST(units_and_lists_are_read_as_documented)
{
	const char *path = fixture(
		"[device.a]\nkind = cpu\nmemory = 8G\nfree = 8000MB\nbandwidth = 50 GiB/s\n"
		"clock = 1800 MHz\nkernels = i2_s,tl1 , f32\ncaps = AVX2,fma\n"
		"[device.b]\nkind = gpu\nmemory = 1.5GiB\nclock = 900kHz\ncompute_capability = 12.0\n"
		"kernels = none\ncaps = none\n"
		"[device.c]\nkind = gpu\nmemory = 1GiB\nclock = 1000Hz\n");
	const struct trit_plugin_info *p = load_ok(path);
	const struct trit_device *a = device(p, "a"), *b = device(p, "b");

	ck_assert_uint_eq(a->mem_total.value, 8 * GiB);
	ck_assert_uint_eq(a->mem_free.value, UINT64_C(8000000000));
	ck_assert_uint_eq(a->mem_bandwidth.value, 50 * GiB);
	ck_assert_uint_eq(a->clock_hz.value, UINT64_C(1800000000));
	ck_assert_uint_eq(a->matmul_types, TRIT_TYPE_BIT(TRIT_TYPE_I2_S) |
	                  TRIT_TYPE_BIT(TRIT_TYPE_TL1) | TRIT_TYPE_BIT(TRIT_TYPE_F32));
	ck_assert_uint_eq(a->caps, TRIT_CAP_AVX2 | TRIT_CAP_FMA);
	ck_assert_uint_eq(b->mem_total.value, 3 * GiB / 2);
	ck_assert_uint_eq(b->clock_hz.value, 900000);
	ck_assert_uint_eq(b->compute_capability.value, 120);
	ck_assert_uint_eq(b->matmul_types, 0);
	ck_assert_uint_eq(b->caps, 0);
	ck_assert_uint_eq(device(p, "c")->clock_hz.value, 1000);
}
END_TEST

/* ------------------------------------------------------------- validation */

START_TEST(an_empty_file_describes_no_device_and_is_an_error)
{
	const char *path = load_bad("");

	assert_err_has(at(path, 1));
	assert_err_has("no device is described");
	path = load_bad("; only a comment\n\n# and another\n");
	assert_err_has("no device is described");
}
END_TEST

START_TEST(a_missing_file_is_named)
{
	char path[PATH_MAX];
	const struct trit_plugin_info *p;

	snprintf(path, sizeof path, "%s/none.ini", tmpdir);
	p = open_devices(path);
	ck_assert_int_eq(p->status, TRIT_PLUGIN_SKIPPED);
	ck_assert_msg(strstr(p->reason, "cannot open devices file") && strstr(p->reason, path),
	              "reason: %s", p->reason);
}
END_TEST

START_TEST(unknown_section_names_line_and_the_accepted_form)
{
	const char *path = load_bad("[device.gpu0]\nkind = gpu\nmemory = 1GiB\n\n[runtime]\nx = 1\n");

	assert_err_has(at(path, 5));
	assert_err_has("unknown section [runtime]");
	assert_err_has("[device.<id>]");
}
END_TEST

START_TEST(unknown_key_lists_the_accepted_keys)
{
	const char *path = load_bad("[device.gpu0]\nkind = gpu\nmemroy = 8GiB\nmemory = 8GiB\n");

	assert_err_has(at(path, 3));
	assert_err_has("[device.gpu0] unknown key 'memroy'");
	assert_err_has("accepted keys: kind, name, vendor, memory, free, bandwidth, compute_units, "
	               "hw_threads, clock, compute_capability, kernels, caps, pool, overhead");
}
END_TEST

START_TEST(key_before_any_section_is_an_error)
{
	const char *path = load_bad("memory = 8GiB\n[device.gpu0]\nkind = gpu\nmemory = 8GiB\n");

	assert_err_has(at(path, 1));
	assert_err_has("comes before any section");
}
END_TEST

START_TEST(missing_kind_or_memory_is_named_at_the_section_line)
{
	const char *path = load_bad("[device.gpu0]\nmemory = 8GiB\n\n[device.cpu0]\nkind = cpu\n");

	assert_err_has(at(path, 1));
	assert_err_has("[device.gpu0] has no kind");
	assert_err_has(at(path, 4));
	assert_err_has("[device.cpu0] has no memory");
}
END_TEST

START_TEST(free_above_memory_names_both_lines)
{
	const char *path = load_bad("[device.gpu0]\nkind = gpu\nmemory = 8GiB\nfree = 9GiB\n");

	assert_err_has(at(path, 4));
	assert_err_has("free: 9.00 GiB is more than memory (8.00 GiB, line 3)");
}
END_TEST

START_TEST(bad_numbers_and_units_name_line_key_and_what_is_expected)
{
	const char *path = load_bad(
		"[device.gpu0]\n"              /* 1 */
		"kind = tpu\n"                 /* 2 */
		"memory = 8 GX\n"              /* 3 */
		"bandwidth = 272GB\n"          /* 4 */
		"compute_units = 0\n"          /* 5 */
		"clock = 2.46\n"               /* 6 */
		"compute_capability = 89\n"    /* 7 */
		"free = -1GiB\n"               /* 8 */
		"overhead = lots\n"            /* 9 */
		"name =\n"                     /* 10 */
		"[device.cpu0]\n"              /* 11 */
		"kind = cpu\n"                 /* 12 */
		"memory = 0\n"                 /* 13 */
		"hw_threads = 4.5\n"           /* 14 */
		"bandwidth = 0GB/s\n"          /* 15 */
		"clock = 9999GHz\n");          /* 16 */

	assert_err_has(at(path, 2));
	assert_err_has("kind: 'tpu' is not one of cpu, gpu, accelerator");
	assert_err_has(at(path, 3));
	assert_err_has("memory: '8 GX' is not a size");
	assert_err_has(at(path, 4));
	assert_err_has("bandwidth: '272GB' is not a bandwidth; expected bytes per second");
	assert_err_has(at(path, 5));
	assert_err_has("compute_units: '0' is not an integer from 1 to 1000000");
	assert_err_has(at(path, 6));
	assert_err_has("clock: '2.46' is not a clock");
	assert_err_has("Hz, kHz, MHz or GHz");
	assert_err_has(at(path, 7));
	assert_err_has("compute_capability: '89' is not a compute capability; expected major.minor");
	assert_err_has(at(path, 8));
	assert_err_has("free: '-1GiB' is not a size");
	assert_err_has(at(path, 9));
	assert_err_has("overhead: 'lots' is not a size");
	assert_err_has(at(path, 10));
	assert_err_has("name: empty value");
	assert_err_has(at(path, 13));
	assert_err_has("memory: '0' is zero");
	assert_err_has(at(path, 14));
	assert_err_has("hw_threads: '4.5' is not an integer");
	assert_err_has(at(path, 15));
	assert_err_has("bandwidth: '0GB/s' is not a bandwidth");
	assert_err_has(at(path, 16));
	assert_err_has("clock: '9999GHz' is not a clock");
}
END_TEST

START_TEST(unknown_kernel_or_capability_names_list_the_accepted_ones)
{
	const char *path = load_bad("[device.gpu0]\nkind = gpu\nmemory = 8GiB\n"
	                            "kernels = I2_S, Q4_0\ncaps = fp16, tensor_cores\n"
	                            "[device.gpu1]\nkind = gpu\nmemory = 8GiB\nkernels = I2_S,,F16\n");

	assert_err_has(at(path, 4));
	assert_err_has("kernels: 'Q4_0' is not a trit type; accepted: F32, F16, BF16, I8, I32, "
	               "I2_S, TL1, TL2, TQ1_0, TQ2_0");
	assert_err_has(at(path, 5));
	assert_err_has("caps: 'tensor_cores' is not a capability; accepted: sse4.2, avx, avx2");
	assert_err_has("unified_memory, integrated");
	assert_err_has(at(path, 9));
	assert_err_has("has an empty entry");
}
END_TEST

START_TEST(kind_specific_keys_are_refused_on_the_other_kinds)
{
	const char *path = load_bad("[device.cpu0]\nkind = cpu\nmemory = 8GiB\n"
	                            "compute_capability = 8.9\n"
	                            "[device.gpu0]\nkind = gpu\nmemory = 8GiB\nhw_threads = 16\n");

	assert_err_has(at(path, 4));
	assert_err_has("[device.cpu0] compute_capability: only a gpu has one");
	assert_err_has(at(path, 8));
	assert_err_has("[device.gpu0] hw_threads: counts CPU threads");
}
END_TEST

START_TEST(a_device_id_described_twice_names_the_first_line)
{
	const char *path = load_bad("[device.gpu0]\nkind = gpu\nmemory = 8GiB\n\n"
	                            "[device.gpu0]\nkind = gpu\nmemory = 4GiB\n");

	assert_err_has(at(path, 5));
	assert_err_has("[device.gpu0] is already described at line 1");
}
END_TEST

START_TEST(a_key_set_twice_names_the_first_line)
{
	const char *path = load_bad("[device.gpu0]\nkind = gpu\nmemory = 8GiB\nmemory = 4GiB\n");

	assert_err_has(at(path, 4));
	assert_err_has("[device.gpu0] memory is already set at line 3");
}
END_TEST

START_TEST(device_ids_are_lower_case_letters_digits_and_underscores)
{
	const char *path = load_bad("[device.GPU0]\nkind = gpu\nmemory = 8GiB\n"
	                            "[device.]\nkind = gpu\nmemory = 8GiB\n"
	                            "[device.gpu-1]\nkind = gpu\nmemory = 8GiB\n"
	                            "[device.ok_1]\nkind = gpu\nmemory = 8GiB\n");

	assert_err_has(at(path, 1));
	assert_err_has("bad device id in [device.GPU0]");
	assert_err_has(at(path, 4));
	assert_err_has(at(path, 7));
	ck_assert_msg(!strstr(err, at(path, 10)), "a good id was refused:\n%s", err);
}
END_TEST

START_TEST(at_most_64_devices_are_described)
{
	char text[8192] = "";
	const char *path;

	for (int i = 0; i < TRIT_DESCRIBED_MAX_DEVICES + 1; i++) {
		char sec[64];
		snprintf(sec, sizeof sec, "[device.d%d]\nkind = cpu\nmemory = 1GiB\n", i);
		strcat(text, sec);
	}
	path = load_bad(text);
	assert_err_has(at(path, 64 * 3 + 1));
	assert_err_has("[device.d64] is device 65; a devices file describes at most 64");
}
END_TEST

START_TEST(sixty_four_devices_load)
{
	char text[8192] = "";

	for (int i = 0; i < TRIT_DESCRIBED_MAX_DEVICES; i++) {
		char sec[64];
		snprintf(sec, sizeof sec, "[device.d%d]\nkind = cpu\nmemory = 1GiB\n", i);
		strcat(text, sec);
	}
	ck_assert_uint_eq(load_ok(fixture(text))->n_devices, 64);
}
END_TEST

START_TEST(a_line_too_long_is_reported_like_in_deploy_ini)
{
	char text[512];
	const char *path;

	snprintf(text, sizeof text, "[device.gpu0]\nkind = gpu\nmemory = 8GiB\nname = %0300d\n", 0);
	path = load_bad(text);
	assert_err_has(at(path, 4));
	assert_err_has("line too long (max 198 characters)");
}
END_TEST

START_TEST(every_problem_is_reported_in_line_order)
{
	const char *path = load_bad("[device.gpu0]\nkind = gpu\nmemory = 8GiB\n"
	                            "clock = fast\n"          /* 4 */
	                            "bogus\n"                 /* 5 */
	                            "[host]\n"                /* 6 */
	                            "[device.cpu0]\n"         /* 7: no memory */
	                            "kind = cpu\n");
	const char *l4 = strstr(err, at(path, 4)), *l5 = strstr(err, at(path, 5));
	const char *l6 = strstr(err, at(path, 6)), *l7 = strstr(err, at(path, 7));

	ck_assert_msg(l4 && l5 && l6 && l7 && l4 < l5 && l5 < l6 && l6 < l7,
	              "problems missing or out of order:\n%s", err);
	assert_err_has("syntax error");
}
END_TEST

/* --------------------------------------------------------------- registry */

START_TEST(registry_with_a_devices_file_loads_only_the_described_backend)
{
	const char *dirs[] = { getenv("TRIT_TEST_PLUGIN_DIR") };
	struct trit_registry_options o = {
		.plugin_dirs = dirs, .n_plugin_dirs = dirs[0] ? 1 : 0, .config = &cfg,
		.devices_file = fixture(full),
	};
	const struct trit_plugin_info *p;
	char e[512];

	ck_assert_ptr_nonnull(dirs[0]);
	setenv("TRIT_PLUGIN_PATH", dirs[0], 1);
	ck_assert_int_eq(trit_registry_open(&o, &reg, e, sizeof e), 0);
	ck_assert_uint_eq(trit_registry_plugin_count(reg), 1);
	ck_assert_ptr_null(trit_registry_search_dir(reg, 0, NULL, NULL));
	p = trit_registry_plugin(reg, 0);
	ck_assert_str_eq(p->name, "described");
	ck_assert_str_eq(p->origin, "built-in");
	ck_assert_int_eq(p->status, TRIT_PLUGIN_LOADED);
	ck_assert_uint_eq(p->n_devices, 2);
}
END_TEST

START_TEST(the_file_reaches_the_backend_as_its_setting_from_devices)
{
	const char *path = fixture(full), *where = NULL;

	load_ok(path);
	ck_assert_str_eq(trit_config_plugin_get(&cfg, "described", "file", &where), path);
	ck_assert_str_eq(where, "--devices");
}
END_TEST

START_TEST(devices_overrides_the_environment_and_the_config_file)
{
	char e[512];
	const char *path = fixture(full);

	setenv("TRIT_PLUGIN_DESCRIBED_FILE", "/nonexistent/env.ini", 1);
	ck_assert_int_eq(trit_config_set(&cfg, "plugin.described", "file", "/nonexistent/f.ini",
	                                 "deploy.ini:3", e, sizeof e), 0);
	ck_assert_uint_eq(load_ok(path)->n_devices, 2);
}
END_TEST

START_TEST(other_keys_in_plugin_described_are_refused)
{
	char e[512];
	const struct trit_plugin_info *p;

	ck_assert_int_eq(trit_config_set(&cfg, "plugin.described", "fille", "x.ini",
	                                 "deploy.ini:7", e, sizeof e), 0);
	p = open_devices(fixture(full));
	ck_assert_int_eq(p->status, TRIT_PLUGIN_SKIPPED);
	ck_assert_msg(strstr(p->reason, "deploy.ini:7: [plugin.described] unknown key 'fille'"),
	              "reason: %s", p->reason);
}
END_TEST

START_TEST(without_a_devices_file_there_is_no_described_backend)
{
	struct trit_registry_options o = { .config = &cfg, .flags = TRIT_REGISTRY_NO_ENV |
	                                   TRIT_REGISTRY_NO_DEFAULT_DIRS };
	char e[512];

	ck_assert_int_eq(trit_registry_open(&o, &reg, e, sizeof e), 0);
	for (size_t i = 0; i < trit_registry_plugin_count(reg); i++)
		ck_assert_str_ne(trit_registry_plugin(reg, i)->name, "described");
}
END_TEST

/* ------------------------------------------------------------------ suite */

static void add(Suite *s, const char *name, const TTest *t)
{
	TCase *tc = tcase_create(name);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, t);
	suite_add_tcase(s, tc);
}

#define ADD(s, t) add((s), #t, (t))

int main(void)
{
	Suite *s = suite_create("described");

	trit_log_set_level(TRIT_LOG_ERROR);
	ADD(s, every_example_machine_loads_with_its_devices);
	ADD(s, every_file_in_docs_machines_is_an_example_tested_here);
	ADD(s, the_example_in_docs_devices_md_loads);
	ADD(s, every_given_value_is_configured_with_its_file_and_line);
	ADD(s, values_not_given_are_unknown_not_described_in_the_file);
	ADD(s, free_defaults_to_memory_and_says_so);
	ADD(s, name_defaults_to_the_id_and_pool_to_host_for_a_cpu_else_the_id);
	ADD(s, units_and_lists_are_read_as_documented);
	ADD(s, an_empty_file_describes_no_device_and_is_an_error);
	ADD(s, a_missing_file_is_named);
	ADD(s, unknown_section_names_line_and_the_accepted_form);
	ADD(s, unknown_key_lists_the_accepted_keys);
	ADD(s, key_before_any_section_is_an_error);
	ADD(s, missing_kind_or_memory_is_named_at_the_section_line);
	ADD(s, free_above_memory_names_both_lines);
	ADD(s, bad_numbers_and_units_name_line_key_and_what_is_expected);
	ADD(s, unknown_kernel_or_capability_names_list_the_accepted_ones);
	ADD(s, kind_specific_keys_are_refused_on_the_other_kinds);
	ADD(s, a_device_id_described_twice_names_the_first_line);
	ADD(s, a_key_set_twice_names_the_first_line);
	ADD(s, device_ids_are_lower_case_letters_digits_and_underscores);
	ADD(s, at_most_64_devices_are_described);
	ADD(s, sixty_four_devices_load);
	ADD(s, a_line_too_long_is_reported_like_in_deploy_ini);
	ADD(s, every_problem_is_reported_in_line_order);
	ADD(s, registry_with_a_devices_file_loads_only_the_described_backend);
	ADD(s, the_file_reaches_the_backend_as_its_setting_from_devices);
	ADD(s, devices_overrides_the_environment_and_the_config_file);
	ADD(s, other_keys_in_plugin_described_are_refused);
	ADD(s, without_a_devices_file_there_is_no_described_backend);

	return test_run_suite(s);
}
