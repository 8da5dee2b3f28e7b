/*
 * config.c - deployment configuration: reads deploy.ini (through inifile.c), TRIT_*
 * environment variables and command-line values into one list of entries,
 * each checked against the schema table below and remembering where it came
 * from. What the values mean (threads, limits, strategy) is left to the
 * registry, planner and loader; [plugin.<name>] keys are stored unchecked for
 * their plugin to validate.
 */
#include <build-config.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h> /* environ */

#include "core/common.h"
#include "config/config.h"
#include "config/inifile.h"
#include "core/log.h"

/* ------------------------------------------------------------------ schema */

static const struct trit_config_key schema[] = {
	{ .section = "runtime", .key = "plugin_path", .type = TRIT_CFG_PATH_LIST,
	  .doc = "Extra plugin directories (colon-separated), searched after "
	         "the directories in TRIT_PLUGIN_PATH." },
	{ .section = "runtime", .key = "plugin_watchdog", .type = TRIT_CFG_INT,
	  .env = "TRIT_PLUGIN_WATCHDOG", .min = 0, .max = 86400, .def = "10",
	  .doc = "Seconds a plugin may spend loading (dlopen, init, its devices) "
	         "before trit warns, naming it, that it has not returned; trit keeps "
	         "waiting. 0: never warn." },
	{ .section = "runtime", .key = "allow_insecure_plugins", .type = TRIT_CFG_BOOL,
	  .env = "TRIT_ALLOW_INSECURE_PLUGINS", .def = "no",
	  .doc = "Load plugin files that a user other than root and the one trit "
	         "runs as could have written (a world-writable directory, a file "
	         "someone else owns); refused with the reason otherwise." },
	{ .section = "runtime", .key = "isolate_plugins", .type = TRIT_CFG_BOOL,
	  .env = "TRIT_ISOLATE_PLUGINS", .def = "no",
	  .doc = "Load each plugin file in a separate process first (its init and "
	         "device list included) and load it into trit only when that went "
	         "well; a crash, exit() or hang there refuses the plugin." },
	{ .section = "runtime", .key = "isolate_timeout", .type = TRIT_CFG_INT,
	  .env = "TRIT_ISOLATE_TIMEOUT", .min = 1, .max = 86400, .def = "60",
	  .doc = "Seconds a plugin may take to load in its separate process "
	         "(isolate_plugins) before it is stopped and refused." },
	{ .section = "runtime", .key = "log_level", .type = TRIT_CFG_ENUM,
	  .env = "TRIT_LOG", .choices = "error|warn|info|debug|trace", .def = "warn",
	  .doc = "How much the runtime logs, from errors only to every step." },
	{ .section = "runtime", .key = "threads", .type = TRIT_CFG_INT,
	  .env = "TRIT_THREADS", .min = 0, .max = 4096, .def = "0",
	  .doc = "CPU threads for inference; 0 lets the planner choose from the "
	         "measured cores." },
	{ .section = "runtime", .key = "bench_cache", .type = TRIT_CFG_PATH,
	  .env = "TRIT_BENCH_CACHE",
	  .doc = "The file trit bench writes its results to and trit devices and "
	         "trit plan read them from; unset: $XDG_CACHE_HOME/trit/bench.json, "
	         "else ~/.cache/trit/bench.json." },

	{ .section = "runtime", .key = "probe_cache", .type = TRIT_CFG_PATH,
	  .env = "TRIT_PROBE_CACHE",
	  .doc = "The file where plugins keep measurements that are slow to take "
	         "and do not change (memory bandwidth, a driver's device list); "
	         "unset: $XDG_CACHE_HOME/trit/probe.json, else ~/.cache/trit/probe.json." },
	{ .section = "runtime", .key = "probe_cache_max_age", .type = TRIT_CFG_INT,
	  .env = "TRIT_PROBE_CACHE_MAX_AGE", .min = 0, .max = 31536000, .def = "604800",
	  .doc = "Seconds a cached measurement is used before it is taken again; "
	         "0: never use or write the probe cache." },

	{ .section = "model", .key = "path", .type = TRIT_CFG_PATH,
	  .env = "TRIT_MODEL",
	  .doc = "The model file to load." },
	{ .section = "model", .key = "context", .type = TRIT_CFG_INT,
	  .env = "TRIT_CONTEXT", .min = 0, .max = 16777216, .def = "0",
	  .doc = "Context length in tokens; 0 uses the model's training context." },
	{ .section = "model", .key = "batch", .type = TRIT_CFG_INT,
	  .env = "TRIT_BATCH", .min = 1, .max = 65536,
	  .doc = "Logical batch size in tokens; unset lets the planner choose." },
	{ .section = "model", .key = "ubatch", .type = TRIT_CFG_INT,
	  .env = "TRIT_UBATCH", .min = 1, .max = 65536,
	  .doc = "Physical batch size in tokens per forward pass; unset lets the "
	         "planner choose." },
	{ .section = "model", .key = "sequences", .type = TRIT_CFG_INT,
	  .env = "TRIT_SEQUENCES", .min = 1, .max = 1024, .def = "1",
	  .doc = "Sequences decoded in parallel; they share the context's KV cells, "
	         "and each keeps its own sliding window." },
	{ .section = "model", .key = "kv_type", .type = TRIT_CFG_ENUM,
	  .env = "TRIT_KV_TYPE", .choices = "f32|f16|q8_0", .def = "f16",
	  .doc = "Element type of the KV cache." },

	{ .section = "memory", .key = "headroom", .type = TRIT_CFG_FRACTION,
	  .env = "TRIT_HEADROOM", .fmin = 0.0, .fmax = 0.9,
	  .doc = "Memory kept free on each device on top of its estimate, as a share "
	         "of the estimate; unset: 10%, or 20% when the estimate exceeds 8 GiB." },
	{ .section = "memory", .key = "kv_pad", .type = TRIT_CFG_INT,
	  .env = "TRIT_KV_PAD", .min = 1, .max = 65536, .def = "256",
	  .doc = "KV cache cells are allocated in multiples of this many tokens "
	         "(llama.cpp pads its context to 256)." },
	{ .section = "memory", .key = "limit.*", .type = TRIT_CFG_SIZE,
	  .min = INT64_C(1) << 20, .max = INT64_MAX,
	  .doc = "limit.<backend>.<device-id> = 12GiB caps the memory the planner "
	         "may use on that device." },

	{ .section = "planner", .key = "strategy", .type = TRIT_CFG_ENUM,
	  .env = "TRIT_STRATEGY", .choices = "auto|cpu|gpu|hybrid", .def = "auto",
	  .doc = "Where layers run: auto lets the planner decide, cpu or gpu keeps "
	         "them on one kind of device, hybrid splits them." },
	{ .section = "planner", .key = "priority", .type = TRIT_CFG_ENUM,
	  .env = "TRIT_PRIORITY", .choices = "balanced|latency|throughput",
	  .def = "balanced",
	  .doc = "What the planner optimises: time per token (latency), tokens "
	         "per second over all sequences (throughput), or both." },
	{ .section = "planner", .key = "max_gpu_layers", .type = TRIT_CFG_INT,
	  .env = "TRIT_MAX_GPU_LAYERS", .min = -1, .max = 100000, .def = "-1",
	  .doc = "Most layers the planner may place on GPUs; -1 = no cap." },
	{ .section = "planner", .key = "gpu_fraction", .type = TRIT_CFG_FRACTION,
	  .env = "TRIT_GPU_FRACTION", .fmin = 0.01, .fmax = 0.95, .def = "0.90",
	  .doc = "Largest share of a GPU's free memory the planner may use." },
	{ .section = "planner", .key = "workspace_fraction", .type = TRIT_CFG_FRACTION,
	  .env = "TRIT_WORKSPACE_FRACTION", .fmin = 0.05, .fmax = 0.95, .def = "0.80",
	  .doc = "Seed 002 workspace rule: usable = this share of a GPU's measured "
	         "free memory, minus weights, minus workspace_overhead of it." },
	{ .section = "planner", .key = "workspace_overhead", .type = TRIT_CFG_FRACTION,
	  .env = "TRIT_WORKSPACE_OVERHEAD", .fmin = 0.0, .fmax = 0.5, .def = "0.05",
	  .doc = "Share of a GPU's free memory the workspace rule keeps back." },
	{ .section = "planner", .key = "max_batch", .type = TRIT_CFG_INT,
	  .env = "TRIT_MAX_BATCH", .min = 1, .max = 256, .def = "256",
	  .doc = "Largest batch the planner considers when it chooses one." },
	{ .section = "planner", .key = "bitnet_floats", .type = TRIT_CFG_ENUM,
	  .env = "TRIT_BITNET_FLOATS", .choices = "ternary|as-stored", .def = "ternary",
	  .doc = "A BitNet model's F32/F16/BF16 projection matrices: ternary repacks "
	         "them at load time into the device's ternary format (BitNet's int8 "
	         "activations, the model as trained); as-stored runs them as floats "
	         "where the device has that kernel, as llama.cpp does." },
	{ .section = "planner", .key = "ternary_format", .type = TRIT_CFG_ENUM,
	  .env = "TRIT_TERNARY_FORMAT", .choices = "auto|i2_s|tl1|tl2", .def = "auto",
	  .doc = "The format a BitNet model's ternary matrices run in on every device: "
	         "auto keeps an I2_S file's format and repacks other weights into trit "
	         "bench's fastest (else I2_S, TL2, TL1); i2_s, tl1 or tl2 forces that one "
	         "(an I2_S file is repacked at load), over the bench cache. A device "
	         "without the kernel cannot run the model: the plan says so." },

	{ .section = "parallel", .key = "tp", .type = TRIT_CFG_INT,
	  .env = "TRIT_TP", .min = 1, .max = 1024, .def = "1",
	  .doc = "Tensor-parallel ranks of a deployment another engine runs: each GPU "
	         "of a pipeline stage holds 1/tp of the matrices and KV heads "
	         "(trit plan; trit run runs none)." },
	{ .section = "parallel", .key = "pp", .type = TRIT_CFG_INT,
	  .env = "TRIT_PP", .min = 1, .max = 1024, .def = "1",
	  .doc = "Pipeline stages: whole layers per stage, as vLLM partitions them; "
	         "the first holds the embeddings, the last the output." },
	{ .section = "parallel", .key = "ep", .type = TRIT_CFG_INT,
	  .env = "TRIT_EP", .min = 1, .max = 1024, .def = "1",
	  .doc = "Expert-parallel ranks of a mixture of experts: each holds "
	         "n_expert/ep whole experts; a multiple of tp." },

	{ .section = "engine", .key = "name", .type = TRIT_CFG_ENUM,
	  .env = "TRIT_ENGINE", .choices = "trit|llama.cpp", .def = "trit",
	  .doc = "Whose memory trit plan predicts: trit's own (it runs the model), or "
	         "llama.cpp's on the CPU (its model, KV cache and compute buffers)." },
	{ .section = "engine", .key = "flash_attn", .type = TRIT_CFG_ENUM,
	  .env = "TRIT_FLASH_ATTN", .choices = "auto|on|off", .def = "auto",
	  .doc = "Flash attention in the engine's profile; llama.cpp's auto turns it on "
	         "on the CPU." },
};

/* Sections checked key by key here, in documentation order. */
static const char *const schema_sections[] = { "runtime", "model", "memory", "planner",
                                               "parallel", "engine" };

#define PLUGIN_PREFIX "plugin."
#define SECTION_LIST "[runtime], [model], [memory], [planner], [parallel], [engine] or " \
	"[plugin.<name>]"

/* TRIT_* variables that other parts of trit read (not schema keys). */
static const char *const other_env[] = {
	"TRIT_CONFIG",      /* the CLI's default --config */
	"TRIT_PLUGIN_PATH", /* plugin directories, read by the registry */
	"TRIT_CUDA_DRIVER", /* CUDA driver library, read by the cuda plugin */
};

const struct trit_config_key *trit_config_schema(size_t *n)
{
	if (n)
		*n = TRIT_ARRAY_LEN(schema);
	return schema;
}

static int is_pattern(const struct trit_config_key *k)
{
	size_t n = strlen(k->key);
	return n >= 2 && k->key[n - 2] == '.' && k->key[n - 1] == '*';
}

static int schema_section_known(const char *section)
{
	for (size_t i = 0; i < TRIT_ARRAY_LEN(schema_sections); i++)
		if (strcmp(section, schema_sections[i]) == 0)
			return 1;
	return 0;
}

/* The schema key matching section/key ("limit.cpu.0" matches "limit.*"). */
static const struct trit_config_key *schema_find(const char *section, const char *key)
{
	for (size_t i = 0; i < TRIT_ARRAY_LEN(schema); i++) {
		const struct trit_config_key *k = &schema[i];
		if (strcmp(k->section, section) != 0)
			continue;
		if (is_pattern(k)) {
			size_t prefix = strlen(k->key) - 1; /* keeps the '.' */
			if (strncmp(key, k->key, prefix) == 0 && key[prefix] != '\0')
				return k;
		} else if (strcmp(k->key, key) == 0) {
			return k;
		}
	}
	return NULL;
}

/* [a-z0-9_]+ : plugin names, as in [plugin.cpu_avx2]. */
static int plugin_name_ok(const char *name)
{
	if (!*name)
		return 0;
	for (const char *c = name; *c; c++)
		if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '_'))
			return 0;
	return 1;
}

/* ----------------------------------------------------------- text helpers */

/* Case-insensitive edit distance, large for long strings. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[65], prev_diag;

	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		prev_diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost = tolower((unsigned char)a[i - 1]) !=
			              tolower((unsigned char)b[j - 1]);
			size_t best = prev_diag + cost;
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			prev_diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

/* Is `cand` an obvious correction of `name`? Keeps the best one in *best. */
static void consider(const char *name, const char *cand, const char **best, size_t *best_d)
{
	size_t d = edit_distance(name, cand);
	size_t allowed = strlen(name) <= 4 ? 1 : 2;
	if (d <= allowed && d < *best_d) {
		*best = cand;
		*best_d = d;
	}
}

/* Append to buf (always NUL-terminated, truncated at len). */
static void append(char *buf, size_t len, const char *fmt, ...) TRIT_PRINTF(3, 4);
static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/* What a key accepts, as the end of a sentence: "an integer from 0 to 4096". */
static void describe_expected(const struct trit_config_key *k, char *buf, size_t len)
{
	char lo[32], hi[32];

	buf[0] = '\0';
	switch (k->type) {
	case TRIT_CFG_STRING:
		append(buf, len, "any text");
		break;
	case TRIT_CFG_PATH:
		append(buf, len, "a file or directory path");
		break;
	case TRIT_CFG_PATH_LIST:
		append(buf, len, "directories separated by ':'");
		break;
	case TRIT_CFG_ENUM:
		append(buf, len, "one of ");
		for (const char *c = k->choices; *c; c++) {
			if (*c == '|')
				append(buf, len, ", ");
			else
				append(buf, len, "%c", *c);
		}
		break;
	case TRIT_CFG_INT:
		append(buf, len, "an integer from %" PRId64 " to %" PRId64, k->min, k->max);
		break;
	case TRIT_CFG_SIZE:
		trit_format_bytes((uint64_t)k->min, lo, sizeof lo);
		trit_format_bytes((uint64_t)k->max, hi, sizeof hi);
		if (k->max == INT64_MAX)
			append(buf, len, "a size of at least %s", lo);
		else
			append(buf, len, "a size from %s to %s", lo, hi);
		append(buf, len, " such as 512MiB or 12GiB (K, M, G, T, KiB, MiB, GiB, TiB "
		       "are powers of 1024; KB, MB, GB, TB powers of 1000; no unit is bytes)");
		break;
	case TRIT_CFG_FRACTION:
		append(buf, len, "a fraction from %g to %g or a percentage from %g%% to %g%%",
		       k->fmin, k->fmax, k->fmin * 100.0, k->fmax * 100.0);
		break;
	case TRIT_CFG_BOOL:
		append(buf, len, "yes/no, true/false, on/off or 1/0");
		break;
	}
}

/* ----------------------------------------------------------- value parsing */

static int parse_int(const char *v, int64_t *out, int *range)
{
	char *end;
	long long x;

	*range = 0;
	if (!isdigit((unsigned char)*v) && !((*v == '-' || *v == '+') &&
	                                      isdigit((unsigned char)v[1])))
		return -1;
	errno = 0;
	x = strtoll(v, &end, 10);
	if (*end != '\0')
		return -1;
	if (errno == ERANGE)
		*range = 1;
	*out = x;
	return 0;
}

/* "0.2", ".2", "20%", "20 %". Rejects nan, inf, hex and exponents. */
static int parse_fraction(const char *v, double *out)
{
	char *end;
	double x;

	if (strspn(v, "0123456789.") == 0)
		return -1;
	if (strpbrk(v, "xXeEpP"))
		return -1;
	errno = 0;
	x = strtod(v, &end);
	if (end == v || errno || !isfinite(x))
		return -1;
	while (*end == ' ' || *end == '\t')
		end++;
	if (*end == '%') {
		x /= 100.0;
		end++;
	}
	if (*end != '\0')
		return -1;
	*out = x;
	return 0;
}

static int parse_bool(const char *v, int64_t *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	for (size_t i = 0; i < TRIT_ARRAY_LEN(yes); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

/* Index of v in "a|b|c", or -1. */
static int64_t enum_index(const char *choices, const char *v)
{
	size_t n = strlen(v);
	int64_t i = 0;

	for (const char *c = choices; ; i++) {
		const char *bar = strchr(c, '|');
		size_t len = bar ? (size_t)(bar - c) : strlen(c);
		if (len == n && strncmp(c, v, n) == 0)
			return i;
		if (!bar)
			return -1;
		c = bar + 1;
	}
}

/*
 * Check v (already trimmed) against k and fill the parsed fields of e. On
 * failure return TRIT_ECONFIG with the reason in msg, phrased to follow
 * "[section] key: ".
 */
static int parse_value(const struct trit_config_key *k, const char *v,
                       struct trit_config_entry *e, char *msg, size_t len)
{
	char expected[384], q[72];
	const char *qv = trit_ini_quote(v, q);
	int range;

	describe_expected(k, expected, sizeof expected);
	if (!*v) {
		if (k->type == TRIT_CFG_STRING || k->type == TRIT_CFG_PATH_LIST)
			return 0;
		snprintf(msg, len, "empty value; expected %s", expected);
		return TRIT_ECONFIG;
	}
	switch (k->type) {
	case TRIT_CFG_STRING:
	case TRIT_CFG_PATH:
	case TRIT_CFG_PATH_LIST:
		return 0;
	case TRIT_CFG_ENUM:
		e->i = enum_index(k->choices, v);
		if (e->i >= 0)
			return 0;
		snprintf(msg, len, "%s is not %s", qv, expected);
		return TRIT_ECONFIG;
	case TRIT_CFG_INT:
		if (parse_int(v, &e->i, &range) != 0) {
			snprintf(msg, len, "%s is not an integer; expected %s", qv, expected);
			return TRIT_ECONFIG;
		}
		if (range || e->i < k->min || e->i > k->max) {
			snprintf(msg, len, "%s is out of range; expected %s", qv, expected);
			return TRIT_ECONFIG;
		}
		return 0;
	case TRIT_CFG_SIZE: {
		int rc = trit_parse_size(v, &e->size);
		if (rc == TRIT_EINVAL) {
			snprintf(msg, len, "%s is not a size; expected %s", qv, expected);
			return TRIT_ECONFIG;
		}
		if (rc != 0 || e->size < (uint64_t)k->min || e->size > (uint64_t)k->max) {
			snprintf(msg, len, "%s is out of range; expected %s", qv, expected);
			return TRIT_ECONFIG;
		}
		return 0;
	}
	case TRIT_CFG_FRACTION:
		if (parse_fraction(v, &e->f) != 0) {
			snprintf(msg, len, "%s is not a fraction; expected %s", qv, expected);
			return TRIT_ECONFIG;
		}
		/* Bounds are inclusive; the slack absorbs "95%" / 100 rounding. */
		if (e->f < k->fmin - 1e-12 || e->f > k->fmax + 1e-12) {
			snprintf(msg, len, "%s is out of range; expected %s", qv, expected);
			return TRIT_ECONFIG;
		}
		return 0;
	case TRIT_CFG_BOOL:
		if (parse_bool(v, &e->i) == 0)
			return 0;
		snprintf(msg, len, "%s is not %s", qv, expected);
		return TRIT_ECONFIG;
	}
	snprintf(msg, len, "schema type %d is not handled", (int)k->type);
	return TRIT_EINTERNAL;
}

/*
 * Is `section` one we accept? 0 if so (plugin sections included); otherwise
 * TRIT_ECONFIG with the reason in msg.
 */
static int check_section(const char *section, char *msg, size_t len)
{
	if (schema_section_known(section))
		return 0;
	if (strncmp(section, PLUGIN_PREFIX, strlen(PLUGIN_PREFIX)) == 0) {
		if (plugin_name_ok(section + strlen(PLUGIN_PREFIX)))
			return 0;
		snprintf(msg, len, "bad plugin section name [%.64s]: the name after 'plugin.' "
		         "must be lower-case letters, digits and '_', as in [plugin.cpu_avx2]",
		         section);
		return TRIT_ECONFIG;
	}
	const char *best = NULL;
	size_t best_d = SIZE_MAX;
	for (size_t i = 0; i < TRIT_ARRAY_LEN(schema_sections); i++)
		consider(section, schema_sections[i], &best, &best_d);
	snprintf(msg, len, "unknown section [%.64s]", section);
	if (best)
		append(msg, len, " (did you mean [%s]?)", best);
	append(msg, len, "; known sections: " SECTION_LIST);
	return TRIT_ECONFIG;
}

/* "[planner] unknown key 'prio'; accepted keys: strategy, priority, ..." */
static void unknown_key_msg(const char *section, const char *key, char *msg, size_t len)
{
	char q[72];
	const char *best = NULL;
	size_t best_d = SIZE_MAX;
	int first = 1;

	for (size_t i = 0; i < TRIT_ARRAY_LEN(schema); i++)
		if (strcmp(schema[i].section, section) == 0 && !is_pattern(&schema[i]))
			consider(key, schema[i].key, &best, &best_d);
	snprintf(msg, len, "[%s] unknown key %s", section, trit_ini_quote(key, q));
	if (best)
		append(msg, len, " (did you mean '%s'?)", best);
	append(msg, len, "; accepted keys: ");
	for (size_t i = 0; i < TRIT_ARRAY_LEN(schema); i++) {
		if (strcmp(schema[i].section, section) != 0)
			continue;
		append(msg, len, "%s%s", first ? "" : ", ",
		       is_pattern(&schema[i]) ? "limit.<backend>.<device-id>" : schema[i].key);
		first = 0;
	}
}

/* ---------------------------------------------------------------- entries */

static void entry_free(struct trit_config_entry *e)
{
	free(e->section);
	free(e->key);
	free(e->value);
	free(e->where);
	memset(e, 0, sizeof *e);
}

void trit_config_init(struct trit_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
}

void trit_config_free(struct trit_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n_entries; i++)
		entry_free(&cfg->entries[i]);
	free(cfg->entries);
	free(cfg->path);
	trit_config_index_free(&cfg->index);
	trit_config_init(cfg);
}

static int reserve(struct trit_config *cfg, size_t need)
{
	size_t cap = cfg->cap_entries ? cfg->cap_entries : 8;
	struct trit_config_entry *v;

	if (need <= cfg->cap_entries)
		return 0;
	while (cap < need)
		cap *= 2;
	v = realloc(cfg->entries, cap * sizeof *v);
	if (!v)
		return TRIT_ENOMEM;
	cfg->entries = v;
	cfg->cap_entries = cap;
	return 0;
}

static struct trit_config_entry *find_mut(const struct trit_config *cfg,
                                          const char *section, const char *key)
{
	size_t at;

	return trit_config_index_find(&cfg->index, section, key, &at) ? &cfg->entries[at] : NULL;
}

static int is_plugin(const char *section)
{
	return strncmp(section, PLUGIN_PREFIX, strlen(PLUGIN_PREFIX)) == 0;
}

/* Add a copy of *parsed (its parsed fields) with fresh strings: appended, or
 * in place of an entry of the same section and key (the later one wins, as
 * merge() would have it). Used on the scratch configurations that merge()
 * then moves into the real one: a failure leaves them to be freed. */
static int add_entry(struct trit_config *cfg, const struct trit_config_entry *parsed,
                     const char *section, const char *key, const char *value,
                     const char *where)
{
	struct trit_config_entry e = *parsed, *old;

	if (reserve(cfg, cfg->n_entries + 1) != 0)
		return TRIT_ENOMEM;
	e.section = trit_strdup(section);
	e.key = trit_strdup(key);
	e.value = trit_strdup(value);
	e.where = trit_strdup(where);
	if (!e.section || !e.key || !e.value || !e.where) {
		entry_free(&e);
		return TRIT_ENOMEM;
	}
	if ((old = find_mut(cfg, section, key)) != NULL) {
		entry_free(old);
		*old = e;
		return 0;
	}
	if (trit_config_index_add(&cfg->index, section, key, cfg->n_entries, is_plugin(section))) {
		entry_free(&e);
		return TRIT_ENOMEM;
	}
	cfg->entries[cfg->n_entries++] = e;
	return 0;
}

/* The index cfg will have once merge() has moved tmp's entries in: cfg's
 * entries where they are, then tmp's new keys appended in tmp's order. */
static int merged_index(const struct trit_config *cfg, const struct trit_config *tmp,
                        struct trit_config_index *out)
{
	size_t n = cfg->n_entries;

	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < cfg->n_entries; i++) {
		const struct trit_config_entry *e = &cfg->entries[i];
		if (trit_config_index_add(out, e->section, e->key, i, is_plugin(e->section)))
			goto oom;
	}
	for (size_t i = 0; i < tmp->n_entries; i++) {
		const struct trit_config_entry *e = &tmp->entries[i];
		if (!find_mut(cfg, e->section, e->key) &&
		    trit_config_index_add(out, e->section, e->key, n++, is_plugin(e->section)))
			goto oom;
	}
	return 0;
oom:
	trit_config_index_free(out);
	return TRIT_ENOMEM;
}

/*
 * Move every entry of tmp into cfg. A value replaces the one already there
 * only if it comes from the same or a higher layer (file < environment <
 * command line), so the order in which layers are applied does not matter.
 * Cannot fail once the room is reserved, so cfg is changed all or nothing.
 */
static int merge(struct trit_config *cfg, struct trit_config *tmp)
{
	struct trit_config_index ix;

	if (reserve(cfg, cfg->n_entries + tmp->n_entries) != 0 ||
	    merged_index(cfg, tmp, &ix) != 0)
		return TRIT_ENOMEM;
	/* tmp holds each key once (add_entry), so looking tmp's keys up in
	 * cfg's old index while appending finds only cfg's old entries */
	for (size_t i = 0; i < tmp->n_entries; i++) {
		struct trit_config_entry *e = &tmp->entries[i];
		struct trit_config_entry *old = find_mut(cfg, e->section, e->key);
		if (!old) {
			cfg->entries[cfg->n_entries++] = *e;
		} else if (old->origin <= e->origin) {
			entry_free(old);
			*old = *e;
		} else {
			entry_free(e);
		}
		memset(e, 0, sizeof *e);
	}
	tmp->n_entries = 0;
	trit_config_index_free(&cfg->index);
	cfg->index = ix;
	return 0;
}

/* ------------------------------------------------------------- INI files */

/* What deploy.ini's sections mean; inifile.c does the reading. */
struct file_read {
	int plugin;             /* the current section is [plugin.<name>] */
	struct trit_config tmp; /* the file's values, merged only if all is well */
};

static int on_section(struct trit_ini *ini, void *user, const char *name)
{
	struct file_read *r = user;
	char msg[768];

	if (check_section(name, msg, sizeof msg) != 0) {
		trit_ini_problem(ini, trit_ini_line(ini), "%s", msg);
		return TRIT_ECONFIG;
	}
	r->plugin = !schema_section_known(name);
	return 0;
}

static void on_key(struct trit_ini *ini, void *user, const char *section, const char *name,
                   const char *value)
{
	struct file_read *r = user;
	struct trit_config_entry parsed = { .origin = TRIT_CFG_FROM_FILE };
	char msg[768];
	int line = trit_ini_line(ini);

	if (!r->plugin) {
		parsed.schema = schema_find(section, name);
		if (!parsed.schema) {
			unknown_key_msg(section, name, msg, sizeof msg);
			trit_ini_problem(ini, line, "%s", msg);
			return;
		}
		if (parse_value(parsed.schema, value, &parsed, msg, sizeof msg) != 0) {
			trit_ini_problem(ini, line, "[%s] %s: %s", section, name, msg);
			return;
		}
	}
	char *w = trit_asprintf("%s:%d", trit_ini_path(ini), line);
	if (!w || add_entry(&r->tmp, &parsed, section, name, value, w) != 0)
		trit_ini_oom(ini);
	free(w);
}

static const struct trit_ini_handler deploy_ini = {
	.what = "config file",
	.sections = SECTION_LIST,
	.section = on_section,
	.key = on_key,
};

int trit_config_load_file(struct trit_config *cfg, const char *path, char *err, size_t errlen)
{
	struct file_read r = { 0 };
	char *new_path = NULL;
	int rc;

	if (!cfg || !path)
		return trit_errf(err, errlen, TRIT_EINVAL,
		                 "trit_config_load_file: no configuration or no path given");
	trit_config_init(&r.tmp);
	rc = trit_ini_parse(path, &deploy_ini, &r, err, errlen);
	if (rc == 0 && (!(new_path = trit_strdup(path)) || merge(cfg, &r.tmp) != 0)) {
		free(new_path);
		rc = trit_errf(err, errlen, TRIT_ENOMEM, "out of memory while reading '%s'", path);
	} else if (rc == 0) {
		free(cfg->path);
		cfg->path = new_path;
	}
	trit_config_free(&r.tmp);
	return rc;
}

/* ------------------------------------------------------------ environment */

/* Copy of s without leading and trailing blanks; NULL when out of memory. */
static char *trimmed_copy(const char *s)
{
	size_t len;

	while (isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	char *t = malloc(len + 1);
	if (t) {
		memcpy(t, s, len);
		t[len] = '\0';
	}
	return t;
}

static int env_known(const char *name)
{
	for (size_t i = 0; i < TRIT_ARRAY_LEN(schema); i++)
		if (schema[i].env && strcmp(schema[i].env, name) == 0)
			return 1;
	for (size_t i = 0; i < TRIT_ARRAY_LEN(other_env); i++)
		if (strcmp(other_env[i], name) == 0)
			return 1;
	return 0;
}

/* Name of an environ entry ("NAME=value") into buf; 0 if it does not fit. */
static int env_name(const char *entry, char *buf, size_t len)
{
	const char *eq = strchr(entry, '=');
	size_t n = eq ? (size_t)(eq - entry) : strlen(entry);

	if (n >= len)
		return 0;
	memcpy(buf, entry, n);
	buf[n] = '\0';
	return 1;
}

static void warn_unknown_env(void)
{
	char name[256];

	for (char **e = environ; e && *e; e++) {
		if (strncmp(*e, "TRIT_", 5) != 0 || !env_name(*e, name, sizeof name))
			continue;
		if (env_known(name) || strncmp(name, "TRIT_PLUGIN_", 12) == 0 ||
		    strncmp(name, "TRIT_TEST_", 10) == 0 || !trit_getenv(name))
			continue;
		const char *best = NULL;
		size_t best_d = SIZE_MAX;
		for (size_t i = 0; i < TRIT_ARRAY_LEN(schema); i++)
			if (schema[i].env)
				consider(name, schema[i].env, &best, &best_d);
		for (size_t i = 0; i < TRIT_ARRAY_LEN(other_env); i++)
			consider(name, other_env[i], &best, &best_d);
		if (best)
			trit_log(TRIT_LOG_WARN, "environment variable %s is not one trit reads "
			         "(did you mean %s?)", name, best);
		else
			trit_log(TRIT_LOG_WARN, "environment variable %s is not one trit reads; "
			         "docs/config.md lists those it does", name);
	}
}

int trit_config_apply_env(struct trit_config *cfg, char *err, size_t errlen)
{
	struct trit_config tmp;
	struct trit_problems probs = { 0 };
	char msg[768];
	int rc = 0;

	if (!cfg)
		return trit_errf(err, errlen, TRIT_EINVAL, "trit_config_apply_env: no configuration");
	trit_config_init(&tmp);
	for (size_t i = 0; i < TRIT_ARRAY_LEN(schema) && !probs.oom; i++) {
		const struct trit_config_key *k = &schema[i];
		struct trit_config_entry parsed = { .schema = k, .origin = TRIT_CFG_FROM_ENV };
		const char *raw = k->env ? trit_getenv(k->env) : NULL;
		char *v, *where;

		if (!raw)
			continue;
		if (!(v = trimmed_copy(raw))) {
			probs.oom = 1;
			break;
		}
		if (!*v) {
			/* set but empty counts as unset */
		} else if (parse_value(k, v, &parsed, msg, sizeof msg) != 0) {
			trit_problems_add(&probs, 0, "environment %s: %s", k->env, msg);
		} else if (!(where = trit_asprintf("environment %s", k->env))) {
			probs.oom = 1;
		} else {
			if (add_entry(&tmp, &parsed, k->section, k->key, v, where) != 0)
				probs.oom = 1;
			free(where);
		}
		free(v);
	}
	warn_unknown_env();
	if (probs.oom) {
		rc = trit_errf(err, errlen, TRIT_ENOMEM, "out of memory while reading the environment");
	} else if (probs.n) {
		trit_problems_write(&probs, err, errlen);
		rc = TRIT_ECONFIG;
	} else if (merge(cfg, &tmp) != 0) {
		rc = trit_errf(err, errlen, TRIT_ENOMEM, "out of memory while reading the environment");
	}
	trit_problems_free(&probs);
	trit_config_free(&tmp);
	return rc;
}

/* --------------------------------------------------------- command line */

int trit_config_set(struct trit_config *cfg, const char *section, const char *key,
                    const char *value, const char *where, char *err, size_t errlen)
{
	struct trit_config tmp;
	struct trit_config_entry parsed = { .origin = TRIT_CFG_FROM_CLI };
	char msg[768];
	char *v;
	int rc;

	if (!cfg || !section || !key || !value)
		return trit_errf(err, errlen, TRIT_EINVAL,
		                 "trit_config_set: section, key and value are all needed");
	if (!where)
		where = "command line";
	if (check_section(section, msg, sizeof msg) != 0)
		return trit_errf(err, errlen, TRIT_ECONFIG, "%s: %s", where, msg);
	if (!*key)
		return trit_errf(err, errlen, TRIT_ECONFIG, "%s: [%s] empty key name", where, section);
	if (schema_section_known(section)) {
		parsed.schema = schema_find(section, key);
		if (!parsed.schema) {
			unknown_key_msg(section, key, msg, sizeof msg);
			return trit_errf(err, errlen, TRIT_ECONFIG, "%s: %s", where, msg);
		}
	}
	if (!(v = trimmed_copy(value)))
		return trit_errf(err, errlen, TRIT_ENOMEM, "%s: out of memory", where);
	if (parsed.schema && parse_value(parsed.schema, v, &parsed, msg, sizeof msg) != 0) {
		rc = trit_errf(err, errlen, TRIT_ECONFIG, "%s: [%s] %s: %s", where, section, key, msg);
		free(v);
		return rc;
	}
	trit_config_init(&tmp);
	rc = add_entry(&tmp, &parsed, section, key, v, where);
	if (rc == 0)
		rc = merge(cfg, &tmp);
	if (rc != 0)
		rc = trit_errf(err, errlen, TRIT_ENOMEM, "%s: out of memory", where);
	trit_config_free(&tmp);
	free(v);
	return rc;
}

/* ---------------------------------------------------------------- queries */

const struct trit_config_entry *trit_config_find(const struct trit_config *cfg,
                                                 const char *section, const char *key)
{
	if (!cfg || !section || !key)
		return NULL;
	return find_mut(cfg, section, key);
}

const char *trit_config_get(const struct trit_config *cfg, const char *section, const char *key)
{
	const struct trit_config_entry *e = trit_config_find(cfg, section, key);
	const struct trit_config_key *k;

	if (e)
		return e->value;
	k = section && key ? schema_find(section, key) : NULL;
	return k ? k->def : NULL;
}

const char *trit_config_where(const struct trit_config *cfg, const char *section, const char *key)
{
	const struct trit_config_entry *e = trit_config_find(cfg, section, key);
	const struct trit_config_key *k;

	if (e)
		return e->where;
	k = section && key ? schema_find(section, key) : NULL;
	return k && k->def ? "default" : NULL;
}

int trit_config_typed(const struct trit_config *cfg, const char *section, const char *key,
                      struct trit_config_value *out)
{
	const struct trit_config_entry *e = trit_config_find(cfg, section, key);
	const struct trit_config_key *k = section && key ? schema_find(section, key) : NULL;
	struct trit_config_entry def = { .schema = k };
	char msg[256];

	memset(out, 0, sizeof *out);
	if (!e && !k)
		return section && strncmp(section, PLUGIN_PREFIX, strlen(PLUGIN_PREFIX)) == 0 ? 0 :
		       TRIT_EINVAL;
	if (!e && !k->def)
		return 0;
	if (!e) {
		/* the schema's defaults are checked by the suite; one its own
		 * type rejects is a bug, not a user's mistake */
		if (parse_value(k, k->def, &def, msg, sizeof msg))
			return TRIT_EINTERNAL;
		out->text = k->def;
		out->where = "default";
		e = &def;
	} else {
		out->text = e->value;
		out->where = e->where;
	}
	out->i = e->i;
	out->size = e->size;
	out->fraction = e->f;
	return 0;
}

int64_t trit_config_int(const struct trit_config *cfg, const char *section, const char *key,
                        int64_t unset)
{
	struct trit_config_value v;

	return trit_config_typed(cfg, section, key, &v) || !v.text ? unset : v.i;
}

double trit_config_fraction(const struct trit_config *cfg, const char *section, const char *key,
                            double unset)
{
	struct trit_config_value v;

	return trit_config_typed(cfg, section, key, &v) || !v.text ? unset : v.fraction;
}

/* ---------------------------------------------------------------- plugins */

/* Is `rest` (after TRIT_PLUGIN_<NAME>_) the environment spelling of key? */
static int env_spells_key(const char *rest, const char *key)
{
	for (; *key; key++, rest++) {
		int c = (*key == '.' || *key == '-') ? '_' : toupper((unsigned char)*key);
		if (*rest != c)
			return 0;
	}
	return *rest == '\0';
}

/* The entries of [plugin.<plugin>] in the order they were set, or NULL. */
static const struct trit_config_group *plugin_group(const struct trit_config *cfg,
                                                    const char *plugin)
{
	char section[512];

	if ((size_t)snprintf(section, sizeof section, PLUGIN_PREFIX "%s", plugin) >= sizeof section)
		return NULL; /* no section this long is ever set: the INI reader's lines are shorter */
	return trit_config_index_group(&cfg->index, section);
}

int trit_config_import_plugin_env(struct trit_config *cfg, const char *plugin,
                                  char *err, size_t errlen)
{
	struct trit_config tmp;
	char prefix[128], name[256], section[128];
	size_t plen;
	int rc = 0;

	if (!cfg || !plugin)
		return trit_errf(err, errlen, TRIT_EINVAL,
		                 "trit_config_import_plugin_env: no configuration or no plugin name");
	if (!plugin_name_ok(plugin) || strlen(plugin) > 100)
		return trit_errf(err, errlen, TRIT_EINVAL, "plugin name '%s' is not lower-case "
		                 "letters, digits and '_' (at most 100)", plugin);
	snprintf(section, sizeof section, PLUGIN_PREFIX "%s", plugin);
	snprintf(prefix, sizeof prefix, "TRIT_PLUGIN_%s_", plugin);
	for (char *c = prefix; *c; c++)
		*c = (char)toupper((unsigned char)*c);
	plen = strlen(prefix);

	trit_config_init(&tmp);
	for (char **e = environ; e && *e && rc == 0; e++) {
		struct trit_config_entry parsed = { .origin = TRIT_CFG_FROM_ENV };
		const char *raw, *rest, *key;
		char *v, *lower = NULL, *where = NULL;

		if (strncmp(*e, prefix, plen) != 0 || !env_name(*e, name, sizeof name))
			continue;
		if (!(raw = trit_getenv(name)))
			continue;
		rest = name + plen;
		if (!*rest) {
			trit_log(TRIT_LOG_WARN, "environment variable %s names no key after the "
			         "plugin name; ignored", name);
			continue;
		}
		/* Keep the INI spelling of a key already set ("num-threads"). */
		key = NULL;
		const struct trit_config_group *g = plugin_group(cfg, plugin);
		for (size_t i = 0; g && i < g->n && !key; i++)
			if (env_spells_key(rest, cfg->entries[g->at[i]].key))
				key = cfg->entries[g->at[i]].key;
		if (!key && (lower = trit_strdup(rest)) != NULL) {
			for (char *c = lower; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			key = lower;
		}
		v = trimmed_copy(raw);
		where = trit_asprintf("environment %s", name);
		if (!key || !v || !where)
			rc = TRIT_ENOMEM;
		else if (*v)
			rc = add_entry(&tmp, &parsed, section, key, v, where);
		free(lower);
		free(v);
		free(where);
	}
	if (rc == 0)
		rc = merge(cfg, &tmp);
	if (rc != 0)
		rc = trit_errf(err, errlen, TRIT_ENOMEM,
		               "out of memory while reading the environment of plugin %s", plugin);
	trit_config_free(&tmp);
	return rc;
}

const char *trit_config_plugin_get(const struct trit_config *cfg, const char *plugin,
                                   const char *key, const char **where)
{
	if (where)
		*where = NULL;
	const struct trit_config_group *g;
	const struct trit_config_entry *e;

	if (!cfg || !plugin || !key || !(g = plugin_group(cfg, plugin)) ||
	    !(e = find_mut(cfg, cfg->entries[g->at[0]].section, key)))
		return NULL;
	if (where)
		*where = e->where;
	return e->value;
}

const char *trit_config_plugin_key(const struct trit_config *cfg, const char *plugin,
                                   size_t index)
{
	const struct trit_config_group *g;

	if (!cfg || !plugin || !(g = plugin_group(cfg, plugin)) || index >= g->n)
		return NULL;
	return cfg->entries[g->at[index]].key;
}

const char *trit_config_plugin_section(const struct trit_config *cfg, size_t index)
{
	if (!cfg || index >= cfg->index.n_groups)
		return NULL;
	return cfg->entries[cfg->index.groups[index].at[0]].section + strlen(PLUGIN_PREFIX);
}
