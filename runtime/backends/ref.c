/*
 * ref.c - the scalar reference backend's device, host-memory buffers and
 * plugin table: the v1 matmul() and the ABI v2 entries (supports_op,
 * graph_compute, host-pointer buffers, copies, limits). The kernels are in
 * ref_node.c and the files it names; speed is the plugins' business.
 */
#include <build-config.h>

#include <stdlib.h>
#include <string.h>

#include "backends/ref.h"
#include "backends/ref_node.h"
#include "common.h"
#include "ternary.h"

/* Every buffer's base is aligned to REF_ALIGN; REF_MAX_BUFFER is the largest
 * size ref_alloc asks the C library for (malloc refuses beyond PTRDIFF_MAX). */
#define REF_ALIGN 64u
#define REF_MAX_BUFFER ((((uint64_t)PTRDIFF_MAX - 2 * REF_ALIGN) / REF_ALIGN) * REF_ALIGN)

struct trit_buffer {
	uint64_t size;
	unsigned char *data;
	int owned; /* 0: wraps the caller's memory (buffer_from_host_ptr) */
};

/* Weight types the reference matmul runs (ref_matmul.c). */
#define REF_MATMUL_TYPES                                                                   \
	(TRIT_TYPE_BIT(TRIT_TYPE_F32) | TRIT_TYPE_BIT(TRIT_TYPE_F16) |                     \
	 TRIT_TYPE_BIT(TRIT_TYPE_BF16) | TRIT_TYPE_BIT(TRIT_TYPE_Q8_0) |                   \
	 TRIT_TYPE_BIT(TRIT_TYPE_TQ1_0) | TRIT_TYPE_BIT(TRIT_TYPE_TQ2_0) |                 \
	 TRIT_TYPE_BIT(TRIT_TYPE_I2_S) | TRIT_TYPE_BIT(TRIT_TYPE_TL1) |                    \
	 TRIT_TYPE_BIT(TRIT_TYPE_TL2))

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
	s->dev.matmul_types = REF_MATMUL_TYPES;
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
	if (size > REF_MAX_BUFFER)
		return trit_errf(err, errlen, TRIT_ENOMEM, "cannot allocate %llu bytes: the largest "
		                 "buffer is %llu", (unsigned long long)size,
		                 (unsigned long long)REF_MAX_BUFFER);
	b = malloc(sizeof *b);
	if (!b || !(b->data = aligned_alloc(REF_ALIGN, ((size_t)size + REF_ALIGN - 1) / REF_ALIGN *
	                                                   REF_ALIGN + REF_ALIGN))) {
		free(b);
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of host memory allocating %llu bytes",
		                 (unsigned long long)size);
	}
	b->size = size;
	b->owned = 1;
	*out = b;
	return 0;
}

static void ref_free(void *state, struct trit_buffer *b)
{
	if (b && b->owned)
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

/* ------------------------------------------------------------------------ */
/* ABI v1: matmul() on contiguous matrices, through ref_matmul.c's kernels.  */

static int is_ternary(uint32_t type)
{
	return type == TRIT_TYPE_I2_S || type == TRIT_TYPE_TL1 || type == TRIT_TYPE_TL2;
}

/* Bytes of the weights, rows x cols of weight_type; 0 for a shape it cannot hold. */
static uint64_t weight_bytes(uint32_t type, uint64_t rows, uint64_t cols)
{
	const struct trit_type_traits *tt = trit_type_traits(type);

	if (is_ternary(type))
		return trit_ternary_bytes(type, rows, cols);
	if (!rows || !cols || cols % tt->block_elems || cols / tt->block_elems > UINT64_MAX / tt->block_bytes)
		return 0;
	if (cols / tt->block_elems * tt->block_bytes > UINT64_MAX / rows)
		return 0;
	return rows * (cols / tt->block_elems * tt->block_bytes);
}

static int ref_workspace(void *state, uint32_t device, const struct trit_matmul *op,
                         uint64_t *bytes, char *err, size_t errlen)
{
	const struct trit_type_traits *tt = trit_type_traits(op->weight_type);
	int dots = (op->flags & TRIT_MATMUL_INT_DOTS) != 0;

	if (op->struct_size < offsetof(struct trit_matmul, flags) + sizeof op->flags)
		return trit_errf(err, errlen, TRIT_EABI, "matmul descriptor of %u bytes is too short",
		                 op->struct_size);
	if (op->flags & ~TRIT_MATMUL_INT_DOTS)
		return trit_errf(err, errlen, TRIT_EINVAL, "unknown matmul flags 0x%x", op->flags);
	if (!tt || !(REF_MATMUL_TYPES & TRIT_TYPE_BIT(op->weight_type)) ||
	    (dots && !is_ternary(op->weight_type)))
		return trit_errf(err, errlen, TRIT_EUNSUPPORTED,
		                 "the reference backend has no %s matmul%s", tt ? tt->name : "(unknown type)",
		                 dots ? " with integer dots" : "");
	if (!weight_bytes(op->weight_type, op->rows, op->cols) || op->tokens == 0 ||
	    op->tokens > UINT64_MAX / 4 / op->cols || op->tokens > UINT64_MAX / 4 / op->rows)
		return trit_errf(err, errlen, TRIT_ERANGE, "matmul shape %llu x %llu x %llu tokens is invalid "
		                 "for %s weights", (unsigned long long)op->rows,
		                 (unsigned long long)op->cols, (unsigned long long)op->tokens, tt->name);
	/* quantised weights: one token's quantised activations at a time */
	*bytes = dots ? 0 : trit_ref_matmul_ws(op->weight_type, op->cols);
	return 0;
}

/* Checks that rows * cols elements of `elem` bytes fit the buffer at offset,
 * aligned for elements of that size. */
static int check_matrix(const struct trit_buffer *b, uint64_t off, uint64_t rows, uint64_t cols,
                        uint64_t elem, const char *what, char *err, size_t errlen)
{
	int rc = check_range(b, off, rows * cols * elem, err, errlen);

	if (rc) {
		size_t n = strlen(err);
		snprintf(err + n, errlen - n, " (%s)", what);
		return rc;
	}
	if (off % elem)
		return trit_errf(err, errlen, TRIT_EINVAL, "%s: offset %llu is not a multiple of %llu",
		                 what, (unsigned long long)off, (unsigned long long)elem);
	return 0;
}

static void run_matmul(const struct trit_matmul *op, void *ws)
{
	const unsigned char *w = op->weights->data + op->weights_offset;
	const unsigned char *in = op->input->data + op->input_offset;
	unsigned char *out = op->output->data + op->output_offset;
	uint64_t nb1 = is_ternary(op->weight_type) ? 0 : weight_bytes(op->weight_type, 1, op->cols);

	if (op->flags & TRIT_MATMUL_INT_DOTS) {
		trit_ref_matmul_int(op->weight_type, w, op->rows, op->cols, (const int8_t *)in,
		                    op->tokens, (int32_t *)(void *)out);
		return;
	}
	for (uint64_t t = 0; t < op->tokens; t++)
		trit_ref_matmul_token(op->weight_type, w, nb1, op->rows, op->cols,
		                      (const float *)(const void *)in + t * op->cols,
		                      (float *)(void *)out + t * op->rows, ws);
}

static int ref_matmul(void *state, uint32_t device, const struct trit_matmul *op,
                      char *err, size_t errlen)
{
	uint64_t bytes, in_elem;
	int rc = ref_workspace(state, device, op, &bytes, err, errlen);

	if (rc)
		return rc;
	in_elem = (op->flags & TRIT_MATMUL_INT_DOTS) ? 1 : 4;
	if ((rc = check_range(op->weights, op->weights_offset,
	                      weight_bytes(op->weight_type, op->rows, op->cols), err, errlen)) ||
	    (rc = check_matrix(op->input, op->input_offset, op->tokens, op->cols, in_elem, "input", err, errlen)) ||
	    (rc = check_matrix(op->output, op->output_offset, op->tokens, op->rows, 4, "output", err, errlen)))
		return rc;
	if (bytes && (rc = check_range(op->workspace, op->workspace_offset, bytes, err, errlen)))
		return rc;
	run_matmul(op, bytes ? op->workspace->data + op->workspace_offset : NULL);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* ABI v2                                                                    */

static int ref_get_memory(void *state, uint32_t device, uint64_t *free_bytes,
                          uint64_t *total_bytes, char *err, size_t errlen)
{
	return trit_errf(err, errlen, TRIT_EUNSUPPORTED,
	                 "the reference backend does not measure memory; it shares host memory "
	                 "(mem.pool = host) with the CPU backends, which do");
}

static int ref_buffer_limits(void *state, uint32_t device, struct trit_buffer_limits *out,
                             char *err, size_t errlen)
{
	if (device != 0)
		return trit_errf(err, errlen, TRIT_EINVAL, "ref has one device (0), not %u", device);
	if (out->struct_size < sizeof *out)
		return trit_errf(err, errlen, TRIT_EABI, "buffer limits struct of %u bytes is too short",
		                 out->struct_size);
	out->host_visible = 1;
	out->from_host_ptr = 1;
	out->reserved = 0;
	out->alignment = REF_ALIGN;
	out->max_size = REF_MAX_BUFFER;
	return 0;
}

static int ref_from_host_ptr(void *state, uint32_t device, void *ptr, uint64_t size,
                             struct trit_buffer **out, char *err, size_t errlen)
{
	struct trit_buffer *b;

	*out = NULL;
	if (device != 0)
		return trit_errf(err, errlen, TRIT_EINVAL, "ref has one device (0), not %u", device);
	if (!ptr || (uintptr_t)ptr % REF_ALIGN)
		return trit_errf(err, errlen, TRIT_EINVAL, "host memory at %p is not %u-byte aligned, "
		                 "as every ref buffer is", ptr, REF_ALIGN);
	if (size > REF_MAX_BUFFER)
		return trit_errf(err, errlen, TRIT_ERANGE, "%llu bytes exceed the largest buffer (%llu)",
		                 (unsigned long long)size, (unsigned long long)REF_MAX_BUFFER);
	if (!(b = malloc(sizeof *b)))
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory wrapping host memory");
	b->size = size;
	b->data = ptr;
	b->owned = 0;
	*out = b;
	return 0;
}

static void *ref_host_ptr(void *state, struct trit_buffer *b)
{
	return b ? b->data : NULL;
}

static int ref_copy(void *state, struct trit_buffer *dst, uint64_t dst_offset,
                    struct trit_buffer *src, uint64_t src_offset, uint64_t size,
                    char *err, size_t errlen)
{
	int rc;

	if ((rc = check_range(src, src_offset, size, err, errlen)) ||
	    (rc = check_range(dst, dst_offset, size, err, errlen)))
		return rc;
	if (size)
		memmove(dst->data + dst_offset, src->data + src_offset, (size_t)size);
	return 0;
}

static int ref_supports_op(void *state, uint32_t device, const struct trit_node *node)
{
	return device == 0 && trit_ref_supports(node);
}

static int check_graph(uint32_t device, const struct trit_graph *g, char *err, size_t errlen)
{
	if (device != 0)
		return trit_errf(err, errlen, TRIT_EINVAL, "ref has one device (0), not %u", device);
	if (!g || g->struct_size < sizeof *g)
		return trit_errf(err, errlen, TRIT_EABI, "graph descriptor of %u bytes is too short",
		                 g ? g->struct_size : 0);
	if (g->n_nodes && !g->nodes)
		return trit_errf(err, errlen, TRIT_EINVAL, "graph of %u nodes without nodes", g->n_nodes);
	return 0;
}

static int ref_graph_workspace(void *state, uint32_t device, const struct trit_graph *g,
                               uint64_t *bytes, char *err, size_t errlen)
{
	int rc = check_graph(device, g, err, errlen);

	*bytes = 0;
	for (uint32_t i = 0; !rc && i < g->n_nodes; i++) {
		uint64_t b = trit_ref_node_workspace(&g->nodes[i]);
		*bytes = b > *bytes ? b : *bytes;
	}
	return rc;
}

/* ref's buffers are host memory already. */
static int resolve_buffer(void *ctx, struct trit_buffer *b, struct trit_ref_mem *out,
                          char *err, size_t errlen)
{
	out->base = b->data;
	out->size = b->size;
	return 0;
}

static int ref_graph_compute(void *state, uint32_t device, const struct trit_graph *g,
                             char *err, size_t errlen)
{
	unsigned char *ws = NULL;
	char msg[400];
	int rc = check_graph(device, g, err, errlen);

	if (!rc && g->workspace &&
	    !(rc = check_range(g->workspace, g->workspace_offset, g->workspace_size, err, errlen)))
		ws = g->workspace->data + g->workspace_offset;
	for (uint32_t i = 0; !rc && i < g->n_nodes; i++) {
		const struct trit_node *n = &g->nodes[i];
		rc = trit_ref_node(n, resolve_buffer, NULL, ws, ws ? g->workspace_size : 0, msg, sizeof msg);
		if (rc)
			return trit_errf(err, errlen, rc, "node %u (%s): %s", i, n->name ? n->name : "unnamed",
			                 msg);
	}
	return rc;
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
	.get_memory = ref_get_memory,
	.buffer_limits = ref_buffer_limits,
	.buffer_from_host_ptr = ref_from_host_ptr,
	.buffer_host_ptr = ref_host_ptr,
	.buffer_copy = ref_copy,
	.supports_op = ref_supports_op,
	.graph_workspace = ref_graph_workspace,
	.graph_compute = ref_graph_compute,
};

const struct trit_backend *trit_ref_backend(void)
{
	return &ref_backend;
}
