/*
 * check_shapes.c - the specification of the shape table (tests/shapes.c)
 * and of trit-genmodel's files: computed parameter counts equal the
 * published ones, both namings hold the same parameters, and generated
 * files have their full size on disk while using almost none of it.
 */
#include <build-config.h>

#include <check.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/ggml_types.h"
#include "shapes.h"
#include "support/support.h"

/* A generated file may occupy at most this much real disk (its header). */
#define SMALL_ON_DISK (UINT64_C(32) << 20)

static char tmpdir[256];

static void setup(void)
{
	const char *base = getenv("TMPDIR");
	snprintf(tmpdir, sizeof tmpdir, "%s/trit-check-shapes-XXXXXX", base && *base ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
	ck_assert_int_eq(test_remove_tree(tmpdir), 0);
}

static uint64_t file_size(const char *path, uint64_t *on_disk)
{
	struct stat st;
	ck_assert_msg(stat(path, &st) == 0, "%s: %s", path, strerror(errno));
	if (on_disk)
		*on_disk = (uint64_t)st.st_blocks * 512;
	return (uint64_t)st.st_size;
}

/* ------------------------------------------------------------ the table */

START_TEST(published_counts_are_reproduced)
{
	const struct shape *s = &shapes[_i];
	int n = 0;

	for (int c = 0; c < SHAPE_MAX_CLAIMS; c++) {
		const struct shape_claim *cl = &s->claims[c];
		uint64_t got;
		if (!cl->scope)
			continue;
		got = shape_count(s, SHAPE_GGUF, cl->scope);
		ck_assert_msg(shape_claim_holds(cl, got),
		              "%s: %s count %llu disagrees with the published %llu (%s, %s)", s->name,
		              shape_scope_name(cl->scope), (unsigned long long)got,
		              (unsigned long long)cl->value, cl->unit ? "rounded" : "exact", cl->where);
		n++;
	}
	ck_assert_msg(s->tiny || n > 0, "%s: a real shape needs a published count", s->name);
	ck_assert_msg(s->tiny || s->source, "%s: a real shape needs its source", s->name);
}
END_TEST

START_TEST(gguf_and_hf_namings_hold_the_same_parameters)
{
	const struct shape *s = &shapes[_i];
	static const enum shape_scope scopes[] = { SCOPE_TOTAL, SCOPE_NON_EMBEDDING, SCOPE_ACTIVE };

	for (size_t k = 0; k < sizeof scopes / sizeof scopes[0]; k++) {
		uint64_t g = shape_count(s, SHAPE_GGUF, scopes[k]);
		uint64_t h = shape_count(s, SHAPE_HF, scopes[k]);
		ck_assert_msg(g > 0 && g == h, "%s: %s parameters: GGUF %llu, HF %llu", s->name,
		              shape_scope_name(scopes[k]), (unsigned long long)g, (unsigned long long)h);
	}
}
END_TEST

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct shape_tensor *)a)->name, ((const struct shape_tensor *)b)->name);
}

START_TEST(tensor_names_are_unique_and_well_formed)
{
	const struct shape *s = &shapes[_i];

	for (int naming = SHAPE_GGUF; naming <= SHAPE_HF; naming++) {
		size_t n = 0;
		struct shape_tensor *t = shape_tensors(s, (enum shape_naming)naming, &n);
		ck_assert_ptr_nonnull(t);
		for (size_t i = 0; i < n; i++) {
			ck_assert_msg(strlen(t[i].name) < sizeof t[i].name - 1, "%s: name cut", t[i].name);
			ck_assert_msg(t[i].n_dims >= 1 && t[i].n_dims <= 3, "%s: %u dims", t[i].name,
			              t[i].n_dims);
			ck_assert_msg(t[i].layer >= -1 && t[i].layer < (int)s->n_layer, "%s: layer %d",
			              t[i].name, t[i].layer);
			if (naming == SHAPE_GGUF)
				ck_assert_msg(strncmp(t[i].name, "blk.", 4) == 0 || t[i].layer == -1,
				              "%s: a layer tensor outside blk.N", t[i].name);
		}
		qsort(t, n, sizeof *t, by_name);
		for (size_t i = 1; i < n; i++)
			ck_assert_msg(strcmp(t[i - 1].name, t[i].name) != 0, "%s: %s appears twice",
			              s->name, t[i].name);
		free(t);
	}
}
END_TEST

/* Tensor counts per file, from the block structure: llama.cpp's load log
 * of a real file shows the same numbers (e.g. BitNet 2B-4T: 30 x 11 + 2). */
START_TEST(gguf_tensor_counts_follow_the_block_structure)
{
	static const struct { const char *shape; size_t n; } want[] = {
		{ "BitNet-b1.58-2B-4T", 30 * 11 + 2 },  /* token_embd, output_norm */
		{ "Llama-3.2-1B", 16 * 9 + 3 },         /* + rope_freqs, tied output */
		{ "Llama-3.1-8B", 32 * 9 + 4 },
		{ "Qwen2.5-7B", 28 * 12 + 3 },          /* + q/k/v biases */
		{ "Gemma-2-9B", 42 * 11 + 2 },          /* + post norms, tied */
		{ "Qwen3-30B-A3B", 48 * 12 + 3 },       /* router + 3 merged expert tensors */
		{ "DeepSeek-V2-Lite", 11 + 26 * 15 + 3 }, /* dense layer 0, MLA k_b/v_b */
		{ "Phi-3-mini-4k", 32 * 6 + 3 },
		{ "GPT-2", 12 * 12 + 4 },               /* + position_embd, norm bias */
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		size_t n = 0;
		struct shape_tensor *t = shape_tensors(shape_find(want[i].shape), SHAPE_GGUF, &n);
		ck_assert_ptr_nonnull(t);
		free(t);
		ck_assert_msg(n == want[i].n, "%s: %zu GGUF tensors, expected %zu", want[i].shape, n,
		              want[i].n);
	}
}
END_TEST

START_TEST(layer_structure_follows_the_config)
{
	const struct shape *g2 = shape_find("Gemma-2-9B"), *g3 = shape_find("Gemma-3-1B");
	const struct shape *ds = shape_find("DeepSeek-V2-Lite");
	size_t n = 0;
	struct shape_tensor *t;
	int dense = 0, moe = 0;

	/* gemma2: even layers slide; gemma3: every 6th layer is global */
	ck_assert(shape_layer_swa(g2, 0) && !shape_layer_swa(g2, 1));
	ck_assert(shape_layer_swa(g3, 4) && !shape_layer_swa(g3, 5) && shape_layer_swa(g3, 6));
	/* DeepSeek-V2-Lite: layer 0 dense, the other 26 MoE with shared experts */
	t = shape_tensors(ds, SHAPE_GGUF, &n);
	ck_assert_ptr_nonnull(t);
	for (size_t i = 0; i < n; i++) {
		dense += strcmp(t[i].role, "ffn_gate") == 0;
		moe += strcmp(t[i].role, "ffn_gate_shexp") == 0;
		if (strcmp(t[i].name, "blk.1.attn_kv_a_mqa.weight") == 0)
			ck_assert(t[i].ne[0] == 2048 && t[i].ne[1] == 512 + 64);
		if (strcmp(t[i].name, "blk.1.ffn_down_exps.weight") == 0)
			ck_assert(t[i].ne[0] == 1408 && t[i].ne[1] == 2048 && t[i].ne[2] == 64);
	}
	free(t);
	ck_assert_int_eq(dense, 1);
	ck_assert_int_eq(moe, 26);
}
END_TEST

/* ------------------------------------------------------------ generated files */

static uint64_t le64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Expected data-section bytes of a GGUF file, recomputed here from the
 * table and the type sizes (each tensor padded to 32). */
static uint64_t gguf_data_bytes(const char *shape, const char *type_json_path)
{
	FILE *f = fopen(type_json_path, "rb");
	char *text;
	long len;
	cJSON *j, *ts, *e;
	uint64_t sum = 0;
	size_t n = 0;
	struct shape_tensor *t = shape_tensors(shape_find(shape), SHAPE_GGUF, &n);

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(t);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	text = malloc((size_t)len + 1);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(fread(text, 1, (size_t)len, f), (size_t)len);
	text[len] = '\0';
	fclose(f);
	j = cJSON_Parse(text);
	ck_assert_msg(j != NULL, "%s: --tensors-json is not JSON", type_json_path);
	ts = cJSON_GetObjectItem(j, "tensors");
	ck_assert_uint_eq((size_t)cJSON_GetArraySize(ts), n);
	for (size_t i = 0; i < n; i++) {
		uint64_t bytes = 0;
		char err[256];
		const struct trit_ggml_type *ty;
		e = cJSON_GetArrayItem(ts, (int)i);
		ck_assert_str_eq(cJSON_GetObjectItem(e, "name")->valuestring, t[i].name);
		ty = trit_ggml_type((uint32_t)cJSON_GetObjectItem(e, "type")->valuedouble,
		                    strcmp(cJSON_GetObjectItem(j, "dialect")->valuestring, "bitnet") == 0
		                        ? TRIT_GGML_BITNET : TRIT_GGML_MAINLINE);
		ck_assert_ptr_nonnull(ty);
		ck_assert_int_eq(trit_ggml_nbytes(ty, t[i].n_dims, t[i].ne, &bytes, err, sizeof err), 0);
		ck_assert_msg((uint64_t)cJSON_GetObjectItem(e, "offset")->valuedouble == sum,
		              "%s: offset", t[i].name);
		sum += (bytes + 31) / 32 * 32;
	}
	cJSON_Delete(j);
	free(text);
	free(t);
	return sum;
}

static void check_gguf(const char *shape, const char *type, uint64_t min_size)
{
	char path[1024], json[1024], args[4096];
	unsigned char head[24];
	uint64_t size, disk, data;
	size_t n = 0;
	struct shape_tensor *t = shape_tensors(shape_find(shape), SHAPE_GGUF, &n);
	FILE *f;

	free(t);
	snprintf(path, sizeof path, "%s/%s-%s.gguf", tmpdir, shape, type);
	snprintf(json, sizeof json, "%s/%s-%s.json", tmpdir, shape, type);
	snprintf(args, sizeof args, "--shape %s --format gguf --type %s --vocab-strings -o '%s' "
	         "--tensors-json > '%s'", shape, type, path, json);
	ck_assert_msg(test_genmodel(args) == 0, "trit-genmodel %s failed", args);
	size = file_size(path, &disk);
	data = gguf_data_bytes(shape, json);

	f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fread(head, 1, sizeof head, f), sizeof head);
	fclose(f);
	ck_assert_msg(memcmp(head, "GGUF", 4) == 0 && head[4] == 3, "%s: not a GGUF v3 file", path);
	ck_assert_uint_eq(le64(head + 8), n);
	ck_assert_msg(size > data && (size - data) % 32 == 0 && size - data < SMALL_ON_DISK,
	              "%s: %llu bytes for %llu bytes of tensor data", path,
	              (unsigned long long)size, (unsigned long long)data);
	ck_assert_msg(size >= min_size, "%s: only %llu bytes", path, (unsigned long long)size);
	ck_assert_msg(disk < SMALL_ON_DISK, "%s: %llu bytes on disk for a %llu-byte sparse file",
	              path, (unsigned long long)disk, (unsigned long long)size);
}

START_TEST(gguf_files_are_full_size_and_sparse)
{
	check_gguf("Llama-3.1-8B", "Q4_K", UINT64_C(4) << 30);
	check_gguf("Mixtral-8x7B", "F16", UINT64_C(80) << 30);
	check_gguf("BitNet-b1.58-2B-4T", "I2_S", UINT64_C(1) << 30);
	check_gguf("tiny-bitnet", "TL2", 1);
	check_gguf("DeepSeek-V2-Lite", "Q8_0", UINT64_C(15) << 30);
}
END_TEST

START_TEST(gguf_refuses_a_type_the_shape_cannot_use)
{
	char args[1024];
	snprintf(args, sizeof args, "--shape DeepSeek-V2-Lite --format gguf --type Q4_K -o '%s/x.gguf'"
	         " 2> '%s/err.txt'", tmpdir, tmpdir);
	ck_assert_int_eq(test_genmodel(args), 1);
	snprintf(args, sizeof args, "--shape tiny-llama --format gguf --type TL2 -o '%s/x.gguf'"
	         " 2>> '%s/err.txt'", tmpdir, tmpdir);
	ck_assert_int_eq(test_genmodel(args), 1);
	snprintf(args, sizeof args, "--shape no-such-model --format gguf -o '%s/x.gguf' 2>/dev/null",
	         tmpdir);
	ck_assert_int_eq(test_genmodel(args), 2);
}
END_TEST

START_TEST(safetensors_shards_are_full_size_and_sparse)
{
	const struct shape *s = shape_find("Qwen3-30B-A3B");
	char dir[512], path[1024], args[1024];
	uint64_t want = 0, got = 0;
	size_t n = 0, seen = 0;
	struct shape_tensor *t = shape_tensors(s, SHAPE_HF, &n);

	ck_assert_ptr_nonnull(t);
	for (size_t i = 0; i < n; i++)
		want += t[i].ne[0] * t[i].ne[1] * t[i].ne[2] * 2; /* BF16 */
	free(t);
	snprintf(dir, sizeof dir, "%s/qwen3moe", tmpdir);
	snprintf(args, sizeof args, "--shape Qwen3-30B-A3B --format safetensors --shards 4 -o '%s'", dir);
	ck_assert_int_eq(test_genmodel(args), 0);
	for (int i = 1; i <= 4; i++) {
		unsigned char len8[8];
		uint64_t disk, size, hlen;
		char *hdr;
		cJSON *j;
		FILE *f;

		snprintf(path, sizeof path, "%s/model-%05d-of-00004.safetensors", dir, i);
		size = file_size(path, &disk);
		f = fopen(path, "rb");
		ck_assert_ptr_nonnull(f);
		ck_assert_uint_eq(fread(len8, 1, 8, f), 8);
		hlen = le64(len8);
		ck_assert_msg(hlen % 8 == 0 && hlen < size, "%s: header length %llu", path,
		              (unsigned long long)hlen);
		hdr = malloc(hlen + 1);
		ck_assert_ptr_nonnull(hdr);
		ck_assert_uint_eq(fread(hdr, 1, hlen, f), hlen);
		hdr[hlen] = '\0';
		fclose(f);
		j = cJSON_Parse(hdr);
		ck_assert_msg(j != NULL, "%s: header is not JSON", path);
		seen += (size_t)cJSON_GetArraySize(j) - 1; /* __metadata__ */
		cJSON_Delete(j);
		free(hdr);
		got += size - 8 - hlen;
		ck_assert_msg(disk < SMALL_ON_DISK, "%s: %llu bytes on disk", path,
		              (unsigned long long)disk);
	}
	ck_assert_uint_eq(seen, n);
	ck_assert_uint_eq(got, want);
	snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
	ck_assert(file_size(path, NULL) > 0);
	snprintf(path, sizeof path, "%s/config.json", dir);
	ck_assert(file_size(path, NULL) > 0);
}
END_TEST

START_TEST(bitnet_safetensors_are_packed_like_the_published_checkpoint)
{
	char path[1024], args[1024], *text;
	uint64_t size;
	cJSON *j, *q;
	FILE *f;

	snprintf(args, sizeof args, "--shape BitNet-b1.58-2B-4T --format safetensors -o '%s/bn'",
	         tmpdir);
	ck_assert_int_eq(test_genmodel(args), 0);
	/* 4 ternary weights per byte, BF16 embeddings/norms, BF16 scales */
	snprintf(path, sizeof path, "%s/bn/model.safetensors", tmpdir);
	size = file_size(path, NULL);
	ck_assert_msg(size > UINT64_C(1170000000) && size < UINT64_C(1190000000),
	              "packed 2B-4T is %llu bytes", (unsigned long long)size);
	snprintf(path, sizeof path, "%s/bn/config.json", tmpdir);
	f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	text = calloc(1, 65536);
	ck_assert_ptr_nonnull(text);
	ck_assert(fread(text, 1, 65535, f) > 0);
	fclose(f);
	j = cJSON_Parse(text);
	ck_assert_ptr_nonnull(j);
	q = cJSON_GetObjectItem(j, "quantization_config");
	ck_assert_ptr_nonnull(q);
	ck_assert_str_eq(cJSON_GetObjectItem(q, "quant_method")->valuestring, "bitnet");
	ck_assert_str_eq(cJSON_GetObjectItem(j, "model_type")->valuestring, "bitnet");
	ck_assert_int_eq(cJSON_GetObjectItem(j, "num_key_value_heads")->valueint, 5);
	cJSON_Delete(j);
	free(text);
}
END_TEST

static Suite *shapes_suite(void)
{
	Suite *s = suite_create("shapes");
	TCase *tc = tcase_create("table");
	TCase *files = tcase_create("files");

	tcase_add_loop_test(tc, published_counts_are_reproduced, 0, (int)shapes_count);
	tcase_add_loop_test(tc, gguf_and_hf_namings_hold_the_same_parameters, 0, (int)shapes_count);
	tcase_add_loop_test(tc, tensor_names_are_unique_and_well_formed, 0, (int)shapes_count);
	tcase_add_test(tc, gguf_tensor_counts_follow_the_block_structure);
	tcase_add_test(tc, layer_structure_follows_the_config);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(files, setup, teardown);
	tcase_set_timeout(files, 120);
	tcase_add_test(files, gguf_files_are_full_size_and_sparse);
	tcase_add_test(files, gguf_refuses_a_type_the_shape_cannot_use);
	tcase_add_test(files, safetensors_shards_are_full_size_and_sparse);
	tcase_add_test(files, bitnet_safetensors_are_packed_like_the_published_checkpoint);
	suite_add_tcase(s, files);
	return s;
}

int main(void)
{
	return test_run_suite(shapes_suite());
}
