/*
 * threads.c - how many threads trit should run on this CPU: the CPUs in the
 * process' affinity mask, capped by the cgroup CPU quota (v2 cpu.max, v1
 * cpu.cfs_quota_us / cpu.cfs_period_us) of its cgroup and every ancestor.
 * Counting cores and caches is topology.c's job.
 */
#include <build-config.h>

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_common.h"

#define MAX_CPUS   (1 << 20)   /* the affinity mask grows up to this */
#define MAX_LEVELS 256
#define VALUE_LIMIT 256u

typedef unsigned long long ull;

static int affinity_count(unsigned *count, char *why, size_t whylen)
{
	for (int n = 1024; n <= MAX_CPUS; n *= 2) {
		cpu_set_t *set = CPU_ALLOC((size_t)n);
		size_t size = CPU_ALLOC_SIZE((size_t)n);
		if (!set) {
			cpu_common_errf(why, whylen, 0, "out of memory for a %d-CPU affinity mask",
			                n);
			return TRIT_ENOMEM;
		}
		CPU_ZERO_S(size, set);
		if (sched_getaffinity(0, size, set) == 0) {
			*count = (unsigned)CPU_COUNT_S(size, set);
			CPU_FREE(set);
			return 0;
		}
		int e = errno;
		CPU_FREE(set);
		if (e != EINVAL) {
			cpu_common_errf(why, whylen, 0, "sched_getaffinity failed: %s", strerror(e));
			return TRIT_EIO;
		}
	}
	cpu_common_errf(why, whylen, 0, "sched_getaffinity needs a mask for more than %d CPUs",
	                MAX_CPUS);
	return TRIT_ERANGE;
}

/* A quota as quota/period microseconds; quota 0 means none at this level. */
struct quota {
	uint64_t quota, period;
};

static int read_text(const char *dir, const char *name, char **text, char *why, size_t whylen)
{
	char path[4200];
	if (cpu_common_pathf(path, sizeof path, "%s/%s", dir, name) != 0) {
		cpu_common_errf(why, whylen, 0, "path too long: %s/%s", dir, name);
		return TRIT_EINVAL;
	}
	return cpu_common_read_file(path, VALUE_LIMIT, text, NULL, why, whylen);
}

/* v2 cpu.max: "max 100000" or "150000 100000". A missing file (root cgroup,
 * controller not enabled there) means no quota at this level. */
static int quota_v2(const char *dir, struct quota *q, char *why, size_t whylen)
{
	char *text = NULL, *space;
	int rc;

	memset(q, 0, sizeof *q);
	if (!cpu_common_file_exists(dir, "cpu.max"))
		return 0;
	if ((rc = read_text(dir, "cpu.max", &text, why, whylen)) != 0)
		return rc;
	space = strchr(text, ' ');
	if (space)
		*space = '\0';
	if (!space || cpu_common_parse_u64(space + 1, &q->period) != 0 || q->period == 0 ||
	    (strcmp(text, "max") && (cpu_common_parse_u64(text, &q->quota) != 0 || q->quota == 0))) {
		cpu_common_errf(why, whylen, 0,
		                "%s/cpu.max is not \"max PERIOD\" or \"QUOTA PERIOD\"", dir);
		rc = TRIT_EFORMAT;
	}
	free(text);
	return rc;
}

/* v1 cpu.cfs_quota_us ("-1" = no quota) and cpu.cfs_period_us. */
static int quota_v1(const char *dir, struct quota *q, char *why, size_t whylen)
{
	char *text = NULL;
	int rc;

	memset(q, 0, sizeof *q);
	if ((rc = read_text(dir, "cpu.cfs_quota_us", &text, why, whylen)) != 0)
		return rc;
	if (!strcmp(text, "-1\n") || !strcmp(text, "-1")) {
		free(text);
		return 0;
	}
	if (cpu_common_parse_u64(text, &q->quota) != 0 || q->quota == 0) {
		cpu_common_errf(why, whylen, 0,
		                "%s/cpu.cfs_quota_us is neither -1 nor a positive number: "
		                "'%.40s'",
		                dir, text);
		free(text);
		return TRIT_EFORMAT;
	}
	free(text);
	if ((rc = read_text(dir, "cpu.cfs_period_us", &text, why, whylen)) != 0)
		return rc;
	if (cpu_common_parse_u64(text, &q->period) != 0 || q->period == 0) {
		cpu_common_errf(why, whylen, 0,
		                "%s/cpu.cfs_period_us is not a positive number: '%.40s'", dir, text);
		rc = TRIT_EFORMAT;
	}
	free(text);
	return rc;
}

/* q1 < q2 as fractions, without overflow. */
static int quota_less(const struct quota *a, const struct quota *b)
{
	return (unsigned __int128)a->quota * b->period < (unsigned __int128)b->quota * a->period;
}

void cpu_common_threads_probe(const char *proc_root, struct cpu_common_threads *t,
                              struct cpu_common_pool *pool)
{
	struct cpu_common_cgroup *cg = NULL;
	struct quota best = { 0, 0 }, here;
	char why[700], dir[sizeof cg->dir], best_dir[sizeof cg->dir];
	const char *files;
	unsigned cpus = 0;
	int rc, levels = 0;

	memset(t, 0, sizeof *t);
	if (affinity_count(&cpus, why, sizeof why) != 0) {
		t->affinity = cpu_common_unknown(cpu_common_pool_printf(pool, "%s", why));
	} else {
		t->affinity = cpu_common_measured(cpus, "sched_getaffinity");
	}

	if (!(cg = malloc(sizeof *cg))) {
		cpu_common_errf(why, sizeof why, 0, "out of memory");
		rc = TRIT_ENOMEM;
	} else {
		rc = cpu_common_cgroup_find(proc_root, "cpu", cg, why, sizeof why);
	}
	if (rc == TRIT_ENODEV) {
		t->quota_why = cpu_common_unknown(cpu_common_pool_printf(pool,
			"no CPU quota: no cgroup cpu controller (%s)", why));
		goto no_quota;
	}
	if (rc != 0) {
		t->quota_why = cpu_common_unknown(cpu_common_pool_printf(pool,
			"the CPU quota could not be read: %s", why));
		goto no_quota;
	}
	files = cg->version == 2 ? "cpu.max" : "cpu.cfs_quota_us/cpu.cfs_period_us";
	memcpy(dir, cg->dir, sizeof dir);
	do {
		rc = cg->version == 2 ? quota_v2(dir, &here, why, sizeof why)
		                      : quota_v1(dir, &here, why, sizeof why);
		if (rc != 0) {
			t->quota_why = cpu_common_unknown(cpu_common_pool_printf(pool,
				"the CPU quota could not be read: %s", why));
			goto no_quota;
		}
		if (here.quota && (!best.quota || quota_less(&here, &best))) {
			best = here;
			memcpy(best_dir, dir, sizeof dir);
		}
		levels++;
	} while (levels < MAX_LEVELS && cpu_common_cgroup_parent(dir, cg->mount) == 0);

	if (!best.quota) {
		t->quota_why = cpu_common_unknown(cpu_common_pool_printf(pool,
			"no CPU quota: cgroup v%d %s at %s%s%s",
			cg->version, cg->version == 2 ? "cpu.max is max or absent"
			                              : "cpu.cfs_quota_us is -1",
			cg->dir, levels > 1 ? " and every ancestor up to " : "",
			levels > 1 ? cg->mount : ""));
		goto no_quota;
	}
	{
		/* Hundredths of a CPU, for the text; whole CPUs rounded up for
		 * the thread count (1.5 CPUs of time keep 2 threads busy half
		 * the time each, which beats 1 thread). */
		uint64_t centi = (uint64_t)((unsigned __int128)best.quota * 100 / best.period);
		uint64_t whole = (uint64_t)(((unsigned __int128)best.quota + best.period - 1) /
		                            best.period);
		const char *src = cpu_common_pool_printf(pool, "cgroup v%d %s = %llu/%llu at %s",
		                                         cg->version, files, (ull)best.quota,
		                                         (ull)best.period, best_dir);
		t->quota_text = cpu_common_pool_printf(pool, "%llu.%02llu CPUs", (ull)(centi / 100),
		                                       (ull)(centi % 100));
		t->quota_why = cpu_common_measured(0, src);
		if (whole == 0)
			whole = 1;
		if (t->affinity.state == TRIT_VALUE_UNKNOWN)
			t->hw_threads = cpu_common_derived(whole, cpu_common_pool_printf(pool,
				"ceil(%s of quota) from %s (affinity unknown: %s)", t->quota_text,
				src, t->affinity.source));
		else if (whole < cpus)
			t->hw_threads = cpu_common_derived(whole, cpu_common_pool_printf(pool,
				"min(sched_getaffinity %u CPUs, ceil(%s from %s))", cpus,
				t->quota_text, src));
		else
			t->hw_threads = cpu_common_measured(cpus, cpu_common_pool_printf(pool,
				"sched_getaffinity (the cgroup CPU quota of %s from %s does not "
				"lower it)", t->quota_text, src));
		free(cg);
		return;
	}

no_quota:
	free(cg);
	if (t->affinity.state == TRIT_VALUE_UNKNOWN)
		t->hw_threads = t->affinity;
	else
		t->hw_threads = cpu_common_measured(cpus, cpu_common_pool_printf(pool,
			"sched_getaffinity; %s", t->quota_why.source));
}
