/*
 * report.c - render the registry and the configuration as text and JSON.
 *
 * One function per report and format. Values keep their provenance all the
 * way out: an unknown value prints as "unknown" with its reason, never as 0.
 * The JSON schema is documented in docs/json.md; keep the two in step.
 */
#include <build-config.h>

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common.h"
#include "report.h"

static const struct {
	uint64_t bit;
	const char *name;
} cap_names[] = {
	{ TRIT_CAP_SSE42, "sse4.2" }, { TRIT_CAP_AVX, "avx" }, { TRIT_CAP_AVX2, "avx2" },
	{ TRIT_CAP_FMA, "fma" }, { TRIT_CAP_F16C, "f16c" }, { TRIT_CAP_AVX_VNNI, "avx_vnni" },
	{ TRIT_CAP_AVX512F, "avx512f" }, { TRIT_CAP_AVX512BW, "avx512bw" },
	{ TRIT_CAP_AVX512VL, "avx512vl" }, { TRIT_CAP_AVX512DQ, "avx512dq" },
	{ TRIT_CAP_AVX512VNNI, "avx512vnni" }, { TRIT_CAP_AVX512BF16, "avx512bf16" },
	{ TRIT_CAP_AVX512VBMI, "avx512vbmi" }, { TRIT_CAP_NEON, "neon" },
	{ TRIT_CAP_DOTPROD, "dotprod" }, { TRIT_CAP_I8MM, "i8mm" }, { TRIT_CAP_SVE, "sve" },
	{ TRIT_CAP_FP16, "fp16" }, { TRIT_CAP_BF16, "bf16" },
	{ TRIT_CAP_UNIFIED_MEM, "unified_memory" }, { TRIT_CAP_INTEGRATED, "integrated" },
};

const char *trit_report_cap_name(uint64_t bit)
{
	for (size_t i = 0; i < TRIT_ARRAY_LEN(cap_names); i++)
		if (cap_names[i].bit == bit)
			return cap_names[i].name;
	return NULL;
}

static const char *kind_name(uint32_t kind)
{
	switch (kind) {
	case TRIT_DEVICE_CPU: return "cpu";
	case TRIT_DEVICE_GPU: return "gpu";
	default: return "accelerator";
	}
}

static const char *state_name(uint32_t state)
{
	switch (state) {
	case TRIT_VALUE_MEASURED: return "measured";
	case TRIT_VALUE_DERIVED: return "derived";
	case TRIT_VALUE_CONFIGURED: return "configured";
	default: return "unknown";
	}
}

/* ------------------------------------------------------------------------ */
/* Text                                                                      */

/* Format a value for people according to its unit. */
static char *fmt_value(const struct trit_value *v, const char *unit, char *buf, size_t len)
{
	if (v->state == TRIT_VALUE_UNKNOWN)
		snprintf(buf, len, "unknown");
	else if (unit && strcmp(unit, "bytes") == 0)
		trit_format_bytes(v->value, buf, len);
	else if (unit && strcmp(unit, "bytes/s") == 0)
		snprintf(buf, len, "%.1f GB/s", (double)v->value / 1e9);
	else if (unit && strcmp(unit, "hz") == 0)
		snprintf(buf, len, "%.2f GHz", (double)v->value / 1e9);
	else
		snprintf(buf, len, "%llu", (unsigned long long)v->value);
	return buf;
}

static void text_value(FILE *out, const char *label, const struct trit_value *v,
                       const char *unit, int verbose)
{
	char buf[64];

	fprintf(out, "    %-18s %s", label, fmt_value(v, unit, buf, sizeof buf));
	if (v->source && (verbose || v->state == TRIT_VALUE_UNKNOWN))
		fprintf(out, "  (%s%s%s)", v->state == TRIT_VALUE_UNKNOWN ? "" : state_name(v->state),
		        v->state == TRIT_VALUE_UNKNOWN ? "" : ": ", v->source);
	fputc('\n', out);
}

static void text_device(FILE *out, const struct trit_device *d, int verbose)
{
	fprintf(out, "  %s  %s  [%s%s%s]\n", d->id, d->name, kind_name(d->kind),
	        d->vendor ? ", " : "", d->vendor ? d->vendor : "");
	text_value(out, "memory total", &d->mem_total, "bytes", verbose);
	text_value(out, "memory free", &d->mem_free, "bytes", verbose);
	text_value(out, "memory bandwidth", &d->mem_bandwidth, "bytes/s", verbose);
	text_value(out, "compute units", &d->compute_units, "count", verbose);
	text_value(out, "hardware threads", &d->hw_threads, "count", verbose);
	text_value(out, "clock", &d->clock_hz, "hz", verbose);
	if (d->kind != TRIT_DEVICE_CPU || verbose)
		text_value(out, "compute capability", &d->compute_capability, "count", verbose);

	fprintf(out, "    %-18s", "capabilities");
	if (!d->caps)
		fprintf(out, " none");
	for (int b = 0; b < 64; b++) {
		uint64_t bit = UINT64_C(1) << b;
		if (d->caps & bit) {
			const char *n = trit_report_cap_name(bit);
			if (n)
				fprintf(out, " %s", n);
			else
				fprintf(out, " bit%d", b);
		}
	}
	fprintf(out, "\n    %-18s", "matmul kernels");
	if (!d->matmul_types)
		fprintf(out, " none");
	for (uint32_t t = 0; t < 64; t++)
		if (d->matmul_types & TRIT_TYPE_BIT(t)) {
			const struct trit_type_traits *tr = trit_type_traits(t);
			if (tr)
				fprintf(out, " %s", tr->name);
			else
				fprintf(out, " type%u", t);
		}
	fputc('\n', out);
	for (uint32_t i = 0; i < d->n_props; i++) {
		const struct trit_property *p = &d->props[i];
		if (p->text && !p->unit)
			fprintf(out, "    %-18s %s\n", p->key, p->text);
		else
			text_value(out, p->key, &p->value, p->unit, verbose);
	}
}

void trit_report_devices_text(FILE *out, const struct trit_registry *reg, int verbose)
{
	size_t n = trit_registry_plugin_count(reg), skipped = 0;
	const char *dir, *origin;
	int exists;

	fprintf(out, "trit %s, plugin ABI %u\n", trit_version(), trit_backend_abi());
	if (verbose) {
		fprintf(out, "\nPlugin search path:\n");
		for (size_t i = 0; (dir = trit_registry_search_dir(reg, i, &origin, &exists)); i++)
			fprintf(out, "  %s  (%s)%s\n", dir, origin, exists ? "" : "  [does not exist]");
	}
	for (size_t i = 0; i < n; i++) {
		const struct trit_plugin_info *p = trit_registry_plugin(reg, i);
		if (p->status != TRIT_PLUGIN_LOADED) {
			skipped++;
			continue;
		}
		if (strcmp(p->origin, "built-in") == 0)
			fprintf(out, "\n%s %s  built into libtrit\n", p->name,
			        p->version ? p->version : "?");
		else
			fprintf(out, "\n%s %s  %s  (%s, ABI %u)\n", p->name,
			        p->version ? p->version : "?", p->path, p->origin, p->abi_version);
		if (p->description)
			fprintf(out, "  %s\n", p->description);
		if (!p->n_devices)
			fprintf(out, "  no devices found\n");
		for (uint32_t k = 0; k < p->n_devices; k++)
			text_device(out, &p->devices[k], verbose);
	}
	if (skipped) {
		fprintf(out, "\nSkipped plugins:\n");
		for (size_t i = 0; i < n; i++) {
			const struct trit_plugin_info *p = trit_registry_plugin(reg, i);
			if (p->status != TRIT_PLUGIN_LOADED)
				fprintf(out, "  %s  (%s)\n    %s\n", p->path, p->origin, p->reason);
		}
	}
}

/* ------------------------------------------------------------------------ */
/* JSON                                                                      */

/* cJSON_Add* return NULL on allocation failure; collect that in one flag
 * instead of checking each call. */
struct jb {
	int oom;
};

static cJSON *chk(struct jb *jb, cJSON *item)
{
	if (!item)
		jb->oom = 1;
	return item;
}

static void json_str(struct jb *jb, cJSON *obj, const char *key, const char *s)
{
	chk(jb, s ? cJSON_AddStringToObject(obj, key, s) : cJSON_AddNullToObject(obj, key));
}

static void json_value(struct jb *jb, cJSON *obj, const char *key, const struct trit_value *v,
                       const char *unit)
{
	cJSON *o = chk(jb, cJSON_AddObjectToObject(obj, key));

	if (!o)
		return;
	if (v->state == TRIT_VALUE_UNKNOWN)
		chk(jb, cJSON_AddNullToObject(o, "value"));
	else
		chk(jb, cJSON_AddNumberToObject(o, "value", (double)v->value));
	json_str(jb, o, "unit", unit);
	json_str(jb, o, "state", state_name(v->state));
	json_str(jb, o, "source", v->source);
}

static void json_device(struct jb *jb, cJSON *arr, const struct trit_device *d)
{
	cJSON *o = cJSON_CreateObject(), *a, *props;

	if (!chk(jb, o) || !cJSON_AddItemToArray(arr, o))
		return;
	json_str(jb, o, "id", d->id);
	json_str(jb, o, "kind", kind_name(d->kind));
	json_str(jb, o, "name", d->name);
	json_str(jb, o, "vendor", d->vendor);
	json_value(jb, o, "memory_total", &d->mem_total, "bytes");
	json_value(jb, o, "memory_free", &d->mem_free, "bytes");
	json_value(jb, o, "memory_bandwidth", &d->mem_bandwidth, "bytes/s");
	json_value(jb, o, "compute_units", &d->compute_units, "count");
	json_value(jb, o, "hw_threads", &d->hw_threads, "count");
	json_value(jb, o, "clock", &d->clock_hz, "hz");
	json_value(jb, o, "compute_capability", &d->compute_capability, NULL);
	a = chk(jb, cJSON_AddArrayToObject(o, "capabilities"));
	for (int b = 0; a && b < 64; b++) {
		uint64_t bit = UINT64_C(1) << b;
		char other[16];
		const char *n = trit_report_cap_name(bit);
		if (!(d->caps & bit))
			continue;
		if (!n) {
			snprintf(other, sizeof other, "bit%d", b);
			n = other;
		}
		if (!cJSON_AddItemToArray(a, chk(jb, cJSON_CreateString(n))))
			jb->oom = 1;
	}
	a = chk(jb, cJSON_AddArrayToObject(o, "matmul_kernels"));
	for (uint32_t t = 0; a && t < 64; t++)
		if (d->matmul_types & TRIT_TYPE_BIT(t)) {
			const struct trit_type_traits *tr = trit_type_traits(t);
			char other[16];
			snprintf(other, sizeof other, "type%u", t);
			if (!cJSON_AddItemToArray(a, chk(jb, cJSON_CreateString(tr ? tr->name : other))))
				jb->oom = 1;
		}
	props = chk(jb, cJSON_AddObjectToObject(o, "properties"));
	for (uint32_t i = 0; props && i < d->n_props; i++) {
		const struct trit_property *p = &d->props[i];
		if (p->text && !p->unit) {
			cJSON *t = chk(jb, cJSON_AddObjectToObject(props, p->key));
			if (t)
				json_str(jb, t, "text", p->text);
		} else {
			json_value(jb, props, p->key, &p->value, p->unit);
		}
	}
}

char *trit_report_devices_json(const struct trit_registry *reg)
{
	struct jb jb = { 0 };
	cJSON *root = cJSON_CreateObject(), *dirs, *plugins;
	const char *dir, *origin;
	int exists;
	char *s = NULL;

	if (!root)
		return NULL;
	json_str(&jb, root, "trit_version", trit_version());
	chk(&jb, cJSON_AddNumberToObject(root, "abi_version", trit_backend_abi()));
	dirs = chk(&jb, cJSON_AddArrayToObject(root, "search_path"));
	for (size_t i = 0; dirs && (dir = trit_registry_search_dir(reg, i, &origin, &exists)); i++) {
		cJSON *d = chk(&jb, cJSON_CreateObject());
		if (!d || !cJSON_AddItemToArray(dirs, d))
			break;
		json_str(&jb, d, "path", dir);
		json_str(&jb, d, "origin", origin);
		chk(&jb, cJSON_AddBoolToObject(d, "exists", exists));
	}
	plugins = chk(&jb, cJSON_AddArrayToObject(root, "plugins"));
	for (size_t i = 0; plugins && i < trit_registry_plugin_count(reg); i++) {
		const struct trit_plugin_info *p = trit_registry_plugin(reg, i);
		cJSON *o = chk(&jb, cJSON_CreateObject()), *devs;
		if (!o || !cJSON_AddItemToArray(plugins, o))
			break;
		json_str(&jb, o, "name", p->name);
		json_str(&jb, o, "path", p->path);
		json_str(&jb, o, "origin", p->origin);
		json_str(&jb, o, "status", p->status == TRIT_PLUGIN_LOADED ? "loaded" : "skipped");
		json_str(&jb, o, "reason", p->reason);
		json_str(&jb, o, "version", p->version);
		json_str(&jb, o, "description", p->description);
		if (p->abi_version)
			chk(&jb, cJSON_AddNumberToObject(o, "abi_version", p->abi_version));
		else
			chk(&jb, cJSON_AddNullToObject(o, "abi_version"));
		devs = chk(&jb, cJSON_AddArrayToObject(o, "devices"));
		for (uint32_t k = 0; devs && k < p->n_devices; k++)
			json_device(&jb, devs, &p->devices[k]);
	}
	if (!jb.oom)
		s = cJSON_Print(root);
	cJSON_Delete(root);
	return s;
}

/* ------------------------------------------------------------------------ */
/* Configuration                                                             */

static const char *type_name(enum trit_config_type t)
{
	switch (t) {
	case TRIT_CFG_STRING: return "string";
	case TRIT_CFG_PATH: return "path";
	case TRIT_CFG_PATH_LIST: return "path list";
	case TRIT_CFG_ENUM: return "choice";
	case TRIT_CFG_INT: return "integer";
	case TRIT_CFG_SIZE: return "size";
	case TRIT_CFG_FRACTION: return "fraction";
	default: return "boolean";
	}
}

void trit_report_config_text(FILE *out, const struct trit_config *cfg)
{
	size_t n;
	const struct trit_config_key *schema = trit_config_schema(&n);
	const char *section = "";

	fprintf(out, "configuration file: %s\n", cfg->path ? cfg->path : "(none)");
	for (size_t i = 0; i < n; i++) {
		const struct trit_config_key *k = &schema[i];
		if (strcmp(section, k->section) != 0) {
			section = k->section;
			fprintf(out, "\n[%s]\n", section);
		}
		if (strchr(k->key, '*')) {
			/* pattern key: list every entry that matched it */
			size_t plen = strlen(k->key) - 1;
			int any = 0;
			for (size_t j = 0; j < cfg->n_entries; j++) {
				const struct trit_config_entry *e = &cfg->entries[j];
				if (e->schema == k && strncmp(e->key, k->key, plen) == 0) {
					fprintf(out, "%-20s = %-24s ; %s\n", e->key, e->value, e->where);
					any = 1;
				}
			}
			if (!any)
				fprintf(out, "; %-18s   (none set)\n", k->key);
			continue;
		}
		const char *v = trit_config_get(cfg, k->section, k->key);
		const char *where = trit_config_where(cfg, k->section, k->key);
		if (v)
			fprintf(out, "%-20s = %-24s ; %s\n", k->key, v, where ? where : "default");
		else
			fprintf(out, "; %-18s   (unset: %s)\n", k->key, k->doc);
	}
	const char *sec;
	for (size_t i = 0; (sec = trit_config_plugin_section(cfg, i)); i++) {
		const char *key, *where;
		fprintf(out, "\n[plugin.%s]\n", sec);
		for (size_t j = 0; (key = trit_config_plugin_key(cfg, sec, j)); j++) {
			const char *v = trit_config_plugin_get(cfg, sec, key, &where);
			fprintf(out, "%-20s = %-24s ; %s\n", key, v ? v : "", where ? where : "");
		}
	}
}

char *trit_report_config_json(const struct trit_config *cfg)
{
	struct jb jb = { 0 };
	size_t n;
	const struct trit_config_key *schema = trit_config_schema(&n);
	cJSON *root = cJSON_CreateObject(), *keys;
	char *s = NULL;

	if (!root)
		return NULL;
	json_str(&jb, root, "file", cfg->path);
	keys = chk(&jb, cJSON_AddArrayToObject(root, "keys"));
	for (size_t i = 0; keys && i < n; i++) {
		const struct trit_config_key *k = &schema[i];
		cJSON *o = chk(&jb, cJSON_CreateObject());
		if (!o || !cJSON_AddItemToArray(keys, o))
			break;
		json_str(&jb, o, "section", k->section);
		json_str(&jb, o, "key", k->key);
		json_str(&jb, o, "type", type_name(k->type));
		json_str(&jb, o, "env", k->env);
		json_str(&jb, o, "default", k->def);
		json_str(&jb, o, "doc", k->doc);
		if (!strchr(k->key, '*')) {
			json_str(&jb, o, "value", trit_config_get(cfg, k->section, k->key));
			json_str(&jb, o, "where", trit_config_where(cfg, k->section, k->key));
		}
	}
	cJSON *entries = chk(&jb, cJSON_AddArrayToObject(root, "set"));
	for (size_t j = 0; entries && j < cfg->n_entries; j++) {
		const struct trit_config_entry *e = &cfg->entries[j];
		cJSON *o = chk(&jb, cJSON_CreateObject());
		if (!o || !cJSON_AddItemToArray(entries, o))
			break;
		json_str(&jb, o, "section", e->section);
		json_str(&jb, o, "key", e->key);
		json_str(&jb, o, "value", e->value);
		json_str(&jb, o, "where", e->where);
	}
	if (!jb.oom)
		s = cJSON_Print(root);
	cJSON_Delete(root);
	return s;
}
