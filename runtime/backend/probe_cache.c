/*
 * backend/probe_cache.c - the plugins' measurement cache (probe_cache.h).
 *
 * The file: {"format": 1, "trit_version": "...", "entries": [{"plugin":
 * "cpu_avx2", "plugin_id": "...", "key": "cpu0.mem_bandwidth", "stamp":
 * "...", "value": "...", "measured_at": <unix seconds>}, ...]}. An entry
 * is served only when plugin, plugin_id, key and stamp are all equal and
 * it is younger than the operator's limit. One entry per plugin file
 * (plugin and plugin_id), key and stamp: the plugins of two build trees,
 * and processes whose stamps differ (a test giving pocl two devices, one
 * run on fewer CPUs), keep their measurements side by side instead of
 * replacing each other's on every run; the oldest beyond the cap go.
 */
#include <build-config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/cachefile.h"
#include "core/common.h"
#include "core/log.h"
#include "core/safeopen.h"
#include "backend/probe_cache.h"

#include <trit/backend.h>

struct entry {
	char *plugin, *plugin_id, *key, *stamp, *value;
	int64_t measured_at;
	int fresh;               /* stored by this process (cache_put) */
};

struct trit_probe_cache {
	char *path;              /* NULL: caching off */
	uint64_t max_age_s;
	int remeasure, dirty;
	int quiet;               /* reading the file again to merge: no warnings */
	struct entry *e;
	size_t n, cap;
};

static int printable(const char *s, size_t max)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (n >= max || (unsigned char)s[n] < 0x20 || (unsigned char)s[n] > 0x7e)
			return 0;
	return 1;
}

const char *trit_probe_cache_check(const char *key, const char *stamp, const char *value)
{
	size_t n;

	if (!key || !(n = strlen(key)) || n > TRIT_HOST_CACHE_KEY_MAX ||
	    strspn(key, "abcdefghijklmnopqrstuvwxyz0123456789_.-") != n)
		return "a key must be 1 to 64 characters of a-z, 0-9, '_', '.' and '-'";
	if (!stamp || !printable(stamp, TRIT_HOST_CACHE_STAMP_MAX))
		return "a stamp must be printable ASCII of at most 1024 bytes";
	if (value && !printable(value, TRIT_HOST_CACHE_VALUE_MAX))
		return "a value must be printable ASCII of at most 8192 bytes";
	return NULL;
}

static void entry_free(struct entry *e)
{
	free(e->plugin);
	free(e->plugin_id);
	free(e->key);
	free(e->stamp);
	free(e->value);
}

/* Append a copy; 0 or -1 (out of memory). */
static int add(struct trit_probe_cache *pc, const char *plugin, const char *plugin_id,
               const char *key, const char *stamp, const char *value, int64_t at)
{
	struct entry e = { .plugin = strdup(plugin), .plugin_id = strdup(plugin_id),
	                   .key = strdup(key), .stamp = strdup(stamp), .value = strdup(value),
	                   .measured_at = at };

	if (!e.plugin || !e.plugin_id || !e.key || !e.stamp || !e.value)
		goto fail;
	if (pc->n == pc->cap) {
		size_t cap = pc->cap ? pc->cap * 2 : 16;
		struct entry *v = realloc(pc->e, cap * sizeof *v);
		if (!v)
			goto fail;
		pc->e = v;
		pc->cap = cap;
	}
	pc->e[pc->n++] = e;
	return 0;
fail:
	entry_free(&e);
	return -1;
}

static const char *str_field(const cJSON *o, const char *name, size_t max)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) && printable(v->valuestring, max) ? v->valuestring : NULL;
}

/* One entry of the file into pc; NULL, or what is wrong with it. */
static const char *load_entry(struct trit_probe_cache *pc, const cJSON *o)
{
	const char *plugin = str_field(o, "plugin", 64), *id = str_field(o, "plugin_id", 8192),
	           *key = str_field(o, "key", TRIT_HOST_CACHE_KEY_MAX),
	           *stamp = str_field(o, "stamp", TRIT_HOST_CACHE_STAMP_MAX),
	           *value = str_field(o, "value", TRIT_HOST_CACHE_VALUE_MAX);
	const cJSON *at = cJSON_GetObjectItemCaseSensitive(o, "measured_at");
	const char *bad;

	if (!plugin || !id || !key || !stamp || !value)
		return "a field is missing, not a string, too long or not printable";
	if ((bad = trit_probe_cache_check(key, stamp, value)))
		return bad;
	if (!cJSON_IsNumber(at) || !(at->valuedouble >= 0 && at->valuedouble < 1e12))
		return "\"measured_at\" is not a time in seconds";
	if (add(pc, plugin, id, key, stamp, value, (int64_t)at->valuedouble))
		return "out of memory";
	return NULL;
}

static void load(struct trit_probe_cache *pc)
{
	char *text = NULL, why[512];
	const char *bad = NULL;
	const cJSON *entries, *fmt, *item;
	cJSON *root = NULL;
	int errnum = 0;
	size_t k = 0;

	if (trit_read_file(pc->path, TRIT_PROBE_CACHE_MAX_BYTES, &text, NULL, &errnum, why,
	                   sizeof why)) {
		if (errnum != ENOENT && !pc->quiet)
			trit_log(TRIT_LOG_WARN, "ignoring the probe cache: %s; plugins measure again "
			         "and it is rewritten", why);
		return;
	}
	root = cJSON_Parse(text);
	free(text);
	entries = cJSON_GetObjectItemCaseSensitive(root, "entries");
	fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
	if (!cJSON_IsArray(entries) || !cJSON_IsNumber(fmt) ||
	    fmt->valuedouble != TRIT_PROBE_CACHE_FORMAT)
		bad = "not a trit probe cache (a JSON object with \"format\": 1 and \"entries\")";
	if (bad)
		entries = NULL;
	cJSON_ArrayForEach(item, entries) {
		if (k++ >= TRIT_PROBE_CACHE_MAX_ENTRIES)
			bad = "more than 2048 entries";
		else
			bad = load_entry(pc, item);
		if (bad)
			break;
	}
	if (bad) {
		if (!pc->quiet)
			trit_log(TRIT_LOG_WARN, "ignoring the probe cache %s: entry %zu: %s; plugins "
			         "measure again and it is rewritten", pc->path, k ? k - 1 : 0, bad);
		for (size_t i = 0; i < pc->n; i++)
			entry_free(&pc->e[i]);
		pc->n = 0;
		pc->dirty = 1;
	}
	cJSON_Delete(root);
}

struct trit_probe_cache *trit_probe_cache_open(const char *path, uint64_t max_age_s, int remeasure)
{
	struct trit_probe_cache *pc = calloc(1, sizeof *pc);

	if (!pc)
		return NULL;
	pc->max_age_s = max_age_s;
	pc->remeasure = remeasure;
	if (path && max_age_s) {
		if (!(pc->path = strdup(path))) {
			free(pc);
			return NULL;
		}
		load(pc);
	}
	return pc;
}

void trit_probe_cache_close(struct trit_probe_cache *pc)
{
	if (!pc)
		return;
	for (size_t i = 0; i < pc->n; i++)
		entry_free(&pc->e[i]);
	free(pc->e);
	free(pc->path);
	free(pc);
}

const char *trit_probe_cache_path(const struct trit_probe_cache *pc)
{
	return pc ? pc->path : NULL;
}

static struct entry *find(struct trit_probe_cache *pc, const char *plugin, const char *plugin_id,
                          const char *key, const char *stamp)
{
	for (size_t i = 0; i < pc->n; i++)
		if (!strcmp(pc->e[i].plugin, plugin) && !strcmp(pc->e[i].plugin_id, plugin_id) &&
		    !strcmp(pc->e[i].key, key) && !strcmp(pc->e[i].stamp, stamp))
			return &pc->e[i];
	return NULL;
}

int trit_probe_cache_get(struct trit_probe_cache *pc, const char *plugin, const char *plugin_id,
                         const char *key, const char *stamp, char *value, size_t len,
                         uint64_t *age_s)
{
	int64_t now = (int64_t)time(NULL);
	struct entry *e;
	size_t n;

	if (trit_probe_cache_check(key, stamp, NULL) || !value || !len)
		return TRIT_EINVAL;
	/* --remeasure hides what earlier runs stored, not what this one did: a
	 * plugin checks that the cache keeps values by reading one back */
	if (!pc || !pc->path || !(e = find(pc, plugin, plugin_id, key, stamp)) ||
	    (pc->remeasure && !e->fresh))
		return 0;
	/* a time in the future (a clock set back) is not trusted either */
	if (e->measured_at > now || (uint64_t)(now - e->measured_at) > pc->max_age_s)
		return 0;
	if ((n = strlen(e->value)) >= len)
		return TRIT_ERANGE;
	memcpy(value, e->value, n + 1);
	if (age_s)
		*age_s = (uint64_t)(now - e->measured_at);
	return 1;
}

/* Drop the oldest entry, to keep the file bounded. */
static void drop_oldest(struct trit_probe_cache *pc)
{
	size_t old = 0;

	for (size_t i = 1; i < pc->n; i++)
		if (pc->e[i].measured_at < pc->e[old].measured_at)
			old = i;
	entry_free(&pc->e[old]);
	pc->e[old] = pc->e[--pc->n];
}

int trit_probe_cache_put(struct trit_probe_cache *pc, const char *plugin, const char *plugin_id,
                         const char *key, const char *stamp, const char *value)
{
	struct entry *e;

	if (!value || trit_probe_cache_check(key, stamp, value))
		return TRIT_EINVAL;
	if (!pc || !pc->path)
		return 0;
	if ((e = find(pc, plugin, plugin_id, key, stamp))) {
		entry_free(e);
		*e = pc->e[--pc->n];
	}
	while (pc->n >= TRIT_PROBE_CACHE_MAX_ENTRIES)
		drop_oldest(pc);
	if (add(pc, plugin, plugin_id, key, stamp, value, (int64_t)time(NULL)))
		return TRIT_ENOMEM;
	pc->e[pc->n - 1].fresh = 1;
	pc->dirty = 1;
	return 0;
}

static cJSON *to_json(const struct trit_probe_cache *pc)
{
	cJSON *root = cJSON_CreateObject(), *a = NULL, *o;
	int ok = root && cJSON_AddNumberToObject(root, "format", TRIT_PROBE_CACHE_FORMAT) &&
	         cJSON_AddStringToObject(root, "trit_version", PACKAGE_VERSION) &&
	         (a = cJSON_AddArrayToObject(root, "entries"));

	for (size_t i = 0; ok && i < pc->n; i++) {
		const struct entry *e = &pc->e[i];
		if (!(o = cJSON_CreateObject()) || !cJSON_AddItemToArray(a, o)) {
			cJSON_Delete(o);
			ok = 0;
			break;
		}
		ok = cJSON_AddStringToObject(o, "plugin", e->plugin) &&
		     cJSON_AddStringToObject(o, "plugin_id", e->plugin_id) &&
		     cJSON_AddStringToObject(o, "key", e->key) &&
		     cJSON_AddStringToObject(o, "stamp", e->stamp) &&
		     cJSON_AddStringToObject(o, "value", e->value) &&
		     cJSON_AddNumberToObject(o, "measured_at", (double)e->measured_at);
	}
	if (!ok) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

/* Take the lock beside the file ("<path>.lock"), waiting at most about 2 s
 * for another trit to finish its save: the descriptor, or -1 (then the save
 * goes on unlocked: the cache is an optimisation, never a reason to wait). */
static int lock_file(const char *path)
{
	char lock[4200];
	int fd;

	if (snprintf(lock, sizeof lock, "%s.lock", path) >= (int)sizeof lock ||
	    (fd = open(lock, O_RDWR | O_CREAT | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW, 0644)) < 0)
		return -1;
	for (int i = 0; i < 200; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK && errno != EINTR)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	}
	close(fd);
	return -1;
}

/* Another trit may have saved since this one read the file: take what it
 * stored, except where this process measured anew (its entries win). */
static void merge_from_file(struct trit_probe_cache *pc)
{
	struct trit_probe_cache disk = { .path = pc->path, .quiet = 1 };

	load(&disk);
	for (size_t i = 0; i < disk.n; i++) {
		struct entry *d = &disk.e[i];
		struct entry *mine = find(pc, d->plugin, d->plugin_id, d->key, d->stamp);
		if (mine && mine->fresh) {  /* measured anew here: ours wins */
			entry_free(d);
			continue;
		}
		if (mine) {            /* the disk's is as new or newer: take it over */
			entry_free(mine);
			*mine = *d;
			continue;
		}
		if (pc->n < TRIT_PROBE_CACHE_MAX_ENTRIES)
			add(pc, d->plugin, d->plugin_id, d->key, d->stamp, d->value, d->measured_at);
		entry_free(d);
	}
	free(disk.e);
}

void trit_probe_cache_save(struct trit_probe_cache *pc)
{
	cJSON *root;
	char *text = NULL, err[512];
	int lock;

	if (!pc || !pc->path || !pc->dirty)
		return;
	lock = lock_file(pc->path);
	merge_from_file(pc);
	if ((root = to_json(pc)))
		text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (!text)
		trit_log(TRIT_LOG_WARN, "could not write the probe cache %s: out of memory", pc->path);
	else if (trit_cachefile_write(pc->path, "the probe cache", text, err, sizeof err))
		trit_log(TRIT_LOG_WARN, "%s; plugins will measure again next time", err);
	else
		pc->dirty = 0;
	free(text);
	if (lock >= 0)
		close(lock); /* releases the lock */
}
