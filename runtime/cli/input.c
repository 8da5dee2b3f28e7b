/*
 * input.c - reading a text the user names with -f FILE (a prompt, a text to
 * tokenize) whole, within a bound: a regular file, or "-" for standard
 * input. A FIFO, a device or a directory given by name is refused before
 * anything is read, so `-f /dev/zero` or a forgotten mkfifo cannot hang trit
 * or fill its memory. (The CLI sees only the public API, so this is its own
 * small copy of what runtime/core/safeopen.c does for the runtime.)
 */
#include <build-config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static const char *kind(mode_t m)
{
	return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ?
	       "a character device" : S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" :
	       "not a regular file";
}

/* path opened for reading if it is a regular file of at most max bytes;
 * NULL with a message. */
static FILE *open_regular(const char *path, size_t max)
{
	struct stat sb;
	FILE *f;
	int fd;

	if (stat(path, &sb) != 0) {
		fprintf(stderr, "trit: %s: cannot open: %s\n", path, strerror(errno));
		return NULL;
	}
	if (!S_ISREG(sb.st_mode)) {
		fprintf(stderr, "trit: %s: is %s, expected a regular file (or - for standard "
		        "input)\n", path, kind(sb.st_mode));
		return NULL;
	}
	/* O_NONBLOCK: should a FIFO take the file's place now, open returns */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) < 0) {
		fprintf(stderr, "trit: %s: cannot open: %s\n", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		fprintf(stderr, "trit: %s: is no longer a regular file\n", path);
		close(fd);
		return NULL;
	}
	if ((unsigned long long)sb.st_size > max) {
		fprintf(stderr, "trit: %s: file larger than %zu MiB (%lld bytes)\n", path, max >> 20,
		        (long long)sb.st_size);
		close(fd);
		return NULL;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if (!(f = fdopen(fd, "rb"))) {
		fprintf(stderr, "trit: %s: cannot open: %s\n", path, strerror(errno));
		close(fd);
	}
	return f;
}

/* buf grown to hold more than *len bytes (and a NUL), at most max + 1 */
static int grow(char **buf, size_t *cap, size_t max, const char *name)
{
	size_t want = *cap ? 2 * *cap : 65536;
	char *p;

	if (*cap > max) {
		fprintf(stderr, "trit: %s: file larger than %zu MiB\n", name, max >> 20);
		return -1;
	}
	if (want > max + 1)
		want = max + 1;
	if (!(p = realloc(*buf, want + 1))) {
		fprintf(stderr, "trit: %s: out of memory\n", name);
		return -1;
	}
	*buf = p;
	*cap = want;
	return 0;
}

char *cli_read_input(const char *path, size_t max, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : open_regular(path, max);
	const char *name = f == stdin ? "standard input" : path;
	char *buf = NULL;
	size_t cap = 0, got = 1;

	*len = 0;
	if (!f)
		return NULL;
	while (got) {
		if (*len == cap && grow(&buf, &cap, max, name)) {
			free(buf);
			buf = NULL;
			break;
		}
		*len += got = fread(buf + *len, 1, cap - *len, f);
		if (!got && ferror(f)) {
			fprintf(stderr, "trit: %s: cannot read: %s\n", name, strerror(errno));
			free(buf);
			buf = NULL;
		}
	}
	if (buf)
		buf[*len] = '\0';
	if (f != stdin)
		fclose(f);
	return buf;
}
