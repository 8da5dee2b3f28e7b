/*
 * tokenizer_piece.c - token ids back to bytes: byte-level BPE's mapped
 * characters to the bytes they stand for, SentencePiece's U+2581 to a space
 * and <0xHH> to its byte; and where a stream of such bytes can be cut
 * without splitting a UTF-8 character.
 */
#include <build-config.h>

#include <string.h>

#include "core/common.h"
#include "text/tokenizer.h"
#include "text/unicode.h"

/* Append bytes to buf while they fit; *n counts them all. */
static void put(char *buf, size_t cap, size_t *n, const char *s, size_t len)
{
	if (*n < cap)
		memcpy(buf + *n, s, len < cap - *n ? len : cap - *n);
	*n += len;
}

/* The byte a mapped character stands for, or -1 (not a mapped character). */
static int char_byte(uint32_t c)
{
	if ((c >= 33 && c <= 126) || (c >= 161 && c <= 172) || (c >= 174 && c <= 255))
		return (int)c;
	if (c >= 256 && c <= 288)
		return (int)(c - 256);
	if (c >= 289 && c <= 322)
		return (int)(127 + c - 289);
	if (c == 323)
		return 173;
	return -1;
}

/* Byte-level text: each mapped character its byte; anything else (not
 * made by the mapping) is kept as it is spelled. */
static void bpe_piece(const char *t, size_t len, char *buf, size_t cap, size_t *n)
{
	for (size_t off = 0; off < len;) {
		uint32_t c;
		size_t k = trit_utf8_decode((const unsigned char *)t + off, len - off, &c);
		int b = char_byte(c);
		char byte = (char)b;
		if (b >= 0)
			put(buf, cap, n, &byte, 1);
		else
			put(buf, cap, n, t + off, k);
		off += k;
	}
}

static int hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 :
	       c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void spm_piece(const struct trit_vocab *v, uint32_t id, char *buf, size_t cap, size_t *n)
{
	const char *t = trit_vocab_text(v, id);
	size_t len = v->tokens[id].len;

	if (v->tokens[id].type == TRIT_TOKEN_BYTE) {
		/* "<0xHH>"; a byte token spelled otherwise stands for its text */
		if (len == 6 && memcmp(t, "<0x", 3) == 0 && t[5] == '>' && hex_digit(t[3]) >= 0 &&
		    hex_digit(t[4]) >= 0) {
			char byte = (char)(hex_digit(t[3]) * 16 + hex_digit(t[4]));
			put(buf, cap, n, &byte, 1);
		} else {
			put(buf, cap, n, t, len);
		}
		return;
	}
	for (size_t i = 0; i < len;) {
		if (len - i >= 3 && memcmp(t + i, "\xE2\x96\x81", 3) == 0) {
			put(buf, cap, n, " ", 1);
			i += 3;
		} else {
			put(buf, cap, n, t + i, 1);
			i++;
		}
	}
}

int trit_token_piece(const struct trit_vocab *v, int32_t id, int special, char *buf,
                     size_t cap, size_t *n)
{
	uint8_t type;

	*n = 0;
	if (id < 0 || (uint32_t)id >= v->n_tokens)
		return TRIT_EINVAL;
	type = v->tokens[id].type;
	if (type == TRIT_TOKEN_CONTROL || type == TRIT_TOKEN_UNKNOWN) {
		if (special)
			put(buf, cap, n, trit_vocab_text(v, (uint32_t)id), v->tokens[id].len);
	} else if (type == TRIT_TOKEN_USER_DEFINED) {
		put(buf, cap, n, trit_vocab_text(v, (uint32_t)id), v->tokens[id].len);
	} else if (v->kind == TRIT_VOCAB_SPM) {
		if (type == TRIT_TOKEN_NORMAL || type == TRIT_TOKEN_BYTE)
			spm_piece(v, (uint32_t)id, buf, cap, n);
	} else if (type == TRIT_TOKEN_NORMAL) {
		bpe_piece(trit_vocab_text(v, (uint32_t)id), v->tokens[id].len, buf, cap, n);
	}
	return 0;
}

size_t trit_utf8_complete_len(const char *buf, size_t len)
{
	/* Look back over at most three continuation bytes for a lead byte. */
	for (size_t back = 1; back <= 4 && back <= len; back++) {
		unsigned char c = (unsigned char)buf[len - back];
		size_t need;
		if ((c & 0xC0) == 0x80)
			continue;               /* a continuation byte: keep looking */
		need = trit_utf8_len(c);
		if ((c & 0xF8) == 0xF8 || need <= back)
			return len;             /* complete, or not a lead byte at all */
		return len - back;          /* a character still waiting for bytes */
	}
	return len;
}
