/*
 * check_registry.c - the registry finds plugins in the documented order,
 * refuses broken ones with a reason (without running their code past the
 * entry point), hands plugins their settings, and never takes the host down.
 * The broken plugins are built from the sources in tests/plugins/.
 */
#include <build-config.h>

#include <check.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <trit/trit.h>

#include "config/config.h"
#include "core/log.h"
#include "backend/registry.h"
#include "support/support.h"

static const char *plugin_dir(void)
{
	const char *d = getenv("TRIT_TEST_PLUGIN_DIR");
	ck_assert_msg(d != NULL, "TRIT_TEST_PLUGIN_DIR is not set (run through make check)");
	return d;
}

static struct trit_registry *open_dirs(const char **dirs, size_t n, struct trit_config *cfg,
                                       unsigned flags)
{
	struct trit_registry_options o = {
		.plugin_dirs = dirs, .n_plugin_dirs = n, .config = cfg,
		.flags = flags | TRIT_REGISTRY_NO_DEFAULT_DIRS,
	};
	struct trit_registry *reg = NULL;
	char err[512];
	int rc = trit_registry_open(&o, &reg, err, sizeof err);
	ck_assert_msg(rc == 0, "registry_open: %s", err);
	return reg;
}

static struct trit_registry *open_test_dir(void)
{
	const char *d = plugin_dir();
	return open_dirs(&d, 1, NULL, TRIT_REGISTRY_NO_BUILTIN | TRIT_REGISTRY_NO_ENV);
}

/* The entry whose name (backend name, or file stem when unread) is `name`. */
static const struct trit_plugin_info *find(const struct trit_registry *reg, const char *name,
                                           size_t *index)
{
	for (size_t i = 0; i < trit_registry_plugin_count(reg); i++) {
		const struct trit_plugin_info *p = trit_registry_plugin(reg, i);
		if (strcmp(p->name, name) == 0) {
			if (index)
				*index = i;
			return p;
		}
	}
	ck_abort_msg("no plugin named %s was found", name);
	return NULL;
}

static void assert_skipped(const struct trit_plugin_info *p, const char *needle)
{
	ck_assert_int_eq(p->status, TRIT_PLUGIN_SKIPPED);
	ck_assert_ptr_nonnull(p->reason);
	ck_assert_msg(strstr(p->reason, needle), "reason '%s' lacks '%s'", p->reason, needle);
	ck_assert_uint_eq(p->n_devices, 0);
}

static char tmpdir[64];

static void make_tmpdir(void)
{
	strcpy(tmpdir, "/tmp/trit-registry-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void copy_file(const char *from, const char *to)
{
	char buf[1 << 16];
	size_t n;
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");

	ck_assert_msg(in && out, "copy %s -> %s", from, to);
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		ck_assert_uint_eq(fwrite(buf, 1, n, out), n);
	fclose(in);
	fclose(out);
}

/* ---------------------------------------------------------------------- */

START_TEST(wrong_abi_version_is_skipped_before_init_runs)
{
	struct trit_registry *reg = open_test_dir();
	const struct trit_plugin_info *p = find(reg, "bad_abi", NULL);
	assert_skipped(p, "plugin ABI 999");
	ck_assert_uint_eq(p->abi_version, 999);
	/* bad_abi's init() aborts: reaching this line proves it never ran. */
	trit_registry_close(reg);
}
END_TEST

START_TEST(plugin_built_for_a_newer_abi_is_refused_before_init_runs)
{
	struct trit_registry *reg = open_test_dir();
	const struct trit_plugin_info *p = find(reg, "future_abi", NULL);
	char want[128];

	snprintf(want, sizeof want, "built for plugin ABI %u; this trit loads ABI %u to %u",
	         TRIT_BACKEND_ABI_VERSION + 1, TRIT_BACKEND_ABI_MIN, TRIT_BACKEND_ABI_VERSION);
	assert_skipped(p, want);
	ck_assert_uint_eq(p->abi_version, TRIT_BACKEND_ABI_VERSION + 1);
	/* future_abi's init() aborts: reaching this line proves it never ran. */
	trit_registry_close(reg);
}
END_TEST

START_TEST(table_larger_than_the_hosts_is_refused_naming_both_sizes)
{
	struct trit_registry *reg = open_test_dir();
	const struct trit_plugin_info *p = find(reg, "big_table", NULL);
	char plugin[64], host[64];

	snprintf(plugin, sizeof plugin, "%zu bytes", sizeof(struct trit_backend) + 64);
	snprintf(host, sizeof host, "%zu bytes", sizeof(struct trit_backend));
	assert_skipped(p, plugin);
	assert_skipped(p, host);
	assert_skipped(p, "newer backend.h");
	ck_assert_uint_eq(p->struct_size, sizeof(struct trit_backend) + 64);
	trit_registry_close(reg);
}
END_TEST

/* An F32 [ne0, ne1] tensor at the start of b. */
static struct trit_tensor f32(struct trit_buffer *b, uint64_t ne0, uint64_t ne1)
{
	struct trit_tensor t = {
		.type = TRIT_TYPE_F32, .ne = { ne0, ne1, 1, 1 },
		.nb = { 4, 4 * ne0, 4 * ne0 * ne1, 4 * ne0 * ne1 }, .buffer = b,
	};
	return t;
}

static struct trit_buffer *filled(const struct trit_backend *be, void *st, const float *v,
                                  size_t n)
{
	struct trit_buffer *b = NULL;
	char err[256];

	ck_assert_msg(be->buffer_alloc(st, 0, n * 4, &b, err, sizeof err) == 0, "%s", err);
	ck_assert_msg(be->buffer_write(st, b, 0, v, n * 4, err, sizeof err) == 0, "%s", err);
	return b;
}

/* 2x3 weights times 2 tokens of 3, as the reference test: 6, -0.5, 10, -3 */
static const float W23[6] = { 1, 2, 3, -1, 0.5f, 0 };
static const float X32[6] = { 1, 1, 1, 2, -2, 4 };
static const float Y22[4] = { 6.0f, -0.5f, 10.0f, -3.0f };

static void assert_product(const struct trit_backend *be, void *st, struct trit_buffer *y)
{
	float got[4];
	char err[256];

	ck_assert_msg(be->buffer_read(st, y, 0, got, sizeof got, err, sizeof err) == 0, "%s", err);
	for (int i = 0; i < 4; i++)
		ck_assert_float_eq(got[i], Y22[i]);
}

START_TEST(v1_plugin_loads_and_its_matmul_runs_under_graph_compute)
{
	struct trit_registry *reg = open_test_dir();
	size_t idx;
	const struct trit_plugin_info *p = find(reg, "test_v1", &idx);
	void *st;
	const struct trit_backend *be;
	struct trit_buffer *w, *x, *y, *ws = NULL;
	struct trit_event *ev = NULL;
	uint64_t need = 0;
	char err[512];

	ck_assert_msg(p->status == TRIT_PLUGIN_LOADED, "%s", p->reason);
	ck_assert_uint_eq(p->abi_version, 1);
	ck_assert_uint_eq(p->struct_size, offsetof(struct trit_backend, matmul) + sizeof(void *));
	be = trit_registry_backend(reg, idx, &st);
	ck_assert_uint_eq(be->abi_version, TRIT_BACKEND_ABI_VERSION);
	w = filled(be, st, W23, 6);
	x = filled(be, st, X32, 6);
	ck_assert_int_eq(be->buffer_alloc(st, 0, 16, &y, err, sizeof err), 0);
	struct trit_node nodes[2] = { {
		.struct_size = sizeof nodes[0], .op = TRIT_OP_MATMUL, .name = "blk.0.attn_q",
		.dst = f32(y, 2, 2), .src = { f32(w, 3, 2), f32(x, 3, 2) },
	} };
	ck_assert_int_eq(be->supports_op(st, 0, &nodes[0]), 1);
	struct trit_graph g = { .struct_size = sizeof g, .n_nodes = 1, .nodes = nodes };
	ck_assert_int_eq(be->graph_workspace(st, 0, &g, &need, err, sizeof err), 0);
	ck_assert_uint_eq(need, 64); /* the plugin's matmul_workspace */
	/* without the workspace it asked for, the node is refused, not run */
	ck_assert_int_eq(be->graph_compute(st, 0, &g, err, sizeof err), TRIT_EINVAL);
	ck_assert_msg(strstr(err, "node 0 (blk.0.attn_q)") && strstr(err, "64 bytes"), "%s", err);
	ck_assert_int_eq(be->buffer_alloc(st, 0, need, &ws, err, sizeof err), 0);
	g.workspace = ws;
	g.workspace_size = need;
	ck_assert_msg(be->graph_compute(st, 0, &g, err, sizeof err) == 0, "%s", err);
	assert_product(be, st, y);
	/* the same through the synchronous graph_submit() the host supplies */
	ck_assert_int_eq(be->buffer_write(st, y, 0, X32, 16, err, sizeof err), 0);
	ck_assert_int_eq(be->graph_submit(st, 0, &g, &ev, err, sizeof err), 0);
	ck_assert_ptr_nonnull(ev);
	ck_assert_msg(be->event_wait(st, ev, err, sizeof err) == 0, "%s", err);
	be->event_free(st, ev);
	assert_product(be, st, y);
	be->buffer_free(st, w);
	be->buffer_free(st, x);
	be->buffer_free(st, y);
	be->buffer_free(st, ws);
	trit_registry_close(reg);
}
END_TEST

START_TEST(v1_plugin_supports_only_what_its_matmul_can_run)
{
	struct trit_registry *reg = open_test_dir();
	size_t idx;
	void *st;
	const struct trit_backend *be;
	struct trit_buffer *b = (struct trit_buffer *)&idx; /* never dereferenced */
	char err[512];

	find(reg, "test_v1", &idx);
	be = trit_registry_backend(reg, idx, &st);
	struct trit_node mm = {
		.struct_size = sizeof mm, .op = TRIT_OP_MATMUL,
		.dst = f32(b, 2, 2), .src = { f32(b, 3, 2), f32(b, 3, 2) },
	};
	struct trit_node n = mm;
	n.src[0].type = TRIT_TYPE_F16; /* not in its matmul_types */
	n.src[0].nb[0] = 2;
	n.src[0].nb[1] = 6;
	ck_assert_int_eq(be->supports_op(st, 0, &n), 0);
	n = mm;
	n.src[1].nb[1] = 16; /* strided activations: not what trit_matmul describes */
	ck_assert_int_eq(be->supports_op(st, 0, &n), 0);
	n = mm;
	n.op = TRIT_OP_ADD;
	ck_assert_int_eq(be->supports_op(st, 0, &n), 0);
	ck_assert_int_eq(be->supports_op(st, 1, &mm), 0); /* no such device */
	struct trit_node two[2] = { mm, n };
	two[1].name = "blk.0.ffn_add";
	struct trit_graph g = { .struct_size = sizeof g, .n_nodes = 2, .nodes = two };
	ck_assert_int_eq(be->graph_compute(st, 0, &g, err, sizeof err), TRIT_EUNSUPPORTED);
	ck_assert_msg(strstr(err, "node 1 (blk.0.ffn_add)") && strstr(err, "ADD"), "%s", err);
	trit_registry_close(reg);
}
END_TEST

START_TEST(plugin_files_open_exactly_the_named_files)
{
	char path[512], err[512];
	const char *files[1] = { path };
	struct trit_registry_options o = {
		.flags = TRIT_REGISTRY_NO_ENV | TRIT_REGISTRY_NO_DEFAULT_DIRS,
		.plugin_files = files, .n_plugin_files = 1,
	};
	struct trit_registry *reg = NULL;

	snprintf(path, sizeof path, "%s/v1_matmul.la", plugin_dir());
	ck_assert_msg(trit_registry_open(&o, &reg, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(trit_registry_plugin_count(reg), 2);
	ck_assert_int_eq(find(reg, "ref", NULL)->status, TRIT_PLUGIN_LOADED);
	const struct trit_plugin_info *p = find(reg, "test_v1", NULL);
	ck_assert_msg(p->status == TRIT_PLUGIN_LOADED, "%s", p->reason);
	ck_assert_str_eq(p->origin, "plugin file");
	ck_assert_str_eq(p->path, path);
	ck_assert_ptr_null(trit_registry_search_dir(reg, 0, NULL, NULL));
	trit_registry_close(reg);
}
END_TEST

START_TEST(v2_plugin_without_matmul_answers_matmul_with_a_one_node_graph)
{
	struct trit_registry *reg = open_test_dir();
	size_t idx;
	void *st;
	const struct trit_backend *be;
	struct trit_buffer *w, *x, *y;
	uint64_t need = 99;
	char err[512];

	ck_assert_int_eq(find(reg, "test_partial", &idx)->status, TRIT_PLUGIN_LOADED);
	be = trit_registry_backend(reg, idx, &st);
	w = filled(be, st, W23, 6);
	x = filled(be, st, X32, 6);
	ck_assert_int_eq(be->buffer_alloc(st, 0, 16, &y, err, sizeof err), 0);
	struct trit_matmul op = {
		.struct_size = sizeof op, .weight_type = TRIT_TYPE_F32,
		.rows = 2, .cols = 3, .tokens = 2, .weights = w, .input = x, .output = y,
	};
	ck_assert_msg(be->matmul_workspace(st, 0, &op, &need, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(need, 0);
	ck_assert_msg(be->matmul(st, 0, &op, err, sizeof err) == 0, "%s", err);
	assert_product(be, st, y);
	op.flags = TRIT_MATMUL_INT_DOTS;
	ck_assert_int_eq(be->matmul(st, 0, &op, err, sizeof err), TRIT_EUNSUPPORTED);
	ck_assert_msg(strstr(err, "INT_DOTS"), "%s", err);
	op.flags = 0;
	op.weight_type = TRIT_TYPE_Q8_0; /* a type it does not run */
	op.cols = 32;
	ck_assert_int_eq(be->matmul(st, 0, &op, err, sizeof err), TRIT_EUNSUPPORTED);
	ck_assert_msg(strstr(err, "Q8_0"), "%s", err);
	be->buffer_free(st, w);
	be->buffer_free(st, x);
	be->buffer_free(st, y);
	trit_registry_close(reg);
}
END_TEST

START_TEST(buffer_copy_without_the_plugins_own_stages_overlapping_ranges)
{
	struct trit_registry *reg = open_test_dir();
	size_t idx, size = (size_t)5 << 19; /* 2.5 MiB: three staging chunks */
	uint64_t shift = 300001, len = (uint64_t)2 << 20;
	void *st;
	const struct trit_backend *be;
	struct trit_buffer *b;
	unsigned char *v = malloc(size), *got = malloc(size);
	char err[512];

	ck_assert(v && got);
	for (size_t i = 0; i < size; i++)
		v[i] = (unsigned char)(i * 7 + i / 251);
	find(reg, "test_v1", &idx);
	be = trit_registry_backend(reg, idx, &st);
	ck_assert_int_eq(be->buffer_alloc(st, 0, size, &b, err, sizeof err), 0);
	ck_assert_int_eq(be->buffer_write(st, b, 0, v, size, err, sizeof err), 0);
	/* destination after the source, overlapping: must copy back to front */
	ck_assert_msg(be->buffer_copy(st, b, shift, b, 0, len, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(be->buffer_read(st, b, 0, got, size, err, sizeof err), 0);
	ck_assert(memcmp(got, v, shift) == 0);
	ck_assert(memcmp(got + shift, v, len) == 0);
	ck_assert(memcmp(got + shift + len, v + shift + len, size - shift - len) == 0);
	/* out of range is the plugin's refusal, passed on */
	ck_assert_int_eq(be->buffer_copy(st, b, size - 8, b, 0, 16, err, sizeof err), TRIT_ERANGE);
	be->buffer_free(st, b);
	free(v);
	free(got);
	trit_registry_close(reg);
}
END_TEST

START_TEST(host_table_answers_the_v2_entries_a_plugin_lacks)
{
	struct trit_registry *reg = open_test_dir();
	size_t idx;
	void *st;
	const struct trit_backend *be;
	struct trit_buffer *b = NULL;
	struct trit_buffer_limits lim;
	uint64_t fr = 1, tot = 1;
	char err[512], mem[8];

	find(reg, "test_v1", &idx);
	be = trit_registry_backend(reg, idx, &st);
	ck_assert_ptr_null(be->init);
	ck_assert_ptr_null(be->shutdown);
	ck_assert_uint_eq(be->device_count(st), 1);
	ck_assert_str_eq(be->device_get(st, 0)->id, "v1cpu");
	ck_assert_ptr_null(be->device_get(st, 1));
	ck_assert_int_eq(be->get_memory(st, 0, &fr, &tot, err, sizeof err), TRIT_EUNSUPPORTED);
	ck_assert_msg(strstr(err, "device_update"), "%s", err);
	ck_assert_uint_eq(fr, 0);
	ck_assert_int_eq(be->buffer_limits(st, 0, &lim, err, sizeof err), TRIT_EUNSUPPORTED);
	ck_assert_int_eq(be->buffer_from_host_ptr(st, 0, mem, sizeof mem, &b, err, sizeof err),
	                 TRIT_EUNSUPPORTED);
	ck_assert_ptr_null(b);
	ck_assert_int_eq(be->buffer_alloc(st, 0, 8, &b, err, sizeof err), 0);
	ck_assert_ptr_null(be->buffer_host_ptr(st, b));
	be->buffer_free(st, b);
	ck_assert_ptr_null(be->extension(st, "cuda.stream"));
	ck_assert_int_eq(be->buffer_alloc(st, 3, 8, &b, err, sizeof err), TRIT_EINVAL);
	ck_assert_msg(strstr(err, "no device 3"), "%s", err);
	trit_registry_close(reg);
}
END_TEST

START_TEST(missing_entry_point_is_skipped)
{
	struct trit_registry *reg = open_test_dir();
	assert_skipped(find(reg, "no_entry", NULL), "no entry point");
	trit_registry_close(reg);
}
END_TEST

START_TEST(short_backend_table_is_skipped)
{
	struct trit_registry *reg = open_test_dir();
	const struct trit_plugin_info *p = find(reg, "short_struct", NULL);
	assert_skipped(p, "smaller than");
	ck_assert_uint_eq(p->struct_size, 8);
	trit_registry_close(reg);
}
END_TEST

START_TEST(failing_probe_is_skipped_with_the_plugins_reason)
{
	struct trit_registry *reg = open_test_dir();
	const struct trit_plugin_info *p = find(reg, "test_probe_fails", NULL);
	assert_skipped(p, "no test device present");
	ck_assert_msg(strstr(p->reason, "ENODEV"), "reason: %s", p->reason);
	trit_registry_close(reg);
}
END_TEST

START_TEST(inconsistent_device_report_is_refused)
{
	struct trit_registry *reg = open_test_dir();
	assert_skipped(find(reg, "test_bad_device", NULL), "2000 bytes free out of 1000");
	trit_registry_close(reg);
}
END_TEST

START_TEST(file_that_is_not_a_shared_object_is_skipped)
{
	const char *dirs[2];
	struct trit_registry *reg;
	static const char text[] = "this is a text file, not ELF\n";

	make_tmpdir();
	write_file(tmpdir, "garbage.so", text, sizeof text - 1);
	write_file(tmpdir, "empty.so", "", 0);
	dirs[0] = tmpdir;
	dirs[1] = plugin_dir();
	reg = open_dirs(dirs, 2, NULL, TRIT_REGISTRY_NO_BUILTIN | TRIT_REGISTRY_NO_ENV);
	assert_skipped(find(reg, "garbage", NULL), "not a shared object");
	assert_skipped(find(reg, "empty", NULL), "not a shared object");
	/* ... and the good plugin after it still loads. */
	ck_assert_int_eq(find(reg, "test_good", NULL)->status, TRIT_PLUGIN_LOADED);
	trit_registry_close(reg);
}
END_TEST

START_TEST(good_plugin_loads_with_its_devices_despite_broken_neighbours)
{
	struct trit_registry *reg = open_test_dir();
	const struct trit_plugin_info *p = find(reg, "test_good", NULL);

	ck_assert_int_eq(p->status, TRIT_PLUGIN_LOADED);
	ck_assert_ptr_null(p->reason);
	ck_assert_str_eq(p->version, "1.2.3");
	ck_assert_str_eq(p->origin, "--plugin-dir");
	ck_assert_uint_eq(p->abi_version, TRIT_BACKEND_ABI_VERSION);
	ck_assert_uint_eq(p->n_devices, 2);
	ck_assert_str_eq(p->devices[0].id, "sim0");
	ck_assert_str_eq(p->devices[1].id, "sim1");
	ck_assert_uint_eq(p->devices[0].mem_total.value, UINT64_C(8) << 30);
	ck_assert_uint_eq(p->devices[0].mem_total.state, TRIT_VALUE_MEASURED);
	ck_assert_uint_eq(p->devices[0].mem_bandwidth.state, TRIT_VALUE_UNKNOWN);
	ck_assert_str_eq(p->devices[0].props[0].key, "mem.pool");
	trit_registry_close(reg);
}
END_TEST

START_TEST(older_plugin_gets_unsupported_answers_and_no_poison)
{
	struct trit_registry *reg = open_test_dir();
	size_t idx;
	const struct trit_plugin_info *p = find(reg, "test_old", &idx);
	const struct trit_backend *be;
	void *state;
	struct trit_buffer *buf = (struct trit_buffer *)1;
	char err[256] = "";

	ck_assert_int_eq(p->status, TRIT_PLUGIN_LOADED);
	ck_assert_uint_eq(p->struct_size, TRIT_BACKEND_MIN_STRUCT_SIZE);
	ck_assert_uint_eq(p->n_devices, 1);
	/* fields past the plugin's device struct read as empty, not as poison */
	ck_assert_uint_eq(p->devices[0].struct_size, sizeof(struct trit_device));
	ck_assert_uint_eq(p->devices[0].n_props, 0);
	ck_assert_ptr_null(p->devices[0].props);
	be = trit_registry_backend(reg, idx, &state);
	ck_assert_ptr_nonnull(be);
	ck_assert_int_eq(be->buffer_alloc(state, 0, 16, &buf, err, sizeof err), TRIT_EUNSUPPORTED);
	ck_assert_ptr_null(buf);
	ck_assert_msg(strstr(err, "buffer_alloc"), "err: %s", err);
	ck_assert_int_eq(be->matmul(state, 0, NULL, err, sizeof err), TRIT_EUNSUPPORTED);
	ck_assert_int_eq(be->device_update(state, 0, err, sizeof err), TRIT_EUNSUPPORTED);
	trit_registry_close(reg);
}
END_TEST

START_TEST(same_backend_found_later_is_shadowed)
{
	char from[512], to[512];
	const char *dirs[2];
	struct trit_registry *reg;
	size_t loaded = 0, shadowed = 0;

	make_tmpdir();
	snprintf(from, sizeof from, "%s/.libs/good.so", plugin_dir());
	snprintf(to, sizeof to, "%s/good.so", tmpdir);
	copy_file(from, to);
	dirs[0] = plugin_dir();
	dirs[1] = tmpdir;
	reg = open_dirs(dirs, 2, NULL, TRIT_REGISTRY_NO_BUILTIN | TRIT_REGISTRY_NO_ENV);
	for (size_t i = 0; i < trit_registry_plugin_count(reg); i++) {
		const struct trit_plugin_info *p = trit_registry_plugin(reg, i);
		if (strcmp(p->name, "test_good") != 0)
			continue;
		if (p->status == TRIT_PLUGIN_LOADED) {
			loaded++;
			ck_assert_msg(strncmp(p->path, plugin_dir(), strlen(plugin_dir())) == 0,
			              "the first directory wins, got %s", p->path);
		} else {
			shadowed++;
			ck_assert_msg(strstr(p->reason, "shadowed"), "reason: %s", p->reason);
		}
	}
	ck_assert_uint_eq(loaded, 1);
	ck_assert_uint_eq(shadowed, 1);
	trit_registry_close(reg);
}
END_TEST

START_TEST(plugin_settings_reach_the_plugin)
{
	static const char ini[] = "[plugin.test_good]\ndevices = 3\n";
	struct trit_config cfg;
	char path[512], err[1024];
	const char *d = plugin_dir();
	struct trit_registry *reg;

	make_tmpdir();
	write_file(tmpdir, "deploy.ini", ini, sizeof ini - 1);
	snprintf(path, sizeof path, "%s/deploy.ini", tmpdir);
	trit_config_init(&cfg);
	ck_assert_msg(trit_config_load_file(&cfg, path, err, sizeof err) == 0, "%s", err);
	reg = open_dirs(&d, 1, &cfg, TRIT_REGISTRY_NO_BUILTIN | TRIT_REGISTRY_NO_ENV);
	ck_assert_uint_eq(find(reg, "test_good", NULL)->n_devices, 3);
	trit_registry_close(reg);
	trit_config_free(&cfg);
}
END_TEST

START_TEST(bad_plugin_setting_is_reported_with_file_and_line)
{
	static const char ini[] = "[runtime]\nlog_level = warn\n[plugin.test_good]\ndevices = 9\n";
	struct trit_config cfg;
	char path[512], err[1024], want[600];
	const char *d = plugin_dir();
	struct trit_registry *reg;

	make_tmpdir();
	write_file(tmpdir, "deploy.ini", ini, sizeof ini - 1);
	snprintf(path, sizeof path, "%s/deploy.ini", tmpdir);
	trit_config_init(&cfg);
	ck_assert_msg(trit_config_load_file(&cfg, path, err, sizeof err) == 0, "%s", err);
	reg = open_dirs(&d, 1, &cfg, TRIT_REGISTRY_NO_BUILTIN | TRIT_REGISTRY_NO_ENV);
	snprintf(want, sizeof want, "%s:4: devices = '9'", path);
	assert_skipped(find(reg, "test_good", NULL), want);
	trit_registry_close(reg);
	trit_config_free(&cfg);
}
END_TEST

START_TEST(environment_overrides_a_plugin_setting)
{
	const char *d = plugin_dir();
	struct trit_registry *reg;

	setenv("TRIT_PLUGIN_TEST_GOOD_DEVICES", "1", 1);
	reg = open_dirs(&d, 1, NULL, TRIT_REGISTRY_NO_BUILTIN | TRIT_REGISTRY_NO_ENV);
	ck_assert_uint_eq(find(reg, "test_good", NULL)->n_devices, 1);
	trit_registry_close(reg);
}
END_TEST

START_TEST(search_order_is_flag_then_env_then_ini)
{
	static const char ini[] = "[runtime]\nplugin_path = /nonexistent/ini-a:/nonexistent/ini-b\n";
	struct trit_config cfg;
	char path[512], err[1024], where[600];
	const char *dirs[] = { "/nonexistent/flag" }, *dir, *origin;
	int exists;
	struct trit_registry *reg;

	make_tmpdir();
	write_file(tmpdir, "deploy.ini", ini, sizeof ini - 1);
	snprintf(path, sizeof path, "%s/deploy.ini", tmpdir);
	trit_config_init(&cfg);
	ck_assert_msg(trit_config_load_file(&cfg, path, err, sizeof err) == 0, "%s", err);
	setenv("TRIT_PLUGIN_PATH", "/nonexistent/env-a::/nonexistent/flag", 1);
	reg = open_dirs(dirs, 1, &cfg, TRIT_REGISTRY_NO_BUILTIN);

	const char *want[][2] = {
		{ "/nonexistent/flag", "--plugin-dir" },
		{ "/nonexistent/env-a", "TRIT_PLUGIN_PATH" },
		{ "/nonexistent/ini-a", NULL },
		{ "/nonexistent/ini-b", NULL },
	};
	snprintf(where, sizeof where, "plugin_path (%s:2)", path);
	for (size_t i = 0; i < 4; i++) {
		dir = trit_registry_search_dir(reg, i, &origin, &exists);
		ck_assert_ptr_nonnull(dir);
		ck_assert_str_eq(dir, want[i][0]);
		ck_assert_str_eq(origin, want[i][1] ? want[i][1] : where);
		ck_assert_int_eq(exists, 0);
	}
	/* the repeated /nonexistent/flag is searched once */
	ck_assert_ptr_null(trit_registry_search_dir(reg, 4, NULL, NULL));
	ck_assert_uint_eq(trit_registry_plugin_count(reg), 0);
	trit_registry_close(reg);
	trit_config_free(&cfg);
}
END_TEST

/* Regression: an empty directory made the scan call qsort(NULL, 0, ...),
 * which UBSan reports as undefined behaviour. */
START_TEST(empty_plugin_directory_is_searched_without_error)
{
	const char *d;
	struct trit_registry *reg;
	int exists = 0;

	make_tmpdir();
	d = tmpdir;
	reg = open_dirs(&d, 1, NULL, TRIT_REGISTRY_NO_BUILTIN | TRIT_REGISTRY_NO_ENV);
	ck_assert_ptr_nonnull(trit_registry_search_dir(reg, 0, NULL, &exists));
	ck_assert_int_eq(exists, 1);
	ck_assert_uint_eq(trit_registry_plugin_count(reg), 0);
	trit_registry_close(reg);
}
END_TEST

START_TEST(reference_backend_is_always_present_and_computes)
{
	struct trit_registry *reg = open_dirs(NULL, 0, NULL, TRIT_REGISTRY_NO_ENV);
	size_t idx;
	const struct trit_plugin_info *p = find(reg, "ref", &idx);
	const struct trit_backend *be;
	void *st;
	struct trit_buffer *w, *x, *y;
	char err[256];
	/* 2x3 weights times 2 tokens of 3 */
	const float W[6] = { 1, 2, 3, -1, 0.5f, 0 };
	const float X[6] = { 1, 1, 1, 2, -2, 4 };
	float Y[4];
	uint64_t ws = 99;

	ck_assert_int_eq(p->status, TRIT_PLUGIN_LOADED);
	ck_assert_str_eq(p->origin, "built-in");
	ck_assert_str_eq(p->devices[0].id, "ref0");
	ck_assert(p->devices[0].matmul_types & TRIT_TYPE_BIT(TRIT_TYPE_F32));
	be = trit_registry_backend(reg, idx, &st);
	ck_assert_int_eq(be->buffer_alloc(st, 0, sizeof W, &w, err, sizeof err), 0);
	ck_assert_int_eq(be->buffer_alloc(st, 0, sizeof X, &x, err, sizeof err), 0);
	ck_assert_int_eq(be->buffer_alloc(st, 0, sizeof Y, &y, err, sizeof err), 0);
	ck_assert_int_eq(be->buffer_write(st, w, 0, W, sizeof W, err, sizeof err), 0);
	ck_assert_int_eq(be->buffer_write(st, x, 0, X, sizeof X, err, sizeof err), 0);
	struct trit_matmul op = {
		.struct_size = sizeof op, .weight_type = TRIT_TYPE_F32,
		.rows = 2, .cols = 3, .tokens = 2, .weights = w, .input = x, .output = y,
	};
	ck_assert_int_eq(be->matmul_workspace(st, 0, &op, &ws, err, sizeof err), 0);
	ck_assert_uint_eq(ws, 0);
	ck_assert_msg(be->matmul(st, 0, &op, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(be->buffer_read(st, y, 0, Y, sizeof Y, err, sizeof err), 0);
	ck_assert_float_eq(Y[0], 6.0f);   /* 1+2+3 */
	ck_assert_float_eq(Y[1], -0.5f);  /* -1+0.5 */
	ck_assert_float_eq(Y[2], 10.0f);  /* 2-4+12 */
	ck_assert_float_eq(Y[3], -3.0f);  /* -2-1 */
	/* out-of-range access is refused, not performed */
	op.rows = 3;
	ck_assert_int_eq(be->matmul(st, 0, &op, err, sizeof err), TRIT_ERANGE);
	ck_assert_int_eq(be->buffer_write(st, w, 20, W, 8, err, sizeof err), TRIT_ERANGE);
	/* a type that is no weight type (ref has a kernel for every one) is refused by name */
	op.weight_type = TRIT_TYPE_I8;
	ck_assert_int_eq(be->matmul(st, 0, &op, err, sizeof err), TRIT_EUNSUPPORTED);
	ck_assert_msg(strstr(err, "I8"), "%s", err);
	be->buffer_free(st, w);
	be->buffer_free(st, x);
	be->buffer_free(st, y);
	trit_registry_close(reg);
}
END_TEST

static char logged[4096];

static void capture(void *ctx, int level, const char *msg)
{
	size_t n = strlen(logged);
	snprintf(logged + n, sizeof logged - n, "%s\n", msg);
}

START_TEST(plugin_messages_reach_the_host_log_with_the_plugin_name)
{
	struct trit_registry *reg;

	trit_log_set_level(TRIT_LOG_INFO);
	trit_log_set_sink(capture, NULL);
	reg = open_test_dir();
	ck_assert_msg(strstr(logged, "test_good: test backend ready with 2 devices"), "log: %s", logged);
	/* skipped plugins are logged with their path too */
	ck_assert_msg(strstr(logged, "bad_abi.la"), "log: %s", logged);
	trit_registry_close(reg);
	trit_log_set_sink(NULL, NULL);
}
END_TEST

START_TEST(uninstalled_program_searches_its_build_tree)
{
	ck_assert_ptr_nonnull(trit_registry_build_tree());
}
END_TEST

/* ---------------------------------------------------------------------- */
/* tests/hostile/unterminated.c: text a plugin hands over without its NUL */

static struct trit_registry *open_unterminated(const char *mode)
{
	static char path[PATH_MAX];
	const char *top = getenv("top_builddir");
	const char *files[1] = { path };
	struct trit_registry_options o = {
		.flags = TRIT_REGISTRY_NO_ENV | TRIT_REGISTRY_NO_DEFAULT_DIRS | TRIT_REGISTRY_NO_BUILTIN,
		.plugin_files = files, .n_plugin_files = 1,
	};
	struct trit_registry *reg = NULL;
	char err[512];

	ck_assert_msg(top != NULL, "top_builddir is not set (run through make check)");
	snprintf(path, sizeof path, "%s/tests/hostile/unterminated.la", top);
	setenv("TRIT_TEST_UNTERMINATED", mode, 1);
	ck_assert_msg(trit_registry_open(&o, &reg, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(trit_registry_plugin_count(reg), 1);
	return reg;
}

START_TEST(error_text_filling_the_whole_buffer_is_ended_by_the_host)
{
	struct trit_registry *reg = open_unterminated("init");
	const struct trit_plugin_info *p = trit_registry_plugin(reg, 0);
	static const char prefix[] = "init failed (EIO): ";
	size_t n = sizeof prefix - 1;

	assert_skipped(p, prefix);
	/* the plugin's 4096 bytes, the last replaced by the NUL it left out */
	ck_assert_uint_eq(strlen(p->reason), n + 4095);
	ck_assert_uint_eq(strspn(p->reason + n, "X"), 4095);
	trit_registry_close(reg);
}
END_TEST

START_TEST(error_text_of_a_later_call_ends_within_the_callers_buffer)
{
	struct trit_registry *reg = open_unterminated("update");
	char buf[8192];

	ck_assert_int_eq(trit_registry_plugin(reg, 0)->status, TRIT_PLUGIN_LOADED);
	memset(buf, 'Y', sizeof buf);
	ck_assert_int_eq(trit_registry_remeasure(reg, 0, 0, buf, 100), TRIT_EIO);
	ck_assert_uint_eq(strnlen(buf, sizeof buf), 99);
	ck_assert_uint_eq(strspn(buf, "X"), 99);
	trit_registry_close(reg);
}
END_TEST

START_TEST(device_text_without_an_end_is_refused)
{
	static const struct {
		const char *mode, *reason;
	} cases[] = {
		{ "name", "device 0: its name does not end (no NUL) within 4096 bytes" },
		{ "property", "device u0: property 0 has text that does not end (no NUL) within 4096 bytes" },
		{ "description", "backend table's description does not end (no NUL) within 4096 bytes" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct trit_registry *reg = open_unterminated(cases[i].mode);
		const struct trit_plugin_info *p = trit_registry_plugin(reg, 0);
		assert_skipped(p, cases[i].reason);
		trit_registry_close(reg);
	}
	/* and well-ended text is taken */
	struct trit_registry *reg = open_unterminated("");
	ck_assert_int_eq(trit_registry_plugin(reg, 0)->status, TRIT_PLUGIN_LOADED);
	ck_assert_str_eq(trit_registry_plugin(reg, 0)->devices[0].props[0].text, "terminated");
	trit_registry_close(reg);
}
END_TEST

static Suite *registry_suite(void)
{
	Suite *s = suite_create("registry");
	struct {
		const char *name;
		const TTest *fn;
	} cases[] = {
		{ "abi", wrong_abi_version_is_skipped_before_init_runs },
		{ "future", plugin_built_for_a_newer_abi_is_refused_before_init_runs },
		{ "bigtable", table_larger_than_the_hosts_is_refused_naming_both_sizes },
		{ "v1", v1_plugin_loads_and_its_matmul_runs_under_graph_compute },
		{ "v1support", v1_plugin_supports_only_what_its_matmul_can_run },
		{ "files", plugin_files_open_exactly_the_named_files },
		{ "v2matmul", v2_plugin_without_matmul_answers_matmul_with_a_one_node_graph },
		{ "copy", buffer_copy_without_the_plugins_own_stages_overlapping_ranges },
		{ "defaults", host_table_answers_the_v2_entries_a_plugin_lacks },
		{ "entry", missing_entry_point_is_skipped },
		{ "short", short_backend_table_is_skipped },
		{ "probe", failing_probe_is_skipped_with_the_plugins_reason },
		{ "device", inconsistent_device_report_is_refused },
		{ "elf", file_that_is_not_a_shared_object_is_skipped },
		{ "good", good_plugin_loads_with_its_devices_despite_broken_neighbours },
		{ "old", older_plugin_gets_unsupported_answers_and_no_poison },
		{ "shadow", same_backend_found_later_is_shadowed },
		{ "settings", plugin_settings_reach_the_plugin },
		{ "badsetting", bad_plugin_setting_is_reported_with_file_and_line },
		{ "env", environment_overrides_a_plugin_setting },
		{ "order", search_order_is_flag_then_env_then_ini },
		{ "empty", empty_plugin_directory_is_searched_without_error },
		{ "ref", reference_backend_is_always_present_and_computes },
		{ "log", plugin_messages_reach_the_host_log_with_the_plugin_name },
		{ "buildtree", uninstalled_program_searches_its_build_tree },
		{ "errtext", error_text_filling_the_whole_buffer_is_ended_by_the_host },
		{ "errtext2", error_text_of_a_later_call_ends_within_the_callers_buffer },
		{ "devtext", device_text_without_an_end_is_refused },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		TCase *tc = tcase_create(cases[i].name);
		tcase_add_test(tc, cases[i].fn);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	unsetenv("TRIT_PLUGIN_PATH");
	return test_run_suite(registry_suite());
}
