/*
 * env.c - the test environment: clearing TRIT_* variables and removing
 * a test's temporary directory. Creating the directory (its name and
 * where) is left to each suite's fixture.
 */
#include <build-config.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"

void test_clear_trit_env(void)
{
	char names[64][128];
	size_t n = 0;

	for (char **e = environ; *e && n < 64; e++) {
		const char *eq = strchr(*e, '=');
		size_t len = eq ? (size_t)(eq - *e) : strlen(*e);
		if (strncmp(*e, "TRIT_", 5) != 0 || strncmp(*e, "TRIT_TEST_", 10) == 0 ||
		    len >= sizeof names[0])
			continue;
		memcpy(names[n], *e, len);
		names[n++][len] = '\0';
	}
	for (size_t i = 0; i < n; i++)
		unsetenv(names[i]);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 ? 0 : -1;
}

int test_remove_tree(const char *dir)
{
	return nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}
