/*
 * tokenizer_bpe.c - byte-level BPE: the pre-tokenizer's splits (written out
 * by hand for each supported regex, with the same decisions as llama.cpp's
 * hand-written versions of them), GPT-2's byte-to-character mapping, and
 * the merges by rank. Splits work on code points; a split's words are then
 * spelled in the mapped characters and merged.
 */
#include <build-config.h>

#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "text/tokenizer.h"
#include "text/unicode.h"

#define IN_RANGE 0x100u /* added to the class bits of a position inside the segment */

/* A list of word lengths in code points, covering the text in order. */
struct spans {
	size_t *len;
	size_t n, cap;
};

static int span_push(struct spans *s, size_t len)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		size_t *p = realloc(s->len, cap * sizeof *p);
		if (!p)
			return TRIT_ENOMEM;
		s->len = p;
		s->cap = cap;
	}
	s->len[s->n++] = len;
	return 0;
}

/* One segment being split: positions outside [ini, end) read as no class
 * and code point OOR, as the regex engine sees the end of its input. */
struct seg {
	const uint32_t *cp;
	const uint8_t *fl;
	size_t ini, end, prev;
	struct spans *out;
	int rc;
};
#define OOR 0xFFFFFFFFu

static unsigned F(const struct seg *s, size_t pos)
{
	return pos >= s->ini && pos < s->end ? s->fl[pos] | IN_RANGE : 0;
}

static uint32_t C(const struct seg *s, size_t pos)
{
	return pos >= s->ini && pos < s->end ? s->cp[pos] : OOR;
}

/* End the current word at end; returns its length. */
static size_t word_to(struct seg *s, size_t end)
{
	size_t len = end - s->prev;

	if (len > 0 && !s->rc)
		s->rc = span_push(s->out, len);
	s->prev = end;
	return len;
}

#define L(f) ((f) & TRIT_UC_LETTER)
#define N(f) ((f) & TRIT_UC_NUMBER)
#define WS(f) ((f) & TRIT_UC_SPACE)
#define NL(c) ((c) == '\r' || (c) == '\n')

static uint32_t ascii_lower(uint32_t c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* 's 't 're 've 'm 'll 'd at pos: the length matched, 0 when none. */
static size_t contraction(const struct seg *s, size_t pos, int fold)
{
	uint32_t a, b;

	if (s->cp[pos] != '\'' || pos + 1 >= s->end)
		return 0;
	a = fold ? ascii_lower(s->cp[pos + 1]) : s->cp[pos + 1];
	if (a == 's' || a == 't' || a == 'm' || a == 'd')
		return 2;
	if (pos + 2 >= s->end)
		return 0;
	b = fold ? ascii_lower(s->cp[pos + 2]) : s->cp[pos + 2];
	return ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) ? 3 : 0;
}

/* Whitespace at pos: \s+(?!\S) leaves the last one to the next word when
 * more text follows; a lone one, or a run ending the segment, is one word. */
static size_t whitespace_run(struct seg *s, size_t pos, size_t nws)
{
	if (nws > 1 && C(s, pos + nws) != OOR)
		return word_to(s, pos + nws - 1), pos + nws - 1;
	if (nws > 0)
		return word_to(s, pos + nws), pos + nws;
	return word_to(s, pos + 1), pos + 1; /* no alternative matched: one code point */
}

/*
 * (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
 * ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 */
static size_t llama3_step(struct seg *s, size_t pos)
{
	uint32_t c = s->cp[pos], c2;
	unsigned f = F(s, pos), f2;
	size_t k, nws = 0, last_nl = 0;

	if ((k = contraction(s, pos, 1)))
		return pos + word_to(s, pos + k);
	if (!(NL(c) || N(f)) && (L(f) || L(F(s, pos + 1)))) {
		for (pos++; L(F(s, pos)); pos++)
			;
		return word_to(s, pos), pos;
	}
	if (N(f)) {
		size_t ini = pos;
		while (N(F(s, pos)))
			if (++pos - ini >= 3) {
				word_to(s, pos);
				ini = pos;
			}
		return word_to(s, pos), pos;
	}
	f2 = c == ' ' ? F(s, pos + 1) : f;
	if (!(WS(f2) || L(f2) || N(f2))) {
		pos += c == ' ';
		while (!(WS(f2) || L(f2) || N(f2)) && f2)
			f2 = F(s, ++pos);
		for (c2 = C(s, pos); NL(c2); c2 = C(s, ++pos))
			;
		return word_to(s, pos), pos;
	}
	for (; WS(F(s, pos + nws)); nws++)
		if (NL(C(s, pos + nws)))
			last_nl = pos + nws + 1;
	if (last_nl)
		return word_to(s, last_nl), last_nl;
	return whitespace_run(s, pos, nws);
}

/* 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ */
static size_t gpt2_step(struct seg *s, size_t pos)
{
	uint32_t c = s->cp[pos];
	unsigned f2 = c == ' ' ? F(s, pos + 1) : F(s, pos);
	size_t k, nws = 0;

	if ((k = contraction(s, pos, 0)))
		return pos + word_to(s, pos + k);
	if (L(f2) || N(f2) || (!(WS(f2) || L(f2) || N(f2)) && f2)) {
		unsigned want = L(f2) ? TRIT_UC_LETTER : N(f2) ? TRIT_UC_NUMBER : 0;
		pos += c == ' ';
		if (want)
			while (f2 & want)
				f2 = F(s, ++pos);
		else
			while (!(WS(f2) || L(f2) || N(f2)) && f2)
				f2 = F(s, ++pos);
		return word_to(s, pos), pos;
	}
	while (WS(F(s, pos + nws)))
		nws++;
	return whitespace_run(s, pos, nws);
}

typedef size_t (*split_step)(struct seg *s, size_t pos);

/* Apply one regex split to every span of in, into out. */
static int split_each(const uint32_t *cp, const uint8_t *fl, const struct spans *in,
                      split_step step, struct spans *out)
{
	struct seg s = { .cp = cp, .fl = fl, .out = out };
	size_t start = 0;

	out->n = 0;
	for (size_t i = 0; i < in->n && !s.rc; i++) {
		s.ini = s.prev = start;
		s.end = start + in->len[i];
		for (size_t pos = s.ini; pos < s.end && !s.rc;)
			pos = step(&s, pos);
		start = s.end;
	}
	return s.rc;
}

/* ------------------------------------------------- "default" (four regexes) */

/* [\p{P}\$\+<=>\^~\|]: llama.cpp matches it on text where every non-ASCII
 * code point stands for its class (whitespace first), ASCII as itself. */
static int default_punct(uint32_t c, unsigned f)
{
	if (c < 128)
		return strchr("!\"#%&'()*,-./:;?@[\\]_{}$+<=>^~|", (int)c) != NULL && c != 0;
	return !WS(f) && (f & TRIT_UC_PUNCT);
}

static int default_number(uint32_t c, unsigned f)
{
	if (c < 128)
		return c >= '0' && c <= '9';
	return !WS(f) && N(f);
}

/* Runs of code points of a class are words; so is what lies between. */
static int split_runs(const uint32_t *cp, const uint8_t *fl, const struct spans *in,
                      int (*cls)(uint32_t, unsigned), struct spans *out)
{
	size_t start = 0;

	out->n = 0;
	for (size_t i = 0; i < in->n; i++) {
		size_t end = start + in->len[i], w = start;
		for (size_t p = start + 1; p <= end; p++)
			if (p == end || cls(cp[p], fl[p]) != cls(cp[p - 1], fl[p - 1])) {
				if (span_push(out, p - w))
					return TRIT_ENOMEM;
				w = p;
			}
		start = end;
	}
	return 0;
}

/* [0-9][0-9][0-9]: each three ASCII digits in a row, leftmost first. */
static int split_digit3(const uint32_t *cp, const struct spans *in, struct spans *out)
{
	size_t start = 0;

	out->n = 0;
	for (size_t i = 0; i < in->n; i++) {
		size_t end = start + in->len[i], w = start, p = start;
		while (p + 3 <= end) {
			int d = 1;
			for (size_t k = 0; k < 3; k++)
				d &= cp[p + k] >= '0' && cp[p + k] <= '9';
			if (!d) {
				p++;
				continue;
			}
			if ((p > w && span_push(out, p - w)) || span_push(out, 3))
				return TRIT_ENOMEM;
			w = p = p + 3;
		}
		if (end > w && span_push(out, end - w))
			return TRIT_ENOMEM;
		start = end;
	}
	return 0;
}

/* Split cp[0..n) as the vocabulary's pre-tokenizer does, into *words. */
static int pre_split(const struct trit_vocab *v, const uint32_t *cp, const uint8_t *fl, size_t n,
                     struct spans *words)
{
	struct spans a = { 0 }, b = { 0 };
	int rc;

	if ((rc = span_push(&a, n)))
		goto out;
	switch (v->pre) {
	case TRIT_PRE_LLAMA3: rc = split_each(cp, fl, &a, llama3_step, &b); break;
	case TRIT_PRE_GPT2: rc = split_each(cp, fl, &a, gpt2_step, &b); break;
	default:
		if ((rc = split_runs(cp, fl, &a, default_punct, &b)) ||
		    (rc = split_each(cp, fl, &b, gpt2_step, &a)) ||
		    (rc = split_runs(cp, fl, &a, default_number, &b)))
			break;
		rc = split_digit3(cp, &b, &a);
		*words = a;
		free(b.len);
		return rc;
	}
out:
	*words = b;
	free(a.len);
	return rc;
}

/* ------------------------------------------------------------ byte level */

/* GPT-2's bytes_to_unicode: printable bytes are themselves, the others
 * (controls, space, DEL..NBSP, soft hyphen) take U+0100 onwards in order. */
static uint32_t byte_char(unsigned char b)
{
	if (b <= 32)
		return 256u + b;
	if (b >= 127 && b <= 160)
		return 256u + 33 + (b - 127u);
	if (b == 173)
		return 256u + 67;
	return b;
}

/* ---------------------------------------------------------------- merging */

struct bpe {
	const struct trit_vocab *v;
	char *w;                   /* the word, spelled in mapped characters */
	size_t wl, wcap;
	struct trit_symbol *sym;
	size_t scap;
	struct trit_bigram_heap heap;
};

static int bpe_pair(struct bpe *b, ptrdiff_t left, ptrdiff_t right)
{
	const struct trit_symbol *l, *r;
	int32_t rank;

	if (left < 0 || right < 0)
		return 0;
	l = &b->sym[left];
	r = &b->sym[right];
	rank = trit_vocab_merge_rank(b->v, b->w + l->start, l->n, b->w + r->start, r->n);
	if (rank < 0)
		return 0;
	return trit_bigram_push(&b->heap, (struct trit_bigram){ .key = rank, .left = (size_t)left,
		.right = (size_t)right, .left_n = l->n, .right_n = r->n });
}

/* A merged symbol that is not a token goes out byte by byte, as the
 * one-byte tokens of those bytes that have one. */
static int bpe_emit(struct bpe *b, const struct trit_symbol *s, struct trit_tokens *out)
{
	int32_t id = trit_vocab_find(b->v, b->w + s->start, s->n);

	if (id >= 0)
		return trit_tokens_push(out, id);
	for (size_t j = 0; j < s->n; j++)
		if ((id = trit_vocab_find(b->v, b->w + s->start + j, 1)) >= 0 && trit_tokens_push(out, id))
			return TRIT_ENOMEM;
	return 0;
}

static int bpe_word(struct bpe *b, struct trit_tokens *out)
{
	size_t n = 0;
	struct trit_bigram g;
	int rc = 0;

	if (b->v->ignore_merges) {
		int32_t id = trit_vocab_find(b->v, b->w, b->wl);
		if (id >= 0)
			return trit_tokens_push(out, id);
	}
	for (size_t off = 0; off < b->wl; n++) {
		size_t l = trit_utf8_len((unsigned char)b->w[off]);
		b->sym[n].start = off;
		b->sym[n].n = l < b->wl - off ? l : b->wl - off;
		off += b->sym[n].n;
		b->sym[n].prev = (ptrdiff_t)n - 1;
		b->sym[n].next = off == b->wl ? -1 : (ptrdiff_t)n + 1;
	}
	b->heap.n = 0;
	for (size_t i = 1; i < n && !rc; i++)
		rc = bpe_pair(b, (ptrdiff_t)i - 1, (ptrdiff_t)i);
	while (!rc && trit_bigram_pop(&b->heap, &g)) {
		struct trit_symbol *l = &b->sym[g.left], *r = &b->sym[g.right];
		if (l->n == 0 || r->n == 0 || l->n != g.left_n || r->n != g.right_n)
			continue;
		trit_symbol_merge(b->sym, g.left, g.right);
		rc = bpe_pair(b, l->prev, (ptrdiff_t)g.left);
		if (!rc)
			rc = bpe_pair(b, (ptrdiff_t)g.left, l->next);
	}
	for (ptrdiff_t i = n ? 0 : -1; i >= 0 && !rc; i = b->sym[i].next)
		rc = bpe_emit(b, &b->sym[i], out);
	return rc;
}

/* Spell code points cp[0..n) as UTF-8, each byte as its mapped character. */
static int bpe_spell(struct bpe *b, const uint32_t *cp, size_t n)
{
	if (n > SIZE_MAX / 8)
		return TRIT_ENOMEM;
	if (8 * n > b->wcap) {
		char *w = realloc(b->w, 8 * n);
		struct trit_symbol *s = realloc(b->sym, 8 * n * sizeof *s);
		if (w)
			b->w = w;
		if (s)
			b->sym = s;
		if (!w || !s)
			return TRIT_ENOMEM;
		b->wcap = 8 * n;
	}
	b->wl = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char u[4];
		size_t k = trit_utf8_encode(cp[i], u);
		for (size_t j = 0; j < k; j++)
			b->wl += trit_utf8_encode(byte_char(u[j]), (unsigned char *)b->w + b->wl);
	}
	return 0;
}

static int bpe_run(const struct trit_vocab *v, const uint32_t *cp, const uint8_t *fl, size_t n,
                   struct trit_tokens *out)
{
	struct spans words = { 0 };
	struct bpe b = { .v = v };
	size_t start = 0;
	int rc = pre_split(v, cp, fl, n, &words);

	for (size_t i = 0; i < words.n && !rc; i++) {
		rc = bpe_spell(&b, cp + start, words.len[i]);
		if (!rc)
			rc = bpe_word(&b, out);
		start += words.len[i];
	}
	free(words.len);
	free(b.w);
	free(b.sym);
	free(b.heap.b);
	return rc;
}

int trit_bpe_tokenize(const struct trit_vocab *v, const char *text, size_t len,
                      struct trit_tokens *out)
{
	uint32_t *cp = malloc((len ? len : 1) * sizeof *cp);
	uint8_t *fl = malloc(len ? len : 1);
	size_t n = 0;
	int rc = TRIT_ENOMEM;

	if (cp && fl) {
		for (size_t off = 0; off < len; n++) {
			off += trit_utf8_decode((const unsigned char *)text + off, len - off, &cp[n]);
			fl[n] = (uint8_t)trit_uc_flags(cp[n]);
		}
		rc = bpe_run(v, cp, fl, n, out);
	}
	free(cp);
	free(fl);
	return rc;
}
