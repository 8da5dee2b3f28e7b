/*
 * check_gguf.c - the specification of runtime/model/gguf.c: what a valid GGUF
 * header reads as, what every kind of malformed header reports (offset, field,
 * expected, found), how the bitnet.cpp/mainline dialect is decided, and what
 * the getters convert. Files are built in memory by a small writer below.
 * With TRIT_GGUF_SEED_DIR set it only writes valid files there (fuzz seeds).
 */
#include <build-config.h>

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <trit/backend.h>

#include "model/gguf.h"
#include "support/support.h"

/* ------------------------------------------------------------ the writer */

struct gw {
	unsigned char *b;
	size_t len, cap;
};

static void put(struct gw *w, const void *p, size_t n)
{
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 256;
		while (cap < w->len + n)
			cap *= 2;
		if (!(w->b = realloc(w->b, cap)))
			abort(); /* the writer also runs outside tests (seeds): no ck_assert */
		w->cap = cap;
	}
	if (n)
		memcpy(w->b + w->len, p, n);
	w->len += n;
}

static void put_le(struct gw *w, uint64_t v, unsigned bytes)
{
	unsigned char b[8];
	for (unsigned i = 0; i < bytes; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	put(w, b, bytes);
}

static void put_u8(struct gw *w, uint8_t v) { put_le(w, v, 1); }
static void put_u16(struct gw *w, uint16_t v) { put_le(w, v, 2); }
static void put_u32(struct gw *w, uint32_t v) { put_le(w, v, 4); }
static void put_u64(struct gw *w, uint64_t v) { put_le(w, v, 8); }

static void put_f32(struct gw *w, float f)
{
	uint32_t b;
	memcpy(&b, &f, sizeof b);
	put_u32(w, b);
}

static void put_f64(struct gw *w, double f)
{
	uint64_t b;
	memcpy(&b, &f, sizeof b);
	put_u64(w, b);
}

static void put_str(struct gw *w, const char *s)
{
	put_u64(w, strlen(s));
	put(w, s, strlen(s));
}

static void put_header(struct gw *w, uint32_t version, uint64_t n_tensors, uint64_t n_kv)
{
	put(w, "GGUF", 4);
	put_u32(w, version);
	put_u64(w, n_tensors);
	put_u64(w, n_kv);
}

/* Key and value type; the caller writes the value. */
static void put_key(struct gw *w, const char *key, uint32_t type)
{
	put_str(w, key);
	put_u32(w, type);
}

static void kv_u32(struct gw *w, const char *key, uint32_t v)
{
	put_key(w, key, TRIT_GGUF_U32);
	put_u32(w, v);
}

static void kv_str(struct gw *w, const char *key, const char *v)
{
	put_key(w, key, TRIT_GGUF_STRING);
	put_str(w, v);
}

static void put_tensor(struct gw *w, const char *name, uint32_t n_dims, const uint64_t *ne,
                       uint32_t type, uint64_t offset)
{
	put_str(w, name);
	put_u32(w, n_dims);
	for (uint32_t i = 0; i < n_dims; i++)
		put_u64(w, ne[i]);
	put_u32(w, type);
	put_u64(w, offset);
}

static void pad_to(struct gw *w, uint64_t align)
{
	while (w->len % align)
		put_u8(w, 0);
}

static void put_zeros(struct gw *w, size_t n)
{
	static const unsigned char zero[4096];
	while (n) {
		size_t k = n < sizeof zero ? n : sizeof zero;
		put(w, zero, k);
		n -= k;
	}
}

struct tspec {
	const char *name;
	uint32_t n_dims;
	uint64_t ne[4];
	uint32_t type;
};

/* Tensor infos laid out one after another at aligned offsets, sized by the
 * library's own table; returns the bytes the data section needs. */
static uint64_t put_tensors(struct gw *w, const struct tspec *t, size_t n, uint64_t align,
                            enum trit_ggml_dialect d)
{
	uint64_t off = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t size;
		char e[256];
		off = (off + align - 1) / align * align;
		if (trit_ggml_nbytes(trit_ggml_type(t[i].type, d), t[i].n_dims, t[i].ne, &size, e,
		                     sizeof e) != 0) {
			fprintf(stderr, "check_gguf: the writer cannot size %s: %s\n", t[i].name, e);
			abort();
		}
		put_tensor(w, t[i].name, t[i].n_dims, t[i].ne, t[i].type, off);
		off += size;
	}
	return off;
}

/* A complete file: header, the kv pairs the caller wrote into kvs (n_kv of
 * them), tensors, padding and zeroed data. */
static void build(struct gw *w, uint32_t version, const struct gw *kvs, uint64_t n_kv,
                  const struct tspec *t, size_t n, uint64_t align, enum trit_ggml_dialect d)
{
	uint64_t data;

	put_header(w, version, n, n_kv);
	put(w, kvs->b, kvs->len);
	data = put_tensors(w, t, n, align, d);
	pad_to(w, align);
	put_zeros(w, (size_t)data);
}

/* ------------------------------------------------------------- fixture */

static struct gw w, kvs;
static struct trit_gguf *g;
static char err[2048];

static void setup(void)
{
	memset(&w, 0, sizeof w);
	memset(&kvs, 0, sizeof kvs);
	g = NULL;
	err[0] = '\0';
}

static void teardown(void)
{
	trit_gguf_close(g);
	g = NULL;
	free(w.b);
	free(kvs.b);
}

static int parse_w(void)
{
	trit_gguf_close(g);
	g = NULL;
	err[0] = '\0';
	return trit_gguf_parse(w.b, w.len, w.len, "t.gguf", &g, err, sizeof err);
}

/* The parse of w fails with code and err contains each of the strings. */
static void expect_fail_v(int code, va_list ap)
{
	int rc = parse_w();
	const char *s;

	ck_assert_msg(rc == code, "rc %d, wanted %d; err: %s", rc, code, err);
	ck_assert_ptr_null(g);
	ck_assert_msg(strncmp(err, "t.gguf: offset ", 15) == 0, "err lacks name and offset: %s",
	              err);
	while ((s = va_arg(ap, const char *)) != NULL)
		ck_assert_msg(strstr(err, s), "err lacks \"%s\": %s", s, err);
}

static void expect_fail(int code, ...)
{
	va_list ap;
	va_start(ap, code);
	expect_fail_v(code, ap);
	va_end(ap);
}

static void expect_ok(void)
{
	int rc = parse_w();
	ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
	ck_assert_ptr_nonnull(g);
}

static char offs[32];
static const char *at(uint64_t off)
{
	snprintf(offs, sizeof offs, "offset %llu:", (unsigned long long)off);
	return offs;
}

static int streq(struct trit_gguf_str s, const char *lit)
{
	return s.len == strlen(lit) && memcmp(s.s, lit, s.len) == 0;
}

/* ------------------------------------------------- the all-types file */

static const struct tspec three[] = {
	{ "token_embd.weight", 2, { 64, 8 }, TRIT_GGML_F16 },
	{ "blk.0.attn_q.weight", 2, { 64, 4 }, TRIT_GGML_Q4_0 },
	{ "output_norm.weight", 1, { 64 }, TRIT_GGML_F32 },
};

/* Every value type, an array of strings, a nested array, an empty array;
 * returns the number of pairs written. */
static uint64_t every_type_kvs(struct gw *k)
{
	kv_str(k, "general.architecture", "llama");
	put_key(k, "v.u8", TRIT_GGUF_U8); put_u8(k, 200);
	put_key(k, "v.i8", TRIT_GGUF_I8); put_u8(k, (uint8_t)-100);
	put_key(k, "v.u16", TRIT_GGUF_U16); put_u16(k, 60000);
	put_key(k, "v.i16", TRIT_GGUF_I16); put_u16(k, (uint16_t)-30000);
	kv_u32(k, "v.u32", 4000000000u);
	put_key(k, "v.i32", TRIT_GGUF_I32); put_u32(k, (uint32_t)-2000000000);
	put_key(k, "v.f32", TRIT_GGUF_F32); put_f32(k, 1e-5f);
	put_key(k, "v.bool", TRIT_GGUF_BOOL); put_u8(k, 1);
	kv_str(k, "v.string", "hello");
	put_key(k, "v.u64", TRIT_GGUF_U64); put_u64(k, UINT64_MAX);
	put_key(k, "v.i64", TRIT_GGUF_I64); put_u64(k, (uint64_t)INT64_MIN);
	put_key(k, "v.f64", TRIT_GGUF_F64); put_f64(k, 500000.0);
	put_key(k, "a.u32", TRIT_GGUF_ARRAY); put_u32(k, TRIT_GGUF_U32); put_u64(k, 3);
	put_u32(k, 32); put_u32(k, 8); put_u32(k, 32);
	put_key(k, "a.i16", TRIT_GGUF_ARRAY); put_u32(k, TRIT_GGUF_I16); put_u64(k, 2);
	put_u16(k, (uint16_t)-7); put_u16(k, 7);
	put_key(k, "a.f32", TRIT_GGUF_ARRAY); put_u32(k, TRIT_GGUF_F32); put_u64(k, 2);
	put_f32(k, 0.5f); put_f32(k, -2.0f);
	put_key(k, "a.bool", TRIT_GGUF_ARRAY); put_u32(k, TRIT_GGUF_BOOL); put_u64(k, 3);
	put_u8(k, 0); put_u8(k, 1); put_u8(k, 0);
	put_key(k, "a.string", TRIT_GGUF_ARRAY); put_u32(k, TRIT_GGUF_STRING); put_u64(k, 3);
	put_str(k, "<s>"); put_str(k, ""); put_str(k, "world");
	put_key(k, "a.nested", TRIT_GGUF_ARRAY); put_u32(k, TRIT_GGUF_ARRAY); put_u64(k, 2);
	put_u32(k, TRIT_GGUF_U8); put_u64(k, 2); put_u8(k, 1); put_u8(k, 2);
	put_u32(k, TRIT_GGUF_STRING); put_u64(k, 1); put_str(k, "x");
	put_key(k, "a.empty", TRIT_GGUF_ARRAY); put_u32(k, TRIT_GGUF_U64); put_u64(k, 0);
	return 20;
}

static void build_every_type(uint32_t version)
{
	uint64_t n = every_type_kvs(&kvs);
	build(&w, version, &kvs, n, three, 3, 32, TRIT_GGML_MAINLINE);
}

static void check_every_type_read(uint32_t version)
{
	const struct trit_gguf_kv *kv;
	struct trit_gguf_str s;
	uint64_t u, cursor = 0;
	int64_t i;
	double f;
	int b;

	expect_ok();
	ck_assert_uint_eq(g->version, version);
	ck_assert_uint_eq(g->n_kv, 20);
	ck_assert_uint_eq(g->n_tensors, 3);
	ck_assert_uint_eq(g->alignment, 32);
	ck_assert_int_eq(g->dialect, TRIT_GGML_MAINLINE);
	ck_assert_uint_eq(g->file_size, w.len);
	ck_assert_uint_eq(g->data_offset % 32, 0);
	ck_assert_uint_eq(g->data_offset, w.len - (1184 + 256));

	ck_assert_int_eq(trit_gguf_get_str(g, "general.architecture", &s), 0);
	ck_assert(streq(s, "llama"));
	ck_assert_int_eq(trit_gguf_get_u64(g, "v.u8", &u), 0); ck_assert_uint_eq(u, 200);
	ck_assert_int_eq(trit_gguf_get_i64(g, "v.i8", &i), 0); ck_assert_int_eq(i, -100);
	ck_assert_int_eq(trit_gguf_get_u64(g, "v.u16", &u), 0); ck_assert_uint_eq(u, 60000);
	ck_assert_int_eq(trit_gguf_get_i64(g, "v.i16", &i), 0); ck_assert_int_eq(i, -30000);
	ck_assert_int_eq(trit_gguf_get_u64(g, "v.u32", &u), 0); ck_assert_uint_eq(u, 4000000000u);
	ck_assert_int_eq(trit_gguf_get_i64(g, "v.i32", &i), 0); ck_assert_int_eq(i, -2000000000);
	ck_assert_int_eq(trit_gguf_get_f64(g, "v.f32", &f), 0); ck_assert(f == (double)1e-5f);
	ck_assert_int_eq(trit_gguf_get_bool(g, "v.bool", &b), 0); ck_assert_int_eq(b, 1);
	ck_assert_int_eq(trit_gguf_get_str(g, "v.string", &s), 0); ck_assert(streq(s, "hello"));
	ck_assert_int_eq(trit_gguf_get_u64(g, "v.u64", &u), 0); ck_assert_uint_eq(u, UINT64_MAX);
	ck_assert_int_eq(trit_gguf_get_i64(g, "v.i64", &i), 0); ck_assert(i == INT64_MIN);
	ck_assert_int_eq(trit_gguf_get_f64(g, "v.f64", &f), 0); ck_assert(f == 500000.0);

	kv = trit_gguf_find(g, "a.u32");
	ck_assert_ptr_nonnull(kv);
	ck_assert_uint_eq(kv->type, TRIT_GGUF_ARRAY);
	ck_assert_uint_eq(kv->arr_type, TRIT_GGUF_U32);
	ck_assert_uint_eq(kv->arr_count, 3);
	ck_assert_uint_eq(kv->arr_bytes, 12);
	ck_assert_int_eq(trit_gguf_array_u64(kv, 1, &u), 0); ck_assert_uint_eq(u, 8);
	ck_assert_int_eq(trit_gguf_array_u64(kv, 2, &u), 0); ck_assert_uint_eq(u, 32);
	kv = trit_gguf_find(g, "a.i16");
	ck_assert_int_eq(trit_gguf_array_u64(kv, 1, &u), 0); ck_assert_uint_eq(u, 7);
	ck_assert_int_eq(trit_gguf_array_u64(kv, 0, &u), TRIT_ERANGE);
	kv = trit_gguf_find(g, "a.f32");
	ck_assert_int_eq(trit_gguf_array_f64(kv, 1, &f), 0); ck_assert(f == -2.0);
	kv = trit_gguf_find(g, "a.bool");
	ck_assert_uint_eq(kv->arr_count, 3);
	ck_assert_uint_eq(kv->arr_bytes, 3);
	ck_assert_uint_eq(kv->arr_data[1], 1);
	kv = trit_gguf_find(g, "a.string");
	ck_assert_uint_eq(kv->arr_count, 3);
	ck_assert_uint_eq(kv->arr_bytes, 8 * 3 + 3 + 0 + 5);
	ck_assert_int_eq(trit_gguf_array_next_str(kv, &cursor, &s), 0); ck_assert(streq(s, "<s>"));
	ck_assert_int_eq(trit_gguf_array_next_str(kv, &cursor, &s), 0); ck_assert(streq(s, ""));
	ck_assert_int_eq(trit_gguf_array_next_str(kv, &cursor, &s), 0); ck_assert(streq(s, "world"));
	ck_assert_int_eq(trit_gguf_array_next_str(kv, &cursor, &s), TRIT_ERANGE);
	kv = trit_gguf_find(g, "a.nested");
	ck_assert_uint_eq(kv->arr_type, TRIT_GGUF_ARRAY);
	ck_assert_uint_eq(kv->arr_count, 2);
	ck_assert_uint_eq(kv->arr_bytes, 12 + 2 + 12 + 9);
	kv = trit_gguf_find(g, "a.empty");
	ck_assert_uint_eq(kv->arr_count, 0);
	ck_assert_uint_eq(kv->arr_bytes, 0);

	for (int t = 0; t < 3; t++) {
		const struct trit_gguf_tensor *x = &g->tensors[t];
		ck_assert(streq(x->name, three[t].name));
		ck_assert_uint_eq(x->n_dims, three[t].n_dims);
		for (unsigned d = 0; d < 4; d++)
			ck_assert_uint_eq(x->ne[d], d < x->n_dims ? three[t].ne[d] : 1);
		ck_assert_uint_eq(x->type_id, three[t].type);
		ck_assert_ptr_nonnull(x->type);
		ck_assert_uint_eq(x->type->id, three[t].type);
	}
	ck_assert_uint_eq(g->tensors[0].offset, 0);
	ck_assert_uint_eq(g->tensors[0].size, 64 * 8 * 2);
	ck_assert_uint_eq(g->tensors[1].offset, 1024);
	ck_assert_uint_eq(g->tensors[1].size, 2 * 18 * 4);
	ck_assert_uint_eq(g->tensors[2].offset, 1184); /* 1024 + 144 aligned up to 32 */
	ck_assert_uint_eq(g->tensors[2].size, 256);
	ck_assert_str_eq(g->tensors[1].type->name, "Q4_0");
	ck_assert_ptr_eq(trit_gguf_find_tensor(g, "blk.0.attn_q.weight"), &g->tensors[1]);
	ck_assert_ptr_null(trit_gguf_find_tensor(g, "blk.0.attn_q"));
}

START_TEST(reads_a_v3_file_with_every_value_type_exactly)
{
	build_every_type(3);
	check_every_type_read(3);
}
END_TEST

START_TEST(reads_a_v2_file_the_same_way)
{
	build_every_type(2);
	check_every_type_read(2);
}
END_TEST

START_TEST(the_parsed_header_outlives_the_input_buffer)
{
	struct trit_gguf_str s;

	build_every_type(3);
	expect_ok();
	memset(w.b, 0xa5, w.len);
	ck_assert_int_eq(trit_gguf_get_str(g, "v.string", &s), 0);
	ck_assert(streq(s, "hello"));
	ck_assert(streq(g->tensors[2].name, "output_norm.weight"));
}
END_TEST

START_TEST(every_truncation_of_a_valid_file_is_an_error)
{
	struct trit_gguf *h;
	size_t full;

	build_every_type(3);
	full = w.len;
	for (size_t n = 0; n < full; n++) {
		/* the file itself is shorter ... */
		int rc = trit_gguf_parse(w.b, n, n, "t.gguf", &h, err, sizeof err);
		ck_assert_msg(rc < 0 && h == NULL, "a file cut to %zu of %zu bytes was accepted", n,
		              full);
		ck_assert_msg(strncmp(err, "t.gguf: offset ", 15) == 0, "%zu: %s", n, err);
		/* ... or only a prefix of it was given */
		rc = trit_gguf_parse(w.b, n, full, "t.gguf", &h, err, sizeof err);
		if (rc == 0) { /* the whole header was given: accepted as it should be */
			ck_assert_uint_ge(n, h->buf_len);
			trit_gguf_close(h);
		}
	}
}
END_TEST

START_TEST(refuses_a_bad_magic_naming_the_bytes_found)
{
	put(&w, "\x89PNG", 4);
	put_zeros(&w, 40);
	expect_fail(TRIT_EFORMAT, at(0), "magic", "\"GGUF\"", "89 50 4e 47", NULL);
}
END_TEST

START_TEST(refuses_version_1_asking_for_a_reconversion)
{
	put_header(&w, 1, 0, 0);
	expect_fail(TRIT_EFORMAT, at(4), "version", "GGUF version 1 (2023) is not supported",
	            "re-convert the model with a current llama.cpp", NULL);
}
END_TEST

START_TEST(refuses_version_4_naming_it)
{
	put_header(&w, 4, 0, 0);
	expect_fail(TRIT_EFORMAT, at(4), "version", "expected 2 or 3", "found 4", NULL);
}
END_TEST

START_TEST(refuses_a_big_endian_file_saying_so)
{
	put(&w, "GGUF\0\0\0\3", 8);
	put_zeros(&w, 16);
	expect_fail(TRIT_EFORMAT, at(4), "version", "big-endian", NULL);
}
END_TEST

START_TEST(accepts_a_file_with_no_tensors_and_no_metadata)
{
	put_header(&w, 3, 0, 0);
	expect_ok();
	ck_assert_uint_eq(g->n_kv, 0);
	ck_assert_uint_eq(g->n_tensors, 0);
	ck_assert_ptr_null(trit_gguf_find(g, "general.architecture"));
}
END_TEST

START_TEST(refuses_n_tensors_over_the_limit)
{
	put_header(&w, 3, (uint64_t)TRIT_GGUF_MAX_TENSORS + 1, 0);
	expect_fail(TRIT_ERANGE, at(8), "n_tensors", "at most 1048576", "found 1048577", NULL);
}
END_TEST

START_TEST(refuses_n_kv_over_the_limit)
{
	put_header(&w, 3, 0, UINT64_MAX);
	expect_fail(TRIT_ERANGE, at(16), "n_kv", "at most 65536", "found 18446744073709551615",
	            NULL);
}
END_TEST

START_TEST(refuses_counts_the_file_cannot_hold_before_allocating)
{
	put_header(&w, 3, 0, 1000);
	put_zeros(&w, 140); /* room for 10 pairs of 14 bytes */
	expect_fail(TRIT_EFORMAT, at(16), "n_kv", "at most 10 metadata pairs", "found a count of 1000",
	            NULL);
	free(w.b);
	memset(&w, 0, sizeof w);
	put_header(&w, 3, 1000000, 1);
	kv_u32(&w, "k", 1);
	put_zeros(&w, 330);
	expect_fail(TRIT_EFORMAT, at(8), "n_tensors", "found a count of 1000000", NULL);
}
END_TEST

START_TEST(refuses_a_string_length_past_the_end_of_the_file)
{
	size_t v;

	put_header(&w, 3, 0, 1);
	put_key(&w, "general.name", TRIT_GGUF_STRING);
	v = w.len;
	put_u64(&w, 1000);
	put(&w, "short", 5);
	expect_fail(TRIT_EFORMAT, at(v + 8), "value of 'general.name'", "expected 1000 bytes",
	            "found 5 before the end of the file", NULL);
}
END_TEST

START_TEST(refuses_a_string_over_the_length_limit)
{
	struct trit_gguf *h = NULL;
	size_t v;
	int rc;

	put_header(&w, 3, 0, 1);
	put_key(&w, "general.name", TRIT_GGUF_STRING);
	v = w.len;
	put_u64(&w, (uint64_t)TRIT_GGUF_MAX_STRING + 1);
	/* claim a 1 GiB file of which only the start is given: refused from the
	 * length alone, nothing read or allocated for it */
	rc = trit_gguf_parse(w.b, w.len, UINT64_C(1) << 30, "t.gguf", &h, err, sizeof err);
	ck_assert_int_eq(rc, TRIT_ERANGE);
	ck_assert_ptr_null(h);
	ck_assert_ptr_nonnull(strstr(err, at(v)));
	ck_assert_ptr_nonnull(strstr(err, "value of 'general.name'"));
	ck_assert_ptr_nonnull(strstr(err, "at most 16777216 bytes, found 16777217"));
}
END_TEST

START_TEST(refuses_an_empty_key)
{
	put_header(&w, 3, 0, 1);
	kv_u32(&w, "", 5);
	expect_fail(TRIT_EFORMAT, at(24), "key of metadata pair 0", "non-empty", "found length 0",
	            NULL);
}
END_TEST

START_TEST(refuses_a_key_longer_than_64_kib)
{
	put_header(&w, 3, 0, 1);
	put_u64(&w, 70000);
	put_zeros(&w, 70000 + 8);
	expect_fail(TRIT_ERANGE, at(24), "key of metadata pair 0", "at most 65535 bytes",
	            "found 70000", NULL);
}
END_TEST

START_TEST(refuses_an_unknown_value_type)
{
	size_t t;

	put_header(&w, 3, 0, 2);
	kv_u32(&w, "a", 1);
	t = w.len + 8 + 8;
	put_key(&w, "test.key", 13);
	put_u32(&w, 0);
	expect_fail(TRIT_EFORMAT, at(t), "value type of 'test.key'", "a value type 0 to 12",
	            "found 13", NULL);
}
END_TEST

START_TEST(refuses_an_unknown_array_element_type)
{
	size_t t;

	put_header(&w, 3, 0, 1);
	put_key(&w, "arr", TRIT_GGUF_ARRAY);
	t = w.len;
	put_u32(&w, 77);
	put_u64(&w, 0);
	expect_fail(TRIT_EFORMAT, at(t), "value of 'arr'", "found 77", NULL);
}
END_TEST

/* An array nested levels deep whose innermost elements are two u8. */
static void put_nested(struct gw *k, int levels)
{
	put_key(k, "deep", TRIT_GGUF_ARRAY);
	for (int l = 1; l < levels; l++) {
		put_u32(k, TRIT_GGUF_ARRAY);
		put_u64(k, 1);
	}
	put_u32(k, TRIT_GGUF_U8);
	put_u64(k, 2);
	put_u8(k, 7);
	put_u8(k, 9);
}

START_TEST(accepts_arrays_nested_to_the_depth_limit)
{
	const struct trit_gguf_kv *kv;

	put_header(&w, 3, 0, 1);
	put_nested(&w, TRIT_GGUF_MAX_DEPTH);
	expect_ok();
	kv = trit_gguf_find(g, "deep");
	ck_assert_uint_eq(kv->arr_type, TRIT_GGUF_ARRAY);
	ck_assert_uint_eq(kv->arr_bytes, 12 * (TRIT_GGUF_MAX_DEPTH - 1) + 2);
}
END_TEST

START_TEST(refuses_arrays_nested_deeper_than_the_limit)
{
	put_header(&w, 3, 0, 1);
	put_nested(&w, TRIT_GGUF_MAX_DEPTH + 1);
	/* the level-4 array's element type (ARRAY) is the field refused */
	expect_fail(TRIT_ERANGE, at(24 + 8 + 4 + 4 + 12 * (TRIT_GGUF_MAX_DEPTH - 1)),
	            "value of 'deep': element 0: element 0: element 0", "nested at most 4 levels",
	            NULL);
}
END_TEST

START_TEST(refuses_a_bool_of_2)
{
	size_t v;

	put_header(&w, 3, 0, 1);
	put_key(&w, "flag", TRIT_GGUF_BOOL);
	v = w.len;
	put_u8(&w, 2);
	expect_fail(TRIT_EFORMAT, at(v), "value of 'flag'", "bool 0 or 1, found 2", NULL);
}
END_TEST

START_TEST(refuses_a_bool_of_2_inside_an_array)
{
	size_t v;

	put_header(&w, 3, 0, 1);
	put_key(&w, "flags", TRIT_GGUF_ARRAY);
	put_u32(&w, TRIT_GGUF_BOOL);
	put_u64(&w, 3);
	v = w.len;
	put(&w, "\0\1\2", 3);
	expect_fail(TRIT_EFORMAT, at(v + 2), "value of 'flags': element 2", "found 2", NULL);
}
END_TEST

START_TEST(refuses_an_array_count_past_the_end_of_the_file)
{
	size_t c;

	put_header(&w, 3, 0, 1);
	put_key(&w, "tokenizer.ggml.tokens", TRIT_GGUF_ARRAY);
	put_u32(&w, TRIT_GGUF_STRING);
	c = w.len;
	put_u64(&w, UINT64_C(1) << 40);
	put_str(&w, "a");
	expect_fail(TRIT_EFORMAT, at(c), "value of 'tokenizer.ggml.tokens'", "at most 1 string elements",
	            "found a count of 1099511627776", NULL);
}
END_TEST

START_TEST(refuses_a_header_beyond_the_size_limit)
{
	struct trit_gguf *h = NULL;
	size_t c;
	int rc;

	put_header(&w, 3, 0, 1);
	put_key(&w, "big", TRIT_GGUF_ARRAY);
	put_u32(&w, TRIT_GGUF_U8);
	c = w.len;
	put_u64(&w, TRIT_GGUF_MAX_HEADER);
	rc = trit_gguf_parse(w.b, w.len, UINT64_C(1) << 32, "t.gguf", &h, err, sizeof err);
	ck_assert_int_eq(rc, TRIT_ERANGE);
	ck_assert_ptr_nonnull(strstr(err, at(c)));
	ck_assert_ptr_nonnull(strstr(err, "header limit"));
}
END_TEST

START_TEST(refuses_a_duplicate_key_naming_both_places)
{
	size_t second;

	put_header(&w, 3, 0, 3);
	kv_u32(&w, "general.alignment", 32);
	kv_str(&w, "general.architecture", "llama");
	second = w.len;
	kv_str(&w, "general.architecture", "bitnet");
	expect_fail(TRIT_EFORMAT, at(second), "key 'general.architecture'", "each key once",
	            "first at offset 57", NULL);
}
END_TEST

/* A file with one kv and the given tensor infos written raw by fn. */
static void tensors_file(uint64_t n_tensors, void (*fn)(struct gw *), size_t data)
{
	put_header(&w, 3, n_tensors, 1);
	kv_str(&w, "general.architecture", "llama");
	fn(&w);
	pad_to(&w, 32);
	put_zeros(&w, data);
}

static const uint64_t ne64x2[] = { 64, 2 };
static size_t info2; /* offset of the second tensor info */

static void dup_names(struct gw *x)
{
	put_tensor(x, "output.weight", 2, ne64x2, TRIT_GGML_F32, 0);
	info2 = x->len;
	put_tensor(x, "output.weight", 2, ne64x2, TRIT_GGML_F32, 512);
}

START_TEST(refuses_a_duplicate_tensor_name)
{
	tensors_file(2, dup_names, 1024);
	expect_fail(TRIT_EFORMAT, at(info2), "tensor 'output.weight'", "each tensor name once",
	            NULL);
}
END_TEST

static void empty_name(struct gw *x)
{
	put_tensor(x, "", 2, ne64x2, TRIT_GGML_F32, 0);
}

START_TEST(refuses_an_empty_tensor_name)
{
	tensors_file(1, empty_name, 512);
	expect_fail(TRIT_EFORMAT, "name of tensor 0", "non-empty", NULL);
}
END_TEST

static void long_name(struct gw *x)
{
	put_u64(x, 65536);
	put_zeros(x, 65536 + 40);
}

START_TEST(refuses_a_tensor_name_longer_than_64_kib)
{
	tensors_file(1, long_name, 0);
	expect_fail(TRIT_ERANGE, "name of tensor 0", "at most 65535 bytes", "found 65536", NULL);
}
END_TEST

static uint32_t dims_n;
static void dims(struct gw *x)
{
	put_str(x, "blk.0.ffn_up.weight");
	info2 = x->len;
	put_u32(x, dims_n);
	put_zeros(x, 80);
}

START_TEST(refuses_n_dims_0_and_5)
{
	dims_n = 0;
	tensors_file(1, dims, 0);
	expect_fail(TRIT_EFORMAT, at(info2), "tensor 'blk.0.ffn_up.weight': n_dims",
	            "1 to 4 dimensions, found 0", NULL);
	free(w.b);
	memset(&w, 0, sizeof w);
	dims_n = 5;
	tensors_file(1, dims, 0);
	expect_fail(TRIT_EFORMAT, at(info2), "n_dims", "found 5", NULL);
}
END_TEST

static void zero_dim(struct gw *x)
{
	static const uint64_t ne[] = { 64, 0, 3 };
	put_str(x, "w");
	put_u32(x, 3);
	info2 = x->len + 8;
	for (int i = 0; i < 3; i++)
		put_u64(x, ne[i]);
	put_u32(x, 0);
	put_u64(x, 0);
}

START_TEST(refuses_a_zero_dimension)
{
	tensors_file(1, zero_dim, 64);
	expect_fail(TRIT_EFORMAT, at(info2), "tensor 'w': ne[1]", "found 0", NULL);
}
END_TEST

static uint32_t one_type;
static uint64_t one_ne0 = 256, one_offset;
static void one_tensor(struct gw *x)
{
	uint64_t ne[] = { one_ne0, 4 };
	info2 = x->len + 8 + strlen("blk.0.ffn_down.weight") + 4 + 16; /* the type field */
	put_tensor(x, "blk.0.ffn_down.weight", 2, ne, one_type, one_offset);
}

START_TEST(refuses_an_unknown_type_id)
{
	one_type = 99;
	tensors_file(1, one_tensor, 8192);
	expect_fail(TRIT_EFORMAT, at(info2), "tensor 'blk.0.ffn_down.weight': type",
	            "a GGML type id trit knows (mainline dialect), found 99", NULL);
}
END_TEST

START_TEST(refuses_a_removed_type_id_naming_it)
{
	one_type = 31;
	tensors_file(1, one_tensor, 8192);
	expect_fail(TRIT_EFORMAT, at(info2), "tensor 'blk.0.ffn_down.weight': type", "found 31",
	            "Q4_0_4_4, removed", NULL);
	free(w.b);
	memset(&w, 0, sizeof w);
	one_type = 4;
	tensors_file(1, one_tensor, 8192);
	expect_fail(TRIT_EFORMAT, at(info2), "Q4_2, removed", NULL);
}
END_TEST

START_TEST(refuses_a_row_length_not_a_multiple_of_the_block)
{
	one_type = TRIT_GGML_Q4_0;
	one_ne0 = 33;
	tensors_file(1, one_tensor, 8192);
	one_ne0 = 256;
	expect_fail(TRIT_EFORMAT, at(info2 - 20), "tensor 'blk.0.ffn_down.weight': shape",
	            "row length 33 is not a multiple of Q4_0's block of 32", NULL);
}
END_TEST

START_TEST(refuses_a_misaligned_offset)
{
	one_type = TRIT_GGML_F32;
	one_offset = 48;
	tensors_file(1, one_tensor, 8192);
	one_offset = 0;
	expect_fail(TRIT_EFORMAT, at(info2 + 4), "tensor 'blk.0.ffn_down.weight': offset",
	            "a multiple of the alignment 32, found 48", NULL);
}
END_TEST

START_TEST(refuses_a_tensor_past_the_end_of_the_file)
{
	one_type = TRIT_GGML_F32; /* 256 x 4 x 4 = 4096 bytes */
	tensors_file(1, one_tensor, 4095);
	expect_fail(TRIT_EFORMAT, at(info2 + 4), "tensor 'blk.0.ffn_down.weight': offset",
	            "its 4096 bytes at data offset 0", "run past the end", NULL);
	free(w.b);
	memset(&w, 0, sizeof w);
	one_offset = UINT64_MAX - 31; /* aligned, and no wrap-around when adding */
	tensors_file(1, one_tensor, 4096);
	one_offset = 0;
	expect_fail(TRIT_EFORMAT, at(info2 + 4), "run past the end", NULL);
}
END_TEST

static void overlapping(struct gw *x)
{
	/* listed out of order: the overlap is found by offset, not file order */
	put_tensor(x, "b", 2, ne64x2, TRIT_GGML_F32, 512);
	info2 = x->len + 8 + 1 + 4 + 16 + 4;
	put_tensor(x, "c", 2, ne64x2, TRIT_GGML_F32, 992);
	put_tensor(x, "a", 2, ne64x2, TRIT_GGML_F32, 0);
}

static void overlapping_in_order(struct gw *x)
{
	put_tensor(x, "a", 2, ne64x2, TRIT_GGML_F32, 0);
	info2 = x->len + 8 + 1 + 4 + 16 + 4;
	put_tensor(x, "b", 2, ne64x2, TRIT_GGML_F32, 480);
}

START_TEST(refuses_overlapping_tensors)
{
	tensors_file(3, overlapping, 2048);
	expect_fail(TRIT_EFORMAT, at(info2), "tensor 'c': offset", "at least 1024",
	            "past tensor 'b' (data bytes 512 to 1024), found 992", NULL);
	free(w.b);
	memset(&w, 0, sizeof w);
	tensors_file(2, overlapping_in_order, 2048);
	expect_fail(TRIT_EFORMAT, at(info2), "tensor 'b': offset", "at least 512",
	            "past tensor 'a' (data bytes 0 to 512), found 480", NULL);
}
END_TEST

static void alignment_file(uint32_t type, uint32_t value)
{
	put_header(&w, 3, 0, 1);
	put_key(&w, "general.alignment", type);
	put_u32(&w, value);
}

START_TEST(refuses_alignment_0_and_non_powers_of_two)
{
	alignment_file(TRIT_GGUF_U32, 0);
	expect_fail(TRIT_EFORMAT, at(24 + 8 + 17 + 4), "general.alignment",
	            "a power of two, found 0", NULL);
	free(w.b);
	memset(&w, 0, sizeof w);
	alignment_file(TRIT_GGUF_U32, 48);
	expect_fail(TRIT_EFORMAT, "general.alignment", "found 48", NULL);
}
END_TEST

START_TEST(refuses_alignment_of_a_type_other_than_u32)
{
	alignment_file(TRIT_GGUF_I32, 32);
	expect_fail(TRIT_EFORMAT, at(24 + 8 + 17), "general.alignment", "expected type u32",
	            "found i32", NULL);
}
END_TEST

START_TEST(places_the_data_section_at_general_alignment)
{
	static const struct tspec t[] = { { "a", 1, { 16 }, TRIT_GGML_F32 },
	                                  { "b", 1, { 16 }, TRIT_GGML_F32 } };

	kv_u32(&kvs, "general.alignment", 256);
	build(&w, 3, &kvs, 1, t, 2, 256, TRIT_GGML_MAINLINE);
	expect_ok();
	ck_assert_uint_eq(g->alignment, 256);
	ck_assert_uint_eq(g->data_offset, 256);
	ck_assert_uint_eq(g->tensors[1].offset, 256);
	ck_assert_uint_eq(w.len, 256 + 256 + 64);
}
END_TEST

/* ---------------------------------------------------- bitnet.cpp types */

/* A header-only view of a file of file_size bytes: the data need not be
 * given for the header to be checked against the size. */
static int parse_header_of(uint64_t file_size)
{
	trit_gguf_close(g);
	g = NULL;
	return trit_gguf_parse(w.b, w.len, file_size, "t.gguf", &g, err, sizeof err);
}

/* A K x M weight of the given type (tensor 0) after an F32 norm of K. */
static uint64_t weight_offset;
static void bitnet_file(const char *arch, int64_t file_type, uint32_t type, uint64_t k,
                        uint64_t m)
{
	uint64_t ne[] = { k, m };
	put_header(&w, 3, 2, file_type >= 0 ? 2 : 1);
	kv_str(&w, "general.architecture", arch);
	if (file_type >= 0)
		kv_u32(&w, "general.file_type", (uint32_t)file_type);
	weight_offset = (k * 4 + 31) / 32 * 32;
	put_tensor(&w, "blk.0.attn_q.weight", 2, ne, type, weight_offset);
	put_tensor(&w, "blk.0.attn_norm.weight", 1, ne, TRIT_GGML_F32, 0);
	pad_to(&w, 32);
}

START_TEST(sizes_i2_s_as_a_quarter_byte_per_weight_plus_32)
{
	bitnet_file("bitnet-b1.58", 40, TRIT_GGML_I2_S, 2560, 2560);
	ck_assert_int_eq(parse_header_of(w.len + (UINT64_C(2) << 20)), 0);
	ck_assert_int_eq(g->dialect, TRIT_GGML_BITNET);
	ck_assert_str_eq(g->tensors[0].type->name, "I2_S");
	ck_assert_uint_eq(g->tensors[0].size, 2560 * 2560 / 4 + 32);
	/* one byte short of the I2_S tensor: refused */
	ck_assert_int_eq(parse_header_of(w.len + weight_offset + 2560 * 2560 / 4 + 31),
	                 TRIT_EFORMAT);
	ck_assert_ptr_nonnull(strstr(err, "its 1638432 bytes"));
}
END_TEST

START_TEST(sizes_tl2_by_bitnet_cpp_s_formula)
{
	bitnet_file("bitnet-b1.58", 39, TRIT_GGML_TL2, 2560, 2560);
	ck_assert_int_eq(parse_header_of(w.len + (UINT64_C(2) << 20)), 0);
	ck_assert_str_eq(g->tensors[0].type->name, "TL2");
	/* (2304*2560/3*5/8 + 256*2560/2*4/8) = 1392640, a multiple of 32, + 32 */
	ck_assert_uint_eq(g->tensors[0].size, 1392672);
	free(w.b);
	memset(&w, 0, sizeof w);
	bitnet_file("bitnet-b1.58", 39, TRIT_GGML_TL2, 300, 10);
	ck_assert_int_eq(parse_header_of(w.len + 4096), 0);
	/* 44*10/3*5/8 = 91, 256*10/2*4/8 = 640; 731 rounded up to 736, + 32 */
	ck_assert_uint_eq(g->tensors[0].size, 768);
}
END_TEST

START_TEST(refuses_a_tl2_tensor_the_formula_does_not_cover)
{
	bitnet_file("bitnet-b1.58", 39, TRIT_GGML_TL2, 128, 10);
	ck_assert_int_eq(parse_header_of(w.len + 4096), TRIT_EFORMAT);
	ck_assert_ptr_nonnull(strstr(err, "tensor 'blk.0.attn_q.weight': shape"));
	ck_assert_ptr_nonnull(strstr(err, "TL2 needs"));
}
END_TEST

/* ------------------------------------------------------------- dialect */

START_TEST(dialect_type_36_means_bitnet_cpp_whatever_the_architecture)
{
	bitnet_file("llama", -1, 36, 4096, 4096);
	ck_assert_int_eq(parse_header_of(w.len + (UINT64_C(8) << 20)), 0);
	ck_assert_int_eq(g->dialect, TRIT_GGML_BITNET);
	ck_assert_str_eq(g->tensors[0].type->name, "I2_S");
}
END_TEST

START_TEST(dialect_type_38_means_bitnet_cpp_tl1)
{
	bitnet_file("llama", 38, 38, 4096, 256);
	ck_assert_int_eq(parse_header_of(w.len + (UINT64_C(8) << 20)), 0);
	ck_assert_int_eq(g->dialect, TRIT_GGML_BITNET);
	ck_assert_str_eq(g->tensors[0].type->name, "TL1");
}
END_TEST

START_TEST(dialect_type_39_in_a_bitnet_architecture_means_tl2)
{
	static const char *const archs[] = { "bitnet", "bitnet-b1.58", "bitnet-25", "bitnet-1.58" };
	for (size_t i = 0; i < 4; i++) {
		free(w.b);
		memset(&w, 0, sizeof w);
		bitnet_file(archs[i], -1, 39, 2560, 2560);
		ck_assert_int_eq(parse_header_of(w.len + (UINT64_C(8) << 20)), 0);
		ck_assert_int_eq(g->dialect, TRIT_GGML_BITNET);
		ck_assert_str_eq(g->tensors[0].type->name, "TL2");
	}
}
END_TEST

START_TEST(dialect_type_39_in_a_llama_architecture_means_mxfp4)
{
	bitnet_file("llama", -1, 39, 2560, 2560);
	ck_assert_int_eq(parse_header_of(w.len + (UINT64_C(8) << 20)), 0);
	ck_assert_int_eq(g->dialect, TRIT_GGML_MAINLINE);
	ck_assert_str_eq(g->tensors[0].type->name, "MXFP4");
	ck_assert_uint_eq(g->tensors[0].size, 2560 / 32 * 17 * 2560);
}
END_TEST

START_TEST(dialect_type_39_with_file_type_39_means_tl2_in_any_architecture)
{
	/* bitnet.cpp's Llama3-8B-1.58 TL2 files say "llama" and MOSTLY_TL2 (39) */
	bitnet_file("llama", 39, 39, 2560, 2560);
	ck_assert_int_eq(parse_header_of(w.len + (UINT64_C(8) << 20)), 0);
	ck_assert_int_eq(g->dialect, TRIT_GGML_BITNET);
	ck_assert_str_eq(g->tensors[0].type->name, "TL2");
}
END_TEST

START_TEST(dialect_type_39_with_file_type_38_means_mainline_mxfp4_moe)
{
	bitnet_file("bitnet", 38, 39, 2560, 2560);
	ck_assert_int_eq(parse_header_of(w.len + (UINT64_C(8) << 20)), 0);
	ck_assert_int_eq(g->dialect, TRIT_GGML_MAINLINE);
	ck_assert_str_eq(g->tensors[0].type->name, "MXFP4");
}
END_TEST

START_TEST(dialect_without_types_36_to_39_is_mainline)
{
	bitnet_file("bitnet-b1.58", 40, TRIT_GGML_TQ2_0, 2560, 2560);
	ck_assert_int_eq(parse_header_of(w.len + (UINT64_C(8) << 20)), 0);
	ck_assert_int_eq(g->dialect, TRIT_GGML_MAINLINE);
	ck_assert_str_eq(g->tensors[0].type->name, "TQ2_0");
}
END_TEST

/* ------------------------------------------------------------- getters */

START_TEST(getters_convert_integers_that_fit_and_refuse_those_that_do_not)
{
	uint64_t u;
	int64_t i;
	double f;
	int b;
	struct trit_gguf_str s;

	put_header(&w, 3, 0, 8);
	put_key(&w, "neg", TRIT_GGUF_I32); put_u32(&w, (uint32_t)-1);
	put_key(&w, "pos", TRIT_GGUF_I16); put_u16(&w, 300);
	put_key(&w, "huge", TRIT_GGUF_U64); put_u64(&w, UINT64_C(1) << 63);
	put_key(&w, "f", TRIT_GGUF_F32); put_f32(&w, 0.25f);
	kv_str(&w, "s", "text");
	put_key(&w, "b", TRIT_GGUF_BOOL); put_u8(&w, 0);
	put_key(&w, "u8", TRIT_GGUF_U8); put_u8(&w, 255);
	put_key(&w, "i64", TRIT_GGUF_I64); put_u64(&w, 5);
	expect_ok();

	ck_assert_int_eq(trit_gguf_get_u64(g, "neg", &u), TRIT_ERANGE);
	ck_assert_int_eq(trit_gguf_get_i64(g, "neg", &i), 0); ck_assert_int_eq(i, -1);
	ck_assert_int_eq(trit_gguf_get_u64(g, "pos", &u), 0); ck_assert_uint_eq(u, 300);
	ck_assert_int_eq(trit_gguf_get_u64(g, "huge", &u), 0);
	ck_assert_uint_eq(u, UINT64_C(1) << 63);
	ck_assert_int_eq(trit_gguf_get_i64(g, "huge", &i), TRIT_ERANGE);
	ck_assert_int_eq(trit_gguf_get_i64(g, "u8", &i), 0); ck_assert_int_eq(i, 255);
	ck_assert_int_eq(trit_gguf_get_u64(g, "i64", &u), 0); ck_assert_uint_eq(u, 5);
	ck_assert_int_eq(trit_gguf_get_f64(g, "f", &f), 0); ck_assert(f == 0.25);
	/* no silent conversions across kinds */
	ck_assert_int_eq(trit_gguf_get_f64(g, "pos", &f), TRIT_EFORMAT);
	ck_assert_int_eq(trit_gguf_get_u64(g, "f", &u), TRIT_EFORMAT);
	ck_assert_int_eq(trit_gguf_get_u64(g, "s", &u), TRIT_EFORMAT);
	ck_assert_int_eq(trit_gguf_get_u64(g, "b", &u), TRIT_EFORMAT);
	ck_assert_int_eq(trit_gguf_get_bool(g, "u8", &b), TRIT_EFORMAT);
	ck_assert_int_eq(trit_gguf_get_str(g, "pos", &s), TRIT_EFORMAT);
	ck_assert_int_eq(trit_gguf_get_bool(g, "b", &b), 0); ck_assert_int_eq(b, 0);
	/* absent keys */
	ck_assert_int_eq(trit_gguf_get_u64(g, "missing", &u), TRIT_EINVAL);
	ck_assert_int_eq(trit_gguf_get_i64(g, "missing", &i), TRIT_EINVAL);
	ck_assert_int_eq(trit_gguf_get_f64(g, "missing", &f), TRIT_EINVAL);
	ck_assert_int_eq(trit_gguf_get_str(g, "missing", &s), TRIT_EINVAL);
	ck_assert_int_eq(trit_gguf_get_bool(g, "missing", &b), TRIT_EINVAL);
	ck_assert_int_eq(trit_gguf_get_u64(g, "ne", &u), TRIT_EINVAL); /* a prefix of "neg" */
	ck_assert_ptr_null(trit_gguf_find(NULL, "x"));
}
END_TEST

START_TEST(array_getters_check_the_index_and_the_element_type)
{
	const struct trit_gguf_kv *ints, *strs, *f64s, *scalar;
	struct trit_gguf_str s;
	uint64_t u, cursor = 0;
	double f;

	put_header(&w, 3, 0, 4);
	put_key(&w, "heads", TRIT_GGUF_ARRAY); put_u32(&w, TRIT_GGUF_I8); put_u64(&w, 3);
	put_u8(&w, 32); put_u8(&w, (uint8_t)-1); put_u8(&w, 8);
	put_key(&w, "toks", TRIT_GGUF_ARRAY); put_u32(&w, TRIT_GGUF_STRING); put_u64(&w, 1);
	put_str(&w, "a");
	put_key(&w, "eps", TRIT_GGUF_ARRAY); put_u32(&w, TRIT_GGUF_F64); put_u64(&w, 1);
	put_f64(&w, 1e-6);
	kv_u32(&w, "n", 3);
	expect_ok();
	ints = trit_gguf_find(g, "heads");
	strs = trit_gguf_find(g, "toks");
	f64s = trit_gguf_find(g, "eps");
	scalar = trit_gguf_find(g, "n");

	ck_assert_int_eq(trit_gguf_array_u64(ints, 0, &u), 0); ck_assert_uint_eq(u, 32);
	ck_assert_int_eq(trit_gguf_array_u64(ints, 1, &u), TRIT_ERANGE); /* -1 */
	ck_assert_int_eq(trit_gguf_array_u64(ints, 2, &u), 0); ck_assert_uint_eq(u, 8);
	ck_assert_int_eq(trit_gguf_array_u64(ints, 3, &u), TRIT_ERANGE); /* past the end */
	ck_assert_int_eq(trit_gguf_array_f64(ints, 0, &f), TRIT_EFORMAT);
	ck_assert_int_eq(trit_gguf_array_f64(f64s, 0, &f), 0); ck_assert(f == 1e-6);
	ck_assert_int_eq(trit_gguf_array_f64(f64s, 1, &f), TRIT_ERANGE);
	ck_assert_int_eq(trit_gguf_array_u64(f64s, 0, &u), TRIT_EFORMAT);
	ck_assert_int_eq(trit_gguf_array_u64(strs, 0, &u), TRIT_EFORMAT);
	ck_assert_int_eq(trit_gguf_array_u64(scalar, 0, &u), TRIT_EFORMAT);
	ck_assert_int_eq(trit_gguf_array_next_str(ints, &cursor, &s), TRIT_EFORMAT);
	cursor = 3; /* not a position next_str gave out */
	ck_assert_int_eq(trit_gguf_array_next_str(strs, &cursor, &s), TRIT_EFORMAT);
	cursor = 0;
	ck_assert_int_eq(trit_gguf_array_next_str(strs, &cursor, &s), 0);
	ck_assert(streq(s, "a"));
	ck_assert_int_eq(trit_gguf_array_next_str(strs, &cursor, &s), TRIT_ERANGE);
	ck_assert_str_eq(trit_gguf_type_name(TRIT_GGUF_ARRAY), "array");
	ck_assert_str_eq(trit_gguf_type_name(99), "unknown");
}
END_TEST

/* ------------------------------------------------------- from a file */

static char tmpdir[64];

static void file_setup(void)
{
	setup();
	snprintf(tmpdir, sizeof tmpdir, "/tmp/trit-check-gguf-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void file_teardown(void)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/m.gguf", tmpdir);
	unlink(p);
	rmdir(tmpdir);
	teardown();
}

static const char *write_file(void)
{
	static char p[PATH_MAX];
	FILE *f;

	snprintf(p, sizeof p, "%s/m.gguf", tmpdir);
	f = fopen(p, "wb");
	ck_assert_ptr_nonnull(f);
	if (w.len)
		ck_assert_uint_eq(fwrite(w.b, 1, w.len, f), w.len);
	ck_assert_int_eq(fclose(f), 0);
	return p;
}

/* A Llama-3-sized vocabulary: far past the first 1 MiB read. */
static void build_vocab_file(uint64_t n_tokens)
{
	static const struct tspec t[] = { { "token_embd.weight", 2, { 64, 16 }, TRIT_GGML_F16 } };
	char tok[32];

	kv_str(&kvs, "general.architecture", "llama");
	put_key(&kvs, "tokenizer.ggml.tokens", TRIT_GGUF_ARRAY);
	put_u32(&kvs, TRIT_GGUF_STRING);
	put_u64(&kvs, n_tokens);
	for (uint64_t i = 0; i < n_tokens; i++) {
		snprintf(tok, sizeof tok, "tok_%06llu", (unsigned long long)i);
		put_str(&kvs, tok);
	}
	build(&w, 3, &kvs, 2, t, 1, 32, TRIT_GGML_MAINLINE);
}

START_TEST(open_reads_a_header_larger_than_the_first_read)
{
	const struct trit_gguf_kv *kv;
	struct trit_gguf_str s;
	uint64_t cursor = 0, n = 0;
	int rc;

	build_vocab_file(128256);
	ck_assert_uint_gt(w.len, 2u << 20); /* two doublings past the first 1 MiB read */
	rc = trit_gguf_open(write_file(), &g, err, sizeof err);
	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_uint_eq(g->file_size, w.len);
	ck_assert_uint_eq(g->data_offset, w.len - 2048);
	/* it keeps the header, not the data */
	ck_assert_uint_le(g->buf_len, g->data_offset);
	ck_assert_uint_lt(g->data_offset - g->buf_len, 32);
	kv = trit_gguf_find(g, "tokenizer.ggml.tokens");
	ck_assert_ptr_nonnull(kv);
	ck_assert_uint_eq(kv->arr_count, 128256);
	while (trit_gguf_array_next_str(kv, &cursor, &s) == 0) {
		char want[32];
		snprintf(want, sizeof want, "tok_%06llu", (unsigned long long)n++);
		ck_assert(streq(s, want));
	}
	ck_assert_uint_eq(n, 128256);
	ck_assert(streq(g->tensors[0].name, "token_embd.weight"));
}
END_TEST

START_TEST(open_reports_a_file_cut_short_by_offset)
{
	int rc;

	build_vocab_file(150000);
	w.len = 1500000; /* in the middle of the vocabulary, past the first read */
	rc = trit_gguf_open(write_file(), &g, err, sizeof err);
	ck_assert_int_eq(rc, TRIT_EFORMAT);
	ck_assert_ptr_nonnull(strstr(err, "m.gguf: offset "));
	ck_assert_ptr_nonnull(strstr(err, "value of 'tokenizer.ggml.tokens': element "));
	ck_assert_ptr_nonnull(strstr(err, "before the end of the file (1500000 bytes)"));
}
END_TEST

START_TEST(open_refuses_every_truncation_of_a_valid_file)
{
	size_t full;

	build_every_type(3);
	full = w.len;
	ck_assert_int_eq(trit_gguf_open(write_file(), &g, err, sizeof err), 0);
	trit_gguf_close(g);
	g = NULL;
	for (w.len = 0; w.len < full; w.len++) {
		int rc = trit_gguf_open(write_file(), &g, err, sizeof err);
		ck_assert_msg(rc == TRIT_EFORMAT && g == NULL, "a file cut to %zu of %zu bytes: %d %s",
		              w.len, full, rc, err);
		ck_assert_ptr_nonnull(strstr(err, "m.gguf: offset "));
	}
}
END_TEST

START_TEST(open_refuses_a_missing_file_and_a_directory)
{
	ck_assert_int_eq(trit_gguf_open("/nonexistent/m.gguf", &g, err, sizeof err), TRIT_EIO);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/m.gguf: cannot open"));
	ck_assert_ptr_null(g);
	ck_assert_int_eq(trit_gguf_open(tmpdir, &g, err, sizeof err), TRIT_EIO);
	ck_assert_ptr_nonnull(strstr(err, "a directory"));
}
END_TEST

START_TEST(open_refuses_an_empty_file)
{
	w.len = 0;
	ck_assert_int_eq(trit_gguf_open(write_file(), &g, err, sizeof err), TRIT_EFORMAT);
	ck_assert_ptr_nonnull(strstr(err, "offset 0: magic: expected 4 bytes, found 0"));
}
END_TEST

/* -------------------------------------------------------------- seeds */

static int write_seed(const char *dir, const char *name)
{
	char p[PATH_MAX];
	FILE *f;

	snprintf(p, sizeof p, "%s/%s", dir, name);
	if (!(f = fopen(p, "wb")) || fwrite(w.b, 1, w.len, f) != w.len || fclose(f) != 0) {
		fprintf(stderr, "check_gguf: cannot write %s: %s\n", p, strerror(errno));
		return 1;
	}
	free(w.b);
	free(kvs.b);
	memset(&w, 0, sizeof w);
	memset(&kvs, 0, sizeof kvs);
	return 0;
}

/* Small valid files for the fuzzer to start from. */
static int write_seeds(const char *dir)
{
	static const struct tspec tl2[] = { { "blk.0.ffn_up.weight", 2, { 256, 4 }, TRIT_GGML_TL2 },
	                                    { "blk.0.ffn_up.scale", 1, { 1 }, TRIT_GGML_F32 } };
	static const struct tspec i2s[] = { { "blk.0.ffn_up.weight", 2, { 128, 2 }, TRIT_GGML_I2_S },
	                                    { "output_norm.weight", 1, { 128 }, TRIT_GGML_F32 } };
	int bad = 0;

	build_every_type(3);
	bad |= write_seed(dir, "every-type-v3.gguf");
	build_every_type(2);
	bad |= write_seed(dir, "every-type-v2.gguf");
	kv_str(&kvs, "general.architecture", "bitnet-b1.58");
	kv_u32(&kvs, "general.file_type", 39);
	build(&w, 3, &kvs, 2, tl2, 2, 32, TRIT_GGML_BITNET);
	bad |= write_seed(dir, "tl2.gguf");
	kv_str(&kvs, "general.architecture", "bitnet-b1.58");
	kv_u32(&kvs, "general.alignment", 64);
	build(&w, 3, &kvs, 2, i2s, 2, 64, TRIT_GGML_BITNET);
	bad |= write_seed(dir, "i2s.gguf");
	put_header(&w, 3, 0, 1);
	put_nested(&w, TRIT_GGUF_MAX_DEPTH);
	bad |= write_seed(dir, "nested.gguf");
	return bad;
}

/* -------------------------------------------------------------- main */

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
	const char *seeds = getenv("TRIT_GGUF_SEED_DIR");
	Suite *s;

	if (seeds && *seeds)
		return write_seeds(seeds);

	s = suite_create("gguf");
#define T(t) add(s, #t, t, setup, teardown)
#define F(t) add(s, #t, t, file_setup, file_teardown)
	T(reads_a_v3_file_with_every_value_type_exactly);
	T(reads_a_v2_file_the_same_way);
	T(the_parsed_header_outlives_the_input_buffer);
	T(every_truncation_of_a_valid_file_is_an_error);
	T(refuses_a_bad_magic_naming_the_bytes_found);
	T(refuses_version_1_asking_for_a_reconversion);
	T(refuses_version_4_naming_it);
	T(refuses_a_big_endian_file_saying_so);
	T(accepts_a_file_with_no_tensors_and_no_metadata);
	T(refuses_n_tensors_over_the_limit);
	T(refuses_n_kv_over_the_limit);
	T(refuses_counts_the_file_cannot_hold_before_allocating);
	T(refuses_a_string_length_past_the_end_of_the_file);
	T(refuses_a_string_over_the_length_limit);
	T(refuses_an_empty_key);
	T(refuses_a_key_longer_than_64_kib);
	T(refuses_an_unknown_value_type);
	T(refuses_an_unknown_array_element_type);
	T(accepts_arrays_nested_to_the_depth_limit);
	T(refuses_arrays_nested_deeper_than_the_limit);
	T(refuses_a_bool_of_2);
	T(refuses_a_bool_of_2_inside_an_array);
	T(refuses_an_array_count_past_the_end_of_the_file);
	T(refuses_a_header_beyond_the_size_limit);
	T(refuses_a_duplicate_key_naming_both_places);
	T(refuses_a_duplicate_tensor_name);
	T(refuses_an_empty_tensor_name);
	T(refuses_a_tensor_name_longer_than_64_kib);
	T(refuses_n_dims_0_and_5);
	T(refuses_a_zero_dimension);
	T(refuses_an_unknown_type_id);
	T(refuses_a_removed_type_id_naming_it);
	T(refuses_a_row_length_not_a_multiple_of_the_block);
	T(refuses_a_misaligned_offset);
	T(refuses_a_tensor_past_the_end_of_the_file);
	T(refuses_overlapping_tensors);
	T(refuses_alignment_0_and_non_powers_of_two);
	T(refuses_alignment_of_a_type_other_than_u32);
	T(places_the_data_section_at_general_alignment);
	T(sizes_i2_s_as_a_quarter_byte_per_weight_plus_32);
	T(sizes_tl2_by_bitnet_cpp_s_formula);
	T(refuses_a_tl2_tensor_the_formula_does_not_cover);
	T(dialect_type_36_means_bitnet_cpp_whatever_the_architecture);
	T(dialect_type_38_means_bitnet_cpp_tl1);
	T(dialect_type_39_in_a_bitnet_architecture_means_tl2);
	T(dialect_type_39_in_a_llama_architecture_means_mxfp4);
	T(dialect_type_39_with_file_type_39_means_tl2_in_any_architecture);
	T(dialect_type_39_with_file_type_38_means_mainline_mxfp4_moe);
	T(dialect_without_types_36_to_39_is_mainline);
	T(getters_convert_integers_that_fit_and_refuse_those_that_do_not);
	T(array_getters_check_the_index_and_the_element_type);
	F(open_reads_a_header_larger_than_the_first_read);
	F(open_reports_a_file_cut_short_by_offset);
	F(open_refuses_every_truncation_of_a_valid_file);
	F(open_refuses_a_missing_file_and_a_directory);
	F(open_refuses_an_empty_file);
#undef T
#undef F

	return test_run_suite(s);
}
