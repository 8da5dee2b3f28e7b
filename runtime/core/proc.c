/*
 * core/proc.c - resident memory and time of this process (core/proc.h).
 */
#include <build-config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/proc.h"

/* "VmRSS:    1234 kB" -> bytes, for the line starting with key. */
static uint64_t status_kb(const char *key)
{
	char line[256];
	size_t k = strlen(key);
	uint64_t v = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, key, k) == 0 && line[k] == ':') {
			v = strtoull(line + k + 1, NULL, 10) * 1024;
			break;
		}
	fclose(f);
	return v;
}

uint64_t trit_rss_now(void)
{
	return status_kb("VmRSS");
}

uint64_t trit_rss_peak(void)
{
	return status_kb("VmHWM");
}

int trit_rss_reset_peak(void)
{
	FILE *f = fopen("/proc/self/clear_refs", "w");
	int ok;

	if (!f)
		return -1;
	ok = fputs("5", f) >= 0;
	ok = fclose(f) == 0 && ok;
	return ok ? 0 : -1;
}

double trit_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
