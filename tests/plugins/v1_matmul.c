/*
 * v1_matmul.c - a genuine ABI v1 backend ("test_v1"): its table is declared
 * here with exactly the v1 layout (the v2 table up to and including matmul),
 * abi_version 1, struct_size that size. Host-memory buffers and an F32
 * matmul that insists on the workspace it asked for, so tests see the
 * host's graph_compute() wrapper hand it the right numbers and scratch.
 */
#include <assert.h>

#include "hostmem.h"

#define V1_WORKSPACE 64u

struct v1_backend {
	uint32_t abi_version;
	uint32_t struct_size;
	const char *name;
	const char *version;
	const char *description;
	int (*init)(const struct trit_host *host, void **state, char *err, size_t errlen);
	void (*shutdown)(void *state);
	uint32_t (*device_count)(void *state);
	const struct trit_device *(*device_get)(void *state, uint32_t index);
	int (*device_update)(void *state, uint32_t index, char *err, size_t errlen);
	int (*buffer_alloc)(void *state, uint32_t device, uint64_t size,
	                    struct trit_buffer **out, char *err, size_t errlen);
	void (*buffer_free)(void *state, struct trit_buffer *buf);
	int (*buffer_write)(void *state, struct trit_buffer *buf, uint64_t offset,
	                    const void *src, uint64_t size, char *err, size_t errlen);
	int (*buffer_read)(void *state, struct trit_buffer *buf, uint64_t offset,
	                   void *dst, uint64_t size, char *err, size_t errlen);
	int (*matmul_workspace)(void *state, uint32_t device, const struct trit_matmul *op,
	                        uint64_t *bytes, char *err, size_t errlen);
	int (*matmul)(void *state, uint32_t device, const struct trit_matmul *op,
	              char *err, size_t errlen);
};

static struct trit_device dev;

static int v1_init(const struct trit_host *h, void **s, char *e, size_t n)
{
	dev.struct_size = sizeof dev;
	dev.kind = TRIT_DEVICE_CPU;
	dev.id = "v1cpu";
	dev.name = "ABI v1 test device";
	dev.matmul_types = TRIT_TYPE_BIT(TRIT_TYPE_F32);
	*s = &dev;
	return 0;
}
static void v1_shutdown(void *s) { }
static uint32_t v1_count(void *s) { return 1; }
static const struct trit_device *v1_get(void *s, uint32_t i) { return i == 0 ? &dev : NULL; }

static int v1_workspace(void *s, uint32_t d, const struct trit_matmul *op, uint64_t *bytes,
                        char *err, size_t errlen)
{
	*bytes = V1_WORKSPACE;
	return 0;
}

static int v1_matmul(void *s, uint32_t d, const struct trit_matmul *op, char *err, size_t errlen)
{
	uint64_t m = op->rows, k = op->cols, t = op->tokens;
	int rc;

	if (op->weight_type != TRIT_TYPE_F32 || op->flags) {
		snprintf(err, errlen, "only the plain F32 product");
		return TRIT_EUNSUPPORTED;
	}
	if ((rc = hm_range(op->workspace, op->workspace_offset, V1_WORKSPACE, err, errlen)) ||
	    (rc = hm_range(op->weights, op->weights_offset, m * k * 4, err, errlen)) ||
	    (rc = hm_range(op->input, op->input_offset, t * k * 4, err, errlen)) ||
	    (rc = hm_range(op->output, op->output_offset, t * m * 4, err, errlen)))
		return rc;
	for (uint64_t j = 0; j < t; j++)
		for (uint64_t r = 0; r < m; r++) {
			float acc = 0;
			for (uint64_t c = 0; c < k; c++)
				acc += hm_f32(op->weights, op->weights_offset + (r * k + c) * 4) *
				       hm_f32(op->input, op->input_offset + (j * k + c) * 4);
			hm_set_f32(op->output, op->output_offset + (j * m + r) * 4, acc);
		}
	return 0;
}

static const struct v1_backend table = {
	.abi_version = 1,
	.struct_size = sizeof(struct v1_backend),
	.name = "test_v1",
	.version = "1.0.0",
	.description = "a backend built for plugin ABI 1",
	.init = v1_init,
	.shutdown = v1_shutdown,
	.device_count = v1_count,
	.device_get = v1_get,
	.buffer_alloc = hm_alloc,
	.buffer_free = hm_free,
	.buffer_write = hm_write,
	.buffer_read = hm_read,
	.matmul_workspace = v1_workspace,
	.matmul = v1_matmul,
};

/* The v1 table is a prefix of the v2 one: same offsets up to matmul. */
static_assert(sizeof(struct v1_backend) ==
              offsetof(struct trit_backend, matmul) + sizeof(void (*)(void)),
              "the v1 table ends at matmul");

TRIT_EXPORT const struct trit_backend *trit_backend_entry(void)
{
	return (const struct trit_backend *)(const void *)&table;
}
