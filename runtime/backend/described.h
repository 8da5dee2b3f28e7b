/*
 * described.h - the `described` backend built into libtrit: devices read from
 * an INI file (trit --devices FILE, docs/devices.md) instead of probed, so a
 * deployment can be planned for a machine that is not this one.
 */
#ifndef TRIT_BACKENDS_DESCRIBED_H
#define TRIT_BACKENDS_DESCRIBED_H

#include <trit/backend.h>

/* Its name, and the key of [plugin.described] that names the file. The
 * registry sets that key (trit_registry_options.devices_file). */
#define TRIT_DESCRIBED_NAME     "described"
#define TRIT_DESCRIBED_FILE_KEY "file"

/* Most devices one file may describe. */
#define TRIT_DESCRIBED_MAX_DEVICES 64

const struct trit_backend *trit_described_backend(void);

#endif
