/*
 * good.c - a well-behaved test backend ("test_good") with two simulated
 * devices and host-memory buffers. It exports its entry point under libltdl's
 * <module>_LTX_ prefix, logs through the host, and takes its device count
 * from its configuration section, so tests can see settings arrive.
 */
#define trit_backend_entry good_LTX_trit_backend_entry

#include <stdlib.h>
#include <string.h>

#include <trit/backend.h>

struct trit_buffer {
	uint64_t size;
	unsigned char *data;
};

struct state {
	struct trit_device dev[4];
	struct trit_property props[1];
	uint32_t n;
};

static int good_init(const struct trit_host *host, void **out, char *err, size_t errlen)
{
	struct state *s = calloc(1, sizeof *s);
	const char *n = host->config_get(host->ctx, "devices");
	static const char *const ids[] = { "sim0", "sim1", "sim2", "sim3" };

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return TRIT_ENOMEM;
	}
	s->n = 2;
	if (n) {
		char *end;
		unsigned long v = strtoul(n, &end, 10);
		if (*end || v > 4) {
			snprintf(err, errlen, "%s: devices = '%s': expected 0 to 4",
			         host->config_where(host->ctx, "devices"), n);
			free(s);
			return TRIT_ECONFIG;
		}
		s->n = (uint32_t)v;
	}
	s->props[0].key = "mem.pool";
	s->props[0].text = "simulated";
	for (uint32_t i = 0; i < s->n; i++) {
		struct trit_device *d = &s->dev[i];
		d->struct_size = sizeof *d;
		d->kind = TRIT_DEVICE_GPU;
		d->id = ids[i];
		d->name = "Simulated GPU";
		d->mem_total = (struct trit_value){ UINT64_C(8) << 30, TRIT_VALUE_MEASURED, 0, "simulated" };
		d->mem_free = (struct trit_value){ UINT64_C(6) << 30, TRIT_VALUE_MEASURED, 0, "simulated" };
		d->mem_bandwidth.source = "the test backend does not measure bandwidth";
		d->caps = TRIT_CAP_FP16;
		d->matmul_types = 0;
		d->props = s->props;
		d->n_props = 1;
	}
	trit_host_logf(host, TRIT_LOG_INFO, "test backend ready with %u devices", s->n);
	*out = s;
	return 0;
}

static void good_shutdown(void *st) { free(st); }
static uint32_t good_count(void *st) { return ((struct state *)st)->n; }

static const struct trit_device *good_get(void *st, uint32_t i)
{
	struct state *s = st;
	return i < s->n ? &s->dev[i] : NULL;
}

static int good_alloc(void *st, uint32_t dev, uint64_t size, struct trit_buffer **out,
                      char *err, size_t errlen)
{
	struct trit_buffer *b = calloc(1, sizeof *b);
	if (!b || !(b->data = malloc(size ? size : 1))) {
		free(b);
		snprintf(err, errlen, "out of memory");
		return TRIT_ENOMEM;
	}
	b->size = size;
	*out = b;
	return 0;
}

static void good_free(void *st, struct trit_buffer *b)
{
	if (b)
		free(b->data);
	free(b);
}

static const struct trit_backend table = {
	.abi_version = TRIT_BACKEND_ABI_VERSION,
	.struct_size = sizeof(struct trit_backend),
	.name = "test_good",
	.version = "1.2.3",
	.description = "well-behaved test backend",
	.init = good_init,
	.shutdown = good_shutdown,
	.device_count = good_count,
	.device_get = good_get,
	.buffer_alloc = good_alloc,
	.buffer_free = good_free,
};

TRIT_EXPORT const struct trit_backend *trit_backend_entry(void)
{
	return &table;
}
