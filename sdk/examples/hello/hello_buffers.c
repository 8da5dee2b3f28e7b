/*
 * hello_buffers.c - the example backend's buffers: plain host memory, so
 * they are host-visible and can wrap memory the host already has (an mmap'd
 * model file) without a copy. A GPU backend would allocate device memory
 * here and answer NULL from hello_buffer_host_ptr().
 */
#include <stdlib.h>
#include <string.h>

#include "hello.h"

#define HELLO_ALIGN 64

struct trit_buffer {
	unsigned char *data;
	uint64_t size;
	int owned; /* 0: wraps the host's memory, which we never free */
};

static int in_range(const struct trit_buffer *b, uint64_t off, uint64_t size, char *err,
                    size_t errlen)
{
	if (b && off <= b->size && size <= b->size - off)
		return 1;
	snprintf(err, errlen, "range [%llu, +%llu) is outside the %llu-byte buffer",
	         (unsigned long long)off, (unsigned long long)size,
	         (unsigned long long)(b ? b->size : 0));
	return 0;
}

int hello_buffer_alloc(void *state, uint32_t device, uint64_t size, struct trit_buffer **out,
                       char *err, size_t errlen)
{
	struct trit_buffer *b = calloc(1, sizeof *b);
	uint64_t rounded = (size + HELLO_ALIGN - 1) / HELLO_ALIGN * HELLO_ALIGN;

	(void)state;
	(void)device;
	*out = NULL;
	if (!b || size > SIZE_MAX - HELLO_ALIGN ||
	    !(b->data = aligned_alloc(HELLO_ALIGN, rounded ? (size_t)rounded : HELLO_ALIGN))) {
		free(b);
		snprintf(err, errlen, "out of host memory allocating %llu bytes",
		         (unsigned long long)size);
		return TRIT_ENOMEM;
	}
	b->size = size;
	b->owned = 1;
	*out = b;
	return 0;
}

void hello_buffer_free(void *state, struct trit_buffer *b)
{
	(void)state;
	if (b && b->owned)
		free(b->data);
	free(b);
}

int hello_buffer_write(void *state, struct trit_buffer *b, uint64_t off, const void *src,
                       uint64_t size, char *err, size_t errlen)
{
	(void)state;
	if (!in_range(b, off, size, err, errlen))
		return TRIT_ERANGE;
	if (size)
		memcpy(b->data + off, src, (size_t)size);
	return 0;
}

int hello_buffer_read(void *state, struct trit_buffer *b, uint64_t off, void *dst,
                      uint64_t size, char *err, size_t errlen)
{
	(void)state;
	if (!in_range(b, off, size, err, errlen))
		return TRIT_ERANGE;
	if (size)
		memcpy(dst, b->data + off, (size_t)size);
	return 0;
}

int hello_buffer_limits(void *state, uint32_t device, struct trit_buffer_limits *out,
                        char *err, size_t errlen)
{
	(void)state;
	(void)device;
	(void)err;
	(void)errlen;
	memset(out, 0, sizeof *out);
	out->struct_size = sizeof *out;
	out->host_visible = 1;
	out->from_host_ptr = 1;
	out->alignment = HELLO_ALIGN;
	out->max_size = SIZE_MAX - HELLO_ALIGN; /* what hello_buffer_alloc accepts */
	return 0;
}

int hello_buffer_wrap(void *state, uint32_t device, void *ptr, uint64_t size,
                      struct trit_buffer **out, char *err, size_t errlen)
{
	struct trit_buffer *b = calloc(1, sizeof *b);

	(void)state;
	(void)device;
	*out = NULL;
	if (!b) {
		snprintf(err, errlen, "out of host memory");
		return TRIT_ENOMEM;
	}
	b->data = ptr;
	b->size = size;
	*out = b;
	return 0;
}

void *hello_buffer_host_ptr(void *state, struct trit_buffer *b)
{
	(void)state;
	return b ? b->data : NULL;
}

uint64_t hello_buffer_size(const struct trit_buffer *b)
{
	return b ? b->size : 0;
}

int hello_buffer_copy(void *state, struct trit_buffer *dst, uint64_t dst_off,
                      struct trit_buffer *src, uint64_t src_off, uint64_t size,
                      char *err, size_t errlen)
{
	(void)state;
	if (!in_range(dst, dst_off, size, err, errlen) || !in_range(src, src_off, size, err, errlen))
		return TRIT_ERANGE;
	if (size)
		memmove(dst->data + dst_off, src->data + src_off, (size_t)size);
	return 0;
}
