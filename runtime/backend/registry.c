/*
 * registry.c - find backend plugins, check their ABI before running any of
 * their code beyond the entry point, initialise them and keep what they report.
 *
 * A plugin that fails any step is kept in the list as "skipped" with a reason
 * a user can act on; the others carry on. This file does not interpret
 * devices (that is the planner's job) and does not print (report.c does).
 */
#include <build-config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ltdl.h>

#include "backend/adopt.h"
#include "backend/described.h"
#include "backend/plugin_guard.h"
#include "backend/plugin_probe.h"
#include "backend/plugin_trust.h"
#include "backend/probe_cache.h"
#include "backend/ref.h"
#include "core/cachefile.h"
#include "core/common.h"
#include "core/safeopen.h"
#include "config/config.h"
#include "core/log.h"
#include "backend/registry.h"

#ifndef TRIT_PKGLIBDIR
#error "TRIT_PKGLIBDIR must be defined by the build"
#endif
#ifndef TRIT_BUILDDIR
#error "TRIT_BUILDDIR must be defined by the build"
#endif

struct plugin {
	struct trit_plugin_info info;   /* public view; strings below */
	char *path, *origin, *name, *reason;
	lt_dlhandle handle;
	const struct trit_backend *table; /* the plugin's own, for its strings */
	struct trit_adopted ad;         /* the plugin's entries and state (adopt.h) */
	struct trit_backend be;         /* host's copy over `ad`, every entry callable */
	void *state;
	int initialised;
	struct trit_host host;
	struct trit_registry *reg;
	struct trit_device *devices;
	char *cache_id;                 /* the file's identity for the probe cache */
	struct trit_cached_measurement cached[TRIT_REGISTRY_MAX_CACHED];
	char cached_key[TRIT_REGISTRY_MAX_CACHED][TRIT_HOST_CACHE_KEY_MAX + 1];
	uint32_t n_cached;
};

struct search_dir {
	char *path;
	char *origin;
	int exists;
};

struct trit_registry {
	struct plugin **plugins;
	size_t n_plugins, cap_plugins;
	struct search_dir *dirs;
	size_t n_dirs, cap_dirs;
	struct trit_config *config;     /* the caller's, or own_config */
	struct trit_config own_config;
	int ltdl_ready;
	unsigned watchdog_s;            /* [runtime] plugin_watchdog */
	int isolate;                    /* [runtime] isolate_plugins */
	unsigned isolate_timeout_s;     /* [runtime] isolate_timeout */
	int probe_fd;                   /* in a probe's child: its report pipe; else -1 */
	struct trit_probe_cache *pcache;/* [runtime] probe_cache; never NULL once open */
	const char *pcache_off;         /* why there is no probe cache file, or NULL */
};

/* ------------------------------------------------------------------------ */
/* The host table handed to each plugin.                                     */

static void host_log(void *ctx, int level, const char *message)
{
	struct plugin *p = ctx;

	if (level < TRIT_LOG_ERROR)
		level = TRIT_LOG_ERROR;
	if (level > TRIT_LOG_TRACE)
		level = TRIT_LOG_TRACE;
	/* bounded: a plugin's message need not end */
	trit_log(level, "%s: %.1024s", p->name ? p->name : "plugin", message ? message : "(null)");
}

static const char *host_config_get(void *ctx, const char *key)
{
	struct plugin *p = ctx;
	return key ? trit_config_plugin_get(p->reg->config, p->name, key, NULL) : NULL;
}

static const char *host_config_key(void *ctx, uint32_t index)
{
	struct plugin *p = ctx;
	return trit_config_plugin_key(p->reg->config, p->name, index);
}

static const char *host_config_where(void *ctx, const char *key)
{
	struct plugin *p = ctx;
	const char *where = NULL;

	if (key && trit_config_plugin_get(p->reg->config, p->name, key, &where))
		return where;
	return NULL;
}

/* Note that plugin p used (from_cache) or stored the measurement `key`,
 * for trit devices; the latest use of a key wins. */
static void note_cached(struct plugin *p, const char *key, int from_cache, uint64_t age_s)
{
	uint32_t i = 0;

	while (i < p->n_cached && strcmp(p->cached_key[i], key))
		i++;
	if (i == TRIT_REGISTRY_MAX_CACHED)
		return;
	if (i == p->n_cached)
		p->n_cached++;
	snprintf(p->cached_key[i], sizeof p->cached_key[i], "%s", key);
	p->cached[i].key = p->cached_key[i];
	p->cached[i].from_cache = from_cache;
	p->cached[i].age_s = age_s;
}

static int host_cache_get(void *ctx, const char *key, const char *stamp, char *value, size_t len,
                          uint64_t *age_s)
{
	struct plugin *p = ctx;
	uint64_t age = 0;
	int rc = trit_probe_cache_get(p->reg->pcache, p->name, p->cache_id ? p->cache_id : "",
	                              key, stamp, value, len, &age);

	if (rc == 1) {
		note_cached(p, key, 1, age);
		trit_log(TRIT_LOG_DEBUG, "%s: %s from the probe cache (measured %llu s ago)", p->name,
		         key, (unsigned long long)age);
		if (age_s)
			*age_s = age;
	} else if (rc < 0) {
		trit_log(TRIT_LOG_DEBUG, "%s: cache_get refused: %s", p->name,
		         rc == TRIT_ERANGE ? "the value is longer than the plugin's buffer" :
		         trit_probe_cache_check(key, stamp, NULL));
	}
	return rc;
}

static int host_cache_put(void *ctx, const char *key, const char *stamp, const char *value)
{
	struct plugin *p = ctx;
	int rc = trit_probe_cache_put(p->reg->pcache, p->name, p->cache_id ? p->cache_id : "",
	                              key, stamp, value);

	if (!rc && trit_probe_cache_path(p->reg->pcache))
		note_cached(p, key, 0, 0);
	else if (rc == TRIT_EINVAL)
		trit_log(TRIT_LOG_DEBUG, "%s: cache_put refused: %s", p->name,
		         value ? trit_probe_cache_check(key, stamp, value) : "no value");
	return rc;
}

static void init_host_table(struct plugin *p)
{
	p->host.abi_version = TRIT_BACKEND_ABI_VERSION;
	p->host.struct_size = sizeof p->host;
	p->host.host_version = PACKAGE_VERSION;
	p->host.ctx = p;
	p->host.log = host_log;
	p->host.config_get = host_config_get;
	p->host.config_key = host_config_key;
	p->host.config_where = host_config_where;
	p->host.cache_get = host_cache_get;
	p->host.cache_put = host_cache_put;
}

/* What identifies the plugin's code for the probe cache: its version and
 * the file the dynamic linker opened (path, size, modification time, inode),
 * so a rebuilt or reinstalled plugin measures again; the runtime's version
 * for a built-in backend. */
static char *plugin_cache_id(const struct plugin *p, const struct trit_backend *t)
{
	const lt_dlinfo *info = p->handle ? lt_dlgetinfo(p->handle) : NULL;
	struct stat st;

	if (!p->handle)
		return trit_asprintf("built-in|trit %s", PACKAGE_VERSION);
	if (!info || !info->filename || stat(info->filename, &st))
		return NULL;
	return trit_asprintf("%s|%s|%llu|%lld.%09ld|%llu", t->version ? t->version : "?",
	                     info->filename, (unsigned long long)st.st_size,
	                     (long long)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec,
	                     (unsigned long long)st.st_ino);
}

/* ------------------------------------------------------------------------ */
/* Bookkeeping                                                               */

static struct plugin *add_plugin(struct trit_registry *reg, const char *path, const char *origin,
                                 const char *name)
{
	struct plugin *p;

	if (reg->n_plugins == reg->cap_plugins) {
		size_t cap = reg->cap_plugins ? reg->cap_plugins * 2 : 8;
		struct plugin **v = realloc(reg->plugins, cap * sizeof *v);
		if (!v)
			return NULL;
		reg->plugins = v;
		reg->cap_plugins = cap;
	}
	p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->reg = reg;
	p->path = trit_strdup(path);
	p->origin = trit_strdup(origin);
	p->name = trit_strdup(name);
	if (!p->path || !p->origin || !p->name) {
		free(p->path);
		free(p->origin);
		free(p->name);
		free(p);
		return NULL;
	}
	reg->plugins[reg->n_plugins++] = p;
	return p;
}

/* ------------------------------------------------------------------------ */
/* Running a plugin's code: each call under a guard (plugin_guard.h), so     */
/* that a crash, an exit() or a hang in it names the plugin.                 */

static void guard(struct trit_guard *g, const struct plugin *p, const char *phase)
{
	int builtin = strcmp(p->origin, "built-in") == 0;

	/* in a probe's child, the parent learns the phase it may die in */
	if (p->reg->probe_fd >= 0 && trit_probe_write(p->reg->probe_fd, "phase", 6) == 0)
		trit_probe_write(p->reg->probe_fd, phase, strlen(phase) + 1);
	trit_guard_enter(g, builtin ? p->name : p->path, phase, p->reg->watchdog_s);
}

/* Shut p down and unload it, as far as it got. */
static void unload(struct plugin *p)
{
	struct trit_guard g;

	if (p->initialised && p->ad.t.shutdown) {
		guard(&g, p, "shutdown");
		p->ad.t.shutdown(p->state);
		trit_guard_leave(&g);
	}
	p->initialised = 0;
	p->state = NULL;
	if (p->handle) {
		guard(&g, p, "dlclose");
		lt_dlclose(p->handle);
		trit_guard_leave(&g);
	}
	p->handle = NULL;
}

/* A plugin's message in a buffer it filled: ended on our side, whatever the
 * plugin wrote into the last byte. */
static void end_plugin_text(char *buf, size_t len)
{
	if (len)
		buf[len - 1] = '\0';
}

/* Mark p skipped with a reason; undo whatever was done to it so far. */
static void skip(struct plugin *p, const char *fmt, ...) TRIT_PRINTF(2, 3);
static void skip(struct plugin *p, const char *fmt, ...)
{
	char buf[4608]; /* room for a prefix before a plugin's 4096-byte err */
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	free(p->reason);
	p->reason = trit_strdup(buf);
	unload(p);
	free(p->devices);
	p->devices = NULL;
	p->table = NULL;
	trit_log(TRIT_LOG_INFO, "skipped plugin %s: %s", p->path, buf);
}

static const struct plugin *find_loaded(const struct trit_registry *reg, const char *name,
                                        const struct plugin *self)
{
	for (size_t i = 0; i < reg->n_plugins; i++) {
		const struct plugin *q = reg->plugins[i];
		if (q != self && !q->reason && q->table && strcmp(q->name, name) == 0)
			return q;
	}
	return NULL;
}

static const char *result_name(int rc)
{
	switch (rc) {
	case TRIT_EINVAL: return "EINVAL";
	case TRIT_ENOMEM: return "ENOMEM";
	case TRIT_EIO: return "EIO";
	case TRIT_EUNSUPPORTED: return "EUNSUPPORTED";
	case TRIT_EFORMAT: return "EFORMAT";
	case TRIT_EABI: return "EABI";
	case TRIT_ENODEV: return "ENODEV";
	case TRIT_ECONFIG: return "ECONFIG";
	case TRIT_ERANGE: return "ERANGE";
	case TRIT_EDEVICE: return "EDEVICE";
	case TRIT_EINTERNAL: return "EINTERNAL";
	default: return "unknown error code";
	}
}

static int valid_backend_name(const char *s)
{
	size_t n = 0;

	if (!s)
		return 0;
	for (; s[n] && n < 64; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '_'))
			return 0;
	return n > 0 && n < 64;
}

/* ------------------------------------------------------------------------ */
/* Devices: copy what the plugin reports into full-size host structs and     */
/* refuse reports that would make the rest of the runtime misbehave.         */

static int value_ok(const struct trit_value *v)
{
	return v->state <= TRIT_VALUE_CONFIGURED;
}

/* Which text of device h (a copy; id and name set) does not end within
 * TRIT_ADOPT_MAX_TEXT bytes: "id", "name", ...; NULL when all do. The
 * properties' text is checked with the properties. */
static const char *unended_text(const struct trit_device *h)
{
	const struct trit_value *vals[] = { &h->mem_total, &h->mem_free, &h->mem_bandwidth,
		&h->compute_units, &h->hw_threads, &h->clock_hz, &h->compute_capability };

	if (!trit_adopt_text_ok(h->id))
		return "id";
	if (!trit_adopt_text_ok(h->name))
		return "name";
	if (!trit_adopt_text_ok(h->vendor))
		return "vendor";
	for (size_t k = 0; k < TRIT_ARRAY_LEN(vals); k++)
		if (!trit_adopt_text_ok(vals[k]->source))
			return "source of a value";
	return NULL;
}

/* Refuse a device whose numbers would mislead the planner. */
static int check_values(struct plugin *p, const struct trit_device *h)
{
	const struct trit_value *vals[] = { &h->mem_total, &h->mem_free, &h->mem_bandwidth,
		&h->compute_units, &h->hw_threads, &h->clock_hz, &h->compute_capability };

	for (size_t k = 0; k < TRIT_ARRAY_LEN(vals); k++)
		if (!value_ok(vals[k])) {
			skip(p, "device %s: a value has state %u (0-3 are defined)", h->id,
			     vals[k]->state);
			return -1;
		}
	if (h->mem_total.state && h->mem_free.state && h->mem_free.value > h->mem_total.value) {
		skip(p, "device %s: reports %llu bytes free out of %llu total", h->id,
		     (unsigned long long)h->mem_free.value, (unsigned long long)h->mem_total.value);
		return -1;
	}
	return 0;
}

static int check_props(struct plugin *p, const struct trit_device *h)
{
	if (h->n_props > TRIT_REGISTRY_MAX_PROPS || (h->n_props && !h->props)) {
		skip(p, "device %s: %u properties %s", h->id, h->n_props,
		     h->props ? "(trit accepts at most 256)" : "but no property array");
		return -1;
	}
	for (uint32_t k = 0; k < h->n_props; k++) {
		const struct trit_property *q = &h->props[k];
		if (!q->key || !value_ok(&q->value)) {
			skip(p, "device %s: property %u has no key or a bad value state", h->id, k);
			return -1;
		}
		if (!trit_adopt_text_ok(q->key) || !trit_adopt_text_ok(q->unit) ||
		    !trit_adopt_text_ok(q->text) || !trit_adopt_text_ok(q->value.source)) {
			skip(p, "device %s: property %u has text that does not end (no NUL) within "
			     "%u bytes", h->id, k, TRIT_ADOPT_MAX_TEXT);
			return -1;
		}
	}
	return 0;
}

/* Copy device i of n into p->devices[i] and check it; -1 with p skipped
 * when it is unfit. */
static int take_device(struct plugin *p, uint32_t i, uint32_t n)
{
	const struct trit_device *d = p->ad.t.device_get(p->state, i);
	struct trit_device *h = &p->devices[i];
	const char *bad;

	if (!d) {
		skip(p, "device_get(%u) returned NULL although device_count() is %u", i, n);
		return -1;
	}
	if (d->struct_size < TRIT_DEVICE_MIN_STRUCT_SIZE) {
		skip(p, "device %u: struct trit_device is %u bytes, smaller than the %zu bytes ABI "
		     "%u requires", i, d->struct_size, (size_t)TRIT_DEVICE_MIN_STRUCT_SIZE,
		     TRIT_BACKEND_ABI_VERSION);
		return -1;
	}
	memcpy(h, d, d->struct_size < sizeof *h ? d->struct_size : sizeof *h);
	h->struct_size = sizeof *h;
	if (!h->id || !h->name) {
		skip(p, "device %u has no %s", i, h->id ? "name" : "id");
		return -1;
	}
	if ((bad = unended_text(h))) {
		skip(p, "device %u: its %s does not end (no NUL) within %u bytes", i, bad,
		     TRIT_ADOPT_MAX_TEXT);
		return -1;
	}
	if (h->kind > TRIT_DEVICE_ACCELERATOR) {
		skip(p, "device %s: kind %u is not cpu (0), gpu (1) or accelerator (2)", h->id,
		     h->kind);
		return -1;
	}
	if (check_values(p, h) || check_props(p, h))
		return -1;
	for (uint32_t j = 0; j < i; j++)
		if (strcmp(p->devices[j].id, h->id) == 0) {
			skip(p, "two devices share the id '%s'", h->id);
			return -1;
		}
	return 0;
}

static int adopt_devices(struct plugin *p)
{
	uint32_t n = p->ad.t.device_count(p->state);

	if (n > TRIT_REGISTRY_MAX_DEVICES) {
		skip(p, "reports %u devices; trit accepts at most %u from one plugin",
		     n, TRIT_REGISTRY_MAX_DEVICES);
		return -1;
	}
	p->devices = n ? calloc(n, sizeof *p->devices) : NULL;
	if (n && !p->devices) {
		skip(p, "out of memory copying %u device descriptions", n);
		return -1;
	}
	for (uint32_t i = 0; i < n; i++)
		if (take_device(p, i, n))
			return -1;
	p->info.n_devices = n;
	p->ad.devices = p->devices;
	p->ad.n_devices = n;
	return 0;
}

/* Check the table, then initialise. On return p is either loaded or skipped. */
static void start_backend(struct trit_registry *reg, struct plugin *p, const struct trit_backend *t)
{
	char err[4096] = ""; /* room for a file's problems, one per line */
	struct trit_guard g;
	int rc;

	p->info.abi_version = t->abi_version;
	p->info.struct_size = t->struct_size;
	if (t->abi_version < TRIT_BACKEND_ABI_MIN || t->abi_version > TRIT_BACKEND_ABI_VERSION) {
		skip(p, "built for plugin ABI %u; this trit loads ABI %u to %u%s", t->abi_version,
		     TRIT_BACKEND_ABI_MIN, TRIT_BACKEND_ABI_VERSION,
		     t->abi_version > TRIT_BACKEND_ABI_VERSION ? " (a newer trit is needed)" :
		     ": rebuild it against this trit's backend.h");
		return;
	}
	if (t->struct_size > sizeof(struct trit_backend)) {
		skip(p, "backend table is %u bytes, larger than the %zu bytes of this trit's "
		     "struct trit_backend: the plugin was built against a newer backend.h",
		     t->struct_size, sizeof(struct trit_backend));
		return;
	}
	if (t->struct_size < TRIT_BACKEND_MIN_STRUCT_SIZE) {
		skip(p, "backend table is %u bytes, smaller than the %zu bytes ABI %u requires "
		     "(through device_get)", t->struct_size, (size_t)TRIT_BACKEND_MIN_STRUCT_SIZE,
		     t->abi_version);
		return;
	}
	if (!trit_adopt_text_ok(t->version) || !trit_adopt_text_ok(t->description)) {
		skip(p, "backend table's %s does not end (no NUL) within %u bytes",
		     trit_adopt_text_ok(t->version) ? "description" : "version", TRIT_ADOPT_MAX_TEXT);
		return;
	}
	if (!valid_backend_name(t->name)) {
		skip(p, "backend name %s%.64s%s is not 1-63 characters of [a-z0-9_]",
		     t->name ? "'" : "", t->name ? t->name : "(null)", t->name ? "'" : "");
		return;
	}
	trit_adopt_entries(&p->ad, t);
	p->table = t;
	free(p->name);
	p->name = trit_strdup(t->name);
	if (!p->name) {
		p->name = trit_strdup("?");
		skip(p, "out of memory");
		return;
	}
	if (!p->ad.t.init || !p->ad.t.device_count || !p->ad.t.device_get) {
		skip(p, "required function %s is NULL",
		     !p->ad.t.init ? "init" : !p->ad.t.device_count ? "device_count" : "device_get");
		return;
	}
	const struct plugin *first = find_loaded(reg, p->name, p);
	if (first) {
		skip(p, "shadowed by %s (a backend named '%s' found earlier in the search order)",
		     first->path, p->name);
		return;
	}
	p->info.version = t->version;
	p->info.description = t->description;
	rc = trit_config_import_plugin_env(reg->config, p->name, err, sizeof err);
	if (rc) {
		skip(p, "%s", err);
		return;
	}
	init_host_table(p);
	p->cache_id = plugin_cache_id(p, t);
	err[0] = '\0';
	trit_log(TRIT_LOG_DEBUG, "initialising plugin %s (backend %s)", p->path, p->name);
	guard(&g, p, "init");
	rc = p->ad.t.init(&p->host, &p->state, err, sizeof err);
	trit_guard_leave(&g);
	end_plugin_text(err, sizeof err);
	if (rc) {
		skip(p, "init failed (%s): %s", result_name(rc), err[0] ? err : "no reason given");
		return;
	}
	p->initialised = 1;
	p->ad.state = p->state;
	p->ad.name = p->name;
	guard(&g, p, "device enumeration");
	rc = adopt_devices(p);
	trit_guard_leave(&g);
	if (rc)
		return;
	trit_adopt_table(&p->be, &p->ad);
	trit_log(TRIT_LOG_DEBUG, "loaded plugin %s (%s %s, %u device%s)", p->path, p->name,
	         t->version ? t->version : "?", p->info.n_devices, p->info.n_devices == 1 ? "" : "s");
}

/* ------------------------------------------------------------------------ */
/* Opening files                                                             */

/* Why a file that libltdl would not open is not a plugin, as precisely as we
 * can tell without running it. */
static void explain_open_failure(const char *file, char *buf, size_t len, const char *lt_err)
{
	unsigned char magic[4] = { 0 };
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, magic, sizeof magic) : -1;

	if (fd >= 0)
		close(fd);
	if (fd < 0)
		snprintf(buf, len, "cannot open %s: %s", file, strerror(errno));
	else if (n == 4 && memcmp(magic, "\177ELF", 4) != 0 && strstr(file, ".so"))
		snprintf(buf, len, "not a shared object (no ELF header; first bytes %02x %02x %02x %02x)",
		         magic[0], magic[1], magic[2], magic[3]);
	else if (n < 4 && strstr(file, ".so"))
		snprintf(buf, len, "not a shared object (file is only %zd bytes)", n);
	else
		snprintf(buf, len, "cannot be loaded: %s", lt_err ? lt_err : "unknown libltdl error");
}

/* A libtool archive that is a convenience library (no dlname) is not a
 * module; skip it quietly instead of reporting it as a broken plugin. */
static int is_convenience_la(const char *file)
{
	char line[512];
	int convenience = 0;
	FILE *f = trit_fopen_regular(file, NULL, NULL, 0); /* open_plugin says why not */

	if (!f)
		return 0;
	for (int i = 0; i < 64 && fgets(line, sizeof line, f); i++)
		if (strncmp(line, "dlname=''", 9) == 0)
			convenience = 1;
	fclose(f);
	return convenience;
}

/* Skip p, without opening it, when someone else could have written `file`
 * (plugin_trust.h) and the operator has not allowed that. */
static int refuse_untrusted(struct plugin *p, const char *file)
{
	char why[PATH_MAX + 256];

	if (trit_config_int(p->reg->config, "runtime", "allow_insecure_plugins", 0) ||
	    !trit_plugin_untrusted(file, why, sizeof why))
		return 0;
	skip(p, "refused: %s, so it may not be the plugin that was installed; set [runtime] "
	     "allow_insecure_plugins = yes or TRIT_ALLOW_INSECURE_PLUGINS=1 to load it anyway",
	     why);
	return 1;
}

/* ------------------------------------------------------------------------ */
/* Loading a plugin in a child process first ([runtime] isolate_plugins):    */
/* a crash, exit() or hang there refuses the plugin instead of ending trit.  */

static void open_plugin(struct trit_registry *reg, const char *file, const char *open_name,
                        const char *stem, int ext_search, const char *origin);

struct probe_job {
	struct plugin *p;               /* the parent's entry, copied into the child */
	const char *open_name, *stem;
	int ext_search;
};

/* The child's report: "phase\0<phase>\0" before each guarded call, then
 * "loaded\0" or "skipped\0<name>\0<reason>\0". */
struct probe_report {
	const char *phase, *result, *name, *reason;
};

/* In the child: load the plugin as open_plugin would, and report. */
static void probe_work(void *arg, int fd)
{
	const struct probe_job *j = arg;
	struct trit_registry *reg = j->p->reg;
	const struct plugin *q;

	reg->probe_fd = fd;
	open_plugin(reg, j->p->path, j->open_name, j->stem, j->ext_search, j->p->origin);
	q = reg->plugins[reg->n_plugins - 1];
	if (q == j->p)
		return; /* out of memory: no report */
	if (!q->reason)
		trit_probe_write(fd, "loaded", 7);
	else if (!trit_probe_write(fd, "skipped", 8) &&
	         !trit_probe_write(fd, q->name, strlen(q->name) + 1))
		trit_probe_write(fd, q->reason, strlen(q->reason) + 1);
}

static void parse_report(const struct trit_probe *pr, struct probe_report *r)
{
	const char *s = pr->report, *end = pr->report + pr->len; /* report[len] is NUL */

	memset(r, 0, sizeof *r);
	while (s < end) {
		const char *tok = s;
		s += strlen(s) + 1;
		if (strcmp(tok, "phase") == 0 && s < end) {
			r->phase = s;
			s += strlen(s) + 1;
		} else if (strcmp(tok, "loaded") == 0) {
			r->result = tok;
		} else if (strcmp(tok, "skipped") == 0 && s < end) {
			r->result = tok;
			r->name = s;
			s += strlen(s) + 1;
			r->reason = s < end ? s : "no reason given";
			s += strlen(r->reason) + 1;
		}
	}
}

/* Why the child's end refuses the plugin, into why; 0 when it loaded. */
static int probe_verdict(const struct trit_probe *pr, const struct probe_report *r,
                         unsigned timeout_s, char *why, size_t len)
{
	const char *at = r->phase ? r->phase : "startup", *sig = trit_guard_signal_name(pr->sig);

	switch (pr->end) {
	case TRIT_PROBE_RETURNED:
		if (r->result && strcmp(r->result, "loaded") == 0)
			return 0;
		snprintf(why, len, "its probe process ended in %s without a report", at);
		break;
	case TRIT_PROBE_EXITED:
		if (pr->code == TRIT_GUARD_EXIT_STATUS)
			snprintf(why, len, "it called exit() during %s", at);
		else
			snprintf(why, len, "its probe process ended with exit status %d during %s",
			         pr->code, at);
		break;
	case TRIT_PROBE_SIGNALED:
		if (sig)
			snprintf(why, len, "it crashed with %s during %s", sig, at);
		else
			snprintf(why, len, "its probe process was killed by signal %d during %s",
			         pr->sig, at);
		break;
	case TRIT_PROBE_TIMEOUT:
		snprintf(why, len, "it had not finished loading after %u s (it was in %s; "
		         "[runtime] isolate_timeout)", timeout_s, at);
		break;
	case TRIT_PROBE_FAILED:
		snprintf(why, len, "it could not be loaded in a separate process: %s",
		         strerror(pr->code));
		break;
	}
	return 1;
}

/* With isolate_plugins: load p in a child first; skip it (1) unless it
 * loaded there. A plugin the child skipped is skipped for the same reason. */
static int refuse_after_probe(struct plugin *p, const char *open_name, const char *stem,
                              int ext_search)
{
	struct probe_job job = { p, open_name, stem, ext_search };
	struct probe_report r;
	struct trit_probe *pr;
	char why[512];
	int refused;

	if (!p->reg->isolate || p->reg->probe_fd >= 0)
		return 0;
	if (!(pr = malloc(sizeof *pr))) {
		skip(p, "out of memory for loading it in a separate process first");
		return 1;
	}
	trit_log(TRIT_LOG_DEBUG, "loading plugin %s in a separate process first", p->path);
	trit_probe_run(probe_work, &job, p->reg->isolate_timeout_s, pr);
	parse_report(pr, &r);
	refused = probe_verdict(pr, &r, p->reg->isolate_timeout_s, why, sizeof why);
	if (refused && pr->end == TRIT_PROBE_RETURNED && r.result && r.name && r.reason) {
		char *name = trit_strdup(r.name);
		if (name) {
			free(p->name);
			p->name = name;
		}
		skip(p, "%s", r.reason);
	} else if (refused) {
		skip(p, "refused: %s when trit loaded it in a separate process first "
		     "([runtime] isolate_plugins); it was not loaded into trit", why);
	}
	free(pr);
	return refused;
}

/* dlopen() of a FIFO waits for a writer and of a directory fails obscurely:
 * skip p unless each file libltdl may open for it is a regular file. */
static int plugin_file_check(const char *file, const char *open_name, int ext_search,
                             struct plugin *p)
{
	static const char *const ext[] = { ".la", ".so" };
	char why[1024];
	int errnum;

	if (trit_check_regular(file, NULL, why, sizeof why)) {
		skip(p, "%s (a shared object)", why);
		return 1;
	}
	for (size_t i = 0; ext_search && i < TRIT_ARRAY_LEN(ext); i++) {
		char *f = trit_asprintf("%s%s", open_name, ext[i]);
		int bad = f && trit_check_regular(f, &errnum, why, sizeof why) && errnum != ENOENT;
		free(f);
		if (bad) {
			skip(p, "%s (a shared object)", why);
			return 1;
		}
	}
	return 0;
}

/* Open `open_name` (libltdl adding the extension when ext_search) as plugin
 * file `file`, run its entry point and start the backend. */
static void open_plugin(struct trit_registry *reg, const char *file, const char *open_name,
                        const char *stem, int ext_search, const char *origin)
{
	struct plugin *p = add_plugin(reg, file, origin, stem);
	struct trit_guard g;
	lt_dladvise advise;
	lt_dlhandle h = NULL;
	void *sym;
	trit_backend_entry_fn entry;

	if (!p || plugin_file_check(file, open_name, ext_search, p) || refuse_untrusted(p, file) ||
	    refuse_after_probe(p, open_name, stem, ext_search))
		return;
	trit_log(TRIT_LOG_DEBUG, "loading plugin %s (%s)", file, origin);
	if (!lt_dladvise_init(&advise) && (!ext_search || !lt_dladvise_ext(&advise)) &&
	    !lt_dladvise_local(&advise)) {
		guard(&g, p, "dlopen (its constructors)");
		h = lt_dlopenadvise(open_name, advise);
		trit_guard_leave(&g);
	}
	lt_dladvise_destroy(&advise);
	if (!h) {
		char why[768];
		explain_open_failure(file, why, sizeof why, lt_dlerror());
		skip(p, "%s", why);
		return;
	}
	p->handle = h;
	sym = lt_dlsym(h, TRIT_BACKEND_ENTRY_SYMBOL);
	if (!sym) {
		skip(p, "no entry point: the plugin exports neither %s_LTX_%s nor %s",
		     stem, TRIT_BACKEND_ENTRY_SYMBOL, TRIT_BACKEND_ENTRY_SYMBOL);
		return;
	}
	/* ISO C has no object-to-function pointer conversion; POSIX guarantees
	 * the representation is the same. */
	memcpy(&entry, &sym, sizeof entry);
	guard(&g, p, TRIT_BACKEND_ENTRY_SYMBOL "()");
	const struct trit_backend *t = entry();
	trit_guard_leave(&g);
	if (!t) {
		skip(p, "entry point %s returned NULL", TRIT_BACKEND_ENTRY_SYMBOL);
		return;
	}
	start_backend(reg, p, t);
}

static void load_file(struct trit_registry *reg, const char *dir, const char *stem,
                      const char *ext, const char *origin)
{
	char *base = trit_asprintf("%s/%s", dir, stem);
	char *file = trit_asprintf("%s/%s%s", dir, stem, ext);

	if (base && file && strcmp(ext, ".la") == 0 && is_convenience_la(file))
		trit_log(TRIT_LOG_DEBUG, "ignoring %s: a libtool convenience library, not a module",
		         file);
	else if (base && file)
		open_plugin(reg, file, base, stem, 1, origin);
	free(base);
	free(file);
}

/* One plugin file named by the caller (opts->plugin_files): opened as given,
 * its stem (file name without .la/.so) naming it until its table is read. */
static int load_path(struct trit_registry *reg, const char *path)
{
	const char *slash = strrchr(path, '/');
	char *stem = trit_strdup(slash ? slash + 1 : path);
	size_t n;

	if (!stem)
		return TRIT_ENOMEM;
	n = strlen(stem);
	if (n > 3 && (strcmp(stem + n - 3, ".la") == 0 || strcmp(stem + n - 3, ".so") == 0))
		stem[n - 3] = '\0';
	open_plugin(reg, path, path, stem[0] ? stem : path, 0, "plugin file");
	free(stem);
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n > m && strcmp(s + n - m, suffix) == 0;
}

/* Load every plugin file in dir: *.la and *.so, one per stem (libltdl prefers
 * the .la of a stem), in name order so results do not depend on readdir. */
static void scan_dir(struct trit_registry *reg, const char *dir, const char *origin)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (!d) {
		trit_log(TRIT_LOG_DEBUG, "plugin directory %s (%s): %s", dir, origin, strerror(errno));
		return;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || !(ends_with(e->d_name, ".la") || ends_with(e->d_name, ".so")))
			continue;
		if (n == cap) {
			size_t c = cap ? cap * 2 : 16;
			char **v = c <= 4096 ? realloc(names, c * sizeof *v) : NULL;
			if (!v)
				break;
			names = v;
			cap = c;
		}
		if (!(names[n] = trit_strdup(e->d_name)))
			break;
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof *names, name_cmp);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(names[i]) - 3;
		int is_la = strcmp(names[i] + len, ".la") == 0;
		names[i][len] = '\0';
		/* x.la sorts before x.so: load the stem once, from the .la. */
		if (i > 0 && strcmp(names[i - 1], names[i]) == 0)
			continue;
		load_file(reg, dir, names[i], is_la ? ".la" : ".so", origin);
		/* keep names[i] truncated: it is compared with names[i + 1] */
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static int add_dir(struct trit_registry *reg, const char *path, const char *origin)
{
	struct stat st;
	char *real;

	if (!*path)
		return 0;
	real = realpath(path, NULL);
	for (size_t i = 0; i < reg->n_dirs; i++)
		if (strcmp(reg->dirs[i].path, real ? real : path) == 0) {
			free(real);
			return 0; /* searched already, from an earlier step */
		}
	if (reg->n_dirs == reg->cap_dirs) {
		size_t cap = reg->cap_dirs ? reg->cap_dirs * 2 : 8;
		struct search_dir *v = realloc(reg->dirs, cap * sizeof *v);
		if (!v) {
			free(real);
			return TRIT_ENOMEM;
		}
		reg->dirs = v;
		reg->cap_dirs = cap;
	}
	struct search_dir *sd = &reg->dirs[reg->n_dirs];
	sd->path = real ? real : trit_strdup(path);
	sd->origin = trit_strdup(origin);
	sd->exists = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
	if (!sd->path || !sd->origin) {
		free(sd->path);
		free(sd->origin);
		return TRIT_ENOMEM;
	}
	reg->n_dirs++;
	return 0;
}

static int add_path_list(struct trit_registry *reg, const char *list, const char *origin)
{
	char *copy = trit_strdup(list), *save = NULL;
	int rc = 0;

	if (!copy)
		return TRIT_ENOMEM;
	for (char *tok = strtok_r(copy, ":", &save); tok && !rc; tok = strtok_r(NULL, ":", &save))
		rc = add_dir(reg, tok, origin);
	free(copy);
	return rc;
}

const char *trit_registry_build_tree(void)
{
	static char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	size_t len = strlen(TRIT_BUILDDIR);

	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	if ((size_t)n > len && strncmp(exe, TRIT_BUILDDIR, len) == 0 && exe[len] == '/')
		return TRIT_BUILDDIR;
	return NULL;
}

/* The build tree keeps each plugin in its own directory under plugins/. */
static int add_build_tree(struct trit_registry *reg, const char *top)
{
	char *plugins = trit_asprintf("%s/plugins", top);
	DIR *d;
	struct dirent *e;
	int rc = 0;

	if (!plugins)
		return TRIT_ENOMEM;
	d = opendir(plugins);
	if (d) {
		char *names[64];
		size_t n = 0;
		while ((e = readdir(d)) && n < TRIT_ARRAY_LEN(names))
			if (e->d_name[0] != '.' && (names[n] = trit_strdup(e->d_name)))
				n++;
		closedir(d);
		if (n)
			qsort(names, n, sizeof *names, name_cmp);
		for (size_t i = 0; i < n; i++) {
			char *sub = trit_asprintf("%s/%s", plugins, names[i]);
			struct stat st;
			if (sub && stat(sub, &st) == 0 && S_ISDIR(st.st_mode) && !rc)
				rc = add_dir(reg, sub, "build tree");
			free(sub);
			free(names[i]);
		}
	}
	free(plugins);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Public API                                                                */

const char *trit_version(void)
{
	return PACKAGE_VERSION;
}

uint32_t trit_backend_abi(void)
{
	return TRIT_BACKEND_ABI_VERSION;
}

static int add_builtin(struct trit_registry *reg, const struct trit_backend *t)
{
	struct plugin *p = add_plugin(reg, "(built-in)", "built-in", t->name);
	if (!p)
		return TRIT_ENOMEM;
	start_backend(reg, p, t);
	return 0;
}

/* A described machine: only the `described` backend, reading devices_file,
 * which reaches it as its own setting [plugin.described] file. */
static int open_described(struct trit_registry *reg, const char *devices_file,
                          char *err, size_t errlen)
{
	char msg[1024];
	int rc = trit_config_set(reg->config, "plugin." TRIT_DESCRIBED_NAME,
	                         TRIT_DESCRIBED_FILE_KEY, devices_file, "--devices",
	                         msg, sizeof msg);

	if (rc)
		return trit_errf(err, errlen, rc, "%s", msg);
	return add_builtin(reg, trit_described_backend()) ?
	       trit_errf(err, errlen, TRIT_ENOMEM, "out of memory") : 0;
}

/* The probe cache as [runtime] probe_cache and probe_cache_max_age say:
 * off (every measurement taken again, nothing stored) when the age is 0 or
 * no path can be found; NULL only when out of memory. */
static struct trit_probe_cache *open_probe_cache(struct trit_registry *reg, int remeasure)
{
	char path[4096], why[512];
	uint64_t max_age = (uint64_t)trit_config_int(reg->config, "runtime", "probe_cache_max_age",
	                                             604800);
	int rc = trit_cachefile_path("the probe cache", NULL, NULL,
	                             trit_config_get(reg->config, "runtime", "probe_cache"),
	                             "[runtime] probe_cache", "probe.json", path, sizeof path, NULL,
	                             why, sizeof why);

	if (!max_age)
		reg->pcache_off = "switched off ([runtime] probe_cache_max_age = 0)";
	else if (rc)
		reg->pcache_off = "no place for it: HOME and XDG_CACHE_HOME are unset";
	return trit_probe_cache_open(reg->pcache_off ? NULL : path, max_age, remeasure);
}

int trit_registry_open(const struct trit_registry_options *opts, struct trit_registry **out,
                       char *err, size_t errlen)
{
	struct trit_registry_options none = { 0 };
	struct trit_registry *reg;
	const char *env, *cfg_path;
	int rc = 0;

	*out = NULL;
	if (!opts)
		opts = &none;
	reg = calloc(1, sizeof *reg);
	if (!reg)
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	trit_config_init(&reg->own_config);
	reg->config = opts->config ? opts->config : &reg->own_config;
	if (lt_dlinit() != 0) {
		trit_registry_close(reg);
		return trit_errf(err, errlen, TRIT_EINTERNAL, "libltdl failed to initialise: %s",
		                 lt_dlerror());
	}
	reg->ltdl_ready = 1;
	reg->probe_fd = -1;
	reg->isolate = trit_config_int(reg->config, "runtime", "isolate_plugins", 0) != 0;
	reg->isolate_timeout_s = (unsigned)trit_config_int(reg->config, "runtime", "isolate_timeout",
	                                                   60);
	reg->watchdog_s = (unsigned)trit_config_int(reg->config, "runtime", "plugin_watchdog", 10);
	if (!(reg->pcache = open_probe_cache(reg, opts->flags & TRIT_REGISTRY_REMEASURE))) {
		trit_registry_close(reg);
		return trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
	}

	if (opts->devices_file) {
		rc = open_described(reg, opts->devices_file, err, errlen);
		if (rc) {
			trit_registry_close(reg);
			return rc;
		}
		*out = reg;
		return 0;
	}
	for (size_t i = 0; i < opts->n_plugin_dirs && !rc; i++)
		rc = add_dir(reg, opts->plugin_dirs[i], "--plugin-dir");
	if (!rc && !(opts->flags & TRIT_REGISTRY_NO_ENV) && (env = trit_getenv("TRIT_PLUGIN_PATH")))
		rc = add_path_list(reg, env, "TRIT_PLUGIN_PATH");
	if (!rc && (cfg_path = trit_config_get(reg->config, "runtime", "plugin_path"))) {
		char *origin = trit_asprintf("plugin_path (%s)",
		                             trit_config_where(reg->config, "runtime", "plugin_path"));
		rc = origin ? add_path_list(reg, cfg_path, origin) : TRIT_ENOMEM;
		free(origin);
	}
	if (!rc && !(opts->flags & TRIT_REGISTRY_NO_DEFAULT_DIRS)) {
		const char *top = trit_registry_build_tree();
		if (top)
			rc = add_build_tree(reg, top);
		if (!rc)
			rc = add_dir(reg, TRIT_PKGLIBDIR, "pkglibdir");
	}
	if (!rc && !(opts->flags & TRIT_REGISTRY_NO_BUILTIN))
		rc = add_builtin(reg, trit_ref_backend());
	for (size_t i = 0; i < opts->n_plugin_files && !rc; i++)
		if (opts->plugin_files[i])
			rc = load_path(reg, opts->plugin_files[i]);
	for (size_t i = 0; i < reg->n_dirs && !rc; i++)
		if (reg->dirs[i].exists)
			scan_dir(reg, reg->dirs[i].path, reg->dirs[i].origin);
	if (rc) {
		trit_registry_close(reg);
		return trit_errf(err, errlen, rc, "out of memory while searching for plugins");
	}
	trit_probe_cache_save(reg->pcache);
	/* A [plugin.<name>] section that names no loaded plugin is most likely a typo. */
	const char *sec;
	for (size_t i = 0; (sec = trit_config_plugin_section(reg->config, i)); i++)
		if (!find_loaded(reg, sec, NULL))
			trit_log(TRIT_LOG_WARN, "configuration has a [plugin.%s] section but no plugin "
			         "named '%s' was loaded", sec, sec);
	*out = reg;
	return 0;
}

void trit_registry_close(struct trit_registry *reg)
{
	if (!reg)
		return;
	for (size_t i = reg->n_plugins; i-- > 0;) {
		struct plugin *p = reg->plugins[i];
		unload(p);
		free(p->devices);
		free(p->cache_id);
		free(p->path);
		free(p->origin);
		free(p->name);
		free(p->reason);
		free(p);
	}
	free(reg->plugins);
	for (size_t i = 0; i < reg->n_dirs; i++) {
		free(reg->dirs[i].path);
		free(reg->dirs[i].origin);
	}
	free(reg->dirs);
	if (reg->probe_fd < 0)
		trit_probe_cache_save(reg->pcache); /* what plugins stored after init */
	trit_probe_cache_close(reg->pcache);
	trit_config_free(&reg->own_config);
	if (reg->ltdl_ready)
		lt_dlexit();
	free(reg);
}

const struct trit_cached_measurement *trit_registry_cached(const struct trit_registry *reg,
                                                           size_t index, size_t *n)
{
	const struct plugin *p = reg && index < reg->n_plugins ? reg->plugins[index] : NULL;

	*n = p ? p->n_cached : 0;
	return *n ? p->cached : NULL;
}

const char *trit_registry_probe_cache(const struct trit_registry *reg, const char **why)
{
	const char *path = reg ? trit_probe_cache_path(reg->pcache) : NULL;

	if (why)
		*why = path ? NULL : reg && reg->pcache_off ? reg->pcache_off :
		       "no plugins were probed (a described machine)";
	return path;
}

size_t trit_registry_plugin_count(const struct trit_registry *reg)
{
	return reg ? reg->n_plugins : 0;
}

const struct trit_plugin_info *trit_registry_plugin(const struct trit_registry *reg, size_t index)
{
	struct plugin *p;

	if (!reg || index >= reg->n_plugins)
		return NULL;
	p = reg->plugins[index];
	p->info.path = p->path;
	p->info.origin = p->origin;
	p->info.name = p->name;
	p->info.status = p->reason ? TRIT_PLUGIN_SKIPPED : TRIT_PLUGIN_LOADED;
	p->info.reason = p->reason;
	p->info.devices = p->devices;
	if (p->reason) {
		p->info.n_devices = 0;
		p->info.devices = NULL;
		p->info.version = NULL;
		p->info.description = NULL;
	}
	return &p->info;
}

const struct trit_backend *trit_registry_backend(const struct trit_registry *reg, size_t index,
                                                 void **state)
{
	struct plugin *p;

	if (!reg || index >= reg->n_plugins || reg->plugins[index]->reason)
		return NULL;
	p = reg->plugins[index];
	if (state)
		*state = &p->ad;
	return &p->be;
}

const char *trit_registry_search_dir(const struct trit_registry *reg, size_t index,
                                     const char **origin, int *exists)
{
	if (!reg || index >= reg->n_dirs)
		return NULL;
	if (origin)
		*origin = reg->dirs[index].origin;
	if (exists)
		*exists = reg->dirs[index].exists;
	return reg->dirs[index].path;
}

int trit_registry_remeasure(struct trit_registry *reg, size_t index, uint32_t device,
                            char *err, size_t errlen)
{
	struct plugin *p;
	const struct trit_device *raw;
	int rc;

	if (!reg || index >= reg->n_plugins || reg->plugins[index]->reason ||
	    device >= reg->plugins[index]->info.n_devices)
		return trit_errf(err, errlen, TRIT_ERANGE, "no device %u in plugin %zu", device, index);
	p = reg->plugins[index];
	/* The adopter's device_update takes the new free and total memory into
	 * p->devices (the registry's copy, which plans read) when they are sane,
	 * and keeps the old ones silently otherwise: look at what the plugin
	 * itself reports, so that a plan is never made on stale numbers unsaid. */
	if ((rc = p->be.device_update(&p->ad, device, err, errlen)))
		return rc;
	raw = p->ad.t.device_get(p->ad.state, device);
	if (!raw || raw->struct_size < TRIT_DEVICE_MIN_STRUCT_SIZE)
		return trit_errf(err, errlen, TRIT_EABI, "%s: device_get(%u) returned %s after "
		                 "device_update; keeping the memory measured before", p->info.name,
		                 device, raw ? "a struct smaller than ABI 2's" : "NULL");
	if (raw->mem_free.state > TRIT_VALUE_CONFIGURED ||
	    raw->mem_total.state > TRIT_VALUE_CONFIGURED ||
	    (raw->mem_free.state && raw->mem_total.state &&
	     raw->mem_free.value > raw->mem_total.value))
		return trit_errf(err, errlen, TRIT_EINVAL, "%s: device %s reports %llu bytes free of "
		                 "%llu (value states %u, %u) after device_update; keeping the memory "
		                 "measured before", p->info.name, p->devices[device].id,
		                 (unsigned long long)raw->mem_free.value,
		                 (unsigned long long)raw->mem_total.value, raw->mem_free.state,
		                 raw->mem_total.state);
	return 0;
}
