/*
 * backend/probe_cache.h - the store behind the host table's cache_get and
 * cache_put (sdk backend.h): measurements a plugin takes slowly and that do
 * not change between runs (memory bandwidth, a driver's device list), kept
 * in one JSON file (docs/plugins.md, "The probe cache") so that loading the
 * plugins costs milliseconds. The file is read once when the registry opens
 * and written once after the plugins are initialised, and only if a plugin
 * stored something. It is an optimisation: a file that cannot be read or
 * written is a warning, never an error, and a damaged one is replaced.
 */
#ifndef TRIT_BACKEND_PROBE_CACHE_H
#define TRIT_BACKEND_PROBE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#define TRIT_PROBE_CACHE_FORMAT   1
#define TRIT_PROBE_CACHE_MAX_BYTES (4u << 20)  /* the file */
#define TRIT_PROBE_CACHE_MAX_ENTRIES 2048u     /* oldest dropped beyond it */

struct trit_probe_cache;

/*
 * Open the cache at path: entries older than max_age_s are not served;
 * with `remeasure` none is served (every plugin measures again and stores
 * what it found). path NULL: no cache at all (every get misses, puts are
 * dropped). Never fails except out of memory (NULL): a missing file is an
 * empty cache, an unreadable or damaged one a warning naming it.
 */
struct trit_probe_cache *trit_probe_cache_open(const char *path, uint64_t max_age_s, int remeasure);
void trit_probe_cache_close(struct trit_probe_cache *pc);

/* The file, or NULL when caching is off. */
const char *trit_probe_cache_path(const struct trit_probe_cache *pc);

/* Check a key (1-64 of [a-z0-9_.-]), stamp (printable, <= 1024) or value
 * (printable, <= 8192): NULL when fine, else what is wrong. */
const char *trit_probe_cache_check(const char *key, const char *stamp, const char *value);

/*
 * The value `plugin` (its name) stored under key with this stamp, from a
 * plugin file of identity `plugin_id`, copied to value[len]: 1 (and *age_s,
 * may be NULL), 0 when there is none usable, TRIT_ERANGE when len is too
 * small, TRIT_EINVAL for a bad key or stamp.
 */
int trit_probe_cache_get(struct trit_probe_cache *pc, const char *plugin, const char *plugin_id,
                         const char *key, const char *stamp, char *value, size_t len,
                         uint64_t *age_s);
/* Store (replacing `plugin`'s entry for key): 0, TRIT_EINVAL, TRIT_ENOMEM. */
int trit_probe_cache_put(struct trit_probe_cache *pc, const char *plugin, const char *plugin_id,
                         const char *key, const char *stamp, const char *value);

/* Write the file if anything was stored since it was read; a failure is
 * logged as a warning naming the file. */
void trit_probe_cache_save(struct trit_probe_cache *pc);

#endif
