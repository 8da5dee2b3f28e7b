/*
 * trit/trit.h - the embedding API of libtrit.
 *
 * A program links libtrit (pkg-config trit) to do what the `trit` CLI does:
 * find and probe the backend plugins and list what they measured. Planning and
 * inference entry points are added here as they land; existing declarations
 * keep their meaning (libtrit follows libtool versioning).
 *
 * Functions return 0 or a negative enum trit_result and fill a caller-given
 * error buffer with a sentence a user can act on. libtrit never exits or
 * aborts on bad input.
 */
#ifndef TRIT_TRIT_H
#define TRIT_TRIT_H

#include <stddef.h>
#include <stdint.h>

#include <trit/backend.h>
#include <trit/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* trit's version, e.g. "0.1.0". */
const char *trit_version(void);
/* The plugin ABI version this libtrit accepts (TRIT_BACKEND_ABI_VERSION). */
uint32_t trit_backend_abi(void);

struct trit_config;   /* deployment configuration (runtime/config/config.h) */
struct trit_registry; /* the set of plugins found and probed */

enum trit_plugin_status {
	TRIT_PLUGIN_LOADED  = 0, /* initialised; its devices are listed */
	TRIT_PLUGIN_SKIPPED = 1  /* not usable; `reason` says why */
};

/* One plugin file the registry found, whether it loaded or not. */
struct trit_plugin_info {
	const char *path;        /* file opened, or "(built-in)" */
	const char *origin;      /* the search step that found it: "--plugin-dir",
	                          * "TRIT_PLUGIN_PATH", "plugin_path (deploy.ini:3)",
	                          * "build tree", "pkglibdir", "built-in" */
	const char *name;        /* backend name; the file name when the table
	                          * could not be read */
	const char *version;     /* plugin version, NULL when unknown */
	const char *description; /* NULL when unknown */
	uint32_t abi_version;    /* as declared by the plugin, 0 when unknown */
	uint32_t struct_size;    /* backend table size declared, 0 when unknown */
	int status;              /* enum trit_plugin_status */
	const char *reason;      /* why it was skipped; NULL when loaded */
	uint32_t n_devices;
	/* The plugin's devices as the host sees them: full-size copies in which
	 * fields beyond the plugin's struct_size read as unknown / zero. */
	const struct trit_device *devices;
};

/* Registry flags. */
#define TRIT_REGISTRY_NO_BUILTIN      1u /* leave out the built-in reference backend */
#define TRIT_REGISTRY_NO_ENV          2u /* ignore TRIT_PLUGIN_PATH */
#define TRIT_REGISTRY_NO_DEFAULT_DIRS 4u /* skip the build tree and pkglibdir */

struct trit_registry_options {
	/* Directories searched first (the CLI's --plugin-dir), in order. */
	const char *const *plugin_dirs;
	size_t n_plugin_dirs;
	/* Configuration: [runtime] plugin_path and the [plugin.<name>] sections
	 * handed to each plugin. May be NULL. */
	struct trit_config *config;
	unsigned flags;
	/* A machine to plan for instead of this one (the CLI's --devices): an
	 * INI file of [device.<id>] sections, docs/devices.md. When set, no
	 * directory is searched and neither plugins nor the built-in `ref`
	 * backend are loaded: the registry holds only the built-in `described`
	 * backend, handed the path as its [plugin.described] file setting
	 * (origin "--devices", set in `config` when given). Problems in the
	 * file make that backend skipped with every problem as FILE:LINE in
	 * its reason; callers should treat that as a configuration error. */
	const char *devices_file;
	/* Plugin files to open, each exactly as named (a .la or a .so path),
	 * besides the directory search (which opts->flags may narrow: a tool
	 * that tests one plugin against the built-in `ref` passes its file with
	 * TRIT_REGISTRY_NO_ENV | TRIT_REGISTRY_NO_DEFAULT_DIRS). They are opened
	 * after the built-in backend and before any directory is scanned, with
	 * origin "plugin file". Appended to this struct: a program built against
	 * an older trit.h must be rebuilt (libtrit's libtool version says so). */
	const char *const *plugin_files;
	size_t n_plugin_files;
};

/*
 * Unless opts->devices_file is set (see above), find plugins in, in this order: opts->plugin_dirs, TRIT_PLUGIN_PATH (a colon
 * list), [runtime] plugin_path, the build tree when this libtrit runs
 * uninstalled, and the installed plugin directory. Each plugin is opened,
 * its ABI checked, and initialised. A plugin that fails any step is recorded
 * as skipped with the reason, and the others carry on; a plugin name found
 * again later in the search order is skipped as shadowed. Fails only when
 * memory runs out.
 */
int trit_registry_open(const struct trit_registry_options *opts,
                       struct trit_registry **out, char *err, size_t errlen);
void trit_registry_close(struct trit_registry *reg);

size_t trit_registry_plugin_count(const struct trit_registry *reg);
const struct trit_plugin_info *trit_registry_plugin(const struct trit_registry *reg,
                                                    size_t index);
/* The directories searched, in order, with the step that contributed each
 * (origin as in trit_plugin_info) and whether it existed. NULL past the end. */
const char *trit_registry_search_dir(const struct trit_registry *reg, size_t index,
                                     const char **origin, int *exists);

/*
 * The backend table of loaded plugin `index` as the host calls it, or NULL
 * when that plugin was skipped (or index is past the end). *state (when
 * state is not NULL) receives the value to pass as every entry's `state`.
 *
 * It is the host's copy, not the plugin's own table: a full ABI v2 table
 * whatever ABI the plugin was built for. Every entry except init and
 * shutdown is non-NULL (those two are NULL: the registry owns the plugin's
 * life). An entry the plugin lacks answers as backend.h promises:
 * TRIT_EUNSUPPORTED with a reason; a v1 plugin's matmul() runs the MATMUL
 * nodes of graph_compute() and supports_op() says which; graph_submit()
 * runs the graph at once and hands back a completed event; buffer_copy()
 * stages through buffer_read()/buffer_write(); get_memory() re-measures
 * through device_update(). device_count()/device_get() answer with the
 * registry's full-size device copies (trit_plugin_info.devices).
 *
 * Calling rules: the table and state stay valid until trit_registry_close();
 * call one plugin from one thread at a time (event_wait() excepted, as
 * backend.h says); device indices run below trit_plugin_info.n_devices.
 */
const struct trit_backend *trit_registry_backend(const struct trit_registry *reg,
                                                 size_t index, void **state);

#ifdef __cplusplus
}
#endif

#endif /* TRIT_TRIT_H */
