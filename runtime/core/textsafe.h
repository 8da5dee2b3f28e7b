/*
 * textsafe.h - showing text that came from a file (metadata, tensor names,
 * vocabulary pieces, config.json values) to people without letting it act on
 * their terminal: escape sequences, title changes, bells and bytes that are
 * not UTF-8 are written as visible escapes. Every text report and error
 * message that quotes file content goes through here, and every JSON
 * report (cJSON escapes C0 only, and passes malformed UTF-8 on).
 *
 * The escapes are for reading, not for round trips: a backslash in the
 * input is kept as it is.
 */
#ifndef TRIT_CORE_TEXTSAFE_H
#define TRIT_CORE_TEXTSAFE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Bytes of the well-formed UTF-8 sequence at s (n bytes available), its code
 * point in *cp; 0 when s[0] starts no well-formed sequence (a stray
 * continuation byte, an overlong form, a surrogate, beyond U+10FFFF, or cut
 * short by n). n must be > 0. */
size_t trit_utf8_next(const unsigned char *s, size_t n, uint32_t *cp);

/* Whether code point cp is a control character a terminal acts on: C0
 * (U+0000..U+001F), DEL (U+007F) or C1 (U+0080..U+009F). */
int trit_text_is_control(uint32_t cp);

enum {
	TRIT_TEXT_KEEP_NEWLINE = 1   /* leave '\n' as it is (multi-line messages) */
};

/* Escape the n bytes at s for one line of text: printable UTF-8 is kept;
 * C0 controls (tab and newline included) and DEL become \xNN, C1 controls
 * \u{NN}, each byte of malformed UTF-8 \xNN. Writes at most cap bytes to dst,
 * always NUL-terminated when cap > 0, never cutting an escape or a character
 * in two. Returns the length the whole escaped text needs (as snprintf does),
 * so a result >= cap means dst was truncated. */
size_t trit_text_escape(char *dst, size_t cap, const char *s, size_t n, unsigned flags);

/* Whether the n bytes at s would come out of trit_text_escape unchanged. */
int trit_text_is_safe(const char *s, size_t n, unsigned flags);

/* The NUL-terminated s escaped into buf (cap > 3 bytes), ending in "..."
 * when it did not fit; returns buf, for printf arguments. NULL prints as
 * "(null)". */
const char *trit_text_safe(const char *s, char *buf, size_t cap);

/* Write the NUL-terminated s to out escaped, whole. */
void trit_text_fputs(const char *s, FILE *out);

/* Escape the message in msg (a buffer of cap bytes) in place, keeping
 * newlines: what trit_errf does to every error. */
void trit_text_sanitize(char *msg, size_t cap);

/* JSON. A JSON text may hold any code point raw inside its strings, and
 * cJSON escapes only C0 there; these add DEL and C1 (a terminal acts on
 * them too) and make the text valid UTF-8, which a file's strings need not
 * be: each malformed byte becomes U+FFFD. */

/* s (n bytes) as a quoted JSON string into dst (cap bytes, NUL-terminated
 * when cap > 0, cut only between characters); returns the length it needs,
 * as trit_text_escape does. */
size_t trit_json_quote(char *dst, size_t cap, const char *s, size_t n);

/* A whole JSON text from cJSON_Print, made safe as above: returns json
 * itself when nothing needed changing, else a new string (json is freed);
 * NULL, with json freed, when memory ran out. NULL in, NULL out. */
char *trit_json_make_safe(char *json);

#endif
