/*
 * registry.h - the runtime's view of the plugins it found (internal).
 *
 * The public half (trit_registry_open, trit_plugin_info, the host's copy of
 * each backend table through trit_registry_backend) is in <trit/trit.h>;
 * this header adds the limits and the build-tree lookup.
 */
#ifndef TRIT_REGISTRY_H
#define TRIT_REGISTRY_H

#include <trit/trit.h>

/* Most devices one plugin may report, and most properties per device:
 * limits on what a (possibly broken) plugin can make the host store. */
#define TRIT_REGISTRY_MAX_DEVICES 1024u
#define TRIT_REGISTRY_MAX_PROPS   256u
/* Most probe-cache measurements recorded per plugin for trit devices. */
#define TRIT_REGISTRY_MAX_CACHED  64u

/* Where the registry was built, for the "build tree" search step. Exposed for
 * tests; NULL when this libtrit is not running from its build tree. */
const char *trit_registry_build_tree(void);

/* Measure device `device` of plugin `index` again (device_update) and take
 * its new free and total memory into the registry's copy, so that a plan
 * made after it sees memory as it is now. */
int trit_registry_remeasure(struct trit_registry *reg, size_t index, uint32_t device,
                            char *err, size_t errlen);

#endif
