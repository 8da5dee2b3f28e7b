/*
 * common.c - error buffers, allocation helpers, environment, byte units.
 */
#include <build-config.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>

#include "core/common.h"
#include "core/textsafe.h"

int trit_errf(char *err, size_t errlen, int code, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
		trit_text_sanitize(err, errlen); /* messages quote file content */
	}
	return code;
}

void *trit_calloc_large(size_t n, size_t size)
{
	const size_t huge = (size_t)1 << 21;
	size_t bytes;
	void *p;

	if (size && n > SIZE_MAX / size)
		return NULL;
	bytes = n * size;
	if (bytes < 4 * huge || posix_memalign(&p, huge, bytes) != 0)
		return calloc(n ? n : 1, size ? size : 1);
#ifdef MADV_HUGEPAGE
	madvise(p, bytes / huge * huge, MADV_HUGEPAGE); /* advice: failure changes nothing */
#endif
	memset(p, 0, bytes);
	return p;
}

char *trit_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

char *trit_asprintf(const char *fmt, ...)
{
	va_list ap;
	int n;
	char *s;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !(s = malloc((size_t)n + 1)))
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

const char *trit_getenv(const char *name)
{
#ifdef HAVE_SECURE_GETENV
	return secure_getenv(name);
#else
	return getenv(name);
#endif
}

static const struct {
	const char *suffix;
	uint64_t mult;
} size_units[] = {
	{ "", 1 }, { "B", 1 },
	{ "K", UINT64_C(1) << 10 }, { "KiB", UINT64_C(1) << 10 }, { "KB", UINT64_C(1000) },
	{ "M", UINT64_C(1) << 20 }, { "MiB", UINT64_C(1) << 20 }, { "MB", UINT64_C(1000000) },
	{ "G", UINT64_C(1) << 30 }, { "GiB", UINT64_C(1) << 30 }, { "GB", UINT64_C(1000000000) },
	{ "T", UINT64_C(1) << 40 }, { "TiB", UINT64_C(1) << 40 }, { "TB", UINT64_C(1000000000000) },
};

int trit_parse_size(const char *s, uint64_t *out)
{
	char *end;
	double v;
	const char *p;

	if (!s)
		return TRIT_EINVAL;
	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s) && *s != '.')
		return TRIT_EINVAL; /* no sign, no "inf", no "nan" */
	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno)
		return TRIT_EINVAL;
	p = end;
	while (isspace((unsigned char)*p))
		p++;
	size_t len = strlen(p);
	while (len && isspace((unsigned char)p[len - 1]))
		len--;
	for (size_t i = 0; i < TRIT_ARRAY_LEN(size_units); i++) {
		if (strlen(size_units[i].suffix) != len ||
		    strncasecmp(p, size_units[i].suffix, len) != 0)
			continue;
		/* "KiB" vs "KB" differ only by the 'i', which strncasecmp sees. */
		double bytes = v * (double)size_units[i].mult;
		if (!(bytes < 18446744073709551616.0))
			return TRIT_ERANGE;
		if (bytes != floor(bytes) && size_units[i].mult == 1)
			return TRIT_EINVAL; /* fractional bytes */
		*out = (uint64_t)floor(bytes);
		return TRIT_OK;
	}
	return TRIT_EINVAL;
}

char *trit_format_bytes(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = (double)bytes;
	size_t u = 0;

	while (v >= 1024.0 && u + 1 < TRIT_ARRAY_LEN(units)) {
		v /= 1024.0;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%.2f %s", v, units[u]);
	return buf;
}
