/*
 * check_tokenizer.c - the tokenizers on small vocabularies built here as
 * GGUF bytes: BPE merges by rank, SentencePiece merges by score with byte
 * fallback, special tokens, BOS/EOS, round trips through the pieces (also
 * streamed), the Unicode classes, and the errors a bad vocabulary gives.
 * Agreement with llama.cpp on real vocabularies is tokenizer-crosscheck.sh's.
 */
#include <build-config.h>

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <trit/trit.h>

#include "model/gguf.h"
#include "support/support.h"
#include "text/tokenizer.h"
#include "text/unicode.h"
#include "text/vocab.h"

/* ------------------------------------------------------------ GGUF bytes */

struct buf {
	unsigned char *p;
	size_t n, cap;
	uint64_t n_kv;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 256;
		b->p = realloc(b->p, b->cap);
		ck_assert_ptr_nonnull(b->p);
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
}
static void put32(struct buf *b, uint32_t v) { put(b, &v, 4); }
static void put64(struct buf *b, uint64_t v) { put(b, &v, 8); }
static void put_str(struct buf *b, const char *s) { put64(b, strlen(s)); put(b, s, strlen(s)); }
static void key(struct buf *b, const char *k, uint32_t type) { put_str(b, k); put32(b, type); b->n_kv++; }
static void kv_str(struct buf *b, const char *k, const char *v) { key(b, k, TRIT_GGUF_STRING); put_str(b, v); }
static void kv_u32(struct buf *b, const char *k, uint32_t v) { key(b, k, TRIT_GGUF_U32); put32(b, v); }
static void kv_bool(struct buf *b, const char *k, int v)
{
	unsigned char c = (unsigned char)v;
	key(b, k, TRIT_GGUF_BOOL);
	put(b, &c, 1);
}
static void kv_strs(struct buf *b, const char *k, const char *const *v, size_t n)
{
	key(b, k, TRIT_GGUF_ARRAY);
	put32(b, TRIT_GGUF_STRING);
	put64(b, n);
	for (size_t i = 0; i < n; i++)
		put_str(b, v[i]);
}
static void kv_i32s(struct buf *b, const char *k, const int32_t *v, size_t n)
{
	key(b, k, TRIT_GGUF_ARRAY);
	put32(b, TRIT_GGUF_I32);
	put64(b, n);
	put(b, v, 4 * n);
}
static void kv_f32s(struct buf *b, const char *k, const float *v, size_t n)
{
	key(b, k, TRIT_GGUF_ARRAY);
	put32(b, TRIT_GGUF_F32);
	put64(b, n);
	put(b, v, 4 * n);
}

/* The whole file: header, then the pairs collected in kvs. */
static struct trit_gguf *parse(const struct buf *kvs, char *err, size_t errlen, int *rc)
{
	struct buf f = { 0 };
	struct trit_gguf *g = NULL;

	put(&f, "GGUF", 4);
	put32(&f, 3);
	put64(&f, 0);
	put64(&f, kvs->n_kv);
	put(&f, kvs->p, kvs->n);
	while (f.n % 32)
		put(&f, "", 1);
	*rc = trit_gguf_parse(f.p, f.n, f.n, "test.gguf", &g, err, errlen);
	free(f.p);
	return g;
}

/* ------------------------------------------------------ the vocabularies */

/* GPT-2's byte-to-character mapping, written out from its definition. */
static void byte_text(int b, char out[3])
{
	int printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
	int n = 0, c;

	if (printable) {
		c = b;
	} else {
		c = 256;
		for (int x = 0; x < b; x++)
			c += !((x >= '!' && x <= '~') || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE && x <= 0xFF));
	}
	if (c < 0x80) {
		out[n++] = (char)c;
	} else {
		out[n++] = (char)(0xC0 | (c >> 6));
		out[n++] = (char)(0x80 | (c & 0x3F));
	}
	out[n] = 0;
}

enum { BPE_HE = 256, BPE_LL, BPE_HELL, BPE_HELLO, BPE_GW, BPE_OR, BPE_GWOR, BPE_XYZ, BPE_BOS,
       BPE_EOS, BPE_USER, BPE_N };

static char bpe_bytes[256][3];
static const char *bpe_tokens[BPE_N];
static int32_t bpe_types[BPE_N];

/* 256 byte characters, seven merges, a token no merge makes (xyz), two
 * control tokens, one user-defined. */
static void bpe_kvs(struct buf *b, const char *pre)
{
	static const char *const merges[] = { "h e", "l l", "he ll", "hell o", "\xC4\xA0 w", "o r",
	                                      "\xC4\xA0w or" };
	static const char *const extra[] = { "he", "ll", "hell", "hello", "\xC4\xA0w", "or",
	                                     "\xC4\xA0wor", "xyz", "<|bos|>", "<|eos|>", "<|user|>" };

	for (int i = 0; i < 256; i++) {
		byte_text(i, bpe_bytes[i]);
		bpe_tokens[i] = bpe_bytes[i];
		bpe_types[i] = TRIT_TOKEN_NORMAL;
	}
	for (int i = 256; i < BPE_N; i++) {
		bpe_tokens[i] = extra[i - 256];
		bpe_types[i] = i == BPE_USER ? TRIT_TOKEN_USER_DEFINED :
		               i >= BPE_BOS ? TRIT_TOKEN_CONTROL : TRIT_TOKEN_NORMAL;
	}
	kv_str(b, "tokenizer.ggml.model", "gpt2");
	if (pre)
		kv_str(b, "tokenizer.ggml.pre", pre);
	kv_strs(b, "tokenizer.ggml.tokens", bpe_tokens, BPE_N);
	kv_i32s(b, "tokenizer.ggml.token_type", bpe_types, BPE_N);
	kv_strs(b, "tokenizer.ggml.merges", merges, sizeof merges / sizeof merges[0]);
	kv_u32(b, "tokenizer.ggml.bos_token_id", BPE_BOS);
	kv_u32(b, "tokenizer.ggml.eos_token_id", BPE_EOS);
	kv_bool(b, "tokenizer.ggml.add_bos_token", 1);
}

enum { SPM_UNK, SPM_BOS, SPM_EOS, SPM_BYTE0, SPM_SP = SPM_BYTE0 + 256, SPM_H, SPM_E, SPM_L,
       SPM_O, SPM_LL, SPM_LO, SPM_SPH, SPM_SPHE, SPM_SPHELLO, SPM_N };
#define SP "\xE2\x96\x81"

static char spm_bytes[256][7];
static const char *spm_tokens[SPM_N];
static int32_t spm_types[SPM_N];
static float spm_scores[SPM_N];

/* <unk> <s> </s>, 256 byte tokens, and pieces whose scores make "lo" win
 * over "ll" and "▁hello" never reached from "▁he" "l" "lo". */
static void spm_kvs(struct buf *b)
{
	static const char *const pieces[] = { SP, "h", "e", "l", "o", "ll", "lo", SP "h", SP "he",
	                                      SP "hello" };
	static const float scores[] = { -10, -10, -10, -10, -10, -1, -0.5f, -2, -3, -4 };

	spm_tokens[SPM_UNK] = "<unk>";
	spm_tokens[SPM_BOS] = "<s>";
	spm_tokens[SPM_EOS] = "</s>";
	spm_types[SPM_UNK] = TRIT_TOKEN_UNKNOWN;
	spm_types[SPM_BOS] = spm_types[SPM_EOS] = TRIT_TOKEN_CONTROL;
	for (int i = 0; i < 256; i++) {
		snprintf(spm_bytes[i], sizeof spm_bytes[i], "<0x%02X>", i);
		spm_tokens[SPM_BYTE0 + i] = spm_bytes[i];
		spm_types[SPM_BYTE0 + i] = TRIT_TOKEN_BYTE;
	}
	for (int i = SPM_SP; i < SPM_N; i++) {
		spm_tokens[i] = pieces[i - SPM_SP];
		spm_types[i] = TRIT_TOKEN_NORMAL;
		spm_scores[i] = scores[i - SPM_SP];
	}
	kv_str(b, "tokenizer.ggml.model", "llama");
	kv_strs(b, "tokenizer.ggml.tokens", spm_tokens, SPM_N);
	kv_i32s(b, "tokenizer.ggml.token_type", spm_types, SPM_N);
	kv_f32s(b, "tokenizer.ggml.scores", spm_scores, SPM_N);
}

static struct trit_vocab *load(void (*fill)(struct buf *), char *err, size_t errlen, int *rc)
{
	struct buf kvs = { 0 };
	struct trit_gguf *g;
	struct trit_vocab *v = NULL;

	fill(&kvs);
	g = parse(&kvs, err, errlen, rc);
	free(kvs.p);
	ck_assert_msg(g, "%s", err);
	*rc = trit_vocab_load(g, &v, err, errlen);
	trit_gguf_close(g);
	return v;
}

static void bpe_gpt2(struct buf *b) { bpe_kvs(b, "gpt-2"); }
static void bpe_llama3(struct buf *b) { bpe_kvs(b, "llama-bpe"); }

static struct trit_vocab *must_load(void (*fill)(struct buf *))
{
	char err[512];
	int rc;
	struct trit_vocab *v = load(fill, err, sizeof err, &rc);

	ck_assert_msg(rc == 0, "%s", err);
	return v;
}

/* The ids of text, as "1 2 3". */
static char *ids_of(const struct trit_vocab *v, const char *text, size_t len, int add, int parse)
{
	struct trit_tokens t = { 0 };
	char err[256], *s = malloc(16 * 1024);
	size_t k = 0;

	ck_assert_int_eq(trit_tokenize_text(v, text, len, add, parse, &t, err, sizeof err), 0);
	s[0] = 0;
	for (size_t i = 0; i < t.n; i++)
		k += (size_t)snprintf(s + k, 16 * 1024 - k, i ? " %d" : "%d", (int)t.ids[i]);
	trit_tokens_free(&t);
	return s;
}

static void expect_ids(const struct trit_vocab *v, const char *text, int add, int parse,
                       const char *want)
{
	char *got = ids_of(v, text, strlen(text), add, parse);

	ck_assert_msg(strcmp(got, want) == 0, "\"%s\": ids [%s], expected [%s]", text, got, want);
	free(got);
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	static char s[8][256];
	static int k;
	va_list ap;

	k = (k + 1) % 8;
	va_start(ap, f);
	vsnprintf(s[k], sizeof s[k], f, ap);
	va_end(ap);
	return s[k];
}

/* ------------------------------------------------------------- BPE cases */

START_TEST(bpe_merges_the_lowest_ranked_pair_first)
{
	struct trit_vocab *v = must_load(bpe_gpt2);

	expect_ids(v, "hello", 0, 0, fmt("%d", BPE_HELLO));
	expect_ids(v, " world", 0, 0, fmt("%d 108 100", BPE_GWOR));
	expect_ids(v, "hello world", 0, 0, fmt("%d %d 108 100", BPE_HELLO, BPE_GWOR));
	expect_ids(v, "hellhello", 0, 0, fmt("%d %d", BPE_HELL, BPE_HELLO));
	trit_vocab_free(v);
}
END_TEST

START_TEST(bpe_llama3_keeps_a_word_that_is_a_token_whole)
{
	struct trit_vocab *g = must_load(bpe_gpt2), *l = must_load(bpe_llama3);

	expect_ids(g, "xyz", 0, 0, "120 121 122"); /* no merge makes it */
	expect_ids(l, "xyz", 0, 0, fmt("%d", BPE_XYZ));
	expect_ids(l, "hello", 0, 0, fmt("%d", BPE_HELLO));
	trit_vocab_free(g);
	trit_vocab_free(l);
}
END_TEST

START_TEST(bpe_finds_user_defined_tokens_always_and_control_tokens_when_asked)
{
	struct trit_vocab *v = must_load(bpe_gpt2);

	expect_ids(v, "<|user|>hi", 0, 0, fmt("%d 104 105", BPE_USER));
	expect_ids(v, "a<|bos|>", 0, 1, fmt("97 %d", BPE_BOS));
	expect_ids(v, "a<|bos|>", 0, 0, "97 60 124 98 111 115 124 62");
	expect_ids(v, "<|eos|><|bos|>x<|eos|>", 0, 1, fmt("%d %d 120 %d", BPE_EOS, BPE_BOS, BPE_EOS));
	trit_vocab_free(v);
}
END_TEST

START_TEST(bpe_adds_bos_only_with_add_special)
{
	struct trit_vocab *v = must_load(bpe_gpt2);

	expect_ids(v, "hello", 1, 0, fmt("%d %d", BPE_BOS, BPE_HELLO));
	expect_ids(v, "", 1, 0, fmt("%d", BPE_BOS));
	expect_ids(v, "", 0, 0, "");
	trit_vocab_free(v);
}
END_TEST

START_TEST(bpe_spells_a_malformed_byte_as_the_replacement_character)
{
	struct trit_vocab *v = must_load(bpe_gpt2);

	/* U+FFFD is EF BF BD; a truncated sequence is one U+FFFD per byte */
	expect_ids(v, "a\xff" "b", 0, 0, "97 239 191 189 98");
	expect_ids(v, "\xe4\xb8", 0, 0, "239 191 189 239 191 189");
	trit_vocab_free(v);
}
END_TEST

static char *pieces_of(const struct trit_vocab *v, const char *text, size_t len, size_t *out_len)
{
	struct trit_tokens t = { 0 };
	char err[256], *s = malloc(8 * len + 64);
	size_t k = 0, n;

	ck_assert_int_eq(trit_tokenize_text(v, text, len, 0, 0, &t, err, sizeof err), 0);
	for (size_t i = 0; i < t.n; i++) {
		ck_assert_int_eq(trit_token_piece(v, t.ids[i], 0, s + k, 8 * len + 64 - k, &n), 0);
		k += n;
	}
	trit_tokens_free(&t);
	*out_len = k;
	return s;
}

static const char *const round_trip_texts[] = {
	"hello world", "  leading and trailing  ", "tabs\tand\nnewlines\r\n", "h\xc3\xa9llo w\xc3\xb6rld",
	"\xf0\x9f\x98\x80 emoji \xe4\xb8\xad\xe6\x96\x87", "12345 678", "it's we're", "a  b   c    d",
	"<|user|> inside", "\xc2\xa0nbsp\xe3\x80\x80ideographic space", "",
};

START_TEST(bpe_pieces_give_back_valid_text_exactly)
{
	struct trit_vocab *v = must_load(bpe_llama3);

	for (size_t i = 0; i < sizeof round_trip_texts / sizeof round_trip_texts[0]; i++) {
		const char *t = round_trip_texts[i];
		size_t n;
		char *s = pieces_of(v, t, strlen(t), &n);
		ck_assert_msg(n == strlen(t) && memcmp(s, t, n) == 0, "\"%s\" came back as \"%.*s\"", t,
		              (int)n, s);
		free(s);
	}
	trit_vocab_free(v);
}
END_TEST

START_TEST(streamed_pieces_never_split_a_character)
{
	struct trit_vocab *v = must_load(bpe_gpt2);
	const char *t = "h\xc3\xa9llo \xf0\x9f\x98\x80\xe4\xb8\xad!";
	struct trit_tokens ids = { 0 };
	char err[256], pending[64], out[256];
	size_t np = 0, no = 0, n;

	ck_assert_int_eq(trit_tokenize_text(v, t, strlen(t), 0, 0, &ids, err, sizeof err), 0);
	for (size_t i = 0; i < ids.n; i++) {
		size_t ready;
		ck_assert_int_eq(trit_token_piece(v, ids.ids[i], 0, pending + np, sizeof pending - np, &n), 0);
		np += n;
		ready = trit_utf8_complete(pending, np);
		/* what goes out decodes without a replacement */
		for (size_t off = 0; off < ready;) {
			uint32_t cp;
			off += trit_utf8_decode((unsigned char *)pending + off, ready - off, &cp);
			ck_assert_uint_ne(cp, TRIT_UC_REPLACEMENT);
		}
		memcpy(out + no, pending, ready);
		no += ready;
		memmove(pending, pending + ready, np - ready);
		np -= ready;
	}
	ck_assert_uint_eq(np, 0);
	ck_assert(no == strlen(t) && memcmp(out, t, no) == 0);
	ck_assert_uint_eq(trit_utf8_complete("a\xe4\xb8", 3), 1);
	ck_assert_uint_eq(trit_utf8_complete("a\xff", 2), 2);
	ck_assert_uint_eq(trit_utf8_complete("\xf0\x9f\x98", 3), 0);
	trit_tokens_free(&ids);
	trit_vocab_free(v);
}
END_TEST

/* Byte characters, then <|im_end|> typed normal and <|channel|> control. */
static void retyped_kvs(struct buf *b)
{
	static const char *toks[258];
	static int32_t types[258];

	for (int i = 0; i < 256; i++) {
		byte_text(i, bpe_bytes[i]);
		toks[i] = bpe_bytes[i];
		types[i] = TRIT_TOKEN_NORMAL;
	}
	toks[256] = "<|im_end|>";
	types[256] = TRIT_TOKEN_NORMAL;
	toks[257] = "<|channel|>";
	types[257] = TRIT_TOKEN_CONTROL;
	kv_str(b, "tokenizer.ggml.model", "gpt2");
	kv_str(b, "tokenizer.ggml.pre", "llama-bpe");
	kv_strs(b, "tokenizer.ggml.tokens", toks, 258);
	kv_i32s(b, "tokenizer.ggml.token_type", types, 258);
	kv_strs(b, "tokenizer.ggml.merges", toks, 0);
}

START_TEST(end_of_turn_texts_are_control_tokens_whatever_their_type)
{
	struct trit_vocab *v = must_load(retyped_kvs);

	ck_assert_int_eq(v->eot, 256);
	expect_ids(v, "a<|im_end|>", 0, 1, "97 256");
	expect_ids(v, "<|im_end|>", 0, 0, "60 124 105 109 95 101 110 100 124 62");
	/* gpt-oss's channel tokens are always found */
	expect_ids(v, "<|channel|>", 0, 0, "257");
	trit_vocab_free(v);
}
END_TEST

/* ------------------------------------------------------------- SPM cases */

START_TEST(spm_merges_the_best_scored_pair_first)
{
	struct trit_vocab *v = must_load(spm_kvs);

	/* lo (-0.5) before ll (-1), then ▁h, ▁he; ▁hello is never formed */
	expect_ids(v, "hello", 0, 0, fmt("%d %d %d", SPM_SPHE, SPM_L, SPM_LO));
	expect_ids(v, "hello hello", 0, 0,
	           fmt("%d %d %d %d %d %d", SPM_SPHE, SPM_L, SPM_LO, SPM_SPHE, SPM_L, SPM_LO));
	trit_vocab_free(v);
}
END_TEST

START_TEST(spm_falls_back_to_byte_tokens)
{
	struct trit_vocab *v = must_load(spm_kvs);

	expect_ids(v, "hi\xff", 0, 0, fmt("%d %d %d", SPM_SPH, SPM_BYTE0 + 'i', SPM_BYTE0 + 0xff));
	/* a malformed sequence stays one symbol, then goes out byte by byte */
	expect_ids(v, "\xc3(", 0, 0, fmt("%d %d %d", SPM_SP, SPM_BYTE0 + 0xc3, SPM_BYTE0 + '('));
	/* as in llama.cpp, a lead byte takes the bytes after it whatever
	 * they are: here the first two of the escaped space U+2581 */
	expect_ids(v, "\xe2 x", 0, 0, fmt("%d %d %d %d %d %d", SPM_SP, SPM_BYTE0 + 0xe2, SPM_BYTE0 + 0xe2,
	                                    SPM_BYTE0 + 0x96, SPM_BYTE0 + 0x81, SPM_BYTE0 + 'x'));
	trit_vocab_free(v);
}
END_TEST

START_TEST(spm_prefixes_a_space_at_the_start_and_after_special_tokens)
{
	struct trit_vocab *v = must_load(spm_kvs);
	int x = SPM_BYTE0 + 'x';

	expect_ids(v, "<s>x", 0, 1, fmt("%d %d %d", SPM_BOS, SPM_SP, x));
	expect_ids(v, "<s>x", 1, 1, fmt("%d %d %d %d", SPM_BOS, SPM_BOS, SPM_SP, x));
	expect_ids(v, "<s>x", 0, 0, fmt("%d %d %d %d %d", SPM_SP, SPM_BYTE0 + '<', SPM_BYTE0 + 's',
	                                SPM_BYTE0 + '>', x));
	expect_ids(v, "x<unk>", 0, 1, fmt("%d %d %d", SPM_SP, x, SPM_UNK));
	trit_vocab_free(v);
}
END_TEST

/* --------------------------------------------------------- public API */

static char tmp_path[64];

static void api_setup(void)
{
	int fd;

	test_clear_trit_env();
	snprintf(tmp_path, sizeof tmp_path, "/tmp/trit-tok-XXXXXX");
	fd = mkstemp(tmp_path);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

static void api_teardown(void)
{
	unlink(tmp_path);
}

static void write_file(void (*fill)(struct buf *))
{
	struct buf kvs = { 0 }, f = { 0 };
	FILE *fp;

	fill(&kvs);
	put(&f, "GGUF", 4);
	put32(&f, 3);
	put64(&f, 0);
	put64(&f, kvs.n_kv);
	put(&f, kvs.p, kvs.n);
	while (f.n % 32)
		put(&f, "", 1);
	fp = fopen(tmp_path, "wb");
	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fwrite(f.p, 1, f.n, fp), f.n);
	fclose(fp);
	free(kvs.p);
	free(f.p);
}

static struct trit_tokenizer *open_tmp(void (*fill)(struct buf *))
{
	struct trit_tokenizer *t;
	char err[512];

	write_file(fill);
	ck_assert_msg(trit_tokenizer_open(tmp_path, &t, err, sizeof err) == 0, "%s", err);
	return t;
}

START_TEST(spm_detokenize_gives_back_any_bytes)
{
	struct trit_tokenizer *t = open_tmp(spm_kvs);
	uint32_t seed = 12345;

	for (int round = 0; round < 200; round++) {
		unsigned char text[40];
		int32_t ids[64];
		char back[128], err[256];
		size_t len = (size_t)round % 40, n, m;
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			/* mostly letters and spaces, some stray bytes: ASCII and
			 * continuation bytes (a lead byte, 0xFF included, would
			 * swallow the escaped space after it: spm_falls_back...) */
			text[i] = (unsigned char)("hello x"[(seed >> 16) % 7]);
			if ((seed >> 8) % 5 == 0)
				text[i] = (unsigned char)(seed >> 20) & 0xBF;
		}
		ck_assert_int_eq(trit_tokenize(t, (char *)text, len, 1, 0, ids, 64, &n, err, sizeof err), 0);
		ck_assert_int_eq(trit_detokenize(t, ids, n, 0, back, sizeof back, &m, err, sizeof err), 0);
		ck_assert_msg(m == len && memcmp(back, text, len) == 0, "round %d: %zu bytes back of %zu",
		              round, m, len);
	}
	trit_tokenizer_free(t);
}
END_TEST

START_TEST(tokenize_reports_the_count_when_the_buffer_is_short)
{
	struct trit_tokenizer *t = open_tmp(bpe_gpt2);
	int32_t ids[2];
	size_t n;
	char err[256];

	ck_assert_int_eq(trit_tokenize(t, "hello world", 11, 1, 0, ids, 2, &n, err, sizeof err),
	                 TRIT_ERANGE);
	ck_assert_uint_eq(n, 5);
	ck_assert_int_eq(ids[0], BPE_BOS);
	ck_assert_int_eq(ids[1], BPE_HELLO);
	ck_assert_int_eq(trit_detokenize(t, (int32_t[]){ 1, 99999 }, 2, 0, NULL, 0, &n, err, sizeof err),
	                 TRIT_EINVAL);
	ck_assert_msg(strstr(err, "ids[1] = 99999"), "%s", err);
	ck_assert_int_eq(trit_token_to_piece(t, -1, 0, NULL, 0, &n), TRIT_EINVAL);
	trit_tokenizer_free(t);
}
END_TEST

START_TEST(tokenizer_info_says_what_the_file_states)
{
	struct trit_tokenizer *t = open_tmp(spm_kvs);
	struct trit_tokenizer_info info;

	trit_tokenizer_get_info(t, &info);
	ck_assert_str_eq(info.model, "llama");
	ck_assert_uint_eq(info.n_tokens, SPM_N);
	/* SentencePiece defaults when the keys are absent */
	ck_assert_int_eq(info.bos, 1);
	ck_assert_int_eq(info.eos, 2);
	ck_assert_int_eq(info.unk, 0);
	ck_assert_int_eq(info.add_bos, 1);
	ck_assert_int_eq(info.add_space_prefix, 1);
	trit_tokenizer_free(t);
}
END_TEST

/* ---------------------------------------------------------------- errors */

static void no_model(struct buf *b) { kv_str(b, "general.architecture", "llama"); }
static void bert(struct buf *b) { kv_str(b, "tokenizer.ggml.model", "bert"); }
static void unknown_pre(struct buf *b) { bpe_kvs(b, "qwen2"); }
static void no_merges(struct buf *b)
{
	static const char *const toks[] = { "a", "b" };
	kv_str(b, "tokenizer.ggml.model", "gpt2");
	kv_strs(b, "tokenizer.ggml.tokens", toks, 2);
}
static void short_scores(struct buf *b)
{
	static const char *const toks[] = { "a", "b", "c", "d" };
	static const float sc[] = { 0, 0, 0 };
	kv_str(b, "tokenizer.ggml.model", "llama");
	kv_strs(b, "tokenizer.ggml.tokens", toks, 4);
	kv_f32s(b, "tokenizer.ggml.scores", sc, 3);
}
static void tokens_not_strings(struct buf *b)
{
	static const int32_t toks[] = { 1, 2 };
	kv_str(b, "tokenizer.ggml.model", "llama");
	kv_i32s(b, "tokenizer.ggml.tokens", toks, 2);
}
static void float_types(struct buf *b)
{
	static const char *const toks[] = { "a", "b" };
	static const float ty[] = { 1, 1 };
	kv_str(b, "tokenizer.ggml.model", "llama");
	kv_strs(b, "tokenizer.ggml.tokens", toks, 2);
	kv_f32s(b, "tokenizer.ggml.token_type", ty, 2);
}

static void expect_error(void (*fill)(struct buf *), int code, const char *needle)
{
	char err[512] = "";
	int rc;
	struct trit_vocab *v = load(fill, err, sizeof err, &rc);

	ck_assert_ptr_null(v);
	ck_assert_int_eq(rc, code);
	ck_assert_msg(strstr(err, needle), "\"%s\" lacks \"%s\"", err, needle);
}

START_TEST(a_bad_vocabulary_is_refused_naming_the_key)
{
	expect_error(no_model, TRIT_EINVAL, "tokenizer.ggml.model");
	expect_error(bert, TRIT_EUNSUPPORTED, "'bert'");
	expect_error(unknown_pre, TRIT_EUNSUPPORTED, "'qwen2'");
	expect_error(no_merges, TRIT_EFORMAT, "tokenizer.ggml.merges: missing");
	expect_error(short_scores, TRIT_EFORMAT, "tokenizer.ggml.scores: 3 entries for 4 tokens");
	expect_error(tokens_not_strings, TRIT_EFORMAT, "tokenizer.ggml.tokens");
	expect_error(float_types, TRIT_EFORMAT, "tokenizer.ggml.token_type[0]");
}
END_TEST

/* What the planner counts (trit_vocab_measure, no merge table built) is
 * what the loaded vocabulary holds, and its errors are the loader's. */
static void expect_measure(void (*fill)(struct buf *))
{
	struct buf kvs = { 0 };
	struct trit_gguf *g;
	struct trit_vocab *v = NULL;
	char err[512] = "", err2[512] = "";
	uint64_t bytes = 1;
	int rc, rc2;

	fill(&kvs);
	g = parse(&kvs, err, sizeof err, &rc);
	free(kvs.p);
	ck_assert_msg(g, "%s", err);
	rc = trit_vocab_load(g, &v, err, sizeof err);
	rc2 = trit_vocab_measure(g, &bytes, err2, sizeof err2);
	ck_assert_int_eq(rc2, rc);
	ck_assert_str_eq(err2, err);
	ck_assert_uint_eq(bytes, rc ? 0 : trit_vocab_bytes(v));
	trit_vocab_free(v);
	trit_gguf_close(g);
}

START_TEST(the_planner_counts_what_the_loader_holds)
{
	expect_measure(bpe_gpt2);
	expect_measure(bpe_llama3);
	expect_measure(spm_kvs);
	expect_measure(no_merges);
	expect_measure(short_scores);
}
END_TEST

START_TEST(the_public_open_names_the_file)
{
	struct trit_tokenizer *t = (void *)1;
	char err[512];

	write_file(no_model);
	ck_assert_int_eq(trit_tokenizer_open(tmp_path, &t, err, sizeof err), TRIT_EINVAL);
	ck_assert_ptr_null(t);
	ck_assert_msg(strncmp(err, tmp_path, strlen(tmp_path)) == 0, "%s", err);
}
END_TEST

/* ---------------------------------------------------------------- Unicode */

START_TEST(unicode_classes_come_from_the_table)
{
	ck_assert_str_eq(trit_uc_version, "15.0.0");
	ck_assert_uint_eq(trit_uc_flags('a'), TRIT_UC_LETTER);
	ck_assert_uint_eq(trit_uc_flags('7'), TRIT_UC_NUMBER);
	ck_assert_uint_eq(trit_uc_flags(' '), TRIT_UC_SEPARATOR | TRIT_UC_SPACE);
	ck_assert_uint_eq(trit_uc_flags('\n'), TRIT_UC_CONTROL | TRIT_UC_SPACE);
	ck_assert_uint_eq(trit_uc_flags('$'), TRIT_UC_SYMBOL);
	ck_assert_uint_eq(trit_uc_flags('!'), TRIT_UC_PUNCT);
	ck_assert_uint_eq(trit_uc_flags(0x4E2D), TRIT_UC_LETTER);   /* inside a First/Last range */
	ck_assert_uint_eq(trit_uc_flags(0x0661), TRIT_UC_NUMBER);   /* Arabic-Indic one */
	ck_assert_uint_eq(trit_uc_flags(0x3000), TRIT_UC_SEPARATOR | TRIT_UC_SPACE);
	ck_assert_uint_eq(trit_uc_flags(0x0301), TRIT_UC_MARK);
	ck_assert_uint_eq(trit_uc_flags(0x1F600), TRIT_UC_SYMBOL);
	ck_assert_uint_eq(trit_uc_flags(0x0378), 0);                /* unassigned */
	ck_assert_uint_eq(trit_uc_flags(0x110000), 0);
}
END_TEST

START_TEST(utf8_decoding_replaces_one_byte_at_a_time)
{
	uint32_t cp;

	ck_assert_uint_eq(trit_utf8_decode((const unsigned char *)"\xe4\xb8\xad", 3, &cp), 3);
	ck_assert_uint_eq(cp, 0x4E2D);
	ck_assert_uint_eq(trit_utf8_decode((const unsigned char *)"\xe4\xb8" "a", 3, &cp), 1);
	ck_assert_uint_eq(cp, TRIT_UC_REPLACEMENT);
	ck_assert_uint_eq(trit_utf8_decode((const unsigned char *)"\x80", 1, &cp), 1);
	ck_assert_uint_eq(cp, TRIT_UC_REPLACEMENT);
	ck_assert_uint_eq(trit_utf8_decode((const unsigned char *)"\xf0\x9f\x98\x80", 4, &cp), 4);
	ck_assert_uint_eq(cp, 0x1F600);
}
END_TEST

static void setup(void) { test_clear_trit_env(); }
static void teardown(void) {}

static void add(Suite *s, const char *name, const TTest *t, void (*su)(void), void (*td)(void))
{
	TCase *tc = tcase_create(name);
	tcase_add_checked_fixture(tc, su, td);
	tcase_add_test(tc, t);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
}

int main(void)
{
	Suite *s = suite_create("tokenizer");
#define T(t) add(s, #t, t, setup, teardown)
#define A(t) add(s, #t, t, api_setup, api_teardown)
	T(bpe_merges_the_lowest_ranked_pair_first);
	T(bpe_llama3_keeps_a_word_that_is_a_token_whole);
	T(bpe_finds_user_defined_tokens_always_and_control_tokens_when_asked);
	T(bpe_adds_bos_only_with_add_special);
	T(bpe_spells_a_malformed_byte_as_the_replacement_character);
	T(bpe_pieces_give_back_valid_text_exactly);
	T(streamed_pieces_never_split_a_character);
	T(end_of_turn_texts_are_control_tokens_whatever_their_type);
	T(spm_merges_the_best_scored_pair_first);
	T(spm_falls_back_to_byte_tokens);
	T(spm_prefixes_a_space_at_the_start_and_after_special_tokens);
	A(spm_detokenize_gives_back_any_bytes);
	A(tokenize_reports_the_count_when_the_buffer_is_short);
	A(tokenizer_info_says_what_the_file_states);
	T(a_bad_vocabulary_is_refused_naming_the_key);
	A(the_public_open_names_the_file);
	A(the_planner_counts_what_the_loader_holds);
	T(unicode_classes_come_from_the_table);
	T(utf8_decoding_replaces_one_byte_at_a_time);
	return test_run_suite(s);
}
