/*
 * registry.h - the runtime's view of the plugins it found (internal).
 *
 * The public half (trit_registry_open, trit_plugin_info) is in <trit/trit.h>;
 * this header adds what other runtime modules need: the host's copy of each
 * backend table and the plugin state to call it with.
 */
#ifndef TRIT_REGISTRY_H
#define TRIT_REGISTRY_H

#include <trit/trit.h>

/* Most devices one plugin may report, and most properties per device:
 * limits on what a (possibly broken) plugin can make the host store. */
#define TRIT_REGISTRY_MAX_DEVICES 1024u
#define TRIT_REGISTRY_MAX_PROPS   256u

/* The backend table of plugin `index` as the host calls it: every function
 * pointer is non-NULL (missing ones answer TRIT_EUNSUPPORTED). NULL when the
 * plugin was skipped. *state receives the plugin's state. */
const struct trit_backend *trit_registry_backend(const struct trit_registry *reg,
                                                 size_t index, void **state);

/* Where the registry was built, for the "build tree" search step. Exposed for
 * tests; NULL when this libtrit is not running from its build tree. */
const char *trit_registry_build_tree(void);

#endif
