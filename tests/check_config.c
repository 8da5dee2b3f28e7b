/*
 * check_config.c - the specification of runtime/config/config.c: what deploy.ini,
 * TRIT_* variables and command-line values may say, which layer wins, and
 * what each mistake reports (file, line, key, accepted values). INI fixtures
 * are written at test time into a fresh temporary directory per test.
 */
#include <build-config.h>

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* "config.h" alone would find the autoconf header first; name ours by path. */
#include "config/config.h"
#include "core/log.h"
#include "support/support.h"

/* ---------------------------------------------------------------- fixture */

static char tmpdir[64];
static char paths[8][PATH_MAX];
static unsigned n_paths;
static struct trit_config cfg;
static char err[8192];

static void setup(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/trit-check-config-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	n_paths = 0;
	test_clear_trit_env();
	trit_config_init(&cfg);
	err[0] = '\0';
}

static void teardown(void)
{
	test_remove_tree(tmpdir);
	trit_config_free(&cfg);
	test_clear_trit_env();
	trit_log_set_sink(NULL, NULL);
}

/* Write `text` (len bytes, or strlen when len is 0) to tmpdir/name. */
static const char *fixture_bytes(const char *name, const char *text, size_t len)
{
	char *p = paths[n_paths++ % 8];
	FILE *f;

	snprintf(p, PATH_MAX, "%s/%s", tmpdir, name);
	f = fopen(p, "wb");
	ck_assert_ptr_nonnull(f);
	if (!len)
		len = strlen(text);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	return p;
}

static const char *fixture(const char *name, const char *text)
{
	return fixture_bytes(name, text, 0);
}

#define assert_err_has(s) \
	ck_assert_msg(strstr(err, (s)) != NULL, "error message lacks \"%s\"; it is:\n%s", (s), err)
#define assert_err_lacks(s) \
	ck_assert_msg(strstr(err, (s)) == NULL, "error message has \"%s\"; it is:\n%s", (s), err)

static unsigned err_lines(void)
{
	unsigned n = err[0] ? 1 : 0;
	for (const char *c = err; *c; c++)
		n += *c == '\n';
	return n;
}

/* "FILE:LINE" for a fixture path. */
static const char *at(const char *path, int line)
{
	static char buf[4][PATH_MAX + 16];
	static unsigned i;
	char *b = buf[i++ % 4];
	snprintf(b, PATH_MAX + 16, "%s:%d", path, line);
	return b;
}

static const struct trit_config_entry *must_find(const char *section, const char *key)
{
	const struct trit_config_entry *e = trit_config_find(&cfg, section, key);
	ck_assert_msg(e != NULL, "[%s] %s is not set", section, key);
	return e;
}

/* Load `text` as deploy.ini and expect failure; err holds the report. */
static const char *load_bad(const char *text)
{
	const char *p = fixture("deploy.ini", text);
	int rc = trit_config_load_file(&cfg, p, err, sizeof err);
	ck_assert_msg(rc == TRIT_ECONFIG, "load returned %d, err: %s", rc, err);
	return p;
}

static const char *load_ok(const char *text)
{
	const char *p = fixture("deploy.ini", text);
	int rc = trit_config_load_file(&cfg, p, err, sizeof err);
	ck_assert_msg(rc == 0, "load returned %d: %s", rc, err);
	return p;
}

/* Captures warnings logged by the module. */
static char logged[4096];
static void capture(void *ctx, int level, const char *message)
{
	(void)ctx;
	if (level == TRIT_LOG_WARN) {
		strncat(logged, message, sizeof logged - strlen(logged) - 2);
		strcat(logged, "\n");
	}
}

/* --------------------------------------------------------------- schema */

START_TEST(schema_lists_sections_and_keys_in_documentation_order)
{
	static const char *const expected[][2] = {
		{ "runtime", "plugin_path" }, { "runtime", "plugin_watchdog" },
		{ "runtime", "allow_insecure_plugins" }, { "runtime", "isolate_plugins" },
		{ "runtime", "isolate_timeout" },
		{ "runtime", "log_level" }, { "runtime", "threads" },
		{ "runtime", "bench_cache" }, { "runtime", "probe_cache" },
		{ "runtime", "probe_cache_max_age" },
		{ "model", "path" }, { "model", "context" }, { "model", "batch" },
		{ "model", "ubatch" }, { "model", "sequences" }, { "model", "kv_type" },
		{ "memory", "headroom" }, { "memory", "kv_pad" }, { "memory", "limit.*" },
		{ "planner", "strategy" }, { "planner", "priority" },
		{ "planner", "max_gpu_layers" }, { "planner", "gpu_fraction" },
		{ "planner", "workspace_fraction" }, { "planner", "workspace_overhead" },
		{ "planner", "max_batch" }, { "planner", "bitnet_floats" },
		{ "planner", "ternary_format" },
		{ "parallel", "tp" }, { "parallel", "pp" }, { "parallel", "ep" },
		{ "engine", "name" }, { "engine", "flash_attn" },
	};
	size_t n;
	const struct trit_config_key *k = trit_config_schema(&n);

	ck_assert_uint_eq(n, sizeof expected / sizeof expected[0]);
	for (size_t i = 0; i < n; i++) {
		ck_assert_str_eq(k[i].section, expected[i][0]);
		ck_assert_str_eq(k[i].key, expected[i][1]);
		ck_assert_msg(k[i].doc && *k[i].doc, "%s has no doc", k[i].key);
	}
}
END_TEST

START_TEST(every_schema_default_is_accepted_by_its_own_key)
{
	size_t n;
	const struct trit_config_key *k = trit_config_schema(&n);

	for (size_t i = 0; i < n; i++) {
		if (!k[i].def)
			continue;
		int rc = trit_config_set(&cfg, k[i].section, k[i].key, k[i].def, NULL,
		                         err, sizeof err);
		ck_assert_msg(rc == 0, "default of [%s] %s rejected: %s", k[i].section,
		              k[i].key, err);
	}
}
END_TEST

/* --------------------------------------------------------- valid files */

static const char full_ini[] =
	"; a complete deploy.ini\n"                 /* 1 */
	"[runtime]\n"                               /* 2 */
	"plugin_path = /opt/trit/plugins:/usr/local/lib/trit\n"
	"log_level = info\n"                        /* 4 */
	"threads = 8\n"                             /* 5 */
	"\n"                                        /* 6 */
	"[model]\n"                                 /* 7 */
	"path = /models/bitnet-b1.58-2B.gguf\n"     /* 8 */
	"context = 4096\n"                          /* 9 */
	"batch = 512\n"                             /* 10 */
	"ubatch = 128\n"                            /* 11 */
	"sequences = 4\n"                           /* 12 */
	"kv_type = q8_0\n"                          /* 13 */
	"[memory]\n"                                /* 14 */
	"headroom = 15%\n"                          /* 15 */
	"limit.cpu_avx2.cpu0 = 12GiB\n"             /* 16 */
	"[planner]\n"                               /* 17 */
	"strategy = hybrid\n"                       /* 18 */
	"priority = throughput\n"                   /* 19 */
	"max_gpu_layers = -1\n"                     /* 20 */
	"gpu_fraction = 0.85\n"                     /* 21 */
	"workspace_fraction = 0.5\n"                /* 22 */
	"max_batch = 64\n"                          /* 23 */
	"[plugin.cpu_avx2]\n"                       /* 24 */
	"numa = interleave\n";                      /* 25 */

START_TEST(full_file_gives_typed_values_and_file_line_origins)
{
	const char *p = load_ok(full_ini);
	const struct trit_config_entry *e;

	ck_assert_str_eq(cfg.path, p);
	e = must_find("runtime", "plugin_path");
	ck_assert_str_eq(e->value, "/opt/trit/plugins:/usr/local/lib/trit");
	ck_assert_str_eq(e->where, at(p, 3));
	ck_assert_int_eq(e->origin, TRIT_CFG_FROM_FILE);
	ck_assert_ptr_eq(e->schema, trit_config_schema(NULL) + 0);
	e = must_find("runtime", "log_level");
	ck_assert_int_eq(e->i, 2); /* error|warn|info: index 2 */
	ck_assert_str_eq(e->where, at(p, 4));
	ck_assert_int_eq(must_find("runtime", "threads")->i, 8);
	ck_assert_str_eq(must_find("model", "path")->value, "/models/bitnet-b1.58-2B.gguf");
	ck_assert_int_eq(must_find("model", "context")->i, 4096);
	ck_assert_int_eq(must_find("model", "batch")->i, 512);
	ck_assert_int_eq(must_find("model", "ubatch")->i, 128);
	ck_assert_int_eq(must_find("model", "sequences")->i, 4);
	ck_assert_int_eq(must_find("model", "kv_type")->i, 2);
	ck_assert_str_eq(must_find("model", "kv_type")->where, at(p, 13));
	ck_assert_double_eq_tol(must_find("memory", "headroom")->f, 0.15, 1e-12);
	e = must_find("memory", "limit.cpu_avx2.cpu0");
	ck_assert_uint_eq(e->size, UINT64_C(12) << 30);
	ck_assert_str_eq(e->where, at(p, 16));
	ck_assert_int_eq(must_find("planner", "strategy")->i, 3);
	ck_assert_int_eq(must_find("planner", "priority")->i, 2);
	ck_assert_int_eq(must_find("planner", "max_gpu_layers")->i, -1);
	ck_assert_double_eq_tol(must_find("planner", "gpu_fraction")->f, 0.85, 1e-12);
	ck_assert_double_eq_tol(must_find("planner", "workspace_fraction")->f, 0.5, 1e-12);
	e = must_find("planner", "max_batch");
	ck_assert_int_eq(e->i, 64);
	ck_assert_str_eq(e->where, at(p, 23));
	e = must_find("plugin.cpu_avx2", "numa");
	ck_assert_ptr_null(e->schema);
	ck_assert_str_eq(e->value, "interleave");
	ck_assert_str_eq(e->where, at(p, 25));
}
END_TEST

START_TEST(indented_keys_comments_crlf_and_bom_are_understood)
{
	/* An indented key is a key, not a continuation of the line above. */
	const char *p = load_ok("\xEF\xBB\xBF[model]\r\n"
	                        "    context = 2048 ; inline comment\r\n"
	                        "\tsequences = 2\r\n"
	                        "# hash comment\r\n"
	                        "  ; indented comment\r\n"
	                        "  [ planner ]  ; comment after a section\r\n"
	                        "priority: latency\r\n");

	ck_assert_str_eq(must_find("model", "context")->value, "2048");
	ck_assert_str_eq(must_find("model", "context")->where, at(p, 2));
	ck_assert_int_eq(must_find("model", "sequences")->i, 2);
	ck_assert_str_eq(must_find("model", "sequences")->where, at(p, 3));
	ck_assert_str_eq(must_find("planner", "priority")->value, "latency");
	ck_assert_str_eq(must_find("planner", "priority")->where, at(p, 7));
}
END_TEST

START_TEST(later_file_overrides_earlier_file_and_keeps_the_rest)
{
	const char *a = fixture("a.ini", "[runtime]\nthreads = 4\nlog_level = debug\n");
	const char *b = fixture("b.ini", "[runtime]\nthreads = 6\n");

	ck_assert_int_eq(trit_config_load_file(&cfg, a, err, sizeof err), 0);
	ck_assert_int_eq(trit_config_load_file(&cfg, b, err, sizeof err), 0);
	ck_assert_str_eq(trit_config_get(&cfg, "runtime", "threads"), "6");
	ck_assert_str_eq(trit_config_where(&cfg, "runtime", "threads"), at(b, 2));
	ck_assert_str_eq(trit_config_get(&cfg, "runtime", "log_level"), "debug");
	ck_assert_str_eq(cfg.path, b);
}
END_TEST

START_TEST(example_files_in_docs_load)
{
	const char *top = getenv("top_srcdir") ? getenv("top_srcdir") : ".";
	char p[PATH_MAX], line[1024];
	FILE *in, *out;
	int in_block = 0, blocks = 0;

	snprintf(p, sizeof p, "%s/docs/deploy.example.ini", top);
	ck_assert_msg(trit_config_load_file(&cfg, p, err, sizeof err) == 0, "%s", err);
	ck_assert_ptr_nonnull(trit_config_find(&cfg, "model", "path"));

	/* Every ```ini block of docs/config.md loads too. */
	snprintf(p, sizeof p, "%s/docs/config.md", top);
	in = fopen(p, "r");
	ck_assert_msg(in != NULL, "cannot open %s: %s", p, strerror(errno));
	out = NULL;
	while (fgets(line, sizeof line, in)) {
		if (!in_block && strncmp(line, "```ini", 6) == 0) {
			char name[32];
			snprintf(name, sizeof name, "block%d.ini", blocks++);
			out = fopen(fixture(name, ""), "w");
			ck_assert_ptr_nonnull(out);
			in_block = 1;
		} else if (in_block && strncmp(line, "```", 3) == 0) {
			struct trit_config c;
			fclose(out);
			trit_config_init(&c);
			ck_assert_msg(trit_config_load_file(&c, paths[(n_paths - 1) % 8], err,
			                                    sizeof err) == 0,
			              "ini block %d of docs/config.md: %s", blocks, err);
			trit_config_free(&c);
			in_block = 0;
		} else if (in_block) {
			fputs(line, out);
		}
	}
	fclose(in);
	ck_assert_int_ge(blocks, 1);
}
END_TEST

/* ------------------------------------------------------ file-level errors */

START_TEST(missing_file_names_path_and_reason)
{
	char p[PATH_MAX];
	int rc;

	snprintf(p, sizeof p, "%s/nope.ini", tmpdir);
	rc = trit_config_load_file(&cfg, p, err, sizeof err);
	ck_assert_int_eq(rc, TRIT_EIO);
	assert_err_has(p);
	assert_err_has(strerror(ENOENT));
	rc = trit_config_load_file(&cfg, tmpdir, err, sizeof err);
	ck_assert_int_eq(rc, TRIT_EIO);
	assert_err_has(tmpdir);
	assert_err_has(": is a directory, expected a regular file");
	ck_assert_uint_eq(cfg.n_entries, 0);
	ck_assert_ptr_null(cfg.path);
}
END_TEST

START_TEST(file_that_is_not_text_is_refused_without_reading_it_all)
{
	char junk[64 * 300];
	const char *p;

	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (i % 64 == 63) ? '\n' : (char)(i % 7 ? 'x' : '\0');
	p = fixture_bytes("model.gguf", junk, sizeof junk);
	ck_assert_int_eq(trit_config_load_file(&cfg, p, err, sizeof err), TRIT_ECONFIG);
	assert_err_has(at(p, 1));
	assert_err_has("NUL byte");
	assert_err_has("stopped reading after 50 problems");
	assert_err_lacks(at(p, 51));
}
END_TEST

START_TEST(fifo_is_refused_without_waiting_for_a_writer)
{
	char p[PATH_MAX];

	snprintf(p, sizeof p, "%s/deploy.ini", tmpdir);
	ck_assert_int_eq(mkfifo(p, 0600), 0);
	ck_assert_int_eq(trit_config_load_file(&cfg, p, err, sizeof err), TRIT_EIO);
	assert_err_has(p);
	assert_err_has(": is a FIFO, expected a regular file");
	ck_assert_uint_eq(cfg.n_entries, 0);
}
END_TEST

START_TEST(line_longer_than_4096_bytes_stops_the_read_naming_the_line)
{
	static char text[8192];
	const char *p;

	/* a comment, so only the length can be wrong; the bad value after it is
	 * not read */
	snprintf(text, sizeof text, "[runtime]\n; %04100d\nthreads = x\n", 0);
	p = load_bad(text);
	ck_assert_uint_eq(err_lines(), 1);
	assert_err_has(at(p, 2));
	assert_err_has(": line longer than 4096 bytes");
}
END_TEST

START_TEST(file_larger_than_16_MiB_stops_the_read_naming_the_line)
{
	size_t line = 64, n = (17u << 20) / line;
	char *text = malloc(n * line + 1);
	const char *p;

	ck_assert_ptr_nonnull(text);
	for (size_t i = 0; i < n; i++) {
		memset(text + i * line, ' ', line - 1);
		text[i * line] = ';';
		text[i * line + line - 1] = '\n';
	}
	p = fixture_bytes("deploy.ini", text, n * line);
	free(text);
	ck_assert_int_eq(trit_config_load_file(&cfg, p, err, sizeof err), TRIT_ECONFIG);
	ck_assert_uint_eq(err_lines(), 1);
	assert_err_has(at(p, (16 << 20) / 64 + 1));
	assert_err_has(": file larger than 16 MiB");
}
END_TEST

/* text of `n` sections [plugin.p<i>] with `keys` keys each; free it */
static char *many_sections(size_t n, size_t keys)
{
	size_t cap = n * (32 + 24 * keys) + 1, used = 0;
	char *text = malloc(cap);

	ck_assert_ptr_nonnull(text);
	for (size_t i = 0; i < n; i++) {
		used += (size_t)snprintf(text + used, cap - used, "[plugin.p%zu]\n", i);
		for (size_t k = 0; k < keys; k++)
			used += (size_t)snprintf(text + used, cap - used, "k%zu = %zu\n", k, i);
	}
	return text;
}

START_TEST(sections_past_the_limit_are_refused_naming_the_line)
{
	char *text = many_sections(10001, 1);
	const char *p = fixture("deploy.ini", text);

	free(text);
	ck_assert_int_eq(trit_config_load_file(&cfg, p, err, sizeof err), TRIT_ECONFIG);
	ck_assert_uint_eq(err_lines(), 1);
	assert_err_has(at(p, 20001));
	assert_err_has(": more than 10000 sections");
	ck_assert_uint_eq(cfg.n_entries, 0);
}
END_TEST

START_TEST(keys_past_the_limit_are_refused_naming_the_line)
{
	char *text = many_sections(1, 100001);
	const char *p = fixture("deploy.ini", text);

	free(text);
	ck_assert_int_eq(trit_config_load_file(&cfg, p, err, sizeof err), TRIT_ECONFIG);
	ck_assert_uint_eq(err_lines(), 1);
	assert_err_has(at(p, 100002));
	assert_err_has(": more than 100000 keys");
}
END_TEST

START_TEST(ten_thousand_sections_are_found_in_order)
{
	char *text = many_sections(10000, 2);
	char name[32];

	load_ok(text);
	free(text);
	for (size_t i = 0; i < 10000; i++) {
		snprintf(name, sizeof name, "p%zu", i);
		ck_assert_str_eq(trit_config_plugin_section(&cfg, i), name);
		ck_assert_str_eq(trit_config_plugin_key(&cfg, name, 1), "k1");
		ck_assert_ptr_null(trit_config_plugin_key(&cfg, name, 2));
		ck_assert_str_eq(trit_config_plugin_get(&cfg, name, "k0", NULL), name + 1);
	}
	ck_assert_ptr_null(trit_config_plugin_section(&cfg, 10000));
}
END_TEST

START_TEST(fifty_problems_at_the_end_of_a_file_are_all_reported)
{
	char text[50 * 16 + 16] = "[runtime]\n";
	const char *p;

	for (int i = 0; i < 50; i++)
		strcat(text, "threads = x\n");
	p = load_bad(text);
	ck_assert_uint_eq(err_lines(), 50);
	assert_err_has(at(p, 51));
	assert_err_lacks("stopped reading");
}
END_TEST

/* --------------------------------------------------------- syntax errors */

START_TEST(syntax_error_names_file_and_line)
{
	const char *p = load_bad("[model]\ncontext = 4096\nthis is not a key\n");
	char want[PATH_MAX + 100];

	snprintf(want, sizeof want, "%s: syntax error: expected '[section]' or 'key = value'",
	         at(p, 3));
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(every_syntax_error_is_reported)
{
	const char *p = load_bad("[model\n"             /* 1: no ']' */
	                         "context = 1\n"        /* 2: under a broken header: skipped */
	                         "[runtime]\n"          /* 3 */
	                         "threads\n"            /* 4: no '=' */
	                         "= 5\n"                /* 5: no key */
	                         "[planner] strategy = cpu\n" /* 6: text after ']' */
	                         "[runtime]\n"          /* 7 */
	                         "log_level = info\n"   /* 8: fine */
	                         "another bad line\n"); /* 9 */

	ck_assert_uint_eq(err_lines(), 5);
	assert_err_has(at(p, 1));
	assert_err_has(at(p, 4));
	assert_err_has(at(p, 5));
	assert_err_has(at(p, 6));
	assert_err_has(at(p, 9));
	assert_err_lacks(at(p, 2));
	assert_err_lacks(at(p, 8));
}
END_TEST

START_TEST(line_too_long_names_line_and_limit)
{
	char text[2048];
	const char *p;

	/* A long comment is fine; a long key line is not, and does not spill
	 * into a bogus next line. Lines after it keep their numbers. */
	snprintf(text, sizeof text, "; %0600d\n[runtime]\nplugin_path = /%0700d\nthreads = x\n", 0, 0);
	p = load_bad(text);
	ck_assert_uint_eq(err_lines(), 2);
	assert_err_has(at(p, 3));
	assert_err_has(": line too long (max ");
	assert_err_has(" characters)");
	assert_err_has(at(p, 4));
}
END_TEST

START_TEST(line_of_150_characters_is_accepted)
{
	char text[512];

	snprintf(text, sizeof text, "[runtime]\nplugin_path = /%0135d\n", 0);
	load_ok(text);
	ck_assert_uint_eq(strlen(trit_config_get(&cfg, "runtime", "plugin_path")), 136);
}
END_TEST

/* --------------------------------------------------- sections and keys */

START_TEST(unknown_section_names_line_and_known_sections)
{
	const char *p = load_bad("[runtime]\nthreads = 2\n[modle]\npath = x\ncontext = 5\n[]\n");

	ck_assert_uint_eq(err_lines(), 2); /* one per section, not per key */
	assert_err_has(at(p, 3));
	assert_err_has("unknown section [modle] (did you mean [model]?)");
	assert_err_has("known sections: [runtime], [model], [memory], [planner], [parallel], [engine] or [plugin.<name>]");
	assert_err_has(at(p, 6));
	assert_err_has("unknown section []");
}
END_TEST

START_TEST(unknown_key_names_line_and_accepted_keys)
{
	const char *p = load_bad("[planner]\nstrategy = cpu\nprioritty = latency\n");
	char want[PATH_MAX + 300];

	snprintf(want, sizeof want, "%s: [planner] unknown key 'prioritty' (did you mean "
	         "'priority'?); accepted keys: strategy, priority, max_gpu_layers, "
	         "gpu_fraction, workspace_fraction, workspace_overhead, max_batch, bitnet_floats, "
	         "ternary_format", at(p, 3));
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(key_before_any_section_is_an_error)
{
	const char *p = load_bad("threads = 4\n[runtime]\n");

	assert_err_has(at(p, 1));
	assert_err_has("key 'threads' comes before any section");
}
END_TEST

START_TEST(bad_plugin_section_name_is_an_error)
{
	const char *p = load_bad("[plugin.Cpu-AVX2]\nthreads = 4\n[plugin.]\n[plugin.ok_1]\nx = 1\n");

	ck_assert_uint_eq(err_lines(), 2);
	assert_err_has(at(p, 1));
	assert_err_has("bad plugin section name [plugin.Cpu-AVX2]");
	assert_err_has("lower-case letters, digits and '_'");
	assert_err_has(at(p, 3));
}
END_TEST

START_TEST(key_set_twice_names_first_line)
{
	const char *p = load_bad("[model]\ncontext = 1024\n\n[runtime]\n[model]\ncontext = 2048\n"
	                         "[plugin.x]\na = 1\na = 2\n");
	char want[PATH_MAX + 100];

	snprintf(want, sizeof want, "%s: [model] context is already set at line 2", at(p, 6));
	assert_err_has(want);
	snprintf(want, sizeof want, "%s: [plugin.x] a is already set at line 8", at(p, 9));
	assert_err_has(want);
}
END_TEST

/* ---------------------------------------------------------------- values */

START_TEST(bad_enum_value_lists_choices)
{
	const char *p = load_bad("[planner]\npriority = fast\n");
	char want[PATH_MAX + 100];

	snprintf(want, sizeof want,
	         "%s: [planner] priority: 'fast' is not one of balanced, latency, throughput",
	         at(p, 2));
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(int_rejects_junk_overflow_and_out_of_range_naming_the_range)
{
	const char *p = load_bad("[runtime]\nthreads = 4x\n"              /* 2 */
	                         "[model]\ncontext = 99999999999999999999\n" /* 4 */
	                         "sequences = 0\n"                          /* 5 */
	                         "batch = 0x10\n"                           /* 6 */
	                         "ubatch = 1.5\n"                           /* 7 */
	                         "[planner]\nmax_gpu_layers = -2\n");       /* 9 */
	char want[PATH_MAX + 200];

	ck_assert_uint_eq(err_lines(), 6);
	snprintf(want, sizeof want, "%s: [runtime] threads: '4x' is not an integer; "
	         "expected an integer from 0 to 4096", at(p, 2));
	assert_err_has(want);
	snprintf(want, sizeof want, "%s: [model] context: '99999999999999999999' is out of "
	         "range; expected an integer from 0 to 16777216", at(p, 4));
	assert_err_has(want);
	snprintf(want, sizeof want, "%s: [model] sequences: '0' is out of range; expected an "
	         "integer from 1 to 1024", at(p, 5));
	assert_err_has(want);
	assert_err_has(at(p, 6));
	assert_err_has(at(p, 7));
	snprintf(want, sizeof want, "%s: [planner] max_gpu_layers: '-2' is out of range; "
	         "expected an integer from -1 to 100000", at(p, 9));
	assert_err_has(want);
}
END_TEST

START_TEST(empty_value_is_an_error_for_typed_keys_but_not_for_path_lists)
{
	const char *p = load_bad("[runtime]\nplugin_path =\nthreads =\nlog_level =\n"
	                         "[memory]\nheadroom =\nlimit.cpu.0 =\n[model]\npath =\n");

	ck_assert_uint_eq(err_lines(), 5);
	assert_err_lacks(at(p, 2));
	assert_err_has(at(p, 3));
	assert_err_has("[runtime] threads: empty value; expected an integer from 0 to 4096");
	assert_err_has("[runtime] log_level: empty value; expected one of error, warn, info, "
	               "debug, trace");
	assert_err_has(at(p, 6));
	assert_err_has(at(p, 7));
	assert_err_has(at(p, 9));
	ck_assert_int_eq(trit_config_set(&cfg, "runtime", "plugin_path", "", NULL, err,
	                                 sizeof err), 0);
	ck_assert_str_eq(trit_config_get(&cfg, "runtime", "plugin_path"), "");
}
END_TEST

START_TEST(sizes_accept_every_unit)
{
	static const struct { const char *text; uint64_t bytes; } cases[] = {
		{ "1048576", UINT64_C(1) << 20 },
		{ "2048K", UINT64_C(2) << 20 },      { "2048KiB", UINT64_C(2) << 20 },
		{ "2000KB", UINT64_C(2000000) },     { "512M", UINT64_C(512) << 20 },
		{ "512MiB", UINT64_C(512) << 20 },   { "512MB", UINT64_C(512000000) },
		{ "12G", UINT64_C(12) << 30 },       { "12GiB", UINT64_C(12) << 30 },
		{ "12GB", UINT64_C(12000000000) },   { "1.5 GiB", UINT64_C(3) << 29 },
		{ "2T", UINT64_C(2) << 40 },         { "2TiB", UINT64_C(2) << 40 },
		{ "2TB", UINT64_C(2000000000000) },  { "8gib", UINT64_C(8) << 30 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ck_assert_msg(trit_config_set(&cfg, "memory", "limit.cuda.0", cases[i].text,
		                              NULL, err, sizeof err) == 0, "%s: %s",
		              cases[i].text, err);
		ck_assert_msg(must_find("memory", "limit.cuda.0")->size == cases[i].bytes,
		              "%s gave %llu", cases[i].text,
		              (unsigned long long)must_find("memory", "limit.cuda.0")->size);
	}
}
END_TEST

START_TEST(size_rejects_unknown_units_and_values_below_one_mebibyte)
{
	const char *p = load_bad("[memory]\nlimit.cpu_avx2.cpu0 = 12XB\nlimit.cuda.0 = 12\n"
	                         "limit.cuda.1 = -1G\nlimit.cuda.2 = 99999999T\n");

	ck_assert_uint_eq(err_lines(), 4);
	assert_err_has(at(p, 2));
	assert_err_has("[memory] limit.cpu_avx2.cpu0: '12XB' is not a size; expected a size "
	               "of at least 1.00 MiB");
	assert_err_has("[memory] limit.cuda.0: '12' is out of range; expected a size of at "
	               "least 1.00 MiB");
	assert_err_has("no unit is bytes");
	assert_err_has(at(p, 4));
	assert_err_has(at(p, 5));
}
END_TEST

START_TEST(pattern_key_limit_matches_any_backend_and_device)
{
	load_ok("[memory]\nlimit.cpu_avx2.cpu0 = 12GiB\nlimit.cuda.1 = 20G\n");

	ck_assert_str_eq(must_find("memory", "limit.cpu_avx2.cpu0")->schema->key, "limit.*");
	ck_assert_uint_eq(must_find("memory", "limit.cuda.1")->size, UINT64_C(20) << 30);
	ck_assert_str_eq(trit_config_get(&cfg, "memory", "limit.cuda.1"), "20G");
	ck_assert_ptr_null(trit_config_get(&cfg, "memory", "limit.opencl.0"));
	ck_assert_int_eq(trit_config_set(&cfg, "memory", "limit.", "1G", NULL, err, sizeof err),
	                 TRIT_ECONFIG);
	assert_err_has("unknown key 'limit.'");
	assert_err_has("accepted keys: headroom, kv_pad, limit.<backend>.<device-id>");
}
END_TEST

START_TEST(fractions_accept_decimals_and_percentages_with_inclusive_bounds)
{
	static const struct { const char *text; double v; } cases[] = {
		{ "0.2", 0.2 }, { ".5", 0.5 }, { "20%", 0.2 }, { "20 %", 0.2 },
		{ "0.01", 0.01 }, { "1%", 0.01 }, { "0.95", 0.95 }, { "95%", 0.95 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ck_assert_msg(trit_config_set(&cfg, "planner", "gpu_fraction", cases[i].text,
		                              NULL, err, sizeof err) == 0, "%s: %s",
		              cases[i].text, err);
		ck_assert_double_eq_tol(must_find("planner", "gpu_fraction")->f, cases[i].v, 1e-12);
	}
	ck_assert_int_eq(trit_config_set(&cfg, "memory", "headroom", "0", NULL, err, sizeof err), 0);
	ck_assert_int_eq(trit_config_set(&cfg, "memory", "headroom", "90%", NULL, err, sizeof err), 0);
}
END_TEST

START_TEST(fraction_out_of_range_or_malformed_names_the_range)
{
	const char *p = load_bad("[planner]\ngpu_fraction = 0.96\nworkspace_fraction = 4%\n"
	                         "[memory]\nheadroom = nan\n[planner]\nmax_batch = 8\n"
	                         "[memory]\nlimit.a.b = 1G\n[memory]\n");

	ck_assert_uint_eq(err_lines(), 3);
	assert_err_has(at(p, 2));
	assert_err_has("[planner] gpu_fraction: '0.96' is out of range; expected a fraction "
	               "from 0.01 to 0.95 or a percentage from 1% to 95%");
	assert_err_has(at(p, 3));
	assert_err_has("'4%' is out of range; expected a fraction from 0.05 to 0.95 or a "
	               "percentage from 5% to 95%");
	assert_err_has(at(p, 5));
	assert_err_has("[memory] headroom: 'nan' is not a fraction");
}
END_TEST

/* ------------------------------------------------------ reporting errors */

START_TEST(all_problems_are_reported_one_per_line_in_line_order)
{
	const char *p = load_bad("[runtime]\n"
	                         "threads = many\n"       /* 2 */
	                         "colour = blue\n"        /* 3 */
	                         "[model]\n"
	                         "kv_type = f8\n"         /* 5 */
	                         "nonsense\n"             /* 6 */
	                         "[gpu]\n"                /* 7 */
	                         "[planner]\n"
	                         "max_batch = 512\n");    /* 9 */
	char *line = err;
	int expect[] = { 2, 3, 5, 6, 7, 9 };

	ck_assert_uint_eq(err_lines(), 6);
	for (size_t i = 0; i < 6; i++) {
		char prefix[PATH_MAX + 16];
		snprintf(prefix, sizeof prefix, "%s: ", at(p, expect[i]));
		ck_assert_msg(strncmp(line, prefix, strlen(prefix)) == 0,
		              "line %zu of the report should start with %s:\n%s", i, prefix, err);
		line = strchr(line, '\n');
		if (line)
			line++;
	}
}
END_TEST

START_TEST(small_error_buffer_gets_whole_lines_and_a_count)
{
	const char *p = fixture("d.ini", "[runtime]\nthreads = a\nthreads = b\nx = 1\n");
	char full[4096], small[200];
	size_t first_len;

	ck_assert_int_eq(trit_config_load_file(&cfg, p, full, sizeof full), TRIT_ECONFIG);
	first_len = (size_t)(strchr(full, '\n') - full);
	ck_assert_uint_lt(first_len + 40, sizeof small);
	ck_assert_uint_gt(strlen(full), sizeof small);

	ck_assert_int_eq(trit_config_load_file(&cfg, p, small, first_len + 40), TRIT_ECONFIG);
	ck_assert_msg(strncmp(small, full, first_len + 1) == 0, "%s", small);
	ck_assert_str_eq(small + first_len + 1, "(2 more problems not shown)");

	/* Not even one line fits: it is cut and says so. */
	ck_assert_int_eq(trit_config_load_file(&cfg, p, small, 20), TRIT_ECONFIG);
	ck_assert_uint_eq(strlen(small), 19);
	ck_assert_str_eq(small + 16, "...");
	ck_assert_int_eq(trit_config_load_file(&cfg, p, small, 1), TRIT_ECONFIG);
	ck_assert_str_eq(small, "");
	ck_assert_int_eq(trit_config_load_file(&cfg, p, NULL, 0), TRIT_ECONFIG);
}
END_TEST

START_TEST(failed_load_leaves_config_unchanged)
{
	const char *good = fixture("good.ini", "[runtime]\nthreads = 4\n");
	const char *bad = fixture("bad.ini", "[runtime]\nthreads = 8\nlog_level = info\n"
	                                     "[model]\ncontext = huge\n");

	ck_assert_int_eq(trit_config_load_file(&cfg, good, err, sizeof err), 0);
	ck_assert_int_eq(trit_config_load_file(&cfg, bad, err, sizeof err), TRIT_ECONFIG);
	ck_assert_uint_eq(cfg.n_entries, 1);
	ck_assert_str_eq(trit_config_get(&cfg, "runtime", "threads"), "4");
	ck_assert_str_eq(trit_config_where(&cfg, "runtime", "threads"), at(good, 2));
	ck_assert_str_eq(trit_config_where(&cfg, "runtime", "log_level"), "default");
	ck_assert_str_eq(cfg.path, good);
}
END_TEST

/* ---------------------------------------------------------- precedence */

START_TEST(get_falls_back_to_defaults_and_where_says_default)
{
	size_t n;
	const struct trit_config_key *k = trit_config_schema(&n);

	for (size_t i = 0; i < n; i++) {
		if (k[i].def) {
			ck_assert_str_eq(trit_config_get(&cfg, k[i].section, k[i].key), k[i].def);
			ck_assert_str_eq(trit_config_where(&cfg, k[i].section, k[i].key), "default");
		} else {
			ck_assert_ptr_null(trit_config_get(&cfg, k[i].section, k[i].key));
			ck_assert_ptr_null(trit_config_where(&cfg, k[i].section, k[i].key));
		}
		ck_assert_ptr_null(trit_config_find(&cfg, k[i].section, k[i].key));
	}
	ck_assert_str_eq(trit_config_get(&cfg, "planner", "priority"), "balanced");
	ck_assert_str_eq(trit_config_get(&cfg, "runtime", "log_level"), "warn");
	ck_assert_ptr_null(trit_config_get(&cfg, "model", "batch"));
	ck_assert_ptr_null(trit_config_get(&cfg, "model", "no_such_key"));
}
END_TEST

START_TEST(env_overrides_ini_whichever_is_applied_first)
{
	const char *p = fixture("d.ini", "[planner]\npriority = latency\nstrategy = cpu\n");
	const struct trit_config_entry *e;

	setenv("TRIT_PRIORITY", "  throughput ", 1);
	ck_assert_int_eq(trit_config_load_file(&cfg, p, err, sizeof err), 0);
	ck_assert_int_eq(trit_config_apply_env(&cfg, err, sizeof err), 0);
	e = must_find("planner", "priority");
	ck_assert_str_eq(e->value, "throughput");
	ck_assert_int_eq(e->i, 2);
	ck_assert_str_eq(e->where, "environment TRIT_PRIORITY");
	ck_assert_int_eq(e->origin, TRIT_CFG_FROM_ENV);
	ck_assert_str_eq(trit_config_get(&cfg, "planner", "strategy"), "cpu");

	trit_config_free(&cfg);
	ck_assert_int_eq(trit_config_apply_env(&cfg, err, sizeof err), 0);
	ck_assert_int_eq(trit_config_load_file(&cfg, p, err, sizeof err), 0);
	ck_assert_str_eq(trit_config_get(&cfg, "planner", "priority"), "throughput");
	ck_assert_str_eq(trit_config_where(&cfg, "planner", "priority"),
	                 "environment TRIT_PRIORITY");
}
END_TEST

START_TEST(every_schema_variable_is_read)
{
	size_t n;
	const struct trit_config_key *k = trit_config_schema(&n);

	for (size_t i = 0; i < n; i++)
		if (k[i].env)
			setenv(k[i].env, k[i].def ? k[i].def : k[i].type == TRIT_CFG_FRACTION
			       ? "0.3" : k[i].type == TRIT_CFG_PATH ? "/m.gguf" : "7", 1);
	ck_assert_msg(trit_config_apply_env(&cfg, err, sizeof err) == 0, "%s", err);
	for (size_t i = 0; i < n; i++) {
		char want[128];
		if (!k[i].env)
			continue;
		snprintf(want, sizeof want, "environment %s", k[i].env);
		ck_assert_str_eq(trit_config_where(&cfg, k[i].section, k[i].key), want);
	}
	ck_assert_int_eq(must_find("model", "batch")->i, 7);
}
END_TEST

START_TEST(bad_env_values_name_the_variable_and_change_nothing)
{
	setenv("TRIT_THREADS", "3", 1);
	setenv("TRIT_PRIORITY", "fast", 1);
	setenv("TRIT_GPU_FRACTION", "2", 1);
	ck_assert_int_eq(trit_config_apply_env(&cfg, err, sizeof err), TRIT_ECONFIG);
	ck_assert_uint_eq(err_lines(), 2);
	assert_err_has("environment TRIT_PRIORITY: 'fast' is not one of balanced, latency, "
	               "throughput");
	assert_err_has("environment TRIT_GPU_FRACTION: '2' is out of range; expected a fraction "
	               "from 0.01 to 0.95");
	ck_assert_uint_eq(cfg.n_entries, 0);
}
END_TEST

START_TEST(empty_env_variable_counts_as_unset)
{
	load_ok("[runtime]\nthreads = 4\n");
	setenv("TRIT_THREADS", "", 1);
	setenv("TRIT_MODEL", " ", 1);
	ck_assert_int_eq(trit_config_apply_env(&cfg, err, sizeof err), 0);
	ck_assert_str_eq(trit_config_get(&cfg, "runtime", "threads"), "4");
	ck_assert_ptr_null(trit_config_find(&cfg, "model", "path"));
}
END_TEST

START_TEST(unknown_trit_variable_is_warned_with_close_match)
{
	setenv("TRIT_THREAD", "4", 1);
	setenv("TRIT_BANANA", "1", 1);
	setenv("TRIT_CONFIG", "/etc/trit/deploy.ini", 1);
	setenv("TRIT_PLUGIN_PATH", "/opt/p", 1);
	setenv("TRIT_CUDA_DRIVER", "/usr/lib/libcuda.so.1", 1);
	setenv("TRIT_PLUGIN_CPU_AVX2_THREADS", "4", 1);
	setenv("TRIT_TEST_ANYTHING", "1", 1);
	logged[0] = '\0';
	trit_log_set_sink(capture, NULL);
	ck_assert_int_eq(trit_config_apply_env(&cfg, err, sizeof err), 0);
	ck_assert_msg(strstr(logged, "TRIT_THREAD is not one trit reads (did you mean "
	                     "TRIT_THREADS?)"), "%s", logged);
	ck_assert_msg(strstr(logged, "TRIT_BANANA is not one trit reads"), "%s", logged);
	ck_assert_msg(!strstr(logged, "TRIT_CONFIG"), "%s", logged);
	ck_assert_msg(!strstr(logged, "TRIT_PLUGIN"), "%s", logged);
	ck_assert_msg(!strstr(logged, "TRIT_CUDA"), "%s", logged);
	ck_assert_msg(!strstr(logged, "TRIT_TEST"), "%s", logged);
	ck_assert_uint_eq(cfg.n_entries, 0);
}
END_TEST

START_TEST(set_overrides_env_and_ini_whichever_is_applied_first)
{
	const char *p = fixture("d.ini", "[runtime]\nthreads = 2\n");
	const struct trit_config_entry *e;

	setenv("TRIT_THREADS", "3", 1);
	ck_assert_int_eq(trit_config_set(&cfg, "runtime", "threads", "5", "--threads", err,
	                                 sizeof err), 0);
	ck_assert_int_eq(trit_config_apply_env(&cfg, err, sizeof err), 0);
	ck_assert_int_eq(trit_config_load_file(&cfg, p, err, sizeof err), 0);
	e = must_find("runtime", "threads");
	ck_assert_int_eq(e->i, 5);
	ck_assert_str_eq(e->where, "--threads");
	ck_assert_int_eq(e->origin, TRIT_CFG_FROM_CLI);

	trit_config_free(&cfg);
	ck_assert_int_eq(trit_config_load_file(&cfg, p, err, sizeof err), 0);
	ck_assert_int_eq(trit_config_apply_env(&cfg, err, sizeof err), 0);
	ck_assert_str_eq(trit_config_get(&cfg, "runtime", "threads"), "3");
	ck_assert_int_eq(trit_config_set(&cfg, "runtime", "threads", "5", NULL, err, sizeof err), 0);
	ck_assert_str_eq(trit_config_get(&cfg, "runtime", "threads"), "5");
	ck_assert_str_eq(trit_config_where(&cfg, "runtime", "threads"), "command line");
}
END_TEST

START_TEST(set_checks_values_like_the_file_does)
{
	ck_assert_int_eq(trit_config_set(&cfg, "planner", "priority", "fast", "--priority", err,
	                                 sizeof err), TRIT_ECONFIG);
	ck_assert_str_eq(err, "--priority: [planner] priority: 'fast' is not one of balanced, "
	                 "latency, throughput");
	ck_assert_int_eq(trit_config_set(&cfg, "runtime", "thread", "4", NULL, err, sizeof err),
	                 TRIT_ECONFIG);
	assert_err_has("command line: [runtime] unknown key 'thread' (did you mean 'threads'?)");
	ck_assert_int_eq(trit_config_set(&cfg, "gpu", "x", "4", NULL, err, sizeof err),
	                 TRIT_ECONFIG);
	assert_err_has("command line: unknown section [gpu]");
	ck_assert_int_eq(trit_config_set(&cfg, "plugin.A", "x", "4", NULL, err, sizeof err),
	                 TRIT_ECONFIG);
	assert_err_has("bad plugin section name [plugin.A]");
	ck_assert_int_eq(trit_config_set(&cfg, "plugin.a", "x", "any thing", NULL, err,
	                                 sizeof err), 0);
	ck_assert_uint_eq(cfg.n_entries, 1);
}
END_TEST

START_TEST(typed_value_is_the_entry_else_the_parsed_default)
{
	struct trit_config_value v;

	ck_assert_int_eq(trit_config_typed(&cfg, "memory", "kv_pad", &v), 0);
	ck_assert_str_eq(v.text, "256");
	ck_assert_str_eq(v.where, "default");
	ck_assert_int_eq(v.i, 256);
	ck_assert_int_eq(trit_config_typed(&cfg, "planner", "gpu_fraction", &v), 0);
	ck_assert_double_eq_tol(v.fraction, 0.90, 1e-12);
	ck_assert_int_eq(trit_config_typed(&cfg, "memory", "headroom", &v), 0);
	ck_assert_ptr_null(v.text);
	ck_assert_double_eq(trit_config_fraction(&cfg, "memory", "headroom", -1), -1);

	ck_assert_int_eq(trit_config_set(&cfg, "model", "context", "4096", "--ctx", err,
	                                 sizeof err), 0);
	ck_assert_int_eq(trit_config_set(&cfg, "memory", "headroom", "20%", NULL, err,
	                                 sizeof err), 0);
	ck_assert_int_eq(trit_config_set(&cfg, "memory", "limit.cuda.gpu0", "12GiB", NULL, err,
	                                 sizeof err), 0);
	ck_assert_int_eq(trit_config_typed(&cfg, "model", "context", &v), 0);
	ck_assert_int_eq(v.i, 4096);
	ck_assert_str_eq(v.where, "--ctx");
	ck_assert_int_eq(trit_config_int(&cfg, "model", "context", 0), 4096);
	ck_assert_double_eq_tol(trit_config_fraction(&cfg, "memory", "headroom", -1), 0.2, 1e-12);
	ck_assert_int_eq(trit_config_typed(&cfg, "memory", "limit.cuda.gpu0", &v), 0);
	ck_assert_uint_eq(v.size, UINT64_C(12) << 30);
	ck_assert_int_eq(trit_config_typed(&cfg, "model", "contxt", &v), TRIT_EINVAL);
	ck_assert_int_eq(trit_config_int(&cfg, "model", "contxt", -7), -7);
}
END_TEST

/* The planner and the log take a choice key's index as their enum: the
 * schema's choices must stay in the public enums' order. */
START_TEST(choice_keys_type_as_the_public_enums)
{
	static const struct {
		const char *sec, *key, *val;
		int want;
	} c[] = {
		{ "model", "kv_type", "f32", TRIT_KV_F32 }, { "model", "kv_type", "f16", TRIT_KV_F16 },
		{ "model", "kv_type", "q8_0", TRIT_KV_Q8_0 },
		{ "planner", "strategy", "auto", TRIT_STRATEGY_AUTO },
		{ "planner", "strategy", "cpu", TRIT_STRATEGY_CPU },
		{ "planner", "strategy", "gpu", TRIT_STRATEGY_GPU },
		{ "planner", "strategy", "hybrid", TRIT_STRATEGY_HYBRID },
		{ "planner", "priority", "balanced", TRIT_PRIORITY_BALANCED },
		{ "planner", "priority", "latency", TRIT_PRIORITY_LATENCY },
		{ "planner", "priority", "throughput", TRIT_PRIORITY_THROUGHPUT },
		{ "runtime", "log_level", "error", TRIT_LOG_ERROR },
		{ "runtime", "log_level", "warn", TRIT_LOG_WARN },
		{ "runtime", "log_level", "info", TRIT_LOG_INFO },
		{ "runtime", "log_level", "debug", TRIT_LOG_DEBUG },
		{ "runtime", "log_level", "trace", TRIT_LOG_TRACE },
	};

	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		ck_assert_int_eq(trit_config_set(&cfg, c[i].sec, c[i].key, c[i].val, NULL, err,
		                                 sizeof err), 0);
		ck_assert_msg(trit_config_int(&cfg, c[i].sec, c[i].key, -1) == c[i].want,
		              "[%s] %s = %s types as %lld, not %d", c[i].sec, c[i].key, c[i].val,
		              (long long)trit_config_int(&cfg, c[i].sec, c[i].key, -1), c[i].want);
	}
}
END_TEST

/* The embedding API hands the planner the configuration's typed values. */
START_TEST(runtime_plan_options_are_the_typed_configuration)
{
	struct trit_runtime *rt;
	struct trit_plan_options po;

	ck_assert_int_eq(trit_runtime_new(&rt, err, sizeof err), 0);
	trit_runtime_plan_options(rt, &po);
	ck_assert_uint_eq(po.n_ctx, 0);
	ck_assert_uint_eq(po.n_ubatch, 0);
	ck_assert_uint_eq(po.n_seq, 1);
	ck_assert_int_eq(po.kv_type, TRIT_KV_F16);
	ck_assert_double_eq(po.headroom, -1);
	ck_assert_uint_eq(po.kv_pad, 256);
	ck_assert_int_eq(po.strategy, TRIT_STRATEGY_AUTO);
	ck_assert_int_eq(po.max_gpu_layers, -1);
	ck_assert_double_eq_tol(po.workspace_overhead, 0.05, 1e-12);
	ck_assert_uint_eq(po.max_batch, 256);

	ck_assert_int_eq(trit_runtime_set(rt, "model", "context", "8192", "--ctx", err,
	                                  sizeof err), 0);
	ck_assert_int_eq(trit_runtime_set(rt, "model", "batch", "64", NULL, err, sizeof err), 0);
	ck_assert_int_eq(trit_runtime_set(rt, "model", "kv_type", "q8_0", NULL, err,
	                                  sizeof err), 0);
	ck_assert_int_eq(trit_runtime_set(rt, "planner", "strategy", "hybrid", NULL, err,
	                                  sizeof err), 0);
	ck_assert_int_eq(trit_runtime_set(rt, "memory", "headroom", "15%", NULL, err,
	                                  sizeof err), 0);
	ck_assert_int_eq(trit_runtime_set(rt, "runtime", "threads", "6", NULL, err, sizeof err), 0);
	trit_runtime_plan_options(rt, &po);
	ck_assert_uint_eq(po.n_ctx, 8192);
	ck_assert_uint_eq(po.n_ubatch, 64);   /* batch, as ubatch is unset */
	ck_assert_int_eq(po.kv_type, TRIT_KV_Q8_0);
	ck_assert_int_eq(po.strategy, TRIT_STRATEGY_HYBRID);
	ck_assert_double_eq_tol(po.headroom, 0.15, 1e-12);
	ck_assert_uint_eq(po.threads, 6);
	ck_assert_int_eq(trit_runtime_set(rt, "model", "ubatch", "32", NULL, err, sizeof err), 0);
	trit_runtime_plan_options(rt, &po);
	ck_assert_uint_eq(po.n_ubatch, 32);
	ck_assert_int_eq(trit_runtime_set(rt, "model", "kv_type", "q4", NULL, err, sizeof err),
	                 TRIT_ECONFIG);
	trit_runtime_free(rt);
}
END_TEST

/* ---------------------------------------------------------------- plugins */

START_TEST(plugin_sections_store_keys_as_given_in_file_order)
{
	const char *p = load_ok("[plugin.cpu_avx2]\nnuma = interleave\nthreads = lots\n"
	                        "[plugin.cuda]\ndevice = 0\n[plugin.empty]\n"
	                        "[plugin.cpu_avx2]\npin = yes\n");
	const char *where;

	ck_assert_str_eq(trit_config_plugin_get(&cfg, "cpu_avx2", "threads", &where), "lots");
	ck_assert_str_eq(where, at(p, 3));
	ck_assert_ptr_null(trit_config_plugin_get(&cfg, "cpu_avx2", "device", &where));
	ck_assert_ptr_null(where);
	ck_assert_ptr_null(trit_config_plugin_get(&cfg, "cpu", "numa", NULL));
	ck_assert_str_eq(trit_config_plugin_key(&cfg, "cpu_avx2", 0), "numa");
	ck_assert_str_eq(trit_config_plugin_key(&cfg, "cpu_avx2", 1), "threads");
	ck_assert_str_eq(trit_config_plugin_key(&cfg, "cpu_avx2", 2), "pin");
	ck_assert_ptr_null(trit_config_plugin_key(&cfg, "cpu_avx2", 3));
	ck_assert_str_eq(trit_config_plugin_section(&cfg, 0), "cpu_avx2");
	ck_assert_str_eq(trit_config_plugin_section(&cfg, 1), "cuda");
	ck_assert_ptr_null(trit_config_plugin_section(&cfg, 2));
}
END_TEST

START_TEST(plugin_env_overrides_ini_value_and_adds_new_keys)
{
	const char *where;

	load_ok("[plugin.cpu_avx2]\nthreads = 4\nnum-workers = 2\n[plugin.cpu]\nthreads = 1\n");
	setenv("TRIT_PLUGIN_CPU_AVX2_THREADS", "8", 1);
	setenv("TRIT_PLUGIN_CPU_AVX2_NUM_WORKERS", "3", 1);
	setenv("TRIT_PLUGIN_CPU_AVX2_PIN", "yes", 1);
	setenv("TRIT_PLUGIN_CUDA_DEVICE", "1", 1);
	ck_assert_int_eq(trit_config_import_plugin_env(&cfg, "cpu_avx2", err, sizeof err), 0);

	ck_assert_str_eq(trit_config_plugin_get(&cfg, "cpu_avx2", "threads", &where), "8");
	ck_assert_str_eq(where, "environment TRIT_PLUGIN_CPU_AVX2_THREADS");
	ck_assert_str_eq(trit_config_plugin_get(&cfg, "cpu_avx2", "num-workers", &where), "3");
	ck_assert_str_eq(where, "environment TRIT_PLUGIN_CPU_AVX2_NUM_WORKERS");
	ck_assert_str_eq(trit_config_plugin_get(&cfg, "cpu_avx2", "pin", NULL), "yes");
	ck_assert_str_eq(trit_config_plugin_key(&cfg, "cpu_avx2", 0), "threads");
	ck_assert_str_eq(trit_config_plugin_key(&cfg, "cpu_avx2", 1), "num-workers");
	ck_assert_str_eq(trit_config_plugin_key(&cfg, "cpu_avx2", 2), "pin");
	ck_assert_ptr_null(trit_config_plugin_key(&cfg, "cpu_avx2", 3));
	/* Only the plugin asked about is imported. */
	ck_assert_str_eq(trit_config_plugin_get(&cfg, "cpu", "threads", NULL), "1");
	ck_assert_ptr_null(trit_config_plugin_get(&cfg, "cuda", "device", NULL));

	ck_assert_int_eq(trit_config_import_plugin_env(&cfg, "Bad-Name", err, sizeof err),
	                 TRIT_EINVAL);
	assert_err_has("Bad-Name");
}
END_TEST

START_TEST(set_overrides_plugin_env)
{
	setenv("TRIT_PLUGIN_CUDA_DEVICE", "1", 1);
	ck_assert_int_eq(trit_config_set(&cfg, "plugin.cuda", "device", "2", "--cuda-device",
	                                 err, sizeof err), 0);
	ck_assert_int_eq(trit_config_import_plugin_env(&cfg, "cuda", err, sizeof err), 0);
	ck_assert_str_eq(trit_config_plugin_get(&cfg, "cuda", "device", NULL), "2");
}
END_TEST

/* ------------------------------------------------------------------- docs */

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	ck_assert_msg(f != NULL, "cannot open %s: %s (is top_srcdir set?)", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* The text from "### [section]" to the next heading. */
static char *doc_section(const char *doc, const char *section)
{
	char heading[64];
	const char *start, *end;

	snprintf(heading, sizeof heading, "### [%s]", section);
	start = strstr(doc, heading);
	ck_assert_msg(start != NULL, "docs/config.md has no heading \"%s\"", heading);
	end = strstr(start + 1, "\n#");
	if (!end)
		end = start + strlen(start);
	return strndup(start, (size_t)(end - start));
}

START_TEST(docs_describe_every_key_and_variable)
{
	const char *top = getenv("top_srcdir") ? getenv("top_srcdir") : ".";
	char path[PATH_MAX], row[128], num[64];
	char *doc, *sec;
	size_t n;
	const struct trit_config_key *k = trit_config_schema(&n);
	static const char *const others[] = {
		"`TRIT_CONFIG`", "`TRIT_PLUGIN_PATH`", "`TRIT_CUDA_DRIVER`",
		"`TRIT_PLUGIN_<NAME>_<KEY>`", "### [plugin.<name>]",
	};

	snprintf(path, sizeof path, "%s/docs/config.md", top);
	doc = read_all(path);
	ck_assert_msg(strstr(doc, "## Environment"), "docs/config.md has no \"## Environment\" part");
	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
		ck_assert_msg(strstr(doc, others[i]), "docs/config.md does not mention %s", others[i]);
	for (size_t i = 0; i < n; i++) {
		const char *line, *eol;
		char *r;

		/* Each key has a table row "| `key` |" in its section's table that
		 * names its variable, default, choices and range. */
		sec = doc_section(doc, k[i].section);
		snprintf(row, sizeof row, "| `%s` |", k[i].key);
		line = strstr(sec, row);
		ck_assert_msg(line != NULL, "docs/config.md: [%s] has no row %s", k[i].section, row);
		eol = strchr(line, '\n');
		r = strndup(line, eol ? (size_t)(eol - line) : strlen(line));
		if (k[i].env) {
			snprintf(num, sizeof num, "`%s`", k[i].env);
			ck_assert_msg(strstr(r, num), "row of %s lacks %s", k[i].key, num);
			ck_assert_msg(strstr(strstr(doc, "## Environment"), num),
			              "the environment section lacks %s", num);
		}
		if (k[i].def) {
			snprintf(num, sizeof num, "`%s`", k[i].def);
			ck_assert_msg(strstr(r, num), "row of %s lacks default %s", k[i].key, num);
		}
		if (k[i].type == TRIT_CFG_ENUM) {
			char choices[128], *save = NULL;
			snprintf(choices, sizeof choices, "%s", k[i].choices);
			for (char *c = strtok_r(choices, "|", &save); c; c = strtok_r(NULL, "|", &save)) {
				snprintf(num, sizeof num, "`%s`", c);
				ck_assert_msg(strstr(r, num), "row of %s lacks choice %s", k[i].key, num);
			}
		}
		if (k[i].type == TRIT_CFG_INT) {
			snprintf(num, sizeof num, "%lld", (long long)k[i].min);
			ck_assert_msg(strstr(r, num), "row of %s lacks minimum %s", k[i].key, num);
			snprintf(num, sizeof num, "%lld", (long long)k[i].max);
			ck_assert_msg(strstr(r, num), "row of %s lacks maximum %s", k[i].key, num);
		}
		if (k[i].type == TRIT_CFG_FRACTION) {
			snprintf(num, sizeof num, "%g", k[i].fmin);
			ck_assert_msg(strstr(r, num), "row of %s lacks minimum %s", k[i].key, num);
			snprintf(num, sizeof num, "%g", k[i].fmax);
			ck_assert_msg(strstr(r, num), "row of %s lacks maximum %s", k[i].key, num);
		}
		free(r);
		free(sec);
	}
	free(doc);
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
	Suite *s = suite_create("config");

	ADD(s, schema_lists_sections_and_keys_in_documentation_order);
	ADD(s, every_schema_default_is_accepted_by_its_own_key);
	ADD(s, full_file_gives_typed_values_and_file_line_origins);
	ADD(s, indented_keys_comments_crlf_and_bom_are_understood);
	ADD(s, later_file_overrides_earlier_file_and_keeps_the_rest);
	ADD(s, example_files_in_docs_load);
	ADD(s, missing_file_names_path_and_reason);
	ADD(s, file_that_is_not_text_is_refused_without_reading_it_all);
	ADD(s, fifo_is_refused_without_waiting_for_a_writer);
	ADD(s, line_longer_than_4096_bytes_stops_the_read_naming_the_line);
	ADD(s, file_larger_than_16_MiB_stops_the_read_naming_the_line);
	ADD(s, sections_past_the_limit_are_refused_naming_the_line);
	ADD(s, keys_past_the_limit_are_refused_naming_the_line);
	ADD(s, ten_thousand_sections_are_found_in_order);
	ADD(s, fifty_problems_at_the_end_of_a_file_are_all_reported);
	ADD(s, syntax_error_names_file_and_line);
	ADD(s, every_syntax_error_is_reported);
	ADD(s, line_too_long_names_line_and_limit);
	ADD(s, line_of_150_characters_is_accepted);
	ADD(s, unknown_section_names_line_and_known_sections);
	ADD(s, unknown_key_names_line_and_accepted_keys);
	ADD(s, key_before_any_section_is_an_error);
	ADD(s, typed_value_is_the_entry_else_the_parsed_default);
	ADD(s, choice_keys_type_as_the_public_enums);
	ADD(s, runtime_plan_options_are_the_typed_configuration);
	ADD(s, bad_plugin_section_name_is_an_error);
	ADD(s, key_set_twice_names_first_line);
	ADD(s, bad_enum_value_lists_choices);
	ADD(s, int_rejects_junk_overflow_and_out_of_range_naming_the_range);
	ADD(s, empty_value_is_an_error_for_typed_keys_but_not_for_path_lists);
	ADD(s, sizes_accept_every_unit);
	ADD(s, size_rejects_unknown_units_and_values_below_one_mebibyte);
	ADD(s, pattern_key_limit_matches_any_backend_and_device);
	ADD(s, fractions_accept_decimals_and_percentages_with_inclusive_bounds);
	ADD(s, fraction_out_of_range_or_malformed_names_the_range);
	ADD(s, all_problems_are_reported_one_per_line_in_line_order);
	ADD(s, small_error_buffer_gets_whole_lines_and_a_count);
	ADD(s, failed_load_leaves_config_unchanged);
	ADD(s, get_falls_back_to_defaults_and_where_says_default);
	ADD(s, env_overrides_ini_whichever_is_applied_first);
	ADD(s, every_schema_variable_is_read);
	ADD(s, bad_env_values_name_the_variable_and_change_nothing);
	ADD(s, empty_env_variable_counts_as_unset);
	ADD(s, unknown_trit_variable_is_warned_with_close_match);
	ADD(s, set_overrides_env_and_ini_whichever_is_applied_first);
	ADD(s, set_checks_values_like_the_file_does);
	ADD(s, plugin_sections_store_keys_as_given_in_file_order);
	ADD(s, plugin_env_overrides_ini_value_and_adds_new_keys);
	ADD(s, set_overrides_plugin_env);
	ADD(s, docs_describe_every_key_and_variable);

	return test_run_suite(s);
}
