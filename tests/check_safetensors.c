/*
 * check_safetensors.c - the specification of runtime/model/safetensors.c:
 * which SafeTensors files, shard indexes and config.json files are accepted,
 * what is read from them, and what each defect reports. Fixtures are written
 * at test time into a fresh temporary directory (data sections are sparse).
 *
 * Facts about microsoft/bitnet-b1.58-2B-4T (the packed release on Hugging
 * Face) for model.c, with where they were read (April 2025 re-upload):
 *
 *  - Weights come as one file, model.safetensors, no index (ik_llama.cpp
 *    PR #337 conversion log: "loading model part 'model.safetensors'").
 *  - Tensor names follow Llama plus two sub-norms (transformers
 *    models/bitnet/modular_bitnet.py): model.embed_tokens.weight;
 *    model.layers.N.input_layernorm.weight, .post_attention_layernorm.weight;
 *    model.layers.N.self_attn.{q,k,v,o}_proj.weight and .weight_scale;
 *    model.layers.N.self_attn.attn_sub_norm.weight [hidden];
 *    model.layers.N.mlp.{gate,up,down}_proj.weight and .weight_scale;
 *    model.layers.N.mlp.ffn_sub_norm.weight [intermediate]; model.norm.weight.
 *    Embeddings are tied: no lm_head.weight (the GGUF has 332 = 30*11 + 2
 *    tensors); model.c should still take an lm_head.weight when present.
 *  - Projections are dtype U8, shape [out/4, in]: four ternary weights per
 *    byte, packed along the OUTPUT dimension (transformers
 *    integrations/bitnet.py: BitLinear registers weight as
 *    (out_features // 4, in_features) uint8; the PR #337 log shows
 *    down_proj.weight torch.uint8 with GGUF shape {6912, 640}, i.e.
 *    safetensors [640, 6912]). For 2B-4T: q/o [640, 2560], k/v [160, 2560],
 *    gate/up [1728, 2560], down [640, 6912].
 *  - Bits: byte [r][c] holds column c of rows r + i*(out/4), i = 0..3, in
 *    bits 2i..2i+1 (LSB first); code = w + 1 (0 -> -1, 1 -> 0, 2 -> +1).
 *    Rows are interleaved by blocks of out/4, not four consecutive rows
 *    (transformers unpack_weights; mlx-lm models/bitlinear_layers.py kernel
 *    writes out[row + i*(out/4)] from (w >> 2i) & 3).
 *  - weight_scale: one value per projection, shape [1] (BitLinear registers
 *    it as (1,)), in the model dtype (bf16 per torch_dtype; the header's
 *    dtype for it was not seen first hand, so accept BF16, F16 and F32).
 *    With linear_class "bitlinear" it DIVIDES: y = (Wt . xq) / (sx * scale),
 *    i.e. it is 1 / absmean (BitLinear.post_quant_process; mlx-lm inverts it
 *    with invert_weight_scales; lablup/mlxcel PR #287: "scales are inverted
 *    unless linear_class == autobitlinear").
 *  - Norms and embeddings are BF16: embed_tokens [128256, 2560],
 *    input_layernorm [2560] (PR #337 log: torch.bfloat16).
 *  - config.json: architectures ["BitNetForCausalLM"] (older 1bitLLM models
 *    say "BitnetForCausalLM"), model_type "bitnet", hidden_act "relu2",
 *    hidden_size 2560, intermediate_size 6912, num_hidden_layers 30,
 *    num_attention_heads 20, num_key_value_heads 5, vocab_size 128256,
 *    rms_norm_eps 1e-5, rope_theta 500000, bos 128000, eos 128001
 *    (transformers configuration_bitnet.py defaults "similar to"
 *    2B-4T); context 4096 per the model card; tie_word_embeddings true,
 *    torch_dtype "bfloat16".
 *  - quantization_config: {"quant_method": "bitnet", "linear_class":
 *    "bitlinear", "quantization_mode": "offline"} (transformers
 *    BitNetQuantConfig defaults; third-party loaders check quant_method
 *    "bitnet" and quantization_mode "offline" against the published file).
 *    The -bf16 repo says "autobitlinear"/"online" instead (bf16 masters,
 *    quantized on the fly). The published config.json was not available
 *    byte for byte here: model.c should read these keys, not assume them.
 */
#include <build-config.h>

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/common.h"
#include "core/log.h"
#include "model/safetensors.h"
#include "support/support.h"

/* ---------------------------------------------------------------- fixture */

static char tmpdir[64];
static char err[8192];
static struct trit_st *st;
static char *owned[256];
static unsigned n_owned;
static char warnings[8192];

static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[PATH_MAX];
	struct stat sb;

	while (d && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
		if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
			remove_tree(p);
		else
			unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

static void capture_warning(void *ctx, int level, const char *message)
{
	(void)ctx;
	if (level == TRIT_LOG_WARN)
		strncat(warnings, message, sizeof warnings - strlen(warnings) - 1);
}

static void setup(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/trit-check-st-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	err[0] = warnings[0] = '\0';
	st = NULL;
	n_owned = 0;
	trit_log_set_sink(capture_warning, NULL);
}

static void teardown(void)
{
	trit_st_close(st);
	st = NULL;
	for (unsigned i = 0; i < n_owned; i++)
		free(owned[i]);
	remove_tree(tmpdir);
	trit_log_set_sink(NULL, NULL);
}

/* A string the fixture frees at teardown. */
static char *keep(char *s)
{
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_lt(n_owned, 256);
	owned[n_owned++] = s;
	return s;
}

/* printf, then ' becomes ": JSON in C without a wall of backslashes. */
static char *J(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *J(const char *fmt, ...)
{
	va_list ap;
	int n;
	char *s;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	s = keep(malloc((size_t)n + 1));
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	for (char *p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	return s;
}

static const char *path(const char *name)
{
	return J("%s/%s", tmpdir, name);
}

/* File bytes: 8-byte little-endian header length, header, data_len bytes of
 * a pattern. */
static unsigned char *image(const char *header, uint64_t data_len, size_t *len)
{
	uint64_t n = strlen(header);
	unsigned char *b;

	*len = (size_t)(8 + n + data_len);
	b = (unsigned char *)keep(malloc(*len ? *len : 1));
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(n >> (8 * i));
	memcpy(b + 8, header, n);
	for (uint64_t i = 0; i < data_len; i++)
		b[8 + n + i] = (unsigned char)(i * 7 + 1);
	return b;
}

static void write_bytes(const char *file, const void *data, size_t len)
{
	FILE *f = fopen(file, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

static void write_text(const char *name, const char *text)
{
	write_bytes(path(name), text, strlen(text));
}

/* A .safetensors file whose data section is a hole of data_len bytes. */
static const char *write_st(const char *name, const char *header, uint64_t data_len)
{
	const char *p = path(name);
	size_t len;
	unsigned char *b = image(header, 0, &len);
	int fd;

	write_bytes(p, b, len);
	fd = open(p, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)(len + data_len)), 0);
	close(fd);
	return p;
}

static void assert_err_has(const char *const *parts)
{
	for (; *parts; parts++)
		ck_assert_msg(strstr(err, *parts), "error \"%s\" lacks \"%s\"", err, *parts);
}

#define ERR_HAS(...) assert_err_has((const char *const[]){ __VA_ARGS__, NULL })

/* Parse header + data from memory; expect rc and an error naming parts. */
#define PARSE_FAILS(header, data_len, code, ...) do {                                  \
	size_t len_;                                                                   \
	unsigned char *b_ = image((header), (data_len), &len_);                        \
	int rc_ = trit_st_parse(b_, len_, len_, "m.safetensors", &st, err, sizeof err); \
	ck_assert_msg(rc_ == (code), "rc %d, expected %d (%s)", rc_, (code), err);     \
	ck_assert_ptr_null(st);                                                        \
	ERR_HAS("m.safetensors", __VA_ARGS__);                                          \
} while (0)

#define OPEN_FAILS(p, code, ...) do {                                              \
	int rc_ = trit_st_open((p), &st, err, sizeof err);                             \
	ck_assert_msg(rc_ == (code), "rc %d, expected %d (%s)", rc_, (code), err);     \
	ck_assert_ptr_null(st);                                                        \
	ERR_HAS(__VA_ARGS__);                                                          \
} while (0)

static struct trit_st *parse_ok(const char *header, uint64_t data_len)
{
	size_t len;
	unsigned char *b = image(header, data_len, &len);
	int rc = trit_st_parse(b, len, len, "m.safetensors", &st, err, sizeof err);
	ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
	return st;
}

static struct trit_st *open_ok(const char *p)
{
	int rc = trit_st_open(p, &st, err, sizeof err);
	ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
	ck_assert_ptr_nonnull(st);
	return st;
}

static const struct trit_st_tensor *find(const char *name)
{
	for (uint64_t i = 0; i < st->n_tensors; i++)
		if (strcmp(st->tensors[i].name, name) == 0)
			return &st->tensors[i];
	ck_abort_msg("no tensor %s", name);
	return NULL;
}

/* A header laid out tensor after tensor, in the order given. */
struct spec {
	const char *name, *dtype;
	uint32_t n_dims;
	uint64_t shape[4];
};

static uint64_t spec_bytes(const struct spec *s)
{
	static const char *const names[] = { "F64", "F32", "F16", "BF16", "I64", "I32", "I16",
		"I8", "U64", "U32", "U16", "U8", "BOOL", "F8_E4M3", "F8_E5M2" };
	uint64_t n = 1;
	for (uint32_t d = 0; d < s->n_dims; d++)
		n *= s->shape[d];
	for (uint32_t i = 0; i < TRIT_ARRAY_LEN(names); i++)
		if (strcmp(names[i], s->dtype) == 0)
			return n * trit_st_dtype_size(i);
	ck_abort_msg("bad dtype %s in a test spec", s->dtype);
	return 0;
}

static char *layout(const struct spec *s, size_t n, uint64_t *data_len)
{
	size_t cap = 256 + n * 256, used = 0;
	char *h = keep(malloc(cap));
	uint64_t off = 0;

	used += (size_t)snprintf(h, cap, "{");
	for (size_t i = 0; i < n; i++) {
		uint64_t bytes = spec_bytes(&s[i]);
		used += (size_t)snprintf(h + used, cap - used, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[",
		                         i ? "," : "", s[i].name, s[i].dtype);
		for (uint32_t d = 0; d < s[i].n_dims; d++)
			used += (size_t)snprintf(h + used, cap - used, "%s%" PRIu64, d ? "," : "",
			                         s[i].shape[d]);
		used += (size_t)snprintf(h + used, cap - used,
		                         "],\"data_offsets\":[%" PRIu64 ",%" PRIu64 "]}", off,
		                         off + bytes);
		off += bytes;
	}
	snprintf(h + used, cap - used, "}");
	*data_len = off;
	return h;
}

/* One F32 [2] tensor "a" at [0, 8): the smallest interesting file. */
#define ONE_ENTRY "'a':{'dtype':'F32','shape':[2],'data_offsets':[0,8]}"
#define ONE "{" ONE_ENTRY "}"

/* ------------------------------------------------------------ single file */

START_TEST(single_file_with_every_dtype_a_scalar_and_an_empty_tensor_reads_back)
{
	static const char *const names[] = { "F64", "F32", "F16", "BF16", "I64", "I32", "I16",
		"I8", "U64", "U32", "U16", "U8", "BOOL", "F8_E4M3", "F8_E5M2" };
	struct spec s[TRIT_ST_DTYPE_COUNT + 2];
	uint64_t data_len, off = 0;
	const char *h, *p;

	for (uint32_t i = 0; i < TRIT_ST_DTYPE_COUNT; i++)
		s[i] = (struct spec){ names[i], names[i], 2, { 3, 2 } };
	s[TRIT_ST_DTYPE_COUNT] = (struct spec){ "scalar", "F32", 0, { 0 } };
	s[TRIT_ST_DTYPE_COUNT + 1] = (struct spec){ "empty", "F16", 2, { 0, 4 } };
	h = layout(s, TRIT_ARRAY_LEN(s), &data_len);
	p = write_st("every.safetensors", h, data_len);
	open_ok(p);

	ck_assert_uint_eq(st->n_shards, 1);
	ck_assert_str_eq(st->shards[0].path, p);
	ck_assert_uint_eq(st->shards[0].header_len, strlen(h));
	ck_assert_uint_eq(st->shards[0].file_size, 8 + strlen(h) + data_len);
	ck_assert_ptr_null(st->index_path);
	ck_assert_uint_eq(st->n_tensors, TRIT_ARRAY_LEN(s));
	for (uint32_t i = 0; i < TRIT_ARRAY_LEN(s); i++) {
		const struct trit_st_tensor *t = &st->tensors[i];
		uint64_t bytes = spec_bytes(&s[i]);
		ck_assert_str_eq(t->name, s[i].name); /* header order is kept */
		ck_assert_str_eq(trit_st_dtype_name(t->dtype), s[i].dtype);
		ck_assert_uint_eq(t->n_dims, s[i].n_dims);
		for (uint32_t d = 0; d < t->n_dims; d++)
			ck_assert_uint_eq(t->shape[d], s[i].shape[d]);
		/* offsets are absolute: past the 8-byte prefix and the header */
		ck_assert_uint_eq(t->begin, 8 + strlen(h) + off);
		ck_assert_uint_eq(t->end, t->begin + bytes);
		ck_assert_uint_eq(t->shard, 0);
		off += bytes;
	}
	ck_assert_uint_eq(find("scalar")->end - find("scalar")->begin, 4);
	ck_assert_uint_eq(find("empty")->end, find("empty")->begin);
}
END_TEST

START_TEST(dtype_names_and_sizes_match_the_format)
{
	static const uint32_t sizes[] = { 8, 4, 2, 2, 8, 4, 2, 1, 8, 4, 2, 1, 1, 1, 1 };
	ck_assert_str_eq(trit_st_dtype_name(TRIT_ST_BF16), "BF16");
	ck_assert_str_eq(trit_st_dtype_name(TRIT_ST_F8_E4M3), "F8_E4M3");
	ck_assert_str_eq(trit_st_dtype_name(TRIT_ST_BOOL), "BOOL");
	for (uint32_t i = 0; i < TRIT_ST_DTYPE_COUNT; i++)
		ck_assert_uint_eq(trit_st_dtype_size(i), sizes[i]);
	ck_assert_ptr_null(trit_st_dtype_name(TRIT_ST_DTYPE_COUNT));
	ck_assert_uint_eq(trit_st_dtype_size(TRIT_ST_DTYPE_COUNT), 0);
}
END_TEST

START_TEST(metadata_of_strings_is_kept_as_a_json_object)
{
	parse_ok(J("{'__metadata__':{'format':'pt','note':''}," ONE_ENTRY "}"), 8);
	ck_assert_uint_eq(st->n_tensors, 1);
	ck_assert_ptr_nonnull(st->metadata);
	ck_assert(cJSON_IsObject(st->metadata));
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(st->metadata, "format")->valuestring,
	                 "pt");
}
END_TEST

START_TEST(file_without_metadata_has_null_metadata)
{
	parse_ok(J(ONE), 8);
	ck_assert_ptr_null(st->metadata);
	ck_assert_ptr_null(st->config);
}
END_TEST

START_TEST(metadata_with_a_non_string_value_is_refused_naming_the_key)
{
	PARSE_FAILS(J("{'__metadata__':{'total':5}," ONE_ENTRY "}"), 8, TRIT_EFORMAT,
	            "\"__metadata__\".\"total\" is a number", "string");
	PARSE_FAILS(J("{'__metadata__':['pt']," ONE_ENTRY "}"), 8, TRIT_EFORMAT,
	            "\"__metadata__\" is an array");
}
END_TEST

START_TEST(metadata_given_twice_is_refused)
{
	PARSE_FAILS(J("{'__metadata__':{},'__metadata__':{}," ONE_ENTRY "}"), 8, TRIT_EFORMAT,
	            "\"__metadata__\" appears twice");
}
END_TEST

START_TEST(header_padded_with_trailing_spaces_is_accepted)
{
	parse_ok(J("%s        \n ", ONE), 8);
	ck_assert_uint_eq(st->n_tensors, 1);
	ck_assert_uint_eq(st->tensors[0].begin, 8 + strlen(ONE) + 10);
}
END_TEST

START_TEST(empty_object_header_with_no_data_is_an_empty_model)
{
	parse_ok("{}", 0);
	ck_assert_uint_eq(st->n_tensors, 0);
	ck_assert_uint_eq(st->n_shards, 1);
}
END_TEST

START_TEST(every_truncated_prefix_of_a_valid_file_is_refused_cleanly)
{
	const char *h = J("{'__metadata__':{'format':'pt'},'a':{'dtype':'F32','shape':[2],"
	                  "'data_offsets':[0,8]},'b':{'dtype':'U8','shape':[3],"
	                  "'data_offsets':[8,11]}}");
	size_t len;
	unsigned char *b = image(h, 11, &len);
	const char *p = path("t.safetensors");

	for (size_t cut = 0; cut < len; cut++) {
		int rc = trit_st_parse(b, cut, cut, "t.safetensors", &st, err, sizeof err);
		ck_assert_msg(rc == TRIT_EFORMAT, "prefix of %zu bytes: rc %d (%s)", cut, rc, err);
		ck_assert_ptr_null(st);
		write_bytes(p, b, cut);
		rc = trit_st_open(p, &st, err, sizeof err);
		ck_assert_msg(rc == TRIT_EFORMAT, "file of %zu bytes: rc %d (%s)", cut, rc, err);
		ck_assert_ptr_null(st);
		ck_assert_ptr_nonnull(strstr(err, p));
	}
	ck_assert_int_eq(trit_st_parse(b, len, len, "t", &st, err, sizeof err), 0);
}
END_TEST

START_TEST(file_shorter_than_the_8_byte_length_is_refused)
{
	write_bytes(path("short.safetensors"), "\x02\0\0", 3);
	OPEN_FAILS(path("short.safetensors"), TRIT_EFORMAT, "short.safetensors", "3 bytes",
	           "8-byte header length");
}
END_TEST

START_TEST(huge_header_length_is_refused_against_the_100_MiB_limit)
{
	unsigned char b[16] = { 0 };

	b[7] = 0x80; /* 2^63 */
	ck_assert_int_eq(trit_st_parse(b, 16, 16, "h", &st, err, sizeof err), TRIT_ERANGE);
	ERR_HAS("h: header length 9223372036854775808", "limit of 104857600");
	memset(b, 0, sizeof b);
	b[0] = 0x01; /* 100 MiB + 1 = 0x06400001 */
	b[2] = 0x40;
	b[3] = 0x06;
	ck_assert_int_eq(trit_st_parse(b, 16, 16, "h", &st, err, sizeof err), TRIT_ERANGE);
	ERR_HAS("header length 104857601");
}
END_TEST

/* Regression: ~5 million tiny JSON values (10 MB of "0,") would have made cJSON
 * allocate hundreds of MB of nodes; the value count is now bounded first. */
START_TEST(header_with_millions_of_json_values_is_refused_before_parsing)
{
	const size_t n = (size_t)TRIT_ST_MAX_JSON_VALUES + 16;
	char *h = malloc(n * 2 + 64);
	size_t len, at;
	unsigned char *img;

	ck_assert_ptr_nonnull(h);
	at = (size_t)sprintf(h, "{\"__metadata__\":{\"a\":[");
	for (size_t i = 0; i < n; i++) {
		h[at++] = '0';
		h[at++] = ',';
	}
	at--; /* drop the last comma */
	memcpy(h + at, "]}}", 4);
	img = image(h, 0, &len);
	ck_assert_int_eq(trit_st_parse(img, len, len, "h", &st, err, sizeof err), TRIT_EFORMAT);
	ERR_HAS("h: the JSON at byte offset 8", "values", "at most 4194304");
	free(h);
}
END_TEST

START_TEST(header_length_past_the_end_of_the_file_is_refused)
{
	size_t len;
	unsigned char *b = image(J(ONE), 8, &len);

	b[0] = (unsigned char)(len - 8 + 1);
	ck_assert_int_eq(trit_st_parse(b, len, len, "p", &st, err, sizeof err), TRIT_EFORMAT);
	ERR_HAS("runs past the end of the file");
	write_bytes(path("p.safetensors"), b, len);
	OPEN_FAILS(path("p.safetensors"), TRIT_EFORMAT, "p.safetensors", "runs past the end");
}
END_TEST

START_TEST(header_length_below_2_is_refused)
{
	PARSE_FAILS("", 0, TRIT_EFORMAT, "header length 0", "at least 2");
	PARSE_FAILS("{", 0, TRIT_EFORMAT, "header length 1");
}
END_TEST

START_TEST(invalid_json_names_its_byte_offset_in_the_file)
{
	/* '@' is header byte 11, so file byte 8 + 11 = 19 */
	PARSE_FAILS(J("{'a':1,'b':@}"), 0, TRIT_EFORMAT, "invalid JSON at byte offset 19");
	PARSE_FAILS(J("{'a':{'dtype':'F32',"), 0, TRIT_EFORMAT, "invalid JSON at byte offset");
}
END_TEST

START_TEST(bytes_after_the_header_json_other_than_spaces_are_refused)
{
	PARSE_FAILS(J("%s  x", ONE), 8, TRIT_EFORMAT, "unexpected bytes after the JSON value",
	            J("byte offset %zu", 8 + strlen(ONE) + 2));
}
END_TEST

START_TEST(header_that_is_not_a_json_object_is_refused)
{
	PARSE_FAILS("[1, 2]", 0, TRIT_EFORMAT, "is an array; expected a JSON object");
	PARSE_FAILS(J("'a'"), 0, TRIT_EFORMAT, "is a string; expected a JSON object");
}
END_TEST

START_TEST(header_that_is_not_utf8_is_refused_with_its_offset)
{
	PARSE_FAILS(J("{'\xff':{}}"), 0, TRIT_EFORMAT, "not UTF-8", "byte offset 10");
	PARSE_FAILS(J("{'\xc0\xaf':{}}"), 0, TRIT_EFORMAT, "not UTF-8"); /* overlong '/' */
	PARSE_FAILS(J("{'\xed\xa0\x80':{}}"), 0, TRIT_EFORMAT, "not UTF-8"); /* surrogate */
	{
		size_t len;
		unsigned char *b = image("{\"a\":1}", 0, &len);
		b[8 + 3] = 0;
		ck_assert_int_eq(trit_st_parse(b, len, len, "z", &st, err, sizeof err),
		                 TRIT_EFORMAT);
		ERR_HAS("a NUL byte at byte offset 11");
	}
	/* and valid multi-byte names are fine */
	parse_ok(J("{'w\xc3\xa9ight \xe2\x82\xac \xf0\x9f\x98\x80':{'dtype':'U8','shape':[1],"
	           "'data_offsets':[0,1]}}"), 1);
	ck_assert_str_eq(st->tensors[0].name, "w\xc3\xa9ight \xe2\x82\xac \xf0\x9f\x98\x80");
}
END_TEST

START_TEST(names_with_an_escaped_nul_are_refused)
{
	/* cJSON would cut "a\u0000x" to "a": refuse instead of renaming */
	PARSE_FAILS(J("{'a\\u0000x':{'dtype':'U8','shape':[1],'data_offsets':[0,1]}}"), 1,
	            TRIT_EFORMAT, "\"\\u0000\" at byte offset 11", "must not contain NUL");
	/* an escaped backslash followed by the text u0000 is an ordinary name */
	parse_ok(J("{'a\\\\u0000':{'dtype':'U8','shape':[1],'data_offsets':[0,1]}}"), 1);
	ck_assert_str_eq(st->tensors[0].name, "a\\u0000");
}
END_TEST

START_TEST(unknown_dtype_is_refused_and_named)
{
	PARSE_FAILS(J("{'a':{'dtype':'F4','shape':[2],'data_offsets':[0,8]}}"), 8, TRIT_EFORMAT,
	            "tensor \"a\"", "\"dtype\" is \"F4\"", "expected one of F64 F32");
	/* the spelling is exact: no lower case, no aliases */
	PARSE_FAILS(J("{'a':{'dtype':'f32','shape':[2],'data_offsets':[0,8]}}"), 8, TRIT_EFORMAT,
	            "\"dtype\" is \"f32\"");
	PARSE_FAILS(J("{'a':{'dtype':'FLOAT32','shape':[2],'data_offsets':[0,8]}}"), 8,
	            TRIT_EFORMAT, "\"FLOAT32\"");
	PARSE_FAILS(J("{'a':{'dtype':4,'shape':[2],'data_offsets':[0,8]}}"), 8, TRIT_EFORMAT,
	            "\"dtype\" is a number");
}
END_TEST

START_TEST(negative_fractional_huge_and_non_numeric_shape_values_are_refused)
{
	static const char *const bad[][2] = {
		{ "-1", "found -1" },
		{ "1.5", "found 1.5" },
		{ "9007199254740992", "above 2^53 - 1" },
		{ "1e300", "above 2^53 - 1" },
		{ "'2'", "found a string" },
		{ "null", "found null" },
	};
	for (size_t i = 0; i < TRIT_ARRAY_LEN(bad); i++)
		PARSE_FAILS(J("{'a':{'dtype':'U8','shape':[1,%s],'data_offsets':[0,1]}}", bad[i][0]),
		            1, TRIT_EFORMAT, "tensor \"a\": \"shape\"[1]", "non-negative integer",
		            bad[i][1]);
	PARSE_FAILS(J("{'a':{'dtype':'U8','shape':3,'data_offsets':[0,3]}}"), 3, TRIT_EFORMAT,
	            "\"shape\" is a number; expected an array");
}
END_TEST

START_TEST(largest_exact_integer_2_pow_53_minus_1_is_accepted)
{
	/* an empty tensor with one huge dimension: the count is exact */
	parse_ok(J("{'a':{'dtype':'U8','shape':[9007199254740991,0],'data_offsets':[0,0]}}"), 0);
	ck_assert_uint_eq(st->tensors[0].shape[0], UINT64_C(9007199254740991));
}
END_TEST

START_TEST(shape_whose_element_count_overflows_is_refused)
{
	PARSE_FAILS(J("{'a':{'dtype':'U8','shape':[4294967296,4294967296,2],"
	              "'data_offsets':[0,0]}}"), 0, TRIT_EFORMAT,
	            "shape [4294967296, 4294967296, 2] has more than 2^64 elements");
	PARSE_FAILS(J("{'a':{'dtype':'F64','shape':[2147483648,2147483648],"
	              "'data_offsets':[0,0]}}"), 0, TRIT_EFORMAT,
	            "shape [2147483648, 2147483648] of F64 needs more than 2^64 bytes");
}
END_TEST

START_TEST(zero_dimension_makes_an_empty_tensor_whatever_the_others)
{
	parse_ok(J("{'a':{'dtype':'F32','shape':[4294967296,4294967296,0],"
	           "'data_offsets':[0,0]}}"), 0);
	ck_assert_uint_eq(st->tensors[0].end, st->tensors[0].begin);
}
END_TEST

START_TEST(more_than_8_dimensions_are_refused)
{
	PARSE_FAILS(J("{'a':{'dtype':'U8','shape':[1,1,1,1,1,1,1,1,1],'data_offsets':[0,1]}}"),
	            1, TRIT_ERANGE, "9 dimensions", "at most 8");
	parse_ok(J("{'a':{'dtype':'U8','shape':[1,1,1,1,1,1,1,1],'data_offsets':[0,1]}}"), 1);
	ck_assert_uint_eq(st->tensors[0].n_dims, 8);
}
END_TEST

START_TEST(data_offsets_of_the_wrong_length_or_type_are_refused)
{
	PARSE_FAILS(J("{'a':{'dtype':'F32','shape':[2],'data_offsets':[8]}}"), 8, TRIT_EFORMAT,
	            "\"data_offsets\" has 1 entries; expected 2");
	PARSE_FAILS(J("{'a':{'dtype':'F32','shape':[2],'data_offsets':[0,8,8]}}"), 8,
	            TRIT_EFORMAT, "\"data_offsets\" has 3 entries");
	PARSE_FAILS(J("{'a':{'dtype':'F32','shape':[2],'data_offsets':{}}}"), 8, TRIT_EFORMAT,
	            "\"data_offsets\" is an object");
	PARSE_FAILS(J("{'a':{'dtype':'F32','shape':[2],'data_offsets':[0,-8]}}"), 8,
	            TRIT_EFORMAT, "\"data_offsets\"[1]", "found -8");
}
END_TEST

START_TEST(reversed_data_offsets_are_refused)
{
	PARSE_FAILS(J("{'a':{'dtype':'F32','shape':[2],'data_offsets':[8,0]}}"), 8, TRIT_EFORMAT,
	            "tensor \"a\"", "[8, 0] begins after it ends");
}
END_TEST

START_TEST(data_offsets_past_the_data_section_are_refused)
{
	PARSE_FAILS(J("{'a':{'dtype':'F32','shape':[2],'data_offsets':[0,8]}}"), 7, TRIT_EFORMAT,
	            "end 8 is past the end of the data section (7 bytes");
}
END_TEST

START_TEST(data_offsets_that_disagree_with_shape_and_dtype_are_refused)
{
	PARSE_FAILS(J("{'a':{'dtype':'BF16','shape':[3,2],'data_offsets':[0,16]}}"), 16,
	            TRIT_EFORMAT, "[0, 16] span 16 bytes",
	            "shape [3, 2] of BF16 needs 12 (6 elements x 2 bytes)");
}
END_TEST

START_TEST(overlapping_tensors_are_refused_naming_both)
{
	PARSE_FAILS(J("{'a':{'dtype':'U8','shape':[8],'data_offsets':[0,8]},"
	              "'b':{'dtype':'U8','shape':[8],'data_offsets':[4,12]}}"), 12, TRIT_EFORMAT,
	            "tensors \"a\" (data_offsets [0, 8]) and \"b\" ([4, 12]) overlap");
	/* the same bytes claimed twice */
	PARSE_FAILS(J("{'a':{'dtype':'U8','shape':[8],'data_offsets':[0,8]},"
	              "'b':{'dtype':'I8','shape':[8],'data_offsets':[0,8]}}"), 8, TRIT_EFORMAT,
	            "overlap");
}
END_TEST

START_TEST(holes_in_the_data_section_are_refused_naming_the_neighbours)
{
	PARSE_FAILS(J("{'a':{'dtype':'U8','shape':[4],'data_offsets':[0,4]},"
	              "'b':{'dtype':'U8','shape':[4],'data_offsets':[6,10]}}"), 10, TRIT_EFORMAT,
	            "data section bytes 4..6 belong to no tensor", "between \"a\" and \"b\"");
	PARSE_FAILS(J("{'b':{'dtype':'U8','shape':[4],'data_offsets':[2,6]}}"), 6, TRIT_EFORMAT,
	            "bytes 0..2 belong to no tensor", "before \"b\"");
	PARSE_FAILS(J(ONE), 12, TRIT_EFORMAT, "bytes 8..12 belong to no tensor",
	            "after \"a\"");
	PARSE_FAILS("{}", 3, TRIT_EFORMAT, "3 bytes but no tensor holds any of them");
}
END_TEST

START_TEST(tensors_listed_out_of_file_order_are_accepted)
{
	parse_ok(J("{'b':{'dtype':'U8','shape':[4],'data_offsets':[4,8]},"
	           "'a':{'dtype':'U8','shape':[4],'data_offsets':[0,4]}}"), 8);
	ck_assert_str_eq(st->tensors[0].name, "b");
	ck_assert_uint_eq(st->tensors[1].end, st->tensors[0].begin);
}
END_TEST

START_TEST(duplicate_tensor_names_are_refused)
{
	PARSE_FAILS(J("{'a':{'dtype':'U8','shape':[4],'data_offsets':[0,4]},"
	              "'a':{'dtype':'U8','shape':[4],'data_offsets':[4,8]}}"), 8, TRIT_EFORMAT,
	            "tensor \"a\" appears twice");
}
END_TEST

START_TEST(empty_tensor_name_is_refused)
{
	PARSE_FAILS(J("{'':{'dtype':'F32','shape':[2],'data_offsets':[0,8]}}"), 8, TRIT_EFORMAT,
	            "tensor names must not be empty");
}
END_TEST

START_TEST(unknown_member_in_a_tensor_entry_is_named)
{
	PARSE_FAILS(J("{'a':{'dtype':'F32','shape':[2],'data_offsets':[0,8],'offsets':[0,8]}}"),
	            8, TRIT_EFORMAT, "tensor \"a\" has an unknown member \"offsets\"");
}
END_TEST

START_TEST(missing_or_repeated_member_in_a_tensor_entry_is_refused)
{
	PARSE_FAILS(J("{'a':{'dtype':'F32','shape':[2]}}"), 0, TRIT_EFORMAT,
	            "tensor \"a\" has no \"data_offsets\"");
	PARSE_FAILS(J("{'a':{'dtype':'F32','data_offsets':[0,8]}}"), 8, TRIT_EFORMAT,
	            "has no \"shape\"");
	PARSE_FAILS(J("{'a':{'dtype':'F32','dtype':'F32','shape':[2],'data_offsets':[0,8]}}"), 8,
	            TRIT_EFORMAT, "tensor \"a\" has \"dtype\" twice");
}
END_TEST

START_TEST(tensor_entry_that_is_not_an_object_is_refused)
{
	PARSE_FAILS(J("{'a':[1,2]}"), 0, TRIT_EFORMAT, "tensor \"a\" is an array",
	            "expected an object with \"dtype\"");
}
END_TEST

START_TEST(parse_checks_its_arguments)
{
	unsigned char b[16] = { 0 };
	ck_assert_int_eq(trit_st_parse(b, 16, 16, "x", NULL, err, sizeof err), TRIT_EINVAL);
	ck_assert_int_eq(trit_st_parse(NULL, 4, 4, "x", &st, err, sizeof err), TRIT_EINVAL);
	ck_assert_int_eq(trit_st_parse(b, 16, 8, "x", &st, err, sizeof err), TRIT_EINVAL);
	ck_assert_int_eq(trit_st_open(NULL, &st, err, sizeof err), TRIT_EINVAL);
	/* a prefix is enough when the header fits in it */
	{
		size_t len;
		unsigned char *img = image(J(ONE), 8, &len);
		ck_assert_int_eq(trit_st_parse(img, len - 8, len, "pre", &st, err, sizeof err), 0);
		trit_st_close(st);
		st = NULL;
		ck_assert_int_eq(trit_st_parse(img, 10, len, "pre", &st, err, sizeof err),
		                 TRIT_EINVAL);
		ERR_HAS("only 10 bytes given");
	}
}
END_TEST

START_TEST(missing_file_is_refused_with_the_reason)
{
	OPEN_FAILS(path("nope.safetensors"), TRIT_EIO, "nope.safetensors",
	           "No such file or directory");
}
END_TEST

/* ------------------------------------------------------------ sharded */

static const char *const SHARD1 = "model-00001-of-00002.safetensors";
static const char *const SHARD2 = "model-00002-of-00002.safetensors";

/* Two shards: {embed, norm} and {layer.w, layer.w_scale}; 30 bytes in all. */
static void write_shards(void)
{
	write_st(SHARD1, J("{'__metadata__':{'format':'pt'},"
	                   "'embed':{'dtype':'BF16','shape':[4,2],'data_offsets':[0,16]},"
	                   "'norm':{'dtype':'F32','shape':[2],'data_offsets':[16,24]}}"), 24);
	write_st(SHARD2, J("{'layer.w':{'dtype':'U8','shape':[1,4],'data_offsets':[0,4]},"
	                   "'layer.w_scale':{'dtype':'BF16','shape':[1],'data_offsets':[4,6]}}"),
	         6);
}

static const char *write_index(const char *metadata, const char *map)
{
	write_text("model.safetensors.index.json",
	           J("{%s%s'weight_map':{%s}}", metadata ? metadata : "", metadata ? "," : "",
	             map));
	return path("model.safetensors.index.json");
}

#define MAP_OK "'layer.w':'model-00002-of-00002.safetensors'," \
               "'embed':'model-00001-of-00002.safetensors'," \
               "'layer.w_scale':'model-00002-of-00002.safetensors'," \
               "'norm':'model-00001-of-00002.safetensors'"

static void check_sharded(void)
{
	ck_assert_uint_eq(st->n_shards, 2);
	ck_assert_str_eq(st->shards[0].path, path(SHARD1)); /* shards in name order */
	ck_assert_str_eq(st->shards[1].path, path(SHARD2));
	ck_assert_uint_eq(st->n_tensors, 4);
	ck_assert_str_eq(st->tensors[0].name, "embed");  /* shard, then header order */
	ck_assert_str_eq(st->tensors[3].name, "layer.w_scale");
	ck_assert_uint_eq(find("norm")->shard, 0);
	ck_assert_uint_eq(find("layer.w")->shard, 1);
	ck_assert_uint_eq(find("layer.w_scale")->begin, 8 + st->shards[1].header_len + 4);
	ck_assert_str_eq(st->index_path, path("model.safetensors.index.json"));
	ck_assert_ptr_nonnull(st->metadata); /* the first shard's __metadata__ */
}

START_TEST(sharded_model_reads_through_its_index)
{
	write_shards();
	open_ok(write_index(J("'metadata':{'total_size':30}"), J(MAP_OK)));
	check_sharded();
	ck_assert_str_eq(warnings, "");
}
END_TEST

START_TEST(sharded_model_reads_through_its_directory)
{
	write_shards();
	write_index(NULL, J(MAP_OK));
	open_ok(tmpdir); /* two .safetensors files, but the index says how they fit */
	check_sharded();
}
END_TEST

START_TEST(index_naming_a_missing_shard_is_refused)
{
	write_shards();
	OPEN_FAILS(write_index(NULL, J(MAP_OK ",'extra':'model-00003-of-00002.safetensors'")),
	           TRIT_EIO, "model.safetensors.index.json", "tensor \"extra\"",
	           "model-00003-of-00002.safetensors\", but",
	           J("%s/model-00003-of-00002.safetensors does not exist", tmpdir));
}
END_TEST

START_TEST(index_placing_a_tensor_in_the_wrong_shard_is_refused)
{
	write_shards();
	OPEN_FAILS(write_index(NULL, J("'layer.w':'%s','embed':'%s','layer.w_scale':'%s',"
	                               "'norm':'%s'", SHARD2, SHARD1, SHARD2, SHARD2)),
	           TRIT_EFORMAT, "puts tensor \"norm\" in \"model-00002-of-00002.safetensors\"",
	           J("but it is in %s", path(SHARD1)));
}
END_TEST

START_TEST(index_listing_a_tensor_no_shard_holds_is_refused)
{
	write_shards();
	OPEN_FAILS(write_index(NULL, J(MAP_OK ",'ghost':'%s'", SHARD2)), TRIT_EFORMAT,
	           "puts tensor \"ghost\" in \"model-00002-of-00002.safetensors\"",
	           "that shard has no such tensor");
}
END_TEST

START_TEST(shard_tensor_missing_from_the_weight_map_is_refused)
{
	write_shards();
	OPEN_FAILS(write_index(NULL, J("'layer.w':'%s','embed':'%s','norm':'%s'", SHARD2, SHARD1,
	                               SHARD1)),
	           TRIT_EFORMAT, J("%s holds tensor \"layer.w_scale\"", path(SHARD2)),
	           "does not list");
}
END_TEST

START_TEST(tensor_in_two_shards_is_refused)
{
	write_shards();
	write_st(SHARD2, J("{'layer.w':{'dtype':'U8','shape':[1,4],'data_offsets':[0,4]},"
	                   "'norm':{'dtype':'F32','shape':[2],'data_offsets':[4,12]}}"), 12);
	OPEN_FAILS(write_index(NULL, J("'layer.w':'%s','embed':'%s','norm':'%s'", SHARD2, SHARD1,
	                               SHARD1)),
	           TRIT_EFORMAT, "tensor \"norm\" is in both", path(SHARD1), path(SHARD2),
	           "exactly one shard");
}
END_TEST

START_TEST(shard_names_that_leave_the_directory_are_refused)
{
	static const char *const bad[] = { "../x.safetensors", "..", ".", "/etc/passwd",
		"sub/x.safetensors", "" };
	write_shards();
	for (size_t i = 0; i < TRIT_ARRAY_LEN(bad); i++)
		OPEN_FAILS(write_index(NULL, J(MAP_OK ",'x':'%s'", bad[i])), TRIT_EFORMAT,
		           J("\"weight_map\".\"x\" is \"%s\"", bad[i]), "plain file name");
}
END_TEST

START_TEST(index_without_a_weight_map_object_is_refused)
{
	write_text("model.safetensors.index.json", J("{'metadata':{}}"));
	OPEN_FAILS(path("model.safetensors.index.json"), TRIT_EFORMAT, "no \"weight_map\"");
	write_text("model.safetensors.index.json", J("{'weight_map':[]}"));
	OPEN_FAILS(path("model.safetensors.index.json"), TRIT_EFORMAT,
	           "\"weight_map\" is an array");
	write_text("model.safetensors.index.json", J("{'weight_map':{'a':3}}"));
	OPEN_FAILS(path("model.safetensors.index.json"), TRIT_EFORMAT,
	           "\"weight_map\".\"a\" is a number");
	write_text("model.safetensors.index.json", "[]");
	OPEN_FAILS(path("model.safetensors.index.json"), TRIT_EFORMAT, "is an array");
}
END_TEST

START_TEST(index_listing_a_tensor_twice_is_refused)
{
	write_shards();
	OPEN_FAILS(write_index(NULL, J(MAP_OK ",'norm':'%s'", SHARD1)), TRIT_EFORMAT,
	           "lists tensor \"norm\" twice");
}
END_TEST

START_TEST(malformed_index_reports_offset_line_and_column)
{
	write_text("model.safetensors.index.json", "{\n  \"weight_map\": {\n    \"a\": ,\n");
	OPEN_FAILS(path("model.safetensors.index.json"), TRIT_EFORMAT,
	           "invalid JSON at byte offset 29 (line 3, column 10)");
}
END_TEST

START_TEST(total_size_mismatch_is_reported_with_both_numbers)
{
	write_shards();
	open_ok(write_index(J("'metadata':{'total_size':31}"), J(MAP_OK)));
	ck_assert_msg(strstr(warnings, "\"total_size\" says 31 bytes") &&
	              strstr(warnings, "hold 30 bytes"), "warnings: %s", warnings);
}
END_TEST

/* ------------------------------------------------------------ directories */

START_TEST(directory_with_one_safetensors_file_opens_it)
{
	write_st("model.safetensors", J(ONE), 8);
	write_text("README.md", "hello");
	open_ok(tmpdir);
	ck_assert_str_eq(st->shards[0].path, path("model.safetensors"));
	ck_assert_ptr_null(st->index_path);
}
END_TEST

START_TEST(directory_with_several_safetensors_and_no_index_is_refused_listing_them)
{
	write_st("b.safetensors", J(ONE), 8);
	write_st("a.safetensors", J(ONE), 8);
	OPEN_FAILS(tmpdir, TRIT_EINVAL, "2 .safetensors files (a.safetensors, b.safetensors)",
	           "model.safetensors.index.json");
}
END_TEST

START_TEST(directory_without_a_model_is_refused)
{
	write_text("config.json", "{}");
	OPEN_FAILS(tmpdir, TRIT_EIO, "no model.safetensors.index.json and no .safetensors file");
}
END_TEST

/* ------------------------------------------------------------ config.json */

START_TEST(config_json_beside_the_model_is_parsed)
{
	write_st("model.safetensors", J(ONE), 8);
	write_text("config.json", J("{'model_type':'bitnet','hidden_size':2560}"));
	open_ok(path("model.safetensors"));
	ck_assert_ptr_nonnull(st->config);
	ck_assert_str_eq(st->config_path, path("config.json"));
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(st->config, "model_type")->valuestring,
	                 "bitnet");
	trit_st_close(st);
	st = NULL;
	open_ok(tmpdir); /* and through the directory */
	ck_assert_ptr_nonnull(st->config);
}
END_TEST

START_TEST(missing_config_json_is_fine)
{
	write_st("model.safetensors", J(ONE), 8);
	open_ok(path("model.safetensors"));
	ck_assert_ptr_null(st->config);
	ck_assert_ptr_null(st->config_path);
}
END_TEST

START_TEST(malformed_config_json_is_refused_with_its_offset)
{
	write_st("model.safetensors", J(ONE), 8);
	write_text("config.json", "{\"a\": 1,}");
	OPEN_FAILS(path("model.safetensors"), TRIT_EFORMAT, path("config.json"),
	           "invalid JSON at byte offset 8 (line 1, column 9)");
}
END_TEST

START_TEST(config_json_that_is_not_an_object_is_refused)
{
	write_st("model.safetensors", J(ONE), 8);
	write_text("config.json", "[1]");
	OPEN_FAILS(path("model.safetensors"), TRIT_EFORMAT, "config.json: is an array",
	           "expected a JSON object");
}
END_TEST

/* ------------------------------------------------------------ BitNet */

/* microsoft/bitnet-b1.58-2B-4T's layout (see the top of this file) at toy
 * size: hidden 8, 2 heads of 4, 1 KV head, intermediate 16, vocab 32. */
START_TEST(bitnet_2b4t_shaped_packed_u8_layout_with_weight_scales_reads)
{
	static const struct spec s[] = {
		{ "model.embed_tokens.weight", "BF16", 2, { 32, 8 } },
		{ "model.layers.0.input_layernorm.weight", "BF16", 1, { 8 } },
		{ "model.layers.0.self_attn.q_proj.weight", "U8", 2, { 8 / 4, 8 } },
		{ "model.layers.0.self_attn.q_proj.weight_scale", "BF16", 1, { 1 } },
		{ "model.layers.0.self_attn.k_proj.weight", "U8", 2, { 4 / 4, 8 } },
		{ "model.layers.0.self_attn.k_proj.weight_scale", "BF16", 1, { 1 } },
		{ "model.layers.0.self_attn.v_proj.weight", "U8", 2, { 4 / 4, 8 } },
		{ "model.layers.0.self_attn.v_proj.weight_scale", "BF16", 1, { 1 } },
		{ "model.layers.0.self_attn.attn_sub_norm.weight", "BF16", 1, { 8 } },
		{ "model.layers.0.self_attn.o_proj.weight", "U8", 2, { 8 / 4, 8 } },
		{ "model.layers.0.self_attn.o_proj.weight_scale", "BF16", 1, { 1 } },
		{ "model.layers.0.post_attention_layernorm.weight", "BF16", 1, { 8 } },
		{ "model.layers.0.mlp.gate_proj.weight", "U8", 2, { 16 / 4, 8 } },
		{ "model.layers.0.mlp.gate_proj.weight_scale", "BF16", 1, { 1 } },
		{ "model.layers.0.mlp.up_proj.weight", "U8", 2, { 16 / 4, 8 } },
		{ "model.layers.0.mlp.up_proj.weight_scale", "BF16", 1, { 1 } },
		{ "model.layers.0.mlp.ffn_sub_norm.weight", "BF16", 1, { 16 } },
		{ "model.layers.0.mlp.down_proj.weight", "U8", 2, { 8 / 4, 16 } },
		{ "model.layers.0.mlp.down_proj.weight_scale", "BF16", 1, { 1 } },
		{ "model.norm.weight", "BF16", 1, { 8 } },
	};
	uint64_t data_len;
	const char *h = layout(s, TRIT_ARRAY_LEN(s), &data_len);
	const struct trit_st_tensor *t;

	write_st("model.safetensors", h, data_len);
	write_text("config.json", J("{'architectures':['BitNetForCausalLM'],'model_type':'bitnet',"
	                            "'hidden_act':'relu2','hidden_size':8,'intermediate_size':16,"
	                            "'num_attention_heads':2,'num_key_value_heads':1,"
	                            "'num_hidden_layers':1,'vocab_size':32,'rms_norm_eps':1e-05,"
	                            "'rope_theta':500000.0,'tie_word_embeddings':true,"
	                            "'torch_dtype':'bfloat16','quantization_config':{"
	                            "'quant_method':'bitnet','linear_class':'bitlinear',"
	                            "'quantization_mode':'offline'}}"));
	open_ok(tmpdir);
	ck_assert_uint_eq(st->n_tensors, TRIT_ARRAY_LEN(s));
	t = find("model.layers.0.mlp.down_proj.weight");
	ck_assert_uint_eq(t->dtype, TRIT_ST_U8);
	ck_assert_uint_eq(t->n_dims, 2);
	ck_assert_uint_eq(t->shape[0], 8 / 4); /* [out/4, in] */
	ck_assert_uint_eq(t->shape[1], 16);
	ck_assert_uint_eq(t->end - t->begin, 2 * 16);
	t = find("model.layers.0.self_attn.k_proj.weight_scale");
	ck_assert_uint_eq(t->dtype, TRIT_ST_BF16);
	ck_assert_uint_eq(t->n_dims, 1);
	ck_assert_uint_eq(t->shape[0], 1);
	for (uint64_t i = 0; i < st->n_tensors; i++) /* tied embeddings */
		ck_assert_str_ne(st->tensors[i].name, "lm_head.weight");
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(st->config, "quantization_config"),
		"linear_class")->valuestring, "bitlinear");
}
END_TEST

/* ------------------------------------------------------------ runner */

static Suite *safetensors_suite(void)
{
	Suite *s = suite_create("safetensors");
	TCase *tc;

	tc = tcase_create("single file");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, single_file_with_every_dtype_a_scalar_and_an_empty_tensor_reads_back);
	tcase_add_test(tc, dtype_names_and_sizes_match_the_format);
	tcase_add_test(tc, header_with_millions_of_json_values_is_refused_before_parsing);
	tcase_add_test(tc, metadata_of_strings_is_kept_as_a_json_object);
	tcase_add_test(tc, file_without_metadata_has_null_metadata);
	tcase_add_test(tc, metadata_with_a_non_string_value_is_refused_naming_the_key);
	tcase_add_test(tc, metadata_given_twice_is_refused);
	tcase_add_test(tc, header_padded_with_trailing_spaces_is_accepted);
	tcase_add_test(tc, empty_object_header_with_no_data_is_an_empty_model);
	tcase_add_test(tc, every_truncated_prefix_of_a_valid_file_is_refused_cleanly);
	tcase_add_test(tc, file_shorter_than_the_8_byte_length_is_refused);
	tcase_add_test(tc, huge_header_length_is_refused_against_the_100_MiB_limit);
	tcase_add_test(tc, header_length_past_the_end_of_the_file_is_refused);
	tcase_add_test(tc, header_length_below_2_is_refused);
	tcase_add_test(tc, invalid_json_names_its_byte_offset_in_the_file);
	tcase_add_test(tc, bytes_after_the_header_json_other_than_spaces_are_refused);
	tcase_add_test(tc, header_that_is_not_a_json_object_is_refused);
	tcase_add_test(tc, header_that_is_not_utf8_is_refused_with_its_offset);
	tcase_add_test(tc, names_with_an_escaped_nul_are_refused);
	tcase_add_test(tc, unknown_dtype_is_refused_and_named);
	tcase_add_test(tc, negative_fractional_huge_and_non_numeric_shape_values_are_refused);
	tcase_add_test(tc, largest_exact_integer_2_pow_53_minus_1_is_accepted);
	tcase_add_test(tc, shape_whose_element_count_overflows_is_refused);
	tcase_add_test(tc, zero_dimension_makes_an_empty_tensor_whatever_the_others);
	tcase_add_test(tc, more_than_8_dimensions_are_refused);
	tcase_add_test(tc, data_offsets_of_the_wrong_length_or_type_are_refused);
	tcase_add_test(tc, reversed_data_offsets_are_refused);
	tcase_add_test(tc, data_offsets_past_the_data_section_are_refused);
	tcase_add_test(tc, data_offsets_that_disagree_with_shape_and_dtype_are_refused);
	tcase_add_test(tc, overlapping_tensors_are_refused_naming_both);
	tcase_add_test(tc, holes_in_the_data_section_are_refused_naming_the_neighbours);
	tcase_add_test(tc, tensors_listed_out_of_file_order_are_accepted);
	tcase_add_test(tc, duplicate_tensor_names_are_refused);
	tcase_add_test(tc, empty_tensor_name_is_refused);
	tcase_add_test(tc, unknown_member_in_a_tensor_entry_is_named);
	tcase_add_test(tc, missing_or_repeated_member_in_a_tensor_entry_is_refused);
	tcase_add_test(tc, tensor_entry_that_is_not_an_object_is_refused);
	tcase_add_test(tc, parse_checks_its_arguments);
	tcase_add_test(tc, missing_file_is_refused_with_the_reason);
	suite_add_tcase(s, tc);

	tc = tcase_create("sharded");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, sharded_model_reads_through_its_index);
	tcase_add_test(tc, sharded_model_reads_through_its_directory);
	tcase_add_test(tc, index_naming_a_missing_shard_is_refused);
	tcase_add_test(tc, index_placing_a_tensor_in_the_wrong_shard_is_refused);
	tcase_add_test(tc, index_listing_a_tensor_no_shard_holds_is_refused);
	tcase_add_test(tc, shard_tensor_missing_from_the_weight_map_is_refused);
	tcase_add_test(tc, tensor_in_two_shards_is_refused);
	tcase_add_test(tc, shard_names_that_leave_the_directory_are_refused);
	tcase_add_test(tc, index_without_a_weight_map_object_is_refused);
	tcase_add_test(tc, index_listing_a_tensor_twice_is_refused);
	tcase_add_test(tc, malformed_index_reports_offset_line_and_column);
	tcase_add_test(tc, total_size_mismatch_is_reported_with_both_numbers);
	suite_add_tcase(s, tc);

	tc = tcase_create("directories and config.json");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, directory_with_one_safetensors_file_opens_it);
	tcase_add_test(tc, directory_with_several_safetensors_and_no_index_is_refused_listing_them);
	tcase_add_test(tc, directory_without_a_model_is_refused);
	tcase_add_test(tc, config_json_beside_the_model_is_parsed);
	tcase_add_test(tc, missing_config_json_is_fine);
	tcase_add_test(tc, malformed_config_json_is_refused_with_its_offset);
	tcase_add_test(tc, config_json_that_is_not_an_object_is_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("bitnet");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, bitnet_2b4t_shaped_packed_u8_layout_with_weight_scales_reads);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(safetensors_suite());
}
