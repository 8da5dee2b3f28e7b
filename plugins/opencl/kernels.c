/*
 * kernels.c - the opencl backend's buffers (cl_mem objects, allocated for
 * real at once so that "out of device memory" is an error at allocation, not
 * at the first kernel) and its matmul: validate the operation against the
 * trit_matmul contract, then enqueue the activation step and the dot kernels
 * of ternary.cl and wait for them. The programs come from program.c. With
 * [plugin.opencl] memory set, allocations are held to that budget per device
 * (the bytes of live buffers are counted exactly here).
 *
 * Workspace layout (matmul_workspace reports exactly this):
 *   [q: tokens x cols_pad int8, zero past cols][s: tokens x F32, F32 path only]
 */
#include <build-config.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <trit/ternary.h>

#include "ocl.h"

#define BUFFER_MAGIC OCL_BUFFER_MAGIC

typedef unsigned long long ull;

static struct ocl_device *device_of(struct ocl_state *st, uint32_t device, char *err,
                                    size_t errlen)
{
	if (!st || device >= st->n_devs) {
		ocl_errf(err, errlen, TRIT_EINVAL, "the opencl backend has %u device%s; index %u "
		         "does not exist", st ? (unsigned)st->n_devs : 0,
		         st && st->n_devs == 1 ? "" : "s", (unsigned)device);
		return NULL;
	}
	return &st->devs[device];
}

/* Count `size` bytes against the device's budget before allocating them;
 * TRIT_ENOMEM when they do not fit. Without a budget it only counts. */
static int budget_reserve(struct ocl_state *st, struct ocl_device *d, uint64_t size, char *err,
                          size_t errlen)
{
	uint64_t budget = st->opt.memory, used;

	pthread_mutex_lock(&st->buffers_lock);
	used = d->allocated;
	if (budget && (used > budget || size > budget - used)) {
		pthread_mutex_unlock(&st->buffers_lock);
		return ocl_errf(err, errlen, TRIT_ENOMEM, "%s '%s': a buffer of %llu bytes does not "
		                "fit in the memory budget of %llu bytes ([plugin.opencl] memory = "
		                "%s, %s): %llu bytes are allocated, %llu free; raise the budget or "
		                "place less on this device", d->dev.id, d->dev.name, (ull)size,
		                (ull)budget, st->opt.memory_text, st->opt.memory_where, (ull)used,
		                (ull)(used < budget ? budget - used : 0));
	}
	d->allocated = used + size;
	pthread_mutex_unlock(&st->buffers_lock);
	return 0;
}

static void budget_release(struct ocl_state *st, struct ocl_device *d, uint64_t size)
{
	pthread_mutex_lock(&st->buffers_lock);
	d->allocated -= size;
	pthread_mutex_unlock(&st->buffers_lock);
}

void ocl_budget(struct ocl_state *st, uint32_t device, uint64_t *free_bytes, uint64_t *total)
{
	uint64_t used;

	pthread_mutex_lock(&st->buffers_lock);
	used = st->devs[device].allocated;
	pthread_mutex_unlock(&st->buffers_lock);
	*total = st->opt.memory;
	*free_bytes = used < st->opt.memory ? st->opt.memory - used : 0;
}

static void CL_CALLBACK free_host(cl_mem mem, void *host)
{
	(void)mem;
	free(host);
}

static int valid_buffer(const struct trit_buffer *b)
{
	return b && b->magic == BUFFER_MAGIC && b->mem;
}

int ocl_buffer_alloc(void *state, uint32_t device, uint64_t size, struct trit_buffer **out,
                     char *err, size_t errlen)
{
	struct ocl_state *st = state;
	struct ocl_device *d = device_of(st, device, err, errlen);
	struct trit_buffer *b;
	unsigned char zero = 0;
	char ebuf[64];
	cl_int e;
	int rc;

	if (!out)
		return ocl_errf(err, errlen, TRIT_EINVAL, "buffer_alloc was called without a result "
		                "pointer");
	*out = NULL;
	if (!d)
		return TRIT_EINVAL;
	if (size == 0)
		return ocl_errf(err, errlen, TRIT_EINVAL, "%s: a buffer of 0 bytes was asked for; "
		                "give a size of at least 1 byte", d->dev.id);
	/* described from the probe cache: OpenCL comes up now */
	if (!d->live && (rc = ocl_bring_up(st, d, err, errlen)) != 0)
		return rc;
	if (d->max_alloc && size > d->max_alloc)
		return ocl_errf(err, errlen, TRIT_ENOMEM, "%s '%s': a buffer of %llu bytes is larger "
		                "than the device's largest allocation, CL_DEVICE_MAX_MEM_ALLOC_SIZE "
		                "= %llu bytes; split the data into smaller buffers", d->dev.id,
		                d->dev.name, (ull)size, (ull)d->max_alloc);
	if (size > SIZE_MAX)
		return ocl_errf(err, errlen, TRIT_ENOMEM, "%s: %llu bytes do not fit in size_t",
		                d->dev.id, (ull)size);
	if ((rc = budget_reserve(st, d, size, err, errlen)) != 0)
		return rc;
	if (!(b = calloc(1, sizeof *b))) {
		budget_release(st, d, size);
		return ocl_errf(err, errlen, TRIT_ENOMEM, "out of host memory for a buffer record");
	}
	if (d->type & CL_DEVICE_TYPE_CPU) {
		/* A CPU device's memory is the host's: allocate it here, where a
		 * failure is an error rather than (as in pocl 3.1) an assertion
		 * inside the driver, and let the device use it in place. The
		 * destructor callback frees it once the driver is done with it. */
		void *host = NULL;
		int pe = posix_memalign(&host, 4096, (size_t)size);
		if (pe != 0) {
			free(b);
			budget_release(st, d, size);
			return ocl_errf(err, errlen, TRIT_ENOMEM, "%s '%s': could not allocate %llu "
			                "bytes of host memory for this CPU device: %s", d->dev.id,
			                d->dev.name, (ull)size, strerror(pe));
		}
		b->mem = clCreateBuffer(d->ctx, CL_MEM_READ_WRITE | CL_MEM_USE_HOST_PTR, (size_t)size,
		                        host, &e);
		if (b->mem && e == CL_SUCCESS &&
		    (e = clSetMemObjectDestructorCallback(b->mem, free_host, host)) != CL_SUCCESS) {
			clReleaseMemObject(b->mem);
			b->mem = NULL;
		}
		if (!b->mem || e != CL_SUCCESS)
			free(host);
	} else {
		b->mem = clCreateBuffer(d->ctx, CL_MEM_READ_WRITE, (size_t)size, NULL, &e);
	}
	/* OpenCL may defer the allocation to the buffer's first use; a write
	 * makes the driver allocate now, so that running out of memory shows
	 * here, as an error of this call. */
	e = clEnqueueWriteBuffer(d->queue, b->mem, CL_TRUE, (size_t)size - 1, 1, &zero, 0, NULL,
	                         NULL);
	if (e == CL_SUCCESS)
		e = clEnqueueWriteBuffer(d->queue, b->mem, CL_TRUE, 0, 1, &zero, 0, NULL, NULL);
	if (e != CL_SUCCESS) {
		if (b->mem)
			clReleaseMemObject(b->mem);
		free(b);
		budget_release(st, d, size);
		return ocl_errf(err, errlen, ocl_result(e), "%s '%s': the device could not allocate "
		                "%llu bytes (the first write to the new buffer failed: %s)",
		                d->dev.id, d->dev.name, (ull)size, ocl_strerror(e, ebuf, sizeof ebuf));
	}
	b->magic = BUFFER_MAGIC;
	b->device = device;
	b->size = size;
	pthread_mutex_lock(&st->buffers_lock);
	b->next = st->buffers;
	if (b->next)
		b->next->prev = b;
	st->buffers = b;
	pthread_mutex_unlock(&st->buffers_lock);
	*out = b;
	return 0;
}

void ocl_buffer_free(void *state, struct trit_buffer *buf)
{
	struct ocl_state *st = state;

	if (!st || !valid_buffer(buf))
		return;
	pthread_mutex_lock(&st->buffers_lock);
	if (buf->prev)
		buf->prev->next = buf->next;
	else
		st->buffers = buf->next;
	if (buf->next)
		buf->next->prev = buf->prev;
	if (buf->device < st->n_devs)
		st->devs[buf->device].allocated -= buf->size;
	pthread_mutex_unlock(&st->buffers_lock);
	clReleaseMemObject(buf->mem);
	buf->magic = 0;
	free(buf);
}

void ocl_buffers_release(struct ocl_state *st)
{
	while (st->buffers)
		ocl_buffer_free(st, st->buffers);
}

static int check_range(const struct trit_buffer *b, uint64_t offset, uint64_t size,
                       const char *what, char *err, size_t errlen)
{
	if (!valid_buffer(b))
		return ocl_errf(err, errlen, TRIT_EINVAL, "%s: not a buffer of the opencl backend",
		                what);
	if (offset > b->size || size > b->size - offset)
		return ocl_errf(err, errlen, TRIT_ERANGE, "%s: bytes %llu..%llu are outside the "
		                "buffer of %llu bytes", what, (ull)offset, (ull)(offset + size),
		                (ull)b->size);
	return 0;
}

static int transfer(struct ocl_state *st, struct trit_buffer *buf, uint64_t offset, void *host,
                    uint64_t size, int write, char *err, size_t errlen)
{
	struct ocl_device *d;
	char ebuf[64];
	cl_int e;
	int rc;

	if ((rc = check_range(buf, offset, size, write ? "buffer_write" : "buffer_read", err,
	                      errlen)) != 0)
		return rc;
	if (!(d = device_of(st, buf->device, err, errlen)))
		return TRIT_EINVAL;
	if (size == 0)
		return 0;
	if (!host)
		return ocl_errf(err, errlen, TRIT_EINVAL, "%s of %llu bytes without host memory",
		                write ? "buffer_write" : "buffer_read", (ull)size);
	e = write ? clEnqueueWriteBuffer(d->queue, buf->mem, CL_TRUE, (size_t)offset, (size_t)size,
	                                 host, 0, NULL, NULL)
	          : clEnqueueReadBuffer(d->queue, buf->mem, CL_TRUE, (size_t)offset, (size_t)size,
	                                host, 0, NULL, NULL);
	if (e != CL_SUCCESS)
		return ocl_errf(err, errlen, ocl_result(e), "%s '%s': %s of %llu bytes at offset "
		                "%llu failed: %s", d->dev.id, d->dev.name,
		                write ? "clEnqueueWriteBuffer" : "clEnqueueReadBuffer", (ull)size,
		                (ull)offset, ocl_strerror(e, ebuf, sizeof ebuf));
	return 0;
}

int ocl_buffer_write(void *state, struct trit_buffer *buf, uint64_t offset, const void *src,
                     uint64_t size, char *err, size_t errlen)
{
	return transfer(state, buf, offset, (void *)(uintptr_t)src, size, 1, err, errlen);
}

int ocl_buffer_read(void *state, struct trit_buffer *buf, uint64_t offset, void *dst,
                    uint64_t size, char *err, size_t errlen)
{
	return transfer(state, buf, offset, dst, size, 0, err, errlen);
}

/* ------------------------------------------------------------------------ */
/* Matmul.                                                                   */

static const char *type_name(uint32_t t)
{
	return t == TRIT_TYPE_I2_S ? "I2_S" : t == TRIT_TYPE_TL1 ? "TL1" : t == TRIT_TYPE_TL2 ? "TL2"
	                                                                                    : "?";
}

static uint32_t op_flags(const struct trit_matmul *op)
{
	return op->struct_size >= offsetof(struct trit_matmul, flags) + sizeof op->flags ? op->flags
	                                                                                 : 0;
}

/* The checks that need no buffers: type, shape, sizes. Fills g and the
 * workspace size. */
static int check_shape(const struct ocl_device *d, const struct trit_matmul *op,
                       struct trit_ternary_geometry *g, uint64_t *ws_bytes, char *err,
                       size_t errlen)
{
	uint32_t flags;

	if (!op || op->struct_size < offsetof(struct trit_matmul, n_threads))
		return ocl_errf(err, errlen, TRIT_EABI, "the trit_matmul given is smaller (%u bytes) "
		                "than the opencl backend reads", op ? (unsigned)op->struct_size : 0);
	flags = op_flags(op);
	if (flags & ~TRIT_MATMUL_INT_DOTS)
		return ocl_errf(err, errlen, TRIT_EUNSUPPORTED, "%s: matmul flags 0x%x are not "
		                "known to the opencl backend (it knows TRIT_MATMUL_INT_DOTS)",
		                d->dev.id, (unsigned)flags);
	if (op->weight_type != TRIT_TYPE_I2_S && op->weight_type != TRIT_TYPE_TL1 &&
	    op->weight_type != TRIT_TYPE_TL2)
		return ocl_errf(err, errlen, TRIT_EUNSUPPORTED, "%s: the opencl backend multiplies "
		                "I2_S, TL1 and TL2 weights; weight type %u is not one of them",
		                d->dev.id, (unsigned)op->weight_type);
	if (op->rows == 0 || op->cols == 0 || op->tokens == 0)
		return ocl_errf(err, errlen, TRIT_EINVAL, "%s: empty matmul (%llu rows, %llu cols, "
		                "%llu tokens)", d->dev.id, (ull)op->rows, (ull)op->cols,
		                (ull)op->tokens);
	if (trit_ternary_geometry(op->weight_type, op->rows, op->cols, g) != 0 ||
	    g->rows_pad > UINT32_MAX || g->cols_pad > UINT32_MAX / 2 || op->tokens > UINT32_MAX ||
	    op->tokens > UINT64_MAX / 8 / g->cols_pad || op->tokens > UINT64_MAX / 8 / g->rows_pad)
		return ocl_errf(err, errlen, TRIT_ERANGE, "%s: a %s matmul of %llu rows x %llu cols "
		                "x %llu tokens is beyond what the kernels index (2^31 columns, 2^32 "
		                "rows and tokens)", d->dev.id, type_name(op->weight_type),
		                (ull)op->rows, (ull)op->cols, (ull)op->tokens);
	*ws_bytes = op->tokens * g->cols_pad + ((flags & TRIT_MATMUL_INT_DOTS) ? 0 : op->tokens * 4);
	return 0;
}

int ocl_matmul_workspace(void *state, uint32_t device, const struct trit_matmul *op,
                         uint64_t *bytes, char *err, size_t errlen)
{
	struct ocl_state *st = state;
	struct ocl_device *d = device_of(st, device, err, errlen);
	struct trit_ternary_geometry g;

	if (!d)
		return TRIT_EINVAL;
	if (!bytes)
		return ocl_errf(err, errlen, TRIT_EINVAL, "matmul_workspace without a result pointer");
	return check_shape(d, op, &g, bytes, err, errlen);
}

static int set_args(cl_kernel k, const void *const *vals, const size_t *sizes, unsigned n,
                    cl_int *e)
{
	for (unsigned i = 0; i < n; i++)
		if ((*e = clSetKernelArg(k, i, sizes[i], vals[i])) != CL_SUCCESS)
			return (int)i;
	return -1;
}

#define ARG(v) (const void *)&(v), sizeof(v)

static int enqueue(struct ocl_device *d, cl_kernel k, const char *name, cl_uint dims,
                   const size_t *global, const size_t *local, char *err, size_t errlen)
{
	char ebuf[64];
	cl_int e = clEnqueueNDRangeKernel(d->queue, k, dims, NULL, global, local, 0, NULL, NULL);
	if (e != CL_SUCCESS)
		return ocl_errf(err, errlen, ocl_result(e), "%s '%s': launching %s failed: %s",
		                d->dev.id, d->dev.name, name, ocl_strerror(e, ebuf, sizeof ebuf));
	return 0;
}

int ocl_ternary_enqueue(struct ocl_device *d, const struct trit_matmul *op, cl_mem w, cl_mem in,
                        cl_mem scales, uint64_t scales_off, cl_mem out, cl_mem ws, char *err,
                        size_t errlen)
{
	struct trit_ternary_geometry g;
	uint64_t ws_bytes;
	const int fmt = op->weight_type == TRIT_TYPE_I2_S ? OCL_FMT_I2S
	              : op->weight_type == TRIT_TYPE_TL1 ? OCL_FMT_TL1 : OCL_FMT_TL2;
	cl_int int_dots = (op_flags(op) & TRIT_MATMUL_INT_DOTS) != 0, e = CL_SUCCESS;
	cl_uint cols, cols_pad, rows, tokens, t_base;
	cl_ulong x_off = op->input_offset, q_off = op->workspace_offset, s_off,
	         w_off = op->weights_offset, out_off = op->output_offset, data_bytes;
	size_t global[2], local[2], nfull, rem;
	char ebuf[64];
	int rc, bad;

	if ((rc = check_shape(d, op, &g, &ws_bytes, err, errlen)) != 0)
		return rc;
	cols = (cl_uint)op->cols;
	cols_pad = (cl_uint)g.cols_pad;
	rows = (cl_uint)op->rows;
	tokens = (cl_uint)op->tokens;
	data_bytes = g.data_bytes;
	s_off = q_off + (cl_ulong)tokens * cols_pad;

	/* 1. activations into the workspace (quantised I8 ones are only padded,
	 * and their multipliers copied next to them) */
	{
		int pad = int_dots || scales;
		cl_kernel k = pad ? d->k.pad : d->k.quantize;
		const void *vals[] = { &in, &x_off, &cols, &cols_pad, &ws, &q_off, &s_off, NULL };
		size_t sizes[] = { sizeof in, sizeof x_off, sizeof cols, sizeof cols_pad, sizeof ws,
			           sizeof q_off, sizeof s_off,
			           d->k.quant_local * sizeof(cl_float) };
		unsigned n = pad ? 6 : 8;
		if ((bad = set_args(k, vals, sizes, n, &e)) >= 0)
			return ocl_errf(err, errlen, TRIT_EINTERNAL, "%s: setting argument %d of %s "
			                "failed: %s", d->dev.id, bad, pad ? "trit_pad"
			                : "trit_quantize", ocl_strerror(e, ebuf, sizeof ebuf));
		global[0] = (size_t)tokens * d->k.quant_local;
		local[0] = d->k.quant_local;
		if ((rc = enqueue(d, k, pad ? "trit_pad" : "trit_quantize", 1, global, local, err,
		                  errlen)) != 0)
			return rc;
		if (scales && !int_dots &&
		    (e = clEnqueueCopyBuffer(d->queue, scales, ws, (size_t)scales_off, (size_t)s_off,
		                             (size_t)tokens * 4, 0, NULL, NULL)) != CL_SUCCESS)
			return ocl_errf(err, errlen, ocl_result(e), "%s '%s': copying the activation "
			                "scales failed: %s", d->dev.id, d->dev.name,
			                ocl_strerror(e, ebuf, sizeof ebuf));
	}

	/* 2. the dots: whole TT tiles, then the remaining tokens one by one */
	nfull = tokens >= OCL_TT ? tokens / OCL_TT : 0;
	rem = tokens - nfull * OCL_TT;
	local[1] = 1;
	if (fmt == OCL_FMT_I2S) {
		local[0] = d->k.dot_local;
		global[0] = (rows + local[0] - 1) / local[0] * local[0];
	} else if (d->k.tl_vector) {
		local[0] = 1;
		global[0] = (size_t)(g.rows_pad / 32); /* a work-item per tile */
	} else {
		size_t items = (size_t)(g.rows_pad / 32) * 16; /* 16 per tile */
		local[0] = d->k.tile_local;
		global[0] = (items + local[0] - 1) / local[0] * local[0];
	}
	for (int pass = 0; pass < 2; pass++) {
		size_t count = pass == 0 ? nfull : rem;
		int tt = pass == 0 ? 1 : 0;
		cl_kernel k = fmt != OCL_FMT_I2S && d->k.tl_vector ? d->k.tlv[fmt - 1][tt]
		                                                   : d->k.dot[fmt][tt];
		const void *vals[] = { &w, &w_off, &data_bytes, &rows, &cols_pad, &ws, &q_off, &s_off,
			               &t_base, &out, &out_off, &int_dots };
		size_t sizes[] = { sizeof w, sizeof w_off, sizeof data_bytes, sizeof rows,
			           sizeof cols_pad, sizeof ws, sizeof q_off, sizeof s_off,
			           sizeof t_base, sizeof out, sizeof out_off, sizeof int_dots };
		if (count == 0)
			continue;
		t_base = pass == 0 ? 0 : (cl_uint)(nfull * OCL_TT);
		if ((bad = set_args(k, vals, sizes, 12, &e)) >= 0)
			return ocl_errf(err, errlen, TRIT_EINTERNAL, "%s: setting argument %d of the %s "
			                "kernel failed: %s", d->dev.id, bad, type_name(op->weight_type),
			                ocl_strerror(e, ebuf, sizeof ebuf));
		global[1] = count;
		if ((rc = enqueue(d, k, type_name(op->weight_type), 2, global, local, err,
		                  errlen)) != 0)
			return rc;
	}
	return 0;
}

int ocl_run(struct ocl_device *d, const struct trit_matmul *op, cl_mem w, cl_mem in, cl_mem out,
            cl_mem ws, char *err, size_t errlen)
{
	char ebuf[64];
	cl_int e;
	int rc = ocl_ternary_enqueue(d, op, w, in, NULL, 0, out, ws, err, errlen);

	if (rc != 0)
		return rc;
	if ((e = clFinish(d->queue)) != CL_SUCCESS)
		return ocl_errf(err, errlen, TRIT_EDEVICE, "%s '%s': the %s matmul failed on the "
		                "device: %s", d->dev.id, d->dev.name, type_name(op->weight_type),
		                ocl_strerror(e, ebuf, sizeof ebuf));
	return 0;
}

/* Byte range [off, off + n) of buffer b is inside it. */
static int in_buffer(const struct trit_buffer *b, uint64_t off, uint64_t n)
{
	return off <= b->size && n <= b->size - off;
}

int ocl_matmul(void *state, uint32_t device, const struct trit_matmul *op, char *err,
               size_t errlen)
{
	struct ocl_state *st = state;
	struct ocl_device *d = device_of(st, device, err, errlen);
	struct trit_ternary_geometry g;
	uint64_t ws_bytes, in_bytes, out_bytes;
	int rc, int_dots;
	const struct { const struct trit_buffer *b; const char *name; } bufs[] = {
		{ op ? op->weights : NULL, "weights" }, { op ? op->input : NULL, "input" },
		{ op ? op->output : NULL, "output" },
	};

	if (!d)
		return TRIT_EINVAL;
	if (!d->live && (rc = ocl_bring_up(st, d, err, errlen)) != 0)
		return rc;
	if (!d->have_kernels)
		return ocl_errf(err, errlen, TRIT_EUNSUPPORTED, "%s '%s' has no ternary kernels: %s",
		                d->dev.id, d->dev.name,
		                d->kernels_src.source ? d->kernels_src.source : "not built");
	if ((rc = check_shape(d, op, &g, &ws_bytes, err, errlen)) != 0)
		return rc;
	int_dots = (op_flags(op) & TRIT_MATMUL_INT_DOTS) != 0;
	for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
		if (!valid_buffer(bufs[i].b))
			return ocl_errf(err, errlen, TRIT_EINVAL, "%s: the %s buffer is missing or not "
			                "an opencl buffer", d->dev.id, bufs[i].name);
		if (bufs[i].b->device != device)
			return ocl_errf(err, errlen, TRIT_EINVAL, "%s: the %s buffer belongs to device "
			                "%s, not to this one", d->dev.id, bufs[i].name,
			                st->devs[bufs[i].b->device].dev.id);
	}
	in_bytes = op->tokens * op->cols * (int_dots ? 1 : 4);
	out_bytes = op->tokens * op->rows * 4;
	if (!in_buffer(op->weights, op->weights_offset, g.total_bytes))
		return ocl_errf(err, errlen, TRIT_ERANGE, "%s: the %s weights (%llu bytes with the "
		                "trailer) at offset %llu overrun their buffer of %llu bytes",
		                d->dev.id, type_name(op->weight_type), (ull)g.total_bytes,
		                (ull)op->weights_offset, (ull)op->weights->size);
	if (!in_buffer(op->input, op->input_offset, in_bytes))
		return ocl_errf(err, errlen, TRIT_ERANGE, "%s: the input (%llu bytes) at offset %llu "
		                "overruns its buffer of %llu bytes", d->dev.id, (ull)in_bytes,
		                (ull)op->input_offset, (ull)op->input->size);
	if (!in_buffer(op->output, op->output_offset, out_bytes))
		return ocl_errf(err, errlen, TRIT_ERANGE, "%s: the output (%llu bytes) at offset "
		                "%llu overruns its buffer of %llu bytes", d->dev.id, (ull)out_bytes,
		                (ull)op->output_offset, (ull)op->output->size);
	if (!valid_buffer(op->workspace) || op->workspace->device != device ||
	    !in_buffer(op->workspace, op->workspace_offset, ws_bytes))
		return ocl_errf(err, errlen, TRIT_EINVAL, "%s: this matmul needs %llu bytes of "
		                "workspace on this device (see matmul_workspace); %s", d->dev.id,
		                (ull)ws_bytes, !valid_buffer(op->workspace) ? "none was given"
		                : op->workspace->device != device ? "the one given is on another device"
		                : "the one given is too small from its offset");
	if ((!int_dots && op->input_offset % 4) || op->output_offset % 4 ||
	    op->workspace_offset % 4)
		return ocl_errf(err, errlen, TRIT_EINVAL, "%s: F32/I32 data and the workspace must "
		                "start at offsets that are multiples of 4 (input %llu, output %llu, "
		                "workspace %llu)", d->dev.id, (ull)op->input_offset,
		                (ull)op->output_offset, (ull)op->workspace_offset);
	{
		/* what a kernel writes must not overlap anything else it touches */
		const struct { const struct trit_buffer *b; uint64_t off, n; const char *name; } r[] = {
			{ op->output, op->output_offset, out_bytes, "output" },
			{ op->workspace, op->workspace_offset, ws_bytes, "workspace" },
			{ op->input, op->input_offset, in_bytes, "input" },
			{ op->weights, op->weights_offset, g.total_bytes, "weights" },
		};
		for (int a = 0; a < 2; a++)
			for (int b = a + 1; b < 4; b++)
				if (r[a].b == r[b].b && r[a].n && r[b].n && r[a].off < r[b].off + r[b].n &&
				    r[b].off < r[a].off + r[a].n)
					return ocl_errf(err, errlen, TRIT_EINVAL, "%s: the %s (bytes "
					                "%llu..%llu) overlaps the %s (bytes %llu..%llu) "
					                "in the same buffer", d->dev.id, r[a].name,
					                (ull)r[a].off, (ull)(r[a].off + r[a].n),
					                r[b].name, (ull)r[b].off,
					                (ull)(r[b].off + r[b].n));
	}
	pthread_mutex_lock(&d->lock);
	rc = ocl_run(d, op, op->weights->mem, op->input->mem, op->output->mem, op->workspace->mem,
	             err, errlen);
	pthread_mutex_unlock(&d->lock);
	return rc;
}
