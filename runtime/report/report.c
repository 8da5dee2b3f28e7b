/*
 * report.c - render the registry, the configuration and bench results as
 * text and JSON. (Models are model_report.c's, plans plan_report.c's.)
 *
 * One function per report and format. Values keep their provenance all the
 * way out: an unknown value prints as "unknown" with its reason, never as 0.
 * The JSON schema is documented in docs/json.md; keep the two in step.
 */
#include <build-config.h>

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/caps.h"
#include "core/common.h"
#include "core/textsafe.h"
#include "report/json_build.h"
#include "report/report.h"

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
	else if (unit && strcmp(unit, "ops/s") == 0)
		snprintf(buf, len, "%.1f GOP/s", (double)v->value / 1e9);
	else if (unit && strcmp(unit, "cc") == 0) /* major * 10 + minor, shown as NVIDIA writes it */
		snprintf(buf, len, "%llu.%llu", (unsigned long long)v->value / 10,
		         (unsigned long long)v->value % 10);
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

static char *fmt_sig(double v, char *buf, size_t len);

/* The cached bench results of device d of backend `backend`. */
static void text_device_bench(FILE *out, const char *backend, const struct trit_device *d,
                              const struct trit_bench_cache *bench)
{
	const char *isa = trit_bench_isa(d);

	for (size_t i = 0; bench && i < bench->n; i++) {
		const struct trit_bench_result *r = &bench->results[i];
		char label[40], rd[64] = "";
		if (strcmp(r->backend, backend) || strcmp(r->device_id, d->id) ||
		    strcmp(r->device_name, d->name ? d->name : ""))
			continue;
		char w[16], g[16], x[16], y[16];
		snprintf(label, sizeof label, "bench %s", r->kernel);
		if (r->read_bps > 0)
			snprintf(rd, sizeof rd, ", %s x the streaming read (%s GB/s)",
			         fmt_sig(r->weight_bps / r->read_bps, x, sizeof x),
			         fmt_sig(r->read_bps / 1e9, y, sizeof y));
		fprintf(out, "    %-18s %s GB/s of weights, %s GOP/s%s; %u token%s, %u shape%s, "
		        "%u thread%s, kernel.isa %s, %s run, %s\n", label,
		        fmt_sig(r->weight_bps / 1e9, w, sizeof w),
		        fmt_sig(r->gops, g, sizeof g), rd,
		        r->tokens, r->tokens == 1 ? "" : "s", r->n_shapes, r->n_shapes == 1 ? "" : "s",
		        r->threads, r->threads == 1 ? "" : "s", r->isa[0] ? r->isa : "none",
		        r->full ? "--full" : "quick", r->measured_at);
		if (strcmp(r->isa, isa ? isa : ""))
			fprintf(out, "    %-18s (measured with kernel.isa %s; %s now reports %s: not used "
			        "by trit plan)\n", "", r->isa[0] ? r->isa : "none", d->id, isa ? isa : "none");
		else if (!r->full && trit_bench_cache_full_of(bench, r))
			fprintf(out, "    %-18s (a quick run: trit plan uses the --full result)\n", "");
	}
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
		text_value(out, "compute capability", &d->compute_capability, "cc", verbose);

	fprintf(out, "    %-18s", "capabilities");
	if (!d->caps)
		fprintf(out, " none");
	for (int b = 0; b < 64; b++) {
		uint64_t bit = UINT64_C(1) << b;
		if (d->caps & bit) {
			const char *n = trit_cap_name(bit);
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
		if (p->text && !p->unit) {
			/* a text property may say where it came from in value.source */
			fprintf(out, "    %-18s %s", p->key, p->text);
			if (verbose && p->value.source)
				fprintf(out, "  (%s: %s)", state_name(p->value.state), p->value.source);
			fputc('\n', out);
		} else
			text_value(out, p->key, &p->value, p->unit, verbose);
	}
}

/* "42 s", "12 min", "3 h", "9 days": a cached measurement's age. */
static const char *fmt_age(uint64_t s, char *buf, size_t len)
{
	if (s < 120)
		snprintf(buf, len, "%llu s", (unsigned long long)s);
	else if (s < 7200)
		snprintf(buf, len, "%llu min", (unsigned long long)(s / 60));
	else if (s < 172800)
		snprintf(buf, len, "%llu h", (unsigned long long)(s / 3600));
	else
		snprintf(buf, len, "%llu days", (unsigned long long)(s / 86400));
	return buf;
}

/* Which of plugin i's measurements came from the probe cache, and when. */
static void text_cached(FILE *out, const struct trit_registry *reg, size_t i)
{
	size_t n;
	const struct trit_cached_measurement *c = trit_registry_cached(reg, i, &n);
	char age[32];

	for (size_t k = 0; k < n; k++)
		if (c[k].from_cache)
			fprintf(out, "  cached           %s, measured %s ago (probe cache)\n", c[k].key,
			        fmt_age(c[k].age_s, age, sizeof age));
		else
			fprintf(out, "  cached           %s, measured now and stored\n", c[k].key);
}

static void text_probe_cache(FILE *out, const struct trit_registry *reg)
{
	const char *why, *path = trit_registry_probe_cache(reg, &why);

	if (path)
		fprintf(out, "\nProbe cache: %s (`trit devices --remeasure` measures everything "
		        "again)\n", path);
	else
		fprintf(out, "\nProbe cache: none: %s\n", why);
}

void trit_report_devices_text(FILE *out, const struct trit_registry *reg, int verbose,
                              const struct trit_bench_cache *bench, const char *bench_error)
{
	size_t n = trit_registry_plugin_count(reg), skipped = 0;
	const char *dir, *origin;
	int exists;

	fprintf(out, "trit %s, plugin ABI %u\n", trit_version(), trit_backend_abi());
	if (verbose) {
		fprintf(out, "\nPlugin search path:\n");
		for (size_t i = 0; (dir = trit_registry_search_dir(reg, i, &origin, &exists)); i++)
			fprintf(out, "  %s  (%s)%s\n", dir, origin, exists ? "" : "  [does not exist]");
		if (!trit_registry_search_dir(reg, 0, NULL, NULL))
			fprintf(out, "  none\n");
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
		for (uint32_t k = 0; k < p->n_devices; k++) {
			text_device(out, &p->devices[k], verbose);
			text_device_bench(out, p->name, &p->devices[k], bench);
		}
		text_cached(out, reg, i);
	}
	text_probe_cache(out, reg);
	if (bench_error)
		fprintf(out, "\nBench results: none shown: %s\n", bench_error);
	else if (bench && bench->n)
		fprintf(out, "\nThe bench lines are `trit bench` results, read from %s\n", bench->path);
	else if (bench && verbose)
		fprintf(out, "\nBench results: none in %s; `trit bench` measures them\n", bench->path);
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

static void json_device_bench(struct jb *jb, cJSON *o, const char *backend,
                              const struct trit_device *d, const struct trit_bench_cache *bench)
{
	cJSON *a = chk(jb, cJSON_AddArrayToObject(o, "bench"));

	for (size_t i = 0; a && bench && i < bench->n; i++) {
		const struct trit_bench_result *r = &bench->results[i];
		cJSON *x;
		if (strcmp(r->backend, backend) || strcmp(r->device_id, d->id) ||
		    strcmp(r->device_name, d->name ? d->name : ""))
			continue;
		x = trit_bench_result_json(r);
		if (!x || !cJSON_AddItemToArray(a, x)) {
			cJSON_Delete(x);
			jb->oom = 1;
		}
	}
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
		const char *n = trit_cap_name(bit);
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
			if (t && p->value.source) {
				json_str(jb, t, "state", state_name(p->value.state));
				json_str(jb, t, "source", p->value.source);
			}
		} else {
			json_value(jb, props, p->key, &p->value, p->unit);
		}
	}
}

/* "cached": [{"key", "from_cache", "age_s"}] of plugin i. */
static void json_cached(struct jb *jb, cJSON *o, const struct trit_registry *reg, size_t i)
{
	size_t n;
	const struct trit_cached_measurement *c = trit_registry_cached(reg, i, &n);
	cJSON *arr = chk(jb, cJSON_AddArrayToObject(o, "cached")), *e;

	for (size_t k = 0; arr && k < n; k++) {
		if (!(e = chk(jb, cJSON_CreateObject())) || !cJSON_AddItemToArray(arr, e)) {
			cJSON_Delete(e);
			jb->oom = 1;
			return;
		}
		json_str(jb, e, "key", c[k].key);
		chk(jb, cJSON_AddBoolToObject(e, "from_cache", c[k].from_cache));
		chk(jb, cJSON_AddNumberToObject(e, "age_s", (double)c[k].age_s));
	}
}

char *trit_report_devices_json(const struct trit_registry *reg,
                               const struct trit_bench_cache *bench, const char *bench_error)
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
		json_cached(&jb, o, reg, i);
		devs = chk(&jb, cJSON_AddArrayToObject(o, "devices"));
		for (uint32_t k = 0; devs && k < p->n_devices; k++) {
			json_device(&jb, devs, &p->devices[k]);
			cJSON *last = cJSON_GetArrayItem(devs, (int)k);
			if (last)
				json_device_bench(&jb, last, p->name, &p->devices[k], bench);
		}
	}
	cJSON *pc = chk(&jb, cJSON_AddObjectToObject(root, "probe_cache"));
	if (pc) {
		const char *why, *path = trit_registry_probe_cache(reg, &why);
		json_str(&jb, pc, "path", path);
		json_str(&jb, pc, "off_reason", why);
	}
	cJSON *bc = chk(&jb, cJSON_AddObjectToObject(root, "bench_cache"));
	if (bc) {
		json_str(&jb, bc, "path", bench ? bench->path : NULL);
		json_str(&jb, bc, "error", bench_error);
	}
	if (!jb.oom)
		s = trit_json_make_safe(cJSON_Print(root)); /* core/textsafe.h */
	cJSON_Delete(root);
	return s;
}

/* ------------------------------------------------------------------------ */
/* Benchmarks                                                                */

/* Seconds for people: "812.3 us", "12.40 ms", "2.310 s". */
static char *fmt_seconds(double s, char *buf, size_t len)
{
	if (s < 1e-3)
		snprintf(buf, len, "%.1f us", s * 1e6);
	else if (s < 1)
		snprintf(buf, len, "%.2f ms", s * 1e3);
	else
		snprintf(buf, len, "%.3f s", s);
	return buf;
}

/* Three significant digits ("12.3", "0.0312"); "-" when unknown (< 0). */
static char *fmt_sig(double v, char *buf, size_t len)
{
	if (v < 0)
		snprintf(buf, len, "-");
	else if (v >= 100)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.3g", v);
	return buf;
}

/* GOP/s as a percentage of r's peak ("12.3%"), "-" when unknown. */
static char *fmt_of_peak(const struct trit_bench_result *r, double gops, char *buf, size_t len)
{
	double peak = trit_bench_peak_ops(r);
	char v[16];

	if (peak > 0 && gops >= 0)
		snprintf(buf, len, "%s%%", fmt_sig(gops * 1e9 / peak * 100, v, sizeof v));
	else
		snprintf(buf, len, "-");
	return buf;
}

/* The peak r's GOP/s are compared with (CPU devices only). */
static void text_bench_peak(FILE *out, const struct trit_bench_result *r)
{
	char a[16], b[16];

	if (r->kind != TRIT_DEVICE_CPU)
		return;
	if (trit_bench_peak_ops(r) > 0)
		fprintf(out, "  peak int8 (%s): %s GOP/s per core x %u thread%s = %s GOP/s, an upper "
		        "bound (%s)\n", r->kernel, fmt_sig(r->peak_core_ops / 1e9, a, sizeof a),
		        r->threads, r->threads == 1 ? "" : "s",
		        fmt_sig(trit_bench_peak_ops(r) / 1e9, b, sizeof b), r->peak_why);
	else
		fprintf(out, "  peak int8 (%s): unknown, no \"of peak\": %s\n", r->kernel,
		        r->peak_why[0] ? r->peak_why : "not recorded with this result");
}

static int same_peak(const struct trit_bench_result *a, const struct trit_bench_result *b)
{
	return a->peak_core_ops == b->peak_core_ops && a->threads == b->threads &&
	       strcmp(a->peak_why, b->peak_why) == 0;
}

static void text_bench_result(FILE *out, const struct trit_bench_result *r, int header,
                              const struct trit_bench_result *prev)
{
	char b1[32], b2[32], b3[32], b4[32], b5[32], b6[24], shape[48];

	if (header) {
		fprintf(out, "\n%s/%s  %s  [%s]  kernel.isa %s  threads %u\n", r->backend, r->device_id,
		        r->device_name, kind_name(r->kind), r->isa[0] ? r->isa : "(none reported)",
		        r->threads);
		fprintf(out, "  working set %s: %s\n", trit_format_bytes(r->working_set, b1, sizeof b1),
		        r->working_set_why);
		fprintf(out, "  baseline: %s\n", r->read_why);
		text_bench_peak(out, r);
		fprintf(out, "  %-6s %-13s %11s %7s  %-38s %8s %7s %11s %9s %7s  %s\n", "kernel",
		        "shape", "weights", "copies", "time per matmul: median [min .. max]", "GOP/s",
		        "of peak", "weight GB/s", "read GB/s", "ratio", "after a gap");
	} else if (prev && !same_peak(r, prev)) {
		text_bench_peak(out, r); /* this kernel runs another path */
	}
	for (uint32_t i = 0; i < r->n_shapes; i++) {
		const struct trit_bench_shape *sh = &r->shapes[i];
		char range[64], g[16], wb[16], rb[16], ra[16];
		snprintf(shape, sizeof shape, "%llux%llu", (unsigned long long)sh->rows,
		         (unsigned long long)sh->cols);
		snprintf(range, sizeof range, "%s [%s .. %s]", fmt_seconds(sh->median, b1, sizeof b1),
		         fmt_seconds(sh->min, b2, sizeof b2), fmt_seconds(sh->max, b3, sizeof b3));
		fprintf(out, "  %-6s %-13s %11s %7llu  %-38s %8s %7s %11s %9s %7s  %s\n", r->kernel,
		        shape, trit_format_bytes(sh->bytes, b4, sizeof b4),
		        (unsigned long long)sh->copies, range, fmt_sig(sh->gops, g, sizeof g),
		        fmt_of_peak(r, sh->gops, b6, sizeof b6), fmt_sig(sh->weight_bps / 1e9, wb, sizeof wb),
		        fmt_sig(sh->read_bps > 0 ? sh->read_bps / 1e9 : -1, rb, sizeof rb),
		        fmt_sig(sh->ratio, ra, sizeof ra),
		        sh->gap_median > 0 ? fmt_seconds(sh->gap_median, b5, sizeof b5) : "-");
	}
	if (r->n_shapes > 1) {
		char g[16], wb[16], rb[16], ra[16];
		fprintf(out, "  %-6s %-13s %11s %7s  %-38s %8s %7s %11s %9s %7s\n", r->kernel,
		        "all shapes", "", "", "(sums of bytes and ops / of medians)",
		        fmt_sig(r->gops, g, sizeof g), fmt_of_peak(r, r->gops, b6, sizeof b6),
		        fmt_sig(r->weight_bps / 1e9, wb, sizeof wb),
		        fmt_sig(r->read_bps > 0 ? r->read_bps / 1e9 : -1, rb, sizeof rb),
		        fmt_sig(r->read_bps > 0 ? r->weight_bps / r->read_bps : -1, ra, sizeof ra));
	}
	if (r->gap_weight_bps > 0) {
		char wb[16], gb[16], sl[16];
		fprintf(out, "  %-6s after a gap of %u us of single-threaded work before each matmul "
		        "(as between a forward pass's matmuls): %s weight GB/s against %s back to "
		        "back (%s x the time)\n", r->kernel, r->gap_us,
		        fmt_sig(r->gap_weight_bps / 1e9, gb, sizeof gb),
		        fmt_sig(r->weight_bps / 1e9, wb, sizeof wb),
		        fmt_sig(r->weight_bps / r->gap_weight_bps, sl, sizeof sl));
	}
}

void trit_report_bench_text(FILE *out, const struct trit_bench_result *r, size_t n,
                            const struct trit_bench_refusal *f, size_t nf, const char *cache,
                            int written)
{
	if (n)
		fprintf(out, "trit bench: %s; %u token%s per matmul, %u timed samples per shape; "
		        "GOP/s = 2 x M x K x tokens / median; weight GB/s = packed weight bytes / "
		        "median; ratio = weight GB/s / read GB/s; of peak = GOP/s / (peak int8 per "
		        "core x threads)\n",
		        r[0].full ? "a --full run" : "a quick run (--full for the long version)",
		        r[0].tokens, r[0].tokens == 1 ? "" : "s", r[0].reps);
	for (size_t i = 0; i < n; i++)
		text_bench_result(out, &r[i], i == 0 || strcmp(r[i].backend, r[i - 1].backend) ||
		                  strcmp(r[i].device_id, r[i - 1].device_id), i ? &r[i - 1] : NULL);
	if (nf) {
		fprintf(out, "\nNot reported\n");
		for (size_t i = 0; i < nf; i++)
			fprintf(out, "  %s/%s %s: %s\n", f[i].backend, f[i].device_id, f[i].kernel, f[i].why);
	}
	if (cache)
		fprintf(out, "\nbench cache: %s (%s)\n", cache, written ? "written" : "not written");
}

char *trit_report_bench_json(const struct trit_bench_result *r, size_t n,
                             const struct trit_bench_refusal *f, size_t nf, const char *cache,
                             int written, int full)
{
	struct jb jb = { 0 };
	cJSON *root = cJSON_CreateObject(), *a, *o;
	char *s = NULL;

	if (!root)
		return NULL;
	json_str(&jb, root, "trit_version", trit_version());
	json_str(&jb, root, "mode", full ? "full" : "quick");
	o = chk(&jb, cJSON_AddObjectToObject(root, "cache"));
	if (o) {
		json_str(&jb, o, "path", cache);
		chk(&jb, cJSON_AddBoolToObject(o, "written", written));
	}
	a = chk(&jb, cJSON_AddArrayToObject(root, "results"));
	for (size_t i = 0; a && i < n; i++) {
		cJSON *x = trit_bench_result_json(&r[i]);
		if (!x || !cJSON_AddItemToArray(a, x)) {
			cJSON_Delete(x);
			jb.oom = 1;
		}
	}
	a = chk(&jb, cJSON_AddArrayToObject(root, "refused"));
	for (size_t i = 0; a && i < nf; i++) {
		cJSON *x = chk(&jb, cJSON_CreateObject());
		if (!x || !cJSON_AddItemToArray(a, x))
			break;
		json_str(&jb, x, "backend", f[i].backend);
		json_str(&jb, x, "device_id", f[i].device_id);
		json_str(&jb, x, "kernel", f[i].kernel);
		json_str(&jb, x, "why", f[i].why);
	}
	if (!jb.oom)
		s = trit_json_make_safe(cJSON_Print(root)); /* core/textsafe.h */
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
		s = trit_json_make_safe(cJSON_Print(root)); /* core/textsafe.h */
	cJSON_Delete(root);
	return s;
}
