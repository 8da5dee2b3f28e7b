/*
 * textsafe.c - escape text from files for terminals: decode UTF-8 strictly,
 * keep what prints, write controls and malformed bytes as visible escapes.
 * What to escape is decided here once; callers only choose where.
 */
#include <build-config.h>

#include <stdlib.h>
#include <string.h>

#include "core/textsafe.h"

size_t trit_utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t v, min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF)
		len = 2, v = c & 0x1Fu, min = 0x80;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3, v = c & 0x0Fu, min = 0x800;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4, v = c & 0x07u, min = 0x10000;
	else
		return 0; /* continuation byte, C0/C1 overlong lead, or beyond U+10FFFF */
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3Fu);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return len;
}

int trit_text_is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

/* The escape for the character at s (k bytes, code point cp; k 0 for a
 * malformed byte) into e; returns its length, 0 when it is kept as is. */
static size_t escape_one(const unsigned char *s, size_t k, uint32_t cp, unsigned flags,
                         char e[8])
{
	static const char hex[] = "0123456789abcdef";

	if (k && !trit_text_is_control(cp))
		return 0;
	if (k && cp == '\n' && (flags & TRIT_TEXT_KEEP_NEWLINE))
		return 0;
	if (k && cp >= 0x80) { /* C1: \u{NN} */
		memcpy(e, "\\u{", 3);
		e[3] = hex[cp >> 4];
		e[4] = hex[cp & 15];
		e[5] = '}';
		return 6;
	}
	e[0] = '\\';
	e[1] = 'x';
	e[2] = hex[s[0] >> 4];
	e[3] = hex[s[0] & 15];
	return 4;
}

size_t trit_text_escape(char *dst, size_t cap, const char *s, size_t n, unsigned flags)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t need = 0, out = 0, i = 0;
	int full = 0;

	while (i < n) {
		uint32_t cp = 0;
		size_t k = trit_utf8_next(p + i, n - i, &cp), len;
		char e[8];
		const char *piece = e;

		len = escape_one(p + i, k, cp, flags, e);
		if (!len) {
			piece = s + i;
			len = k;
		}
		if (!full && out + len < cap) {
			memcpy(dst + out, piece, len);
			out += len;
		} else {
			full = 1;
		}
		need += len;
		i += k ? k : 1;
	}
	if (cap)
		dst[out] = '\0';
	return need;
}

int trit_text_is_safe(const char *s, size_t n, unsigned flags)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t k;
		char e[8];

		if (p[i] >= 0x20 && p[i] < 0x7F) { /* the common case, ASCII that prints */
			i++;
			continue;
		}
		k = trit_utf8_next(p + i, n - i, &cp);
		if (escape_one(p + i, k, cp, flags, e))
			return 0;
		i += k;
	}
	return 1;
}

const char *trit_text_safe(const char *s, char *buf, size_t cap)
{
	size_t n;

	if (!s)
		s = "(null)";
	n = strlen(s);
	if (trit_text_is_safe(s, n, 0) && n < cap) {
		memcpy(buf, s, n + 1);
		return buf;
	}
	if (trit_text_escape(buf, cap, s, n, 0) >= cap) {
		trit_text_escape(buf, cap - 3, s, n, 0);
		strcat(buf, "...");
	}
	return buf;
}

void trit_text_fputs(const char *s, FILE *out)
{
	size_t n = strlen(s), need;
	char small[256], *big;

	if (trit_text_is_safe(s, n, 0)) {
		fputs(s, out);
		return;
	}
	need = trit_text_escape(small, sizeof small, s, n, 0);
	if (need < sizeof small) {
		fputs(small, out);
		return;
	}
	if ((big = malloc(need + 1)) != NULL) {
		trit_text_escape(big, need + 1, s, n, 0);
		fputs(big, out);
		free(big);
		return;
	}
	for (size_t i = 0; i < n; i++) /* no memory: one byte at a time */
		fputc((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7F ? s[i] : '?', out);
}

void trit_text_sanitize(char *msg, size_t cap)
{
	size_t n;
	char *copy;

	if (!msg || !cap)
		return;
	n = strnlen(msg, cap - 1);
	if (trit_text_is_safe(msg, n, TRIT_TEXT_KEEP_NEWLINE))
		return;
	if ((copy = malloc(n)) != NULL) {
		memcpy(copy, msg, n);
		trit_text_escape(msg, cap, copy, n, TRIT_TEXT_KEEP_NEWLINE);
		free(copy);
		return;
	}
	for (size_t i = 0; i < n; i++) /* no memory: replace what would be escaped */
		if (((unsigned char)msg[i] < 0x20 && msg[i] != '\n') || (unsigned char)msg[i] >= 0x7F)
			msg[i] = '?';
}

/* ------------------------------------------------------------------ JSON */

/* The JSON form of the character at s (k bytes, code point cp; k 0 for a
 * malformed byte) into e; 0 when it is written as it is. */
static size_t json_one(uint32_t cp, size_t k, char e[8])
{
	static const char hex[] = "0123456789abcdef";

	if (!k) {
		memcpy(e, "\\ufffd", 6);
		return 6;
	}
	if (cp == '"' || cp == '\\') {
		e[0] = '\\';
		e[1] = (char)cp;
		return 2;
	}
	if (!trit_text_is_control(cp))
		return 0;
	memcpy(e, "\\u00", 4);
	e[4] = hex[cp >> 4];
	e[5] = hex[cp & 15];
	return 6;
}

size_t trit_json_quote(char *dst, size_t cap, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t need = 1, out = 0;
	int full = cap < 2;

	if (!full)
		dst[out++] = '"';
	for (size_t i = 0; i < n;) {
		uint32_t cp = 0;
		size_t k = trit_utf8_next(p + i, n - i, &cp), len;
		char e[8];
		const char *piece = e;

		if (!(len = json_one(cp, k, e))) {
			piece = s + i;
			len = k;
		}
		if (!full && out + len + 1 < cap) { /* room for the closing quote */
			memcpy(dst + out, piece, len);
			out += len;
		} else {
			full = 1;
		}
		need += len;
		i += k ? k : 1;
	}
	if (!full)
		dst[out++] = '"';
	if (cap)
		dst[out < cap ? out : cap - 1] = '\0';
	return need + 1;
}

/* Whether the byte at p (n left) must change in a JSON text: DEL, C1 or
 * malformed UTF-8 (cJSON already escaped C0, quotes and backslashes). */
static size_t json_fix_at(const unsigned char *p, size_t n, size_t *k, char e[8])
{
	uint32_t cp = 0;

	if (p[0] < 0x7F) {
		*k = 1;
		return 0;
	}
	*k = trit_utf8_next(p, n, &cp);
	if (*k && !trit_text_is_control(cp))
		return 0;
	return json_one(cp, *k, e);
}

char *trit_json_make_safe(char *json)
{
	const unsigned char *p = (const unsigned char *)json;
	size_t n, need = 0, changed = 0, k, out = 0;
	char e[8], *safe;

	if (!json)
		return NULL;
	n = strlen(json);
	for (size_t i = 0; i < n; i += k ? k : 1) {
		size_t len = json_fix_at(p + i, n - i, &k, e);
		need += len ? len : k;
		changed |= len;
	}
	if (!changed)
		return json;
	if ((safe = malloc(need + 1)) != NULL) {
		for (size_t i = 0; i < n; i += k ? k : 1) {
			size_t len = json_fix_at(p + i, n - i, &k, e);
			memcpy(safe + out, len ? e : json + i, len ? len : k);
			out += len ? len : k;
		}
		safe[out] = '\0';
	}
	free(json);
	return safe;
}
