/*
 * check_gguf_write.c - the specification of runtime/model/gguf_write.c: what
 * it writes reads back through gguf.c exactly (values, tensor infos,
 * aligned data), a pair copied from a file is written byte for byte as it
 * was stored for every value type, and misuse (a key twice, too much or
 * too little data) is an error naming the key or tensor.
 */
#include <build-config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <trit/backend.h>

#include "model/ggml_types.h"
#include "model/gguf.h"
#include "model/gguf_write.h"
#include "support/support.h"

static char err[512];

/* The bytes w writes as a header (after data of `data` bytes, if any). */
static unsigned char *written(struct trit_gguf_writer *w, const void *data, size_t data_len,
                              size_t *len)
{
	FILE *f = tmpfile();
	unsigned char *b;
	long n;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(trit_gguf_write_header(w, f, "t.gguf", err, sizeof err), 0);
	if (data_len)
		ck_assert_int_eq(trit_gguf_write_data(w, data, data_len, err, sizeof err), 0);
	ck_assert_int_eq(trit_gguf_write_finish(w, err, sizeof err), 0);
	n = ftell(f);
	ck_assert_int_gt(n, 0);
	b = malloc((size_t)n);
	rewind(f);
	ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return b;
}

static struct trit_gguf *parsed(const unsigned char *b, size_t len)
{
	struct trit_gguf *g = NULL;

	ck_assert_msg(trit_gguf_parse(b, len, len, "t.gguf", &g, err, sizeof err) == 0, "%s", err);
	return g;
}

START_TEST(values_and_tensors_read_back_through_the_reader)
{
	struct trit_gguf_writer *w = trit_gguf_writer_new(0);
	static const uint64_t ne_a[2] = { 3, 2 }, ne_b[1] = { 5 };
	unsigned char data[6 * 4 + 5 * 4], *b;
	const struct trit_gguf_tensor *t;
	struct trit_gguf_str s;
	struct trit_gguf *g;
	uint64_t u, cur = 0;
	double f;
	int64_t i;
	int v;
	size_t len;

	for (size_t k = 0; k < sizeof data; k++)
		data[k] = (unsigned char)(k * 7 + 1);
	trit_gguf_put_u32(w, "a.u32", 4000000000u);
	trit_gguf_put_i32(w, "a.i32", -7);
	trit_gguf_put_f32(w, "a.f32", 0.125f);
	trit_gguf_put_bool(w, "a.bool", 1);
	trit_gguf_put_str(w, "a.str", "hi there", 8);
	trit_gguf_put_array(w, "a.strs", TRIT_GGUF_STRING, 2);
	trit_gguf_put_elem_str(w, "x", 1);
	trit_gguf_put_elem_str(w, "yz", 2);
	trit_gguf_put_array(w, "a.ints", TRIT_GGUF_I32, 2);
	trit_gguf_put_elem_i32(w, 3);
	trit_gguf_put_elem_i32(w, -4);
	trit_gguf_add_tensor(w, "a", 2, ne_a, TRIT_GGML_F32, 24);
	trit_gguf_add_tensor(w, "b", 1, ne_b, TRIT_GGML_F32, 20);
	b = written(w, data, sizeof data, &len);
	g = parsed(b, len);
	ck_assert_uint_eq(g->version, 3);
	ck_assert_int_eq(trit_gguf_get_u64(g, "a.u32", &u), 0);
	ck_assert_uint_eq(u, 4000000000u);
	ck_assert_int_eq(trit_gguf_get_i64(g, "a.i32", &i), 0);
	ck_assert_int_eq(i, -7);
	ck_assert_int_eq(trit_gguf_get_f64(g, "a.f32", &f), 0);
	ck_assert(f == 0.125);
	ck_assert_int_eq(trit_gguf_get_bool(g, "a.bool", &v), 0);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(trit_gguf_get_str(g, "a.str", &s), 0);
	ck_assert(s.len == 8 && memcmp(s.s, "hi there", 8) == 0);
	ck_assert_int_eq(trit_gguf_array_next_str(trit_gguf_find(g, "a.strs"), &cur, &s), 0);
	ck_assert(s.len == 1 && s.s[0] == 'x');
	ck_assert_int_eq(trit_gguf_array_next_str(trit_gguf_find(g, "a.strs"), &cur, &s), 0);
	ck_assert(s.len == 2 && memcmp(s.s, "yz", 2) == 0);
	ck_assert_int_eq(trit_gguf_array_f64(trit_gguf_find(g, "a.ints"), 1, &f), TRIT_EFORMAT);
	ck_assert_int_eq(trit_gguf_array_u64(trit_gguf_find(g, "a.ints"), 0, &u), 0);
	ck_assert_uint_eq(u, 3);
	ck_assert_uint_eq(g->n_tensors, 2);
	ck_assert_uint_eq(g->data_offset % 32, 0);
	t = trit_gguf_find_tensor(g, "b");
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(t->offset, 32); /* 24 bytes of "a", padded to 32 */
	ck_assert_uint_eq(t->ne[0], 5);
	ck_assert_mem_eq(b + g->data_offset, data, 24);
	ck_assert_mem_eq(b + g->data_offset + 32, data + 24, 20);
	ck_assert_uint_eq(len, g->data_offset + 32 + 32);
	trit_gguf_close(g);
	trit_gguf_writer_free(w);
	free(b);
}
END_TEST

/* A key and a scalar value of type `type` as GGUF stores them. */
static size_t raw_kv(unsigned char *p, const char *key, uint32_t type, const void *v, size_t n)
{
	uint64_t klen = strlen(key);

	memcpy(p, &klen, 8);
	memcpy(p + 8, key, klen);
	memcpy(p + 8 + klen, &type, 4);
	memcpy(p + 12 + klen, v, n);
	return 12 + klen + n;
}

START_TEST(a_copied_pair_is_written_as_stored_for_every_type)
{
	static const struct { uint32_t type; unsigned char v[8]; size_t n; } vals[] = {
		{ TRIT_GGUF_U8, { 0xfe }, 1 }, { TRIT_GGUF_I8, { 0x80 }, 1 },
		{ TRIT_GGUF_U16, { 0x34, 0xff }, 2 }, { TRIT_GGUF_I16, { 0x01, 0x80 }, 2 },
		{ TRIT_GGUF_U32, { 1, 2, 3, 0xf4 }, 4 }, { TRIT_GGUF_I32, { 0xff, 0xff, 0xff, 0xff }, 4 },
		{ TRIT_GGUF_F32, { 0, 0, 0xc0, 0x3f }, 4 }, { TRIT_GGUF_BOOL, { 1 }, 1 },
		{ TRIT_GGUF_U64, { 1, 2, 3, 4, 5, 6, 7, 0xf8 }, 8 },
		{ TRIT_GGUF_I64, { 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 8 },
		{ TRIT_GGUF_F64, { 0, 0, 0, 0, 0, 0, 0xf8, 0x3f }, 8 },
		{ TRIT_GGUF_STRING, { 3, 0, 0, 0, 0, 0, 0, 0 }, 8 }, /* "abc" follows */
		{ TRIT_GGUF_ARRAY, { TRIT_GGUF_U16, 0, 0, 0, 2, 0, 0, 0 }, 8 }, /* count 2 ... */
	};
	unsigned char src[1024], *out;
	uint64_t n_kv = sizeof vals / sizeof vals[0], zero = 0;
	uint32_t version = 3;
	size_t len = 0, out_len;
	struct trit_gguf_writer *w = trit_gguf_writer_new(0);
	struct trit_gguf *g;
	char key[16];

	memcpy(src, "GGUF", 4);
	memcpy(src + 4, &version, 4);
	memcpy(src + 8, &zero, 8);
	memcpy(src + 16, &n_kv, 8);
	len = 24;
	for (size_t i = 0; i < n_kv; i++) {
		snprintf(key, sizeof key, "k%zu", i);
		len += raw_kv(src + len, key, vals[i].type, vals[i].v, vals[i].n);
		if (vals[i].type == TRIT_GGUF_STRING) {
			memcpy(src + len, "abc", 3);
			len += 3;
		} else if (vals[i].type == TRIT_GGUF_ARRAY) {
			static const unsigned char rest[] = { 0, 0, 0, 0, 7, 0, 9, 0 };
			memcpy(src + len, rest, sizeof rest); /* count's high half, 7, 9 */
			len += sizeof rest;
		}
	}
	g = parsed(src, len);
	for (uint64_t i = 0; i < g->n_kv; i++)
		trit_gguf_put_copy(w, &g->kv[i]);
	out = written(w, NULL, 0, &out_len);
	ck_assert_uint_ge(out_len, len);
	ck_assert_mem_eq(out, src, len);
	trit_gguf_close(g);
	trit_gguf_writer_free(w);
	free(out);
}
END_TEST

START_TEST(misuse_is_an_error_naming_the_key_or_tensor)
{
	struct trit_gguf_writer *w = trit_gguf_writer_new(0);
	static const uint64_t ne[1] = { 4 };
	unsigned char data[20] = { 0 };
	FILE *f = tmpfile();

	trit_gguf_put_u32(w, "dup.key", 1);
	trit_gguf_put_u32(w, "dup.key", 2);
	ck_assert_int_eq(trit_gguf_write_header(w, f, "t.gguf", err, sizeof err), TRIT_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "dup.key"));
	trit_gguf_writer_free(w);

	w = trit_gguf_writer_new(0);
	trit_gguf_add_tensor(w, "four", 1, ne, TRIT_GGML_F32, 16);
	ck_assert_int_eq(trit_gguf_write_header(w, f, "t.gguf", err, sizeof err), 0);
	ck_assert_int_eq(trit_gguf_write_data(w, data, 8, err, sizeof err), 0);
	ck_assert_int_eq(trit_gguf_write_finish(w, err, sizeof err), TRIT_EINVAL);
	ck_assert_msg(strstr(err, "four") && strstr(err, "8 of 16"), "%s", err);
	ck_assert_int_eq(trit_gguf_write_data(w, data, 9, err, sizeof err), TRIT_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "more data"));
	trit_gguf_writer_free(w);
	fclose(f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("gguf_write");
	TCase *tc = tcase_create("writer");

	tcase_add_test(tc, values_and_tensors_read_back_through_the_reader);
	tcase_add_test(tc, a_copied_pair_is_written_as_stored_for_every_type);
	tcase_add_test(tc, misuse_is_an_error_naming_the_key_or_tensor);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
