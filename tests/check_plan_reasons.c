/*
 * check_plan_reasons.c - the planner's decisions as data: reason codes with
 * the numbers they were made from (bytes, fractions, counts), every code's
 * sentence expands completely, and the text and JSON plan reports, made
 * from one model, say the same sentences.
 */
#include <build-config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "model/model.h"
#include "plan/plan.h"
#include "report/plan_model.h"
#include "report/reason.h"
#include "report/report.h"
#include "support/support.h"

#define GIB (UINT64_C(1) << 30)

static char tmpdir[64];

static void setup(void)
{
	strcpy(tmpdir, "/tmp/trit-reasons-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
	if (test_remove_tree(tmpdir) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

static struct trit_model *model(const char *shape, const char *type)
{
	char out[256], err[512];
	struct trit_model *m;

	snprintf(out, sizeof out, "%s/%s-%s.gguf", tmpdir, shape, type);
	test_genmodel_file(shape, "gguf", type, out);
	ck_assert_msg(trit_model_open(out, &m, err, sizeof err) == 0, "%s", err);
	return m;
}

static struct trit_device dev(enum trit_device_kind kind, const char *id, uint64_t free_b,
                              uint64_t types)
{
	struct trit_device d = {
		.struct_size = sizeof d, .kind = kind, .id = id, .name = "simulated",
		.mem_total = { free_b + GIB, TRIT_VALUE_MEASURED, 0, "test" },
		.mem_free = { free_b, TRIT_VALUE_MEASURED, 0, "test" },
		.mem_bandwidth = { UINT64_C(100000000000), TRIT_VALUE_MEASURED, 0, "test" },
		.compute_units = { 4, TRIT_VALUE_MEASURED, 0, "test" },
		.hw_threads = { 8, TRIT_VALUE_MEASURED, 0, "test" },
		.matmul_types = types,
	};
	return d;
}

static struct trit_plan_opts opts(uint32_t n_ctx)
{
	struct trit_plan_opts o = {
		.est = { .n_ctx = n_ctx, .n_seq = 1, .kv_type = TRIT_KV_F16, .headroom = -1 },
		.max_gpu_layers = -1, .gpu_fraction = 0.90, .workspace_fraction = 0.80,
		.workspace_overhead = -1, .max_batch = 256,
	};
	return o;
}

static void plan_on(const struct trit_model *m, struct trit_plan_device *pd, struct trit_device *d,
                    uint32_t n, const struct trit_plan_opts *o, struct trit_plan_result *p)
{
	char err[512];

	for (uint32_t i = 0; i < n; i++) {
		pd[i].dev = &d[i];
		pd[i].backend = "sim";
	}
	ck_assert_msg(trit_plan_make(m, pd, n, o, p, err, sizeof err) == 0, "%s", err);
}

static const struct trit_plan_reason_rec *reason_of(const struct trit_plan_result *p,
                                                    enum trit_plan_reason code, int slot)
{
	for (uint32_t i = 0; i < p->n_reasons; i++)
		if (p->reasons[i].code == code && (slot < -1 || p->reasons[i].slot == slot))
			return &p->reasons[i];
	return NULL;
}

/* ------------------------------------------------------------------ codes */

/* A 4 GiB GPU (3.5 GiB free) forced to run an 8B Q4_0 model alone: the
 * weights (4.3 GiB) exceed 0.9 x 3.5 GiB at any context. */
START_TEST(forced_gpu_too_small_says_nothing_fits_with_its_bytes)
{
	struct trit_model *m = model("Llama-3.1-8B", "Q4_0");
	struct trit_device d[2] = { dev(TRIT_DEVICE_GPU, "gpu0", 3 * GIB + GIB / 2, 0),
	                            dev(TRIT_DEVICE_CPU, "cpu0", 16 * GIB, 0) };
	struct trit_plan_device pd[2] = { { 0 } };
	struct trit_plan_opts o = opts(8192);
	struct trit_plan_result p;
	const struct trit_plan_reason_rec *r;

	o.force = TRIT_STRATEGY_GPU;
	plan_on(m, pd, d, 2, &o, &p);
	ck_assert_int_eq(p.strategy, TRIT_STRATEGY_NONE);
	ck_assert_uint_eq(p.max_ctx, 0);
	ck_assert_ptr_nonnull(r = reason_of(&p, TRIT_REASON_NOTHING_FITS_WEIGHTS, -1));
	ck_assert_double_eq(r->num[0], TRIT_KV_PAD);
	/* the GPU's usable bytes: free x 0.9, with the numbers it was made from */
	ck_assert_ptr_nonnull(r = reason_of(&p, TRIT_REASON_USABLE_FRACTION, 0));
	ck_assert_double_eq(r->num[0], (double)(3 * GIB + GIB / 2));
	ck_assert_double_eq(r->num[2], 0.90);
	ck_assert_double_eq(r->num[3], (double)(uint64_t)((double)(3 * GIB + GIB / 2) * 0.90));
	ck_assert_uint_eq(p.slots[0].usable, (uint64_t)r->num[3]);
	/* the CPU: its free memory, no fraction */
	ck_assert_ptr_nonnull(r = reason_of(&p, TRIT_REASON_USABLE_FREE, 1));
	ck_assert_double_eq(r->num[3], (double)(16 * GIB));
	/* the GPU runs no Q4_0 kernel: noted, about slot 0 */
	ck_assert_ptr_nonnull(r = reason_of(&p, TRIT_REASON_DEVICE_NO_KERNEL, 0));
	ck_assert_str_eq(r->arg[1], "gpu0");
	ck_assert_str_eq(r->arg[2], "Q4_0");
	/* no trial plan of the context search is left as the reason */
	ck_assert_ptr_null(reason_of(&p, TRIT_REASON_GPU_ONLY_FITS, -2));
	trit_plan_result_free(&p);
	trit_model_close(m);
}
END_TEST

/* A [memory] limit below the free memory caps the GPU before the fraction. */
START_TEST(a_limit_caps_usable_memory_and_names_where_it_was_set)
{
	struct trit_model *m = model("tiny-llama", "F16");
	struct trit_device d[2] = { dev(TRIT_DEVICE_GPU, "gpu0", 8 * GIB, 0),
	                            dev(TRIT_DEVICE_CPU, "cpu0", 16 * GIB, 0) };
	struct trit_plan_device pd[2] = { { 0 } };
	struct trit_plan_opts o = opts(512);
	struct trit_plan_result p;
	const struct trit_plan_reason_rec *r;
	char s[256];

	pd[0].limit = 2 * GIB;
	pd[0].limit_where = "test.ini:3";
	plan_on(m, pd, d, 2, &o, &p);
	ck_assert_ptr_nonnull(r = reason_of(&p, TRIT_REASON_USABLE_LIMIT_FRACTION, 0));
	ck_assert_double_eq(r->num[0], (double)(8 * GIB));
	ck_assert_double_eq(r->num[1], (double)(2 * GIB));
	ck_assert_double_eq(r->num[3], (double)p.slots[0].usable);
	ck_assert_uint_eq(p.slots[0].usable, (uint64_t)((double)(2 * GIB) * 0.90));
	ck_assert_str_eq(r->arg[0], "test.ini:3");
	ck_assert_int_gt(trit_reason_text(r, s, sizeof s), 0);
	ck_assert_str_eq(s, "free memory, capped by test.ini:3 x GPU fraction");
	ck_assert_ptr_nonnull(reason_of(&p, TRIT_REASON_GPU_ONLY_FITS, -1));
	ck_assert_ptr_nonnull(r = reason_of(&p, TRIT_REASON_UBATCH_HALVED, -1));
	ck_assert_double_eq(r->num[0], p.ubatch);
	trit_plan_result_free(&p);
	trit_model_close(m);
}
END_TEST

/* An I2_S BitNet model on a GPU that runs only TL1: its weights are repacked
 * into TL1, the slot says so as a number, and the reason is the default
 * order, nothing measured. */
START_TEST(repack_format_is_a_number_and_its_reason_a_code)
{
	struct trit_model *m = model("BitNet-b1.58-2B-4T", "I2_S");
	struct trit_device d[2] = {
		dev(TRIT_DEVICE_GPU, "gpu0", 8 * GIB, TRIT_TYPE_BIT(TRIT_TYPE_TL1)),
		dev(TRIT_DEVICE_CPU, "cpu0", 16 * GIB, TRIT_TYPE_BIT(TRIT_TYPE_I2_S)) };
	struct trit_plan_device pd[2] = { { 0 } };
	struct trit_plan_opts o = opts(4096);
	struct trit_plan_result p;
	const struct trit_plan_reason_rec *r;

	plan_on(m, pd, d, 2, &o, &p);
	ck_assert_uint_eq(p.slots[0].format, TRIT_TYPE_TL1);
	ck_assert_uint_eq(p.slots[1].format, 0);          /* the CPU runs I2_S as stored */
	ck_assert_ptr_nonnull(r = reason_of(&p, TRIT_REASON_FORMAT_FIRST_UNMEASURED, 0));
	ck_assert_double_eq(r->num[0], TRIT_TYPE_TL1);
	ck_assert_double_eq(r->num[1], -1);
	ck_assert_str_eq(r->arg[0], "TL1");
	ck_assert_ptr_null(reason_of(&p, TRIT_REASON_FORMAT_FIRST_UNMEASURED, 1));
	trit_plan_result_free(&p);
	trit_model_close(m);
}
END_TEST

/* ------------------------------------------------------------------ sentences */

static char *slurp(FILE *f);

/* Every code has a name, a topic and a template whose fields all expand,
 * with numbers and names set or left empty. */
START_TEST(every_code_has_a_template_that_expands_completely)
{
	char seen[TRIT_REASON_COUNT][64] = { { 0 } };

	ck_assert_ptr_null(trit_reason_info(TRIT_REASON_NONE));
	ck_assert_ptr_null(trit_reason_info(TRIT_REASON_COUNT));
	for (uint32_t c = 1; c < TRIT_REASON_COUNT; c++) {
		const struct trit_reason_info *in = trit_reason_info(c);
		ck_assert_msg(in && in->name && in->tmpl && *in->tmpl, "code %u has no template", c);
		ck_assert_int_lt(in->topic, TRIT_TOPIC_COUNT);
		for (uint32_t k = 1; k < c; k++)
			ck_assert_msg(strcmp(seen[k], in->name), "%s named twice", in->name);
		snprintf(seen[c], sizeof seen[c], "%s", in->name);
		for (int fill = 0; fill < 3; fill++) {
			struct trit_plan_reason_rec r = { .code = (uint16_t)c, .slot = -1 };
			char s[600];
			for (int i = 0; i < TRIT_PLAN_REASON_NUMS; i++)
				r.num[i] = fill == 0 ? 0 : fill == 1 ? 2 : -1;
			for (int i = 0; i < TRIT_PLAN_REASON_ARGS; i++)
				snprintf(r.arg[i], sizeof r.arg[i], "%s", fill == 1 ? "name" : "");
			int n = trit_reason_text(&r, s, sizeof s);
			ck_assert_msg(n > 0 && (size_t)n < sizeof s, "%s: %d", in->name, n);
			ck_assert_msg(!strchr(s, '{') && !strchr(s, '}') && !strchr(s, '|') &&
			              !strstr(s, "?"), "%s left a field: %s", in->name, s);
		}
	}
}
END_TEST

/* docs/plan-reasons.md lists every code by its name. */
START_TEST(every_code_is_documented)
{
	const char *srcdir = getenv("top_srcdir");
	char path[512], *doc;
	FILE *f;

	snprintf(path, sizeof path, "%s/docs/plan-reasons.md", srcdir ? srcdir : ".");
	ck_assert_msg((f = fopen(path, "r")) != NULL, "cannot open %s", path);
	doc = slurp(f);
	fclose(f);
	for (uint32_t c = 1; c < TRIT_REASON_COUNT; c++) {
		char row[96];
		snprintf(row, sizeof row, "| %u | `%s` |", c, trit_reason_info(c)->name);
		ck_assert_msg(strstr(doc, row), "%s does not list %s", path, row);
	}
	free(doc);
}
END_TEST

/* A template that names a field its code does not have, or a code out of
 * range, is an error, not a sentence; a short buffer is cut, not overrun. */
START_TEST(unknown_codes_and_short_buffers_are_handled)
{
	struct trit_plan_reason_rec r = { .code = TRIT_REASON_COUNT, .slot = -1 };
	char s[8];

	ck_assert_int_eq(trit_reason_text(&r, s, sizeof s), -1);
	ck_assert_str_eq(s, "");
	r.code = TRIT_REASON_CPU_NO_GPU;
	ck_assert_int_eq(trit_reason_text(&r, s, sizeof s),
	                 (int)strlen("no GPU or accelerator with known free memory is available"));
	ck_assert_str_eq(s, "no GPU ");
	r = (struct trit_plan_reason_rec){ .code = TRIT_REASON_HYBRID_SPLIT, .slot = -1,
	                                   .num = { 3, 32, 2, 0, -1 } };
	char w[400];
	trit_reason_text(&r, w, sizeof w);
	ck_assert_str_eq(w, "the whole model does not fit in the GPUs' usable memory; the last 3 "
	                 "of 32 layers do, the rest run on the CPU, token embeddings stay on the "
	                 "CPU (a lookup, not a matmul)");
	r.num[2] = 1, r.num[3] = 1, r.num[4] = 3;
	trit_reason_text(&r, w, sizeof w);
	ck_assert_str_eq(w, "the whole model does not fit in the GPU's usable memory; the last 3 "
	                 "of 32 layers and the output matrix do, the rest run on the CPU, token "
	                 "embeddings stay on the CPU (a lookup, not a matmul) (capped by "
	                 "max_gpu_layers)");
}
END_TEST

/* The text of stream f, read from the start. */
static char *slurp(FILE *f)
{
	long n;
	char *s;

	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	s = calloc((size_t)n + 1, 1);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(fread(s, 1, (size_t)n, f), (size_t)n);
	return s;
}

/* Does `text` have the line `prefix sentence`? */
static int has_line(const char *text, const char *prefix, const char *sentence)
{
	size_t np = strlen(prefix), ns = strlen(sentence);

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, prefix, np) && !strncmp(l + np, sentence, ns) &&
		    (l[np + ns] == '\n' || l[np + ns] == '\0'))
			return 1;
	return 0;
}

/* Plan m on d, render both reports (explained) and check that the JSON's
 * sentences are the text's: why, every note, every repacked device's format
 * reason, the speed, and that every reason's text is its code's sentence. */
static void same_sentences(const struct trit_model *m, struct trit_device *d, uint32_t n,
                           const struct trit_plan_opts *o)
{
	struct trit_plan_device pd[3] = { { 0 } };
	struct trit_plan_result p;
	FILE *f = tmpfile();
	char *text, *json, s[1024];
	cJSON *root, *x;
	int n_notes = 0;

	plan_on(m, pd, d, n, o, &p);
	ck_assert_ptr_nonnull(f);
	trit_report_plan_text(f, m, &p, pd, 1);
	text = slurp(f);
	fclose(f);
	ck_assert_ptr_nonnull(json = trit_report_plan_json(m, &p, pd, 1));
	ck_assert_ptr_nonnull(root = cJSON_Parse(json));
	x = cJSON_GetObjectItem(root, "why");
	ck_assert_msg(cJSON_IsString(x) && *x->valuestring, "no why");
	ck_assert_msg(has_line(text, "  why         ", x->valuestring), "why: %s", x->valuestring);
	x = cJSON_GetObjectItem(root, "speed");
	ck_assert_msg(cJSON_IsString(x) && has_line(text, "  speed      = 1 / sum over devices "
	              "(bytes read per token / bandwidth); ", x->valuestring), "speed");
	cJSON_ArrayForEach(x, cJSON_GetObjectItem(root, "notes")) {
		ck_assert_msg(has_line(text, "  - ", x->valuestring), "note: %s", x->valuestring);
		n_notes++;
	}
	ck_assert_int_gt(n_notes, 0);
	cJSON_ArrayForEach(x, cJSON_GetObjectItem(root, "devices")) {
		cJSON *t = cJSON_GetObjectItem(cJSON_GetObjectItem(x, "ternary"), "format_why");
		if (cJSON_IsString(t))
			ck_assert_msg(has_line(text, "                   format ", t->valuestring),
			              "format: %s", t->valuestring);
	}
	uint32_t i = 0;
	cJSON_ArrayForEach(x, cJSON_GetObjectItem(root, "reasons")) {
		ck_assert_uint_lt(i, p.n_reasons);
		const struct trit_reason_info *in = trit_reason_info(p.reasons[i].code);
		ck_assert_ptr_nonnull(in);
		ck_assert_str_eq(cJSON_GetObjectItem(x, "code")->valuestring, in->name);
		ck_assert_int_ge(trit_reason_text(&p.reasons[i], s, sizeof s), 0);
		ck_assert_str_eq(cJSON_GetObjectItem(x, "text")->valuestring, s);
		/* the named numbers are the record's (cJSON prints 15 significant
		 * digits when they read back within its tolerance) */
		cJSON *nums = cJSON_GetObjectItem(x, "numbers");
		for (int k = 0; k < TRIT_PLAN_REASON_NUMS && in->num[k].name; k++) {
			double v = p.reasons[i].num[k];
			ck_assert_double_eq_tol(cJSON_GetObjectItem(nums, in->num[k].name)->valuedouble,
			                        v, 1e-12 * (v < 0 ? -v : v) + 1e-300);
		}
		if (in->topic == TRIT_TOPIC_NOTE)
			ck_assert_msg(has_line(text, "  - ", s), "note reason: %s", s);
		i++;
	}
	ck_assert_uint_eq(i, p.n_reasons);
	cJSON_Delete(root);
	free(json);
	free(text);
	trit_plan_result_free(&p);
}

START_TEST(text_and_json_reports_say_the_same_sentences)
{
	struct trit_model *l8 = model("Llama-3.1-8B", "Q4_0");
	struct trit_model *bn = model("BitNet-b1.58-2B-4T", "I2_S");
	struct trit_device hybrid[2] = { dev(TRIT_DEVICE_GPU, "gpu0", 6 * GIB, 0),
	                                 dev(TRIT_DEVICE_CPU, "cpu0", 16 * GIB, 0) };
	struct trit_device repack[2] = {
		dev(TRIT_DEVICE_GPU, "gpu0", 8 * GIB, TRIT_TYPE_BIT(TRIT_TYPE_TL1)),
		dev(TRIT_DEVICE_CPU, "cpu0", 16 * GIB, TRIT_TYPE_BIT(TRIT_TYPE_TL2)) };
	struct trit_device unknown[2] = { dev(TRIT_DEVICE_GPU, "gpu0", 8 * GIB, 0),
	                                  dev(TRIT_DEVICE_CPU, "cpu0", 8 * GIB, 0) };
	struct trit_plan_opts o = opts(32768);

	same_sentences(l8, hybrid, 2, &o);
	o = opts(4096);
	same_sentences(bn, repack, 2, &o);
	/* the speed unknown, a device left out, nothing fitting */
	unknown[0].mem_free = (struct trit_value){ 0, TRIT_VALUE_UNKNOWN, 0, "no driver" };
	unknown[1].mem_bandwidth = (struct trit_value){ 0, TRIT_VALUE_UNKNOWN, 0, "not measured" };
	same_sentences(l8, unknown, 2, &o);
	o = opts(131072);
	same_sentences(l8, unknown, 2, &o);
	trit_model_close(l8);
	trit_model_close(bn);
}
END_TEST

static Suite *reasons_suite(void)
{
	Suite *s = suite_create("plan_reasons");
	struct {
		const char *name;
		const TTest *fn;
	} cases[] = {
		{ "forced_gpu", forced_gpu_too_small_says_nothing_fits_with_its_bytes },
		{ "limit", a_limit_caps_usable_memory_and_names_where_it_was_set },
		{ "format", repack_format_is_a_number_and_its_reason_a_code },
		{ "templates", every_code_has_a_template_that_expands_completely },
		{ "unknown", unknown_codes_and_short_buffers_are_handled },
		{ "documented", every_code_is_documented },
		{ "text_json", text_and_json_reports_say_the_same_sentences },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		TCase *tc = tcase_create(cases[i].name);
		tcase_add_checked_fixture(tc, setup, teardown);
		tcase_set_timeout(tc, 120);
		tcase_add_test(tc, cases[i].fn);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	return test_run_suite(reasons_suite());
}
