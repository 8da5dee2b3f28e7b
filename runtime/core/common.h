/*
 * common.h - small helpers every runtime module uses: error buffers,
 * checked allocation and string duplication, environment access, byte units.
 * Nothing here knows about models, devices or plans.
 */
#ifndef TRIT_COMMON_H
#define TRIT_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <trit/trit.h> /* trit_parse_size */

#define TRIT_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Write a formatted sentence into err (if err && errlen) and return code.
 * Control characters and malformed UTF-8 in it (from a file the sentence
 * quotes) are escaped (core/textsafe.h); newlines are kept. */
int trit_errf(char *err, size_t errlen, int code, const char *fmt, ...) TRIT_PRINTF(4, 5);

/* calloc for tables of many megabytes (a million tensor infos): aligned
 * to, and advised to use, transparent huge pages, so filling one costs a
 * few hundred page faults instead of tens of thousands. Free with free(). */
void *trit_calloc_large(size_t n, size_t size);

/* strdup that returns NULL for NULL. */
char *trit_strdup(const char *s);
/* printf into a new heap string; NULL on allocation failure. */
char *trit_asprintf(const char *fmt, ...) TRIT_PRINTF(1, 2);

/* Environment lookup that ignores the environment in setuid/setgid
 * processes (secure_getenv), as the OpenCL ICD and Vulkan loaders do. */
const char *trit_getenv(const char *name);

/* trit_parse_size is declared in <trit/trit.h>. */
/* Format bytes for people: "1.50 GiB", "512 B". Returns buf. */
char *trit_format_bytes(uint64_t bytes, char *buf, size_t len);

#endif
