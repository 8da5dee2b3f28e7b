/*
 * options.c - the [plugin.cpu_neon] configuration section, read through the
 * host table and validated here: proc_root, sys_root, disable,
 * bandwidth_probe, bandwidth_bytes. Unknown keys and bad values are errors
 * that name where the key was set. What the options change is decided in
 * backend.c.
 */
#include <build-config.h>

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "neon.h"

#define SECTION "[plugin.cpu_neon]"
#define MAX_KEYS 1024               /* guards against a host that never says NULL */
#define MIN_BANDWIDTH_BYTES (UINT64_C(1) << 20)

static const char *const known_keys[] = {
	"proc_root", "sys_root", "disable", "bandwidth_probe", "bandwidth_bytes"
};

static const char *where(const struct trit_host *host, const char *key)
{
	const char *w = NULL;
	if (TRIT_HOST_HAS(host, config_where) && host->config_where)
		w = host->config_where(host->ctx, key);
	return w ? w : "the configuration";
}

static int read_dir(const struct trit_host *host, const char *key, const char *value,
                    const char *holds, const char **out, struct cpu_common_pool *pool,
                    char *err, size_t errlen)
{
	struct stat st;

	if (value[0] != '/' || stat(value, &st) != 0 || !S_ISDIR(st.st_mode))
		return cpu_common_errf(err, errlen, TRIT_ECONFIG,
		                       "%s: " SECTION " %s = '%s' is not an existing directory "
		                       "given by an absolute path; give the directory that holds "
		                       "%s",
		                       where(host, key), key, value, holds);
	*out = cpu_common_pool_printf(pool, "%s", value);
	return 0;
}

static int read_disable(const struct trit_host *host, const char *value,
                        struct cpu_neon_options *o, struct cpu_common_pool *pool,
                        char *err, size_t errlen)
{
	char name[32];
	const char *p = value;

	o->disable = 0;
	while (*p) {
		size_t len;
		uint64_t bits;
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		len = strcspn(p, ", \t");
		if (len == 0)
			break;
		bits = 0;
		if (len < sizeof name) {
			memcpy(name, p, len);
			name[len] = '\0';
			bits = cpu_neon_caps_by_name(name);
		}
		if (!bits)
			return cpu_common_errf(err, errlen, TRIT_ECONFIG,
			                       "%s: " SECTION
			                       " disable = '%s': '%.*s' is not a feature name; "
			                       "give a comma-separated list of %s",
			                       where(host, "disable"), value,
			                       (int)(len > 32 ? 32 : len), p, cpu_neon_caps_names());
		o->disable |= bits;
		p += len;
	}
	o->disable_text = cpu_common_pool_printf(pool, "%s", value);
	o->disable_where = cpu_common_pool_printf(pool, "%s", where(host, "disable"));
	return 0;
}

int cpu_neon_options_read(const struct trit_host *host, struct cpu_neon_options *o,
                          struct cpu_common_pool *pool, char *err, size_t errlen)
{
	const char *key, *value;
	uint32_t i;
	int rc;

	memset(o, 0, sizeof *o);
	o->proc_root = "/proc";
	o->sys_root = "/sys";
	o->bandwidth_probe = 1;
	if (!host || !TRIT_HOST_HAS(host, config_key) || !host->config_get || !host->config_key)
		return 0;

	for (i = 0; i < MAX_KEYS && (key = host->config_key(host->ctx, i)) != NULL; i++) {
		size_t k;
		for (k = 0; k < sizeof known_keys / sizeof known_keys[0]; k++)
			if (!strcmp(key, known_keys[k]))
				break;
		if (k == sizeof known_keys / sizeof known_keys[0])
			return cpu_common_errf(err, errlen, TRIT_ECONFIG,
			                       "%s: " SECTION
			                       " has no key '%s'; the keys are proc_root, sys_root, "
			                       "disable, bandwidth_probe and bandwidth_bytes",
			                       where(host, key), key);
	}

	if ((value = host->config_get(host->ctx, "proc_root")) != NULL &&
	    (rc = read_dir(host, "proc_root", value, "cpuinfo, meminfo and self/ (default /proc)",
	                   &o->proc_root, pool, err, errlen)) != 0)
		return rc;
	if ((value = host->config_get(host->ctx, "sys_root")) != NULL &&
	    (rc = read_dir(host, "sys_root", value, "devices/system/cpu (default /sys)",
	                   &o->sys_root, pool, err, errlen)) != 0)
		return rc;
	if ((value = host->config_get(host->ctx, "disable")) != NULL &&
	    (rc = read_disable(host, value, o, pool, err, errlen)) != 0)
		return rc;
	if ((value = host->config_get(host->ctx, "bandwidth_probe")) != NULL) {
		if (cpu_common_parse_bool(value, &o->bandwidth_probe) != 0)
			return cpu_common_errf(err, errlen, TRIT_ECONFIG,
			                       "%s: " SECTION
			                       " bandwidth_probe = '%s' is not yes or no (also "
			                       "accepted: true/false, on/off, 1/0)",
			                       where(host, "bandwidth_probe"), value);
		o->bandwidth_probe_text = cpu_common_pool_printf(pool, "%s", value);
		o->bandwidth_probe_where =
		        cpu_common_pool_printf(pool, "%s", where(host, "bandwidth_probe"));
	}
	if ((value = host->config_get(host->ctx, "bandwidth_bytes")) != NULL) {
		if (cpu_common_parse_size(value, &o->bandwidth_bytes) != 0 ||
		    o->bandwidth_bytes < MIN_BANDWIDTH_BYTES)
			return cpu_common_errf(err, errlen, TRIT_ECONFIG,
			                       "%s: " SECTION
			                       " bandwidth_bytes = '%s' is not a size of at least "
			                       "1 MiB; give a size such as 268435456, 256MiB or 1GiB",
			                       where(host, "bandwidth_bytes"), value);
		o->bandwidth_bytes_where =
		        cpu_common_pool_printf(pool, "%s", where(host, "bandwidth_bytes"));
	}
	return pool->failed ? cpu_common_errf(err, errlen, TRIT_ENOMEM,
	                                      "out of memory reading " SECTION)
	                    : 0;
}
