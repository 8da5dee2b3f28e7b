/*
 * unicode.h - what the tokenizers need of Unicode: the class of a code point
 * (letter, number, punctuation, symbol, mark, separator, other; White_Space),
 * from a committed table (unicode_table.c, made by unicode-gen.sh), and
 * UTF-8 decoding with llama.cpp's rule for malformed bytes. No normalisation,
 * no case mapping: the supported pre-tokenizers need neither.
 */
#ifndef TRIT_TEXT_UNICODE_H
#define TRIT_TEXT_UNICODE_H

#include <stddef.h>
#include <stdint.h>

/* Class bits: exactly one of the first seven for an assigned code point
 * (none for an unassigned one), plus TRIT_UC_SPACE for White_Space. */
enum {
	TRIT_UC_LETTER = 1,     /* \p{L} */
	TRIT_UC_NUMBER = 2,     /* \p{N} */
	TRIT_UC_PUNCT = 4,      /* \p{P} */
	TRIT_UC_SYMBOL = 8,     /* \p{S} */
	TRIT_UC_MARK = 16,      /* \p{M} */
	TRIT_UC_SEPARATOR = 32, /* \p{Z} */
	TRIT_UC_CONTROL = 64,   /* \p{C} without Cn */
	TRIT_UC_SPACE = 128     /* White_Space (PropList.txt): \s */
};

struct trit_uc_range {
	uint32_t first, last;
	uint8_t flags;
};
extern const struct trit_uc_range trit_uc_ranges[];
extern const size_t trit_uc_n_ranges;
extern const char trit_uc_version[]; /* "15.0.0" */

/* The class bits of code point cp (0 beyond U+10FFFF). */
unsigned trit_uc_flags(uint32_t cp);

#define TRIT_UC_REPLACEMENT 0xFFFDu

/*
 * Decode one code point of s[0..len) (len >= 1) into *cp; returns the bytes
 * used. A lead byte followed by enough continuation bytes is decoded without
 * further checks (overlong forms and surrogates pass, as in llama.cpp); any
 * other byte is one U+FFFD and uses 1 byte, so the next byte starts afresh.
 */
size_t trit_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);
/* Encode cp (<= 0x10FFFF; larger is written as U+FFFD) into out[4];
 * returns the bytes written. */
size_t trit_utf8_encode(uint32_t cp, unsigned char out[4]);
/* Bytes of the UTF-8 sequence a lead byte announces (1 for continuation
 * and invalid bytes): how SentencePiece splits text into characters. */
size_t trit_utf8_len(unsigned char lead);

#endif
