/*
 * check_plan.c - the estimator's arithmetic against hand computations for
 * GQA, sliding-window, MoE and MLA models, and the planner's choices on
 * simulated machines (4, 8, 24, 80 GB GPUs; one and two GPUs; 8 and 64 GB
 * hosts): every strategy is reached, hybrid splits are the largest that fit,
 * and when nothing fits the largest context that would is found; BitLinear
 * weights repacked into the format the device runs, byte for byte.
 */
#include <build-config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "plan/estimate.h"
#include "model/model.h"
#include "plan/plan.h"
#include "report/plan_model.h"
#include "support/support.h"

#define GIB (UINT64_C(1) << 30)

static char tmpdir[64];

static void setup(void)
{
	strcpy(tmpdir, "/tmp/trit-plan-XXXXXX");
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

/* Simulated devices: values as a backend would measure them. */
static struct trit_device gpu(const char *id, uint64_t total, uint64_t free_b)
{
	struct trit_device d = {
		.struct_size = sizeof d, .kind = TRIT_DEVICE_GPU, .id = id, .name = "simulated GPU",
		.mem_total = { total, TRIT_VALUE_MEASURED, 0, "test" },
		.mem_free = { free_b, TRIT_VALUE_MEASURED, 0, "test" },
		.mem_bandwidth = { UINT64_C(448000000000), TRIT_VALUE_MEASURED, 0, "test" },
	};
	return d;
}

static struct trit_device cpu(uint64_t ram)
{
	struct trit_device d = {
		.struct_size = sizeof d, .kind = TRIT_DEVICE_CPU, .id = "cpu0", .name = "simulated CPU",
		.mem_total = { ram, TRIT_VALUE_MEASURED, 0, "test" },
		.mem_free = { ram - ram / 16, TRIT_VALUE_MEASURED, 0, "test" },
		.mem_bandwidth = { UINT64_C(50000000000), TRIT_VALUE_MEASURED, 0, "test" },
		.compute_units = { 8, TRIT_VALUE_MEASURED, 0, "test" },
		.hw_threads = { 16, TRIT_VALUE_MEASURED, 0, "test" },
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

static void plan_on(const struct trit_model *m, struct trit_device *d, uint32_t n,
                    const struct trit_plan_opts *o, struct trit_plan_result *p)
{
	struct trit_plan_device pd[4] = { 0 };
	char err[512];

	for (uint32_t i = 0; i < n; i++) {
		pd[i].dev = &d[i];
		pd[i].backend = "sim";
	}
	ck_assert_msg(trit_plan_make(m, pd, n, o, p, err, sizeof err) == 0, "%s", err);
}

/* The first reason of p with `code`, or NULL. */
static const struct trit_plan_reason_rec *reason_of(const struct trit_plan_result *p,
                                                    enum trit_plan_reason code)
{
	for (uint32_t i = 0; i < p->n_reasons; i++)
		if (p->reasons[i].code == code)
			return &p->reasons[i];
	return NULL;
}

/* How many reasons of p have `code`. */
static unsigned reasons_with(const struct trit_plan_result *p, enum trit_plan_reason code)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < p->n_reasons; i++)
		n += p->reasons[i].code == code;
	return n;
}

/* Does the plan's placement, with one more layer moved to GPU slot 0, still fit? */
static int one_more_layer_fits(const struct trit_model *m, const struct trit_plan_result *p,
                               const struct trit_plan_opts *o)
{
	uint32_t n = m->hp.n_layer, *ls = malloc(n * sizeof *ls), gpu_slot = 0, cpu_slot = p->n_slots - 1;
	struct trit_estimate e;
	struct trit_estimate_device ed[4] = { { .name = "a" }, { .name = "b" }, { .name = "c" } };
	struct trit_estimate_opts eo = o->est;
	char err[256];
	int fits = 1, moved = 0;

	ed[cpu_slot].is_cpu = 1;
	memcpy(ls, p->layer_slot, n * sizeof *ls);
	for (uint32_t il = n; il-- > 0 && !moved;)
		if (ls[il] == cpu_slot) {
			ls[il] = gpu_slot;
			moved = 1;
		}
	struct trit_placement pl = { ls, p->embd_slot, p->output_slot };
	eo.n_ubatch = p->ubatch;
	ck_assert_int_eq(trit_estimate_run(m, &eo, &pl, ed, p->n_slots, &e, err, sizeof err), 0);
	for (uint32_t s = 0; s < p->n_slots; s++)
		if (e.device_total[s] + e.device_headroom[s] > p->slots[s].usable)
			fits = 0;
	trit_estimate_free(&e);
	free(ls);
	return moved && fits;
}

/* ------------------------------------------------------------------ KV */

/* Llama-3.1-8B, 4096 tokens, F16: 32 layers x 4096 cells x (8 x 128 K + 8 x 128 V) x 2
 * bytes = 536,870,912 (llama.cpp reports "KV buffer size = 512.00 MiB"). */
START_TEST(kv_cache_of_a_gqa_model_matches_hand_computation)
{
	struct trit_model *m = model("Llama-3.1-8B", "Q4_0");
	uint64_t sum = 0;

	for (uint32_t il = 0; il < 32; il++)
		sum += trit_estimate_kv_layer(m, il, 4096, TRIT_KV_F16, 1);
	ck_assert_uint_eq(sum, 536870912);
	/* Q8_0: rows of 1024 in 32 blocks of 34 bytes */
	ck_assert_uint_eq(trit_estimate_kv_layer(m, 0, 4096, TRIT_KV_Q8_0, 1), 4096 * 2 * 1088);
	ck_assert_uint_eq(trit_estimate_kv_layer(m, 0, 4096, TRIT_KV_F32, 1), 4096 * 2 * 4096);
	/* tensor parallel over 2 ranks: each holds 4 of the 8 KV heads */
	ck_assert_uint_eq(trit_estimate_kv_layer(m, 0, 4096, TRIT_KV_F16, 2), 536870912 / 32 / 2);
	trit_model_close(m);
}
END_TEST

/* Gemma-2-9B, 8192 tokens, ubatch 512, F16; K and V rows of 8 heads x 256 = 2048
 * elements each, so (2048 + 2048) x 2 = 8192 bytes a cell:
 *   21 global layers: 8192 cells x 8192 bytes                         = 67,108,864 each
 *   21 sliding layers: min(8192, pad256(4096 + 512) = 4608) cells     = 37,748,736 each
 *   total = 21 x (67,108,864 + 37,748,736) = 2,202,009,600 */
START_TEST(kv_cache_caps_sliding_window_layers)
{
	struct trit_model *m = model("Gemma-2-9B", "F16");
	uint32_t *ls = calloc(m->hp.n_layer, sizeof *ls);
	struct trit_estimate_device d = { .name = "x", .is_cpu = 1 };
	struct trit_placement pl = { ls, 0, 0 };
	struct trit_estimate_opts o = { .n_ctx = 8192, .n_ubatch = 512, .n_seq = 1,
	                                .kv_type = TRIT_KV_F16, .headroom = -1 };
	struct trit_estimate e;
	char err[256];

	ck_assert_int_eq(trit_estimate_run(m, &o, &pl, &d, 1, &e, err, sizeof err), 0);
	ck_assert_uint_eq(e.kv_cells[0], 4608);
	ck_assert_uint_eq(e.kv_cells[1], 8192);
	ck_assert_uint_eq(e.kv_layer[0], 37748736);
	ck_assert_uint_eq(e.kv_layer[1], 67108864);
	ck_assert_uint_eq(e.totals[TRIT_MEM_KV], 2202009600u);
	ck_assert_uint_eq(e.totals[TRIT_MEM_WEIGHTS], m->n_bytes);
	trit_estimate_free(&e);
	free(ls);
	trit_model_close(m);
}
END_TEST

/* Mixtral-8x7B, 32768 tokens, Q8_0 cache: 32 x 32768 x 2 x 1088 = 2,281,701,376;
 * DeepSeek-V2-Lite (MLA), 4096 tokens, F16: the latent (512) plus the RoPE
 * key (64), one row per cell: 27 x 4096 x 576 x 2 = 127,401,984. */
START_TEST(kv_cache_of_moe_and_mla_models_matches_hand_computation)
{
	struct trit_model *m = model("Mixtral-8x7B", "Q4_0"), *d = model("DeepSeek-V2-Lite", "Q8_0");
	uint64_t sum = 0;

	for (uint32_t il = 0; il < 32; il++)
		sum += trit_estimate_kv_layer(m, il, 32768, TRIT_KV_Q8_0, 1);
	ck_assert_uint_eq(sum, 2281701376u);
	sum = 0;
	for (uint32_t il = 0; il < 27; il++)
		sum += trit_estimate_kv_layer(d, il, 4096, TRIT_KV_F16, 1);
	ck_assert_uint_eq(sum, 127401984);
	trit_model_close(m);
	trit_model_close(d);
}
END_TEST

/* ------------------------------------------------------------------ plans */

START_TEST(eight_gigabyte_gpu_gets_a_hybrid_split_that_is_the_largest_that_fits)
{
	struct trit_model *m = model("Llama-3.1-8B", "Q4_0");
	struct trit_device d[2] = { gpu("gpu0", 8 * GIB, 7 * GIB + GIB / 2), cpu(16 * GIB) };
	struct trit_plan_opts o = opts(8192);
	struct trit_plan_result p;

	/* 8K context: 4.3 GiB of weights and 1 GiB of KV: every layer fits on the GPU,
	 * the token embeddings stay on the CPU */
	plan_on(m, d, 2, &o, &p);
	ck_assert_str_eq(trit_strategy_name(p.strategy), "hybrid");
	ck_assert_uint_eq(p.slots[0].n_layers, 32);
	ck_assert_uint_eq(p.embd_slot, 1);
	trit_plan_result_free(&p);

	/* 32K context: 4 GiB of KV; only some layers fit */
	o = opts(32768);
	plan_on(m, d, 2, &o, &p);
	ck_assert_str_eq(trit_strategy_name(p.strategy), "hybrid");
	ck_assert_uint_gt(p.slots[0].n_layers, 0);
	ck_assert_uint_lt(p.slots[0].n_layers, 32);
	/* the GPU has the last layers; the CPU the first, and the token embeddings */
	ck_assert_uint_eq(p.layer_slot[31], 0);
	ck_assert_uint_eq(p.layer_slot[0], 1);
	ck_assert_uint_eq(p.embd_slot, 1);
	for (uint32_t s = 0; s < p.n_slots; s++)
		ck_assert_uint_le(p.est.device_total[s] + p.est.device_headroom[s], p.slots[s].usable);
	ck_assert_msg(!one_more_layer_fits(m, &p, &o), "one more layer would still fit");
	ck_assert(p.tokens_per_s > 0);
	trit_plan_result_free(&p);
	trit_model_close(m);
}
END_TEST

/* Llama-3.2-1B ties its output to the token embeddings: a hybrid plan with the
 * output on the GPU and the embeddings on the CPU holds the matrix twice. */
START_TEST(tied_output_on_another_device_gets_a_copy_of_the_embeddings)
{
	struct trit_model *m = model("Llama-3.2-1B", "Q4_0");
	struct trit_device d[2] = { gpu("gpu0", 2 * GIB, 2 * GIB - GIB / 4), cpu(16 * GIB) };
	struct trit_plan_opts o = opts(8192);
	struct trit_plan_result p;
	uint64_t embd = 0;

	for (size_t i = 0; i < m->n_tensors; i++)
		if (m->tensors[i].role == TRIT_ROLE_TOKEN_EMBD)
			embd = m->tensors[i].n_bytes;
	ck_assert_int_eq(m->hp.tied_embeddings, 1);
	plan_on(m, d, 2, &o, &p);
	ck_assert_str_eq(trit_strategy_name(p.strategy), "hybrid");
	ck_assert_uint_eq(p.output_slot, 0);
	ck_assert_uint_eq(p.embd_slot, 1);
	ck_assert_uint_eq(p.est.totals[TRIT_MEM_WEIGHTS], m->n_bytes + embd);
	trit_plan_result_free(&p);
	trit_model_close(m);
}
END_TEST

START_TEST(twentyfour_gigabyte_gpu_runs_the_8b_model_alone)
{
	struct trit_model *m = model("Llama-3.1-8B", "Q4_0");
	struct trit_device d[2] = { gpu("gpu0", 24 * GIB, 23 * GIB), cpu(64 * GIB) };
	struct trit_plan_opts o = opts(8192);
	struct trit_plan_result p;

	plan_on(m, d, 2, &o, &p);
	ck_assert_str_eq(trit_strategy_name(p.strategy), "gpu-only");
	ck_assert_uint_eq(p.slots[0].n_layers, 32);
	ck_assert_uint_eq(p.embd_slot, 0);
	ck_assert_uint_eq(p.output_slot, 0);
	ck_assert_uint_eq(p.est.device[0][TRIT_MEM_WEIGHTS], m->n_bytes);
	ck_assert_uint_gt(p.slots[0].workspace_batch, 0);
	trit_plan_result_free(&p);
	trit_model_close(m);
}
END_TEST

START_TEST(eighty_gigabyte_gpu_and_two_24_gigabyte_gpus_split_by_free_memory)
{
	struct trit_model *m = model("Mixtral-8x7B", "Q4_0");
	struct trit_device one[2] = { gpu("gpu0", 80 * GIB, 79 * GIB), cpu(64 * GIB) };
	struct trit_device two[3] = { gpu("gpu0", 24 * GIB, 23 * GIB), gpu("gpu1", 24 * GIB, 23 * GIB),
	                              cpu(128 * GIB) };
	struct trit_plan_opts o = opts(4096);
	struct trit_plan_result p;

	plan_on(m, one, 2, &o, &p);
	ck_assert_str_eq(trit_strategy_name(p.strategy), "gpu-only");
	trit_plan_result_free(&p);
	plan_on(m, two, 3, &o, &p);
	ck_assert_str_eq(trit_strategy_name(p.strategy), "gpu-only");
	ck_assert_uint_eq(p.slots[0].n_layers, 16);
	ck_assert_uint_eq(p.slots[1].n_layers, 16);
	trit_plan_result_free(&p);
	trit_model_close(m);
}
END_TEST

START_TEST(no_gpu_means_cpu_only_with_measured_cores)
{
	struct trit_model *m = model("Llama-3.1-8B", "Q4_0");
	struct trit_device d[1] = { cpu(64 * GIB) };
	struct trit_plan_opts o = opts(8192);
	struct trit_plan_result p;

	const struct trit_plan_reason_rec *r;

	plan_on(m, d, 1, &o, &p);
	ck_assert_str_eq(trit_strategy_name(p.strategy), "cpu-only");
	ck_assert_uint_eq(p.threads, 8);       /* balanced: physical cores */
	ck_assert_ptr_nonnull(r = reason_of(&p, TRIT_REASON_THREADS_CORES));
	ck_assert_double_eq(r->num[0], 8);
	ck_assert_str_eq(r->arg[0], "cpu0");
	ck_assert_str_eq(r->arg[1], "balanced");
	ck_assert_ptr_nonnull(reason_of(&p, TRIT_REASON_CPU_NO_GPU));
	trit_plan_result_free(&p);
	o.priority = TRIT_PRIORITY_THROUGHPUT;
	plan_on(m, d, 1, &o, &p);
	ck_assert_uint_eq(p.threads, 16);      /* throughput: hardware threads */
	ck_assert_ptr_nonnull(r = reason_of(&p, TRIT_REASON_THREADS_HW));
	ck_assert_double_eq(r->num[0], 16);
	trit_plan_result_free(&p);
	o.threads = 3;
	plan_on(m, d, 1, &o, &p);
	ck_assert_uint_eq(p.threads, 3);       /* the operator's setting wins */
	ck_assert_ptr_nonnull(r = reason_of(&p, TRIT_REASON_THREADS_CONFIGURED));
	ck_assert_double_eq(r->num[0], 3);
	ck_assert_ptr_null(reason_of(&p, TRIT_REASON_THREADS_CORES));
	trit_plan_result_free(&p);
	trit_model_close(m);
}
END_TEST

START_TEST(four_gigabyte_gpu_takes_few_layers_or_none)
{
	struct trit_model *m = model("Llama-3.1-8B", "Q4_0");
	struct trit_device d[2] = { gpu("gpu0", 4 * GIB, 3 * GIB + GIB / 2), cpu(16 * GIB) };
	struct trit_plan_opts o = opts(8192);
	struct trit_plan_result p;

	plan_on(m, d, 2, &o, &p);
	ck_assert_str_eq(trit_strategy_name(p.strategy), "hybrid");
	ck_assert_uint_lt(p.slots[0].n_layers, 16);
	ck_assert_msg(!one_more_layer_fits(m, &p, &o), "one more layer would still fit");
	trit_plan_result_free(&p);
	trit_model_close(m);
}
END_TEST

START_TEST(forced_strategies_and_layer_caps_are_honoured)
{
	struct trit_model *m = model("Llama-3.1-8B", "Q4_0");
	struct trit_device d[2] = { gpu("gpu0", 24 * GIB, 23 * GIB), cpu(64 * GIB) };
	struct trit_plan_opts o = opts(8192);
	struct trit_plan_result p;

	o.force = TRIT_STRATEGY_CPU;
	plan_on(m, d, 2, &o, &p);
	ck_assert_str_eq(trit_strategy_name(p.strategy), "cpu-only");
	ck_assert_ptr_nonnull(reason_of(&p, TRIT_REASON_CPU_FORCED));
	ck_assert_uint_eq(reasons_with(&p, TRIT_REASON_HYBRID_SPLIT) +
	                  reasons_with(&p, TRIT_REASON_GPU_ONLY_FITS), 0);
	trit_plan_result_free(&p);
	o.force = TRIT_STRATEGY_AUTO;
	o.max_gpu_layers = 10;
	plan_on(m, d, 2, &o, &p);
	ck_assert_str_eq(trit_strategy_name(p.strategy), "hybrid");
	ck_assert_uint_eq(p.slots[0].n_layers, 10);
	/* the split says 10 of 32 layers, capped at 10, the output with them */
	const struct trit_plan_reason_rec *r = reason_of(&p, TRIT_REASON_HYBRID_SPLIT);
	ck_assert_ptr_nonnull(r);
	ck_assert_double_eq(r->num[0], 10);
	ck_assert_double_eq(r->num[1], 32);
	ck_assert_double_eq(r->num[2], 1);
	ck_assert_double_eq(r->num[4], 10);
	trit_plan_result_free(&p);
	trit_model_close(m);
}
END_TEST

START_TEST(nothing_fits_reports_the_largest_context_that_would)
{
	struct trit_model *m = model("Llama-3.1-8B", "Q4_0");
	struct trit_device d[1] = { cpu(8 * GIB) };
	struct trit_plan_opts o = opts(131072);
	struct trit_plan_result p;

	plan_on(m, d, 1, &o, &p);
	ck_assert_str_eq(trit_strategy_name(p.strategy), "none");
	ck_assert_uint_gt(p.max_ctx, 256);
	ck_assert_uint_lt(p.max_ctx, 131072);
	uint32_t max_ctx = p.max_ctx;
	/* one strategy reason: nothing fits (the search's trial plans left none) */
	const struct trit_plan_reason_rec *r = reason_of(&p, TRIT_REASON_NOTHING_FITS_MAX_CTX);
	ck_assert_ptr_nonnull(r);
	ck_assert_double_eq(r->num[0], 131072);
	ck_assert_double_eq(r->num[1], max_ctx);
	ck_assert_uint_eq(reasons_with(&p, TRIT_REASON_CPU_NO_GPU), 0);
	trit_plan_result_free(&p);
	/* at that context a plan exists; 256 tokens more, none does */
	o.est.n_ctx = max_ctx;
	o.est.n_ubatch = 1;
	plan_on(m, d, 1, &o, &p);
	ck_assert_str_eq(trit_strategy_name(p.strategy), "cpu-only");
	trit_plan_result_free(&p);
	o.est.n_ctx = max_ctx + 256;
	plan_on(m, d, 1, &o, &p);
	ck_assert_str_eq(trit_strategy_name(p.strategy), "none");
	trit_plan_result_free(&p);
	trit_model_close(m);
}
END_TEST

START_TEST(device_with_unknown_free_memory_is_left_out_with_a_note)
{
	struct trit_model *m = model("tiny-llama", "F16");
	struct trit_device d[2] = { gpu("gpu0", 8 * GIB, 7 * GIB), cpu(16 * GIB) };
	struct trit_plan_opts o = opts(512);
	struct trit_plan_result p;

	d[0].mem_free = (struct trit_value){ 0, TRIT_VALUE_UNKNOWN, 0, "driver does not say" };
	plan_on(m, d, 2, &o, &p);
	ck_assert_str_eq(trit_strategy_name(p.strategy), "cpu-only");
	const struct trit_plan_reason_rec *r = reason_of(&p, TRIT_REASON_DEVICE_FREE_UNKNOWN);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->slot, -1);
	ck_assert_double_eq(r->num[0], 0);               /* the first device given */
	ck_assert_str_eq(r->arg[0], "sim");
	ck_assert_str_eq(r->arg[1], "gpu0");
	ck_assert_str_eq(r->arg[2], "driver does not say");
	ck_assert_ptr_nonnull(reason_of(&p, TRIT_REASON_CPU_NO_GPU));
	trit_plan_result_free(&p);
	trit_model_close(m);
}
END_TEST

/* Seed 002: usable = 0.8 x free - weights - 5% of free; batch = clamp(usable /
 * (out x 4 bytes), 1, cap). 4 GiB free, 2.5 GiB weights, out 128256:
 * (3.2 - 2.5 - 0.2) GiB = 536,870,912 / 513,024 = 1046.5 -> 1046. */
START_TEST(workspace_batch_follows_the_seed_rule_on_4_8_24_80_gigabytes)
{
	ck_assert_uint_eq(trit_plan_workspace_batch(4 * GIB, 5 * GIB / 2, 128256, 4, 0.80, 0.05, 2048), 1046);
	ck_assert_uint_eq(trit_plan_workspace_batch(4 * GIB, 5 * GIB / 2, 128256, 4, 0.80, 0.05, 256), 256);
	ck_assert_uint_eq(trit_plan_workspace_batch(8 * GIB, 6 * GIB, 128256, 4, 0.80, 0.05, 256), 1);
	ck_assert_uint_eq(trit_plan_workspace_batch(24 * GIB, 0, 4096, 4, 0.80, 0.05, 256), 256);
	ck_assert_uint_eq(trit_plan_workspace_batch(80 * GIB, 79 * GIB, 4096, 4, 0.80, 0.05, 256), 1);
	/* the overridable 5%: with none kept back, 4 GiB / 2.5 GiB gives (3.2 - 2.5) GiB / 513,024 */
	ck_assert_uint_eq(trit_plan_workspace_batch(4 * GIB, 5 * GIB / 2, 128256, 4, 0.80, 0.0, 2048), 1465);
}
END_TEST

/* ------------------------------------------------------------------ repack */

#define BIT(t) TRIT_TYPE_BIT(TRIT_TYPE_##t)

/* Estimate model m on one CPU device that runs `types`, preferring `pref`. */
static void estimate_on(const struct trit_model *m, uint64_t types, int32_t pref,
                        struct trit_estimate *e)
{
	uint32_t *ls = calloc(m->hp.n_layer, sizeof *ls);
	struct trit_estimate_device d = { .name = "dev0", .is_cpu = 1, .matmul_types = types,
	                                  .ternary_pref = pref };
	struct trit_placement pl = { ls, 0, 0 };
	struct trit_estimate_opts o = { .n_ctx = 4096, .n_ubatch = 1, .n_seq = 1,
	                                .kv_type = TRIT_KV_F16, .headroom = -1 };
	char err[256];

	ck_assert_int_eq(trit_estimate_run(m, &o, &pl, &d, 1, e, err, sizeof err), 0);
	free(ls);
}

/*
 * BitNet-b1.58-2B-4T, 30 layers of seven BitLinear weights (rows x cols):
 * q, o 2560 x 2560; k, v 640 x 2560; gate, up 6912 x 2560; down 2560 x 6912.
 * In the I2_S file each is rows x cols / 4 + 32 bytes:
 *   2 x 1,638,432 + 2 x 409,632 + 3 x 4,423,712 = 17,367,264 a layer, 521,017,920 in all.
 * TL2 (trit/ternary.h): rows / 32 tiles x cols_pad / 96 groups x 640 bytes + 32, cols_pad =
 * 2592 for 2560 (27 groups) and 6912 for 6912 (72 groups):
 *   2560 x 2560: 80 x 27 x 640 + 32 = 1,382,432     640 x 2560: 20 x 27 x 640 + 32 = 345,632
 *   6912 x 2560: 216 x 27 x 640 + 32 = 3,732,512    2560 x 6912: 80 x 72 x 640 + 32 = 3,686,432
 *   a layer: 2 x 1,382,432 + 2 x 345,632 + 2 x 3,732,512 + 3,686,432 = 14,607,584;
 *   30 layers: 438,227,520.
 * The loader's buffers: the largest source (4,423,712, gate/up/down) and the largest
 * repacked tensor (3,732,512, TL2 gate/up): 8,156,224.
 */
START_TEST(i2s_weights_are_repacked_into_tl2_with_exact_padded_bytes)
{
	struct trit_model *m = model("BitNet-b1.58-2B-4T", "I2_S");
	struct trit_estimate e;

	estimate_on(m, BIT(TL2), -1, &e);
	ck_assert_int_eq(e.repack[0].run_type, TRIT_TYPE_TL2);
	ck_assert_uint_eq(e.repack[0].n_repacked, 210);
	ck_assert_uint_eq(e.repack[0].n_as_is, 0);
	ck_assert_uint_eq(e.repack[0].file_bytes, 521017920);
	ck_assert_uint_eq(e.repack[0].repacked_bytes, 438227520);
	ck_assert_uint_eq(e.repack[0].from_types, 1u << TRIT_TYPE_I2_S);
	ck_assert_uint_eq(e.totals[TRIT_MEM_WEIGHTS], m->n_bytes - 521017920 + 438227520);
	ck_assert_uint_eq(e.repack_source, 4423712);
	ck_assert_uint_eq(e.repack_staging, 3732512);
	ck_assert_uint_eq(e.totals[TRIT_MEM_REPACK], 8156224);
	ck_assert_int_eq(e.repack_device, 0);
	/* every buffer of a repacked weight says from what into what */
	for (size_t i = 0; i < e.n_buffers; i++)
		if (strcmp(e.buffers[i].name, "blk.0.ffn_down.weight") == 0) {
			ck_assert_int_eq(e.buffers[i].run_type, TRIT_TYPE_TL2);
			ck_assert_int_eq(e.buffers[i].from_type, TRIT_TYPE_I2_S);
			ck_assert_uint_eq(e.buffers[i].bytes, 3686432);
		}
	trit_estimate_free(&e);

	/* TL1 tiles of 32 rows by pairs of columns: for these shapes (rows a
	 * multiple of 32, columns of 64) exactly the I2_S bytes, 521,017,920 */
	estimate_on(m, BIT(TL1), -1, &e);
	ck_assert_int_eq(e.repack[0].run_type, TRIT_TYPE_TL1);
	ck_assert_uint_eq(e.repack[0].repacked_bytes, 521017920);
	ck_assert_uint_eq(e.totals[TRIT_MEM_WEIGHTS], m->n_bytes);
	ck_assert_uint_eq(e.totals[TRIT_MEM_REPACK], 2 * 4423712);
	trit_estimate_free(&e);
	trit_model_close(m);
}
END_TEST

/* [planner] ternary_format: the forced format wins over the file's own I2_S
 * (which the device runs) and over a preference; a device without it
 * cannot run the weights, and says which format was asked for. */
START_TEST(a_forced_ternary_format_repacks_even_what_runs_as_stored)
{
	struct trit_model *m = model("BitNet-b1.58-2B-4T", "I2_S");
	uint32_t *ls = calloc(m->hp.n_layer, sizeof *ls);
	struct trit_estimate_device d = { .name = "dev0", .is_cpu = 1, .ternary_pref = TRIT_TYPE_TL2,
	                                  .matmul_types = BIT(I2_S) | BIT(TL1) | BIT(TL2),
	                                  .ternary_force = TRIT_TYPE_TL1 };
	struct trit_placement pl = { ls, 0, 0 };
	struct trit_estimate_opts o = { .n_ctx = 4096, .n_ubatch = 1, .n_seq = 1,
	                                .kv_type = TRIT_KV_F16, .headroom = -1 };
	struct trit_estimate e;
	char err[256];

	ck_assert_int_eq(trit_estimate_run(m, &o, &pl, &d, 1, &e, err, sizeof err), 0);
	ck_assert_int_eq(e.repack[0].run_type, TRIT_TYPE_TL1);
	ck_assert_uint_eq(e.repack[0].n_repacked, 210);
	ck_assert_uint_eq(e.repack[0].n_as_is, 0);
	ck_assert_uint_eq(e.repack[0].from_types, 1u << TRIT_TYPE_I2_S);
	trit_estimate_free(&e);

	/* forcing the file's own format keeps it as stored */
	d.ternary_force = TRIT_TYPE_I2_S;
	ck_assert_int_eq(trit_estimate_run(m, &o, &pl, &d, 1, &e, err, sizeof err), 0);
	ck_assert_uint_eq(e.repack[0].n_as_is, 210);
	ck_assert_uint_eq(e.repack[0].n_repacked, 0);
	trit_estimate_free(&e);

	/* a device without the forced kernel: nothing runs, and why says so */
	d.matmul_types = BIT(I2_S) | BIT(TL2);
	d.ternary_force = TRIT_TYPE_TL1;
	ck_assert_int_eq(trit_estimate_run(m, &o, &pl, &d, 1, &e, err, sizeof err), 0);
	ck_assert_uint_eq(e.repack[0].n_no_kernel, 210);
	ck_assert_ptr_nonnull(strstr(e.repack[0].no_kernel_why, "ternary_format = tl1"));
	trit_estimate_free(&e);
	free(ls);
	trit_model_close(m);
}
END_TEST

START_TEST(weights_a_device_runs_stay_as_stored_and_the_rest_stays_untouched)
{
	struct trit_model *m = model("BitNet-b1.58-2B-4T", "I2_S");
	struct trit_estimate e;

	/* the device runs I2_S: nothing is repacked, even when TL2 is preferred */
	estimate_on(m, BIT(I2_S) | BIT(TL2) | BIT(F32), TRIT_TYPE_TL2, &e);
	ck_assert_uint_eq(e.repack[0].n_as_is, 210);
	ck_assert_uint_eq(e.repack[0].as_is_bytes, 521017920);
	ck_assert_uint_eq(e.repack[0].as_is_types, 1u << TRIT_TYPE_I2_S);
	ck_assert_uint_eq(e.repack[0].n_repacked, 0);
	ck_assert_int_eq(e.repack[0].run_type, -1);
	ck_assert_uint_eq(e.totals[TRIT_MEM_WEIGHTS], m->n_bytes);
	ck_assert_uint_eq(e.totals[TRIT_MEM_REPACK], 0);
	trit_estimate_free(&e);

	/* the device runs none of the ternary formats: counted as stored, with a note */
	estimate_on(m, BIT(F32), -1, &e);
	ck_assert_uint_eq(e.repack[0].n_no_kernel, 210);
	ck_assert_uint_eq(e.repack[0].no_kernel_bytes, 521017920);
	ck_assert_uint_eq(e.totals[TRIT_MEM_WEIGHTS], m->n_bytes);
	ck_assert_msg(e.n_notes && strstr(e.notes[0], "cannot run 210 BitLinear weights"), "%s",
	              e.n_notes ? e.notes[0] : "(no note)");
	trit_estimate_free(&e);
	trit_model_close(m);
}
END_TEST

/* With TL1 and TL2 and no measurement the default order picks TL2; a
 * measured preference (trit bench) picks TL1; a preference the device does
 * not run is ignored. */
START_TEST(repack_format_follows_the_default_order_unless_bench_prefers_another)
{
	struct trit_model *m = model("BitNet-b1.58-2B-4T", "I2_S");
	struct trit_estimate e;

	estimate_on(m, BIT(TL1) | BIT(TL2), -1, &e);
	ck_assert_int_eq(e.repack[0].run_type, TRIT_TYPE_TL2);
	trit_estimate_free(&e);
	estimate_on(m, BIT(TL1) | BIT(TL2), TRIT_TYPE_TL1, &e);
	ck_assert_int_eq(e.repack[0].run_type, TRIT_TYPE_TL1);
	trit_estimate_free(&e);
	estimate_on(m, BIT(TL2), TRIT_TYPE_TL1, &e);
	ck_assert_int_eq(e.repack[0].run_type, TRIT_TYPE_TL2);
	trit_estimate_free(&e);
	trit_model_close(m);
}
END_TEST

/*
 * Float BitNet weights are ternarised at load time even on a device with an F16
 * kernel (running them as floats would skip BitNet's quantisation). F16 source
 * a layer: 2 x 2560 x 2560 x 2 + 2 x 640 x 2560 x 2 + 3 x 6912 x 2560 x 2 =
 * 138,936,320 bytes, 4,168,089,600 in all; into I2_S 17,367,264 a layer (above).
 * The largest source is 6912 x 2560 x 2 = 35,389,440 bytes.
 * TQ2_0 (llama.cpp): 66 bytes per 256 weights; repacked into I2_S on a device
 * that runs I2_S only, kept as stored on one that runs TQ2_0.
 */
START_TEST(float_and_tq2_0_bitnet_weights_are_repacked_into_i2s)
{
	struct trit_model *m = model("BitNet-b1.58-2B-4T", "F16");
	struct trit_estimate e;

	estimate_on(m, BIT(F16) | BIT(I2_S), -1, &e);
	ck_assert_uint_eq(e.repack[0].n_repacked, 210);
	ck_assert_int_eq(e.repack[0].run_type, TRIT_TYPE_I2_S);
	ck_assert_uint_eq(e.repack[0].from_types, 1u << TRIT_TYPE_F16);
	ck_assert_uint_eq(e.repack[0].file_bytes, 4168089600u);
	ck_assert_uint_eq(e.repack[0].repacked_bytes, 521017920);
	ck_assert_uint_eq(e.repack_source, 35389440);
	ck_assert_uint_eq(e.repack_staging, 4423712);
	trit_estimate_free(&e);
	estimate_on(m, BIT(F16), -1, &e);
	ck_assert_uint_eq(e.repack[0].n_no_kernel, 210);
	ck_assert_msg(strstr(e.notes[0], "skip its ternary quantisation"), "%s", e.notes[0]);
	trit_estimate_free(&e);
	trit_model_close(m);

	/* 2560 x 2560 / 256 x 66 = 1,689,600 bytes of TQ2_0 for q */
	m = model("BitNet-b1.58-2B-4T", "TQ2_0");
	estimate_on(m, BIT(I2_S), -1, &e);
	ck_assert_uint_eq(e.repack[0].n_repacked, 210);
	ck_assert_uint_eq(e.repack[0].from_types, 1u << TRIT_TYPE_TQ2_0);
	ck_assert_uint_eq(e.repack[0].file_bytes, 30 * (2 * 1689600 + 2 * 422400 + 3 * 4561920));
	ck_assert_uint_eq(e.repack[0].repacked_bytes, 521017920);
	trit_estimate_free(&e);
	estimate_on(m, BIT(TQ2_0) | BIT(I2_S), -1, &e);
	ck_assert_uint_eq(e.repack[0].n_as_is, 210);
	ck_assert_uint_eq(e.repack[0].as_is_types, 1u << TRIT_TYPE_TQ2_0);
	trit_estimate_free(&e);
	trit_model_close(m);
}
END_TEST

/* A Llama model's F16 matrices are not BitLinear weights: never repacked.
 * Hugging Face's U8-packed BitNet weights are, but trit has no packer for
 * them: counted as stored, with the reason. */
START_TEST(non_bitnet_float_weights_are_never_repacked)
{
	struct trit_model *m = model("Llama-3.2-1B", "F16");
	struct trit_estimate e;
	char out[256], err[256];

	estimate_on(m, BIT(I2_S), -1, &e);
	ck_assert_uint_eq(e.repack[0].n_repacked + e.repack[0].n_as_is + e.repack[0].n_no_kernel, 0);
	ck_assert_uint_eq(e.totals[TRIT_MEM_WEIGHTS], m->n_bytes);
	trit_estimate_free(&e);
	trit_model_close(m);

	snprintf(out, sizeof out, "%s/tiny-bitnet", tmpdir);
	test_genmodel_file("tiny-bitnet", "safetensors", NULL, out);
	ck_assert_msg(trit_model_open(out, &m, err, sizeof err) == 0, "%s", err);
	estimate_on(m, BIT(I2_S), -1, &e);
	ck_assert_uint_eq(e.repack[0].n_no_kernel, 14);
	ck_assert_msg(strstr(e.notes[0], "repacks only F32, F16, BF16, TQ2_0 and I2_S"), "%s",
	              e.notes[0]);
	trit_estimate_free(&e);
	trit_model_close(m);
}
END_TEST

/*
 * With `trit bench` results for a CPU that runs TL1 and TL2 (TL1 measured
 * faster), an I2_S BitNet model is repacked into TL1, and decode counts the
 * 521,017,920 bytes of TL1 weights at the measured 10 GB/s and everything
 * else (the tied embedding/output matrix, norms, KV cache) at the CPU's
 * 50 GB/s bandwidth.
 */
START_TEST(bench_results_choose_the_repack_format_and_the_decode_rate)
{
	struct trit_model *m = model("BitNet-b1.58-2B-4T", "I2_S");
	struct trit_device d = cpu(64 * GIB);
	struct trit_plan_opts o = opts(4096);
	struct trit_bench_result r[2] = { { .n_shapes = 0 } };
	struct trit_bench_cache cache = { .results = r, .n = 2, .cap = 2 };
	struct trit_plan_result p;
	uint64_t other;

	d.matmul_types = TRIT_TYPE_BIT(TRIT_TYPE_TL1) | TRIT_TYPE_BIT(TRIT_TYPE_TL2);
	for (int i = 0; i < 2; i++) {
		snprintf(r[i].backend, sizeof r[i].backend, "sim");
		snprintf(r[i].device_id, sizeof r[i].device_id, "cpu0");
		snprintf(r[i].device_name, sizeof r[i].device_name, "simulated CPU");
		r[i].tokens = 1;
		r[i].read_bps = -1;
	}
	r[0].type = TRIT_TYPE_TL1;
	snprintf(r[0].kernel, sizeof r[0].kernel, "TL1");
	r[0].gops = 40;
	r[0].weight_bps = 10e9;
	r[1].type = TRIT_TYPE_TL2;
	snprintf(r[1].kernel, sizeof r[1].kernel, "TL2");
	r[1].gops = 30;
	r[1].weight_bps = 9e9;
	snprintf(cache.path, sizeof cache.path, "bench.json");
	o.bench = &cache;
	plan_on(m, &d, 1, &o, &p);
	ck_assert_str_eq(trit_strategy_name(p.strategy), "cpu-only");
	ck_assert_int_eq(p.est.repack[0].run_type, TRIT_TYPE_TL1);
	ck_assert_uint_eq(p.est.repack[0].repacked_bytes, 521017920);
	ck_assert_uint_eq(p.slots[0].format, TRIT_TYPE_TL1);
	/* the format: TL1 by measurement, TL2 30 and TL1 40 GOP/s, in that order */
	const struct trit_plan_reason_rec *f = reason_of(&p, TRIT_REASON_FORMAT_MEASURED), *k;
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(f->slot, 0);
	ck_assert_double_eq(f->num[0], TRIT_TYPE_TL1);
	ck_assert_str_eq(f->arg[1], "bench.json");
	ck_assert_uint_eq(reasons_with(&p, TRIT_REASON_FORMAT_KERNEL_GOPS), 2);
	k = reason_of(&p, TRIT_REASON_FORMAT_KERNEL_GOPS);
	ck_assert_double_eq(k[0].num[0], 30);
	ck_assert_double_eq(k[0].num[1], TRIT_TYPE_TL2);
	ck_assert_double_eq(k[1].num[0], 40);
	ck_assert_double_eq(k[1].num[1], TRIT_TYPE_TL1);
	/* everything else once, plus the token's embedding row (F16, looked up
	 * besides the tied head reading the whole matrix) */
	other = p.est.device[0][TRIT_MEM_WEIGHTS] - 521017920 + p.est.device[0][TRIT_MEM_KV] +
	        (uint64_t)m->hp.n_embd * 2;
	ck_assert_double_eq_tol(p.tokens_per_s, 1.0 / (521017920 / 10e9 + (double)other / 50e9),
	                        1e-9 * p.tokens_per_s);
	/* the speed: TL1 weights at the kernel's rate, the rest at the bandwidth */
	ck_assert_ptr_nonnull(k = reason_of(&p, TRIT_REASON_SPEED_KERNEL));
	ck_assert_double_eq(k->num[0], 521017920);
	ck_assert_double_eq(k->num[1], 10e9);
	ck_assert_double_eq(k->num[3], TRIT_TYPE_TL1);
	ck_assert_ptr_nonnull(k = reason_of(&p, TRIT_REASON_SPEED_BANDWIDTH));
	ck_assert_double_eq(k->num[0], (double)other);
	ck_assert_double_eq(k->num[1], 50e9);
	ck_assert_ptr_nonnull(k = reason_of(&p, TRIT_REASON_SPEED_TOTAL));
	ck_assert_double_eq(k->num[0], p.tokens_per_s);
	/* and what the report says of them */
	char *say = trit_pm_sentence(&p, TRIT_TOPIC_FORMAT, 0);
	ck_assert_str_eq(say, "TL1: the fastest of its kernels trit bench measured (bench.json): "
	                 "TL2 30.00 GOP/s, TL1 40.00 GOP/s");
	free(say);
	say = trit_pm_sentence(&p, TRIT_TOPIC_SPEED, -2);
	ck_assert_msg(strstr(say, "cpu0: 0.521 GB of TL1 weights / 10.0 GB/s (the TL1 kernel as "
	                     "trit bench measured it) + "), "%s", say);
	free(say);
	trit_plan_result_free(&p);

	/* measured with another kernel.isa than the device reports: not used */
	snprintf(r[0].isa, sizeof r[0].isa, "avx512");
	plan_on(m, &d, 1, &o, &p);
	ck_assert_int_eq(p.est.repack[0].run_type, TRIT_TYPE_TL2);
	trit_plan_result_free(&p);
	trit_model_close(m);
}
END_TEST

/*
 * A quick `trit bench` result is kept beside a --full one of the same kernel
 * (they have different keys in the cache), and the planner takes the --full
 * one whichever came first; with only a quick one it takes that.
 */
START_TEST(a_full_bench_result_is_used_over_a_quick_one)
{
	struct trit_model *m = model("BitNet-b1.58-2B-4T", "I2_S");
	struct trit_device d = cpu(64 * GIB);
	struct trit_plan_opts o = opts(4096);
	struct trit_bench_result q = { .n_shapes = 0 }, f;
	struct trit_bench_cache cache = { .n = 0 };
	const struct trit_plan_reason_rec *k;
	struct trit_plan_result p;

	d.matmul_types = TRIT_TYPE_BIT(TRIT_TYPE_I2_S);
	snprintf(q.backend, sizeof q.backend, "sim");
	snprintf(q.device_id, sizeof q.device_id, "cpu0");
	snprintf(q.device_name, sizeof q.device_name, "simulated CPU");
	snprintf(q.kernel, sizeof q.kernel, "I2_S");
	q.type = TRIT_TYPE_I2_S;
	q.tokens = 1;
	q.read_bps = -1;
	q.gops = 40;
	q.weight_bps = 20e9;
	f = q;
	f.full = 1;
	f.weight_bps = 10e9;
	snprintf(cache.path, sizeof cache.path, "bench.json");
	o.bench = &cache;
	for (int order = 0; order < 2; order++) {
		cache.n = 0;
		ck_assert_int_eq(trit_bench_cache_put(&cache, order ? &f : &q), 0);
		ck_assert_int_eq(trit_bench_cache_put(&cache, order ? &q : &f), 0);
		ck_assert_uint_eq(cache.n, 2);
		ck_assert_ptr_eq(trit_bench_cache_full_of(&cache, &q), &cache.results[order ? 0 : 1]);
		plan_on(m, &d, 1, &o, &p);
		ck_assert_ptr_nonnull(k = reason_of(&p, TRIT_REASON_SPEED_KERNEL));
		ck_assert_double_eq(k->num[1], 10e9);
		trit_plan_result_free(&p);
	}
	/* a quick result alone is used */
	cache.n = 0;
	ck_assert_int_eq(trit_bench_cache_put(&cache, &q), 0);
	ck_assert_ptr_null(trit_bench_cache_full_of(&cache, &q));
	plan_on(m, &d, 1, &o, &p);
	ck_assert_ptr_nonnull(k = reason_of(&p, TRIT_REASON_SPEED_KERNEL));
	ck_assert_double_eq(k->num[1], 20e9);
	trit_plan_result_free(&p);
	trit_bench_cache_free(&cache);
	trit_model_close(m);
}
END_TEST

/* A model built in memory, not read by trit_model_open (which refuses a
 * file stating these), still cannot be planned with a zero head count or
 * head size: the estimator would size the KV cache as 0 and promise
 * millions of tokens per second. */
START_TEST(zero_heads_or_head_sizes_are_refused_by_the_estimator)
{
	struct trit_model *m = model("tiny-llama", "F16");
	struct trit_device d[1] = { cpu(64 * GIB) };
	struct trit_plan_device pd[1] = { { .dev = &d[0], .backend = "sim" } };
	struct trit_plan_opts o = opts(256);
	struct trit_plan_result p;
	uint32_t *field[] = { &m->hp.n_head[1], &m->hp.n_head_kv[0], &m->hp.head_dim_k,
	                      &m->hp.head_dim_v, &m->hp.n_embd };
	char err[512];

	for (size_t i = 0; i < sizeof field / sizeof field[0]; i++) {
		uint32_t keep = *field[i];
		*field[i] = 0;
		ck_assert_int_eq(trit_plan_make(m, pd, 1, &o, &p, err, sizeof err), TRIT_EFORMAT);
		ck_assert_msg(strstr(err, "head counts and head sizes"), "%s", err);
		*field[i] = keep;
	}
	plan_on(m, d, 1, &o, &p);
	trit_plan_result_free(&p);
	trit_model_close(m);
}
END_TEST

static Suite *plan_suite(void)
{
	Suite *s = suite_create("plan");
	struct {
		const char *name;
		const TTest *fn;
	} cases[] = {
		{ "kv_gqa", kv_cache_of_a_gqa_model_matches_hand_computation },
		{ "kv_swa", kv_cache_caps_sliding_window_layers },
		{ "kv_moe_mla", kv_cache_of_moe_and_mla_models_matches_hand_computation },
		{ "gpu8", eight_gigabyte_gpu_gets_a_hybrid_split_that_is_the_largest_that_fits },
		{ "gpu24", twentyfour_gigabyte_gpu_runs_the_8b_model_alone },
		{ "tied", tied_output_on_another_device_gets_a_copy_of_the_embeddings },
		{ "gpu80_2x24", eighty_gigabyte_gpu_and_two_24_gigabyte_gpus_split_by_free_memory },
		{ "cpu", no_gpu_means_cpu_only_with_measured_cores },
		{ "gpu4", four_gigabyte_gpu_takes_few_layers_or_none },
		{ "forced", forced_strategies_and_layer_caps_are_honoured },
		{ "nofit", nothing_fits_reports_the_largest_context_that_would },
		{ "unknown", device_with_unknown_free_memory_is_left_out_with_a_note },
		{ "workspace", workspace_batch_follows_the_seed_rule_on_4_8_24_80_gigabytes },
		{ "repack_tl2", i2s_weights_are_repacked_into_tl2_with_exact_padded_bytes },
		{ "repack_as_is", weights_a_device_runs_stay_as_stored_and_the_rest_stays_untouched },
		{ "repack_pref", repack_format_follows_the_default_order_unless_bench_prefers_another },
		{ "repack_force", a_forced_ternary_format_repacks_even_what_runs_as_stored },
		{ "repack_float", float_and_tq2_0_bitnet_weights_are_repacked_into_i2s },
		{ "repack_llama", non_bitnet_float_weights_are_never_repacked },
		{ "bench", bench_results_choose_the_repack_format_and_the_decode_rate },
		{ "bench", a_full_bench_result_is_used_over_a_quick_one },
		{ "zero_heads", zero_heads_or_head_sizes_are_refused_by_the_estimator },
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
	return test_run_suite(plan_suite());
}
