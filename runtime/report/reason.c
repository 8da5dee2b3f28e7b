/*
 * reason.c - turn the planner's reason records into sentences: one table
 * from code to name, topic, named numbers and names, and a template, and a
 * small expander for the templates (fields and conditionals, nothing else).
 * Which reasons a plan has is plan.c's business; where the sentences go in
 * a report is plan_model.c's.
 */
#include <build-config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/reason.h"

#define GB 3, 1e9
#define GBPS 1, 1e9
#define INT 0, 1

/* clang-format off */
static const struct trit_reason_info table[TRIT_REASON_COUNT] = {
	[TRIT_REASON_GPU_ONLY_FITS] = { "gpu_only_fits", TRIT_TOPIC_STRATEGY,
		"all {n_layer} layers, embeddings and output fit in the {n_gpu>1?GPUs'|GPU's} usable "
		"memory",
		{ { "n_layer", INT }, { "n_gpu", INT } }, { 0 }, NULL, NULL },
	[TRIT_REASON_HYBRID_SPLIT] = { "hybrid_split", TRIT_TOPIC_STRATEGY,
		"the whole model does not fit in the {n_gpu>1?GPUs'|GPU's} usable memory; the last "
		"{gpu_layers} of {n_layer} layers{output_on_gpu? and the output matrix|} do, the rest "
		"run on the CPU, token embeddings stay on the CPU (a lookup, not a matmul)"
		"{max_gpu_layers>-1? (capped by max_gpu_layers)|}",
		{ { "gpu_layers", INT }, { "n_layer", INT }, { "n_gpu", INT }, { "output_on_gpu", INT },
		  { "max_gpu_layers", INT } }, { 0 }, NULL, NULL },
	[TRIT_REASON_CPU_FORCED] = { "cpu_forced", TRIT_TOPIC_STRATEGY,
		"forced by [planner] strategy = cpu", { { 0 } }, { 0 }, NULL, NULL },
	[TRIT_REASON_CPU_NO_GPU] = { "cpu_no_gpu", TRIT_TOPIC_STRATEGY,
		"no GPU or accelerator with known free memory is available", { { 0 } }, { 0 },
		NULL, NULL },
	[TRIT_REASON_CPU_GPU_TOO_SMALL] = { "cpu_gpu_too_small", TRIT_TOPIC_STRATEGY,
		"not even one layer fits on the GPU beside the output and workspace",
		{ { "n_gpu", INT } }, { 0 }, NULL, NULL },
	[TRIT_REASON_NOTHING_FITS_MAX_CTX] = { "nothing_fits_max_ctx", TRIT_TOPIC_STRATEGY,
		"nothing fits with a context of {n_ctx} tokens; the largest context that fits is "
		"{max_ctx} tokens (with ubatch {ubatch})",
		{ { "n_ctx", INT }, { "max_ctx", INT }, { "ubatch", INT } }, { 0 }, NULL, NULL },
	[TRIT_REASON_NOTHING_FITS_WEIGHTS] = { "nothing_fits_weights", TRIT_TOPIC_STRATEGY,
		"nothing fits, even with a context of {n_ctx} tokens: the weights alone exceed the "
		"usable memory", { { "n_ctx", INT } }, { 0 }, NULL, NULL },
	[TRIT_REASON_USABLE_FREE] = { "usable_free", TRIT_TOPIC_USABLE, "free memory",
		{ { "free", INT }, { "limit", INT }, { "fraction", 2, 1 }, { "usable", INT } },
		{ 0 }, NULL, NULL },
	[TRIT_REASON_USABLE_LIMIT] = { "usable_limit", TRIT_TOPIC_USABLE,
		"free memory, capped by {where}",
		{ { "free", INT }, { "limit", INT }, { "fraction", 2, 1 }, { "usable", INT } },
		{ "where" }, NULL, NULL },
	[TRIT_REASON_USABLE_FRACTION] = { "usable_fraction", TRIT_TOPIC_USABLE,
		"free memory x GPU fraction",
		{ { "free", INT }, { "limit", INT }, { "fraction", 2, 1 }, { "usable", INT } },
		{ 0 }, NULL, NULL },
	[TRIT_REASON_USABLE_LIMIT_FRACTION] = { "usable_limit_fraction", TRIT_TOPIC_USABLE,
		"free memory, capped by {where} x GPU fraction",
		{ { "free", INT }, { "limit", INT }, { "fraction", 2, 1 }, { "usable", INT } },
		{ "where" }, NULL, NULL },
	[TRIT_REASON_FORMAT_MEASURED] = { "format_measured", TRIT_TOPIC_FORMAT,
		"{format}: the fastest of its kernels trit bench measured ({cache}):",
		{ { "type", INT } }, { "format", "cache" }, NULL, NULL },
	[TRIT_REASON_FORMAT_KERNEL_GOPS] = { "format_kernel_gops", TRIT_TOPIC_FORMAT,
		"{kernel} {gops} GOP/s", { { "gops", 2, 1 }, { "type", INT } }, { "kernel" },
		" ", ", " },
	[TRIT_REASON_FORMAT_FIRST] = { "format_first", TRIT_TOPIC_FORMAT,
		"{format}: the first of I2_S, TL2, TL1 that {device} runs",
		{ { "type", INT }, { "measured_type", INT } }, { "format", "device" }, NULL, NULL },
	[TRIT_REASON_FORMAT_FIRST_UNMEASURED] = { "format_first_unmeasured", TRIT_TOPIC_FORMAT,
		"{format}: the first of I2_S, TL2, TL1 that {device} runs (no trit bench measurement "
		"to choose by)",
		{ { "type", INT }, { "measured_type", INT } }, { "format", "device" }, NULL, NULL },
	[TRIT_REASON_SPEED_KERNEL] = { "speed_kernel", TRIT_TOPIC_SPEED,
		"{first_of_device?{device}: |}{bytes} GB of {kernel} weights / {bytes_per_s} GB/s "
		"(the {kernel} kernel as trit bench measured it{isa?, isa {isa}|})",
		{ { "bytes", GB }, { "bytes_per_s", GBPS }, { "first_of_device", INT }, { "type", INT } },
		{ "device", "kernel", "isa" }, " + ", " + " },
	[TRIT_REASON_SPEED_BANDWIDTH] = { "speed_bandwidth", TRIT_TOPIC_SPEED,
		"{first_of_device?{device}: |}{bytes} GB read per token / {bytes_per_s} GB/s "
		"(memory bandwidth)",
		{ { "bytes", GB }, { "bytes_per_s", GBPS }, { "first_of_device", INT } }, { "device" },
		" + ", " + " },
	[TRIT_REASON_SPEED_BENCH_READ] = { "speed_bench_read", TRIT_TOPIC_SPEED,
		"{first_of_device?{device}: |}{bytes} GB read per token / {bytes_per_s} GB/s "
		"(streaming read measured by trit bench; the backend measured no bandwidth)",
		{ { "bytes", GB }, { "bytes_per_s", GBPS }, { "first_of_device", INT } }, { "device" },
		" + ", " + " },
	[TRIT_REASON_SPEED_TOTAL] = { "speed_total", TRIT_TOPIC_SPEED,
		"-> {tokens_per_s} tokens/s (decode is bandwidth-bound: weights and KV cache are read "
		"once per token)",
		{ { "tokens_per_s", 1, 1 }, { "seconds_per_token", 6, 1 } }, { 0 }, " ", " " },
	[TRIT_REASON_SPEED_UNKNOWN] = { "speed_unknown", TRIT_TOPIC_SPEED,
		"unknown: {device}'s memory bandwidth is unknown ({source})",
		{ { "bytes", GB } }, { "device", "source" }, NULL, NULL },
	[TRIT_REASON_THREADS_CONFIGURED] = { "threads_configured", TRIT_TOPIC_THREADS,
		"threads: {threads}, as configured ([runtime] threads)", { { "threads", INT } },
		{ 0 }, NULL, NULL },
	[TRIT_REASON_THREADS_NO_CPU] = { "threads_no_cpu", TRIT_TOPIC_NOTE,
		"threads: {threads}, no CPU device in the plan", { { "threads", INT } }, { 0 },
		NULL, NULL },
	[TRIT_REASON_THREADS_UNKNOWN] = { "threads_unknown", TRIT_TOPIC_NOTE,
		"threads: assumed {threads}, {device} reports neither cores nor hardware threads",
		{ { "threads", INT } }, { "device" }, NULL, NULL },
	[TRIT_REASON_THREADS_HW] = { "threads_hw", TRIT_TOPIC_NOTE,
		"threads: {threads} = {device}'s hardware threads (priority throughput)",
		{ { "threads", INT } }, { "device" }, NULL, NULL },
	[TRIT_REASON_THREADS_CORES] = { "threads_cores", TRIT_TOPIC_NOTE,
		"threads: {threads} = {device}'s physical cores (priority {priority}: one thread per "
		"core avoids sharing a core's memory port)",
		{ { "threads", INT } }, { "device", "priority" }, NULL, NULL },
	[TRIT_REASON_UBATCH_CONFIGURED] = { "ubatch_configured", TRIT_TOPIC_UBATCH,
		"ubatch {ubatch}, as configured (--batch, [model] ubatch)", { { "ubatch", INT } },
		{ 0 }, NULL, NULL },
	[TRIT_REASON_UBATCH_HALVED] = { "ubatch_halved", TRIT_TOPIC_UBATCH,
		"ubatch {ubatch}: the first of {max}, {max} / 2, ... with which a plan fits (1 when "
		"none does)",
		{ { "ubatch", INT }, { "max", INT } }, { 0 }, NULL, NULL },
	[TRIT_REASON_DEVICE_FREE_UNKNOWN] = { "device_free_unknown", TRIT_TOPIC_NOTE,
		"{backend}/{device} left out: its free memory is unknown ({source})",
		{ { "input", INT } }, { "backend", "device", "source" }, NULL, NULL },
	[TRIT_REASON_DEVICE_NO_KERNEL] = { "device_no_kernel", TRIT_TOPIC_NOTE,
		"{backend}/{device} advertises no {type} kernel yet: the plan counts its memory, but "
		"running it needs that kernel",
		{ { 0 } }, { "backend", "device", "type" }, NULL, NULL },
	[TRIT_REASON_SPEED_READS] = { "speed_reads", TRIT_TOPIC_NOTE,
		"decode reads per token on {device}: {ternary} GB of ternary weights (as they run) + "
		"{head} GB output head + {other} GB other weights + one embedding row ({row} bytes) + "
		"{kv} GB KV cache (assuming the context full: {n_ctx} tokens)",
		{ { "ternary", GB }, { "head", GB }, { "other", GB }, { "row", INT }, { "kv", GB },
		  { "n_ctx", INT } }, { "device" }, NULL, NULL },
	[TRIT_REASON_FORMAT_CONFIGURED] = { "format_configured", TRIT_TOPIC_FORMAT,
		"{format}: [planner] ternary_format = {value} ({where})",
		{ { "type", INT } }, { "format", "value", "where" }, NULL, NULL },
	[TRIT_REASON_DEVICE_BUDGET_OFFLOAD] = { "device_budget_offload", TRIT_TOPIC_NOTE,
		"{backend}/{device} is a CPU device planned as an offload device, like a GPU: its "
		"memory is the {budget} bytes an operator gave it ({source}), not the host's",
		{ { "budget", INT } }, { "backend", "device", "source" }, NULL, NULL },
};
/* clang-format on */

const struct trit_reason_info *trit_reason_info(uint32_t code)
{
	return code < TRIT_REASON_COUNT && table[code].name ? &table[code] : NULL;
}

const char *trit_reason_topic_name(enum trit_reason_topic t)
{
	static const char *const names[TRIT_TOPIC_COUNT] = {
		"strategy", "usable", "format", "speed", "note", "threads", "ubatch",
	};
	return (unsigned)t < TRIT_TOPIC_COUNT ? names[t] : "?";
}

/* Output of the expander: snprintf-like, counting what does not fit. */
struct out {
	char *buf;
	size_t len, n;
	int bad;                       /* a field the code does not have */
};

static void put(struct out *o, const char *s, size_t k)
{
	for (size_t i = 0; i < k; i++, o->n++)
		if (o->n + 1 < o->len)
			o->buf[o->n] = s[i];
}

/* Field `name` (k bytes) of r: *num set when it is a number, else *arg. */
static int field(const struct trit_reason_info *in, const struct trit_plan_reason_rec *r,
                 const char *name, size_t k, int *num, const char **arg)
{
	for (int i = 0; i < TRIT_PLAN_REASON_NUMS; i++)
		if (in->num[i].name && strlen(in->num[i].name) == k &&
		    !memcmp(in->num[i].name, name, k)) {
			*num = i;
			return 1;
		}
	for (int i = 0; i < TRIT_PLAN_REASON_ARGS; i++)
		if (in->arg[i] && strlen(in->arg[i]) == k && !memcmp(in->arg[i], name, k)) {
			*num = -1;
			*arg = r->arg[i];
			return 1;
		}
	return 0;
}

/* The end of the text starting at t up to the first of `stops` outside
 * braces (or the end of the string). */
static const char *skip(const char *t, const char *stops)
{
	int depth = 0;

	for (; *t; t++) {
		if (!depth && strchr(stops, *t))
			break;
		depth += *t == '{' ? 1 : *t == '}' ? -1 : 0;
	}
	return t;
}

static void expand(struct out *o, const struct trit_reason_info *in,
                   const struct trit_plan_reason_rec *r, const char *t, const char *end);

/* One field, t just after its '{', end its '}'. */
static void expand_field(struct out *o, const struct trit_reason_info *in,
                         const struct trit_plan_reason_rec *r, const char *t, const char *end)
{
	size_t k = strcspn(t, ">?}");
	const char *arg = NULL, *q, *bar;
	int i;

	if (!field(in, r, t, k, &i, &arg)) {
		o->bad = 1;
		return;
	}
	if (t + k == end) { /* {name} */
		char num[64];
		if (i < 0) {
			put(o, arg, strlen(arg));
			return;
		}
		int w = snprintf(num, sizeof num, "%.*f", in->num[i].prec,
		                 r->num[i] / in->num[i].scale);
		put(o, num, w > 0 ? (size_t)w : 0);
		return;
	}
	double above = 0;
	if (t[k] == '>')
		above = strtod(t + k + 1, NULL);
	q = memchr(t, '?', (size_t)(end - t));
	bar = q ? skip(q + 1, "|}") : NULL;
	if (!q || !bar || bar >= end || *bar != '|') {
		o->bad = 1;
		return;
	}
	int yes = i < 0 ? arg[0] != '\0' : t[k] == '>' ? r->num[i] > above : r->num[i] != 0;
	if (yes)
		expand(o, in, r, q + 1, bar);
	else
		expand(o, in, r, bar + 1, end);
}

/* Expand template text [t, end). */
static void expand(struct out *o, const struct trit_reason_info *in,
                   const struct trit_plan_reason_rec *r, const char *t, const char *end)
{
	while (t < end) {
		const char *open = memchr(t, '{', (size_t)(end - t));
		if (!open) {
			put(o, t, (size_t)(end - t));
			return;
		}
		put(o, t, (size_t)(open - t));
		const char *close = skip(open + 1, "}");
		if (close >= end || *close != '}') {
			o->bad = 1;
			return;
		}
		expand_field(o, in, r, open + 1, close);
		t = close + 1;
	}
}

static int finish(struct out *o)
{
	if (o->len)
		o->buf[o->n < o->len ? o->n : o->len - 1] = '\0';
	return o->bad ? -1 : (int)o->n;
}

int trit_reason_text(const struct trit_plan_reason_rec *r, char *buf, size_t len)
{
	const struct trit_reason_info *in = trit_reason_info(r->code);
	struct out o = { .buf = buf, .len = len };

	if (!in) {
		o.bad = 1;
		return finish(&o);
	}
	expand(&o, in, r, in->tmpl, in->tmpl + strlen(in->tmpl));
	return finish(&o);
}

int trit_reason_join(const struct trit_plan_reason_rec *v, uint32_t n,
                     enum trit_reason_topic topic, int slot, char *buf, size_t len)
{
	struct out o = { .buf = buf, .len = len };
	const struct trit_plan_reason_rec *prev = NULL;

	for (uint32_t i = 0; i < n; i++) {
		const struct trit_reason_info *in = trit_reason_info(v[i].code);
		if (!in || in->topic != topic || (slot >= -1 && v[i].slot != slot))
			continue;
		if (prev) {
			const char *j = prev->code == v[i].code ? in->join_same : in->join;
			put(&o, j ? j : " ", strlen(j ? j : " "));
		}
		expand(&o, in, &v[i], in->tmpl, in->tmpl + strlen(in->tmpl));
		prev = &v[i];
	}
	return finish(&o);
}
