/*
 * plugin_trust.h - whether a plugin file may be loaded, judged by who could
 * have written it (internal).
 *
 * Loading a plugin runs its code in trit's process, so trit refuses a file
 * that a user other than root or the one trit runs as could have put there,
 * as ssh refuses a world-writable authorized_keys and ld.so refuses
 * LD_LIBRARY_PATH in setuid programs. The registry decides what to do with
 * the answer ([runtime] allow_insecure_plugins lets an operator overrule it);
 * this file only looks at the file system and never opens a library.
 */
#ifndef TRIT_PLUGIN_TRUST_H
#define TRIT_PLUGIN_TRUST_H

#include <stddef.h>

/*
 * 1 when plugin `file` must not be loaded, with why in `why` ("directory
 * /tmp/p is writable by every user (mode 0777)"); 0 when it may, or when its
 * status cannot be read (opening it will then fail and say why).
 *
 * Looked at: the file (symbolic links resolved), the directory it is named
 * in and the directory it really lies in; for a libtool archive (.la) also
 * each shared object libltdl would open for it (<dir>/.libs/<dlname> or
 * <libdir>/<dlname>, and <dir>/<dlname>) and the directory that holds it.
 * Each must be owned by root or by the effective user, and writable by no
 * one else: not by every user, and not by a group other than root's and the
 * effective group. A directory with the sticky bit (/tmp) may be writable by
 * all, since then only a file's owner can replace it. Directories further up
 * are not looked at.
 */
int trit_plugin_untrusted(const char *file, char *why, size_t len);

#endif
