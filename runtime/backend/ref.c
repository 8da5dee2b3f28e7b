/*
 * ref.c - the scalar reference backend: host-memory buffers and plain C
 * kernels. It runs on any CPU and advertises exactly the kernels below:
 * F32 matmul and the ternary I2_S/TL1/TL2 ones of runtime/formats/ternary.c, one
 * weight at a time. Speed is the plugins' business, not this file's.
 */
#include <build-config.h>

#include <stdlib.h>
#include <string.h>

#include "backend/ref.h"
#include "core/common.h"
#include "formats/ternary.h"

struct trit_buffer {
	uint64_t size;
	unsigned char *data;
};

struct ref_state {
	struct trit_device dev;
	struct trit_property props[1];
};

static int ref_init(const struct trit_host *host, void **state, char *err, size_t errlen)
{
	struct ref_state *s = calloc(1, sizeof *s);

	if (!s)
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	if (TRIT_HOST_HAS(host, config_key) && host->config_key(host->ctx, 0)) {
		const char *k = host->config_key(host->ctx, 0);
		int rc = trit_errf(err, errlen, TRIT_ECONFIG,
		                   "%s: [plugin.ref] %s: the reference backend takes no settings",
		                   host->config_where(host->ctx, k), k);
		free(s);
		return rc;
	}
	s->dev.struct_size = sizeof s->dev;
	s->dev.kind = TRIT_DEVICE_CPU;
	s->dev.id = "ref0";
	s->dev.name = "scalar reference (portable C)";
	s->dev.vendor = "trit";
	s->dev.mem_total.source = "not measured by the reference backend; it shares host memory (mem.pool = host)";
	s->dev.mem_free.source = s->dev.mem_total.source;
	s->dev.mem_bandwidth.source = "not measured: the reference kernels are not bandwidth-bound";
	s->dev.compute_units.value = 1;
	s->dev.compute_units.state = TRIT_VALUE_DERIVED;
	s->dev.compute_units.source = "the reference kernels are single-threaded by design";
	s->dev.hw_threads = s->dev.compute_units;
	s->dev.clock_hz.source = "not measured by the reference backend";
	s->dev.compute_capability.source = "not a GPU";
	s->dev.matmul_types = TRIT_TYPE_BIT(TRIT_TYPE_F32) | TRIT_TYPE_BIT(TRIT_TYPE_I2_S) |
	                      TRIT_TYPE_BIT(TRIT_TYPE_TL1) | TRIT_TYPE_BIT(TRIT_TYPE_TL2);
	s->props[0].key = "mem.pool";
	s->props[0].text = "host";
	s->dev.props = s->props;
	s->dev.n_props = 1;
	*state = s;
	return 0;
}

static void ref_shutdown(void *state)
{
	free(state);
}

static uint32_t ref_device_count(void *state)
{
	return 1;
}

static const struct trit_device *ref_device_get(void *state, uint32_t index)
{
	struct ref_state *s = state;
	return index == 0 ? &s->dev : NULL;
}

static int ref_alloc(void *state, uint32_t device, uint64_t size, struct trit_buffer **out,
                     char *err, size_t errlen)
{
	struct trit_buffer *b;

	*out = NULL;
	if (device != 0)
		return trit_errf(err, errlen, TRIT_EINVAL, "ref has one device (0), not %u", device);
	if (size > SIZE_MAX - 64)
		return trit_errf(err, errlen, TRIT_ENOMEM, "cannot allocate %llu bytes",
		                 (unsigned long long)size);
	b = malloc(sizeof *b);
	if (!b || !(b->data = aligned_alloc(64, ((size_t)size + 63) / 64 * 64 + 64))) {
		free(b);
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of host memory allocating %llu bytes",
		                 (unsigned long long)size);
	}
	b->size = size;
	*out = b;
	return 0;
}

static void ref_free(void *state, struct trit_buffer *b)
{
	if (b)
		free(b->data);
	free(b);
}

static int check_range(const struct trit_buffer *b, uint64_t off, uint64_t size,
                       char *err, size_t errlen)
{
	if (!b)
		return trit_errf(err, errlen, TRIT_EINVAL, "no buffer");
	if (off > b->size || size > b->size - off)
		return trit_errf(err, errlen, TRIT_ERANGE,
		                 "range [%llu, +%llu) is outside the %llu-byte buffer",
		                 (unsigned long long)off, (unsigned long long)size,
		                 (unsigned long long)b->size);
	return 0;
}

static int ref_write(void *state, struct trit_buffer *b, uint64_t off, const void *src,
                     uint64_t size, char *err, size_t errlen)
{
	int rc = check_range(b, off, size, err, errlen);
	if (!rc && size)
		memcpy(b->data + off, src, (size_t)size);
	return rc;
}

static int ref_read(void *state, struct trit_buffer *b, uint64_t off, void *dst,
                    uint64_t size, char *err, size_t errlen)
{
	int rc = check_range(b, off, size, err, errlen);
	if (!rc && size)
		memcpy(dst, b->data + off, (size_t)size);
	return rc;
}

static int is_ternary(uint32_t type)
{
	return type == TRIT_TYPE_I2_S || type == TRIT_TYPE_TL1 || type == TRIT_TYPE_TL2;
}

static int ref_workspace(void *state, uint32_t device, const struct trit_matmul *op,
                         uint64_t *bytes, char *err, size_t errlen)
{
	const struct trit_type_traits *tt = trit_type_traits(op->weight_type);

	if (op->struct_size < offsetof(struct trit_matmul, flags) + sizeof op->flags)
		return trit_errf(err, errlen, TRIT_EABI, "matmul descriptor of %u bytes is too short",
		                 op->struct_size);
	if (op->flags & ~TRIT_MATMUL_INT_DOTS)
		return trit_errf(err, errlen, TRIT_EINVAL, "unknown matmul flags 0x%x", op->flags);
	if (op->weight_type == TRIT_TYPE_F32 && !op->flags) {
		*bytes = 0; /* F32 x F32 accumulates in registers */
		return 0;
	}
	if (!is_ternary(op->weight_type))
		return trit_errf(err, errlen, TRIT_EUNSUPPORTED,
		                 "the reference backend has no %s matmul%s", tt ? tt->name : "(unknown type)",
		                 op->weight_type == TRIT_TYPE_F32 ? " with integer dots" : "");
	if (!trit_ternary_bytes(op->weight_type, op->rows, op->cols) || op->tokens == 0 ||
	    op->tokens > UINT64_MAX / 4 / op->cols || op->tokens > UINT64_MAX / 4 / op->rows)
		return trit_errf(err, errlen, TRIT_ERANGE, "matmul shape %llu x %llu x %llu tokens is invalid",
		                 (unsigned long long)op->rows, (unsigned long long)op->cols,
		                 (unsigned long long)op->tokens);
	/* the F32 path quantises one token at a time into the workspace */
	*bytes = (op->flags & TRIT_MATMUL_INT_DOTS) ? 0 : op->cols;
	return 0;
}

/* Checks that rows * cols elements of `elem` bytes fit the buffer at offset. */
static int check_matrix(const struct trit_buffer *b, uint64_t off, uint64_t rows, uint64_t cols,
                        uint64_t elem, const char *what, char *err, size_t errlen)
{
	if (rows && cols > UINT64_MAX / elem / rows)
		return trit_errf(err, errlen, TRIT_ERANGE, "%s: %llu x %llu elements overflow",
		                 what, (unsigned long long)rows, (unsigned long long)cols);
	int rc = check_range(b, off, rows * cols * elem, err, errlen);
	if (rc) {
		size_t n = strlen(err);
		snprintf(err + n, errlen - n, " (%s)", what);
	}
	return rc;
}

static int ref_matmul_f32(const struct trit_matmul *op)
{
	const float *w = (const float *)(op->weights->data + op->weights_offset);
	const float *x = (const float *)(op->input->data + op->input_offset);
	float *y = (float *)(op->output->data + op->output_offset);

	for (uint64_t t = 0; t < op->tokens; t++)
		for (uint64_t r = 0; r < op->rows; r++) {
			double acc = 0.0; /* double: the oracle should not add rounding of its own */
			for (uint64_t k = 0; k < op->cols; k++)
				acc += (double)w[r * op->cols + k] * (double)x[t * op->cols + k];
			y[t * op->rows + r] = (float)acc;
		}
	return 0;
}

/* One token at a time: quantise it into the workspace, then one integer dot
 * per row (the reference of runtime/formats/ternary.c, without its allocations). */
static void ref_matmul_ternary(const struct trit_matmul *op, int8_t *qws)
{
	const unsigned char *w = op->weights->data + op->weights_offset;
	const unsigned char *in = op->input->data + op->input_offset;
	unsigned char *out = op->output->data + op->output_offset;
	struct trit_ternary_geometry g = { 0 };

	trit_ternary_geometry(op->weight_type, op->rows, op->cols, &g);
	float scale = trit_ternary_scale(w, g.data_bytes);
	for (uint64_t t = 0; t < op->tokens; t++) {
		const int8_t *q;
		float s = 0.0f;
		if (op->flags & TRIT_MATMUL_INT_DOTS) {
			q = (const int8_t *)in + t * op->cols;
		} else {
			s = trit_quantize_act((const float *)in + t * op->cols, op->cols, qws);
			q = qws;
		}
		for (uint64_t r = 0; r < op->rows; r++) {
			int32_t dot;
			dot = 0;
			for (uint64_t k = 0; k < op->cols; k++)
				dot += trit_ternary_get(op->weight_type, &g, w, r, k) * q[k];
			if (op->flags & TRIT_MATMUL_INT_DOTS)
				memcpy(out + 4 * (t * op->rows + r), &dot, 4);
			else
				((float *)out)[t * op->rows + r] = trit_ternary_output(dot, s, scale);
		}
	}
}

static int ref_matmul(void *state, uint32_t device, const struct trit_matmul *op,
                      char *err, size_t errlen)
{
	uint64_t bytes, in_elem;
	int rc = ref_workspace(state, device, op, &bytes, err, errlen);

	if (rc)
		return rc;
	in_elem = (op->flags & TRIT_MATMUL_INT_DOTS) ? 1 : 4;
	if (is_ternary(op->weight_type))
		rc = check_range(op->weights, op->weights_offset,
		                 trit_ternary_bytes(op->weight_type, op->rows, op->cols), err, errlen);
	else
		rc = check_matrix(op->weights, op->weights_offset, op->rows, op->cols, 4, "weights", err, errlen);
	if (rc ||
	    (rc = check_matrix(op->input, op->input_offset, op->tokens, op->cols, in_elem, "input", err, errlen)) ||
	    (rc = check_matrix(op->output, op->output_offset, op->tokens, op->rows, 4, "output", err, errlen)))
		return rc;
	if (bytes && (rc = check_range(op->workspace, op->workspace_offset, bytes, err, errlen)))
		return rc;
	if (!is_ternary(op->weight_type))
		return ref_matmul_f32(op);
	ref_matmul_ternary(op, bytes ? (int8_t *)(op->workspace->data + op->workspace_offset) : NULL);
	return 0;
}

static const struct trit_backend ref_backend = {
	.abi_version = TRIT_BACKEND_ABI_VERSION,
	.struct_size = sizeof(struct trit_backend),
	.name = "ref",
	.version = PACKAGE_VERSION,
	.description = "scalar reference kernels built into libtrit (the test oracle)",
	.init = ref_init,
	.shutdown = ref_shutdown,
	.device_count = ref_device_count,
	.device_get = ref_device_get,
	.buffer_alloc = ref_alloc,
	.buffer_free = ref_free,
	.buffer_write = ref_write,
	.buffer_read = ref_read,
	.matmul_workspace = ref_workspace,
	.matmul = ref_matmul,
};

const struct trit_backend *trit_ref_backend(void)
{
	return &ref_backend;
}
