/*
 * core/safeopen.h - opening the files a user names (models, shards, INI
 * files, JSON beside a model, the bench cache) so that a FIFO, a device or a
 * directory given in their place is refused with a sentence instead of
 * blocking trit or feeding it endless bytes. Every input file of the runtime
 * is opened here; what the bytes mean is the caller's business.
 */
#ifndef TRIT_CORE_SAFEOPEN_H
#define TRIT_CORE_SAFEOPEN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* What a file of this st_mode is, for messages: "a FIFO", "a directory",
 * "a character device", "a block device", "a socket", "a regular file". */
const char *trit_file_kind(mode_t mode);

/*
 * Check that path names a regular file, without opening it (for dlopen,
 * which opens by name). 0 when it does; else TRIT_EIO with err holding
 * "PATH: is a FIFO, expected a regular file" or "PATH: <strerror>".
 * *errnum (may be NULL) gets the stat errno, 0 when stat worked.
 */
int trit_check_regular(const char *path, int *errnum, char *err, size_t errlen);

/*
 * Open path read-only without ever blocking (O_NONBLOCK: opening a FIFO
 * with no writer returns at once), and keep the descriptor only if it is a
 * regular file; O_NONBLOCK is then cleared. Returns the descriptor (>= 0),
 * or TRIT_EIO with the sentence above in err. *size (may be NULL) gets the
 * file's size; *errnum (may be NULL) the errno of a failed open or stat (so
 * callers can treat ENOENT as "absent"), 0 otherwise.
 */
int trit_open_regular(const char *path, uint64_t *size, int *errnum, char *err, size_t errlen);

/* trit_open_regular as a stdio stream (mode "r" or "rb"); NULL on failure. */
FILE *trit_fopen_regular(const char *path, int *errnum, char *err, size_t errlen);

/*
 * Read a whole regular file of at most max bytes into a NUL-terminated heap
 * buffer (*out, free it; *len the byte count, may be NULL). A larger file is
 * TRIT_ERANGE: "PATH: file larger than 16 MiB (N bytes)"; what a short read
 * or a file grown since fstat does is caught too. Other failures as above,
 * TRIT_ENOMEM when the buffer cannot be had.
 */
int trit_read_file(const char *path, uint64_t max, char **out, size_t *len, int *errnum,
                   char *err, size_t errlen);

#endif
