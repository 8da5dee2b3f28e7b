/*
 * backend.c - the opencl backend's state: init reads the options, picks the
 * kernel source, and either describes the devices from the probe cache
 * (desc.c; OpenCL is then brought up at a device's first use) or finds them
 * (probe.c), builds their kernels (program.c) and fills the cache;
 * device_update re-measures free memory. A device whose
 * kernels could not be built stays listed with no kernels and the reason;
 * no platform or no device at all makes init fail with the reason, so the
 * runtime lists the plugin as skipped.
 */
#include <build-config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <trit/ternary.h>

#include "ocl.h"

#define SOURCE_MAX_BYTES (4u << 20)

static int load_source(struct ocl_state *st, char *err, size_t errlen)
{
	char why[600];

	if (!st->opt.source) {
		/* ternary.cl, then ops.cl (which uses its helpers) */
		st->source = malloc(ocl_ternary_cl_len + ocl_ops_cl_len + 1);
		if (!st->source)
			return ocl_errf(err, errlen, TRIT_ENOMEM, "out of memory for the kernel source");
		memcpy(st->source, ocl_ternary_cl, ocl_ternary_cl_len);
		memcpy(st->source + ocl_ternary_cl_len, ocl_ops_cl, ocl_ops_cl_len + 1);
		st->source_len = ocl_ternary_cl_len + ocl_ops_cl_len;
		st->source_name = "the built-in ternary.cl and ops.cl";
		return 0;
	}
	if (ocl_read_file(st->opt.source, SOURCE_MAX_BYTES, &st->source, &st->source_len, why,
	                  sizeof why) != 0)
		return ocl_errf(err, errlen, TRIT_ECONFIG, "%s: [plugin.opencl] source: %s",
		                st->opt.source_where, why);
	st->source_name = ocl_pool_printf(&st->pool, "%s (source = ..., %s)", st->opt.source,
	                                  st->opt.source_where);
	return 0;
}

int ocl_init(const struct trit_host *host, void **state, char *err, size_t errlen)
{
	struct ocl_state *st;
	int rc;

	if (!state)
		return ocl_errf(err, errlen, TRIT_EINVAL, "opencl init was called without a state "
		                "pointer");
	*state = NULL;
	if (host && host->abi_version != TRIT_BACKEND_ABI_VERSION)
		return ocl_errf(err, errlen, TRIT_EABI, "the runtime speaks plugin ABI %u but opencl "
		                "was built for ABI %u; rebuild the plugin against this runtime",
		                (unsigned)host->abi_version, (unsigned)TRIT_BACKEND_ABI_VERSION);
	if (!(st = calloc(1, sizeof *st)))
		return ocl_errf(err, errlen, TRIT_ENOMEM, "out of memory for the opencl state");
	if (host) {
		size_t n = host->struct_size < sizeof st->host ? host->struct_size : sizeof st->host;
		memcpy(&st->host, host, n);
		st->host.struct_size = (uint32_t)n;
	}
	if (pthread_mutex_init(&st->buffers_lock, NULL) != 0) {
		free(st);
		return ocl_errf(err, errlen, TRIT_ENOMEM, "cannot create a mutex for the opencl state");
	}
	if ((rc = ocl_options_read(host, &st->opt, &st->pool, err, errlen)) != 0 ||
	    (rc = load_source(st, err, errlen)) != 0) {
		ocl_shutdown(st);
		return rc;
	}
	ocl_cache_stamp(st);
	if (ocl_cache_load(st)) {
		/* described from the probe cache: no OpenCL until a device is used */
		for (uint32_t i = 0; i < st->n_devs; i++)
			st->devs[i].lock_ready = pthread_mutex_init(&st->devs[i].lock, NULL) == 0;
	} else {
		if ((rc = ocl_probe(st, err, errlen)) != 0) {
			ocl_shutdown(st);
			return rc;
		}
		for (uint32_t i = 0; i < st->n_devs; i++)
			st->devs[i].lock_ready = pthread_mutex_init(&st->devs[i].lock, NULL) == 0;
		for (uint32_t i = 0; i < st->n_devs; i++) {
			struct ocl_device *d = &st->devs[i];
			ocl_program_build(st, d);
			d->dev.matmul_types = d->have_kernels ? TRIT_TYPE_BIT(TRIT_TYPE_I2_S) |
			                                                TRIT_TYPE_BIT(TRIT_TYPE_TL1) |
			                                                TRIT_TYPE_BIT(TRIT_TYPE_TL2)
			                                      : 0;
			ocl_device_assemble(st, d);
		}
		if (!st->pool.failed)
			ocl_cache_store(st);
	}
	if (st->pool.failed) {
		ocl_shutdown(st);
		return ocl_errf(err, errlen, TRIT_ENOMEM, "out of memory while probing OpenCL");
	}
	*state = st;
	return 0;
}

void ocl_shutdown(void *state)
{
	struct ocl_state *st = state;
	if (!st)
		return;
	/* buffers the host did not free go first: they hold their contexts */
	ocl_buffers_release(st);
	for (uint32_t i = 0; i < st->n_devs; i++) {
		ocl_device_release(&st->devs[i]);
		if (st->devs[i].lock_ready)
			pthread_mutex_destroy(&st->devs[i].lock);
	}
	free(st->devs);
	free(st->source);
	ocl_pool_free(&st->pool);
	pthread_mutex_destroy(&st->buffers_lock);
	free(st);
}

uint32_t ocl_device_count(void *state)
{
	struct ocl_state *st = state;
	return st ? st->n_devs : 0;
}

const struct trit_device *ocl_device_get(void *state, uint32_t index)
{
	struct ocl_state *st = state;
	return st && index < st->n_devs ? &st->devs[index].dev : NULL;
}

int ocl_device_update(void *state, uint32_t index, char *err, size_t errlen)
{
	struct ocl_state *st = state;
	struct ocl_device *d;
	struct ocl_pool old;

	if (!st || index >= st->n_devs)
		return ocl_errf(err, errlen, TRIT_EINVAL, "the opencl backend has %u device%s; index "
		                "%u does not exist", st ? (unsigned)st->n_devs : 0,
		                st && st->n_devs == 1 ? "" : "s", (unsigned)index);
	d = &st->devs[index];
	/* Free memory needs OpenCL only where the vendor has a query for it. */
	if (d->amd_free && !d->live) {
		int rc = ocl_bring_up(st, d, err, errlen);
		if (rc != 0)
			return rc;
	}
	/* The old strings may go now: the contract keeps them only until the
	 * next device_update. */
	old = d->mem_pool;
	memset(&d->mem_pool, 0, sizeof d->mem_pool);
	ocl_probe_memory(st, d);
	ocl_pool_free(&old);
	if (d->mem_pool.failed)
		return ocl_errf(err, errlen, TRIT_ENOMEM, "out of memory re-measuring %s", d->dev.id);
	ocl_device_assemble(st, d);
	return 0;
}
