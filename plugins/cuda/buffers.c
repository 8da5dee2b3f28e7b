/*
 * buffers.c - device memory for the cuda backend: cuMemAlloc in the device's
 * context, copies with cuMemcpyHtoD / cuMemcpyDtoH, every range checked
 * before the driver sees it. Out of device memory is TRIT_ENOMEM with a
 * sentence saying how much was asked and how much was free; the host's own
 * memory is never touched beyond the buffer handle.
 */
#include <build-config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int cuda_buffer_check(const struct trit_buffer *b, uint32_t device, uint64_t offset,
                      uint64_t size, const char *what, char *err, size_t errlen)
{
	if (!b || b->magic != CUDA_BUFFER_MAGIC) {
		snprintf(err, errlen, "%s: not a buffer of the cuda backend", what);
		return TRIT_EINVAL;
	}
	if (b->device != device) {
		snprintf(err, errlen, "%s: the buffer is on cuda device %u, not %u", what,
		         b->device, device);
		return TRIT_EINVAL;
	}
	if (offset > b->size || size > b->size - offset) {
		snprintf(err, errlen, "%s: range [%llu, +%llu) is outside the %llu-byte buffer",
		         what, (unsigned long long)offset, (unsigned long long)size,
		         (unsigned long long)b->size);
		return TRIT_ERANGE;
	}
	return 0;
}

int cuda_buffer_alloc(void *state, uint32_t device, uint64_t size, struct trit_buffer **out,
                      char *err, size_t errlen)
{
	struct cuda_state *s = state;
	struct trit_buffer *b;
	CUresult r;
	int rc;

	*out = NULL;
	if ((rc = cuda_use(s, device, err, errlen)))
		return rc;
	if ((uint64_t)(size_t)size != size) {
		snprintf(err, errlen, "cannot allocate %llu bytes on %s: larger than this host's "
		         "address space", (unsigned long long)size, s->devs[device].id);
		return TRIT_ENOMEM;
	}
	b = calloc(1, sizeof *b);
	if (!b) {
		snprintf(err, errlen, "out of host memory for a buffer handle");
		return TRIT_ENOMEM;
	}
	b->size = size;
	b->device = device;
	/* cuMemAlloc refuses 0 bytes; an empty buffer needs no device memory */
	if (size && (r = s->drv.MemAlloc(&b->ptr, (size_t)size)) != CUDA_SUCCESS) {
		size_t free_b = 0, total = 0;
		char text[256];
		if (r == CUDA_ERROR_OUT_OF_MEMORY && s->drv.MemGetInfo(&free_b, &total) == CUDA_SUCCESS)
			snprintf(err, errlen, "out of device memory: cannot allocate %llu bytes on %s "
			         "(%s), which has %zu bytes free of %zu: %s", (unsigned long long)size,
			         s->devs[device].id, s->devs[device].name, free_b, total,
			         cuda_error_text(&s->drv, r, text, sizeof text));
		else
			cuda_fail(&s->drv, r, err, errlen, "cuMemAlloc of %llu bytes on %s (%s)",
			          (unsigned long long)size, s->devs[device].id, s->devs[device].name);
		free(b);
		return cuda_result(r);
	}
	b->magic = CUDA_BUFFER_MAGIC;
	*out = b;
	return 0;
}

void cuda_buffer_free(void *state, struct trit_buffer *b)
{
	struct cuda_state *s = state;
	char err[256];

	if (!b || b->magic != CUDA_BUFFER_MAGIC)
		return;
	if (b->ptr && cuda_use(s, b->device, err, sizeof err) == 0)
		s->drv.MemFree(b->ptr);
	b->magic = 0;
	free(b);
}

int cuda_buffer_write(void *state, struct trit_buffer *b, uint64_t offset, const void *src,
                      uint64_t size, char *err, size_t errlen)
{
	struct cuda_state *s = state;
	CUresult r;
	int rc;

	if (!b || b->magic != CUDA_BUFFER_MAGIC) {
		snprintf(err, errlen, "buffer_write: not a buffer of the cuda backend");
		return TRIT_EINVAL;
	}
	if ((rc = cuda_buffer_check(b, b->device, offset, size, "buffer_write", err, errlen)))
		return rc;
	if (!size)
		return 0;
	if ((rc = cuda_use(s, b->device, err, errlen)))
		return rc;
	if ((r = s->drv.MemcpyHtoD(b->ptr + offset, src, (size_t)size)) != CUDA_SUCCESS)
		return cuda_fail(&s->drv, r, err, errlen, "copying %llu bytes to %s (cuMemcpyHtoD)",
		                 (unsigned long long)size, s->devs[b->device].id);
	return 0;
}

int cuda_buffer_read(void *state, struct trit_buffer *b, uint64_t offset, void *dst,
                     uint64_t size, char *err, size_t errlen)
{
	struct cuda_state *s = state;
	CUresult r;
	int rc;

	if (!b || b->magic != CUDA_BUFFER_MAGIC) {
		snprintf(err, errlen, "buffer_read: not a buffer of the cuda backend");
		return TRIT_EINVAL;
	}
	if ((rc = cuda_buffer_check(b, b->device, offset, size, "buffer_read", err, errlen)))
		return rc;
	if (!size)
		return 0;
	if ((rc = cuda_use(s, b->device, err, errlen)))
		return rc;
	if ((r = s->drv.MemcpyDtoH(dst, b->ptr + offset, (size_t)size)) != CUDA_SUCCESS)
		return cuda_fail(&s->drv, r, err, errlen, "copying %llu bytes from %s (cuMemcpyDtoH)",
		                 (unsigned long long)size, s->devs[b->device].id);
	return 0;
}
