/*
 * check_parallel.c - tensor, pipeline and expert parallelism (plan/parallel.h,
 * plan/pplan.h) against hand computations on Llama-3.1-70B and Mixtral-8x7B
 * shapes: one rank's weights and KV cache under tp (KV heads replicated when
 * tp exceeds them), pp (vLLM's layer partition, embeddings first, output
 * last) and ep (whole experts); the vocabulary padded to 64 rows; degrees a
 * model does not suit refused with the number; ranks placed on GPUs in order
 * and a deployment that does not fit saying which rank and why.
 */
#include <build-config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "model/names.h"
#include "plan/parallel.h"
#include "plan/pplan.h"
#include "support/support.h"

#define GIB (UINT64_C(1) << 30)

static char tmpdir[64];

static void setup(void)
{
	strcpy(tmpdir, "/tmp/trit-parallel-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
	if (test_remove_tree(tmpdir) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

static struct trit_model *model(const char *shape)
{
	char out[256], err[512];
	struct trit_model *m;

	snprintf(out, sizeof out, "%s/%s.gguf", tmpdir, shape);
	test_genmodel_file(shape, "gguf", "F16", out);
	ck_assert_msg(trit_model_open(out, &m, err, sizeof err) == 0, "%s", err);
	return m;
}

/* Eight 80 GiB GPUs, 90% usable, no overhead (a described DGX H100). */
static void gpus8(struct trit_pplan_gpu *g, uint32_t n, uint64_t usable)
{
	for (uint32_t i = 0; i < n; i++) {
		memset(&g[i], 0, sizeof g[i]);
		snprintf(g[i].name, sizeof g[i].name, "test/gpu%u", i);
		g[i].free = 80 * GIB;
		g[i].usable = usable;
	}
}

static void plan(const struct trit_model *m, uint32_t tp, uint32_t pp, uint32_t ep,
                 uint32_t n_gpus, uint64_t usable, struct trit_pplan *p)
{
	struct trit_estimate_opts o = { .n_ctx = 8192, .n_seq = 1, .kv_type = TRIT_KV_F16,
	                                .headroom = -1, .n_ubatch = 512 };
	struct trit_parallel par = { tp, pp, ep };
	struct trit_pplan_gpu g[16];
	char err[512];

	gpus8(g, n_gpus, usable);
	ck_assert_msg(trit_pplan_make(m, &o, &par, g, n_gpus, p, err, sizeof err) == 0, "%s", err);
}

/* Bytes of the tensors no rule shards: norms, RoPE tables. */
static uint64_t replicated(const struct trit_model *m)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < m->n_tensors; i++) {
		const struct trit_model_tensor *t = &m->tensors[i];
		if (!trit_role_is_matrix(t->role) && t->role != TRIT_ROLE_TOKEN_EMBD &&
		    t->role != TRIT_ROLE_OUTPUT)
			sum += t->n_bytes;
	}
	return sum;
}

static uint64_t role_bytes(const struct trit_model *m, enum trit_role r, int32_t layer)
{
	for (size_t i = 0; i < m->n_tensors; i++)
		if (m->tensors[i].role == r && m->tensors[i].layer == layer &&
		    m->tensors[i].part == TRIT_PART_WEIGHT)
			return m->tensors[i].n_bytes;
	return 0;
}

/* ----------------------------------------------------------------- pp */

/* vLLM's get_pp_indices: n / pp each, the remainder on the stages before
 * the last, from the second-to-last back; its own examples and tests. */
START_TEST(stage_layers_follow_vllms_partition)
{
	static const struct {
		uint32_t n, pp, want[4];
	} cases[] = {
		{ 32, 4, { 8, 8, 8, 8 } }, { 22, 4, { 5, 6, 6, 5 } }, { 5, 3, { 2, 2, 1 } },
		{ 4, 3, { 1, 2, 1 } }, { 3, 2, { 2, 1 } }, { 61, 4, { 15, 15, 16, 15 } },
		{ 61, 2, { 31, 30 } }, { 80, 1, { 80 } },
	};

	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		uint32_t next = 0;
		for (uint32_t s = 0; s < cases[c].pp; s++) {
			uint32_t first, count;
			trit_parallel_stage_layers(cases[c].n, cases[c].pp, s, &first, &count);
			ck_assert_msg(first == next && count == cases[c].want[s],
			              "%u layers over %u stages: stage %u has %u from %u, want %u from %u",
			              cases[c].n, cases[c].pp, s, count, first, cases[c].want[s], next);
			next += count;
		}
		ck_assert_uint_eq(next, cases[c].n);
	}
}
END_TEST

/* ----------------------------------------------------------------- tp */

/* Llama-3.1-70B, F16, tp 8: per layer q and o 8192x8192x2/8, k and v one of
 * 8 KV heads (8192x128x2), gate, up and down 8192x28672x2/8; embeddings and
 * head 128256 rows (a multiple of 64) / 8 = 16032 rows of 8192 x 2 bytes;
 * norms whole. KV cache: 80 layers x 8192 cells x 1 head x 128 x 2 x (K+V). */
START_TEST(tp8_holds_an_eighth_of_llama_70b_and_one_kv_head)
{
	struct trit_model *m = model("Llama-3.1-70B");
	struct trit_pplan p;
	uint64_t layer = 2 * (8192ull * 8192 * 2 / 8) + 2 * (8192ull * 128 * 2) +
	                 3 * (8192ull * 28672 * 2 / 8);
	uint64_t vocab = 2 * (16032ull * 8192 * 2);

	plan(m, 8, 1, 1, 8, 72 * GIB, &p);
	ck_assert_uint_eq(p.est.device[0][TRIT_MEM_WEIGHTS],
	                  80 * layer + vocab + replicated(m));
	ck_assert_uint_eq(p.est.device[0][TRIT_MEM_KV], 80ull * 8192 * 128 * 2 * 2);
	ck_assert_uint_eq(p.n_ranks, 8);
	ck_assert_int_eq(p.fits, 1);
	for (uint32_t r = 0; r < 8; r++) {
		ck_assert_uint_eq(p.ranks[r].gpu, r);
		ck_assert_uint_eq(p.ranks[r].need, p.est.device_total[0]);
	}
	trit_pplan_free(&p);
	trit_model_close(m);
}
END_TEST

/* tp 16 over 8 KV heads: each rank still holds one whole KV head (vLLM
 * replicates them), so k, v and the KV cache are those of tp 8. */
START_TEST(tp16_replicates_kv_heads)
{
	struct trit_model *m = model("Llama-3.1-70B");
	struct trit_pplan p8, p16;
	uint64_t q_o_ffn8 = 2 * (8192ull * 8192 * 2 / 8) + 3 * (8192ull * 28672 * 2 / 8);

	plan(m, 8, 1, 1, 8, 72 * GIB, &p8);
	plan(m, 16, 1, 1, 16, 72 * GIB, &p16);
	ck_assert_uint_eq(p16.est.device[0][TRIT_MEM_KV], p8.est.device[0][TRIT_MEM_KV]);
	ck_assert_uint_eq(p8.est.device[0][TRIT_MEM_WEIGHTS] - p16.est.device[0][TRIT_MEM_WEIGHTS],
	                  80 * (q_o_ffn8 / 2) + 2 * (16032ull - 8016) * 8192 * 2);
	trit_pplan_free(&p8);
	trit_pplan_free(&p16);
	trit_model_close(m);
}
END_TEST

/* GPT-2's 50257 rows pad to 50304 = 786 x 64 before the split: 12576 rows
 * a rank at tp 4; position embeddings and norms stay whole. */
START_TEST(vocabulary_is_padded_to_64_rows_then_split)
{
	struct trit_model *m = model("GPT-2");
	enum trit_shard_rule rule;
	int seen = 0;

	for (size_t i = 0; i < m->n_tensors; i++) {
		const struct trit_model_tensor *t = &m->tensors[i];
		uint64_t b = trit_parallel_tensor_bytes(m, t, t->n_bytes, 4, 1, &rule);
		if (t->role == TRIT_ROLE_TOKEN_EMBD && t->part == TRIT_PART_WEIGHT) {
			ck_assert_uint_eq(t->ne[1], 50257);
			ck_assert_uint_eq(b, t->n_bytes / 50257 * 12576);
			ck_assert_int_eq(rule, TRIT_SHARD_VOCAB);
			seen++;
		}
		if ((t->role == TRIT_ROLE_POS_EMBD || t->role == TRIT_ROLE_OUTPUT_NORM) &&
		    t->part == TRIT_PART_WEIGHT) {
			ck_assert_uint_eq(b, t->n_bytes);
			ck_assert_int_eq(rule, TRIT_SHARD_REPLICATED);
			seen++;
		}
		/* tp 1: nothing changes */
		ck_assert_uint_eq(trit_parallel_tensor_bytes(m, t, t->n_bytes, 1, 1, NULL), t->n_bytes);
	}
	ck_assert_int_eq(seen, 3);
	trit_model_close(m);
}
END_TEST

/* ----------------------------------------------------------------- pp */

/* Llama-3.1-70B, pp 2: stage 0 holds layers 0-39 and the embeddings,
 * stage 1 layers 40-79, the output norm and the head; each stage's KV cache
 * is its 40 layers'. */
START_TEST(pp2_splits_llama_70b_by_whole_layers)
{
	struct trit_model *m = model("Llama-3.1-70B");
	struct trit_pplan p;
	uint64_t s0 = 0, s1 = 0;

	/* outside the layers: the embeddings' group on stage 0, the rest
	 * (output norm and head, RoPE tables) on the last stage */
	for (size_t i = 0; i < m->n_tensors; i++) {
		const struct trit_model_tensor *t = &m->tensors[i];
		if (t->layer < 0)
			*(trit_role_group(t->role) == TRIT_GROUP_EMBEDDING ? &s0 : &s1) += t->n_bytes;
	}
	for (uint32_t il = 0; il < 80; il++)
		*(il < 40 ? &s0 : &s1) += m->layer_bytes[il];
	plan(m, 1, 2, 1, 2, 72 * GIB, &p);
	ck_assert_uint_eq(p.first[1], 40);
	ck_assert_uint_eq(p.est.device[0][TRIT_MEM_WEIGHTS], s0);
	ck_assert_uint_eq(p.est.device[1][TRIT_MEM_WEIGHTS], s1);
	ck_assert_uint_eq(p.est.device[0][TRIT_MEM_KV], 40ull * 8192 * 8 * 128 * 2 * 2);
	ck_assert_uint_eq(p.est.device[1][TRIT_MEM_KV], 40ull * 8192 * 8 * 128 * 2 * 2);
	/* 65 GiB of weights a stage: 72 GiB usable does not hold it with 20% headroom */
	ck_assert_int_eq(p.fits, 0);
	ck_assert_msg(strstr(p.why, "stage 0 rank 0 needs") && strstr(p.why, "test/gpu0"),
	              "%s", p.why);
	trit_pplan_free(&p);
	trit_model_close(m);
}
END_TEST

/* ----------------------------------------------------------------- ep */

/* Mixtral-8x7B, ep 8: one whole expert (gate, up, down 4096x14336x2 each)
 * per layer per rank; attention, router, norms and vocabulary whole. With
 * tp 2 as well, the attention is halved (4 of 8 KV heads) and the 32000
 * rows (500 x 64) split in two. */
START_TEST(ep8_holds_one_whole_expert_of_mixtral)
{
	struct trit_model *m = model("Mixtral-8x7B");
	struct trit_pplan p, p2;
	uint64_t expert = 3 * (4096ull * 14336 * 2), attn = 0, router = 0, vocab;

	for (int32_t il = 0; il < 32; il++) {
		attn += role_bytes(m, TRIT_ROLE_ATTN_Q, il) + role_bytes(m, TRIT_ROLE_ATTN_K, il) +
		        role_bytes(m, TRIT_ROLE_ATTN_V, il) + role_bytes(m, TRIT_ROLE_ATTN_OUT, il);
		router += role_bytes(m, TRIT_ROLE_FFN_ROUTER, il);
	}
	ck_assert_uint_gt(router, 0);
	vocab = role_bytes(m, TRIT_ROLE_TOKEN_EMBD, -1) + role_bytes(m, TRIT_ROLE_OUTPUT, -1);
	plan(m, 1, 1, 8, 8, 72 * GIB, &p);
	ck_assert_uint_eq(p.stage_ranks, 8);
	ck_assert_uint_eq(p.est.device[0][TRIT_MEM_WEIGHTS],
	                  32 * expert + attn + router + vocab + replicated(m));
	ck_assert_uint_eq(p.est.device[0][TRIT_MEM_KV], 32ull * 8192 * 8 * 128 * 2 * 2);
	plan(m, 2, 1, 8, 8, 72 * GIB, &p2);
	ck_assert_uint_eq(p2.est.device[0][TRIT_MEM_WEIGHTS],
	                  32 * expert + attn / 2 + router + vocab / 2 + replicated(m));
	ck_assert_uint_eq(p2.est.device[0][TRIT_MEM_KV], p.est.device[0][TRIT_MEM_KV] / 2);
	ck_assert_int_eq(p2.fits, 1);
	trit_pplan_free(&p);
	trit_pplan_free(&p2);
	trit_model_close(m);
}
END_TEST

/* ------------------------------------------------------------ refusals */

static void refused(const struct trit_model *m, uint32_t tp, uint32_t pp, uint32_t ep,
                    const char *want)
{
	struct trit_parallel par = { tp, pp, ep };
	char err[512] = "";

	ck_assert_int_eq(trit_parallel_check(m, &par, err, sizeof err), TRIT_EINVAL);
	ck_assert_msg(strstr(err, want), "tp %u pp %u ep %u: \"%s\" lacks \"%s\"", tp, pp, ep, err,
	              want);
}

START_TEST(degrees_a_model_does_not_suit_are_refused_with_the_number)
{
	struct trit_model *llama = model("Llama-3.1-70B"), *mix = model("Mixtral-8x7B");
	struct trit_model *qwen = model("Qwen2.5-7B");
	struct trit_parallel ok = { 8, 4, 1 };

	ck_assert_int_eq(trit_parallel_check(llama, &ok, NULL, 0), 0);
	refused(llama, 3, 1, 1, "does not divide the 64 attention heads of layer 0");
	refused(llama, 1, 81, 1, "more stages than");
	refused(llama, 1, 1, 2, "is not a mixture of experts");
	refused(llama, 0, 1, 1, "tp 0 is outside 1..1024");
	refused(llama, 1, 1, 2048, "ep 2048 is outside");
	/* Qwen2.5-7B's 4 KV heads neither split over tp 14 nor divide it */
	refused(qwen, 14, 1, 1, "the 4 KV heads of layer 0");
	refused(mix, 1, 1, 3, "does not divide the 8 experts");
	refused(mix, 4, 1, 2, "is not a multiple of tensor parallelism 4");
	/* Qwen2.5-7B: 28 heads and 4 KV heads suit tp 28, its FFN width 18944 does not */
	refused(qwen, 28, 1, 1, "feed-forward width 18944");
	trit_model_close(llama);
	trit_model_close(mix);
	trit_model_close(qwen);
}
END_TEST

/* 2 stages x 8 ranks need 16 GPUs: with 8 offered the plan says so. */
START_TEST(missing_gpus_are_named)
{
	struct trit_model *m = model("Mixtral-8x7B");
	struct trit_pplan p;

	plan(m, 8, 2, 1, 8, 72 * GIB, &p);
	ck_assert_int_eq(p.fits, 0);
	ck_assert_uint_eq(p.n_placed, 8);
	ck_assert_uint_eq(p.ranks[8].gpu, TRIT_PPLAN_NO_GPU);
	ck_assert_msg(strstr(p.why, "= 16 GPUs, but 8 are offered"), "%s", p.why);
	trit_pplan_free(&p);
	trit_model_close(m);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("parallel");
	TCase *tc = tcase_create("parallel");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, stage_layers_follow_vllms_partition);
	tcase_add_test(tc, tp8_holds_an_eighth_of_llama_70b_and_one_kv_head);
	tcase_add_test(tc, tp16_replicates_kv_heads);
	tcase_add_test(tc, vocabulary_is_padded_to_64_rows_then_split);
	tcase_add_test(tc, pp2_splits_llama_70b_by_whole_layers);
	tcase_add_test(tc, ep8_holds_one_whole_expert_of_mixtral);
	tcase_add_test(tc, degrees_a_model_does_not_suit_are_refused_with_the_number);
	tcase_add_test(tc, missing_gpus_are_named);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(suite());
}
