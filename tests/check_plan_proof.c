/*
 * check_plan_proof.c - the estimate's buffers are the forward pass's: the
 * activation arena is exec/forward.c's worst-case ubatch arena, the KV cache
 * exec/kvcache.c's exact bytes; where the graph cannot size a placement the
 * formula is used and a note says why; the process baseline and the host
 * buffers trit run holds are named buffers of the CPU device. (The measured
 * side, peak RSS against the plan, is tests/plan-proof.sh.)
 */
#include <build-config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/forward.h"
#include "exec/kvcache.h"
#include "model/model.h"
#include "plan/estimate.h"
#include "support/support.h"
#include "text/sampler.h"

static char tmpdir[64];

static void setup(void)
{
	strcpy(tmpdir, "/tmp/trit-planproof-XXXXXX");
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

/* Estimate m on n_devs CPU devices running I2_S, layers [0, split) on the
 * first and the rest, with embeddings and output, on the last. */
static void estimate(const struct trit_model *m, uint32_t n_ctx, uint32_t u, uint32_t n_devs,
                     uint32_t split, struct trit_estimate *e)
{
	struct trit_estimate_device d[2] = {
		{ .name = "cpu0", .is_cpu = 1, .overhead = 77777777, .overhead_source = "test",
		  .matmul_types = TRIT_TYPE_BIT(TRIT_TYPE_I2_S), .ternary_pref = -1 },
		{ .name = "cpu1", .is_cpu = 1, .matmul_types = TRIT_TYPE_BIT(TRIT_TYPE_I2_S),
		  .ternary_pref = -1 },
	};
	struct trit_estimate_opts o = { .n_ctx = n_ctx, .n_ubatch = u, .n_seq = 1,
	                                .kv_type = TRIT_KV_F16, .headroom = -1,
	                                .host_tokenizer = 12345, .sampler_history = 64 };
	uint32_t *layers = calloc(m->hp.n_layer, sizeof *layers);
	struct trit_placement p = { .layer_device = layers, .embd_device = n_devs - 1,
	                            .output_device = n_devs - 1 };
	char err[512];

	ck_assert_ptr_nonnull(layers);
	for (uint32_t il = split; il < m->hp.n_layer; il++)
		layers[il] = n_devs - 1;
	ck_assert_msg(trit_estimate_run(m, &o, &p, d, n_devs, e, err, sizeof err) == 0, "%s", err);
	free(layers);
}

static int has_note(const struct trit_estimate *e, const char *part)
{
	for (uint32_t i = 0; i < e->n_notes; i++)
		if (strstr(e->notes[i], part))
			return 1;
	return 0;
}

static void check_graph_sized(const char *shape, const char *type, uint32_t u)
{
	struct trit_model *m = model(shape, type);
	struct trit_estimate e;
	uint64_t arena = 0, kv = 0;
	char err[512];

	estimate(m, 256, u, 1, 0, &e);
	ck_assert_msg(trit_forward_model_arena_bytes(m, 0, 256, TRIT_TYPE_F16, u, 0, &arena, NULL,
	                                             err, sizeof err) == 0, "%s", err);
	ck_assert_msg(trit_kvcache_bytes(&m->hp, 256, TRIT_TYPE_F16, &kv, err, sizeof err) == 0,
	              "%s", err);
	ck_assert_uint_gt(arena, 0);
	ck_assert_uint_eq(e.device[0][TRIT_MEM_ACTIVATIONS], arena);
	ck_assert_uint_eq(trit_estimate_named(&e, 0, "act.arena"), arena);
	ck_assert_uint_eq(e.device[0][TRIT_MEM_KV], kv);
	for (uint32_t il = 0; il < m->hp.n_layer; il++) {
		char name[32];
		uint64_t one = 0;
		snprintf(name, sizeof name, "blk.%u.kv", il);
		ck_assert(trit_kvcache_layer_bytes(&m->hp, il, 256, TRIT_TYPE_F16, &one, err,
		                                   sizeof err) == 0);
		ck_assert_uint_eq(trit_estimate_named(&e, 0, name), one);
	}
	ck_assert(!has_note(&e, "by formula"));
	trit_estimate_free(&e);
	trit_model_close(m);
}

START_TEST(activations_and_kv_are_the_forward_pass_buffers)
{
	check_graph_sized("BitNet-b1.58-2B-4T", "I2_S", 16);
	check_graph_sized("tiny-llama", "F16", 64);
}
END_TEST

/* trit perplexity's plan: with all_logits the arena is the forward pass's
 * with every token's logits (a ubatch of 128256-float rows for BitNet
 * b1.58 2B4T), larger than the last token's only. */
START_TEST(an_all_logits_plan_counts_the_all_logits_arena)
{
	struct trit_model *m = model("BitNet-b1.58-2B-4T", "I2_S");
	struct trit_estimate_device d = { .name = "cpu0", .is_cpu = 1,
	                                  .matmul_types = TRIT_TYPE_BIT(TRIT_TYPE_I2_S),
	                                  .ternary_pref = -1 };
	struct trit_estimate_opts o = { .n_ctx = 256, .n_ubatch = 64, .n_seq = 1,
	                                .kv_type = TRIT_KV_F16, .headroom = -1,
	                                .sampler_history = -1, .all_logits = 1 };
	uint32_t *layers = calloc(m->hp.n_layer, sizeof *layers);
	struct trit_placement p = { .layer_device = layers };
	struct trit_estimate e;
	uint64_t all = 0, last = 0;
	char err[512];

	ck_assert_ptr_nonnull(layers);
	ck_assert_msg(trit_estimate_run(m, &o, &p, &d, 1, &e, err, sizeof err) == 0, "%s", err);
	ck_assert(trit_forward_model_arena_bytes(m, 0, 256, TRIT_TYPE_F16, 64, 1, &all, NULL, err,
	                                         sizeof err) == 0);
	ck_assert(trit_forward_model_arena_bytes(m, 0, 256, TRIT_TYPE_F16, 64, 0, &last, NULL, err,
	                                         sizeof err) == 0);
	/* the 64 logit rows live in the arena at once (other buffers may reuse the rest) */
	ck_assert_uint_gt(all, last);
	ck_assert_uint_ge(all, 64ull * m->hp.n_vocab * 4);
	ck_assert_uint_eq(trit_estimate_named(&e, 0, "act.arena"), all);
	trit_estimate_free(&e);
	free(layers);
	trit_model_close(m);
}
END_TEST

/* A split counts each device's share of the forward pass's arenas exactly
 * (the graph split as the forward pass splits it), and the host buffer the
 * residual stream crosses through on the CPU. */
START_TEST(a_split_placement_counts_each_devices_arena)
{
	struct trit_model *m = model("BitNet-b1.58-2B-4T", "I2_S");
	struct trit_estimate e;
	uint32_t *layers = calloc(m->hp.n_layer, sizeof *layers);
	char err[512];

	ck_assert_ptr_nonnull(layers);
	for (uint32_t il = 10; il < m->hp.n_layer; il++)
		layers[il] = 1;
	estimate(m, 256, 16, 2, 10, &e);
	ck_assert(!has_note(&e, "by formula"));
	for (uint32_t d = 0; d < 2; d++) {
		uint64_t want = 0;
		struct trit_forward_place pl = { layers, 1, 1, d, 2, NULL };
		ck_assert_msg(trit_forward_model_split_arena_bytes(m, 0, 256, TRIT_TYPE_F16, 16, 0, &pl,
		                                                   &want, err, sizeof err) == 0,
		              "%s", err);
		ck_assert_uint_gt(want, 0);
		ck_assert_uint_eq(trit_estimate_named(&e, d, "act.arena"), want);
		ck_assert_uint_eq(trit_estimate_named(&e, d, "act.ffn"), 0);
	}
	ck_assert_uint_eq(trit_estimate_named(&e, 0, "host.crossing"), 16u * m->hp.n_embd * 4);
	free(layers);
	trit_estimate_free(&e);
	trit_model_close(m);
}
END_TEST

START_TEST(a_type_the_graph_cannot_run_falls_back_to_the_formula_naming_it)
{
	struct trit_model *m = model("Mistral-7B-v0.3", "Q8_0"); /* output.weight is Q6_K */
	struct trit_estimate e;

	estimate(m, 256, 8, 1, 0, &e);
	ck_assert(has_note(&e, "graph builder cannot size this model"));
	ck_assert(has_note(&e, "Q6_K"));
	ck_assert_uint_gt(trit_estimate_named(&e, 0, "act.scores"), 0);
	trit_estimate_free(&e);
	trit_model_close(m);
}
END_TEST

START_TEST(process_baseline_and_host_buffers_are_named_on_the_cpu)
{
	struct trit_model *m = model("tiny-llama", "F16");
	struct trit_estimate e;
	uint64_t nv = m->hp.n_vocab;

	estimate(m, 256, 16, 1, 0, &e);
	ck_assert_uint_eq(trit_estimate_named(&e, 0, "process.baseline"), 77777777);
	ck_assert_uint_eq(trit_estimate_named(&e, 0, "host.logits"), nv * 4);
	ck_assert_uint_eq(trit_estimate_named(&e, 0, "host.sampler"),
	                  trit_sampler_bytes((int32_t)nv, 64));
	ck_assert_uint_ge(trit_sampler_bytes((int32_t)nv, 64), nv * 32);
	ck_assert_uint_eq(trit_estimate_named(&e, 0, "host.tokenizer"), 12345);
	ck_assert_uint_eq(e.device[0][TRIT_MEM_OVERHEAD],
	                  77777777 + nv * 4 + trit_sampler_bytes((int32_t)nv, 64) + 12345);
	trit_estimate_free(&e);
	trit_model_close(m);
}
END_TEST

static Suite *plan_proof_suite(void)
{
	Suite *s = suite_create("plan_proof");
	const struct {
		const char *name;
		const TTest *fn;
	} cases[] = {
		{ "graph", activations_and_kv_are_the_forward_pass_buffers },
		{ "all_logits", an_all_logits_plan_counts_the_all_logits_arena },
		{ "split", a_split_placement_counts_each_devices_arena },
		{ "type", a_type_the_graph_cannot_run_falls_back_to_the_formula_naming_it },
		{ "host", process_baseline_and_host_buffers_are_named_on_the_cpu },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		TCase *tc = tcase_create(cases[i].name);
		tcase_add_checked_fixture(tc, setup, teardown);
		tcase_set_timeout(tc, 60);
		tcase_add_test(tc, cases[i].fn);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	return test_run_suite(plan_proof_suite());
}
