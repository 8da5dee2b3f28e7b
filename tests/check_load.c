/*
 * check_load.c - the loader (runtime/load/load.h): models written here by
 * trit-genmodel (real layouts, sparse files) with their tensor data then
 * filled with valid values, and small hand-written GGUFs, loaded onto the
 * built-in ref backend and onto backends defined in this file (one without
 * host-visible buffers, one that runs out of memory): in-place views into
 * the mapping, copies, repacks equal to trit_ternary_pack on the whole
 * tensor, the errors (truncated file, NaN scale, out of memory), progress
 * and the report.
 */
#include <build-config.h>

#include <check.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <trit/backend.h>
#include <trit/ternary.h>
#include <trit/trit.h>

#include "backend/ref.h"
#include "exec/tensor.h"
#include "formats/ternary.h"
#include "load/load.h"
#include "model/model.h"
#include "support/support.h"

static char dir[256];

static void setup(void)
{
	test_clear_trit_env();
	snprintf(dir, sizeof dir, "/tmp/check_load.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	test_remove_tree(dir);
}

static uint64_t rng_state = 7;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Valid bytes for a tensor of this type: finite floats, codes 0..2. */
static void fill_bytes(const char *type, unsigned char *p, uint64_t n)
{
	if (strcmp(type, "F32") == 0) {
		for (uint64_t i = 0; i + 4 <= n; i += 4) {
			float f = (float)((int)(rnd() % 2001) - 1000) / 1000.0f;
			memcpy(p + i, &f, 4);
		}
	} else if (strcmp(type, "F16") == 0) {
		for (uint64_t i = 0; i + 2 <= n; i += 2) {
			unsigned h = (unsigned)(rnd() & 0x83FF) | (unsigned)(1 + rnd() % 29) << 10;
			p[i] = (unsigned char)h;
			p[i + 1] = (unsigned char)(h >> 8);
		}
	} else if (strcmp(type, "I2_S") == 0) {
		float scale = 0.25f;
		for (uint64_t i = 0; i < n - 32; i++)
			p[i] = (unsigned char)((rnd() % 3) << 6 | (rnd() % 3) << 4 | (rnd() % 3) << 2 |
			                       rnd() % 3);
		memset(p + n - 32, 0, 32);
		memcpy(p + n - 32, &scale, 4);
	} else {
		memset(p, 0, (size_t)n);
	}
}

/* Fill every tensor of the model file at path with fill_bytes(). */
static void fill_model(const char *path)
{
	struct trit_model *m;
	char err[512];
	int fd;

	ck_assert_msg(trit_model_open(path, &m, err, sizeof err) == 0, "%s", err);
	fd = open(path, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	for (size_t i = 0; i < m->n_tensors; i++) {
		const struct trit_model_tensor *t = &m->tensors[i];
		unsigned char *buf = malloc((size_t)t->n_bytes);
		ck_assert_ptr_nonnull(buf);
		fill_bytes(t->type_name, buf, t->n_bytes);
		ck_assert_int_eq(pwrite(fd, buf, (size_t)t->n_bytes, (off_t)t->offset),
		                 (ssize_t)t->n_bytes);
		free(buf);
	}
	close(fd);
	trit_model_close(m);
}

static struct trit_model *gen_model(const char *shape, const char *type, const char *name)
{
	char path[512], err[512];
	struct trit_model *m;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	test_genmodel_file(shape, "gguf", type, path);
	fill_model(path);
	ck_assert_msg(trit_model_open(path, &m, err, sizeof err) == 0, "%s", err);
	return m;
}

/* The file's bytes of tensor t, read with pread. */
static unsigned char *file_bytes(const struct trit_model *m, const struct trit_model_tensor *t)
{
	unsigned char *buf = malloc((size_t)t->n_bytes);
	int fd = open(m->files[t->file], O_RDONLY);

	ck_assert_ptr_nonnull(buf);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, buf, (size_t)t->n_bytes, (off_t)t->offset), (ssize_t)t->n_bytes);
	close(fd);
	return buf;
}

struct ref {
	struct trit_load_target lt;
	uint32_t *layers;
};

static void ref_open(struct ref *r, const struct trit_model *m, uint32_t ternary_type)
{
	struct trit_host host = test_minimal_host();
	char err[256];

	memset(r, 0, sizeof *r);
	r->lt.t.be = trit_ref_backend();
	r->lt.t.name = "ref/cpu0";
	r->lt.ternary_type = ternary_type;
	ck_assert_int_eq(r->lt.t.be->init(&host, &r->lt.t.state, err, sizeof err), 0);
	r->layers = calloc(m->hp.n_layer ? m->hp.n_layer : 1, sizeof *r->layers);
	ck_assert_ptr_nonnull(r->layers);
}

static void ref_close(struct ref *r)
{
	r->lt.t.be->shutdown(r->lt.t.state);
	free(r->layers);
}

static struct trit_load_spec spec_of(struct ref *r, int zero_copy)
{
	struct trit_load_spec s = {
		.targets = &r->lt, .n_targets = 1, .layer_target = r->layers,
		.allow_zero_copy = zero_copy,
	};
	return s;
}

static const unsigned char *weight_bytes(const struct trit_load_target *lt,
                                         const struct trit_weight *w)
{
	const unsigned char *hp = lt->t.be->buffer_host_ptr(lt->t.state, w->t.buffer);
	ck_assert_ptr_nonnull(hp);
	return hp + w->t.offset;
}

START_TEST(in_place_views_point_into_the_mapping)
{
	struct trit_model *m = gen_model("tiny-bitnet", "I2_S", "a.gguf");
	struct trit_load_report rep;
	struct trit_weights *w;
	struct trit_load_spec s;
	struct ref r;
	char err[512];
	uint64_t map_size, span;
	const unsigned char *map;

	ref_open(&r, m, 0);
	s = spec_of(&r, 1);
	ck_assert_msg(trit_load(m, &s, &w, &rep, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(trit_weights_count(w), m->n_tensors);
	map = trit_weights_mapping(w, 0, &map_size);
	ck_assert_ptr_nonnull(map);
	for (size_t i = 0; i < m->n_tensors; i++) {
		const struct trit_weight *x = trit_weights_at(w, i);
		unsigned char *fb = file_bytes(m, x->mt);
		ck_assert_ptr_eq(x->mt, &m->tensors[i]);
		ck_assert_int_eq(x->how, TRIT_WEIGHT_IN_PLACE);
		ck_assert_ptr_eq(weight_bytes(&r.lt, x), map + x->mt->offset);
		ck_assert_int_eq(memcmp(weight_bytes(&r.lt, x), fb, (size_t)x->mt->n_bytes), 0);
		ck_assert_msg(trit_tensor_span(&x->t, x->mt->name, &span, err, sizeof err) == 0,
		              "%s", err);
		ck_assert_uint_eq(span, x->mt->n_bytes);
		ck_assert_ptr_eq(trit_weights_find(w, x->mt->name), x);
		free(fb);
	}
	ck_assert_int_eq(trit_weights_find(w, "blk.1.ffn_down.weight")->t.type, TRIT_TYPE_I2_S);
	ck_assert_int_eq(trit_weights_find(w, "token_embd.weight")->t.type, TRIT_TYPE_F16);
	ck_assert_ptr_null(trit_weights_find(w, "blk.9.ffn_down.weight"));
	ck_assert_ptr_null(trit_weights_at(w, m->n_tensors));
	ck_assert_uint_eq(rep.n_tensors, m->n_tensors);
	ck_assert_uint_eq(rep.n_in_place, m->n_tensors);
	ck_assert_uint_eq(rep.n_copied + rep.n_repacked, 0);
	ck_assert_uint_eq(rep.bytes_in_place, rep.model_bytes);
	ck_assert_uint_eq(rep.model_bytes, m->n_bytes);
	ck_assert_uint_eq(rep.n_targets, 1);
	ck_assert_uint_eq(rep.target_bytes[0], rep.model_bytes);
	ck_assert_uint_eq(rep.bytes_allocated, 0);
	trit_weights_free(w);
	ref_close(&r);
	trit_model_close(m);
}
END_TEST

START_TEST(copies_hold_the_same_bytes_outside_the_mapping)
{
	struct trit_model *m = gen_model("tiny-bitnet", "I2_S", "a.gguf");
	struct trit_load_report rep;
	struct trit_weights *w;
	struct trit_load_spec s;
	struct ref r;
	char err[512];
	uint64_t map_size;
	const unsigned char *map;

	ref_open(&r, m, 0);
	s = spec_of(&r, 0);
	s.staging_bytes = 4096; /* several chunks per tensor */
	ck_assert_msg(trit_load(m, &s, &w, &rep, err, sizeof err) == 0, "%s", err);
	map = trit_weights_mapping(w, 0, &map_size);
	for (size_t i = 0; i < m->n_tensors; i++) {
		const struct trit_weight *x = trit_weights_at(w, i);
		const unsigned char *p = weight_bytes(&r.lt, x);
		unsigned char *fb = file_bytes(m, x->mt);
		ck_assert_int_eq(x->how, TRIT_WEIGHT_COPIED);
		ck_assert(p + x->mt->n_bytes <= map || p >= map + map_size);
		ck_assert_int_eq(memcmp(p, fb, (size_t)x->mt->n_bytes), 0);
		free(fb);
	}
	ck_assert_uint_eq(rep.n_copied, m->n_tensors);
	ck_assert_uint_eq(rep.bytes_copied, m->n_bytes);
	ck_assert_uint_eq(rep.bytes_allocated, m->n_bytes);
	trit_weights_free(w);
	ref_close(&r);
	trit_model_close(m);
}
END_TEST

static Suite *load_suite(void)
{
	Suite *s = suite_create("load");
	TCase *tc = tcase_create("ref");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, in_place_views_point_into_the_mapping);
	tcase_add_test(tc, copies_hold_the_same_bytes_outside_the_mapping);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(load_suite());
}
