/*
 * core/cachefile.h - where trit keeps its cache files (the bench results,
 * the plugins' probe measurements) and how it replaces one: the path from an
 * option, a configuration key or the XDG cache directory, and a write that
 * goes through a temporary file renamed over the old one, so that a reader
 * (another trit) never sees half a file.
 */
#ifndef TRIT_CORE_CACHEFILE_H
#define TRIT_CORE_CACHEFILE_H

#include <stddef.h>

/*
 * The path of cache file `name` ("bench.json"): `option` when set (origin
 * `option_name`), else `configured` (origin `configured_name`), else
 * $XDG_CACHE_HOME/trit/<name>, else $HOME/.cache/trit/<name>. *origin (may
 * be NULL) says which. Fails (TRIT_ECONFIG, naming `what` and both ways to
 * set it) only when none is set and HOME is unset; TRIT_ERANGE when the
 * path does not fit in len.
 */
int trit_cachefile_path(const char *what, const char *option, const char *option_name,
                        const char *configured, const char *configured_name, const char *name,
                        char *out, size_t len, const char **origin, char *err, size_t errlen);

/*
 * Write `text` and a newline to path: its missing directories created
 * (0755), the bytes written to "<path>.tmp.<pid>" and renamed over path.
 * `what` ("the bench cache") names the file in errors. 0, or TRIT_EIO.
 */
int trit_cachefile_write(const char *path, const char *what, const char *text, char *err,
                         size_t errlen);

#endif
