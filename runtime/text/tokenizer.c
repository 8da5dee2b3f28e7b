/*
 * tokenizer.c - the steps every tokenizer model shares: control and
 * user-defined tokens found in the text first (longest first, as llama.cpp
 * partitions), BOS/EOS, and the pair queue and symbol chain the merges run
 * on; and SentencePiece itself. Byte-level BPE is tokenizer_bpe.c's;
 * ids back to bytes tokenizer_piece.c's.
 */
#include <build-config.h>

#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "text/tokenizer.h"
#include "text/unicode.h"

int trit_tokens_push(struct trit_tokens *t, int32_t id)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		int32_t *p = realloc(t->ids, cap * sizeof *p);
		if (!p)
			return TRIT_ENOMEM;
		t->ids = p;
		t->cap = cap;
	}
	t->ids[t->n++] = id;
	return 0;
}

void trit_tokens_free(struct trit_tokens *t)
{
	free(t->ids);
	*t = (struct trit_tokens){ 0 };
}

/* ------------------------------------------------------------------ pairs */

static int bigram_before(const struct trit_bigram *a, const struct trit_bigram *b)
{
	return a->key < b->key || (a->key == b->key && a->left < b->left);
}

int trit_bigram_push(struct trit_bigram_heap *h, struct trit_bigram b)
{
	size_t i;

	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;
		struct trit_bigram *p = realloc(h->b, cap * sizeof *p);
		if (!p)
			return TRIT_ENOMEM;
		h->b = p;
		h->cap = cap;
	}
	for (i = h->n++; i > 0 && bigram_before(&b, &h->b[(i - 1) / 2]); i = (i - 1) / 2)
		h->b[i] = h->b[(i - 1) / 2];
	h->b[i] = b;
	return 0;
}

int trit_bigram_pop(struct trit_bigram_heap *h, struct trit_bigram *out)
{
	struct trit_bigram last;
	size_t i = 0;

	if (h->n == 0)
		return 0;
	*out = h->b[0];
	last = h->b[--h->n];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && bigram_before(&h->b[c + 1], &h->b[c]))
			c++;
		if (!bigram_before(&h->b[c], &last))
			break;
		h->b[i] = h->b[c];
		i = c;
	}
	if (h->n)
		h->b[i] = last;
	return 1;
}

void trit_symbol_merge(struct trit_symbol *sym, size_t left, size_t right)
{
	sym[left].n += sym[right].n;
	sym[right].n = 0;
	sym[left].next = sym[right].next;
	if (sym[right].next >= 0)
		sym[sym[right].next].prev = (ptrdiff_t)left;
}

/* ------------------------------------------------------------ SentencePiece */

struct spm {
	const struct trit_vocab *v;
	const char *text;
	struct trit_symbol *sym;
	struct trit_bigram_heap heap;
};

/* Queue the pair (left, right) when their joined text is a token. */
static int spm_pair(struct spm *s, ptrdiff_t left, ptrdiff_t right)
{
	int32_t id;

	if (left < 0 || right < 0)
		return 0;
	id = trit_vocab_find(s->v, s->text + s->sym[left].start, s->sym[left].n + s->sym[right].n);
	if (id < 0)
		return 0;
	return trit_bigram_push(&s->heap, (struct trit_bigram){
		.key = -(double)s->v->tokens[id].score, .left = (size_t)left, .right = (size_t)right,
		.left_n = s->sym[left].n, .right_n = s->sym[right].n });
}

/* A symbol that is a token, else each of its bytes as a byte token. */
static int spm_emit(struct spm *s, const struct trit_symbol *sym, struct trit_tokens *out,
                    char *err, size_t errlen)
{
	const char *t = s->text + sym->start;
	int32_t id = trit_vocab_find(s->v, t, sym->n);

	if (id >= 0)
		return trit_tokens_push(out, id);
	for (size_t j = 0; j < sym->n; j++) {
		unsigned char b = (unsigned char)t[j];
		id = s->v->byte_token[b] >= 0 ? s->v->byte_token[b] : s->v->unk;
		if (id < 0)
			return trit_errf(err, errlen, TRIT_EFORMAT, "the vocabulary has no token for "
			                 "byte 0x%02X (no <0x%02X>, no unknown token)", b, b);
		if (trit_tokens_push(out, id))
			return TRIT_ENOMEM;
	}
	return 0;
}

static int spm_run(struct spm *s, size_t len, struct trit_tokens *out, char *err, size_t errlen)
{
	size_t n = 0;
	struct trit_bigram b;
	int rc = 0;

	for (size_t off = 0; off < len; n++) {
		size_t l = trit_utf8_len((unsigned char)s->text[off]);
		s->sym[n].start = off;
		s->sym[n].n = l < len - off ? l : len - off;
		off += s->sym[n].n;
		s->sym[n].prev = (ptrdiff_t)n - 1;
		s->sym[n].next = off == len ? -1 : (ptrdiff_t)n + 1;
	}
	for (size_t i = 1; i < n && !rc; i++)
		rc = spm_pair(s, (ptrdiff_t)i - 1, (ptrdiff_t)i);
	while (!rc && trit_bigram_pop(&s->heap, &b)) {
		struct trit_symbol *l = &s->sym[b.left], *r = &s->sym[b.right];
		if (l->n == 0 || r->n == 0 || l->n != b.left_n || r->n != b.right_n)
			continue;
		trit_symbol_merge(s->sym, b.left, b.right);
		rc = spm_pair(s, l->prev, (ptrdiff_t)b.left);
		if (!rc)
			rc = spm_pair(s, (ptrdiff_t)b.left, l->next);
	}
	if (rc)
		return trit_errf(err, errlen, rc, "out of memory tokenizing");
	for (ptrdiff_t i = n ? 0 : -1; i >= 0 && !rc; i = s->sym[i].next)
		rc = spm_emit(s, &s->sym[i], out, err, errlen);
	if (rc == TRIT_ENOMEM)
		return trit_errf(err, errlen, rc, "out of memory tokenizing");
	return rc;
}

/* text is already escaped (spaces as U+2581) and prefixed. */
int trit_spm_tokenize(const struct trit_vocab *v, const char *text, size_t len,
                      struct trit_tokens *out, char *err, size_t errlen)
{
	struct spm s = { .v = v, .text = text };
	int rc;

	s.sym = malloc((len ? len : 1) * sizeof *s.sym);
	if (!s.sym)
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory tokenizing %zu bytes", len);
	rc = spm_run(&s, len, out, err, errlen);
	free(s.sym);
	free(s.heap.b);
	return rc;
}

/* Optional space, then the fragment, with every space as U+2581. */
static int spm_fragment(const struct trit_vocab *v, const char *text, size_t len, int prefix,
                        struct trit_tokens *out, char *err, size_t errlen)
{
	size_t spaces = (size_t)prefix, k = 0;
	char *esc;
	int rc;

	for (size_t i = 0; i < len; i++)
		spaces += text[i] == ' ';
	esc = malloc(len + 2 * spaces + 1);
	if (!esc)
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory tokenizing %zu bytes", len);
	for (size_t i = 0; i < len + (size_t)prefix; i++) {
		char c = i < (size_t)prefix ? ' ' : text[i - (size_t)prefix];
		if (c == ' ') {
			memcpy(esc + k, "\xE2\x96\x81", 3);
			k += 3;
		} else {
			esc[k++] = c;
		}
	}
	rc = trit_spm_tokenize(v, esc, k, out, err, errlen);
	free(esc);
	return rc;
}

/* ------------------------------------------------------- special tokens */

struct fragment {
	int32_t token;      /* -1: text[off .. off + len) still to tokenize */
	size_t off, len;
};
struct fragments {
	struct fragment *f;
	size_t n, cap;
};

static int frag_push(struct fragments *fs, struct fragment f)
{
	if (fs->n == fs->cap) {
		size_t cap = fs->cap ? fs->cap * 2 : 16;
		struct fragment *p = realloc(fs->f, cap * sizeof *p);
		if (!p)
			return TRIT_ENOMEM;
		fs->f = p;
		fs->cap = cap;
	}
	fs->f[fs->n++] = f;
	return 0;
}

static const char *find_bytes(const char *hay, size_t n, const char *needle, size_t m)
{
	const char *end = hay + n;

	while ((size_t)(end - hay) >= m) {
		const char *p = memchr(hay, needle[0], (size_t)(end - hay) - m + 1);
		if (!p)
			return NULL;
		if (memcmp(p, needle, m) == 0)
			return p;
		hay = p + 1;
	}
	return NULL;
}

/* Split every text fragment of in at each occurrence of token id, into out. */
static int split_on(const struct trit_vocab *v, const char *text, uint32_t id,
                    const struct fragments *in, struct fragments *out)
{
	const char *tt = trit_vocab_text(v, id);
	size_t tl = v->tokens[id].len;

	out->n = 0;
	for (size_t i = 0; i < in->n; i++) {
		struct fragment f = in->f[i];
		const char *p;
		if (f.token >= 0) {
			if (frag_push(out, f))
				return TRIT_ENOMEM;
			continue;
		}
		while (f.len && (p = find_bytes(text + f.off, f.len, tt, tl))) {
			size_t at = (size_t)(p - text);
			if ((at > f.off && frag_push(out, (struct fragment){ -1, f.off, at - f.off })) ||
			    frag_push(out, (struct fragment){ (int32_t)id, at, tl }))
				return TRIT_ENOMEM;
			f.len -= at + tl - f.off;
			f.off = at + tl;
		}
		if (f.len && frag_push(out, f))
			return TRIT_ENOMEM;
	}
	return 0;
}

static int partition(const struct trit_vocab *v, const char *text, size_t len, int parse_special,
                     struct fragments *fs)
{
	struct fragments other = { 0 };
	int rc = 0;

	if (len && (rc = frag_push(fs, (struct fragment){ -1, 0, len })))
		return rc;
	for (uint32_t i = 0; i < v->n_specials && !rc; i++) {
		uint32_t id = v->specials[i];
		uint8_t t = v->tokens[id].type;
		struct fragments tmp;
		if (!parse_special && (t == TRIT_TOKEN_CONTROL || t == TRIT_TOKEN_UNKNOWN))
			continue;
		rc = split_on(v, text, id, fs, &other);
		tmp = *fs;
		*fs = other;
		other = tmp;
	}
	free(other.f);
	return rc;
}

/* ------------------------------------------------------------------ driver */

static int run_fragments(const struct trit_vocab *v, const char *text, const struct fragments *fs,
                         struct trit_tokens *out, char *err, size_t errlen)
{
	int prev_special = 1, rc = 0;

	for (size_t i = 0; i < fs->n && !rc; i++) {
		const struct fragment *f = &fs->f[i];
		if (f->token >= 0) {
			rc = trit_tokens_push(out, f->token);
			prev_special = 1;
		} else if (v->kind == TRIT_VOCAB_SPM) {
			rc = spm_fragment(v, text + f->off, f->len, v->add_space_prefix && prev_special,
			                  out, err, errlen);
			prev_special = 0;
		} else {
			rc = trit_bpe_tokenize(v, text + f->off, f->len, out);
		}
	}
	if (rc == TRIT_ENOMEM)
		return trit_errf(err, errlen, rc, "out of memory tokenizing");
	return rc;
}

int trit_tokenize_text(const struct trit_vocab *v, const char *text, size_t len,
                       int add_special, int parse_special, struct trit_tokens *out,
                       char *err, size_t errlen)
{
	struct fragments fs = { 0 };
	int rc;

	if ((uint64_t)len > TRIT_TOKENIZE_MAX_TEXT)
		return trit_errf(err, errlen, TRIT_ERANGE, "text of %zu bytes: at most %llu bytes "
		                 "are tokenized in one call", len,
		                 (unsigned long long)TRIT_TOKENIZE_MAX_TEXT);
	if (add_special && v->add_bos && v->bos >= 0 && trit_tokens_push(out, v->bos))
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory tokenizing");
	rc = partition(v, text, len, parse_special, &fs);
	if (rc)
		rc = trit_errf(err, errlen, rc, "out of memory tokenizing");
	else
		rc = run_fragments(v, text, &fs, out, err, errlen);
	free(fs.f);
	if (!rc && add_special && v->add_eos && v->eos >= 0 && trit_tokens_push(out, v->eos))
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory tokenizing");
	return rc;
}
