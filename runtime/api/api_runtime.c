/*
 * api_runtime.c - the runtime handle of <trit/trit.h>: configuration (read
 * once, handed out typed), the registry of devices, the bench cache, and the
 * config and devices reports. It sequences config.c, registry.c, bench.c and
 * report.c and decides nothing they decide; models and plans are
 * api_plan.c's, bench runs api_bench.c's.
 */
#include <build-config.h>

#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/common.h"
#include "core/log.h"
#include "report/report.h"

int trit_runtime_new(struct trit_runtime **out, char *err, size_t errlen)
{
	struct trit_runtime *rt = calloc(1, sizeof *rt);

	*out = NULL;
	if (!rt)
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory creating a runtime");
	trit_config_init(&rt->cfg);
	*out = rt;
	return 0;
}

void trit_runtime_free(struct trit_runtime *rt)
{
	if (!rt)
		return;
	trit_registry_close(rt->reg);
	trit_bench_cache_free(&rt->bench);
	trit_config_free(&rt->cfg);
	free(rt);
}

int trit_runtime_load_config(struct trit_runtime *rt, const char *path, char *err, size_t errlen)
{
	if (!path)
		path = trit_getenv("TRIT_CONFIG");
	if (!path || !*path)
		return 0;
	return trit_config_load_file(&rt->cfg, path, err, errlen);
}

int trit_runtime_apply_env(struct trit_runtime *rt, char *err, size_t errlen)
{
	return trit_config_apply_env(&rt->cfg, err, errlen);
}

int trit_runtime_set(struct trit_runtime *rt, const char *section, const char *key,
                     const char *value, const char *where, char *err, size_t errlen)
{
	return trit_config_set(&rt->cfg, section, key, value, where, err, errlen);
}

int trit_runtime_config(const struct trit_runtime *rt, const char *section, const char *key,
                        struct trit_config_value *out)
{
	return trit_config_typed(&rt->cfg, section, key, out);
}

int trit_runtime_log_level(const struct trit_runtime *rt)
{
	/* the choices error|warn|info|debug|trace are the levels in order */
	return (int)trit_config_int(&rt->cfg, "runtime", "log_level", TRIT_LOG_WARN);
}

int trit_config_schema_key(size_t index, struct trit_config_key_info *out)
{
	size_t n;
	const struct trit_config_key *k = trit_config_schema(&n);

	if (index >= n)
		return TRIT_ERANGE;
	k += index;
	*out = (struct trit_config_key_info){ .section = k->section, .key = k->key, .env = k->env,
	                                      .choices = k->choices, .def = k->def, .doc = k->doc };
	return 0;
}

void trit_runtime_config_report_text(const struct trit_runtime *rt, FILE *out)
{
	trit_report_config_text(out, &rt->cfg);
}

char *trit_runtime_config_report_json(const struct trit_runtime *rt)
{
	return trit_report_config_json(&rt->cfg);
}

/* A described machine that did not load: every problem, as a config error. */
static int described_failed(struct trit_runtime *rt, const char *file, char *err, size_t errlen)
{
	for (size_t i = 0; i < trit_registry_plugin_count(rt->reg); i++) {
		const struct trit_plugin_info *p = trit_registry_plugin(rt->reg, i);
		if (p->status == TRIT_PLUGIN_LOADED)
			continue;
		trit_errf(err, errlen, TRIT_ECONFIG, "--devices %s: the described machine did not "
		          "load:\n%s", file, p->reason ? p->reason : "(no reason given)");
		trit_registry_close(rt->reg);
		rt->reg = NULL;
		return TRIT_ECONFIG;
	}
	return 0;
}

int trit_runtime_open_devices(struct trit_runtime *rt, const struct trit_registry_options *opts,
                              char *err, size_t errlen)
{
	struct trit_registry_options ro = { 0 };
	int rc;

	if (rt->reg)
		return trit_errf(err, errlen, TRIT_EINVAL, "the runtime's devices are already open");
	if (opts)
		ro = *opts;
	ro.config = &rt->cfg;
	if (ro.devices_file && ro.n_plugin_dirs)
		trit_log(TRIT_LOG_WARN, "--plugin-dir is ignored with --devices: no plugins are "
		         "loaded for a described machine");
	if ((rc = trit_registry_open(&ro, &rt->reg, err, errlen)))
		return rc;
	rt->described = ro.devices_file != NULL;
	return rt->described ? described_failed(rt, ro.devices_file, err, errlen) : 0;
}

const struct trit_registry *trit_runtime_registry(const struct trit_runtime *rt)
{
	return rt->reg;
}

int trit_runtime_load_bench_cache(struct trit_runtime *rt, const char *path, char *err,
                                  size_t errlen)
{
	char file[4096];
	int rc;

	trit_bench_cache_free(&rt->bench);
	memset(&rt->bench, 0, sizeof rt->bench);
	rc = trit_bench_cache_path(path, trit_config_get(&rt->cfg, "runtime", "bench_cache"),
	                           file, sizeof file, NULL, rt->bench_error, sizeof rt->bench_error);
	if (!rc)
		rc = trit_bench_cache_load(&rt->bench, file, rt->bench_error, sizeof rt->bench_error);
	rt->bench_state = rc ? API_BENCH_FAILED : API_BENCH_READ;
	if (rc)
		trit_errf(err, errlen, rc, "%s", rt->bench_error);
	return rc;
}

const struct trit_bench_cache *trit_api_bench(const struct trit_runtime *rt, const char **why)
{
	if (why)
		*why = rt->bench_state == API_BENCH_FAILED ? rt->bench_error : NULL;
	return rt->bench_state == API_BENCH_UNREAD ? NULL : &rt->bench;
}

void trit_devices_report_text(const struct trit_runtime *rt, FILE *out, int verbose)
{
	const char *why;
	const struct trit_bench_cache *b = trit_api_bench(rt, &why);

	if (rt->reg)
		trit_report_devices_text(out, rt->reg, verbose, b, why);
}

char *trit_devices_report_json(const struct trit_runtime *rt)
{
	const char *why;
	const struct trit_bench_cache *b = trit_api_bench(rt, &why);

	return rt->reg ? trit_report_devices_json(rt->reg, b, why) : NULL;
}
