/*
 * core/safeopen.c - open only regular files, never blocking on the way, and
 * read small ones whole within a bound. See safeopen.h for why.
 */
#include <build-config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/common.h"
#include "core/safeopen.h"

const char *trit_file_kind(mode_t mode)
{
	if (S_ISREG(mode))
		return "a regular file";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISSOCK(mode))
		return "a socket";
	return "not a regular file";
}

static int not_regular(const char *path, mode_t mode, char *err, size_t errlen)
{
	return trit_errf(err, errlen, TRIT_EIO, "%s: is %s, expected a regular file", path,
	                 trit_file_kind(mode));
}

static int set_errnum(int *errnum, int e)
{
	if (errnum)
		*errnum = e;
	return e;
}

int trit_check_regular(const char *path, int *errnum, char *err, size_t errlen)
{
	struct stat sb;

	set_errnum(errnum, 0);
	if (stat(path, &sb) != 0)
		return trit_errf(err, errlen, TRIT_EIO, "%s: %s", path,
		                 strerror(set_errnum(errnum, errno)));
	return S_ISREG(sb.st_mode) ? 0 : not_regular(path, sb.st_mode, err, errlen);
}

int trit_open_regular(const char *path, uint64_t *size, int *errnum, char *err, size_t errlen)
{
	struct stat sb;
	int fd, flags;

	set_errnum(errnum, 0);
	/* stat first: a device is refused without being opened at all (opening
	 * some has effects); fstat below closes the race with a rename. */
	if (stat(path, &sb) != 0)
		return trit_errf(err, errlen, TRIT_EIO, "%s: cannot open: %s", path,
		                 strerror(set_errnum(errnum, errno)));
	if (!S_ISREG(sb.st_mode))
		return not_regular(path, sb.st_mode, err, errlen);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return trit_errf(err, errlen, TRIT_EIO, "%s: cannot open: %s", path,
		                 strerror(set_errnum(errnum, errno)));
	if (fstat(fd, &sb) != 0) {
		int e = errno;
		close(fd);
		return trit_errf(err, errlen, TRIT_EIO, "%s: %s", path,
		                 strerror(set_errnum(errnum, e)));
	}
	if (!S_ISREG(sb.st_mode)) {
		close(fd);
		return not_regular(path, sb.st_mode, err, errlen);
	}
	if ((flags = fcntl(fd, F_GETFL)) != -1)
		fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	if (size)
		*size = (uint64_t)sb.st_size;
	return fd;
}

FILE *trit_fopen_regular(const char *path, int *errnum, char *err, size_t errlen)
{
	int fd = trit_open_regular(path, NULL, errnum, err, errlen);
	FILE *f;

	if (fd < 0)
		return NULL;
	if (!(f = fdopen(fd, "r"))) {
		trit_errf(err, errlen, TRIT_EIO, "%s: %s", path, strerror(set_errnum(errnum, errno)));
		close(fd);
	}
	return f;
}

/* Read exactly len bytes of fd into buf; a short file is an error. */
static int read_all(int fd, const char *path, char *buf, uint64_t len, char *err, size_t errlen)
{
	uint64_t done = 0;

	while (done < len) {
		ssize_t got = read(fd, buf + done, (size_t)(len - done));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return trit_errf(err, errlen, TRIT_EIO, "%s: cannot read: %s", path,
			                 strerror(errno));
		if (got == 0)
			return trit_errf(err, errlen, TRIT_EIO, "%s: file shrank to %" PRIu64
			                 " bytes while being read", path, done);
		done += (uint64_t)got;
	}
	return 0;
}

int trit_read_file(const char *path, uint64_t max, char **out, size_t *len, int *errnum,
                   char *err, size_t errlen)
{
	char extra;
	uint64_t size;
	char *buf;
	int fd, rc;

	*out = NULL;
	if ((fd = trit_open_regular(path, &size, errnum, err, errlen)) < 0)
		return fd;
	if (size > max || size >= SIZE_MAX) {
		close(fd);
		return trit_errf(err, errlen, TRIT_ERANGE, "%s: file larger than %" PRIu64 " %s (%"
		                 PRIu64 " bytes)", path, max % (1u << 20) ? max : max >> 20,
		                 max % (1u << 20) ? "bytes" : "MiB", size);
	}
	if (!(buf = malloc((size_t)size + 1))) {
		close(fd);
		return trit_errf(err, errlen, TRIT_ENOMEM, "%s: out of memory for %" PRIu64
		                 " bytes", path, size);
	}
	rc = read_all(fd, path, buf, size, err, errlen);
	if (!rc && read(fd, &extra, 1) > 0)
		rc = trit_errf(err, errlen, TRIT_EIO, "%s: file grew while being read", path);
	close(fd);
	if (rc) {
		free(buf);
		return rc;
	}
	buf[size] = '\0';
	*out = buf;
	if (len)
		*len = (size_t)size;
	return 0;
}
