/*
 * trit-forward.c - run a model's forward pass on given token ids and print
 * JSON: the last position's logits (argmax, top entries, a hash, and all of
 * them with --logits), a greedy continuation, timings and every byte the
 * pass holds. The llama.cpp cross-validation drives it; it is a test
 * program (noinst), not the `trit run` command.
 *
 *   trit-forward MODEL --tokens 1,2,3 [--threads N] [--plugin cpu_avx2|ref]
 *                [--kv f16|f32|q8_0] [--ubatch N] [--ctx N] [--n-predict N]
 *                [--repack i2_s|tl1|tl2] [--top K] [--logits] [--all-logits]
 *
 * --all-logits evaluates the prompt with every position's logits and prints
 * them as "all_logits" (one array per position), for comparisons with a
 * reference that scores whole sequences (tests/trained-model.sh).
 */
#include <build-config.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <trit/trit.h>

#include "exec/forward.h"
#include "exec/kvcache.h"
#include "exec/sched.h"
#include "load/load.h"

struct opts {
	const char *model, *plugin, *kv;
	int32_t *tokens;
	uint32_t n_tokens, threads, ubatch, ctx, n_predict, top, repack;
	int print_logits, all_logits;
};

static int usage(void)
{
	fprintf(stderr, "usage: trit-forward MODEL --tokens ID,ID,... [--threads N] "
	        "[--plugin cpu_avx2|ref] [--kv f16|f32|q8_0] [--ubatch N] [--ctx N] "
	        "[--n-predict N] [--repack i2_s|tl1|tl2] [--top K] [--logits] [--all-logits]\n");
	return 2;
}

static int parse_u32(const char *s, const char *what, uint32_t lo, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > INT32_MAX) {
		fprintf(stderr, "trit-forward: %s '%s' is not an integer of at least %u\n", what, s, lo);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

static int parse_tokens(const char *s, struct opts *o)
{
	size_t n = 1;
	const char *p;

	for (p = s; *p; p++)
		n += *p == ',';
	o->tokens = calloc(n, sizeof *o->tokens);
	if (!o->tokens)
		return -1;
	for (p = s; *p;) {
		char *end;
		long v;
		errno = 0;
		v = strtol(p, &end, 10);
		if (errno || end == p || v < 0 || v > INT32_MAX || (*end && *end != ',')) {
			fprintf(stderr, "trit-forward: --tokens: '%s' is not a list of token ids\n", s);
			return -1;
		}
		o->tokens[o->n_tokens++] = (int32_t)v;
		p = *end ? end + 1 : end;
	}
	return o->n_tokens ? 0 : -1;
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "tokens", 1, 0, 't' }, { "threads", 1, 0, 'j' }, { "plugin", 1, 0, 'p' },
		{ "kv", 1, 0, 'k' }, { "ubatch", 1, 0, 'u' }, { "ctx", 1, 0, 'c' },
		{ "n-predict", 1, 0, 'n' }, { "repack", 1, 0, 'r' }, { "top", 1, 0, 'T' },
		{ "logits", 0, 0, 'L' }, { "all-logits", 0, 0, 'A' }, { 0, 0, 0, 0 } };
	int c, rc = 0;

	*o = (struct opts){ .kv = "f16", .ubatch = 512, .top = 5 };
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1 && !rc) {
		switch (c) {
		case 't': rc = parse_tokens(optarg, o); break;
		case 'j': rc = parse_u32(optarg, "--threads", 1, &o->threads); break;
		case 'p': o->plugin = optarg; break;
		case 'k': o->kv = optarg; break;
		case 'u': rc = parse_u32(optarg, "--ubatch", 1, &o->ubatch); break;
		case 'c': rc = parse_u32(optarg, "--ctx", 1, &o->ctx); break;
		case 'n': rc = parse_u32(optarg, "--n-predict", 0, &o->n_predict); break;
		case 'T': rc = parse_u32(optarg, "--top", 0, &o->top); break;
		case 'L': o->print_logits = 1; break;
		case 'A': o->all_logits = 1; break;
		case 'r':
			if (!strcasecmp(optarg, "i2_s")) o->repack = TRIT_TYPE_I2_S;
			else if (!strcasecmp(optarg, "tl1")) o->repack = TRIT_TYPE_TL1;
			else if (!strcasecmp(optarg, "tl2")) o->repack = TRIT_TYPE_TL2;
			else rc = -1;
			break;
		default: return usage();
		}
	}
	if (rc || optind + 1 != argc || !o->n_tokens)
		return usage();
	o->model = argv[optind];
	return 0;
}

/* The device: device 0 of the plugin named (default cpu_avx2 when it
 * loaded, else ref). */
static int pick_target(struct trit_registry *reg, const char *want, struct trit_sched_target *t,
                       char *err, size_t errlen)
{
	const char *names[2] = { want ? want : "cpu_avx2", want ? NULL : "ref" };

	for (int k = 0; k < 2 && names[k]; k++)
		for (size_t i = 0; i < trit_registry_plugin_count(reg); i++) {
			const struct trit_plugin_info *p = trit_registry_plugin(reg, i);
			if (strcmp(p->name, names[k]) != 0)
				continue;
			if (p->status != TRIT_PLUGIN_LOADED || !p->n_devices) {
				if (want) {
					snprintf(err, errlen, "plugin %s did not load: %s", want,
					         p->reason ? p->reason : "no device");
					return -1;
				}
				continue;
			}
			*t = (struct trit_sched_target){ .name = p->name };
			t->be = trit_registry_backend(reg, i, &t->state);
			return 0;
		}
	snprintf(err, errlen, "no plugin named %s was found", names[0]);
	return -1;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* VmRSS and VmHWM of this process in bytes (0 when unreadable). */
static void rss(uint64_t *cur, uint64_t *peak)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	unsigned long long kb;

	*cur = *peak = 0;
	while (f && fgets(line, sizeof line, f)) {
		if (sscanf(line, "VmRSS: %llu kB", &kb) == 1)
			*cur = kb * 1024;
		else if (sscanf(line, "VmHWM: %llu kB", &kb) == 1)
			*peak = kb * 1024;
	}
	if (f)
		fclose(f);
}

static uint32_t argmax(const float *x, uint32_t n)
{
	uint32_t best = 0;
	for (uint32_t i = 1; i < n; i++)
		if (x[i] > x[best])
			best = i;
	return best;
}

/* FNV-1a over the logits' bit patterns. */
static uint64_t hash(const float *x, uint32_t n)
{
	uint64_t h = 1469598103934665603ull;
	const unsigned char *p = (const unsigned char *)x;
	for (size_t i = 0; i < (size_t)n * sizeof *x; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

static void print_float(float v)
{
	if (isfinite(v))
		printf("%.9g", (double)v);
	else
		printf("null");
}

static void print_top(const float *x, uint32_t n, uint32_t k)
{
	unsigned char *taken = calloc(n, 1);

	printf("  \"top\": [");
	for (uint32_t j = 0; j < k && j < n && taken; j++) {
		uint32_t best = UINT32_MAX;
		for (uint32_t i = 0; i < n; i++)
			if (!taken[i] && (best == UINT32_MAX || x[i] > x[best]))
				best = i;
		taken[best] = 1;
		printf("%s[%u, ", j ? ", " : "", best);
		print_float(x[best]);
		printf("]");
	}
	printf("],\n");
	free(taken);
}

struct run {
	struct trit_model *m;
	struct trit_registry *reg;
	struct trit_weights *w;
	struct trit_forward *f;
	struct trit_load_report lr;
	struct trit_sched_target dev, fb;
	float *logits;
	float *all; /* --all-logits: n_tokens x n_vocab */
	int32_t *gen;
	double t_open, t_load, t_prompt, t_decode;
};

static int setup(const struct opts *o, struct run *r, char *err, size_t errlen)
{
	struct trit_registry_options ro = { 0 };
	struct trit_load_target lt;
	uint32_t *layers, kv_type;
	double t0 = now();
	int rc;

	if ((rc = trit_kvcache_type(o->kv, &kv_type, err, errlen)) ||
	    (rc = trit_model_open(o->model, &r->m, err, errlen)) ||
	    (rc = trit_registry_open(&ro, &r->reg, err, errlen)) ||
	    (rc = pick_target(r->reg, o->plugin, &r->dev, err, errlen)) ||
	    (rc = trit_sched_fallback(r->reg, &r->fb, err, errlen)))
		return rc ? rc : -1;
	r->t_open = now() - t0; /* mostly the plugins' probes */
	t0 = now();
	lt = (struct trit_load_target){ r->dev, o->repack };
	if (!(layers = calloc(r->m->hp.n_layer, sizeof *layers)))
		return TRIT_ENOMEM;
	{
		struct trit_load_spec spec = { .targets = &lt, .n_targets = 1, .layer_target = layers,
		                               .allow_zero_copy = 1 };
		rc = trit_load(r->m, &spec, &r->w, &r->lr, err, errlen);
	}
	r->t_load = now() - t0;
	if (!rc) {
		uint32_t ctx = o->ctx ? o->ctx : o->n_tokens + o->n_predict;
		struct trit_forward_params p = {
			.model = r->m, .weights = r->w, .targets = &r->dev,
			.n_targets = 1, .layer_target = layers, .fallback = &r->fb, .n_ctx = ctx,
			.n_ubatch = o->ubatch < o->n_tokens ? o->ubatch : o->n_tokens,
			.kv_type = kv_type, .n_threads = o->threads, .all_logits = o->all_logits,
		};
		rc = trit_forward_new(&p, &r->f, err, errlen);
	}
	free(layers);
	return rc;
}

static int generate(const struct opts *o, struct run *r, char *err, size_t errlen)
{
	uint32_t nv = trit_forward_n_vocab(r->f);
	float *next;
	double t0 = now();
	int rc;

	r->logits = malloc((size_t)nv * sizeof *r->logits);
	next = malloc((size_t)nv * sizeof *next);
	r->gen = calloc(o->n_predict + 1, sizeof *r->gen);
	if (!r->logits || !next || !r->gen) {
		free(next);
		return TRIT_ENOMEM;
	}
	if (o->all_logits) {
		if (!(r->all = malloc((size_t)o->n_tokens * nv * sizeof *r->all))) {
			free(next);
			return TRIT_ENOMEM;
		}
		rc = trit_forward_eval(r->f, o->tokens, o->n_tokens, 0, r->all, err, errlen);
		memcpy(r->logits, r->all + (size_t)(o->n_tokens - 1) * nv, (size_t)nv * sizeof *next);
	} else {
		rc = trit_forward_eval(r->f, o->tokens, o->n_tokens, 0, r->logits, err, errlen);
	}
	r->t_prompt = now() - t0;
	t0 = now();
	memcpy(next, r->logits, (size_t)nv * sizeof *next);
	for (uint32_t i = 0; i < o->n_predict && !rc; i++) {
		r->gen[i] = (int32_t)argmax(next, nv);
		if (i + 1 < o->n_predict)
			rc = trit_forward_eval(r->f, &r->gen[i], 1, o->n_tokens + i, next, err, errlen);
	}
	r->t_decode = now() - t0;
	free(next);
	return rc;
}

static void print_memory(const struct run *r)
{
	const struct trit_forward_memory *m = trit_forward_memory(r->f);
	uint64_t cur, peak;

	rss(&cur, &peak);
	printf("  \"memory\": {\"weights_graph_bytes\": %" PRIu64 ", \"weights_loaded_bytes\": %"
	       PRIu64 ", \"kv_bytes\": %" PRIu64 ", \"arena_bytes\": %" PRIu64
	       ", \"arena_unshared_bytes\": %" PRIu64 ", \"workspace_bytes\": %" PRIu64
	       ", \"fallback_workspace_bytes\": %" PRIu64 ", \"rss_bytes\": %" PRIu64
	       ", \"rss_peak_bytes\": %" PRIu64 ", \"slots\": %u, \"nodes\": %u},\n",
	       m->weight_bytes[0], r->lr.target_bytes ? r->lr.target_bytes[0] : 0, m->kv_total,
	       m->arena_bytes, m->arena_unshared, m->workspace_bytes, m->fallback_workspace_bytes,
	       cur, peak, m->n_slots, m->n_nodes);
}

static void print_json(const struct opts *o, const struct run *r)
{
	uint32_t nv = trit_forward_n_vocab(r->f);
	const struct trit_forward_stats *st = trit_forward_stats(r->f);
	uint32_t decoded = o->n_predict ? o->n_predict - 1 : 0;

	printf("{\n  \"model\": \"%s\",\n  \"arch\": \"%s\",\n  \"device\": \"%s\",\n"
	       "  \"threads\": %u,\n  \"kv\": \"%s\",\n  \"ubatch\": %u,\n  \"n_prompt\": %u,\n"
	       "  \"n_vocab\": %u,\n", o->model, r->m->hp.arch, r->dev.name, o->threads, o->kv,
	       o->ubatch < o->n_tokens ? o->ubatch : o->n_tokens, o->n_tokens, nv);
	printf("  \"argmax\": %u,\n  \"logits_hash\": \"%016" PRIx64 "\",\n",
	       argmax(r->logits, nv), hash(r->logits, nv));
	print_top(r->logits, nv, o->top);
	if (o->print_logits) {
		printf("  \"logits\": [");
		for (uint32_t i = 0; i < nv; i++) {
			printf(i ? ", " : "");
			print_float(r->logits[i]);
		}
		printf("],\n");
	}
	if (r->all) {
		printf("  \"all_logits\": [");
		for (uint32_t t = 0; t < o->n_tokens; t++) {
			printf(t ? ",\n    [" : "\n    [");
			for (uint32_t i = 0; i < nv; i++) {
				printf(i ? ", " : "");
				print_float(r->all[(size_t)t * nv + i]);
			}
			printf("]");
		}
		printf("],\n");
	}
	printf("  \"generated\": [");
	for (uint32_t i = 0; i < o->n_predict; i++)
		printf("%s%d", i ? ", " : "", (int)r->gen[i]);
	printf("],\n");
	printf("  \"seconds\": {\"open\": %.6f, \"load\": %.6f, \"prompt\": %.6f, \"decode\": "
	       "%.6f},\n", r->t_open, r->t_load, r->t_prompt, r->t_decode);
	printf("  \"tokens_per_second\": {\"prompt\": %.3f, \"decode\": %.3f},\n",
	       r->t_prompt > 0 ? o->n_tokens / r->t_prompt : 0.0,
	       r->t_decode > 0 && decoded ? decoded / r->t_decode : 0.0);
	printf("  \"last_eval\": {\"device_nodes\": %" PRIu64 ", \"fallback_nodes\": %" PRIu64
	       ", \"ubatches\": %" PRIu64 "},\n", st->device_nodes, st->fallback_nodes,
	       st->ubatches);
	print_memory(r);
	printf("  \"load\": {\"in_place\": %u, \"copied\": %u, \"repacked\": %u}\n}\n",
	       r->lr.n_in_place, r->lr.n_copied, r->lr.n_repacked);
}

int main(int argc, char **argv)
{
	struct opts o;
	struct run r;
	char err[2048] = "";
	int rc;

	memset(&r, 0, sizeof r);
	if ((rc = parse(argc, argv, &o)))
		return rc;
	rc = setup(&o, &r, err, sizeof err);
	if (!rc)
		rc = generate(&o, &r, err, sizeof err);
	if (!rc)
		print_json(&o, &r);
	else
		fprintf(stderr, "trit-forward: %s\n", err[0] ? err : "failed");
	trit_forward_free(r.f);
	trit_weights_free(r.w);
	trit_registry_close(r.reg);
	trit_model_close(r.m);
	free(r.logits);
	free(r.all);
	free(r.gen);
	free(o.tokens);
	return rc ? 1 : 0;
}
