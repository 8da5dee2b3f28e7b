/*
 * test_ternary.c - a test backend ("test_ternary") whose simulated CPU runs
 * the three ternary kernels with host-memory buffers, so `trit bench` and
 * `trit plan` can be tested end to end on any machine: unlike the built-in
 * ref device, its memory is known (simulated), so the planner uses it.
 *
 * Settings ([plugin.test_ternary] or TRIT_PLUGIN_TEST_TERNARY_<KEY>):
 *   kernels = I2_S,TL1,TL2   the ternary kernels it advertises (default all)
 *   isa = NAME               its "kernel.isa" property (default scalar)
 *   wrong = I2_S|TL1|TL2     that kernel adds 1 to one dot: a broken kernel
 *   gpu = yes                add a simulated GPU (own memory) with the same kernels
 *   l3 = BYTES               the devices' cache.l3 (default 1 MiB), which sizes
 *                            trit bench's working set
 *   peak = unknown           its CPU's compute.int8_peak properties are unknown
 *                            (default: 1 G ops/s per core, 2 G for TL2)
 * The kernels are slow (trit_ternary_get per weight): small shapes only.
 * Buffers of 2 MiB or more ask for transparent huge pages where the system
 * has them, so a test with a large working set does not spend seconds in
 * page faults.
 */
#define trit_backend_entry test_ternary_LTX_trit_backend_entry

#include <build-config.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>

#include <trit/backend.h>
#include <trit/ternary.h>

struct trit_buffer {
	uint64_t size;
	unsigned char *data;
};

struct state {
	struct trit_device dev[2];
	struct trit_property props[2][5];
	uint32_t n;
	char isa[32];
	int wrong; /* trit type of the broken kernel, or -1 */
};

static int type_named(const char *s, size_t n)
{
	if (n == 4 && strncasecmp(s, "I2_S", 4) == 0)
		return TRIT_TYPE_I2_S;
	if (n == 3 && strncasecmp(s, "TL1", 3) == 0)
		return TRIT_TYPE_TL1;
	if (n == 3 && strncasecmp(s, "TL2", 3) == 0)
		return TRIT_TYPE_TL2;
	return -1;
}

static int setting_error(const struct trit_host *h, const char *key, const char *v,
                         const char *want, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: %s = '%s': expected %s", h->config_where(h->ctx, key), key, v,
	         want);
	return TRIT_ECONFIG;
}

static int tt_init(const struct trit_host *host, void **out, char *err, size_t errlen)
{
	struct state *s = calloc(1, sizeof *s);
	const char *kernels = host->config_get(host->ctx, "kernels");
	const char *isa = host->config_get(host->ctx, "isa");
	const char *wrong = host->config_get(host->ctx, "wrong");
	const char *gpu = host->config_get(host->ctx, "gpu");
	const char *l3 = host->config_get(host->ctx, "l3");
	uint64_t l3_bytes = UINT64_C(1) << 20;
	const char *peak = host->config_get(host->ctx, "peak");
	uint64_t types = TRIT_TYPE_BIT(TRIT_TYPE_I2_S) | TRIT_TYPE_BIT(TRIT_TYPE_TL1) |
	                 TRIT_TYPE_BIT(TRIT_TYPE_TL2);
	int rc;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return TRIT_ENOMEM;
	}
	s->wrong = -1;
	if (kernels) {
		const char *p = kernels;
		types = 0;
		while (*p) {
			size_t n = strcspn(p, ",");
			int t = type_named(p, n);
			if (t < 0) {
				rc = setting_error(host, "kernels", kernels, "I2_S, TL1, TL2 separated by commas",
				                   err, errlen);
				free(s);
				return rc;
			}
			types |= TRIT_TYPE_BIT(t);
			p += n + (p[n] == ',');
		}
	}
	if (wrong && (s->wrong = type_named(wrong, strlen(wrong))) < 0) {
		rc = setting_error(host, "wrong", wrong, "I2_S, TL1 or TL2", err, errlen);
		free(s);
		return rc;
	}
	if (gpu && strcmp(gpu, "yes") && strcmp(gpu, "no")) {
		rc = setting_error(host, "gpu", gpu, "yes or no", err, errlen);
		free(s);
		return rc;
	}
	if (l3) {
		char *end;
		unsigned long long v = strtoull(l3, &end, 10);
		if (*l3 < '1' || *l3 > '9' || *end || v > (UINT64_C(1) << 40)) {
			rc = setting_error(host, "l3", l3, "a whole number of bytes from 1 to 2^40", err,
			                   errlen);
			free(s);
			return rc;
		}
		l3_bytes = v;
	}
	if (peak && strcmp(peak, "unknown")) {
		rc = setting_error(host, "peak", peak, "unknown", err, errlen);
		free(s);
		return rc;
	}
	snprintf(s->isa, sizeof s->isa, "%s", isa ? isa : "scalar");
	s->n = gpu && strcmp(gpu, "yes") == 0 ? 2 : 1;
	for (uint32_t i = 0; i < s->n; i++) {
		struct trit_device *d = &s->dev[i];
		struct trit_property *p = s->props[i];
		d->struct_size = sizeof *d;
		d->kind = i ? TRIT_DEVICE_GPU : TRIT_DEVICE_CPU;
		d->id = i ? "tgpu0" : "tcpu0";
		d->name = i ? "Simulated ternary GPU" : "Simulated ternary CPU";
		d->mem_total = (struct trit_value){ UINT64_C(16) << 30, TRIT_VALUE_MEASURED, 0,
		                                    "simulated" };
		d->mem_free = (struct trit_value){ UINT64_C(12) << 30, TRIT_VALUE_MEASURED, 0,
		                                   "simulated" };
		/* high, so the planner prefers it to this machine's real CPU */
		d->mem_bandwidth = (struct trit_value){ UINT64_C(1000000000000), TRIT_VALUE_MEASURED, 0,
		                                        "simulated" };
		d->compute_units = (struct trit_value){ 2, TRIT_VALUE_MEASURED, 0, "simulated" };
		d->hw_threads = d->compute_units;
		d->matmul_types = types;
		p[0].key = "mem.pool";
		p[0].text = i ? "test-gpu" : "test-host";
		p[1].key = "cache.l3";
		p[1].unit = "bytes";
		p[1].value = (struct trit_value){ l3_bytes, TRIT_VALUE_MEASURED, 0, "simulated" };
		p[2].key = "kernel.isa";
		p[2].text = s->isa;
		d->props = p;
		d->n_props = 3;
		if (i == 0) { /* the CPU's peak int8 throughput per core (backend.h) */
			struct trit_value v = { UINT64_C(1000000000), TRIT_VALUE_MEASURED, 0,
			                        "simulated: 1 G ops/s per core" };
			if (peak)
				v = (struct trit_value){ 0, TRIT_VALUE_UNKNOWN, 0,
				                         "simulated: not measured (peak = unknown)" };
			p[3] = (struct trit_property){ .key = TRIT_PROP_COMPUTE_INT8_PEAK,
			                               .unit = "ops/s", .value = v };
			if (!peak) {
				v.value *= 2;
				v.source = "simulated: 2 G ops/s per core for TL2";
			}
			p[4] = (struct trit_property){ .key = TRIT_PROP_COMPUTE_INT8_PEAK ".tl2",
			                               .unit = "ops/s", .value = v };
			d->n_props = 5;
		}
	}
	*out = s;
	return 0;
}

static void tt_shutdown(void *st) { free(st); }
static uint32_t tt_count(void *st) { return ((struct state *)st)->n; }

static const struct trit_device *tt_get(void *st, uint32_t i)
{
	struct state *s = st;
	return i < s->n ? &s->dev[i] : NULL;
}

static int tt_alloc(void *st, uint32_t dev, uint64_t size, struct trit_buffer **out,
                    char *err, size_t errlen)
{
	struct trit_buffer *b = calloc(1, sizeof *b);
	const size_t huge = (size_t)2 << 20;
	void *p = NULL;

	(void)st;
	(void)dev;
	if (b && size >= huge && size <= SIZE_MAX - huge && !posix_memalign(&p, huge, size)) {
#ifdef MADV_HUGEPAGE
		madvise(p, size, MADV_HUGEPAGE);
#endif
		memset(p, 0, size);
		b->data = p;
	} else if (b && size < huge) {
		b->data = calloc(1, size ? size : 1);
	}
	if (!b || !b->data) {
		free(b);
		snprintf(err, errlen, "out of memory");
		return TRIT_ENOMEM;
	}
	b->size = size;
	*out = b;
	return 0;
}

static void tt_free(void *st, struct trit_buffer *b)
{
	(void)st;
	if (b)
		free(b->data);
	free(b);
}

static int range(const struct trit_buffer *b, uint64_t off, uint64_t n, char *err, size_t errlen)
{
	if (!b || off > b->size || n > b->size - off) {
		snprintf(err, errlen, "range outside the buffer");
		return TRIT_ERANGE;
	}
	return 0;
}

static int tt_write(void *st, struct trit_buffer *b, uint64_t off, const void *src, uint64_t n,
                    char *err, size_t errlen)
{
	int rc = range(b, off, n, err, errlen);
	if (!rc)
		memcpy(b->data + off, src, n);
	return rc;
}

static int tt_read(void *st, struct trit_buffer *b, uint64_t off, void *dst, uint64_t n,
                   char *err, size_t errlen)
{
	int rc = range(b, off, n, err, errlen);
	if (!rc)
		memcpy(dst, b->data + off, n);
	return rc;
}

static int tt_workspace(void *st, uint32_t dev, const struct trit_matmul *op, uint64_t *bytes,
                        char *err, size_t errlen)
{
	struct state *s = st;
	if (!(s->dev[dev].matmul_types & TRIT_TYPE_BIT(op->weight_type))) {
		snprintf(err, errlen, "no kernel for type %u", op->weight_type);
		return TRIT_EUNSUPPORTED;
	}
	*bytes = (op->flags & TRIT_MATMUL_INT_DOTS) ? 0 : op->cols;
	return 0;
}

static int tt_matmul(void *st, uint32_t dev, const struct trit_matmul *op, char *err, size_t errlen)
{
	struct state *s = st;
	struct trit_ternary_geometry g;
	uint64_t ws;
	int rc = tt_workspace(st, dev, op, &ws, err, errlen);
	int ints = (op->flags & TRIT_MATMUL_INT_DOTS) != 0;

	if (rc)
		return rc;
	if (trit_ternary_geometry(op->weight_type, op->rows, op->cols, &g) ||
	    (rc = range(op->weights, op->weights_offset, g.total_bytes, err, errlen)) ||
	    (rc = range(op->input, op->input_offset, op->tokens * op->cols * (ints ? 1 : 4),
	                err, errlen)) ||
	    (rc = range(op->output, op->output_offset, op->tokens * op->rows * 4, err, errlen)) ||
	    (ws && (rc = range(op->workspace, op->workspace_offset, ws, err, errlen))))
		return rc ? rc : TRIT_EINVAL;
	const unsigned char *w = op->weights->data + op->weights_offset;
	float scale = trit_ternary_scale(w, g.data_bytes);
	for (uint64_t t = 0; t < op->tokens; t++) {
		const int8_t *q;
		float sc = 0;
		if (ints) {
			q = (const int8_t *)(op->input->data + op->input_offset) + t * op->cols;
		} else {
			int8_t *qw = (int8_t *)(op->workspace->data + op->workspace_offset);
			sc = trit_quantize_act((const float *)(op->input->data + op->input_offset) +
			                       t * op->cols, op->cols, qw);
			q = qw;
		}
		for (uint64_t r = 0; r < op->rows; r++) {
			int32_t dot = 0;
			for (uint64_t k = 0; k < op->cols; k++)
				dot += trit_ternary_get(op->weight_type, &g, w, r, k) * q[k];
			if ((int)op->weight_type == s->wrong && r == op->rows / 2)
				dot += 1;
			unsigned char *o = op->output->data + op->output_offset + 4 * (t * op->rows + r);
			if (ints) {
				memcpy(o, &dot, 4);
			} else {
				float y = trit_ternary_output(dot, sc, scale);
				memcpy(o, &y, 4);
			}
		}
	}
	return 0;
}

static const struct trit_backend table = {
	.abi_version = TRIT_BACKEND_ABI_VERSION,
	.struct_size = sizeof(struct trit_backend),
	.name = "test_ternary",
	.version = "1.0",
	.description = "test backend: a simulated CPU with the ternary kernels",
	.init = tt_init,
	.shutdown = tt_shutdown,
	.device_count = tt_count,
	.device_get = tt_get,
	.buffer_alloc = tt_alloc,
	.buffer_free = tt_free,
	.buffer_write = tt_write,
	.buffer_read = tt_read,
	.matmul_workspace = tt_workspace,
	.matmul = tt_matmul,
};

TRIT_EXPORT const struct trit_backend *trit_backend_entry(void)
{
	return &table;
}
