/*
 * described.c - the `described` backend: devices read from an INI file
 * (trit --devices FILE; format in docs/devices.md) instead of probed, so a
 * deployment can be planned for hardware that is not this machine. Every
 * number it reports is one the file gave (CONFIGURED, "described in
 * FILE:LINE") or unknown; it allocates no buffers and runs no kernels.
 */
#include <build-config.h>

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backend/described.h"
#include "core/caps.h"
#include "core/common.h"
#include "config/inifile.h"

/* The keys of a [device.<id>] section, in documentation order. */
enum field {
	F_KIND, F_NAME, F_VENDOR, F_MEMORY, F_FREE, F_BANDWIDTH, F_COMPUTE_UNITS,
	F_HW_THREADS, F_CLOCK, F_CC, F_KERNELS, F_CAPS, F_POOL, F_OVERHEAD, F_COUNT
};

static const char *const field_keys[F_COUNT] = {
	[F_KIND] = "kind", [F_NAME] = "name", [F_VENDOR] = "vendor",
	[F_MEMORY] = "memory", [F_FREE] = "free", [F_BANDWIDTH] = "bandwidth",
	[F_COMPUTE_UNITS] = "compute_units", [F_HW_THREADS] = "hw_threads",
	[F_CLOCK] = "clock", [F_CC] = "compute_capability", [F_KERNELS] = "kernels",
	[F_CAPS] = "caps", [F_POOL] = "pool", [F_OVERHEAD] = "overhead",
};

/* What each key expects, for messages about empty values. */
static const char *const field_hints[F_COUNT] = {
	[F_KIND] = "cpu, gpu or accelerator", [F_NAME] = "the device's name",
	[F_VENDOR] = "the vendor's name", [F_MEMORY] = "a size, e.g. 8GiB",
	[F_FREE] = "a size, e.g. 7.5GiB", [F_BANDWIDTH] = "bytes per second, e.g. 272GB/s",
	[F_COMPUTE_UNITS] = "an integer from 1 to 1000000",
	[F_HW_THREADS] = "an integer from 1 to 1000000", [F_CLOCK] = "a frequency, e.g. 2.46GHz",
	[F_CC] = "major.minor, e.g. 8.9",
	[F_KERNELS] = "trit type names separated by commas, e.g. I2_S, TL2, F16",
	[F_CAPS] = "capability names separated by commas, e.g. avx2, fma",
	[F_POOL] = "a memory pool name, e.g. host", [F_OVERHEAD] = "a size, e.g. 300MiB",
};

/* Largest count accepted for compute_units and hw_threads. */
#define MAX_COUNT 1000000

struct ddev {
	struct trit_device dev;
	struct trit_property props[2]; /* mem.pool, then mem.overhead if given */
	int line;                      /* of its [device.<id>] line */
	int at[F_COUNT];               /* line of each key given; 0 = not given */
	unsigned bad;                  /* bit f: the value of key f was refused */
};

/* Invariant: every string a device points to is in `strings` (or static). */
struct dstate {
	const char *path;        /* the file, as the host named it (in `strings`) */
	const char *not_given;   /* "not described in FILE" */
	struct ddev devs[TRIT_DESCRIBED_MAX_DEVICES];
	uint32_t n;
	struct ddev *cur;        /* device of the current section; NULL if refused */
	char **strings;
	size_t n_strings, cap_strings;
};

static void state_free(struct dstate *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_strings; i++)
		free(s->strings[i]);
	free(s->strings);
	free(s);
}

/* Take ownership of str (a heap string or NULL); NULL when out of memory. */
static char *keep(struct dstate *s, char *str)
{
	if (str && s->n_strings == s->cap_strings) {
		size_t cap = s->cap_strings ? s->cap_strings * 2 : 32;
		char **v = realloc(s->strings, cap * sizeof *v);
		if (!v) {
			free(str);
			return NULL;
		}
		s->strings = v;
		s->cap_strings = cap;
	}
	if (str)
		s->strings[s->n_strings++] = str;
	return str;
}

/* ------------------------------------------------------------------ values */

static int bad_size(const char *v, char *msg, size_t len)
{
	char q[72];
	snprintf(msg, len, "%s is not a size; expected a number with an optional unit, "
	         "e.g. 8GiB (binary) or 8GB (decimal)", trit_ini_quote(v, q));
	return TRIT_ECONFIG;
}

static int parse_bytes(const char *v, int positive, uint64_t *out, char *msg, size_t len)
{
	char q[72];
	int rc = trit_parse_size(v, out);

	if (rc == TRIT_ERANGE) {
		snprintf(msg, len, "%s is too large", trit_ini_quote(v, q));
		return TRIT_ECONFIG;
	}
	if (rc)
		return bad_size(v, msg, len);
	if (positive && *out == 0) {
		snprintf(msg, len, "%s is zero; expected a size greater than 0",
		         trit_ini_quote(v, q));
		return TRIT_ECONFIG;
	}
	return 0;
}

/* "272GB/s", "50 GiB/s": a size followed by "/s". */
int trit_described_parse_rate(const char *v, uint64_t *out, char *msg, size_t len)
{
	size_t n = strlen(v);
	char q[72], *size;
	int rc;

	if (n < 3 || strcasecmp(v + n - 2, "/s") != 0) {
		snprintf(msg, len, "%s is not a bandwidth; expected bytes per second: a size "
		         "followed by /s, e.g. 272GB/s", trit_ini_quote(v, q));
		return TRIT_ECONFIG;
	}
	if (!(size = trit_strdup(v)))
		return TRIT_ENOMEM;
	size[n - 2] = '\0';
	rc = trit_parse_size(size, out);
	free(size);
	if (rc == 0 && *out > 0)
		return 0;
	snprintf(msg, len, "%s is not a bandwidth; expected a size greater than 0 followed "
	         "by /s, e.g. 272GB/s or 100GiB/s", trit_ini_quote(v, q));
	return TRIT_ECONFIG;
}

/* Decimal digits only, in [1, MAX_COUNT]. */
static int parse_count(const char *v, uint64_t *out, char *msg, size_t len)
{
	char q[72];
	uint64_t x = 0;
	const char *c = v;

	for (; *c >= '0' && *c <= '9' && x <= MAX_COUNT; c++)
		x = x * 10 + (uint64_t)(*c - '0');
	if (c == v || *c || x < 1 || x > MAX_COUNT) {
		snprintf(msg, len, "%s is not an integer from 1 to %d", trit_ini_quote(v, q),
		         MAX_COUNT);
		return TRIT_ECONFIG;
	}
	*out = x;
	return 0;
}

/* "2.46GHz", "1800 MHz": a decimal followed by Hz, kHz, MHz or GHz. */
static int parse_clock(const char *v, uint64_t *out, char *msg, size_t len)
{
	static const struct { const char *unit; double mult; } units[] = {
		{ "hz", 1.0 }, { "khz", 1e3 }, { "mhz", 1e6 }, { "ghz", 1e9 },
	};
	size_t span = strspn(v, "0123456789.");
	const char *unit = v + span;
	char q[72], *end;
	double x;

	while (isspace((unsigned char)*unit))
		unit++;
	errno = 0;
	x = span ? strtod(v, &end) : 0.0;
	if (span && end == v + span && !errno)
		for (size_t i = 0; i < TRIT_ARRAY_LEN(units); i++)
			if (strcasecmp(unit, units[i].unit) == 0) {
				x *= units[i].mult;
				if (!(x >= 1.0 && x <= 1e12))
					break;
				*out = (uint64_t)(x + 0.5);
				return 0;
			}
	snprintf(msg, len, "%s is not a clock; expected a frequency from 1Hz to 1000GHz "
	         "with a unit: Hz, kHz, MHz or GHz, e.g. 2.46GHz", trit_ini_quote(v, q));
	return TRIT_ECONFIG;
}

/* "8.9" -> 89, as NVIDIA publishes compute capabilities. */
static int parse_cc(const char *v, uint64_t *out, char *msg, size_t len)
{
	char q[72];
	size_t major = strspn(v, "0123456789");

	if (major >= 1 && major <= 2 && v[major] == '.' && isdigit((unsigned char)v[major + 1]) &&
	    v[major + 2] == '\0') {
		*out = (uint64_t)strtoul(v, NULL, 10) * 10 + (uint64_t)(v[major + 1] - '0');
		if (*out >= 10)
			return 0;
	}
	snprintf(msg, len, "%s is not a compute capability; expected major.minor as the "
	         "vendor publishes it, e.g. 8.9", trit_ini_quote(v, q));
	return TRIT_ECONFIG;
}

/* One name of a kernels or caps list -> its bit; 0 when unknown. */
static uint64_t type_bit(const char *name)
{
	for (uint32_t t = 0; t < TRIT_TYPE_COUNT; t++)
		if (strcasecmp(name, trit_type_traits(t)->name) == 0)
			return TRIT_TYPE_BIT(t);
	return 0;
}

static uint64_t cap_bit(const char *name)
{
	for (int b = 0; b < 64; b++) {
		const char *n = trit_cap_name(UINT64_C(1) << b);
		if (n && strcasecmp(name, n) == 0)
			return UINT64_C(1) << b;
	}
	return 0;
}

static void list_types(char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (uint32_t t = 0; t < TRIT_TYPE_COUNT && used < len; t++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", t ? ", " : "",
		                         trit_type_traits(t)->name);
}

static void list_caps(char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int b = 0; b < 64 && used < len; b++) {
		const char *n = trit_cap_name(UINT64_C(1) << b);
		if (n)
			used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? ", " : "", n);
	}
}

/* "I2_S, TL2, F16" -> bits; "none" is the empty list. */
static int parse_list(const char *v, int caps, uint64_t *out, char *msg, size_t len)
{
	char *copy, *next, q[72], names[384];
	int rc = 0;

	*out = 0;
	if (strcasecmp(v, "none") == 0)
		return 0;
	if (!(copy = trit_strdup(v)))
		return TRIT_ENOMEM;
	for (char *tok = copy; tok && !rc; tok = next) {
		char *end;
		uint64_t bit;

		if ((next = strchr(tok, ',')) != NULL)
			*next++ = '\0';
		while (isspace((unsigned char)*tok))
			tok++;
		for (end = tok + strlen(tok); end > tok && isspace((unsigned char)end[-1]); )
			*--end = '\0';
		if (!*tok) {
			snprintf(msg, len, "%s has an empty entry; expected names separated by "
			         "commas", trit_ini_quote(v, q));
			rc = TRIT_ECONFIG;
			break;
		}
		bit = caps ? cap_bit(tok) : type_bit(tok);
		if (!bit) {
			if (caps)
				list_caps(names, sizeof names);
			else
				list_types(names, sizeof names);
			snprintf(msg, len, "%s is not %s; accepted: %s", trit_ini_quote(tok, q),
			         caps ? "a capability" : "a trit type", names);
			rc = TRIT_ECONFIG;
		}
		*out |= bit;
	}
	free(copy);
	return rc;
}

/* A struct trit_value given by the file at `line`. */
static int configured(struct dstate *s, struct trit_value *val, uint64_t x, int line)
{
	val->value = x;
	val->state = TRIT_VALUE_CONFIGURED;
	val->source = keep(s, trit_asprintf("described in %s:%d", s->path, line));
	return val->source ? 0 : TRIT_ENOMEM;
}

static int text(struct dstate *s, const char **field, const char *v)
{
	*field = keep(s, trit_strdup(v));
	return *field ? 0 : TRIT_ENOMEM;
}

/* Parse value v of key f into device d (given at `line`). */
static int parse_field(struct dstate *s, struct ddev *d, enum field f, const char *v, int line,
                       char *msg, size_t len)
{
	struct trit_device *dev = &d->dev;
	struct trit_value *val = NULL;
	uint64_t x = 0;
	char q[72];
	int rc;

	if (!*v) {
		snprintf(msg, len, "empty value; expected %s", field_hints[f]);
		return TRIT_ECONFIG;
	}
	switch (f) {
	case F_KIND:
		if (strcmp(v, "cpu") == 0)
			dev->kind = TRIT_DEVICE_CPU;
		else if (strcmp(v, "gpu") == 0)
			dev->kind = TRIT_DEVICE_GPU;
		else if (strcmp(v, "accelerator") == 0)
			dev->kind = TRIT_DEVICE_ACCELERATOR;
		else {
			snprintf(msg, len, "%s is not one of cpu, gpu, accelerator",
			         trit_ini_quote(v, q));
			return TRIT_ECONFIG;
		}
		return 0;
	case F_NAME:
		return text(s, &dev->name, v);
	case F_VENDOR:
		return text(s, &dev->vendor, v);
	case F_POOL:
		/* a text property: the source says where, the state stays unknown */
		if (text(s, &d->props[0].text, v) != 0 ||
		    configured(s, &d->props[0].value, 0, line) != 0)
			return TRIT_ENOMEM;
		d->props[0].value.state = TRIT_VALUE_UNKNOWN;
		return 0;
	case F_MEMORY: rc = parse_bytes(v, 1, &x, msg, len); val = &dev->mem_total; break;
	case F_FREE: rc = parse_bytes(v, 0, &x, msg, len); val = &dev->mem_free; break;
	case F_OVERHEAD: rc = parse_bytes(v, 0, &x, msg, len); val = &d->props[1].value; break;
	case F_BANDWIDTH: rc = trit_described_parse_rate(v, &x, msg, len); val = &dev->mem_bandwidth; break;
	case F_COMPUTE_UNITS: rc = parse_count(v, &x, msg, len); val = &dev->compute_units; break;
	case F_HW_THREADS: rc = parse_count(v, &x, msg, len); val = &dev->hw_threads; break;
	case F_CLOCK: rc = parse_clock(v, &x, msg, len); val = &dev->clock_hz; break;
	case F_CC: rc = parse_cc(v, &x, msg, len); val = &dev->compute_capability; break;
	case F_KERNELS: return parse_list(v, 0, &dev->matmul_types, msg, len);
	case F_CAPS: return parse_list(v, 1, &dev->caps, msg, len);
	default:
		snprintf(msg, len, "key %d is not handled", (int)f);
		return TRIT_EINTERNAL;
	}
	return rc ? rc : configured(s, val, x, line);
}

/* ------------------------------------------------------------ the file */

static int id_ok(const char *id)
{
	size_t n = 0;
	for (; id[n]; n++)
		if (!(islower((unsigned char)id[n]) || isdigit((unsigned char)id[n]) || id[n] == '_'))
			return 0;
	return n > 0 && n < 64;
}

static int on_section(struct trit_ini *ini, void *user, const char *name)
{
	struct dstate *s = user;
	int line = trit_ini_line(ini);
	const char *id = name + strlen("device.");
	struct ddev *d;

	s->cur = NULL;
	if (strncmp(name, "device.", strlen("device.")) != 0) {
		trit_ini_problem(ini, line, "unknown section [%.64s]; a devices file has only "
		                 "[device.<id>] sections, one per device, e.g. [device.gpu0]", name);
		return TRIT_ECONFIG;
	}
	if (!id_ok(id)) {
		trit_ini_problem(ini, line, "bad device id in [%.80s]: an id is 1-63 lower-case "
		                 "letters, digits and '_', as in [device.gpu0]", name);
		return TRIT_ECONFIG;
	}
	for (uint32_t i = 0; i < s->n; i++)
		if (strcmp(s->devs[i].dev.id, id) == 0) {
			trit_ini_problem(ini, line, "[%s] is already described at line %d; give each "
			                 "device its own id", name, s->devs[i].line);
			return TRIT_ECONFIG;
		}
	if (s->n == TRIT_DESCRIBED_MAX_DEVICES) {
		trit_ini_problem(ini, line, "[%s] is device %d; a devices file describes at most %d",
		                 name, TRIT_DESCRIBED_MAX_DEVICES + 1, TRIT_DESCRIBED_MAX_DEVICES);
		return TRIT_ECONFIG;
	}
	d = &s->devs[s->n];
	memset(d, 0, sizeof *d);
	d->line = line;
	d->dev.id = keep(s, trit_strdup(id));
	if (!d->dev.id) {
		trit_ini_oom(ini);
		return TRIT_ENOMEM;
	}
	s->n++;
	s->cur = d;
	return 0;
}

static void on_key(struct trit_ini *ini, void *user, const char *section, const char *key,
                   const char *value)
{
	struct dstate *s = user;
	struct ddev *d = s->cur;
	int line = trit_ini_line(ini), f, rc;
	char msg[768], q[72];

	for (f = 0; f < F_COUNT; f++)
		if (strcmp(key, field_keys[f]) == 0)
			break;
	if (f == F_COUNT) {
		char keys[256];
		size_t used = 0;
		for (int i = 0; i < F_COUNT; i++)
			used += (size_t)snprintf(keys + used, sizeof keys - used, "%s%s",
			                         i ? ", " : "", field_keys[i]);
		trit_ini_problem(ini, line, "[%s] unknown key %s; accepted keys: %s", section,
		                 trit_ini_quote(key, q), keys);
		return;
	}
	d->at[f] = line;
	rc = parse_field(s, d, (enum field)f, value, line, msg, sizeof msg);
	if (rc == TRIT_ENOMEM) {
		trit_ini_oom(ini);
	} else if (rc) {
		d->bad |= 1u << f;
		trit_ini_problem(ini, line, "[%s] %s: %s", section, key, msg);
	}
}

static int given(const struct ddev *d, enum field f)
{
	return d->at[f] && !(d->bad & (1u << f));
}

/* Check what needs the whole section, then fill in what the file left out. */
static int finish_device(struct trit_ini *ini, struct dstate *s, struct ddev *d)
{
	struct trit_device *dev = &d->dev;
	char a[32], b[32];

	if (!d->at[F_KIND])
		trit_ini_problem(ini, d->line, "[device.%s] has no kind; add kind = cpu, gpu or "
		                 "accelerator", dev->id);
	if (!d->at[F_MEMORY])
		trit_ini_problem(ini, d->line, "[device.%s] has no memory; add memory = SIZE, "
		                 "e.g. memory = 16GiB", dev->id);
	if (given(d, F_FREE) && given(d, F_MEMORY) && dev->mem_free.value > dev->mem_total.value)
		trit_ini_problem(ini, d->at[F_FREE], "[device.%s] free: %s is more than memory "
		                 "(%s, line %d)", dev->id,
		                 trit_format_bytes(dev->mem_free.value, a, sizeof a),
		                 trit_format_bytes(dev->mem_total.value, b, sizeof b),
		                 d->at[F_MEMORY]);
	if (given(d, F_KIND) && given(d, F_CC) && dev->kind != TRIT_DEVICE_GPU)
		trit_ini_problem(ini, d->at[F_CC], "[device.%s] compute_capability: only a gpu has "
		                 "one; remove it or set kind = gpu", dev->id);
	if (given(d, F_KIND) && given(d, F_HW_THREADS) && dev->kind == TRIT_DEVICE_GPU)
		trit_ini_problem(ini, d->at[F_HW_THREADS], "[device.%s] hw_threads: counts CPU "
		                 "threads, which a gpu does not have; give its multiprocessors as "
		                 "compute_units", dev->id);

	dev->struct_size = sizeof *dev;
	if (!dev->name)
		dev->name = dev->id;
	if (!d->at[F_FREE] && given(d, F_MEMORY)) {
		dev->mem_free = dev->mem_total;
		dev->mem_free.source = keep(s, trit_asprintf("described in %s:%d (memory; no free "
		                                             "given)", s->path, d->at[F_MEMORY]));
		if (!dev->mem_free.source)
			return TRIT_ENOMEM;
	}
	struct trit_value *vals[] = { &dev->mem_total, &dev->mem_free, &dev->mem_bandwidth,
		&dev->compute_units, &dev->hw_threads, &dev->clock_hz, &dev->compute_capability,
		&d->props[1].value };
	for (size_t i = 0; i < TRIT_ARRAY_LEN(vals); i++)
		if (vals[i]->state == TRIT_VALUE_UNKNOWN)
			vals[i]->source = s->not_given;
	d->props[0].key = "mem.pool";
	if (!d->props[0].text)
		d->props[0].text = dev->kind == TRIT_DEVICE_CPU ? "host" : dev->id;
	if (!d->props[0].value.source)
		d->props[0].value.source = s->not_given;
	d->props[1].key = "mem.overhead";
	d->props[1].unit = "bytes";
	dev->props = d->props;
	dev->n_props = d->at[F_OVERHEAD] ? 2 : 1;
	return 0;
}

static void on_end(struct trit_ini *ini, void *user)
{
	struct dstate *s = user;

	for (uint32_t i = 0; i < s->n; i++)
		if (finish_device(ini, s, &s->devs[i]) != 0)
			trit_ini_oom(ini);
	if (s->n == 0)
		trit_ini_problem(ini, 1, "no device is described; add a [device.<id>] section with "
		                 "kind and memory for each device (docs/devices.md)");
}

static const struct trit_ini_handler devices_ini = {
	.what = "devices file",
	.sections = "a [device.<id>] section",
	.section = on_section,
	.key = on_key,
	.end = on_end,
};

/* ------------------------------------------------------------ the backend */

static int described_init(const struct trit_host *host, void **state, char *err, size_t errlen)
{
	const char *path, *k, *where;

	if (!TRIT_HOST_HAS(host, config_where))
		return trit_errf(err, errlen, TRIT_EABI,
		                 "the host table has no configuration access");
	for (uint32_t i = 0; (k = host->config_key(host->ctx, i)) != NULL; i++)
		if (strcmp(k, TRIT_DESCRIBED_FILE_KEY) != 0) {
			where = host->config_where(host->ctx, k);
			return trit_errf(err, errlen, TRIT_ECONFIG,
			                 "%s: [plugin.described] unknown key '%s'; accepted keys: "
			                 "file (trit --devices FILE sets it)",
			                 where ? where : "configuration", k);
		}
	path = host->config_get(host->ctx, TRIT_DESCRIBED_FILE_KEY);
	if (!path || !*path)
		return trit_errf(err, errlen, TRIT_ECONFIG, "no devices file: [plugin.described] "
		                 "file is not set (trit --devices FILE sets it)");
	return trit_described_read(path, state, err, errlen);
}

int trit_described_read(const char *path, void **state, char *err, size_t errlen)
{
	struct dstate *s;
	int rc;

	if (!(s = calloc(1, sizeof *s)))
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	s->path = keep(s, trit_strdup(path));
	s->not_given = s->path ? keep(s, trit_asprintf("not described in %s", path)) : NULL;
	if (!s->not_given) {
		state_free(s);
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	}
	rc = trit_ini_parse(path, &devices_ini, s, err, errlen);
	if (rc) {
		state_free(s);
		return rc;
	}
	*state = s;
	return 0;
}

static void described_shutdown(void *state)
{
	state_free(state);
}

static uint32_t described_device_count(void *state)
{
	return ((struct dstate *)state)->n;
}

static const struct trit_device *described_device_get(void *state, uint32_t index)
{
	struct dstate *s = state;
	return index < s->n ? &s->devs[index].dev : NULL;
}

static const struct trit_backend described_backend = {
	.abi_version = TRIT_BACKEND_ABI_VERSION,
	.struct_size = sizeof(struct trit_backend),
	.name = TRIT_DESCRIBED_NAME,
	.version = PACKAGE_VERSION,
	.description = "devices described in an INI file (--devices), not probed: for planning only",
	.init = described_init,
	.shutdown = described_shutdown,
	.device_count = described_device_count,
	.device_get = described_device_get,
};

const struct trit_backend *trit_described_backend(void)
{
	return &described_backend;
}
