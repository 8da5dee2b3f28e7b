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

/* Read a devices file without a registry (a cluster's machines,
 * plan/cluster.c): *state is the backend's, for its device_count,
 * device_get and shutdown. Errors name the file and line. */
int trit_described_read(const char *path, void **state, char *err, size_t errlen);

/* A bandwidth as devices files write it ("936GB/s", "50 GiB/s"): 0, or
 * TRIT_ECONFIG with msg saying what was expected (TRIT_ENOMEM). */
int trit_described_parse_rate(const char *v, uint64_t *out, char *msg, size_t len);

#endif
