/*
 * options.c - the [plugin.cpu_avx2] configuration section, read through the
 * host table and validated here: proc_root, disable, bandwidth_probe,
 * bandwidth_bytes, isa, choose, choose_bytes, spin_us, pin. Unknown keys and
 * bad values are errors that name where the key was set. What the options change is decided in backend.c.
 */
#include <build-config.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "kernels.h"
#include "probe.h"

#define SECTION "[plugin.cpu_avx2]"
#define MAX_KEYS 1024               /* guards against a host that never says NULL */
#define MIN_BANDWIDTH_BYTES (UINT64_C(1) << 20)
#define MIN_CHOOSE_BYTES (UINT64_C(16) << 20) /* 2 copies of the largest shape */

static const char *const known_keys[] = {
	"proc_root", "disable", "bandwidth_probe", "bandwidth_bytes", "isa", "choose", "choose_bytes",
	"spin_us", "pin"
};

static const char *where(const struct trit_host *host, const char *key)
{
	const char *w = NULL;
	if (TRIT_HOST_HAS(host, config_where) && host->config_where)
		w = host->config_where(host->ctx, key);
	return w ? w : "the configuration";
}

static int read_proc_root(const struct trit_host *host, const char *value,
                          struct cpu_avx2_options *o, struct cpu_avx2_pool *pool,
                          char *err, size_t errlen)
{
	struct stat st;

	if (value[0] != '/' || stat(value, &st) != 0 || !S_ISDIR(st.st_mode))
		return cpu_avx2_errf(
		        err, errlen, TRIT_ECONFIG,
		        "%s: " SECTION " proc_root = '%s' is not an existing directory given "
		        "by an absolute path; give the directory that holds meminfo and self/ "
		        "(default /proc)",
		        where(host, "proc_root"), value);
	o->proc_root = cpu_avx2_pool_printf(pool, "%s", value);
	return 0;
}

static int read_disable(const struct trit_host *host, const char *value,
                        struct cpu_avx2_options *o, struct cpu_avx2_pool *pool,
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
			bits = cpu_avx2_caps_by_name(name);
		}
		if (!bits)
			return cpu_avx2_errf(err, errlen, TRIT_ECONFIG,
			                     "%s: " SECTION
			                     " disable = '%s': '%.*s' is not a feature name; "
			                     "give a comma-separated list of %s",
			                     where(host, "disable"), value,
			                     (int)(len > 32 ? 32 : len), p, cpu_avx2_caps_names());
		o->disable |= bits;
		p += len;
	}
	o->disable_text = cpu_avx2_pool_printf(pool, "%s", value);
	o->disable_where = cpu_avx2_pool_printf(pool, "%s", where(host, "disable"));
	return 0;
}

int cpu_avx2_options_read(const struct trit_host *host, struct cpu_avx2_options *o,
                          struct cpu_avx2_pool *pool, char *err, size_t errlen)
{
	const char *key, *value;
	uint32_t i;
	int rc;

	memset(o, 0, sizeof *o);
	o->proc_root = "/proc";
	o->bandwidth_probe = 1;
	o->spin_us = CPU_AVX2_SPIN_US;
	o->pin = 1;
	if (!host || !TRIT_HOST_HAS(host, config_key) || !host->config_get || !host->config_key)
		return 0;

	for (i = 0; i < MAX_KEYS && (key = host->config_key(host->ctx, i)) != NULL; i++) {
		size_t k;
		for (k = 0; k < sizeof known_keys / sizeof known_keys[0]; k++)
			if (!strcmp(key, known_keys[k]))
				break;
		if (k == sizeof known_keys / sizeof known_keys[0])
			return cpu_avx2_errf(err, errlen, TRIT_ECONFIG,
			                     "%s: " SECTION
			                     " has no key '%s'; the keys are proc_root, disable, "
			                     "bandwidth_probe, bandwidth_bytes, isa, choose, choose_bytes, "
			                     "spin_us and pin",
			                     where(host, key), key);
	}

	if ((value = host->config_get(host->ctx, "proc_root")) != NULL &&
	    (rc = read_proc_root(host, value, o, pool, err, errlen)) != 0)
		return rc;
	if ((value = host->config_get(host->ctx, "disable")) != NULL &&
	    (rc = read_disable(host, value, o, pool, err, errlen)) != 0)
		return rc;
	if ((value = host->config_get(host->ctx, "bandwidth_probe")) != NULL) {
		if (cpu_common_parse_bool(value, &o->bandwidth_probe) != 0)
			return cpu_avx2_errf(err, errlen, TRIT_ECONFIG,
			                     "%s: " SECTION
			                     " bandwidth_probe = '%s' is not yes or no (also "
			                     "accepted: true/false, on/off, 1/0)",
			                     where(host, "bandwidth_probe"), value);
		o->bandwidth_probe_text = cpu_avx2_pool_printf(pool, "%s", value);
		o->bandwidth_probe_where = cpu_avx2_pool_printf(pool, "%s",
		                                                where(host, "bandwidth_probe"));
	}
	if ((value = host->config_get(host->ctx, "bandwidth_bytes")) != NULL) {
		if (cpu_avx2_parse_size(value, &o->bandwidth_bytes) != 0 ||
		    o->bandwidth_bytes < MIN_BANDWIDTH_BYTES)
			return cpu_avx2_errf(err, errlen, TRIT_ECONFIG,
			                     "%s: " SECTION
			                     " bandwidth_bytes = '%s' is not a size of at least "
			                     "1 MiB; give a size such as 268435456, 256MiB or 1GiB",
			                     where(host, "bandwidth_bytes"), value);
		o->bandwidth_bytes_where = cpu_avx2_pool_printf(pool, "%s",
		                                                where(host, "bandwidth_bytes"));
	}
	if ((value = host->config_get(host->ctx, "isa")) != NULL) {
		if (!strcasecmp(value, "auto"))
			o->isa = CPU_AVX2_ISA_AUTO;
		else if (!strcasecmp(value, "avx2"))
			o->isa = CPU_AVX2_ISA_AVX2;
		else if (!strcasecmp(value, "avx512"))
			o->isa = CPU_AVX2_ISA_AVX512;
		else
			return cpu_avx2_errf(err, errlen, TRIT_ECONFIG,
			                     "%s: " SECTION " isa = '%s' is not auto, avx2 or avx512",
			                     where(host, "isa"), value);
		o->isa_text = cpu_avx2_pool_printf(pool, "%s", value);
		o->isa_where = cpu_avx2_pool_printf(pool, "%s", where(host, "isa"));
	}
	if ((value = host->config_get(host->ctx, "choose")) != NULL) {
		if (!strcasecmp(value, "measure"))
			o->choose = CPU_AVX2_CHOOSE_MEASURE;
		else if (!strcasecmp(value, "widest"))
			o->choose = CPU_AVX2_CHOOSE_WIDEST;
		else
			return cpu_avx2_errf(err, errlen, TRIT_ECONFIG,
			                     "%s: " SECTION " choose = '%s' is not measure or widest",
			                     where(host, "choose"), value);
		o->choose_text = cpu_avx2_pool_printf(pool, "%s", value);
		o->choose_where = cpu_avx2_pool_printf(pool, "%s", where(host, "choose"));
	}
	if ((value = host->config_get(host->ctx, "choose_bytes")) != NULL) {
		if (cpu_avx2_parse_size(value, &o->choose_bytes) != 0 ||
		    o->choose_bytes < MIN_CHOOSE_BYTES)
			return cpu_avx2_errf(err, errlen, TRIT_ECONFIG,
			                     "%s: " SECTION
			                     " choose_bytes = '%s' is not a size of at least "
			                     "16 MiB; give a size such as 268435456 or 256MiB",
			                     where(host, "choose_bytes"), value);
		o->choose_bytes_where = cpu_avx2_pool_printf(pool, "%s",
		                                             where(host, "choose_bytes"));
	}
	if ((value = host->config_get(host->ctx, "spin_us")) != NULL) {
		uint64_t us;
		if (cpu_common_parse_u64(value, &us) != 0 || us > CPU_AVX2_SPIN_US_MAX)
			return cpu_avx2_errf(err, errlen, TRIT_ECONFIG,
			                     "%s: " SECTION " spin_us = '%s' is not a whole number "
			                     "of microseconds from 0 to %u (how long idle workers "
			                     "poll before they sleep; default %u)",
			                     where(host, "spin_us"), value, CPU_AVX2_SPIN_US_MAX,
			                     CPU_AVX2_SPIN_US);
		o->spin_us = (unsigned)us;
	}
	if ((value = host->config_get(host->ctx, "pin")) != NULL &&
	    cpu_common_parse_bool(value, &o->pin) != 0)
		return cpu_avx2_errf(err, errlen, TRIT_ECONFIG,
		                     "%s: " SECTION " pin = '%s' is not yes or no (also accepted: "
		                     "true/false, on/off, 1/0)", where(host, "pin"), value);
	return pool->failed
	               ? cpu_avx2_errf(err, errlen, TRIT_ENOMEM, "out of memory reading " SECTION)
	               : 0;
}
