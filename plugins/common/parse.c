/*
 * parse.c - the value syntax the CPU plugins' INI keys share: byte sizes
 * ("256MiB", "1.5 GiB") and yes/no switches. Which keys exist and what they
 * do is each plugin's options.c.
 */
#include <build-config.h>

#include <strings.h>

#include "cpu_common.h"

int cpu_common_parse_size(const char *s, uint64_t *out)
{
	static const struct {
		const char *unit;
		uint64_t mult;
	} units[] = {
		{ "", 1 },
		{ "b", 1 },
		{ "k", UINT64_C(1) << 10 },
		{ "kib", UINT64_C(1) << 10 },
		{ "kb", UINT64_C(1000) },
		{ "m", UINT64_C(1) << 20 },
		{ "mib", UINT64_C(1) << 20 },
		{ "mb", UINT64_C(1000000) },
		{ "g", UINT64_C(1) << 30 },
		{ "gib", UINT64_C(1) << 30 },
		{ "gb", UINT64_C(1000000000) },
		{ "t", UINT64_C(1) << 40 },
		{ "tib", UINT64_C(1) << 40 },
		{ "tb", UINT64_C(1000000000000) },
	};
	unsigned __int128 whole = 0, frac = 0, scale = 1, v;
	int digits = 0;
	char unit[8];
	size_t ulen = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	for (; *s >= '0' && *s <= '9'; s++, digits++) {
		whole = whole * 10 + (unsigned)(*s - '0');
		if (whole > UINT64_MAX)
			return -1;
	}
	if (*s == '.') {
		s++;
		for (; *s >= '0' && *s <= '9'; s++, digits++) {
			if (scale < (unsigned __int128)UINT64_MAX) {
				frac = frac * 10 + (unsigned)(*s - '0');
				scale *= 10;
			}
		}
	}
	if (!digits)
		return -1;
	while (*s == ' ' || *s == '\t')
		s++;
	while (*s && *s != ' ' && *s != '\t') {
		if (ulen + 1 >= sizeof unit)
			return -1;
		unit[ulen++] = *s++;
	}
	unit[ulen] = '\0';
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s)
		return -1;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcasecmp(unit, units[i].unit))
			continue;
		v = whole * units[i].mult + frac * units[i].mult / scale;
		if (v > UINT64_MAX)
			return -1;
		*out = (uint64_t)v;
		return 0;
	}
	return -1;
}

int cpu_common_parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = 1;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}
