/*
 * hostmem.h - host-memory buffers shared by the v1 and v2 test plugins:
 * allocate, free, bounds-checked read and write. Kernels and tables are
 * each plugin's own.
 */
#ifndef TESTS_PLUGINS_HOSTMEM_H
#define TESTS_PLUGINS_HOSTMEM_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <trit/backend.h>

struct trit_buffer {
	uint64_t size;
	unsigned char *data;
	int wrapped;            /* data is the caller's (buffer_from_host_ptr) */
};

static inline int hm_alloc(void *st, uint32_t dev, uint64_t size, struct trit_buffer **out,
                           char *err, size_t errlen)
{
	struct trit_buffer *b = calloc(1, sizeof *b);
	size_t n = (size_t)(size + 63) / 64 * 64;

	/* 64-byte aligned like real backends' buffers, so the CPU fallback can
	 * wrap them in place */
	if (!b || size > ((uint64_t)1 << 32) || !(b->data = aligned_alloc(64, n ? n : 64))) {
		free(b);
		snprintf(err, errlen, "out of memory for %llu bytes", (unsigned long long)size);
		return TRIT_ENOMEM;
	}
	memset(b->data, 0, n);
	b->size = size;
	*out = b;
	return 0;
}

static inline void hm_free(void *st, struct trit_buffer *b)
{
	if (b && !b->wrapped)
		free(b->data);
	free(b);
}

static inline int hm_range(const struct trit_buffer *b, uint64_t off, uint64_t size,
                           char *err, size_t errlen)
{
	if (!b || off > b->size || size > b->size - off) {
		snprintf(err, errlen, "bytes %llu+%llu are outside the buffer",
		         (unsigned long long)off, (unsigned long long)size);
		return TRIT_ERANGE;
	}
	return 0;
}

static inline int hm_write(void *st, struct trit_buffer *b, uint64_t off, const void *src,
                           uint64_t size, char *err, size_t errlen)
{
	int rc = hm_range(b, off, size, err, errlen);
	if (!rc && size)
		memcpy(b->data + off, src, size);
	return rc;
}

static inline int hm_read(void *st, struct trit_buffer *b, uint64_t off, void *dst,
                          uint64_t size, char *err, size_t errlen)
{
	int rc = hm_range(b, off, size, err, errlen);
	if (!rc && size)
		memcpy(dst, b->data + off, size);
	return rc;
}

/* The F32 at byte `off` of b (bounds checked by the caller). */
static inline float hm_f32(const struct trit_buffer *b, uint64_t off)
{
	float v;
	memcpy(&v, b->data + off, sizeof v);
	return v;
}

static inline void hm_set_f32(struct trit_buffer *b, uint64_t off, float v)
{
	memcpy(b->data + off, &v, sizeof v);
}

#endif
