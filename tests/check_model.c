/*
 * check_model.c - model analysis end to end: files written by trit-genmodel
 * for real published shapes are read back through the GGUF and SafeTensors
 * readers, and the model description must agree with the shape table
 * (tests/shapes.c) and with layer sizes computed here by hand.
 */
#include <build-config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/common.h"
#include "model/model.h"
#include "shapes.h"
#include "support/support.h"

static char tmpdir[64];

static void setup(void)
{
	strcpy(tmpdir, "/tmp/trit-model-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
	if (test_remove_tree(tmpdir) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

/* Run trit-genmodel; returns the path written. */
static const char *generate(const char *shape, const char *format, const char *type)
{
	static char out[256];

	snprintf(out, sizeof out, "%s/%s.%s", tmpdir, shape, format);
	test_genmodel_file(shape, format, type, out);
	return out;
}

static struct trit_model *open_model(const char *path)
{
	struct trit_model *m = NULL;
	char err[1024];
	int rc = trit_model_open(path, &m, err, sizeof err);
	ck_assert_msg(rc == 0, "trit_model_open(%s): %s", path, err);
	return m;
}

static void assert_consistent(const struct trit_model *m)
{
	uint64_t sum = m->nonlayer_bytes, params = m->nonlayer_params, tbytes = 0, gbytes = 0;

	for (uint32_t i = 0; i < m->hp.n_layer; i++) {
		sum += m->layer_bytes[i];
		params += m->layer_params[i];
	}
	for (size_t i = 0; i < m->n_tensors; i++)
		tbytes += m->tensors[i].n_bytes;
	for (int g = 0; g < TRIT_GROUP_COUNT; g++)
		gbytes += m->group_bytes[g];
	ck_assert_uint_eq(sum, m->n_bytes);
	ck_assert_uint_eq(tbytes, m->n_bytes);
	ck_assert_uint_eq(gbytes, m->n_bytes);
	ck_assert_uint_eq(params, m->n_params);
	ck_assert_uint_le(m->n_bytes, m->file_bytes);
	for (size_t i = 0; i < m->n_warnings; i++)
		ck_assert_msg(!strstr(m->warnings[i], "not recognised"), "%s", m->warnings[i]);
}

static void assert_matches_shape(const struct trit_model *m, const struct shape *s,
                                 enum shape_naming naming)
{
	uint32_t swa = 0, want_swa = 0;

	ck_assert_uint_eq(m->n_params, shape_count(s, naming, SCOPE_TOTAL));
	ck_assert_uint_eq(m->hp.n_layer, s->n_layer);
	ck_assert_uint_eq(m->hp.n_embd, s->n_embd);
	ck_assert_uint_eq(m->hp.n_vocab, s->n_vocab);
	ck_assert_uint_eq(m->hp.n_head[0], s->n_head);
	if (!s->kv_lora_rank) /* MLA GGUFs store one KV head by llama.cpp convention */
		ck_assert_uint_eq(m->hp.n_head_kv[0], s->n_head_kv);
	ck_assert_uint_eq(m->hp.n_expert, s->n_expert);
	ck_assert_uint_eq(m->hp.tied_embeddings, s->tied);
	/* Windowed layers as llama.cpp assigns them: only Gemma 2 and 3 use their
	 * window; Phi-3's stated window is ignored (llama.cpp disables it). */
	int windowed = s->family == SHAPE_GEMMA2 || s->family == SHAPE_GEMMA3;
	for (uint32_t il = 0; il < s->n_layer; il++) {
		swa += m->hp.swa[il];
		want_swa += windowed && s->sliding_window && shape_layer_swa(s, il);
	}
	ck_assert_uint_eq(swa, want_swa);
	ck_assert_uint_eq(m->hp.sliding_window_ignored, windowed ? 0 : s->sliding_window);
	assert_consistent(m);
}

/* ---------------------------------------------------------------------- */

START_TEST(every_published_shape_reads_back_with_its_parameter_count_gguf)
{
	for (size_t i = 0; i < shapes_count; i++) {
		const struct shape *s = &shapes[i];
		struct trit_model *m = open_model(generate(s->name, "gguf", "F16"));
		assert_matches_shape(m, s, SHAPE_GGUF);
		for (size_t c = 0; c < SHAPE_MAX_CLAIMS; c++)
			if (s->claims[c].scope == SCOPE_TOTAL)
				ck_assert_msg(shape_claim_holds(&s->claims[c], m->n_params),
				              "%s: %llu parameters, published %llu", s->name,
				              (unsigned long long)m->n_params,
				              (unsigned long long)s->claims[c].value);
		trit_model_close(m);
		unlink(generate(s->name, "gguf", "F16"));
	}
}
END_TEST

START_TEST(every_published_shape_reads_back_with_its_parameter_count_safetensors)
{
	for (size_t i = 0; i < shapes_count; i++) {
		const struct shape *s = &shapes[i];
		struct trit_model *m = open_model(generate(s->name, "safetensors", NULL));
		assert_matches_shape(m, s, SHAPE_HF);
		/* both namings describe the same parameters */
		ck_assert_uint_eq(shape_count(s, SHAPE_HF, SCOPE_TOTAL),
		                  shape_count(s, SHAPE_GGUF, SCOPE_TOTAL));
		trit_model_close(m);
	}
}
END_TEST

/* Llama-3.1-8B, Q4_0 (18 bytes per 32 weights), GQA with 8 KV heads of 128:
 *   attn_q, attn_output  4096 x 4096:  4096/32*18 * 4096  =  9,437,184 each
 *   attn_k, attn_v       4096 x 1024:  4096/32*18 * 1024  =  2,359,296 each
 *   ffn_gate, ffn_up    4096 x 14336:  4096/32*18 * 14336 = 33,030,144 each
 *   ffn_down            14336 x 4096: 14336/32*18 * 4096  = 33,030,144
 *   attn_norm, ffn_norm  F32 4096                         =     16,384 each
 *   layer = 2*9,437,184 + 2*2,359,296 + 3*33,030,144 + 2*16,384 = 122,716,160 */
START_TEST(gqa_layer_bytes_match_hand_computation)
{
	struct trit_model *m = open_model(generate("Llama-3.1-8B", "gguf", "Q4_0"));

	ck_assert_uint_eq(m->hp.n_head_kv[0], 8);
	ck_assert_uint_eq(m->hp.head_dim_k, 128);
	for (uint32_t i = 0; i < m->hp.n_layer; i++)
		ck_assert_uint_eq(m->layer_bytes[i], 122716160);
	ck_assert_str_eq(m->quant.primary, "Q4_0");
	ck_assert_int_eq(m->quant.ternary_kernels, 0);
	ck_assert_msg(strstr(m->quant.ternary_why, "Q4_0"), "%s", m->quant.ternary_why);
	trit_model_close(m);
}
END_TEST

/* Mixtral-8x7B, Q4_0, 8 experts of FFN 14336, router kept F32:
 *   attention as Llama-3.1-8B:                  2*9,437,184 + 2*2,359,296 = 23,592,960
 *   ffn_gate_inp F32 4096 x 8:                                                 131,072
 *   ffn_{gate,up,down}_exps: 8 * 33,030,144 each, three of them           = 792,723,456
 *   norms                                                                 =      32,768
 *   layer = 816,480,256 */
START_TEST(moe_layer_bytes_match_hand_computation)
{
	struct trit_model *m = open_model(generate("Mixtral-8x7B", "gguf", "Q4_0"));

	ck_assert_uint_eq(m->hp.n_expert, 8);
	ck_assert_uint_eq(m->hp.n_expert_used, 2);
	ck_assert_uint_eq(m->layer_bytes[0], 816480256);
	ck_assert_uint_eq(m->group_bytes[TRIT_GROUP_EXPERTS], (uint64_t)32 * (792723456 + 131072));
	trit_model_close(m);
}
END_TEST

/* Gemma-2-9B: 42 layers, a 4096-token window on the even layers only;
 * head dim 256 with 16 heads and 8 KV heads. */
START_TEST(sliding_window_layers_alternate_in_gemma2)
{
	struct trit_model *m = open_model(generate("Gemma-2-9B", "gguf", "F16"));

	ck_assert_uint_eq(m->hp.sliding_window, 4096);
	for (uint32_t il = 0; il < m->hp.n_layer; il++)
		ck_assert_msg(m->hp.swa[il] == (il % 2 == 0), "layer %u", il);
	ck_assert_uint_eq(m->hp.head_dim_k, 256);
	ck_assert_uint_eq(m->hp.n_head[0], 16);
	ck_assert_uint_eq(m->hp.n_head_kv[0], 8);
	trit_model_close(m);
}
END_TEST

/* BitNet-b1.58-2B-4T in I2_S (elements/4 + 32 bytes per tensor):
 *   attn_q, attn_output 2560 x 2560: 6,553,600/4 + 32 = 1,638,432 each
 *   attn_k, attn_v       2560 x 640: 1,638,400/4 + 32 =   409,632 each
 *   ffn_gate, ffn_up, ffn_down 2560 x 6912: 17,694,720/4 + 32 = 4,423,712 each
 *   F32 norms: attn_norm, attn_sub_norm, ffn_norm 2560 each; ffn_sub_norm 6912
 *              = (3*2560 + 6912) * 4 = 58,368
 *   layer = 2*1,638,432 + 2*409,632 + 3*4,423,712 + 58,368 = 17,425,632 */
START_TEST(bitnet_i2s_layers_are_exact_and_ternary_kernels_apply)
{
	struct trit_model *m = open_model(generate("BitNet-b1.58-2B-4T", "gguf", "I2_S"));

	ck_assert_str_eq(m->hp.family, "bitnet");
	for (uint32_t i = 0; i < m->hp.n_layer; i++)
		ck_assert_uint_eq(m->layer_bytes[i], 17425632);
	ck_assert_uint_eq(m->n_params, 2412820480u);
	ck_assert_uint_eq(m->n_tensors, 332);
	ck_assert_str_eq(m->quant.primary, "I2_S");
	ck_assert_int_eq(m->quant.ternary_kernels, 1);
	ck_assert_int_eq(m->hp.tied_embeddings, 1);
	trit_model_close(m);
}
END_TEST

START_TEST(bitnet_packed_safetensors_count_four_weights_per_byte)
{
	struct trit_model *m = open_model(generate("BitNet-b1.58-2B-4T", "safetensors", NULL));
	size_t packed = 0;

	for (size_t i = 0; i < m->n_tensors; i++)
		if (m->tensors[i].ternary) {
			packed++;
			ck_assert_uint_eq(m->tensors[i].n_params, m->tensors[i].n_bytes * 4);
		}
	ck_assert_uint_eq(packed, 30 * 7);
	ck_assert_uint_eq(m->n_params, 2412820480u);
	ck_assert_int_eq(m->quant.ternary_kernels, 1);
	trit_model_close(m);
}
END_TEST

START_TEST(safetensors_without_config_json_is_refused)
{
	char path[256], cfg[512], err[512];
	struct trit_model *m;

	snprintf(path, sizeof path, "%s", generate("tiny-llama", "safetensors", NULL));
	snprintf(cfg, sizeof cfg, "%s/config.json", path);
	ck_assert_int_eq(unlink(cfg), 0);
	ck_assert_int_ne(trit_model_open(path, &m, err, sizeof err), 0);
	ck_assert_ptr_null(m);
	ck_assert_msg(strstr(err, "config.json"), "%s", err);
}
END_TEST

START_TEST(missing_file_is_an_error_naming_it)
{
	struct trit_model *m;
	char err[512];

	ck_assert_int_ne(trit_model_open("/nonexistent/model.gguf", &m, err, sizeof err), 0);
	ck_assert_msg(strstr(err, "/nonexistent/model.gguf"), "%s", err);
}
END_TEST

/* ------------------------------------------------- impossible files */

/* The whole of a (small) file, and writing it back. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	*len = (size_t)ftell(f);
	rewind(f);
	ck_assert_ptr_nonnull(buf = malloc(*len + 1));
	ck_assert_uint_eq(fread(buf, 1, *len, f), *len);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static void spill(const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* The GGUF metadata pair KEY of type u32: its value becomes v (or, when
 * rename is not NULL, its key becomes rename, of the same length). */
static void patch_gguf(const char *path, const char *key, uint32_t v, const char *rename)
{
	size_t len, klen = strlen(key);
	char *buf = slurp(path, &len), pat[128];
	uint64_t l = klen;
	uint32_t u32 = 4;
	char *at = NULL;

	memcpy(pat, &l, 8); /* little-endian, as the file */
	memcpy(pat + 8, key, klen);
	memcpy(pat + 8 + klen, &u32, 4);
	for (size_t i = 0; !at && i + klen + 12 <= len; i++)
		if (memcmp(buf + i, pat, klen + 12) == 0)
			at = buf + i;
	ck_assert_msg(at, "%s has no u32 key %s", path, key);
	if (rename)
		memcpy(at + 8, rename, klen);
	else
		memcpy(at + 8 + klen + 4, &v, 4);
	spill(path, buf, len);
	free(buf);
}

/* config.json's "KEY": NUMBER becomes "KEY": v. */
static void patch_config(const char *dir_path, const char *key, uint32_t v)
{
	char path[512], pat[96], *buf, *at, *end, *out;
	size_t len;

	snprintf(path, sizeof path, "%s/config.json", dir_path);
	buf = slurp(path, &len);
	snprintf(pat, sizeof pat, "\"%s\": ", key);
	ck_assert_msg((at = strstr(buf, pat)) != NULL, "config.json has no %s", key);
	at += strlen(pat);
	for (end = at; *end >= '0' && *end <= '9'; end++)
		;
	ck_assert_ptr_nonnull(out = malloc(len + 16));
	len = (size_t)sprintf(out, "%.*s%u%s", (int)(at - buf), buf, v, end);
	spill(path, out, len);
	free(out);
	free(buf);
}

/* trit_model_open refuses path with a message holding each of the strings. */
static void expect_refused(const char *path, const char *want1, const char *want2)
{
	struct trit_model *m = NULL;
	char err[1024];

	ck_assert_int_eq(trit_model_open(path, &m, err, sizeof err), TRIT_EFORMAT);
	ck_assert_ptr_null(m);
	ck_assert_msg(strstr(err, path) && strstr(err, want1) && (!want2 || strstr(err, want2)),
	              "wanted '%s' and '%s' in: %s", want1, want2 ? want2 : "", err);
}

/* tiny-llama: 2 layers, embedding 64, 4 heads, 2 KV heads (no key_length:
 * head size 64 / 4), FFN 128, vocabulary 256, context 256. */
static const struct {
	const char *key;
	uint32_t value;
	const char *want1, *want2;
} bad_gguf[] = {
	{ "llama.attention.head_count", 0, "llama.attention.head_count = 0: must be > 0", NULL },
	{ "llama.attention.head_count_kv", 0, "llama.attention.head_count_kv = 0: must be > 0",
	  NULL },
	{ "llama.attention.head_count_kv", 3, "llama.attention.head_count = 4 is not a multiple "
	  "of llama.attention.head_count_kv = 3", NULL },
	{ "llama.embedding_length", 0, "llama.embedding_length = 0: must be > 0", NULL },
	{ "llama.context_length", 0, "llama.context_length = 0: must be > 0", NULL },
	{ "llama.feed_forward_length", 0, "llama.feed_forward_length = 0: must be > 0", NULL },
	{ "llama.vocab_size", 0, "llama.vocab_size = 0", NULL },
	{ "llama.vocab_size", 255, "tensor token_embd.weight: shape [64, 256]",
	  "[llama.embedding_length, llama.vocab_size] = [64, 255]" },
	{ "llama.feed_forward_length", 96, "tensor blk.0.ffn_gate.weight: shape [64, 128]",
	  "[llama.embedding_length, llama.feed_forward_length] = [64, 96]" },
	{ "llama.embedding_length", 32, "tensor token_embd.weight: shape [64, 256]", "[32, 256]" },
	/* 8 heads of 64 / 8: attn_q fits, attn_k's 2 KV heads of 8 do not */
	{ "llama.attention.head_count", 8, "tensor blk.0.attn_k.weight: shape [64, 32]",
	  "[llama.embedding_length, llama.attention.head_count_kv x head size 8] = [64, 16]" },
};

START_TEST(impossible_gguf_hyper_parameters_are_refused_naming_the_key)
{
	const char *path = generate("tiny-llama", "gguf", NULL);

	patch_gguf(path, bad_gguf[_i].key, bad_gguf[_i].value, NULL);
	expect_refused(path, bad_gguf[_i].want1, bad_gguf[_i].want2);
}
END_TEST

START_TEST(an_embedding_that_does_not_split_into_heads_is_refused)
{
	const char *path = generate("tiny-llama", "gguf", NULL);
	struct trit_model *m = open_model(path);

	ck_assert_uint_eq(m->hp.head_dim_k, 16); /* 64 / 4: no key_length in the file */
	trit_model_close(m);
	patch_gguf(path, "llama.attention.head_count", 6, NULL);
	expect_refused(path, "llama.embedding_length = 64 is not a multiple of "
	               "llama.attention.head_count = 6", "states no head size");
}
END_TEST

START_TEST(a_vocab_size_the_tokenizer_contradicts_is_refused)
{
	char path[256], args[512];

	snprintf(path, sizeof path, "%s/vocab.gguf", tmpdir);
	snprintf(args, sizeof args, "--shape tiny-llama --format gguf --vocab-strings -o '%s' "
	         ">/dev/null", path);
	ck_assert_int_eq(test_genmodel(args), 0);
	patch_gguf(path, "llama.vocab_size", 255, NULL);
	expect_refused(path, "llama.vocab_size = 255, but tokenizer.ggml.tokens holds 256 tokens",
	               NULL);
}
END_TEST

START_TEST(impossible_config_json_values_are_refused_naming_the_key)
{
	static const struct {
		const char *key;
		uint32_t value;
		const char *want1, *want2;
	} bad[] = {
		{ "num_attention_heads", 0, "config.json num_attention_heads = 0: must be > 0", NULL },
		{ "num_key_value_heads", 3, "config.json num_attention_heads = 4 is not a multiple of "
		  "config.json num_key_value_heads = 3", NULL },
		{ "hidden_size", 0, "config.json hidden_size = 0: must be > 0", NULL },
		{ "intermediate_size", 96, "mlp.", "[config.json hidden_size, "
		  "config.json intermediate_size] = [64, 96]" },
	};
	for (size_t i = 0; i < TRIT_ARRAY_LEN(bad); i++) {
		const char *path = generate("tiny-llama", "safetensors", NULL);
		patch_config(path, bad[i].key, bad[i].value);
		expect_refused(path, bad[i].want1, bad[i].want2);
		test_remove_tree(path);
	}
}
END_TEST

/* Format detection: the magic first; a .gguf name only shapes the message. */
START_TEST(a_gguf_with_a_bad_magic_is_reported_as_not_gguf)
{
	char path[256];
	struct trit_model *m = NULL;
	char err[512];
	static const char elf[24] = "\x7f" "ELF\2\1\1";

	snprintf(path, sizeof path, "%s/bad.gguf", tmpdir);
	spill(path, "GGUX\3\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 24);
	expect_refused(path, "not a GGUF file: bad magic 0x47475558 ('GGUX') at offset 0 "
	               "(expected 'GGUF')", NULL);
	ck_assert_int_ne(trit_model_open(path, &m, err, sizeof err), 0);
	ck_assert_msg(!strstr(err, "SafeTensors"), "%s", err);
	spill(path, "GG", 2);
	expect_refused(path, "not a GGUF file: it is 2 bytes", NULL);
	snprintf(path, sizeof path, "%s/weights.bin", tmpdir);
	spill(path, elf, sizeof elf);
	expect_refused(path, "not a model file trit reads: it starts with 0x7f454c46 "
	               "('\\x7fELF')", NULL);
}
END_TEST

START_TEST(formats_are_recognised_by_content_not_name)
{
	char path[512], cmd[1200];
	struct trit_model *m;

	/* a GGUF named .safetensors is read as GGUF */
	snprintf(path, sizeof path, "%s/model.safetensors", tmpdir);
	snprintf(cmd, sizeof cmd, "cp '%s' '%s'", generate("tiny-llama", "gguf", NULL), path);
	ck_assert_int_eq(system(cmd), 0);
	m = open_model(path);
	ck_assert_int_eq(m->format, TRIT_MODEL_GGUF);
	trit_model_close(m);
}
END_TEST

static Suite *model_suite(void)
{
	Suite *s = suite_create("model");
	struct {
		const char *name;
		const TTest *fn;
		int timeout;
	} cases[] = {
		{ "gguf_shapes", every_published_shape_reads_back_with_its_parameter_count_gguf, 120 },
		{ "st_shapes", every_published_shape_reads_back_with_its_parameter_count_safetensors, 120 },
		{ "gqa", gqa_layer_bytes_match_hand_computation, 30 },
		{ "moe", moe_layer_bytes_match_hand_computation, 30 },
		{ "swa", sliding_window_layers_alternate_in_gemma2, 30 },
		{ "bitnet", bitnet_i2s_layers_are_exact_and_ternary_kernels_apply, 30 },
		{ "packed", bitnet_packed_safetensors_count_four_weights_per_byte, 30 },
		{ "noconfig", safetensors_without_config_json_is_refused, 30 },
		{ "missing", missing_file_is_an_error_naming_it, 30 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		TCase *tc = tcase_create(cases[i].name);
		tcase_add_checked_fixture(tc, setup, teardown);
		tcase_set_timeout(tc, cases[i].timeout);
		tcase_add_test(tc, cases[i].fn);
		suite_add_tcase(s, tc);
	}
	TCase *tc = tcase_create("impossible");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, impossible_gguf_hyper_parameters_are_refused_naming_the_key, 0,
	                    (int)(sizeof bad_gguf / sizeof bad_gguf[0]));
	tcase_add_test(tc, an_embedding_that_does_not_split_into_heads_is_refused);
	tcase_add_test(tc, a_vocab_size_the_tokenizer_contradicts_is_refused);
	tcase_add_test(tc, impossible_config_json_values_are_refused_naming_the_key);
	tcase_add_test(tc, a_gguf_with_a_bad_magic_is_reported_as_not_gguf);
	tcase_add_test(tc, formats_are_recognised_by_content_not_name);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(model_suite());
}
