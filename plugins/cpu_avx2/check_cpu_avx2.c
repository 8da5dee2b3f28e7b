/*
 * check_cpu_avx2.c - Check suite for the cpu_avx2 plugin's probes. Fixtures
 * (a fake proc_root, cgroup v1 and v2 trees) are written into a mkdtemp
 * directory per test; a small fake host table feeds the configuration. The
 * "real_" cases compare the probes with what this machine's /proc says.
 */
#include <build-config.h>

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <hwloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "probe.h"
#include "tests/support/support.h"

/* ------------------------------------------------------------------------ */
/* Fixture directory                                                         */

static char tmp[256];
static char proc[300];

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

/* Write text (printf-style) to tmp/rel, creating directories. */
static void put(const char *rel, const char *fmt, ...) TRIT_PRINTF(2, 3);
static void put(const char *rel, const char *fmt, ...)
{
	char path[1024];
	va_list ap;
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", tmp, rel);
	make_parents(path);
	f = fopen(path, "w");
	ck_assert_msg(f != NULL, "cannot write fixture %s: %s", path, strerror(errno));
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

static void put_bytes(const char *rel, const void *data, size_t len)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", tmp, rel);
	make_parents(path);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void mkdirs(const char *rel)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s/", tmp, rel);
	make_parents(path);
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
	snprintf(tmp, sizeof tmp, "%s/check_cpu_avx2.XXXXXX", P_tmpdir);
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	snprintf(proc, sizeof proc, "%s/proc", tmp);
	mkdirs("proc/self");
}

static void teardown(void)
{
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Numbers of the standard meminfo fixture, in kB as the file has them. */
#define MEMTOTAL_KB     16384000ull
#define MEMAVAILABLE_KB 8192000ull
#define SWAPTOTAL_KB    2097152ull
#define SWAPFREE_KB     1048576ull
#define MIB (UINT64_C(1) << 20)

static void put_meminfo(void)
{
	put("proc/meminfo",
	    "MemTotal:       %llu kB\n"
	    "MemFree:         1000000 kB\n"
	    "MemAvailable:    %llu kB\n"
	    "Buffers:           4988 kB\n"
	    "SwapCached:           0 kB\n"
	    "SwapTotal:       %llu kB\n"
	    "SwapFree:        %llu kB\n"
	    "HugePages_Total:       0\n",
	    MEMTOTAL_KB, MEMAVAILABLE_KB, SWAPTOTAL_KB, SWAPFREE_KB);
}

/* A process in cgroup v2 `path`, with cgroup2 mounted at tmp/cg2 (root
 * `root`) offering the memory and cpu controllers. */
static void put_v2(const char *path, const char *root)
{
	put("proc/self/cgroup", "0::%s\n", path);
	put("proc/self/mountinfo",
	    "22 27 0:21 / /proc rw,relatime - proc proc rw\n"
	    "41 31 0:38 %s %s/cg2 rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
	    "rw,nsdelegate\n", root, tmp);
	put("cg2/cgroup.controllers", "cpuset cpu io memory pids\n");
}

/* A process in cgroup v1 memory cgroup `path`, the memory hierarchy mounted
 * at tmp/mem with root `root`, and the cpu hierarchy at tmp/cpu (root "/"). */
static void put_v1(const char *path, const char *root)
{
	put("proc/self/cgroup",
	    "9:name=systemd:/\n"
	    "4:memory:%s\n"
	    "2:cpu,cpuacct:/\n"
	    "0::/\n", path);
	put("proc/self/mountinfo",
	    "22 27 0:21 / /proc rw,relatime - proc proc rw\n"
	    "32 31 0:29 / %s/cpu rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
	    "35 31 0:32 %s %s/mem rw,relatime - cgroup cgroup rw,memory\n"
	    "41 31 0:38 / %s/unified rw,relatime - cgroup2 cgroup2 rw\n",
	    tmp, root, tmp, tmp);
	put("cpu/cpu.cfs_quota_us", "-1\n");
	put("cpu/cpu.cfs_period_us", "100000\n");
	put("unified/cgroup.controllers", "\n");
}

static struct cpu_avx2_pool pool;

static void probe(struct cpu_avx2_memory *m)
{
	memset(&pool, 0, sizeof pool);
	cpu_avx2_memory_probe(proc, m, &pool);
	ck_assert_int_eq(pool.failed, 0);
}

#define ck_assert_known(v, expected) do { \
	ck_assert_msg((v).state != TRIT_VALUE_UNKNOWN, "%s is unknown: %s", #v, \
	              (v).source ? (v).source : "(no reason)"); \
	ck_assert_uint_eq((v).value, (expected)); \
	ck_assert_ptr_nonnull((v).source); \
} while (0)

#define ck_assert_unknown_because(v, words) do { \
	ck_assert_msg((v).state == TRIT_VALUE_UNKNOWN, "%s is %llu (%s), expected unknown", #v, \
	              (unsigned long long)(v).value, (v).source ? (v).source : ""); \
	ck_assert_ptr_nonnull((v).source); \
	ck_assert_msg(strstr((v).source, (words)) != NULL, "%s: '%s' lacks '%s'", #v, \
	              (v).source, (words)); \
} while (0)

/* ------------------------------------------------------------------------ */
/* Fake host                                                                 */

static char last_log[600];

static void host_log(void *ctx, int level, const char *message)
{
	(void)ctx;
	(void)level;
	snprintf(last_log, sizeof last_log, "%s", message);
}

static const struct trit_host host = {
	.abi_version = TRIT_BACKEND_ABI_VERSION,
	.struct_size = sizeof(struct trit_host),
	.host_version = "test",
	.ctx = NULL,
	.log = host_log,
	.config_get = test_cfg_get,
	.config_key = test_cfg_key,
	.config_where = test_cfg_where,
};

static const struct trit_property *find_prop(const struct trit_device *d, const char *key)
{
	for (uint32_t i = 0; i < d->n_props; i++)
		if (!strcmp(d->props[i].key, key))
			return &d->props[i];
	return NULL;
}

/* Does this CPU (and OS) run AVX2? Where it does not, init must refuse,
 * and the cases that need a registered plugin check only that. */
static int machine_has_avx2(void)
{
	struct cpu_avx2_cpuid raw;
	cpu_avx2_cpuid_read(&raw);
	return (cpu_avx2_caps_decode(&raw, NULL, 0) & TRIT_CAP_AVX2) != 0;
}

#define INIT_OR_SKIP(state, err) do { \
	int rc_ = init_plugin((state), (err), sizeof(err)); \
	if (!machine_has_avx2()) { \
		ck_assert_int_eq(rc_, TRIT_EUNSUPPORTED); \
		return; \
	} \
	ck_assert_msg(rc_ == 0, "%s", (err)); \
} while (0)

/* Init through the exported table with the current settings. */
static int init_plugin(void **state, char *err, size_t errlen)
{
	const struct trit_backend *b = cpu_avx2_LTX_trit_backend_entry();
	return b->init(&host, state, err, errlen);
}

/* ------------------------------------------------------------------------ */
/* /proc/meminfo                                                             */

START_TEST(meminfo_fields_are_parsed_exactly_in_bytes)
{
	struct cpu_avx2_memory m;

	put_meminfo();
	put("proc/self/cgroup", "0::/\n");
	put("proc/self/mountinfo", "22 27 0:21 / /proc rw,relatime - proc proc rw\n");
	probe(&m);
	ck_assert_known(m.host_total, MEMTOTAL_KB * 1024);
	ck_assert_known(m.host_available, MEMAVAILABLE_KB * 1024);
	ck_assert_known(m.swap_total, SWAPTOTAL_KB * 1024);
	ck_assert_known(m.swap_free, SWAPFREE_KB * 1024);
	ck_assert_known(m.total, MEMTOTAL_KB * 1024);
	ck_assert_known(m.free, MEMAVAILABLE_KB * 1024);
	ck_assert_ptr_nonnull(strstr(m.total.source, "MemTotal"));
	ck_assert_unknown_because(m.cg_limit, "no memory limit");
	cpu_avx2_pool_free(&pool);
}
END_TEST

START_TEST(missing_meminfo_gives_unknown_with_the_path_and_reason)
{
	struct cpu_avx2_memory m;

	put_v2("/", "/");
	probe(&m);
	ck_assert_unknown_because(m.host_total, "meminfo");
	ck_assert_unknown_because(m.host_total, "No such file");
	ck_assert_unknown_because(m.total, "meminfo");
	ck_assert_unknown_because(m.swap_free, "meminfo");
	cpu_avx2_pool_free(&pool);
}
END_TEST

START_TEST(malformed_meminfo_values_give_unknown_not_a_guess)
{
	struct cpu_avx2_memory m;

	put("proc/meminfo",
	    "MemTotal:       lots kB\n"
	    "MemAvailable:   -5 kB\n"
	    "SwapTotal: 99999999999999999999999 kB\n"
	    "SwapFree:        1638");   /* truncated mid-number, no unit */
	put("proc/self/cgroup", "0::/\n");
	put("proc/self/mountinfo", "\n");
	probe(&m);
	ck_assert_unknown_because(m.host_total, "MemTotal is not a number");
	ck_assert_unknown_because(m.host_available, "MemAvailable is not a number");
	ck_assert_unknown_because(m.swap_total, "SwapTotal is not a number");
	ck_assert_unknown_because(m.swap_free, "SwapFree is not a number");
	ck_assert_unknown_because(m.free, "MemAvailable");
	cpu_avx2_pool_free(&pool);
}
END_TEST

START_TEST(meminfo_without_memavailable_says_which_line_is_missing)
{
	struct cpu_avx2_memory m;

	put("proc/meminfo", "MemTotal: 1000 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n");
	put("proc/self/cgroup", "0::/\n");
	put("proc/self/mountinfo", "\n");
	probe(&m);
	ck_assert_known(m.total, 1024000);
	ck_assert_unknown_because(m.free, "has no MemAvailable line");
	cpu_avx2_pool_free(&pool);
}
END_TEST

START_TEST(meminfo_with_a_nul_byte_or_oversized_is_rejected)
{
	struct cpu_avx2_memory m;
	static const char nul[] = "MemTotal: 1000 kB\n\0MemAvailable: 5 kB\n";
	char *big = malloc(2u << 20);

	put_bytes("proc/meminfo", nul, sizeof nul - 1);
	put("proc/self/cgroup", "0::/\n");
	put("proc/self/mountinfo", "\n");
	probe(&m);
	ck_assert_unknown_because(m.host_total, "NUL byte");
	cpu_avx2_pool_free(&pool);

	ck_assert_ptr_nonnull(big);
	memset(big, 'x', 2u << 20);
	put_bytes("proc/meminfo", big, 2u << 20);
	free(big);
	probe(&m);
	ck_assert_unknown_because(m.host_total, "longer than");
	cpu_avx2_pool_free(&pool);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* cgroup v2                                                                 */

START_TEST(cgroup_v2_limit_lowers_total_and_free)
{
	struct cpu_avx2_memory m;
	char dir[400];

	put_meminfo();
	put_v2("/app", "/");
	put("cg2/app/memory.max", "1073741824\n");
	put("cg2/app/memory.current", "104857600\n");
	put("cg2/app/memory.stat", "anon 50000000\nfile 54857600\ninactive_file 10485760\n"
	    "active_file 44371840\n");
	probe(&m);
	/* 1 GiB limit; working set 100 MiB - 10 MiB = 90 MiB. */
	ck_assert_known(m.total, UINT64_C(1073741824));
	ck_assert_known(m.free, UINT64_C(1073741824) - (UINT64_C(104857600) - UINT64_C(10485760)));
	ck_assert_known(m.cg_limit, UINT64_C(1073741824));
	ck_assert_known(m.cg_working_set, UINT64_C(104857600) - UINT64_C(10485760));
	ck_assert_uint_eq(m.free.state, TRIT_VALUE_DERIVED);
	snprintf(dir, sizeof dir, "%s/cg2/app", tmp);
	ck_assert_str_eq(m.cg_path, dir);
	ck_assert_str_eq(m.cg_version, "v2");
	ck_assert_ptr_nonnull(strstr(m.free.source, "memory.max"));
	ck_assert_ptr_nonnull(strstr(m.free.source, "inactive_file"));
	ck_assert_ptr_nonnull(strstr(m.free.source, dir));
	ck_assert_ptr_nonnull(strstr(m.total.source, "MemTotal"));
	cpu_avx2_pool_free(&pool);
}
END_TEST

START_TEST(cgroup_v2_nested_ancestors_take_the_minimum)
{
	struct cpu_avx2_memory m;

	put_meminfo();
	put_v2("/a/b", "/");
	put("cg2/a/memory.max", "%llu\n", 512ull * MIB);
	put("cg2/a/memory.current", "%llu\n", 300ull * MIB);
	put("cg2/a/memory.stat", "inactive_file 0\n");
	put("cg2/a/b/memory.max", "%llu\n", 2048ull * MIB);
	put("cg2/a/b/memory.current", "%llu\n", 100ull * MIB);
	put("cg2/a/b/memory.stat", "inactive_file 0\n");
	probe(&m);
	/* The parent's 512 MiB is the tighter limit, and its siblings already
	 * use 300 MiB of it: 212 MiB are left for us. */
	ck_assert_known(m.total, 512ull * MIB);
	ck_assert_known(m.free, 212ull * MIB);
	ck_assert_ptr_nonnull(strstr(m.cg_limit.source, "/cg2/a "));
	cpu_avx2_pool_free(&pool);
}
END_TEST

START_TEST(cgroup_v2_max_means_no_limit)
{
	struct cpu_avx2_memory m;

	put_meminfo();
	put_v2("/a/b", "/");
	put("cg2/a/memory.max", "max\n");
	put("cg2/a/b/memory.max", "max\n");
	put("cg2/a/b/memory.current", "4096\n");
	put("cg2/a/b/memory.stat", "inactive_file 0\n");
	probe(&m);
	ck_assert_known(m.total, MEMTOTAL_KB * 1024);
	ck_assert_known(m.free, MEMAVAILABLE_KB * 1024);
	ck_assert_unknown_because(m.cg_limit, "no memory limit");
	ck_assert_known(m.cg_working_set, 4096);
	cpu_avx2_pool_free(&pool);
}
END_TEST

START_TEST(cgroup_v2_without_memory_controller_is_no_limit)
{
	struct cpu_avx2_memory m;

	put_meminfo();
	put_v2("/", "/");
	put("cg2/cgroup.controllers", "cpu pids\n");
	probe(&m);
	ck_assert_known(m.total, MEMTOTAL_KB * 1024);
	ck_assert_unknown_because(m.cg_limit, "no memory limit");
	ck_assert_unknown_because(m.cg_version_why, "memory");
	cpu_avx2_pool_free(&pool);
}
END_TEST

START_TEST(missing_inactive_file_counts_the_whole_usage_and_says_so)
{
	struct cpu_avx2_memory m;

	put_meminfo();
	put_v2("/app", "/");
	put("cg2/app/memory.max", "%llu\n", 1024ull * MIB);
	put("cg2/app/memory.current", "%llu\n", 100ull * MIB);
	put("cg2/app/memory.stat", "anon 1\nactive_file 2\n");
	probe(&m);
	ck_assert_known(m.free, 924ull * MIB);
	ck_assert_ptr_nonnull(strstr(m.free.source, "inactive_file was not subtracted"));
	cpu_avx2_pool_free(&pool);
}
END_TEST

START_TEST(malformed_memory_max_makes_total_unknown_with_the_file_named)
{
	struct cpu_avx2_memory m;

	put_meminfo();
	put_v2("/app", "/");
	put("cg2/app/memory.max", "12abc\n");
	probe(&m);
	ck_assert_unknown_because(m.total, "memory.max does not hold a number");
	ck_assert_unknown_because(m.free, "memory.max");
	ck_assert_unknown_because(m.cg_limit, "12abc");
	cpu_avx2_pool_free(&pool);
}
END_TEST

START_TEST(unreadable_usage_under_a_limit_makes_free_unknown_but_keeps_total)
{
	struct cpu_avx2_memory m;

	put_meminfo();
	put_v2("/app", "/");
	put("cg2/app/memory.max", "%llu\n", 256ull * MIB);
	put_bytes("cg2/app/memory.current", "", 0);   /* empty, as if truncated */
	probe(&m);
	ck_assert_known(m.total, 256ull * MIB);
	ck_assert_unknown_because(m.free, "memory.current");
	cpu_avx2_pool_free(&pool);
}
END_TEST

START_TEST(missing_cgroup_directory_gives_unknown_with_the_path)
{
	struct cpu_avx2_memory m;

	put_meminfo();
	put_v2("/gone", "/");
	probe(&m);
	ck_assert_unknown_because(m.total, "/cg2/gone");
	ck_assert_unknown_because(m.free, "not a readable directory");
	cpu_avx2_pool_free(&pool);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* cgroup v1                                                                 */

START_TEST(cgroup_v1_limit_lowers_total_and_free)
{
	struct cpu_avx2_memory m;

	put_meminfo();
	put_v1("/docker/x", "/");
	put("mem/memory.limit_in_bytes", "9223372036854771712\n");
	put("mem/docker/memory.limit_in_bytes", "9223372036854771712\n");
	put("mem/docker/x/memory.limit_in_bytes", "2147483648\n");
	put("mem/docker/x/memory.usage_in_bytes", "536870912\n");
	/* inactive_file is this cgroup alone; total_ includes children, like
	 * usage_in_bytes does, so total_ is the one to subtract. */
	put("mem/docker/x/memory.stat", "cache 1\ninactive_file 1\ntotal_cache 2\n"
	    "total_inactive_file 134217728\n");
	probe(&m);
	ck_assert_known(m.total, UINT64_C(2147483648));
	ck_assert_known(m.free, UINT64_C(2147483648) - (UINT64_C(536870912) - UINT64_C(134217728)));
	ck_assert_known(m.cg_working_set, UINT64_C(536870912) - UINT64_C(134217728));
	ck_assert_str_eq(m.cg_version, "v1");
	ck_assert_ptr_nonnull(strstr(m.free.source, "memory.limit_in_bytes"));
	ck_assert_ptr_nonnull(strstr(m.free.source, "total_inactive_file"));
	cpu_avx2_pool_free(&pool);
}
END_TEST

START_TEST(cgroup_v1_limit_of_2_pow_62_or_more_means_unlimited)
{
	struct cpu_avx2_memory m;

	put_meminfo();
	put_v1("/x", "/");
	put("mem/memory.limit_in_bytes", "4611686018427387904\n"); /* exactly 2^62 */
	put("mem/x/memory.limit_in_bytes", "9223372036854771712\n");
	put("mem/x/memory.usage_in_bytes", "1000\n");
	put("mem/x/memory.stat", "total_inactive_file 0\n");
	probe(&m);
	ck_assert_unknown_because(m.cg_limit, "no memory limit");
	ck_assert_known(m.total, MEMTOTAL_KB * 1024);
	cpu_avx2_pool_free(&pool);

	/* One page below 2^62 is a (huge) limit: known, but RAM is smaller. */
	put("mem/memory.limit_in_bytes", "4611686018427383808\n");
	probe(&m);
	ck_assert_known(m.cg_limit, UINT64_C(4611686018427383808));
	ck_assert_known(m.total, MEMTOTAL_KB * 1024);
	cpu_avx2_pool_free(&pool);
}
END_TEST

START_TEST(cgroup_mount_root_is_stripped_from_the_cgroup_path)
{
	struct cpu_avx2_memory m;
	char dir[400];

	put_meminfo();
	/* As on this build machine: the memory cgroup is /process_api/abc and
	 * the mount shows the hierarchy from /process_api down. */
	put_v1("/process_api/abc", "/process_api");
	put("mem/memory.limit_in_bytes", "9223372036854771712\n");
	put("mem/abc/memory.limit_in_bytes", "%llu\n", 64ull * MIB);
	put("mem/abc/memory.usage_in_bytes", "%llu\n", 16ull * MIB);
	put("mem/abc/memory.stat", "total_inactive_file 0\n");
	probe(&m);
	snprintf(dir, sizeof dir, "%s/mem/abc", tmp);
	ck_assert_str_eq(m.cg_path, dir);
	ck_assert_known(m.total, 64ull * MIB);
	ck_assert_known(m.free, 48ull * MIB);
	cpu_avx2_pool_free(&pool);
}
END_TEST

START_TEST(cgroup_path_outside_the_mount_root_uses_the_mount_point)
{
	struct cpu_avx2_memory m;
	char dir[400];

	put_meminfo();
	put_v1("/elsewhere/x", "/process_api");
	put("mem/memory.limit_in_bytes", "%llu\n", 128ull * MIB);
	put("mem/memory.usage_in_bytes", "%llu\n", 28ull * MIB);
	put("mem/memory.stat", "total_inactive_file 0\n");
	probe(&m);
	snprintf(dir, sizeof dir, "%s/mem", tmp);
	ck_assert_str_eq(m.cg_path, dir);
	ck_assert_known(m.total, 128ull * MIB);
	ck_assert_known(m.free, 100ull * MIB);
	cpu_avx2_pool_free(&pool);
}
END_TEST

START_TEST(cgroup_path_with_dotdot_is_refused)
{
	struct cpu_avx2_memory m;

	put_meminfo();
	put_v1("/x/../../etc", "/");
	probe(&m);
	ck_assert_unknown_because(m.total, "'..'");
	cpu_avx2_pool_free(&pool);
}
END_TEST

START_TEST(missing_or_garbled_cgroup_files_give_unknown_not_a_crash)
{
	struct cpu_avx2_memory m;

	put_meminfo();
	/* No self/cgroup at all. */
	probe(&m);
	ck_assert_unknown_because(m.total, "self/cgroup");
	cpu_avx2_pool_free(&pool);

	/* self/cgroup but no mountinfo. */
	put("proc/self/cgroup", "4:memory:/x\n");
	probe(&m);
	ck_assert_unknown_because(m.total, "self/mountinfo");
	cpu_avx2_pool_free(&pool);

	/* Garbage lines everywhere: skipped, and then nothing is mounted. */
	put("proc/self/cgroup", "garbage\n::\n4:memory\n4:memory:/x\n\n");
	put("proc/self/mountinfo", "x\n1 2 3\n1 2 3 4 5 6 -\n1 2 3 / /m o - cgroup\n"
	    "- - - - - - - - -\n%s\n", "\\\\\\0");
	probe(&m);
	ck_assert_known(m.total, MEMTOTAL_KB * 1024);
	ck_assert_unknown_because(m.cg_limit, "no cgroup v1 hierarchy with the memory controller");
	cpu_avx2_pool_free(&pool);

	/* A mount point that is not absolute is not a mount point. */
	put("proc/self/cgroup", "4:memory:/x\n");
	put("proc/self/mountinfo", "35 31 0:32 / mem rw - cgroup cgroup rw,memory\n");
	probe(&m);
	ck_assert_unknown_because(m.cg_limit, "no cgroup v1 hierarchy with the memory controller");
	cpu_avx2_pool_free(&pool);

	/* A v1 limit file that is missing is an error, not "no limit". */
	put_v1("/x", "/");
	mkdirs("mem/x");
	probe(&m);
	ck_assert_unknown_because(m.total, "memory.limit_in_bytes");
	cpu_avx2_pool_free(&pool);
}
END_TEST

START_TEST(mountinfo_octal_escapes_are_decoded)
{
	struct cpu_avx2_memory m;
	char dir[400];

	put_meminfo();
	put("proc/self/cgroup", "0::/a\n");
	put("proc/self/mountinfo", "41 31 0:38 / %s/cg\\0402 rw - cgroup2 cgroup2 rw\n", tmp);
	put("cg 2/cgroup.controllers", "memory\n");
	put("cg 2/a/memory.max", "%llu\n", 10ull * MIB);
	put("cg 2/a/memory.current", "0\n");
	put("cg 2/a/memory.stat", "inactive_file 0\n");
	probe(&m);
	snprintf(dir, sizeof dir, "%s/cg 2/a", tmp);
	ck_assert_str_eq(m.cg_path, dir);
	ck_assert_known(m.total, 10ull * MIB);
	cpu_avx2_pool_free(&pool);
}
END_TEST

START_TEST(cgroup_parent_stops_at_the_mount_point)
{
	char dir[64] = "/sys/fs/cgroup/a/b";

	ck_assert_int_eq(cpu_avx2_cgroup_parent(dir, "/sys/fs/cgroup"), 0);
	ck_assert_str_eq(dir, "/sys/fs/cgroup/a");
	ck_assert_int_eq(cpu_avx2_cgroup_parent(dir, "/sys/fs/cgroup"), 0);
	ck_assert_str_eq(dir, "/sys/fs/cgroup");
	ck_assert_int_eq(cpu_avx2_cgroup_parent(dir, "/sys/fs/cgroup"), -1);
	ck_assert_str_eq(dir, "/sys/fs/cgroup");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* CPU quota                                                                 */

static void threads_probe(struct cpu_avx2_threads *t)
{
	memset(&pool, 0, sizeof pool);
	cpu_avx2_threads_probe(proc, t, &pool);
	ck_assert_int_eq(pool.failed, 0);
}

START_TEST(cgroup_v2_cpu_max_caps_hw_threads_rounding_up)
{
	struct cpu_avx2_threads t;

	put_v2("/app", "/");
	put("cg2/app/cpu.max", "150000 100000\n");
	threads_probe(&t);
	ck_assert_uint_ne(t.affinity.state, TRIT_VALUE_UNKNOWN);
	ck_assert_str_eq(t.quota_text, "1.50 CPUs");
	ck_assert_uint_eq(t.hw_threads.value, t.affinity.value < 2 ? t.affinity.value : 2);
	cpu_avx2_pool_free(&pool);

	/* Half a CPU still gets one thread, and an ancestor's quota counts. */
	put("cg2/cpu.max", "max 100000\n");
	put("cg2/app/cpu.max", "50000 100000\n");
	put("cg2/app/leaf/cpu.max", "400000 100000\n");
	put("proc/self/cgroup", "0::/app/leaf\n");
	threads_probe(&t);
	ck_assert_str_eq(t.quota_text, "0.50 CPUs");
	ck_assert_known(t.hw_threads, 1);
	if (t.affinity.value > 1)
		ck_assert_uint_eq(t.hw_threads.state, TRIT_VALUE_DERIVED);
	cpu_avx2_pool_free(&pool);
}
END_TEST

START_TEST(cgroup_v1_quota_of_minus_one_is_no_quota)
{
	struct cpu_avx2_threads t;

	put_v1("/x", "/");
	threads_probe(&t);
	ck_assert_ptr_null(t.quota_text);
	ck_assert_unknown_because(t.quota_why, "no CPU quota");
	ck_assert_uint_eq(t.hw_threads.value, t.affinity.value);
	cpu_avx2_pool_free(&pool);

	put("cpu/cpu.cfs_quota_us", "250000\n");
	threads_probe(&t);
	ck_assert_str_eq(t.quota_text, "2.50 CPUs");
	ck_assert_uint_eq(t.hw_threads.value, t.affinity.value < 3 ? t.affinity.value : 3);
	cpu_avx2_pool_free(&pool);
}
END_TEST

START_TEST(malformed_cpu_quota_is_unknown_and_leaves_the_affinity)
{
	struct cpu_avx2_threads t;

	put_v2("/app", "/");
	put("cg2/app/cpu.max", "150000 0\n");
	threads_probe(&t);
	ck_assert_ptr_null(t.quota_text);
	ck_assert_unknown_because(t.quota_why, "cpu.max is not");
	ck_assert_uint_eq(t.hw_threads.value, t.affinity.value);
	ck_assert_ptr_nonnull(strstr(t.hw_threads.source, "could not be read"));
	cpu_avx2_pool_free(&pool);

	put_v1("/x", "/");
	put("cpu/cpu.cfs_quota_us", "-7\n");
	threads_probe(&t);
	ck_assert_unknown_because(t.quota_why, "cpu.cfs_quota_us is neither -1");
	cpu_avx2_pool_free(&pool);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* cpuid decoding                                                            */

/* A Haswell-like CPU with the OS saving YMM state. */
static struct cpu_avx2_cpuid haswell(void)
{
	struct cpu_avx2_cpuid r;
	memset(&r, 0, sizeof r);
	r.max_leaf = 0xd;
	r.leaf1_ecx = (1u << 12) | (1u << 20) | (1u << 27) | (1u << 28) | (1u << 29);
	r.leaf7_ebx = 1u << 5;
	r.xcr0 = 0x7;
	return r;
}

START_TEST(caps_decode_reports_avx2_fma_f16c_when_the_os_saves_ymm)
{
	struct cpu_avx2_cpuid r = haswell();
	char why[300];
	uint64_t caps = cpu_avx2_caps_decode(&r, why, sizeof why);

	ck_assert_uint_eq(caps, TRIT_CAP_SSE42 | TRIT_CAP_AVX | TRIT_CAP_AVX2 | TRIT_CAP_FMA |
	                  TRIT_CAP_F16C);
	ck_assert_str_eq(why, "");
}
END_TEST

START_TEST(caps_decode_without_the_avx2_bit_names_leaf_7_ebx_bit_5)
{
	struct cpu_avx2_cpuid r = haswell();
	char why[300];

	r.leaf7_ebx = 0;
	ck_assert_uint_eq(cpu_avx2_caps_decode(&r, why, sizeof why) & TRIT_CAP_AVX2, 0);
	ck_assert_ptr_nonnull(strstr(why, "cpuid leaf 7 EBX bit 5 clear"));
	ck_assert_ptr_nonnull(strstr(why, "AVX2"));

	r.max_leaf = 6;
	r.leaf7_ebx = 1u << 5;
	ck_assert_uint_eq(cpu_avx2_caps_decode(&r, why, sizeof why) & TRIT_CAP_AVX2, 0);
	ck_assert_ptr_nonnull(strstr(why, "maximum leaf is 6"));
}
END_TEST

START_TEST(caps_decode_without_ymm_state_in_xcr0_refuses_all_avx)
{
	struct cpu_avx2_cpuid r = haswell();
	char why[300];

	r.xcr0 = 0x3; /* x87 and SSE only */
	ck_assert_uint_eq(cpu_avx2_caps_decode(&r, why, sizeof why), TRIT_CAP_SSE42);
	ck_assert_ptr_nonnull(strstr(why, "OS has not enabled YMM state (XCR0"));

	r.leaf1_ecx &= ~(1u << 27); /* no OSXSAVE: XGETBV may not even run */
	ck_assert_uint_eq(cpu_avx2_caps_decode(&r, why, sizeof why), TRIT_CAP_SSE42);
	ck_assert_ptr_nonnull(strstr(why, "OSXSAVE"));
}
END_TEST

START_TEST(caps_decode_avx512_needs_opmask_and_zmm_state)
{
	struct cpu_avx2_cpuid r = haswell();
	const uint64_t avx512 = TRIT_CAP_AVX512F | TRIT_CAP_AVX512BW | TRIT_CAP_AVX512VL |
	                        TRIT_CAP_AVX512DQ | TRIT_CAP_AVX512VNNI | TRIT_CAP_AVX512BF16 |
	                        TRIT_CAP_AVX512VBMI;
	uint64_t caps;

	r.leaf7_ebx |= (1u << 16) | (1u << 17) | (1u << 30) | (1u << 31);
	r.leaf7_ecx = (1u << 1) | (1u << 11);
	r.leaf7_max_sub = 1;
	r.leaf7s1_eax = (1u << 4) | (1u << 5);
	caps = cpu_avx2_caps_decode(&r, NULL, 0);
	ck_assert_uint_eq(caps & avx512, 0);         /* XCR0 = 0x7: no ZMM state */
	ck_assert_uint_ne(caps & TRIT_CAP_AVX_VNNI, 0);

	r.xcr0 = 0xe7;
	caps = cpu_avx2_caps_decode(&r, NULL, 0);
	ck_assert_uint_eq(caps & avx512, avx512);

	/* Without AVX512F the other AVX-512 bits mean nothing. */
	r.leaf7_ebx &= ~(1u << 16);
	caps = cpu_avx2_caps_decode(&r, NULL, 0);
	ck_assert_uint_eq(caps & avx512, 0);
}
END_TEST

START_TEST(disable_names_map_to_caps_and_avx512_covers_the_family)
{
	ck_assert_uint_eq(cpu_avx2_caps_by_name("avx2"), TRIT_CAP_AVX2);
	ck_assert_uint_eq(cpu_avx2_caps_by_name("avx_vnni"), TRIT_CAP_AVX_VNNI);
	ck_assert_uint_eq(cpu_avx2_caps_by_name("avx512vnni"), TRIT_CAP_AVX512VNNI);
	ck_assert_uint_eq(cpu_avx2_caps_by_name("avx512"),
	                  TRIT_CAP_AVX512F | TRIT_CAP_AVX512BW | TRIT_CAP_AVX512VL |
	                  TRIT_CAP_AVX512DQ | TRIT_CAP_AVX512VNNI | TRIT_CAP_AVX512BF16 |
	                  TRIT_CAP_AVX512VBMI);
	ck_assert_uint_eq(cpu_avx2_caps_by_name("avx3"), 0);
	ck_assert_uint_eq(cpu_avx2_caps_close(TRIT_CAP_AVX2 | TRIT_CAP_FMA | TRIT_CAP_SSE42),
	                  TRIT_CAP_SSE42);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Sizes                                                                     */

START_TEST(sizes_parse_with_binary_and_decimal_units)
{
	uint64_t v;

	ck_assert_int_eq(cpu_avx2_parse_size("67108864", &v), 0);
	ck_assert_uint_eq(v, 67108864);
	ck_assert_int_eq(cpu_avx2_parse_size("64MiB", &v), 0);
	ck_assert_uint_eq(v, 64 * MIB);
	ck_assert_int_eq(cpu_avx2_parse_size("64M", &v), 0);
	ck_assert_uint_eq(v, 64 * MIB);
	ck_assert_int_eq(cpu_avx2_parse_size(" 64 MB ", &v), 0);
	ck_assert_uint_eq(v, 64000000);
	ck_assert_int_eq(cpu_avx2_parse_size("1.5 GiB", &v), 0);
	ck_assert_uint_eq(v, 1536 * MIB);
	ck_assert_int_eq(cpu_avx2_parse_size("8kib", &v), 0);
	ck_assert_uint_eq(v, 8192);
	ck_assert_int_eq(cpu_avx2_parse_size("", &v), -1);
	ck_assert_int_eq(cpu_avx2_parse_size("MiB", &v), -1);
	ck_assert_int_eq(cpu_avx2_parse_size("-1", &v), -1);
	ck_assert_int_eq(cpu_avx2_parse_size("1e3", &v), -1);
	ck_assert_int_eq(cpu_avx2_parse_size("64 MiB x", &v), -1);
	ck_assert_int_eq(cpu_avx2_parse_size("99999999999999999999", &v), -1);
	ck_assert_int_eq(cpu_avx2_parse_size("17179869184 GiB", &v), -1);
	ck_assert_int_eq(cpu_avx2_parse_size("64 XiB", &v), -1);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The backend table and init                                                */

START_TEST(entry_point_returns_an_abi_v1_table_with_buffers_and_matmul)
{
	const struct trit_backend *b = cpu_avx2_LTX_trit_backend_entry();

	ck_assert_ptr_eq(b, cpu_avx2_LTX_trit_backend_entry());
	ck_assert_uint_eq(b->abi_version, TRIT_BACKEND_ABI_VERSION);
	ck_assert_uint_eq(b->struct_size, sizeof(struct trit_backend));
	ck_assert_str_eq(b->name, "cpu_avx2");
	ck_assert_ptr_nonnull(b->init);
	ck_assert_ptr_nonnull(b->shutdown);
	ck_assert_ptr_nonnull(b->device_count);
	ck_assert_ptr_nonnull(b->device_get);
	ck_assert_ptr_nonnull(b->device_update);
	/* the kernels themselves are check_cpu_avx2_kernels' business */
	ck_assert_ptr_nonnull(b->buffer_alloc);
	ck_assert_ptr_nonnull(b->buffer_free);
	ck_assert_ptr_nonnull(b->buffer_write);
	ck_assert_ptr_nonnull(b->buffer_read);
	ck_assert_ptr_nonnull(b->matmul_workspace);
	ck_assert_ptr_nonnull(b->matmul);
}
END_TEST

START_TEST(init_refuses_when_avx2_is_disabled_and_says_where)
{
	void *state = (void *)&state;
	char err[512] = "";

	test_setting_add("disable", "avx512, avx2", "deploy.ini:3");
	ck_assert_int_eq(init_plugin(&state, err, sizeof err), TRIT_EUNSUPPORTED);
	ck_assert_ptr_null(state);
	ck_assert_msg(strstr(err, "AVX2") != NULL, "%s", err);
	if (machine_has_avx2()) /* else the hardware is the reason given */
		ck_assert_msg(strstr(err, "deploy.ini:3") != NULL, "%s", err);
}
END_TEST

START_TEST(init_rejects_an_unknown_key_naming_the_key_and_where)
{
	void *state = NULL;
	char err[512] = "";

	test_setting_add("bandwidth_probe", "no", "deploy.ini:4");
	test_setting_add("colour", "blue", "deploy.ini:7");
	ck_assert_int_eq(init_plugin(&state, err, sizeof err), TRIT_ECONFIG);
	ck_assert_ptr_null(state);
	ck_assert_msg(strstr(err, "'colour'") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "deploy.ini:7") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "proc_root") != NULL, "%s", err);
}
END_TEST

START_TEST(init_rejects_bad_values_naming_key_where_and_accepted_values)
{
	static const struct {
		const char *key, *value, *words;
	} bad[] = {
		{ "bandwidth_probe", "maybe", "yes or no" },
		{ "bandwidth_bytes", "lots", "256MiB" },
		{ "bandwidth_bytes", "4KiB", "at least 1 MiB" },
		{ "disable", "avx2,avx3", "avx512vnni" },
		{ "proc_root", "/nonexistent/trit-proc", "existing directory" },
		{ "proc_root", "relative/path", "absolute path" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		void *state = NULL;
		char err[512] = "";
		test_n_settings = 0;
		test_setting_add(bad[i].key, bad[i].value, "environment TRIT_PLUGIN_CPU_AVX2_X");
		ck_assert_int_eq(init_plugin(&state, err, sizeof err), TRIT_ECONFIG);
		ck_assert_ptr_null(state);
		ck_assert_msg(strstr(err, bad[i].key) && strstr(err, bad[i].words) &&
		              strstr(err, "environment TRIT_PLUGIN_CPU_AVX2_X"),
		              "%s = %s: %s", bad[i].key, bad[i].value, err);
	}
}
END_TEST

START_TEST(init_refuses_a_host_of_another_abi)
{
	struct trit_host other = host;
	void *state = NULL;
	char err[256] = "";

	other.abi_version = TRIT_BACKEND_ABI_VERSION + 1;
	ck_assert_int_eq(cpu_avx2_init(&other, &state, err, sizeof err), TRIT_EABI);
	ck_assert_ptr_null(state);
	ck_assert_ptr_nonnull(strstr(err, "ABI"));
}
END_TEST

START_TEST(init_with_fixtures_reports_one_cpu_device_from_proc_root)
{
	const struct trit_backend *b = cpu_avx2_LTX_trit_backend_entry();
	const struct trit_device *d;
	const struct trit_property *p;
	void *state = NULL;
	char err[512] = "";

	put_meminfo();
	put_v2("/app", "/");
	put("cg2/app/memory.max", "%llu\n", 1024ull * MIB);
	put("cg2/app/memory.current", "%llu\n", 24ull * MIB);
	put("cg2/app/memory.stat", "inactive_file 0\n");
	test_setting_add("proc_root", proc, "deploy.ini:2");
	test_setting_add("bandwidth_probe", "no", "deploy.ini:4");
	INIT_OR_SKIP(&state, err);
	ck_assert_uint_eq(b->device_count(state), 1);
	ck_assert_ptr_null(b->device_get(state, 1));
	d = b->device_get(state, 0);
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(d->struct_size, sizeof(struct trit_device));
	ck_assert_str_eq(d->id, "cpu0");
	ck_assert_uint_eq(d->kind, TRIT_DEVICE_CPU);
	ck_assert_ptr_nonnull(d->name);
	if (d->caps & TRIT_CAP_FMA) /* the ternary kernels need AVX2 and FMA */
		ck_assert_uint_eq(d->matmul_types, TRIT_TYPE_BIT(TRIT_TYPE_I2_S) |
		                                           TRIT_TYPE_BIT(TRIT_TYPE_TL1) |
		                                           TRIT_TYPE_BIT(TRIT_TYPE_TL2) |
		                                           TRIT_TYPE_BIT(TRIT_TYPE_F32) |
		                                           TRIT_TYPE_BIT(TRIT_TYPE_F16) |
		                                           TRIT_TYPE_BIT(TRIT_TYPE_BF16) |
		                                           TRIT_TYPE_BIT(TRIT_TYPE_Q8_0) |
		                                           TRIT_TYPE_BIT(TRIT_TYPE_TQ1_0) |
		                                           TRIT_TYPE_BIT(TRIT_TYPE_TQ2_0));
	else
		ck_assert_uint_eq(d->matmul_types & (TRIT_TYPE_BIT(TRIT_TYPE_I2_S) |
		                                     TRIT_TYPE_BIT(TRIT_TYPE_TL1) |
		                                     TRIT_TYPE_BIT(TRIT_TYPE_TL2)), 0);
	ck_assert_uint_ne(d->caps & TRIT_CAP_AVX2, 0);
	ck_assert_known(d->mem_total, 1024ull * MIB);
	ck_assert_known(d->mem_free, 1000ull * MIB);
	ck_assert_str_eq(d->mem_bandwidth.source, "bandwidth probe disabled by [plugin.cpu_avx2] "
	                 "bandwidth_probe = no (deploy.ini:4)");
	ck_assert_uint_eq(d->mem_bandwidth.state, TRIT_VALUE_UNKNOWN);
	ck_assert_unknown_because(d->compute_capability, "not a GPU");
	ck_assert_uint_ne(d->hw_threads.state, TRIT_VALUE_UNKNOWN);
	ck_assert_ptr_nonnull(d->clock_hz.source);

	static const char *const keys[] = {
		"cache.l1d", "cache.l2", "cache.l3", "cache.l3.instances", "numa.nodes",
		"cgroup.cpu_quota", "mem.host_total", "mem.host_available", "mem.swap_total",
		"mem.swap_free", "cgroup.version", "cgroup.path", "cgroup.memory_limit",
		"cgroup.memory_working_set", "cpu.logical_processors"
	};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		ck_assert_msg(find_prop(d, keys[i]) != NULL, "property %s missing", keys[i]);
	/* a CPU shares host memory with every other CPU device (backend.h) */
	ck_assert_str_eq(find_prop(d, "mem.pool")->text, "host");
	p = find_prop(d, "mem.swap_total");
	ck_assert_str_eq(p->unit, "bytes");
	ck_assert_known(p->value, SWAPTOTAL_KB * 1024);
	p = find_prop(d, "cgroup.version");
	ck_assert_str_eq(p->text, "v2");
	p = find_prop(d, "cgroup.memory_limit");
	ck_assert_known(p->value, 1024ull * MIB);
	ck_assert_str_ne(last_log, "");
	b->shutdown(state);
}
END_TEST

START_TEST(device_update_remeasures_free_memory)
{
	const struct trit_backend *b = cpu_avx2_LTX_trit_backend_entry();
	const struct trit_device *d;
	void *state = NULL;
	char err[512] = "";

	put_meminfo();
	put("proc/self/cgroup", "0::/\n");
	put("proc/self/mountinfo", "\n");
	test_setting_add("proc_root", proc, "deploy.ini:2");
	test_setting_add("bandwidth_probe", "off", "deploy.ini:3");
	INIT_OR_SKIP(&state, err);
	d = b->device_get(state, 0);
	ck_assert_known(d->mem_free, MEMAVAILABLE_KB * 1024);
	ck_assert_ptr_nonnull(
	        strstr(d->mem_bandwidth.source, "bandwidth_probe = off (deploy.ini:3)"));

	put("proc/meminfo", "MemTotal: %llu kB\nMemAvailable: 1000 kB\nSwapTotal: 0 kB\n"
	    "SwapFree: 0 kB\n", MEMTOTAL_KB);
	ck_assert_int_eq(b->device_update(state, 0, err, sizeof err), 0);
	d = b->device_get(state, 0);
	ck_assert_known(d->mem_free, 1024000);
	ck_assert_known(find_prop(d, "mem.host_available")->value, 1024000);
	ck_assert_ptr_nonnull(strstr(d->mem_free.source, "MemAvailable"));
	ck_assert_int_eq(b->device_update(state, 1, err, sizeof err), TRIT_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "index 1"));
	b->shutdown(state);
}
END_TEST

START_TEST(bandwidth_is_measured_over_the_configured_size)
{
	const struct trit_backend *b = cpu_avx2_LTX_trit_backend_entry();
	const struct trit_device *d;
	void *state = NULL;
	char err[512] = "";

	test_setting_add("bandwidth_bytes", "8MiB", "deploy.ini:5");
	test_setting_add("disable", "avx512", "deploy.ini:6");
	INIT_OR_SKIP(&state, err);
	d = b->device_get(state, 0);
	ck_assert_uint_eq(d->mem_bandwidth.state, TRIT_VALUE_MEASURED);
	ck_assert_uint_gt(d->mem_bandwidth.value, 0);
	ck_assert_msg(strstr(d->mem_bandwidth.source, "streaming read of 8 MiB") != NULL, "%s",
	              d->mem_bandwidth.source);
	ck_assert_ptr_nonnull(strstr(d->mem_bandwidth.source, "deploy.ini:5"));
	ck_assert_uint_eq(d->caps & TRIT_CAP_AVX512F, 0);
	ck_assert_ptr_nonnull(strstr(find_prop(d, "cpu.features_disabled")->value.source,
	                             "deploy.ini:6"));
	b->shutdown(state);
}
END_TEST

START_TEST(bandwidth_measure_reports_an_impossible_split)
{
	uint64_t bps = 0;
	char why[200] = "";

	ck_assert_int_eq(cpu_avx2_bandwidth_measure(64, 4, &bps, why, sizeof why), TRIT_EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "cannot be split"));
}
END_TEST

/* ------------------------------------------------------------------------ */
/* This machine                                                              */

/* Is `flag` one of the words on /proc/cpuinfo's first "flags" line? */
static int cpuinfo_has_flag(const char *flag)
{
	char line[8192];
	FILE *f = fopen("/proc/cpuinfo", "r");
	int found = 0;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "flags", 5))
			continue;
		for (char *tok = strtok(strchr(line, ':') + 1, " \n"); tok;
		     tok = strtok(NULL, " \n"))
			if (!strcmp(tok, flag))
				found = 1;
		break;
	}
	fclose(f);
	return found;
}

START_TEST(real_avx2_and_avx512f_caps_match_proc_cpuinfo_flags)
{
	struct cpu_avx2_cpuid raw;
	uint64_t caps;

	cpu_avx2_cpuid_read(&raw);
	caps = cpu_avx2_caps_decode(&raw, NULL, 0);
	ck_assert_int_eq(!!(caps & TRIT_CAP_AVX2), cpuinfo_has_flag("avx2"));
	ck_assert_int_eq(!!(caps & TRIT_CAP_AVX512F), cpuinfo_has_flag("avx512f"));
	ck_assert_int_eq(!!(caps & TRIT_CAP_FMA), cpuinfo_has_flag("fma"));
	ck_assert_int_eq(!!(caps & TRIT_CAP_SSE42), cpuinfo_has_flag("sse4_2"));
	ck_assert_str_ne(raw.vendor, "");
}
END_TEST

/* Distinct (physical id, core id) pairs in /proc/cpuinfo; 0 if not listed. */
static unsigned cpuinfo_cores(void)
{
	char line[512];
	long pairs[4096][2];
	unsigned n = 0;
	long phys = 0;
	FILE *f = fopen("/proc/cpuinfo", "r");

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof line, f)) {
		long core;
		int seen = 0;
		if (sscanf(line, "physical id : %ld", &phys) == 1)
			continue;
		if (sscanf(line, "core id : %ld", &core) != 1)
			continue;
		for (unsigned i = 0; i < n; i++)
			if (pairs[i][0] == phys && pairs[i][1] == core)
				seen = 1;
		if (!seen && n < 4096) {
			pairs[n][0] = phys;
			pairs[n][1] = core;
			n++;
		}
	}
	fclose(f);
	return n;
}

START_TEST(real_hwloc_counts_agree_with_sysconf_and_proc_cpuinfo)
{
	struct cpu_avx2_topology t;
	struct cpu_avx2_threads th;
	unsigned cores = cpuinfo_cores();
	long online = sysconf(_SC_NPROCESSORS_ONLN);

	memset(&pool, 0, sizeof pool);
	cpu_avx2_topology_probe(&t, &pool);
	cpu_avx2_threads_probe("/proc", &th, &pool);
	ck_assert_known(t.pus, (uint64_t)online);
	ck_assert_known(th.affinity, th.affinity.value);
	/* Cores usable = all cores only when the affinity covers every CPU. */
	if (cores && th.affinity.value == (uint64_t)online)
		ck_assert_known(t.cores, cores);
	ck_assert_uint_ne(t.numa_nodes.state, TRIT_VALUE_UNKNOWN);
	cpu_avx2_pool_free(&pool);
}
END_TEST

START_TEST(real_mem_total_equals_meminfo_when_no_cgroup_limit)
{
	struct cpu_avx2_memory m;
	unsigned long long kb = 0;
	char line[256];
	FILE *f = fopen("/proc/meminfo", "r");

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
			break;
	fclose(f);
	ck_assert_uint_gt(kb, 0);

	memset(&pool, 0, sizeof pool);
	cpu_avx2_memory_probe("/proc", &m, &pool);
	if (m.cg_limit.state == TRIT_VALUE_UNKNOWN) {
		ck_assert_known(m.total, (uint64_t)kb * 1024);
	} else {
		ck_assert_uint_le(m.total.value, (uint64_t)kb * 1024);
		ck_assert_uint_le(m.total.value, m.cg_limit.value);
	}
	ck_assert_uint_ne(m.free.state, TRIT_VALUE_UNKNOWN);
	ck_assert_uint_le(m.free.value, m.total.value);
	cpu_avx2_pool_free(&pool);
}
END_TEST

/* ------------------------------------------------------------------------ */

static void reset_settings(void)
{
	test_n_settings = 0;
	last_log[0] = '\0';
	setup();
}

static Suite *cpu_avx2_suite(void)
{
	Suite *s = suite_create("cpu_avx2");
	TCase *tc;

	tc = tcase_create("meminfo");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, meminfo_fields_are_parsed_exactly_in_bytes);
	tcase_add_test(tc, missing_meminfo_gives_unknown_with_the_path_and_reason);
	tcase_add_test(tc, malformed_meminfo_values_give_unknown_not_a_guess);
	tcase_add_test(tc, meminfo_without_memavailable_says_which_line_is_missing);
	tcase_add_test(tc, meminfo_with_a_nul_byte_or_oversized_is_rejected);
	suite_add_tcase(s, tc);

	tc = tcase_create("cgroup");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, cgroup_v2_limit_lowers_total_and_free);
	tcase_add_test(tc, cgroup_v2_nested_ancestors_take_the_minimum);
	tcase_add_test(tc, cgroup_v2_max_means_no_limit);
	tcase_add_test(tc, cgroup_v2_without_memory_controller_is_no_limit);
	tcase_add_test(tc, missing_inactive_file_counts_the_whole_usage_and_says_so);
	tcase_add_test(tc, malformed_memory_max_makes_total_unknown_with_the_file_named);
	tcase_add_test(tc, unreadable_usage_under_a_limit_makes_free_unknown_but_keeps_total);
	tcase_add_test(tc, missing_cgroup_directory_gives_unknown_with_the_path);
	tcase_add_test(tc, cgroup_v1_limit_lowers_total_and_free);
	tcase_add_test(tc, cgroup_v1_limit_of_2_pow_62_or_more_means_unlimited);
	tcase_add_test(tc, cgroup_mount_root_is_stripped_from_the_cgroup_path);
	tcase_add_test(tc, cgroup_path_outside_the_mount_root_uses_the_mount_point);
	tcase_add_test(tc, cgroup_path_with_dotdot_is_refused);
	tcase_add_test(tc, missing_or_garbled_cgroup_files_give_unknown_not_a_crash);
	tcase_add_test(tc, mountinfo_octal_escapes_are_decoded);
	tcase_add_test(tc, cgroup_parent_stops_at_the_mount_point);
	suite_add_tcase(s, tc);

	tc = tcase_create("cpu_quota");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, cgroup_v2_cpu_max_caps_hw_threads_rounding_up);
	tcase_add_test(tc, cgroup_v1_quota_of_minus_one_is_no_quota);
	tcase_add_test(tc, malformed_cpu_quota_is_unknown_and_leaves_the_affinity);
	suite_add_tcase(s, tc);

	tc = tcase_create("features");
	tcase_add_test(tc, caps_decode_reports_avx2_fma_f16c_when_the_os_saves_ymm);
	tcase_add_test(tc, caps_decode_without_the_avx2_bit_names_leaf_7_ebx_bit_5);
	tcase_add_test(tc, caps_decode_without_ymm_state_in_xcr0_refuses_all_avx);
	tcase_add_test(tc, caps_decode_avx512_needs_opmask_and_zmm_state);
	tcase_add_test(tc, disable_names_map_to_caps_and_avx512_covers_the_family);
	tcase_add_test(tc, sizes_parse_with_binary_and_decimal_units);
	suite_add_tcase(s, tc);

	tc = tcase_create("backend");
	tcase_add_checked_fixture(tc, reset_settings, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, entry_point_returns_an_abi_v1_table_with_buffers_and_matmul);
	tcase_add_test(tc, init_refuses_when_avx2_is_disabled_and_says_where);
	tcase_add_test(tc, init_rejects_an_unknown_key_naming_the_key_and_where);
	tcase_add_test(tc, init_rejects_bad_values_naming_key_where_and_accepted_values);
	tcase_add_test(tc, init_refuses_a_host_of_another_abi);
	tcase_add_test(tc, init_with_fixtures_reports_one_cpu_device_from_proc_root);
	tcase_add_test(tc, device_update_remeasures_free_memory);
	tcase_add_test(tc, bandwidth_is_measured_over_the_configured_size);
	tcase_add_test(tc, bandwidth_measure_reports_an_impossible_split);
	suite_add_tcase(s, tc);

	tc = tcase_create("this_machine");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, real_avx2_and_avx512f_caps_match_proc_cpuinfo_flags);
	tcase_add_test(tc, real_hwloc_counts_agree_with_sysconf_and_proc_cpuinfo);
	tcase_add_test(tc, real_mem_total_equals_meminfo_when_no_cgroup_limit);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cpu_avx2_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
