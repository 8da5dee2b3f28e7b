/*
 * report/run_report.c - the load and run reports of `trit run`
 * (report/run_report.h), text for people and JSON for programs, from one
 * view each.
 */
#include <build-config.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/textsafe.h"
#include "report/json_build.h"
#include "report/run_report.h"

double trit_run_rate(uint64_t n, double s)
{
	return n && s > 0 ? (double)n / s : -1;
}

static double mib(uint64_t b)
{
	return (double)b / (1024.0 * 1024.0);
}

/* ------------------------------------------------------------ JSON helpers */

/* A rate, or null when unknown. */
static void jrate(struct jb *jb, cJSON *o, const char *key, double v)
{
	chk(jb, v >= 0 ? cJSON_AddNumberToObject(o, key, v) : cJSON_AddNullToObject(o, key));
}

static void jids(struct jb *jb, cJSON *o, const char *key, const int32_t *ids, uint32_t n)
{
	cJSON *a = chk(jb, cJSON_AddArrayToObject(o, key));

	for (uint32_t i = 0; a && i < n; i++) {
		cJSON *x = chk(jb, cJSON_CreateNumber(ids[i]));
		if (x && !cJSON_AddItemToArray(a, x)) {
			cJSON_Delete(x);
			jb->oom = 1;
		}
	}
}

/* Parse a report another renderer made and attach it (NULL: null). */
static void jraw(struct jb *jb, cJSON *o, const char *key, const char *json)
{
	cJSON *x = json ? cJSON_Parse(json) : NULL;

	if (!x) {
		chk(jb, cJSON_AddNullToObject(o, key));
		return;
	}
	if (!cJSON_AddItemToObject(o, key, x)) {
		cJSON_Delete(x);
		jb->oom = 1;
	}
}

static char *jfinish(struct jb *jb, cJSON *root)
{
	char *s = NULL;

	if (root && !jb->oom)
		s = trit_json_make_safe(cJSON_Print(root)); /* core/textsafe.h */
	cJSON_Delete(root);
	return s;
}

/* ------------------------------------------------------------ load report */

static const char *peak_how(uint32_t source)
{
	return source == TRIT_LOAD_PEAK_HWM ? "VmHWM, reset at load start"
	       : source == TRIT_LOAD_PEAK_SAMPLED ? "VmRSS sampled after every chunk"
	       : "unknown";
}

void trit_report_load_text(FILE *out, const struct trit_load_report *r, const char *const *names)
{
	fprintf(out, "load: %u tensors, %.1f MiB in %.2f s\n", r->n_tensors, mib(r->model_bytes),
	        r->seconds);
	fprintf(out, "  RSS     before %.1f MiB, peak %.1f MiB, after %.1f MiB (%s)\n",
	        mib(r->rss_before), mib(r->rss_peak), mib(r->rss_after), peak_how(r->peak_source));
	if (r->model_bytes)
		fprintf(out, "  peak / model  %.3f\n", (double)r->rss_peak / (double)r->model_bytes);
	fprintf(out, "  in place %u (%.1f MiB), copied %u (%.1f MiB), repacked %u (%.1f MiB)\n",
	        r->n_in_place, mib(r->bytes_in_place), r->n_copied, mib(r->bytes_copied),
	        r->n_repacked, mib(r->bytes_repacked));
	for (uint32_t i = 0; i < r->n_targets; i++)
		fprintf(out, "  on %-14s %.1f MiB\n", names[i], mib(r->target_bytes[i]));
}

char *trit_report_load_json(const struct trit_load_report *r, const char *const *names)
{
	struct jb jb = { 0 };
	cJSON *o = chk(&jb, cJSON_CreateObject()), *a;

	if (!o)
		return NULL;
	json_num(&jb, o, "tensors", r->n_tensors);
	json_num(&jb, o, "model_bytes", (double)r->model_bytes);
	json_num(&jb, o, "seconds", r->seconds);
	json_num(&jb, o, "rss_before_bytes", (double)r->rss_before);
	json_num(&jb, o, "rss_peak_bytes", (double)r->rss_peak);
	json_num(&jb, o, "rss_after_bytes", (double)r->rss_after);
	json_str(&jb, o, "rss_peak_source", peak_how(r->peak_source));
	jrate(&jb, o, "peak_over_model", r->model_bytes ?
	      (double)r->rss_peak / (double)r->model_bytes : -1);
	json_num(&jb, o, "in_place_tensors", r->n_in_place);
	json_num(&jb, o, "in_place_bytes", (double)r->bytes_in_place);
	json_num(&jb, o, "copied_tensors", r->n_copied);
	json_num(&jb, o, "copied_bytes", (double)r->bytes_copied);
	json_num(&jb, o, "repacked_tensors", r->n_repacked);
	json_num(&jb, o, "repacked_bytes", (double)r->bytes_repacked);
	json_num(&jb, o, "allocated_bytes", (double)r->bytes_allocated);
	json_num(&jb, o, "staging_peak_bytes", (double)r->staging_peak);
	a = chk(&jb, cJSON_AddArrayToObject(o, "devices"));
	for (uint32_t i = 0; a && i < r->n_targets; i++) {
		cJSON *d = chk(&jb, cJSON_CreateObject());
		if (!d || !cJSON_AddItemToArray(a, d)) {
			cJSON_Delete(d);
			jb.oom = 1;
			break;
		}
		json_str(&jb, d, "device", names[i]);
		json_num(&jb, d, "bytes", (double)r->target_bytes[i]);
	}
	return jfinish(&jb, o);
}

/* ------------------------------------------------------------ run report */

static void text_rate(FILE *out, const char *label, uint64_t n, double s)
{
	double r = trit_run_rate(n, s);

	if (r < 0)
		fprintf(out, "  %-8s %" PRIu64 " tokens (rate unknown: too few to time)\n", label, n);
	else
		fprintf(out, "  %-8s %" PRIu64 " tokens in %.3f s = %.2f tokens/s\n", label, n, s, r);
}

static double ratio(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : -1;
}

static const char *const dev_parts[TRIT_RUN_DEV_N] = {
	"weights", "kv", "activations", "workspace"
};

static uint64_t dev_sum(const uint64_t *x)
{
	uint64_t s = 0;

	for (int k = 0; k < TRIT_RUN_DEV_N; k++)
		s += x[k];
	return s;
}

/* Per device, when the plan uses several: planned / measured per buffer. */
static void text_devices(FILE *out, const struct trit_run_view *v)
{
	if (v->n_devs < 2)
		return;
	fprintf(out, "per device (MiB, planned / measured)\n");
	for (uint32_t i = 0; i < v->n_devs; i++) {
		const struct trit_run_dev_mem *d = &v->devs[i];
		fprintf(out, "  %-22s", d->device);
		for (int k = 0; k < TRIT_RUN_DEV_N; k++)
			fprintf(out, "  %s %.1f / %.1f", dev_parts[k], mib(d->planned[k]),
			        mib(d->measured[k]));
		if (dev_sum(d->planned))
			fprintf(out, "; measured / planned %.3f\n",
			        ratio(dev_sum(d->measured), dev_sum(d->planned)));
		else
			fprintf(out, "; nothing planned here%s\n",
			        dev_sum(d->measured) ? ", yet buffers were allocated" : "");
	}
}

void trit_report_run_text(FILE *out, const struct trit_run_view *v)
{
	double est = v->estimate_tps, dec = trit_run_rate(v->n_decode_evals, v->decode_seconds);

	fputs("run: ", out);
	trit_text_fputs(v->model, out); /* from the file: core/textsafe.h */
	fprintf(out, " on %s, %u threads, context %u, ubatch %u, KV %s\n", v->device, v->threads,
	        v->n_ctx, v->ubatch, v->kv_type);
	if (v->replanned) {
		fputs("  re-planned at load: ", out);
		trit_text_fputs(v->replanned, out);
		fputc('\n', out);
	}
	text_rate(out, "prompt", v->n_prompt, v->prompt_seconds);
	text_rate(out, "decode", v->n_decode_evals, v->decode_seconds);
	if (est > 0 && dec > 0)
		fprintf(out, "  plan estimated %.2f tokens/s for decode; measured / estimate %.2f\n",
		        est, dec / est);
	else
		fprintf(out, "  plan's decode estimate %s\n", est > 0 ? "not comparable" : "unknown");
	fprintf(out, "  stopped: %s after %u tokens\n", v->stop, v->n_tokens);
	fprintf(out, "memory (MiB)      planned   measured\n");
	for (uint32_t i = 0; i < v->n_rows; i++) {
		const struct trit_run_mem_row *r = &v->rows[i];
		if (r->has_measured)
			fprintf(out, "  %-14s %9.1f %10.1f  %s\n", r->component, mib(r->planned),
			        mib(r->measured), r->how);
		else
			fprintf(out, "  %-14s %9.1f %10s  %s\n", r->component, mib(r->planned),
			        "unknown", r->how);
	}
	fprintf(out, "  %-14s %9.1f %10.1f  peak resident memory of the process (VmHWM%s); "
	        "measured / planned %.3f\n", "process", mib(v->planned_total), mib(v->rss_peak),
	        v->peak_reset ? ", reset at load start" : "", ratio(v->rss_peak, v->planned_total));
	if (v->planned_host != v->planned_total)
		fprintf(out, "  %-14s %9.1f %10.1f  the plan's share in host memory (devices with "
		        "their own memory left out); measured / planned %.3f\n", "process, host",
		        mib(v->planned_host), mib(v->rss_peak), ratio(v->rss_peak, v->planned_host));
	text_devices(out, v);
}

/* memory.devices: each device's buffers, planned and measured. */
static void json_devices(struct jb *jb, cJSON *m, const struct trit_run_view *v)
{
	cJSON *a = chk(jb, cJSON_AddArrayToObject(m, "devices"));

	for (uint32_t i = 0; a && i < v->n_devs; i++) {
		const struct trit_run_dev_mem *d = &v->devs[i];
		cJSON *x = chk(jb, cJSON_CreateObject());
		if (!x || !cJSON_AddItemToArray(a, x)) {
			cJSON_Delete(x);
			jb->oom = 1;
			return;
		}
		json_str(jb, x, "device", d->device);
		json_num(jb, x, "planned_bytes", (double)dev_sum(d->planned));
		json_num(jb, x, "measured_bytes", (double)dev_sum(d->measured));
		jrate(jb, x, "measured_over_planned", ratio(dev_sum(d->measured),
		                                            dev_sum(d->planned)));
		for (int k = 0; k < TRIT_RUN_DEV_N; k++) {
			cJSON *c = chk(jb, cJSON_AddObjectToObject(x, dev_parts[k]));
			if (!c)
				return;
			json_num(jb, c, "planned_bytes", (double)d->planned[k]);
			json_num(jb, c, "measured_bytes", (double)d->measured[k]);
		}
	}
}

static void json_memory(struct jb *jb, cJSON *root, const struct trit_run_view *v)
{
	cJSON *m = chk(jb, cJSON_AddObjectToObject(root, "memory")), *a;

	if (!m)
		return;
	json_num(jb, m, "planned_bytes", (double)v->planned_total);
	json_num(jb, m, "measured_peak_bytes", (double)v->rss_peak);
	jrate(jb, m, "measured_over_planned", ratio(v->rss_peak, v->planned_total));
	json_num(jb, m, "planned_host_bytes", (double)v->planned_host);
	jrate(jb, m, "measured_over_planned_host", ratio(v->rss_peak, v->planned_host));
	json_num(jb, m, "rss_start_bytes", (double)v->rss_start);
	json_str(jb, m, "device", v->device);
	a = chk(jb, cJSON_AddArrayToObject(m, "components"));
	for (uint32_t i = 0; a && i < v->n_rows; i++) {
		const struct trit_run_mem_row *r = &v->rows[i];
		cJSON *x = chk(jb, cJSON_CreateObject());
		if (!x || !cJSON_AddItemToArray(a, x)) {
			cJSON_Delete(x);
			jb->oom = 1;
			return;
		}
		json_str(jb, x, "component", r->component);
		json_num(jb, x, "planned_bytes", (double)r->planned);
		if (r->has_measured)
			json_num(jb, x, "measured_bytes", (double)r->measured);
		else
			chk(jb, cJSON_AddNullToObject(x, "measured_bytes"));
		json_str(jb, x, "measured", r->how);
	}
	json_devices(jb, m, v);
}

char *trit_report_run_json(const struct trit_run_view *v, const char *plan_json,
                           const char *load_json)
{
	struct jb jb = { 0 };
	cJSON *o = chk(&jb, cJSON_CreateObject());

	if (!o)
		return NULL;
	json_str(&jb, o, "model", v->model);
	jids(&jb, o, "prompt_tokens", v->prompt_tokens, v->n_prompt);
	jids(&jb, o, "tokens", v->tokens, v->n_tokens);
	chk(&jb, cJSON_AddStringToObject(o, "text", v->text ? v->text : ""));
	json_str(&jb, o, "stop", v->stop);
	jrate(&jb, o, "prompt_tokens_per_s", trit_run_rate(v->n_prompt, v->prompt_seconds));
	jrate(&jb, o, "decode_tokens_per_s", trit_run_rate(v->n_decode_evals, v->decode_seconds));
	jrate(&jb, o, "estimate_tokens_per_s", v->estimate_tps);
	json_num(&jb, o, "prompt_seconds", v->prompt_seconds);
	json_num(&jb, o, "decode_seconds", v->decode_seconds);
	json_num(&jb, o, "decode_evals", v->n_decode_evals);
	json_num(&jb, o, "sample_seconds", v->sample_seconds);
	json_num(&jb, o, "threads", v->threads);
	json_num(&jb, o, "n_ctx", v->n_ctx);
	json_num(&jb, o, "ubatch", v->ubatch);
	json_str(&jb, o, "kv_type", v->kv_type);
	json_str(&jb, o, "replanned", v->replanned);
	json_memory(&jb, o, v);
	jraw(&jb, o, "load", load_json);
	jraw(&jb, o, "plan", plan_json);
	return jfinish(&jb, o);
}
