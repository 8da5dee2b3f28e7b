/*
 * config.h - deployment configuration: deploy.ini (read with inih), TRIT_*
 * environment overrides and command-line overrides, validated against one
 * schema table.
 *
 * Precedence, highest first: command line (trit_config_set), environment,
 * INI file, schema default. Every value remembers where it came from
 * ("deploy.ini:12", "environment TRIT_LOG", "command line", "default") so
 * errors and `trit config` can say so.
 *
 * Sections [runtime], [model], [memory], [planner] are validated here, key by
 * key. Sections [plugin.<name>] belong to the plugin <name>: this module only
 * stores them (the plugin validates its own keys through the host table).
 * This module does not know what the values mean to the planner or loader.
 */
#ifndef TRIT_CONFIG_H
#define TRIT_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include <trit/trit.h> /* struct trit_config_value */

#include "config/config_index.h"

enum trit_config_type {
	TRIT_CFG_STRING,    /* any text */
	TRIT_CFG_PATH,      /* a file or directory path (not checked for existence here) */
	TRIT_CFG_PATH_LIST, /* colon-separated paths */
	TRIT_CFG_ENUM,      /* one of `choices` ("a|b|c") */
	TRIT_CFG_INT,       /* integer in [min, max] */
	TRIT_CFG_SIZE,      /* byte size with optional unit (trit_parse_size), in [min, max] */
	TRIT_CFG_FRACTION,  /* decimal in [fmin, fmax], or a percentage "20%" */
	TRIT_CFG_BOOL       /* yes/no, true/false, on/off, 1/0 */
};

/* One key of the schema. A key whose name ends in ".*" is a pattern: any key
 * with that prefix (e.g. "limit.cpu_avx2.cpu0" for "limit.*") matches. */
struct trit_config_key {
	const char *section;
	const char *key;
	enum trit_config_type type;
	const char *env;      /* environment override, or NULL */
	const char *choices;  /* TRIT_CFG_ENUM: "a|b|c" */
	int64_t min, max;     /* TRIT_CFG_INT, TRIT_CFG_SIZE */
	double fmin, fmax;    /* TRIT_CFG_FRACTION: fmin <= value <= fmax */
	const char *def;      /* default as text, NULL = unset */
	const char *doc;      /* one sentence for `trit config --schema` and docs */
};

/* The layer a value comes from. A value replaces one already set only if it
 * comes from the same or a higher layer, so the order in which the file, the
 * environment and the command line are applied does not change the result. */
enum trit_config_origin {
	TRIT_CFG_FROM_FILE = 1,
	TRIT_CFG_FROM_ENV  = 2,
	TRIT_CFG_FROM_CLI  = 3
};

/* One value that is set. */
struct trit_config_entry {
	const struct trit_config_key *schema; /* NULL in [plugin.*] sections */
	char *section;
	char *key;
	char *value;   /* raw text as given (trimmed) */
	char *where;   /* "deploy.ini:12", "environment TRIT_LOG", "command line" */
	int origin;    /* enum trit_config_origin */
	/* Parsed according to schema->type: */
	int64_t i;     /* INT, BOOL (0/1), ENUM (index into choices) */
	uint64_t size; /* SIZE */
	double f;      /* FRACTION */
};

struct trit_config {
	char *path;                        /* the INI file read, or NULL */
	struct trit_config_entry *entries;
	size_t n_entries, cap_entries;
	/* entries by section/key and [plugin.*] sections in order; always
	 * describes entries[0..n_entries) (config.c keeps it so) */
	struct trit_config_index index;
};

/* The schema, in documentation order. */
const struct trit_config_key *trit_config_schema(size_t *n);

void trit_config_init(struct trit_config *cfg);
void trit_config_free(struct trit_config *cfg);

/*
 * Read an INI file and merge its values into cfg (a value already set from
 * the environment or the command line stays). Every problem is reported, not
 * just the first: err gets one line per problem, "deploy.ini:7: [planner]
 * priority: 'fast' is not one of balanced, latency, throughput". Problems:
 * unreadable file, syntax errors, lines too long, unknown sections or keys
 * (with the accepted keys listed), bad values or out-of-range numbers (with
 * the accepted range), a key set twice in one file. When err is too small it
 * holds the first problems that fit, whole, and "(N more problems not shown)".
 * On error the configuration is left as it was before the call.
 */
int trit_config_load_file(struct trit_config *cfg, const char *path, char *err, size_t errlen);

/* Apply TRIT_* overrides from the environment (read with trit_getenv) for
 * every schema key that has an `env`; a variable set to the empty string
 * counts as unset. Bad values are errors naming the variable, all reported,
 * and leave cfg unchanged. Unknown TRIT_* variables are logged as warnings
 * (TRIT_PLUGIN_<NAME>_<KEY> variables are left to the plugins, TRIT_TEST_*
 * to the test suite). */
int trit_config_apply_env(struct trit_config *cfg, char *err, size_t errlen);

/* Set one value from the command line (where = "command line" or a flag
 * name such as "--plugin-dir"; NULL means "command line"), validated like
 * any other. A [plugin.<name>] value is stored as given. */
int trit_config_set(struct trit_config *cfg, const char *section, const char *key,
                    const char *value, const char *where, char *err, size_t errlen);

/* The entry for section/key, or NULL when unset (defaults are not entries). */
const struct trit_config_entry *trit_config_find(const struct trit_config *cfg,
                                                 const char *section, const char *key);
/* The value as text: the entry's value, else the schema default, else NULL. */
const char *trit_config_get(const struct trit_config *cfg, const char *section, const char *key);
/* Where the value comes from: entry->where, "default", or NULL if unset. */
const char *trit_config_where(const struct trit_config *cfg, const char *section, const char *key);

/* The value typed by its schema key: the entry's parsed value, else the
 * schema default parsed the same way; out->text NULL when neither. Users take
 * these instead of parsing text again. TRIT_EINVAL: no such schema key (and
 * not a [plugin.*] entry, which is returned untyped). */
int trit_config_typed(const struct trit_config *cfg, const char *section, const char *key,
                      struct trit_config_value *out);
/* Shorthands: the typed integer (INT, BOOL, ENUM index), fraction or size,
 * or `unset` when the key is unset. */
int64_t trit_config_int(const struct trit_config *cfg, const char *section, const char *key,
                        int64_t unset);
double trit_config_fraction(const struct trit_config *cfg, const char *section, const char *key,
                            double unset);

/*
 * Plugin sections. [plugin.<name>] keys come from the INI file and from
 * environment variables TRIT_PLUGIN_<NAME>_<KEY> (name and key upper-cased,
 * '.' and '-' written as '_'; the key is taken lower-cased). Because a plugin
 * name may itself contain '_', the environment is imported per plugin, by the
 * registry, once it knows the name: trit_config_import_plugin_env() adds or
 * overrides entries of section "plugin.<name>" with where = "environment
 * TRIT_PLUGIN_...". An environment key that spells a key already set in the
 * section ("NUM_THREADS" for "num-threads") overrides that key. Values are
 * stored as given; the plugin validates them.
 *
 * trit_config_plugin_get returns a key's value (NULL if unset) and, through
 * `where` (may be NULL), its origin. trit_config_plugin_key enumerates the keys
 * that are set, in the order they were first set (file order, then the keys
 * only the environment sets), NULL past the end.
 * Returned strings live as long as cfg is not modified or freed.
 */
int trit_config_import_plugin_env(struct trit_config *cfg, const char *plugin,
                                  char *err, size_t errlen);
const char *trit_config_plugin_get(const struct trit_config *cfg, const char *plugin,
                                   const char *key, const char **where);
const char *trit_config_plugin_key(const struct trit_config *cfg, const char *plugin,
                                   size_t index);

/* The <name> of each [plugin.<name>] section that sets at least one key, for
 * warning about sections that name no loaded plugin. NULL past the end. */
const char *trit_config_plugin_section(const struct trit_config *cfg, size_t index);

#endif
