/*
 * genvocab.c - trit-genvocab: turns a Hugging Face tokenizer.json into a
 * vocabulary-only GGUF (the tokenizer.ggml.* keys a converter writes, plus
 * the few llama hyper-parameters llama.cpp reads before it skips the
 * tensors when loading vocab_only; no tensors), so trit and llama.cpp can
 * tokenize with the same real vocabulary in tests.
 *
 *   trit-genvocab --model gpt2 --pre llama-bpe --bos 128000 --eos 128001 IN.json OUT.gguf
 *   trit-genvocab --model llama IN.json OUT.gguf
 *
 * gpt2: model.vocab and model.merges (strings "a b" or pairs), added tokens
 * as control (special) or user-defined tokens. llama (SentencePiece): the
 * same tokenizer.json of a byte-fallback BPE model; tokenizer.json has no
 * SentencePiece scores, so normal tokens get score -id (their order, which
 * is the merge order), others 0 - trit and llama.cpp read the same file,
 * so only consistency matters, not the original scores.
 */
#include <build-config.h>

#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("trit-genvocab: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* ------------------------------------------------------------ GGUF writing */

static FILE *out;
static const char *out_path;

static void w(const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, out) != n)
		die("%s: write failed", out_path);
}
static void w32(uint32_t v) { w(&v, 4); }
static void w64(uint64_t v) { w(&v, 8); }
static void wstr(const char *s, size_t n) { w64(n); w(s, n); }
static void key(const char *k, uint32_t type) { wstr(k, strlen(k)); w32(type); }
static void kv_u32(const char *k, uint32_t v) { key(k, 4); w32(v); }
static void kv_f32(const char *k, float v) { key(k, 6); w(&v, 4); }
static void kv_bool(const char *k, int v) { unsigned char b = (unsigned char)!!v; key(k, 7); w(&b, 1); }
static void kv_str(const char *k, const char *v) { key(k, 8); wstr(v, strlen(v)); }
static void arr(const char *k, uint32_t elem, uint64_t n) { key(k, 9); w32(elem); w64(n); }

/* ------------------------------------------------------------- the vocab */

struct tok {
	char *text;
	int type;     /* GGUF token type */
	float score;
};

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		die("%s: cannot read", path);
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		die("%s: cannot read", path);
	buf[n] = 0;
	fclose(f);
	return buf;
}

static int is_byte_token(const char *s)
{
	return strlen(s) == 6 && strncmp(s, "<0x", 3) == 0 && s[5] == '>';
}

static struct tok *collect(const cJSON *root, int spm, uint32_t *n_out)
{
	const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(root, "model"), "vocab");
	const cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens"), *e;
	uint32_t n = 0;
	struct tok *t;

	if (!cJSON_IsObject(vocab))
		die("model.vocab: expected an object");
	cJSON_ArrayForEach(e, vocab)
		if (cJSON_IsNumber(e) && e->valuedouble >= n)
			n = (uint32_t)e->valuedouble + 1;
	cJSON_ArrayForEach(e, added) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
		if (cJSON_IsNumber(id) && id->valuedouble >= n)
			n = (uint32_t)id->valuedouble + 1;
	}
	if (n == 0 || n > (1u << 24))
		die("model.vocab: %u tokens", n);
	t = calloc(n, sizeof *t);
	if (!t)
		die("out of memory");
	cJSON_ArrayForEach(e, vocab) {
		uint32_t id = (uint32_t)e->valuedouble;
		t[id].text = e->string;
		t[id].type = spm && is_byte_token(e->string) ? 6 : 1;
		t[id].score = spm && t[id].type == 1 ? -(float)id : 0.0f;
	}
	cJSON_ArrayForEach(e, added) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
		const cJSON *content = cJSON_GetObjectItemCaseSensitive(e, "content");
		uint32_t i = (uint32_t)id->valuedouble;
		if (!cJSON_IsString(content))
			die("added_tokens: an entry without content");
		t[i].text = content->valuestring;
		t[i].type = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "special")) ? 3 : 4;
		t[i].score = 0.0f;
	}
	if (spm) {
		const cJSON *unk = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(root, "model"), "unk_token");
		for (uint32_t i = 0; i < n; i++)
			if (cJSON_IsString(unk) && t[i].text && strcmp(t[i].text, unk->valuestring) == 0)
				t[i].type = 2;
	}
	for (uint32_t i = 0; i < n; i++)
		if (!t[i].text) /* a hole in the ids: an unused token */
			t[i].text = "", t[i].type = 5;
	*n_out = n;
	return t;
}

static void write_merges(const cJSON *root)
{
	const cJSON *merges = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(root, "model"), "merges"), *e;

	if (!cJSON_IsArray(merges))
		die("model.merges: expected an array");
	arr("tokenizer.ggml.merges", 8, (uint64_t)cJSON_GetArraySize(merges));
	cJSON_ArrayForEach(e, merges) {
		if (cJSON_IsString(e)) {
			wstr(e->valuestring, strlen(e->valuestring));
		} else if (cJSON_IsArray(e) && cJSON_GetArraySize(e) == 2) {
			const char *a = cJSON_GetArrayItem(e, 0)->valuestring;
			const char *b = cJSON_GetArrayItem(e, 1)->valuestring;
			if (!a || !b)
				die("model.merges: a pair that is not two strings");
			w64(strlen(a) + 1 + strlen(b));
			w(a, strlen(a));
			w(" ", 1);
			w(b, strlen(b));
		} else {
			die("model.merges: an entry that is neither \"a b\" nor [a, b]");
		}
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' }, { "pre", required_argument, NULL, 'p' },
		{ "bos", required_argument, NULL, 'b' }, { "eos", required_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 }
	};
	const char *model = "gpt2", *pre = NULL;
	long bos = -1, eos = -1;
	int c, spm, n_kv;
	cJSON *root;
	char *json;
	struct tok *t;
	uint32_t n;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'm': model = optarg; break;
		case 'p': pre = optarg; break;
		case 'b': bos = strtol(optarg, NULL, 10); break;
		case 'e': eos = strtol(optarg, NULL, 10); break;
		default: die("usage: trit-genvocab [--model gpt2|llama] [--pre NAME] [--bos ID] [--eos ID] IN.json OUT.gguf");
		}
	}
	if (argc - optind != 2)
		die("usage: trit-genvocab [--model gpt2|llama] [--pre NAME] [--bos ID] [--eos ID] IN.json OUT.gguf");
	spm = strcmp(model, "llama") == 0;
	if (!spm && strcmp(model, "gpt2") != 0)
		die("--model: gpt2 or llama");
	json = read_file(argv[optind]);
	root = cJSON_Parse(json);
	free(json);
	if (!root)
		die("%s: not JSON", argv[optind]);
	t = collect(root, spm, &n);
	if (spm) {
		bos = bos < 0 ? 1 : bos;
		eos = eos < 0 ? 2 : eos;
	}
	out_path = argv[optind + 1];
	if (!(out = fopen(out_path, "wb")))
		die("%s: cannot create", out_path);
	n_kv = 11 + 7 + (spm ? 3 : 2) + (pre != NULL) + (bos >= 0) + (eos >= 0);
	w("GGUF", 4);
	w32(3);
	w64(0);              /* tensors */
	w64((uint64_t)n_kv);
	kv_str("general.architecture", "llama");
	kv_str("general.name", "trit-genvocab");
	kv_u32("general.alignment", 32);
	kv_u32("llama.context_length", 4096);
	kv_u32("llama.embedding_length", 64);
	kv_u32("llama.block_count", 1);
	kv_u32("llama.feed_forward_length", 128);
	kv_u32("llama.attention.head_count", 4);
	kv_u32("llama.attention.head_count_kv", 4);
	kv_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
	kv_u32("llama.vocab_size", n);
	/* 7 tokenizer keys */
	kv_str("tokenizer.ggml.model", model);
	arr("tokenizer.ggml.tokens", 8, n);
	for (uint32_t i = 0; i < n; i++)
		wstr(t[i].text, strlen(t[i].text));
	arr("tokenizer.ggml.token_type", 5, n);
	for (uint32_t i = 0; i < n; i++)
		w32((uint32_t)t[i].type);
	arr("tokenizer.ggml.scores", 6, n);
	for (uint32_t i = 0; i < n; i++)
		w(&t[i].score, 4);
	kv_bool("tokenizer.ggml.add_bos_token", 1);
	kv_bool("tokenizer.ggml.add_eos_token", 0);
	kv_bool("tokenizer.ggml.add_space_prefix", spm);
	if (spm) {
		kv_u32("tokenizer.ggml.unknown_token_id", 0);
		kv_u32("tokenizer.ggml.padding_token_id", 0);
		kv_u32("tokenizer.ggml.eot_token_id", (uint32_t)eos); /* the same id, another key */
	} else {
		write_merges(root);
		kv_u32("tokenizer.ggml.padding_token_id", (uint32_t)(eos >= 0 ? eos : 0));
	}
	if (pre)
		kv_str("tokenizer.ggml.pre", pre);
	if (bos >= 0)
		kv_u32("tokenizer.ggml.bos_token_id", (uint32_t)bos);
	if (eos >= 0)
		kv_u32("tokenizer.ggml.eos_token_id", (uint32_t)eos);
	for (long pos = ftell(out); pos % 32; pos++)
		w("", 1);
	if (fclose(out))
		die("%s: write failed", out_path);
	free(t);
	cJSON_Delete(root);
	return 0;
}
