/*
 * util.c - small helpers the CPU plugins' probes share (cpu_avx2, cpu_neon): the string pool that
 * keeps device strings alive, trit_value shorthands, and bounded, hostile-input
 * file reading and number parsing. Nothing here knows about CPUs or cgroups.
 */
#include <build-config.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu_common.h"

static const char pool_oom[] = "(out of memory while recording this value's source)";

const char *cpu_common_pool_printf(struct cpu_common_pool *pool, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *s;

	if (pool->n == pool->cap) {
		size_t cap = pool->cap ? pool->cap * 2 : 32;
		char **items = realloc(pool->items, cap * sizeof *items);
		if (!items) {
			pool->failed = 1;
			return pool_oom;
		}
		pool->items = items;
		pool->cap = cap;
	}
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !(s = malloc((size_t)n + 1))) {
		pool->failed = 1;
		return pool_oom;
	}
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	pool->items[pool->n++] = s;
	return s;
}

void cpu_common_pool_free(struct cpu_common_pool *pool)
{
	for (size_t i = 0; i < pool->n; i++)
		free(pool->items[i]);
	free(pool->items);
	memset(pool, 0, sizeof *pool);
}

static struct trit_value make_value(uint64_t value, uint32_t state, const char *source)
{
	struct trit_value v;
	memset(&v, 0, sizeof v);
	v.value = value;
	v.state = state;
	v.source = source;
	return v;
}

struct trit_value cpu_common_measured(uint64_t value, const char *source)
{
	return make_value(value, TRIT_VALUE_MEASURED, source);
}

struct trit_value cpu_common_derived(uint64_t value, const char *source)
{
	return make_value(value, TRIT_VALUE_DERIVED, source);
}

struct trit_value cpu_common_configured(uint64_t value, const char *source)
{
	return make_value(value, TRIT_VALUE_CONFIGURED, source);
}

struct trit_value cpu_common_unknown(const char *reason)
{
	return make_value(0, TRIT_VALUE_UNKNOWN, reason);
}

int cpu_common_errf(char *buf, size_t len, int code, const char *fmt, ...)
{
	if (buf && len) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(buf, len, fmt, ap);
		va_end(ap);
	}
	return code;
}

int cpu_common_read_file(const char *path, size_t limit, char **out, size_t *len,
                         char *why, size_t whylen)
{
	char *buf = NULL;
	size_t have = 0, cap = 0;
	struct stat sb;
	int fd, code = 0;

	*out = NULL;
	if (len)
		*len = 0;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer; only regular
	 * files (those of /proc and /sys are) are read */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return cpu_common_errf(why, whylen, TRIT_EIO, "%s: %s", path, strerror(errno));
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return cpu_common_errf(why, whylen, TRIT_EIO, "%s: is %s, expected a regular file", path,
		                S_ISDIR(sb.st_mode) ? "a directory" : S_ISFIFO(sb.st_mode) ? "a FIFO" :
		                S_ISCHR(sb.st_mode) ? "a character device" : "not a regular file");
	}
	for (;;) {
		ssize_t r;
		/* Keep one byte beyond the limit free: reading it tells "exactly
		 * limit bytes" from "longer", and the terminator needs one more. */
		if (have + 2 > cap) {
			size_t want = cap ? cap * 2 : 4096;
			char *grown;
			if (want > limit + 2)
				want = limit + 2;
			if (!(grown = realloc(buf, want))) {
				code = cpu_common_errf(why, whylen, TRIT_ENOMEM,
				                       "%s: out of memory after reading %zu bytes",
				                       path, have);
				break;
			}
			buf = grown;
			cap = want;
		}
		r = read(fd, buf + have, cap - 1 - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			code = cpu_common_errf(why, whylen, TRIT_EIO, "%s: %s", path,
			                       strerror(errno));
			break;
		}
		if (r == 0)
			break;
		have += (size_t)r;
		if (have > limit) {
			code = cpu_common_errf(
			        why, whylen, TRIT_EFORMAT,
			        "%s is longer than %zu bytes, more than any valid file of "
			        "its kind",
			        path, limit);
			break;
		}
	}
	close(fd);
	if (code == 0 && !buf && !(buf = malloc(1)))
		code = cpu_common_errf(why, whylen, TRIT_ENOMEM, "%s: out of memory", path);
	if (code == 0) {
		buf[have] = '\0';
		if (memchr(buf, '\0', have))
			code = cpu_common_errf(why, whylen, TRIT_EFORMAT, "%s contains a NUL byte",
			                       path);
	}
	if (code != 0) {
		free(buf);
		return code;
	}
	*out = buf;
	if (len)
		*len = have;
	return 0;
}

int cpu_common_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	int digits = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	for (; *s >= '0' && *s <= '9'; s++, digits++) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\n')
		s++;
	if (!digits || *s)
		return -1;
	*out = v;
	return 0;
}

int cpu_common_pathf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

int cpu_common_file_exists(const char *dir, const char *name)
{
	char path[4200];
	struct stat st;

	if (cpu_common_pathf(path, sizeof path, "%s/%s", dir, name) != 0)
		return 1;
	return stat(path, &st) == 0 || errno != ENOENT;
}

void cpu_common_stamp_printable(char *stamp)
{
	for (char *c = stamp; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
			*c = '?';
}

const char *cpu_common_age_text(uint64_t s, struct cpu_common_pool *pool)
{
	if (s < 120)
		return cpu_common_pool_printf(pool, "%llu s", (unsigned long long)s);
	if (s < 7200)
		return cpu_common_pool_printf(pool, "%llu min", (unsigned long long)(s / 60));
	if (s < 172800)
		return cpu_common_pool_printf(pool, "%llu h", (unsigned long long)(s / 3600));
	return cpu_common_pool_printf(pool, "%llu days", (unsigned long long)(s / 86400));
}
