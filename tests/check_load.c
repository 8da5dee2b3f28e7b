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
		ck_assert_int_eq(x->how, TRIT_LOADED_IN_PLACE);
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
		ck_assert_int_eq(x->how, TRIT_LOADED_COPIED);
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


/* ------------------------------------------------------------------------ */
/* A backend of this file: ref's buffers made not host-visible (so the
 * loader stages and calls buffer_write), under a memory budget (so
 * allocations fail), counting the buffers alive.                          */

#define FAKE_MAX_BUFS 1024
static struct {
	struct trit_backend be;
	const struct trit_backend *ref;
	uint64_t budget, used;         /* budget 0: unlimited */
	int say_free;                  /* get_memory answers budget - used */
	int visible;                   /* buffers are host-visible, views wrap at most
	                                * wrap_max bytes */
	uint64_t wrap_max;
	struct trit_buffer *bufs[FAKE_MAX_BUFS];
	uint64_t sizes[FAKE_MAX_BUFS];
	int live;
} fake;

static int fake_alloc(void *st, uint32_t dev, uint64_t size, struct trit_buffer **out,
                      char *err, size_t errlen)
{
	int rc, k;

	*out = NULL;
	if (fake.budget && size > fake.budget - fake.used) {
		snprintf(err, errlen, "the test's budget of %llu bytes is spent",
		         (unsigned long long)fake.budget);
		return TRIT_ENOMEM;
	}
	for (k = 0; k < FAKE_MAX_BUFS && fake.bufs[k]; k++)
		;
	ck_assert_int_lt(k, FAKE_MAX_BUFS);
	if ((rc = fake.ref->buffer_alloc(st, dev, size, out, err, errlen)))
		return rc;
	fake.bufs[k] = *out;
	fake.sizes[k] = size;
	fake.used += size;
	fake.live++;
	return 0;
}

static void fake_free(void *st, struct trit_buffer *b)
{
	for (int k = 0; b && k < FAKE_MAX_BUFS; k++)
		if (fake.bufs[k] == b) {
			fake.used -= fake.sizes[k];
			fake.bufs[k] = NULL;
			fake.live--;
		}
	fake.ref->buffer_free(st, b);
}

static void *fake_host_ptr(void *st, struct trit_buffer *b)
{
	return fake.visible ? fake.ref->buffer_host_ptr(st, b) : NULL;
}

static int fake_from_host_ptr(void *st, uint32_t dev, void *ptr, uint64_t size,
                              struct trit_buffer **out, char *err, size_t errlen)
{
	*out = NULL;
	if (size > fake.wrap_max) {
		snprintf(err, errlen, "the test wraps at most %llu bytes",
		         (unsigned long long)fake.wrap_max);
		return TRIT_ERANGE;
	}
	return fake.ref->buffer_from_host_ptr(st, dev, ptr, size, out, err, errlen);
}

static int fake_get_memory(void *st, uint32_t dev, uint64_t *fr, uint64_t *tot,
                           char *err, size_t errlen)
{
	(void)st;
	(void)dev;
	if (!fake.say_free) {
		snprintf(err, errlen, "not measured");
		return TRIT_EUNSUPPORTED;
	}
	*fr = fake.budget - fake.used;
	*tot = fake.budget;
	return 0;
}

static void fake_open(struct ref *r, const struct trit_model *m, uint32_t ternary_type,
                      uint64_t budget, int say_free)
{
	ref_open(r, m, ternary_type);
	memset(&fake, 0, sizeof fake);
	fake.ref = r->lt.t.be;
	fake.be = *fake.ref;
	fake.be.name = "fake";
	fake.be.buffer_alloc = fake_alloc;
	fake.be.buffer_free = fake_free;
	fake.be.buffer_host_ptr = fake_host_ptr;
	fake.be.buffer_from_host_ptr = NULL;
	fake.be.buffer_limits = NULL;
	fake.be.get_memory = fake_get_memory;
	fake.budget = budget;
	fake.say_free = say_free;
	r->lt.t.be = &fake.be;
	r->lt.t.name = "fake/dev0";
}

static void fake_close(struct ref *r)
{
	r->lt.t.be = fake.ref;
	ref_close(r);
}

/* A weight's bytes, read back through buffer_read (caller frees). */
static unsigned char *read_back(const struct trit_load_target *lt, const struct trit_weight *x,
                                uint64_t n)
{
	unsigned char *buf = malloc((size_t)n);
	char err[256];

	ck_assert_ptr_nonnull(buf);
	ck_assert_msg(lt->t.be->buffer_read(lt->t.state, x->t.buffer, x->t.offset, buf, n, err,
	                                    sizeof err) == 0, "%s", err);
	return buf;
}

/* Repacking: each ternary matrix equals trit_ternary_pack() of the whole
 * file tensor, whether written straight into host memory or staged. */
static void check_repack(uint32_t to, int staged)
{
	struct trit_model *m = gen_model("tiny-bitnet", "I2_S", "a.gguf");
	struct trit_load_report rep;
	struct trit_weights *w;
	struct trit_load_spec s;
	struct ref r;
	char err[512];
	uint32_t n_ternary = 0;

	if (staged)
		fake_open(&r, m, to, 0, 0);
	else
		ref_open(&r, m, to);
	s = spec_of(&r, 1);
	s.staging_bytes = 9000; /* chunks of a few tiles */
	ck_assert_msg(trit_load(m, &s, &w, &rep, err, sizeof err) == 0, "%s", err);
	for (size_t i = 0; i < m->n_tensors; i++) {
		const struct trit_weight *x = trit_weights_at(w, i);
		unsigned char *fb = file_bytes(m, x->mt), *want, *got;
		uint64_t n;
		if (strcmp(x->mt->type_name, "I2_S") != 0) {
			ck_assert_int_eq(x->how, staged ? TRIT_LOADED_COPIED : TRIT_LOADED_IN_PLACE);
			free(fb);
			continue;
		}
		n_ternary++;
		n = trit_ternary_bytes(to, x->mt->ne[1], x->mt->ne[0]);
		ck_assert_int_eq(x->how, TRIT_LOADED_REPACKED);
		ck_assert_int_eq(x->t.type, to);
		ck_assert_uint_eq(x->t.nb[0] + x->t.nb[1], 0);
		want = malloc((size_t)n);
		ck_assert_int_eq(trit_ternary_pack(to, want, n, TRIT_TERNARY_SRC_I2S_BITNET, fb,
		                                   x->mt->n_bytes, x->mt->ne[1], x->mt->ne[0], err,
		                                   sizeof err), 0);
		got = read_back(&r.lt, x, n);
		ck_assert_msg(memcmp(got, want, (size_t)n) == 0, "%s differs from the whole-tensor "
		              "pack", x->mt->name);
		free(got);
		free(want);
		free(fb);
	}
	ck_assert_uint_eq(rep.n_repacked, n_ternary);
	ck_assert_uint_gt(n_ternary, 0);
	ck_assert_uint_eq(rep.n_in_place + rep.n_copied + rep.n_repacked, rep.n_tensors);
	ck_assert_uint_eq(rep.bytes_in_place + rep.bytes_copied + rep.bytes_repacked,
	                  rep.target_bytes[0]);
	ck_assert_uint_le(rep.staging_peak, 9000);
	ck_assert_uint_gt(rep.staging_peak, 0);
	trit_weights_free(w);
	if (staged) {
		ck_assert_int_eq(fake.live, 0);
		fake_close(&r);
	} else {
		ref_close(&r);
	}
	trit_model_close(m);
}

/* A device that wraps only small ranges: the whole file is refused, each
 * small tensor is a view of its own pages, the big ones are copied. */
START_TEST(views_fall_back_to_tensor_pages_then_to_copies)
{
	struct trit_model *m = gen_model("tiny-bitnet", "I2_S", "a.gguf");
	struct trit_load_report rep;
	struct trit_weights *w;
	struct trit_load_spec s;
	struct ref r;
	char err[512];
	uint64_t map_size;
	const unsigned char *map;

	fake_open(&r, m, 0, 0, 0);
	fake.visible = 1;
	fake.wrap_max = 64 * 1024;
	fake.be.buffer_from_host_ptr = fake_from_host_ptr;
	s = spec_of(&r, 1);
	ck_assert_msg(trit_load(m, &s, &w, &rep, err, sizeof err) == 0, "%s", err);
	map = trit_weights_mapping(w, 0, &map_size);
	ck_assert_uint_gt(map_size, fake.wrap_max);
	for (size_t i = 0; i < m->n_tensors; i++) {
		const struct trit_weight *x = trit_weights_at(w, i);
		unsigned char *fb = file_bytes(m, x->mt);
		if (x->mt->n_bytes + 4096 <= fake.wrap_max) {
			ck_assert_int_eq(x->how, TRIT_LOADED_IN_PLACE);
			ck_assert_ptr_eq(weight_bytes(&r.lt, x), map + x->mt->offset);
		} else if (x->mt->n_bytes > fake.wrap_max) {
			ck_assert_int_eq(x->how, TRIT_LOADED_COPIED);
		}
		ck_assert_int_eq(memcmp(weight_bytes(&r.lt, x), fb, (size_t)x->mt->n_bytes), 0);
		free(fb);
	}
	ck_assert_uint_gt(rep.n_in_place, 0);
	ck_assert_uint_gt(rep.n_copied, 0);
	ck_assert_uint_eq(rep.n_in_place + rep.n_copied, rep.n_tensors);
	ck_assert_uint_eq(rep.bytes_in_place + rep.bytes_copied, rep.model_bytes);
	ck_assert_uint_eq(rep.bytes_allocated, rep.bytes_copied);
	trit_weights_free(w);
	ck_assert_int_eq(fake.live, 0);
	fake_close(&r);
	trit_model_close(m);
}
END_TEST

START_TEST(repacks_equal_the_whole_tensor_pack)
{
	static const uint32_t to[2] = { TRIT_TYPE_TL1, TRIT_TYPE_TL2 };
	check_repack(to[_i % 2], _i / 2);
}
END_TEST

START_TEST(a_truncated_file_is_an_error_naming_the_tensor)
{
	struct trit_model *m = gen_model("tiny-bitnet", "I2_S", "a.gguf");
	const struct trit_model_tensor *last = &m->tensors[m->n_tensors - 1];
	struct trit_weights *w = (struct trit_weights *)1;
	struct trit_load_spec s;
	struct ref r;
	char err[512], want[256];

	for (size_t i = 0; i < m->n_tensors; i++)
		if (m->tensors[i].offset > last->offset)
			last = &m->tensors[i];
	ck_assert_int_eq(truncate(m->files[0], (off_t)(last->offset + last->n_bytes / 2)), 0);
	ref_open(&r, m, 0);
	s = spec_of(&r, 1);
	ck_assert_int_eq(trit_load(m, &s, &w, NULL, err, sizeof err), TRIT_EFORMAT);
	ck_assert_ptr_null(w);
	snprintf(want, sizeof want, "tensor %s spans bytes %llu..%llu", last->name,
	         (unsigned long long)last->offset,
	         (unsigned long long)(last->offset + last->n_bytes));
	ck_assert_msg(strstr(err, want) && strstr(err, "truncated"), "%s", err);
	ref_close(&r);
	trit_model_close(m);
}
END_TEST

/* Overwrite the float at byte `at` of the file with NaN. */
static void poke_nan(const char *path, uint64_t at)
{
	float v = NAN;
	int fd = open(path, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, &v, 4, (off_t)at), 4);
	close(fd);
}

START_TEST(a_nan_in_a_norm_or_a_scale_is_an_error_naming_it)
{
	struct trit_model *m = gen_model("tiny-bitnet", "I2_S", "a.gguf");
	const struct trit_model_tensor *t = NULL;
	const char *name = _i ? "blk.1.ffn_up.weight" : "blk.1.ffn_norm.weight";
	struct trit_weights *w;
	struct trit_load_spec s;
	struct ref r;
	char err[512], want[256];
	uint64_t at;

	for (size_t i = 0; i < m->n_tensors; i++)
		if (strcmp(m->tensors[i].name, name) == 0)
			t = &m->tensors[i];
	ck_assert_ptr_nonnull(t);
	at = _i ? t->offset + t->n_bytes - 32 : t->offset + 4 * 17;
	poke_nan(m->files[0], at);
	ref_open(&r, m, 0);
	s = spec_of(&r, 1);
	ck_assert_int_eq(trit_load(m, &s, &w, NULL, err, sizeof err), TRIT_EFORMAT);
	snprintf(want, sizeof want, "tensor %s: %s (file offset %llu) is NaN", name,
	         _i ? "the scale, element 0" : "element 17", (unsigned long long)at);
	ck_assert_msg(strstr(err, want), "%s", err);
	ref_close(&r);
	trit_model_close(m);
}
END_TEST

START_TEST(out_of_memory_is_enomem_naming_the_device_and_frees_everything)
{
	struct trit_model *m = gen_model("tiny-bitnet", "I2_S", "a.gguf");
	struct trit_weights *w;
	struct trit_load_spec s;
	struct ref r;
	char err[512], want[128];

	/* _i == 0: get_memory says too little before anything is allocated;
	 * _i == 1: it cannot say, and an allocation half way fails */
	fake_open(&r, m, 0, m->n_bytes / 2, _i == 0);
	s = spec_of(&r, 1);
	ck_assert_int_eq(trit_load(m, &s, &w, NULL, err, sizeof err), TRIT_ENOMEM);
	ck_assert_ptr_null(w);
	ck_assert_int_eq(fake.live, 0);
	ck_assert_msg(strstr(err, "device fake/dev0 cannot hold"), "%s", err);
	if (_i == 0) {
		snprintf(want, sizeof want, "%llu bytes needed, %llu bytes free",
		         (unsigned long long)m->n_bytes, (unsigned long long)(m->n_bytes / 2));
		ck_assert_msg(strstr(err, want), "%s", err);
	} else {
		ck_assert_msg(strstr(err, "tensor blk.") && strstr(err, "unknown bytes free") &&
		              strstr(err, "budget"), "%s", err);
	}
	fake_close(&r);
	trit_model_close(m);
}
END_TEST

struct seen {
	uint64_t last_bytes, total_bytes;
	uint32_t last_tensors, total_tensors, calls;
	int backwards;
};

static void on_progress(void *ctx, const struct trit_load_progress *p)
{
	struct seen *s = ctx;
	if (p->done_bytes < s->last_bytes || p->done_tensors < s->last_tensors || !p->tensor)
		s->backwards = 1;
	s->last_bytes = p->done_bytes;
	s->last_tensors = p->done_tensors;
	s->total_bytes = p->total_bytes;
	s->total_tensors = p->total_tensors;
	s->calls++;
}

START_TEST(progress_moves_forward_to_the_total)
{
	struct trit_model *m = gen_model("tiny-bitnet", "I2_S", "a.gguf");
	struct trit_load_report rep;
	struct trit_weights *w;
	struct trit_load_spec s;
	struct seen seen = { 0 };
	struct ref r;
	char err[512];

	ref_open(&r, m, TRIT_TYPE_TL2);
	s = spec_of(&r, 0);
	s.staging_bytes = 4096;
	s.progress = on_progress;
	s.progress_ctx = &seen;
	ck_assert_msg(trit_load(m, &s, &w, &rep, err, sizeof err) == 0, "%s", err);
	ck_assert(!seen.backwards);
	ck_assert_uint_eq(seen.last_bytes, m->n_bytes);
	ck_assert_uint_eq(seen.total_bytes, m->n_bytes);
	ck_assert_uint_eq(seen.last_tensors, m->n_tensors);
	ck_assert_uint_eq(seen.total_tensors, m->n_tensors);
	ck_assert_uint_gt(seen.calls, m->n_tensors); /* chunks of the big tensors too */
	ck_assert_uint_eq(rep.n_copied + rep.n_repacked, m->n_tensors);
	ck_assert_uint_ge(rep.rss_peak, rep.rss_before);
	ck_assert_uint_gt(rep.rss_after, 0);
	ck_assert(rep.peak_source == TRIT_LOAD_PEAK_HWM || rep.peak_source == TRIT_LOAD_PEAK_SAMPLED);
	ck_assert(rep.seconds >= 0.0);
	trit_weights_free(w);
	ref_close(&r);
	trit_model_close(m);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Hand-written GGUFs: shapes genmodel does not make.                        */

struct gguf_tensor {
	const char *name;
	uint32_t type;             /* GGML id */
	uint64_t ne0, ne1;         /* ne1 0: one dimension */
	uint64_t bytes;
	unsigned char *data;
};

static void put(FILE *f, const void *p, size_t n)
{
	ck_assert_uint_eq(fwrite(p, 1, n, f), n);
}

static void put_u32(FILE *f, uint32_t v) { put(f, &v, 4); }
static void put_u64(FILE *f, uint64_t v) { put(f, &v, 8); }
static void put_str(FILE *f, const char *s)
{
	put_u64(f, strlen(s));
	put(f, s, strlen(s));
}

/* A bitnet-b1.58 GGUF v3 of one layer holding tensors t[0..n). */
static struct trit_model *write_gguf(const char *name, struct gguf_tensor *t, size_t n)
{
	char path[512], err[512];
	struct trit_model *m;
	uint64_t off = 0;
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	ck_assert_ptr_nonnull(f = fopen(path, "wb"));
	put(f, "GGUF", 4);
	put_u32(f, 3);
	put_u64(f, n);
	put_u64(f, 3);
	put_str(f, "general.architecture");
	put_u32(f, 8);
	put_str(f, "bitnet-b1.58");
	put_str(f, "general.file_type");
	put_u32(f, 4);
	put_u32(f, 40);
	put_str(f, "bitnet-b1.58.block_count");
	put_u32(f, 4);
	put_u32(f, 1);
	for (size_t i = 0; i < n; i++) {
		put_str(f, t[i].name);
		put_u32(f, t[i].ne1 ? 2 : 1);
		put_u64(f, t[i].ne0);
		if (t[i].ne1)
			put_u64(f, t[i].ne1);
		put_u32(f, t[i].type);
		put_u64(f, off);
		off += (t[i].bytes + 31) / 32 * 32;
	}
	while (ftell(f) % 32)
		put(f, "", 1);
	for (size_t i = 0; i < n; i++) {
		static const unsigned char zeros[32];
		put(f, t[i].data, (size_t)t[i].bytes);
		put(f, zeros, (size_t)((32 - t[i].bytes % 32) % 32));
	}
	fclose(f);
	ck_assert_msg(trit_model_open(path, &m, err, sizeof err) == 0, "%s", err);
	return m;
}

/* Valid TQ2_0 blocks (codes 0..2, d = 0.5) of n bytes. */
static unsigned char *tq2_bytes(uint64_t n)
{
	unsigned char *p = malloc((size_t)n);
	ck_assert_ptr_nonnull(p);
	for (uint64_t b = 0; b < n / 66; b++) {
		for (int i = 0; i < 64; i++)
			p[66 * b + i] = (unsigned char)((rnd() % 3) | (rnd() % 3) << 2 | (rnd() % 3) << 4 |
			                                (rnd() % 3) << 6);
		p[66 * b + 64] = 0x00;
		p[66 * b + 65] = 0x38; /* F16 0.5 */
	}
	return p;
}

static unsigned char *bytes_of(const char *type, uint64_t n)
{
	unsigned char *p = malloc((size_t)n);
	ck_assert_ptr_nonnull(p);
	fill_bytes(type, p, n);
	return p;
}

static void expect_pack(const struct ref *r, const struct trit_weight *x, uint32_t to,
                        uint32_t from, const struct gguf_tensor *src)
{
	uint64_t n = trit_ternary_bytes(to, src->ne1, src->ne0);
	unsigned char *want = malloc((size_t)n);
	char err[256];

	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(x->how, TRIT_LOADED_REPACKED);
	ck_assert_int_eq(x->t.type, to);
	ck_assert_int_eq(trit_ternary_pack(to, want, n, from, src->data, src->bytes, src->ne1,
	                                   src->ne0, err, sizeof err), 0);
	ck_assert_int_eq(memcmp(weight_bytes(&r->lt, x), want, (size_t)n), 0);
	free(want);
}

START_TEST(unaligned_bitnet_i2s_and_tq2_0_are_repacked_into_trit_layouts)
{
	/* attn_q: 192 columns, so bitnet.cpp's flat blocks straddle rows */
	struct gguf_tensor t[3] = {
		{ "blk.0.attn_norm.weight", 0, 192, 0, 192 * 4, NULL },
		{ "blk.0.attn_q.weight", 36, 192, 64, 192 * 64 / 4 + 32, NULL },
		{ "blk.0.ffn_up.weight", 35, 256, 32, 32 * 66, NULL },
	};
	struct trit_weights *w;
	struct trit_load_spec s;
	struct trit_model *m;
	struct ref r;
	char err[512];

	t[0].data = bytes_of("F32", t[0].bytes);
	t[1].data = bytes_of("I2_S", t[1].bytes);
	t[2].data = tq2_bytes(t[2].bytes);
	/* _i == 0: the target runs ternary matrices as TL2: both repacked;
	 * _i == 1: stored types kept, without attn_q: TQ2_0 in place;
	 * _i == 2: stored types kept: trit's I2_S rows are whole 128-column
	 *          blocks (backend.h), so a 192-column I2_S matrix has no kernel */
	if (_i == 1) {
		struct gguf_tensor two[2] = { t[0], t[2] };
		m = write_gguf("h.gguf", two, 2);
	} else {
		m = write_gguf("h.gguf", t, 3);
	}
	ref_open(&r, m, _i ? 0 : TRIT_TYPE_TL2);
	s = spec_of(&r, 1);
	if (_i == 2) {
		ck_assert_int_eq(trit_load(m, &s, &w, NULL, err, sizeof err), TRIT_EUNSUPPORTED);
		ck_assert_msg(strstr(err, "tensor blk.0.attn_q.weight (I2_S, repacked from I2_S "
		                     "(bitnet.cpp layout)) is not run by device ref/cpu0"), "%s", err);
		w = NULL;
	} else {
		ck_assert_msg(trit_load(m, &s, &w, NULL, err, sizeof err) == 0, "%s", err);
		ck_assert_int_eq(trit_weights_find(w, "blk.0.attn_norm.weight")->how,
		                 TRIT_LOADED_IN_PLACE);
	}
	if (_i == 0) {
		expect_pack(&r, trit_weights_find(w, "blk.0.attn_q.weight"), TRIT_TYPE_TL2,
		            TRIT_TERNARY_SRC_I2S_BITNET, &t[1]);
		expect_pack(&r, trit_weights_find(w, "blk.0.ffn_up.weight"), TRIT_TYPE_TL2,
		            TRIT_TYPE_TQ2_0, &t[2]);
	} else if (_i == 1) {
		const struct trit_weight *x = trit_weights_find(w, "blk.0.ffn_up.weight");
		ck_assert_int_eq(x->how, TRIT_LOADED_IN_PLACE);
		ck_assert_int_eq(x->t.type, TRIT_TYPE_TQ2_0);
		ck_assert_uint_eq(x->t.nb[0], 66);
		ck_assert_uint_eq(x->t.nb[1], 66);
		ck_assert_int_eq(memcmp(weight_bytes(&r.lt, x), t[2].data, (size_t)t[2].bytes), 0);
	}
	trit_weights_free(w);
	ref_close(&r);
	trit_model_close(m);
	for (int i = 0; i < 3; i++)
		free(t[i].data);
}
END_TEST

START_TEST(a_type_no_kernel_runs_is_an_error_naming_tensor_type_and_device)
{
	struct gguf_tensor t[2] = {
		{ "blk.0.attn_norm.weight", 0, 256, 0, 256 * 4, NULL },
		{ "blk.0.attn_k.weight", 12, 256, 2, 2 * 144, NULL }, /* Q4_K */
	};
	struct trit_weights *w;
	struct trit_load_spec s;
	struct trit_model *m;
	struct ref r;
	char err[512];

	t[0].data = bytes_of("F32", t[0].bytes);
	t[1].data = bytes_of("Q4_K", t[1].bytes);
	m = write_gguf("q.gguf", t, 2);
	ref_open(&r, m, 0);
	s = spec_of(&r, 1);
	ck_assert_int_eq(trit_load(m, &s, &w, NULL, err, sizeof err), TRIT_EUNSUPPORTED);
	ck_assert_msg(strstr(err, "tensor blk.0.attn_k.weight is Q4_K") &&
	              strstr(err, "device ref/cpu0"), "%s", err);
	ref_close(&r);
	trit_model_close(m);
	free(t[0].data);
	free(t[1].data);
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
	tcase_add_loop_test(tc, repacks_equal_the_whole_tensor_pack, 0, 4);
	tcase_add_test(tc, views_fall_back_to_tensor_pages_then_to_copies);
	tcase_add_test(tc, a_truncated_file_is_an_error_naming_the_tensor);
	tcase_add_loop_test(tc, a_nan_in_a_norm_or_a_scale_is_an_error_naming_it, 0, 2);
	tcase_add_loop_test(tc, out_of_memory_is_enomem_naming_the_device_and_frees_everything, 0, 2);
	tcase_add_test(tc, progress_moves_forward_to_the_total);
	tcase_add_loop_test(tc, unaligned_bitnet_i2s_and_tq2_0_are_repacked_into_trit_layouts, 0, 3);
	tcase_add_test(tc, a_type_no_kernel_runs_is_an_error_naming_tensor_type_and_device);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run_suite(load_suite());
}
