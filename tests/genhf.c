/*
 * genhf.c - trit-genhf: write a tiny Hugging Face BitNet b1.58 directory for
 * the `trit convert` tests: config.json, tokenizer.json (byte-level BPE: the
 * 256 GPT-2 byte tokens as ids 0-255, a few merges, two special added
 * tokens), tokenizer_config.json and model.safetensors whose BitLinear
 * matrices hold seeded trits times one scale per tensor.
 *
 *   trit-genhf -o DIR [--dtype F32|F16|BF16] [--seed N] [--shards 1|2]
 *              [--omit NAME] [--not-ternary NAME]
 *
 * --shards 2 splits the tensors over two files listed by
 * model.safetensors.index.json; --omit leaves one tensor out; --not-ternary
 * gives one matrix a value off its scale (what `trit convert --type i2_s`
 * must refuse). The test (tests/convert.sh) derives the
 * expected token ids from this file's vocabulary on its own.
 */
#include <build-config.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <trit/backend.h>
#include <trit/quant.h>

#define HIDDEN 128
#define FFN 256
#define LAYERS 2
#define HEADS 4
#define KV_HEADS 2
#define VOCAB 320 /* 256 bytes + merges + 2 specials, padded */
#define HEAD_DIM (HIDDEN / HEADS)

static const char *const merges[][2] = {
	{ "h", "e" }, { "l", "l" }, { "he", "ll" }, { "hell", "o" }, { "\xc4\xa0", "w" },
	{ "o", "r" }, { "\xc4\xa0w", "or" }, { "\xc4\xa0wor", "ld" }, { "l", "d" },
	{ "\xc4\xa0", "t" }, { "\xc4\xa0t", "he" }, { "i", "n" },
};
#define N_MERGES (sizeof merges / sizeof merges[0])

struct tensor {
	char name[96];
	uint64_t rows, cols; /* rows 0: a vector */
	int kind;            /* 0 embedding, 1 norm, 2 matrix */
};

static void die(const char *fmt, ...) TRIT_PRINTF(1, 2) __attribute__((noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("trit-genhf: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static uint64_t rng_state, rng_seed = 1;
static uint32_t rng(void)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng_state >> 33);
}

/* GPT-2's byte-to-unicode map: byte b as the UTF-8 of its code point. */
static void byte_text(unsigned b, char *out)
{
	unsigned cp = b, n = 0;

	if (!((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174))) {
		for (unsigned i = 0; i < b; i++)
			n += !((i >= 33 && i <= 126) || (i >= 161 && i <= 172) || (i >= 174));
		cp = 256 + n;
	}
	if (cp < 0x80) {
		out[0] = (char)cp;
		out[1] = 0;
	} else {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 63));
		out[2] = 0;
	}
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static FILE *create(const char *dir, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (!(f = fopen(path, "wb")))
		die("%s: cannot create", path);
	return f;
}

static void write_config(const char *dir)
{
	FILE *f = create(dir, "config.json");

	fprintf(f, "{\n  \"architectures\": [\"BitNetForCausalLM\"],\n  \"model_type\": \"bitnet\",\n"
	        "  \"hidden_size\": %d,\n  \"intermediate_size\": %d,\n  \"num_hidden_layers\": %d,\n"
	        "  \"num_attention_heads\": %d,\n  \"num_key_value_heads\": %d,\n"
	        "  \"vocab_size\": %d,\n  \"max_position_embeddings\": 256,\n"
	        "  \"rms_norm_eps\": 1e-05,\n  \"rope_theta\": 10000.0,\n  \"hidden_act\": \"relu2\",\n"
	        "  \"tie_word_embeddings\": true,\n  \"bos_token_id\": %zu,\n  \"eos_token_id\": %zu\n}\n",
	        HIDDEN, FFN, LAYERS, HEADS, KV_HEADS, VOCAB, 256 + N_MERGES, 256 + N_MERGES + 1);
	fclose(f);
}

static void write_tokenizer(const char *dir)
{
	FILE *f = create(dir, "tokenizer.json");
	char t[4];

	fprintf(f, "{\"version\": \"1.0\", \"added_tokens\": [\n"
	        "  {\"id\": %zu, \"content\": \"<|begin_of_text|>\", \"special\": true},\n"
	        "  {\"id\": %zu, \"content\": \"<|end_of_text|>\", \"special\": true}],\n"
	        " \"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false},\n"
	        " \"model\": {\"type\": \"BPE\", \"vocab\": {", 256 + N_MERGES, 256 + N_MERGES + 1);
	for (unsigned b = 0; b < 256; b++) {
		byte_text(b, t);
		fputs(b ? ", " : "", f);
		json_str(f, t);
		fprintf(f, ": %u", b);
	}
	for (size_t i = 0; i < N_MERGES; i++) {
		char m[32];
		snprintf(m, sizeof m, "%s%s", merges[i][0], merges[i][1]);
		fputs(", ", f);
		json_str(f, m);
		fprintf(f, ": %zu", 256 + i);
	}
	fputs("},\n  \"merges\": [", f);
	for (size_t i = 0; i < N_MERGES; i++) {
		char m[32];
		snprintf(m, sizeof m, "%s %s", merges[i][0], merges[i][1]);
		fputs(i ? ", " : "", f);
		json_str(f, m);
	}
	fputs("]}}\n", f);
	fclose(f);
	f = create(dir, "tokenizer_config.json");
	fputs("{\"add_bos_token\": true, \"bos_token\": \"<|begin_of_text|>\", "
	      "\"eos_token\": \"<|end_of_text|>\", \"chat_template\": \"{{ messages }}\"}\n", f);
	fclose(f);
}

static size_t list_tensors(struct tensor *t)
{
	static const struct { const char *name; int rows, cols, kind; } layer[] = {
		{ "input_layernorm", 0, HIDDEN, 1 },
		{ "self_attn.q_proj", HIDDEN, HIDDEN, 2 },
		{ "self_attn.k_proj", KV_HEADS * HEAD_DIM, HIDDEN, 2 },
		{ "self_attn.v_proj", KV_HEADS * HEAD_DIM, HIDDEN, 2 },
		{ "self_attn.o_proj", HIDDEN, HIDDEN, 2 },
		{ "self_attn.attn_sub_norm", 0, HIDDEN, 1 },
		{ "post_attention_layernorm", 0, HIDDEN, 1 },
		{ "mlp.gate_proj", FFN, HIDDEN, 2 },
		{ "mlp.up_proj", FFN, HIDDEN, 2 },
		{ "mlp.down_proj", HIDDEN, FFN, 2 },
		{ "mlp.ffn_sub_norm", 0, FFN, 1 },
	};
	size_t n = 0;

	t[n++] = (struct tensor){ "model.embed_tokens.weight", VOCAB, HIDDEN, 0 };
	for (int l = 0; l < LAYERS; l++)
		for (size_t i = 0; i < sizeof layer / sizeof layer[0]; i++, n++) {
			snprintf(t[n].name, sizeof t[n].name, "model.layers.%d.%s.weight", l, layer[i].name);
			t[n].rows = (uint64_t)layer[i].rows;
			t[n].cols = (uint64_t)layer[i].cols;
			t[n].kind = layer[i].kind;
		}
	t[n++] = (struct tensor){ "model.norm.weight", 0, HIDDEN, 1 };
	return n;
}

static float value(const struct tensor *t, size_t i, float scale)
{
	float u = (float)(rng() % 20001) / 10000.0f - 1.0f; /* [-1, 1] */

	(void)i;
	if (t->kind == 0)
		return u;
	if (t->kind == 1)
		return 1.0f + 0.1f * u;
	return (float)((int)(rng() % 3) - 1) * scale;
}

static void put_value(FILE *f, const char *dtype, float v)
{
	uint16_t h;

	if (strcmp(dtype, "F32") == 0) {
		fwrite(&v, 4, 1, f);
		return;
	}
	h = strcmp(dtype, "F16") == 0 ? trit_f32_to_f16(v) : trit_f32_to_bf16(v);
	fwrite(&h, 2, 1, f);
}

static uint64_t esize_of(const char *dtype)
{
	return strcmp(dtype, "F32") == 0 ? 4 : 2;
}

static int skipped(const struct tensor *t, const char *omit)
{
	return omit && strcmp(omit, t->name) == 0;
}

/* The header of a shard holding tensors [a, b). */
static void write_header(FILE *f, const struct tensor *t, size_t a, size_t b, const char *dtype,
                         const char *omit)
{
	size_t cap = 1 << 16, len = 0;
	char *h = malloc(cap);
	uint64_t off = 0, hlen;

	if (!h)
		die("out of memory");
	len += (size_t)snprintf(h + len, cap - len, "{\"__metadata__\": {\"format\": \"pt\"}");
	for (size_t i = a; i < b; i++) {
		uint64_t bytes = (t[i].rows ? t[i].rows : 1) * t[i].cols * esize_of(dtype);
		if (skipped(&t[i], omit))
			continue;
		if (t[i].rows)
			len += (size_t)snprintf(h + len, cap - len, ", \"%s\": {\"dtype\": \"%s\", \"shape\": "
			                        "[%" PRIu64 ", %" PRIu64 "], \"data_offsets\": [%" PRIu64 ", %"
			                        PRIu64 "]}", t[i].name, dtype, t[i].rows, t[i].cols, off,
			                        off + bytes);
		else
			len += (size_t)snprintf(h + len, cap - len, ", \"%s\": {\"dtype\": \"%s\", \"shape\": "
			                        "[%" PRIu64 "], \"data_offsets\": [%" PRIu64 ", %" PRIu64 "]}",
			                        t[i].name, dtype, t[i].cols, off, off + bytes);
		off += bytes;
	}
	len += (size_t)snprintf(h + len, cap - len, "}");
	while (len % 8)
		h[len++] = ' ';
	hlen = len;
	fwrite(&hlen, 8, 1, f);
	fwrite(h, 1, len, f);
	free(h);
}

/* Tensors [a, b) into one file. The values depend on the tensor's index
 * and the seed only, so one file or shards hold the same numbers. */
static void write_shard(FILE *f, const struct tensor *t, size_t a, size_t b, const char *dtype,
                        const char *omit, const char *not_ternary)
{
	write_header(f, t, a, b, dtype, omit);
	for (size_t i = a; i < b; i++) {
		uint64_t count = (t[i].rows ? t[i].rows : 1) * t[i].cols;
		float scale = 0.03125f * (float)(1 + i % 5);
		int off = not_ternary && strcmp(not_ternary, t[i].name) == 0;
		rng_state = rng_seed * 1000003u + i;
		if (skipped(&t[i], omit))
			continue;
		for (uint64_t k = 0; k < count; k++) {
			float v = value(&t[i], k, scale);
			put_value(f, dtype, off && k == count / 2 ? 0.5f * scale : v);
		}
	}
	if (fclose(f) != 0)
		die("write failed");
}

static void write_weights(const char *dir, const char *dtype, const char *omit,
                          const char *not_ternary, int shards)
{
	struct tensor t[2 + 11 * LAYERS];
	size_t n = list_tensors(t), half = n / 2;
	FILE *idx;

	if (shards == 1) {
		write_shard(create(dir, "model.safetensors"), t, 0, n, dtype, omit, not_ternary);
		return;
	}
	write_shard(create(dir, "model-00001-of-00002.safetensors"), t, 0, half, dtype, omit,
	            not_ternary);
	write_shard(create(dir, "model-00002-of-00002.safetensors"), t, half, n, dtype, omit,
	            not_ternary);
	idx = create(dir, "model.safetensors.index.json");
	fputs("{\"metadata\": {}, \"weight_map\": {", idx);
	for (size_t i = 0, first = 1; i < n; i++) {
		if (skipped(&t[i], omit))
			continue;
		fprintf(idx, "%s\"%s\": \"model-0000%d-of-00002.safetensors\"", first ? "" : ", ",
		        t[i].name, i < half ? 1 : 2);
		first = 0;
	}
	fputs("}}\n", idx);
	fclose(idx);
}

int main(int argc, char **argv)
{
	const char *dir = NULL, *dtype = "F32", *omit = NULL, *not_ternary = NULL;
	int shards = 1;

	for (int i = 1; i < argc; i += 2) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			die("usage: trit-genhf -o DIR [--dtype F32|F16|BF16] [--seed N] [--shards 1|2] "
			    "[--omit NAME] [--not-ternary NAME]");
		if (strcmp(a, "-o") == 0)
			dir = v;
		else if (strcmp(a, "--dtype") == 0)
			dtype = v;
		else if (strcmp(a, "--seed") == 0)
			rng_seed = strtoull(v, NULL, 10);
		else if (strcmp(a, "--shards") == 0)
			shards = atoi(v);
		else if (strcmp(a, "--omit") == 0)
			omit = v;
		else if (strcmp(a, "--not-ternary") == 0)
			not_ternary = v;
		else
			die("unknown option %s", a);
	}
	if (!dir || (shards != 1 && shards != 2) ||
	    (strcmp(dtype, "F32") && strcmp(dtype, "F16") && strcmp(dtype, "BF16")))
		die("usage: trit-genhf -o DIR [--dtype F32|F16|BF16] ...");
	mkdir(dir, 0755);
	write_config(dir);
	write_tokenizer(dir);
	write_weights(dir, dtype, omit, not_ternary, shards);
	return 0;
}
