/*
 * gguf_write.c - the streaming GGUF v3 writer (see gguf_write.h): header
 * bytes are built in memory, tensor data goes straight to the file.
 */
#include <build-config.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "model/gguf_write.h"

struct wbuf {
	unsigned char *p;
	size_t len, cap;
};

struct wtensor {
	char *name;
	uint64_t bytes;
};

struct trit_gguf_writer {
	struct wbuf kv, info;
	uint64_t n_kv;
	char **keys;
	struct wtensor *t;
	uint64_t n_t, cap_t;
	uint32_t alignment;
	uint64_t data_off;       /* next tensor's offset in the data section */
	int nomem;
	const char *dup;         /* first key added twice (points into keys) */
	FILE *f;
	const char *path;
	uint64_t cur, cur_done;  /* tensor being written, its bytes so far */
};

static uint64_t round_up(uint64_t v, uint64_t m)
{
	return (v + m - 1) / m * m;
}

static void put(struct trit_gguf_writer *w, struct wbuf *b, const void *data, size_t n)
{
	if (w->nomem)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		unsigned char *p = realloc(b->p, cap);
		if (!p) {
			w->nomem = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void put_u32(struct trit_gguf_writer *w, struct wbuf *b, uint32_t v) { put(w, b, &v, 4); }
static void put_u64(struct trit_gguf_writer *w, struct wbuf *b, uint64_t v) { put(w, b, &v, 8); }

static void put_string(struct trit_gguf_writer *w, struct wbuf *b, const char *s, size_t len)
{
	put_u64(w, b, len);
	put(w, b, s, len);
}

struct trit_gguf_writer *trit_gguf_writer_new(uint32_t alignment)
{
	struct trit_gguf_writer *w = calloc(1, sizeof *w);

	if (w)
		w->alignment = alignment ? alignment : 32;
	return w;
}

void trit_gguf_writer_free(struct trit_gguf_writer *w)
{
	if (!w)
		return;
	for (uint64_t i = 0; i < w->n_kv; i++)
		free(w->keys ? w->keys[i] : NULL);
	for (uint64_t i = 0; i < w->n_t; i++)
		free(w->t[i].name);
	free(w->keys);
	free(w->t);
	free(w->kv.p);
	free(w->info.p);
	free(w);
}

uint64_t trit_gguf_writer_n_kv(const struct trit_gguf_writer *w)
{
	return w->n_kv;
}

/* The key of a new pair: remembered (duplicates are an error), written. */
static void put_key(struct trit_gguf_writer *w, const char *key, uint32_t type)
{
	char **keys;

	for (uint64_t i = 0; i < w->n_kv; i++)
		if (strcmp(w->keys[i], key) == 0 && !w->dup)
			w->dup = w->keys[i];
	if (w->nomem || !(keys = realloc(w->keys, (w->n_kv + 1) * sizeof *keys)) ||
	    !(keys[w->n_kv] = trit_strdup(key))) {
		w->nomem = 1;
		return;
	}
	w->keys = keys;
	w->n_kv++;
	put_string(w, &w->kv, key, strlen(key));
	put_u32(w, &w->kv, type);
}

void trit_gguf_put_u32(struct trit_gguf_writer *w, const char *key, uint32_t v)
{
	put_key(w, key, TRIT_GGUF_U32);
	put_u32(w, &w->kv, v);
}

void trit_gguf_put_i32(struct trit_gguf_writer *w, const char *key, int32_t v)
{
	put_key(w, key, TRIT_GGUF_I32);
	put(w, &w->kv, &v, 4);
}

void trit_gguf_put_f32(struct trit_gguf_writer *w, const char *key, float v)
{
	put_key(w, key, TRIT_GGUF_F32);
	put(w, &w->kv, &v, 4);
}

void trit_gguf_put_bool(struct trit_gguf_writer *w, const char *key, int v)
{
	unsigned char b = v ? 1 : 0;

	put_key(w, key, TRIT_GGUF_BOOL);
	put(w, &w->kv, &b, 1);
}

void trit_gguf_put_str(struct trit_gguf_writer *w, const char *key, const char *s, size_t len)
{
	put_key(w, key, TRIT_GGUF_STRING);
	put_string(w, &w->kv, s, len);
}

void trit_gguf_put_array(struct trit_gguf_writer *w, const char *key, uint32_t elem_type,
                         uint64_t count)
{
	put_key(w, key, TRIT_GGUF_ARRAY);
	put_u32(w, &w->kv, elem_type);
	put_u64(w, &w->kv, count);
}

void trit_gguf_put_elem_str(struct trit_gguf_writer *w, const char *s, size_t len)
{
	put_string(w, &w->kv, s, len);
}

void trit_gguf_put_elem_i32(struct trit_gguf_writer *w, int32_t v)
{
	put(w, &w->kv, &v, 4);
}

/* Bytes of a scalar of this type; 0 for strings and arrays. */
static size_t scalar_bytes(uint32_t type)
{
	static const unsigned char size[] = { 1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8 };
	return type < sizeof size ? size[type] : 0;
}

void trit_gguf_put_copy(struct trit_gguf_writer *w, const struct trit_gguf_kv *kv)
{
	char *key = malloc(kv->key.len + 1);
	size_t n = scalar_bytes(kv->type);
	unsigned char raw[8];

	if (!key) {
		w->nomem = 1;
		return;
	}
	memcpy(key, kv->key.s, kv->key.len);
	key[kv->key.len] = 0;
	put_key(w, key, kv->type);
	free(key);
	if (kv->type == TRIT_GGUF_STRING) {
		put_string(w, &w->kv, kv->v.str.s, kv->v.str.len);
	} else if (kv->type == TRIT_GGUF_ARRAY) {
		put_u32(w, &w->kv, kv->arr_type);
		put_u64(w, &w->kv, kv->arr_count);
		put(w, &w->kv, kv->arr_data, kv->arr_bytes);
	} else if (kv->type == TRIT_GGUF_F32) {
		float f = (float)kv->v.f;
		put(w, &w->kv, &f, 4);
	} else {
		/* integers and bools: the low bytes of the decoded value (little
		 * endian, as GGUF), which is the value as stored */
		uint64_t u = kv->type == TRIT_GGUF_I8 || kv->type == TRIT_GGUF_I16 ||
		             kv->type == TRIT_GGUF_I32 || kv->type == TRIT_GGUF_I64
		             ? (uint64_t)kv->v.i : kv->v.u;
		if (kv->type == TRIT_GGUF_F64)
			memcpy(&u, &kv->v.f, 8);
		for (size_t i = 0; i < n; i++)
			raw[i] = (unsigned char)(u >> (8 * i));
		put(w, &w->kv, raw, n);
	}
}

void trit_gguf_add_tensor(struct trit_gguf_writer *w, const char *name, uint32_t n_dims,
                          const uint64_t *ne, uint32_t type_id, uint64_t bytes)
{
	if (w->n_t == w->cap_t) {
		uint64_t cap = w->cap_t ? w->cap_t * 2 : 64;
		struct wtensor *t = realloc(w->t, cap * sizeof *t);
		if (!t) {
			w->nomem = 1;
			return;
		}
		w->t = t;
		w->cap_t = cap;
	}
	if (!(w->t[w->n_t].name = trit_strdup(name))) {
		w->nomem = 1;
		return;
	}
	w->t[w->n_t++].bytes = bytes;
	put_string(w, &w->info, name, strlen(name));
	put_u32(w, &w->info, n_dims);
	for (uint32_t d = 0; d < n_dims; d++)
		put_u64(w, &w->info, ne[d]);
	put_u32(w, &w->info, type_id);
	put_u64(w, &w->info, w->data_off);
	w->data_off += round_up(bytes, w->alignment);
}

static int write_all(struct trit_gguf_writer *w, const void *p, size_t n, char *err,
                     size_t errlen)
{
	if (n && fwrite(p, 1, n, w->f) != n)
		return trit_errf(err, errlen, TRIT_EIO, "%s: write failed (disk full?)", w->path);
	return 0;
}

static int pad(struct trit_gguf_writer *w, uint64_t len, char *err, size_t errlen)
{
	static const unsigned char zeros[256];
	uint64_t n = round_up(len, w->alignment) - len;

	while (n) {
		size_t k = n < sizeof zeros ? (size_t)n : sizeof zeros;
		if (write_all(w, zeros, k, err, errlen))
			return TRIT_EIO;
		n -= k;
	}
	return 0;
}

int trit_gguf_write_header(struct trit_gguf_writer *w, FILE *f, const char *path, char *err,
                           size_t errlen)
{
	struct wbuf head = { 0 };
	int rc;

	if (w->dup)
		return trit_errf(err, errlen, TRIT_EINVAL, "%s: metadata key %s given twice", path,
		                 w->dup);
	put(w, &head, "GGUF", 4);
	put_u32(w, &head, 3);
	put_u64(w, &head, w->n_t);
	put_u64(w, &head, w->n_kv);
	if (w->nomem) {
		free(head.p);
		return trit_errf(err, errlen, TRIT_ENOMEM, "%s: out of memory for the header", path);
	}
	w->f = f;
	w->path = path;
	rc = write_all(w, head.p, head.len, err, errlen);
	free(head.p);
	if (!rc)
		rc = write_all(w, w->kv.p, w->kv.len, err, errlen);
	if (!rc)
		rc = write_all(w, w->info.p, w->info.len, err, errlen);
	if (!rc)
		rc = pad(w, 24 + w->kv.len + w->info.len, err, errlen);
	return rc;
}

int trit_gguf_write_data(struct trit_gguf_writer *w, const void *p, size_t n, char *err,
                         size_t errlen)
{
	const unsigned char *c = p;

	while (n) {
		if (w->cur >= w->n_t)
			return trit_errf(err, errlen, TRIT_EINVAL, "%s: more data than the tensors "
			                 "declared", w->path);
		uint64_t left = w->t[w->cur].bytes - w->cur_done;
		size_t k = left < n ? (size_t)left : n;
		if (write_all(w, c, k, err, errlen))
			return TRIT_EIO;
		c += k;
		n -= k;
		w->cur_done += k;
		if (w->cur_done == w->t[w->cur].bytes) {
			if (pad(w, w->cur_done, err, errlen))
				return TRIT_EIO;
			w->cur++;
			w->cur_done = 0;
		}
	}
	return 0;
}

int trit_gguf_write_finish(struct trit_gguf_writer *w, char *err, size_t errlen)
{
	/* a zero-byte tensor never calls write_data */
	while (w->cur < w->n_t && w->t[w->cur].bytes == 0)
		w->cur++;
	if (w->cur < w->n_t)
		return trit_errf(err, errlen, TRIT_EINVAL, "%s: tensor %s: %" PRIu64 " of %" PRIu64
		                 " bytes written", w->path, w->t[w->cur].name, w->cur_done,
		                 w->t[w->cur].bytes);
	return 0;
}
