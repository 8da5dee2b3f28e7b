/*
 * options.c - the [plugin.opencl] configuration section, read through the
 * host table and validated here. Unknown keys and bad values are errors that
 * name where the key was set. What the options change is decided in
 * probe.c (device_type) and program.c (the rest).
 *
 *   device_type   = all | gpu | cpu | accelerator   which devices to use (all)
 *   kernels       = yes | no     build the ternary kernels (yes)
 *   cache         = yes | no     keep built programs on disk (yes)
 *   cache_dir     = /abs/path    where (default $XDG_CACHE_HOME/trit/opencl,
 *                                else $HOME/.cache/trit/opencl)
 *   source        = /abs/file.cl build this source instead of the built-in
 *   build_options = text         appended to the compiler options
 *   divide        = auto | option | emulate   how the kernels get correctly
 *                  rounded float division: -cl-fp32-correctly-rounded-divide-sqrt
 *                  (option), an exact fma correction (emulate), or the
 *                  option when the device supports it (auto)
 *   memory        = SIZE         a memory budget per device ("64MiB"): the
 *                  device reports it as its total and it less this plugin's
 *                  live buffers as free, and allocations beyond it fail
 *                  (default: none, the driver's figures)
 */
#include <build-config.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ocl.h"

#define SECTION "[plugin.opencl]"
#define MAX_KEYS 1024

static const char *const known_keys[] = {
	"device_type", "kernels", "cache", "cache_dir", "source", "build_options", "divide",
	"memory"
};

static const char *where(const struct trit_host *host, const char *key)
{
	const char *w = NULL;
	if (TRIT_HOST_HAS(host, config_where) && host->config_where)
		w = host->config_where(host->ctx, key);
	return w ? w : "the configuration";
}

static int parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = 1;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static int bool_key(const struct trit_host *host, const char *key, int *out, const char **w,
                    struct ocl_pool *pool, char *err, size_t errlen)
{
	const char *v = host->config_get(host->ctx, key);
	if (!v)
		return 0;
	if (parse_bool(v, out) != 0)
		return ocl_errf(err, errlen, TRIT_ECONFIG,
		                "%s: " SECTION " %s = '%s' is not yes or no (also accepted: "
		                "true/false, on/off, 1/0)", where(host, key), key, v);
	*w = ocl_pool_printf(pool, "%s = %s (%s)", key, v, where(host, key));
	return 0;
}

static int path_key(const struct trit_host *host, const char *key, const char **out,
                    const char **w, struct ocl_pool *pool, char *err, size_t errlen)
{
	const char *v = host->config_get(host->ctx, key);
	if (!v)
		return 0;
	if (v[0] != '/')
		return ocl_errf(err, errlen, TRIT_ECONFIG,
		                "%s: " SECTION " %s = '%s' is not an absolute path; give one "
		                "that starts with /", where(host, key), key, v);
	*out = ocl_pool_printf(pool, "%s", v);
	*w = ocl_pool_printf(pool, "%s", where(host, key));
	return 0;
}

int ocl_options_read(const struct trit_host *host, struct ocl_options *o, struct ocl_pool *pool,
                     char *err, size_t errlen)
{
	const char *key, *v;
	uint32_t i;
	int rc;

	memset(o, 0, sizeof *o);
	o->device_type = CL_DEVICE_TYPE_ALL;
	o->kernels = 1;
	o->cache = 1;
	o->divide = OCL_DIVIDE_AUTO;
	if (!host || !TRIT_HOST_HAS(host, config_key) || !host->config_get || !host->config_key)
		return 0;

	for (i = 0; i < MAX_KEYS && (key = host->config_key(host->ctx, i)) != NULL; i++) {
		size_t k;
		for (k = 0; k < sizeof known_keys / sizeof known_keys[0]; k++)
			if (!strcmp(key, known_keys[k]))
				break;
		if (k == sizeof known_keys / sizeof known_keys[0])
			return ocl_errf(err, errlen, TRIT_ECONFIG,
			                "%s: " SECTION " has no key '%s'; the keys are "
			                "device_type, kernels, cache, cache_dir, source, "
			                "build_options, divide and memory", where(host, key), key);
	}

	if ((v = host->config_get(host->ctx, "device_type")) != NULL) {
		static const struct {
			const char *name;
			cl_device_type type;
		} types[] = {
			{ "all", CL_DEVICE_TYPE_ALL },
			{ "gpu", CL_DEVICE_TYPE_GPU },
			{ "cpu", CL_DEVICE_TYPE_CPU },
			{ "accelerator", CL_DEVICE_TYPE_ACCELERATOR },
		};
		size_t k;
		for (k = 0; k < sizeof types / sizeof types[0]; k++)
			if (!strcasecmp(v, types[k].name))
				break;
		if (k == sizeof types / sizeof types[0])
			return ocl_errf(err, errlen, TRIT_ECONFIG,
			                "%s: " SECTION " device_type = '%s' is not one of all, "
			                "gpu, cpu, accelerator", where(host, "device_type"), v);
		o->device_type = types[k].type;
		o->device_type_text = ocl_pool_printf(pool, "%s", types[k].name);
		o->device_type_where = ocl_pool_printf(pool, "%s", where(host, "device_type"));
	}
	if ((rc = bool_key(host, "kernels", &o->kernels, &o->kernels_where, pool, err, errlen)) ||
	    (rc = bool_key(host, "cache", &o->cache, &o->cache_where, pool, err, errlen)) ||
	    (rc = path_key(host, "source", &o->source, &o->source_where, pool, err, errlen)))
		return rc;
	if ((v = host->config_get(host->ctx, "cache_dir")) != NULL) {
		const char *w = NULL;
		if ((rc = path_key(host, "cache_dir", &o->cache_dir, &w, pool, err, errlen)))
			return rc;
		if (!o->cache_where)
			o->cache_where = ocl_pool_printf(pool, "cache_dir = %s (%s)", v, w);
	}
	if ((v = host->config_get(host->ctx, "build_options")) != NULL) {
		o->build_options = ocl_pool_printf(pool, "%s", v);
		o->build_options_where = ocl_pool_printf(pool, "%s", where(host, "build_options"));
	}
	if ((v = host->config_get(host->ctx, "divide")) != NULL) {
		if (!strcasecmp(v, "auto"))
			o->divide = OCL_DIVIDE_AUTO;
		else if (!strcasecmp(v, "option"))
			o->divide = OCL_DIVIDE_OPTION;
		else if (!strcasecmp(v, "emulate"))
			o->divide = OCL_DIVIDE_EMULATE;
		else
			return ocl_errf(err, errlen, TRIT_ECONFIG,
			                "%s: " SECTION " divide = '%s' is not one of auto, option, "
			                "emulate", where(host, "divide"), v);
		o->divide_where = ocl_pool_printf(pool, "divide = %s (%s)", v, where(host, "divide"));
	}
	if ((v = host->config_get(host->ctx, "memory")) != NULL) {
		if (cpu_common_parse_size(v, &o->memory) != 0 || o->memory == 0)
			return ocl_errf(err, errlen, TRIT_ECONFIG,
			                "%s: " SECTION " memory = '%s' is not a size above 0; give "
			                "one like 64MiB (binary) or 64MB (decimal)",
			                where(host, "memory"), v);
		o->memory_text = ocl_pool_printf(pool, "%s", v);
		o->memory_where = ocl_pool_printf(pool, "%s", where(host, "memory"));
	}
	return pool->failed ? ocl_errf(err, errlen, TRIT_ENOMEM, "out of memory reading " SECTION)
	                    : 0;
}
