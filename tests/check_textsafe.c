/*
 * check_textsafe.c - the specification of runtime/core/textsafe.c: what text
 * from a file may reach a terminal as it is, and how the rest is written
 * (terminal escape sequences, bells, C1 controls, malformed UTF-8), in
 * reports and in every error message trit_errf formats.
 */
#include <build-config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "core/textsafe.h"
#include "support/support.h"

static const char *esc(const char *s)
{
	static char buf[256];
	return trit_text_safe(s, buf, sizeof buf);
}

START_TEST(printable_utf8_is_kept_as_it_is)
{
	ck_assert_str_eq(esc("llama"), "llama");
	ck_assert_str_eq(esc("blk.0.attn_q.weight"), "blk.0.attn_q.weight");
	ck_assert_str_eq(esc("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
	                 "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	ck_assert_str_eq(esc("a\\x1b"), "a\\x1b"); /* a backslash stays */
	ck_assert(trit_text_is_safe("plain", 5, 0));
}
END_TEST

START_TEST(terminal_escape_sequences_are_written_visibly)
{
	ck_assert_str_eq(esc("\x1b]0;pwned\x07\x1b[31mred"), "\\x1b]0;pwned\\x07\\x1b[31mred");
	ck_assert_str_eq(esc("tab\there\nnl\rcr"), "tab\\x09here\\x0anl\\x0dcr");
	ck_assert_str_eq(esc("del\x7f"), "del\\x7f");
	ck_assert(!trit_text_is_safe("a\x1b", 2, 0));
}
END_TEST

START_TEST(c1_controls_are_escaped_as_code_points)
{
	/* U+009B is CSI, U+0085 NEL: UTF-8 C2 9B, C2 85 */
	ck_assert_str_eq(esc("x\xc2\x9b" "31m\xc2\x85y"), "x\\u{9b}31m\\u{85}y");
	ck_assert_str_eq(esc("\xc2\xa0"), "\xc2\xa0"); /* U+00A0 prints */
}
END_TEST

START_TEST(malformed_utf8_is_escaped_byte_by_byte)
{
	ck_assert_str_eq(esc("a\xff" "b"), "a\\xffb");
	ck_assert_str_eq(esc("\xc3"), "\\xc3");                /* cut short */
	ck_assert_str_eq(esc("\xc0\xaf"), "\\xc0\\xaf");       /* overlong '/' */
	ck_assert_str_eq(esc("\xed\xa0\x80"), "\\xed\\xa0\\x80"); /* a surrogate */
	ck_assert_str_eq(esc("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80"); /* > U+10FFFF */
	ck_assert_str_eq(esc("\x80"), "\\x80");                /* a stray continuation */
}
END_TEST

START_TEST(truncation_never_cuts_an_escape_and_says_so)
{
	char small[8];
	size_t need = trit_text_escape(small, sizeof small, "ab\x1b\x1b", 4, 0);

	ck_assert_uint_eq(need, 10);
	ck_assert_str_eq(small, "ab\\x1b"); /* the second escape does not fit whole */
	ck_assert_str_eq(trit_text_safe("abcdefghijkl", small, sizeof small), "abcd...");
	ck_assert_str_eq(trit_text_safe(NULL, small, sizeof small), "(null)");
}
END_TEST

START_TEST(error_messages_keep_newlines_and_escape_the_rest)
{
	char err[64];

	ck_assert_int_eq(trit_errf(err, sizeof err, -7, "m.gguf: name '%s'\nnext", "\x1b[2J\x07"),
	                 -7);
	ck_assert_str_eq(err, "m.gguf: name '\\x1b[2J\\x07'\nnext");
	trit_errf(err, sizeof err, -1, "%s", "fine \xc3\xa9");
	ck_assert_str_eq(err, "fine \xc3\xa9");
	/* a long escaped message still fits its buffer */
	trit_errf(err, 16, -1, "%s", "\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b");
	ck_assert_str_eq(err, "\\x1b\\x1b\\x1b");
}
END_TEST

START_TEST(fputs_writes_long_text_whole)
{
	char in[1001], *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	ck_assert_ptr_nonnull(f);
	memset(in, '\a', 1000);
	in[1000] = '\0';
	trit_text_fputs(in, f);
	trit_text_fputs(" ok", f);
	fclose(f);
	ck_assert_uint_eq(len, 4000 + 3);
	ck_assert(strncmp(out, "\\x07\\x07", 8) == 0);
	ck_assert_str_eq(out + 4000, " ok");
	free(out);
}
END_TEST

#define ADD(s, t) do { TCase *tc = tcase_create(#t); tcase_add_test(tc, t); suite_add_tcase(s, tc); } while (0)

int main(void)
{
	Suite *s = suite_create("textsafe");

	ADD(s, printable_utf8_is_kept_as_it_is);
	ADD(s, terminal_escape_sequences_are_written_visibly);
	ADD(s, c1_controls_are_escaped_as_code_points);
	ADD(s, malformed_utf8_is_escaped_byte_by_byte);
	ADD(s, truncation_never_cuts_an_escape_and_says_so);
	ADD(s, error_messages_keep_newlines_and_escape_the_rest);
	ADD(s, fputs_writes_long_text_whole);

	return test_run_suite(s);
}
