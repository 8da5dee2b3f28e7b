/*
 * hello.c - the smallest useful trit backend, built out of tree against the
 * installed SDK (see Makefile and README.md beside it).
 *
 * It reports one device: the host's memory as the kernel's sysinfo(2) sees it
 * (measured, with its source), and says "unknown" for what it cannot measure.
 * It shows the parts every plugin needs: the entry point, the ABI fields,
 * reading and validating its own configuration section, logging through the
 * host, and owning its strings. Its buffers are host memory and it runs a few
 * ops of the graph (hello_ops.c); trit sends every other op to its CPU
 * fallback, and `make check` holds the ones it claims to trit-conformance.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>

#include "hello.h"

static int hello_measure(struct hello *h, char *err, size_t errlen)
{
	struct sysinfo si;

	if (sysinfo(&si) != 0) {
		snprintf(err, errlen, "sysinfo(2) failed");
		return TRIT_EIO;
	}
	h->dev.mem_total.value = (uint64_t)si.totalram * si.mem_unit;
	h->dev.mem_total.state = TRIT_VALUE_MEASURED;
	h->dev.mem_total.source = "sysinfo(2) totalram (ignores container limits)";
	h->dev.mem_free.value = (uint64_t)si.freeram * si.mem_unit;
	h->dev.mem_free.state = TRIT_VALUE_MEASURED;
	h->dev.mem_free.source = "sysinfo(2) freeram (excludes reclaimable cache)";
	return 0;
}

static int hello_init(const struct trit_host *host, void **state, char *err, size_t errlen)
{
	struct hello *h;
	const char *key, *label = "hello";

	/* Refuse settings we do not know, naming where they were set. */
	for (uint32_t i = 0; TRIT_HOST_HAS(host, config_key) && (key = host->config_key(host->ctx, i)); i++) {
		if (strcmp(key, "label") != 0) {
			snprintf(err, errlen, "%s: [plugin.hello] %s: unknown key (accepted: label)",
			         host->config_where(host->ctx, key), key);
			return TRIT_ECONFIG;
		}
		label = host->config_get(host->ctx, key);
	}
	h = calloc(1, sizeof *h);
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return TRIT_ENOMEM;
	}
	snprintf(h->name, sizeof h->name, "%s example device", label);
	h->dev.struct_size = sizeof h->dev;
	h->dev.kind = TRIT_DEVICE_CPU;
	h->dev.id = "hello0";
	h->dev.name = h->name;
	h->dev.vendor = "trit SDK example";
	h->dev.mem_bandwidth.source = "the example does not measure bandwidth";
	h->dev.compute_units.source = "the example does not count cores";
	if (hello_measure(h, err, errlen)) {
		free(h);
		return TRIT_EIO;
	}
	trit_host_logf(host, TRIT_LOG_DEBUG, "measured %llu bytes of RAM",
	               (unsigned long long)h->dev.mem_total.value);
	*state = h;
	return 0;
}

static void hello_shutdown(void *state) { free(state); }
static uint32_t hello_count(void *state) { (void)state; return 1; }

static const struct trit_device *hello_get(void *state, uint32_t i)
{
	return i == 0 ? &((struct hello *)state)->dev : NULL;
}

static int hello_update(void *state, uint32_t i, char *err, size_t errlen)
{
	(void)i; /* one device */
	return hello_measure(state, err, errlen);
}

static int hello_memory(void *state, uint32_t i, uint64_t *free_bytes, uint64_t *total,
                        char *err, size_t errlen)
{
	struct hello *h = state;
	int rc = hello_update(state, i, err, errlen);

	*free_bytes = h->dev.mem_free.value;
	*total = h->dev.mem_total.value;
	return rc;
}

static const struct trit_backend hello_backend = {
	.abi_version = TRIT_BACKEND_ABI_VERSION,
	.struct_size = sizeof(struct trit_backend),
	.name = "hello",
	.version = "1.0",
	.description = "example backend from the trit SDK",
	.init = hello_init,
	.shutdown = hello_shutdown,
	.device_count = hello_count,
	.device_get = hello_get,
	.device_update = hello_update,
	.buffer_alloc = hello_buffer_alloc,
	.buffer_free = hello_buffer_free,
	.buffer_write = hello_buffer_write,
	.buffer_read = hello_buffer_read,
	.get_memory = hello_memory,
	.buffer_limits = hello_buffer_limits,
	.buffer_from_host_ptr = hello_buffer_wrap,
	.buffer_host_ptr = hello_buffer_host_ptr,
	.buffer_copy = hello_buffer_copy,
	.supports_op = hello_supports_op,
	.graph_workspace = hello_graph_workspace,
	.graph_compute = hello_graph_compute,
};

TRIT_EXPORT const struct trit_backend *trit_backend_entry(void)
{
	return &hello_backend;
}
