/*
 * check_cpu_common.c - Check suite for what plugins/common adds beyond the
 * probes cpu_avx2's suite already covers (memory, cgroups, CPU quota): the
 * sysfs topology probe, read from a fake sysfs tree written into a mkdtemp
 * directory for the CPUs this process may run on; the thread team; and the
 * shared value parsers.
 */
#include <build-config.h>

#include <check.h>
#include <ftw.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpu_common.h"

static char tmp[256];

static void make_parents(const char *path)
{
	char buf[1024];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(buf, 0755);
		*p = '/';
	}
}

static void put(const char *rel, const char *fmt, ...) TRIT_PRINTF(2, 3);
static void put(const char *rel, const char *fmt, ...)
{
	char path[1024];
	va_list ap;
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", tmp, rel);
	make_parents(path);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void setup(void)
{
	snprintf(tmp, sizeof tmp, "%s/check_cpu_common.XXXXXX", P_tmpdir);
	ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static void teardown(void)
{
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The CPUs in this thread's affinity, as the probe will see them. */
static int affinity(int *cpus, int max)
{
	cpu_set_t set;
	int n = 0;
	CPU_ZERO(&set);
	ck_assert_int_eq(sched_getaffinity(0, sizeof set, &set), 0);
	for (int c = 0; c < CPU_SETSIZE && n < max; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
	return n;
}

/* Write tmp/sys/devices/system/cpu/cpu<c>/<rel>. */
static void cput(int c, const char *rel, const char *fmt, ...) TRIT_PRINTF(3, 4);
static void cput(int c, const char *rel, const char *fmt, ...)
{
	char path[300], text[64];
	va_list ap;

	snprintf(path, sizeof path, "sys/devices/system/cpu/cpu%d/%s", c, rel);
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	put(path, "%s", text);
}

/* One cache/index<i> of CPU c. */
static void cache(int c, int i, int level, const char *type, const char *size,
                  const char *shared)
{
	char rel[64];
	snprintf(rel, sizeof rel, "cache/index%d/level", i);
	cput(c, rel, "%d\n", level);
	snprintf(rel, sizeof rel, "cache/index%d/type", i);
	cput(c, rel, "%s\n", type);
	snprintf(rel, sizeof rel, "cache/index%d/size", i);
	cput(c, rel, "%s\n", size);
	snprintf(rel, sizeof rel, "cache/index%d/shared_cpu_list", i);
	cput(c, rel, "%s\n", shared);
}

/* A machine whose CPUs 2k and 2k+1 share a core and an L2, each CPU has its
 * own L1d (and an L1i, to be ignored), and one L3 serves all. */
static void put_cpus(const int *cpus, int n, int with_caches, const char *l2_of_cpu0)
{
	for (int i = 0; i < n; i++) {
		int c = cpus[i];
		char own[16], pair[32];
		snprintf(own, sizeof own, "%d", c);
		snprintf(pair, sizeof pair, "%d-%d", c / 2 * 2, c / 2 * 2 + 1);
		cput(c, "topology/core_cpus_list", "%s\n", pair);
		if (!with_caches)
			continue;
		cache(c, 0, 1, "Data", "64K", own);
		cache(c, 1, 1, "Instruction", "64K", own);
		cache(c, 2, 2, "Unified", c == cpus[0] && l2_of_cpu0 ? l2_of_cpu0 : "1024K", pair);
		cache(c, 3, 3, "Unified", "32M", "0-4095");
	}
}

/* Distinct c / 2 among the CPUs. */
static int pairs(const int *cpus, int n)
{
	int k = 0;
	for (int i = 0; i < n; i++) {
		int seen = 0;
		for (int j = 0; j < i; j++)
			seen |= cpus[j] / 2 == cpus[i] / 2;
		k += !seen;
	}
	return k;
}

START_TEST(sysfs_topology_counts_cores_and_cache_instances_of_the_affinity)
{
	struct cpu_common_topology t;
	struct cpu_common_pool pool = { 0 };
	char sys[300];
	int cpus[4096], n = affinity(cpus, 4096);

	put_cpus(cpus, n, 1, NULL);
	put("sys/devices/system/node/node0/cpulist", "0-4095\n");
	put("sys/devices/system/node/has_cpu", "0\n");
	snprintf(sys, sizeof sys, "%s/sys", tmp);
	cpu_common_topology_probe_sysfs(sys, &t, &pool);

	ck_assert_uint_eq(t.pus.state, TRIT_VALUE_MEASURED);
	ck_assert_uint_eq(t.pus.value, (uint64_t)n);
	ck_assert_uint_eq(t.cores.state, TRIT_VALUE_MEASURED);
	ck_assert_uint_eq(t.cores.value, (uint64_t)pairs(cpus, n));
	ck_assert_uint_eq(t.l1d.size.value, 64 * 1024);
	ck_assert_uint_eq(t.l1d.instances.value, (uint64_t)n);
	ck_assert_uint_eq(t.l2.size.value, 1024 * 1024);
	ck_assert_uint_eq(t.l2.instances.value, (uint64_t)pairs(cpus, n));
	ck_assert_uint_eq(t.l3.size.value, 32u << 20);
	ck_assert_uint_eq(t.l3.instances.value, 1);
	ck_assert_uint_eq(t.l3.total, 32u << 20);
	ck_assert_uint_eq(t.numa_nodes.state, TRIT_VALUE_MEASURED);
	ck_assert_uint_eq(t.numa_nodes.value, 1);
	ck_assert_ptr_nonnull(strstr(t.l2.size.source, "size of one L2"));
	ck_assert_int_eq(pool.failed, 0);
	cpu_common_pool_free(&pool);
}
END_TEST

START_TEST(sysfs_topology_reports_the_largest_of_unequal_caches_with_the_range)
{
	struct cpu_common_topology t;
	struct cpu_common_pool pool = { 0 };
	char sys[300];
	int cpus[4096], n = affinity(cpus, 4096);

	put_cpus(cpus, n, 1, "2M");
	snprintf(sys, sizeof sys, "%s/sys", tmp);
	cpu_common_topology_probe_sysfs(sys, &t, &pool);
	ck_assert_uint_eq(t.l2.size.value, 2u << 20);
	if (pairs(cpus, n) > 1)
		ck_assert_msg(strstr(t.l2.size.source, "range from 1048576 to 2097152") != NULL,
		              "source: %s", t.l2.size.source);
	cpu_common_pool_free(&pool);
}
END_TEST

START_TEST(sysfs_without_caches_or_core_lists_says_what_is_missing)
{
	struct cpu_common_topology t;
	struct cpu_common_pool pool = { 0 };
	char sys[300];
	int cpus[4096], n = affinity(cpus, 4096);

	put_cpus(cpus, n, 0, NULL);
	snprintf(sys, sizeof sys, "%s/sys", tmp);
	cpu_common_topology_probe_sysfs(sys, &t, &pool);
	ck_assert_uint_eq(t.cores.state, TRIT_VALUE_MEASURED);
	ck_assert_uint_eq(t.l1d.size.state, TRIT_VALUE_UNKNOWN);
	ck_assert_ptr_nonnull(strstr(t.l1d.size.source, "no cache directories"));
	ck_assert_uint_eq(t.numa_nodes.state, TRIT_VALUE_UNKNOWN);
	ck_assert_ptr_nonnull(strstr(t.numa_nodes.source, "devices/system/node"));
	cpu_common_pool_free(&pool);

	/* An empty sysfs: no core lists either. */
	snprintf(sys, sizeof sys, "%s/empty", tmp);
	mkdir(sys, 0755);
	cpu_common_topology_probe_sysfs(sys, &t, &pool);
	ck_assert_uint_eq(t.pus.state, TRIT_VALUE_MEASURED);
	ck_assert_uint_eq(t.cores.state, TRIT_VALUE_UNKNOWN);
	ck_assert_ptr_nonnull(strstr(t.cores.source, "core_cpus_list"));
	cpu_common_pool_free(&pool);
}
END_TEST

START_TEST(sysfs_topology_of_this_machine_is_measured_or_says_why)
{
	struct cpu_common_topology t;
	struct cpu_common_pool pool = { 0 };

	cpu_common_topology_probe_sysfs("/sys", &t, &pool);
	ck_assert_uint_eq(t.pus.state, TRIT_VALUE_MEASURED);
	ck_assert_uint_ge(t.pus.value, 1);
	ck_assert_uint_le(t.pus.value, (uint64_t)sysconf(_SC_NPROCESSORS_CONF));
	ck_assert_ptr_nonnull(t.cores.source);
	ck_assert_ptr_nonnull(t.l1d.size.source);
	if (t.cores.state != TRIT_VALUE_UNKNOWN)
		ck_assert_uint_le(t.cores.value, t.pus.value);
	cpu_common_pool_free(&pool);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The thread team                                                           */

struct tally {
	int ran[64];
	unsigned n_seen[64];
};

static void mark(void *arg, unsigned i, unsigned n)
{
	struct tally *t = arg;
	__atomic_add_fetch(&t->ran[i], 1, __ATOMIC_SEQ_CST);
	t->n_seen[i] = n;
}

START_TEST(team_runs_every_index_once_per_run_and_keeps_its_workers)
{
	struct cpu_common_team *team = NULL;
	char why[200];

	ck_assert_int_eq(cpu_common_team_create(&team, why, sizeof why), 0);
	ck_assert_uint_eq(cpu_common_team_size(team), 1);
	for (unsigned n = 1; n <= 8; n++) {
		for (int rep = 0; rep < 20; rep++) {
			struct tally t;
			unsigned used;
			memset(&t, 0, sizeof t);
			used = cpu_common_team_run(team, n, mark, &t);
			ck_assert_uint_eq(used, n);
			for (unsigned i = 0; i < 64; i++) {
				ck_assert_int_eq(t.ran[i], i < used ? 1 : 0);
				if (i < used)
					ck_assert_uint_eq(t.n_seen[i], used);
			}
		}
	}
	ck_assert_uint_eq(cpu_common_team_size(team), 8);
	/* A smaller run after a larger one leaves the extra workers idle. */
	{
		struct tally t;
		memset(&t, 0, sizeof t);
		ck_assert_uint_eq(cpu_common_team_run(team, 3, mark, &t), 3);
		ck_assert_int_eq(t.ran[3], 0);
	}
	cpu_common_team_destroy(team);
	cpu_common_team_destroy(NULL);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Parsers                                                                   */

START_TEST(bools_and_sizes_parse_as_the_plugins_document)
{
	uint64_t v;
	int b;

	ck_assert_int_eq(cpu_common_parse_bool("Yes", &b), 0);
	ck_assert_int_eq(b, 1);
	ck_assert_int_eq(cpu_common_parse_bool("off", &b), 0);
	ck_assert_int_eq(b, 0);
	ck_assert_int_eq(cpu_common_parse_bool("maybe", &b), -1);
	ck_assert_int_eq(cpu_common_parse_size("64MiB", &v), 0);
	ck_assert_uint_eq(v, 64u << 20);
	ck_assert_int_eq(cpu_common_parse_size("1.5 GiB", &v), 0);
	ck_assert_uint_eq(v, 3u << 29);
	ck_assert_int_eq(cpu_common_parse_size("2MB", &v), 0);
	ck_assert_uint_eq(v, 2000000);
	ck_assert_int_eq(cpu_common_parse_size("12 parsecs", &v), -1);
}
END_TEST

static Suite *cpu_common_suite(void)
{
	Suite *s = suite_create("cpu_common");
	TCase *tc;

	tc = tcase_create("topology_sysfs");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, sysfs_topology_counts_cores_and_cache_instances_of_the_affinity);
	tcase_add_test(tc, sysfs_topology_reports_the_largest_of_unequal_caches_with_the_range);
	tcase_add_test(tc, sysfs_without_caches_or_core_lists_says_what_is_missing);
	tcase_add_test(tc, sysfs_topology_of_this_machine_is_measured_or_says_why);
	suite_add_tcase(s, tc);

	tc = tcase_create("team");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, team_runs_every_index_once_per_run_and_keeps_its_workers);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_test(tc, bools_and_sizes_parse_as_the_plugins_document);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cpu_common_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
