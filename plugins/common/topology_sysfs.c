/*
 * topology_sysfs.c - cores, logical processors, caches and NUMA nodes read
 * from sysfs, for machines where hwloc is not installed (small aarch64
 * boards often lack it). Counts only the CPUs in this thread's affinity: a
 * core is a distinct topology/core_cpus_list among them, a cache instance a
 * distinct (level, type, shared_cpu_list). What sysfs does not say becomes
 * unknown with the path that was missing. topology.c is the hwloc version.
 */
#include <build-config.h>

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_common.h"

#define MAX_CPUS     (1 << 16)  /* the affinity mask grows up to this */
#define LIST_LIMIT   4096u      /* a cpu list file, e.g. "0-63,128-191" */
#define SMALL_LIMIT  64u        /* level, type, size */
#define MAX_INDEX    16         /* cache/index0 .. index15 */

typedef unsigned long long ull;

/* A set of distinct strings (core or cache keys), with the size of the cache
 * each stands for. */
struct keyset {
	char **key;
	uint64_t *size;
	size_t n, cap;
	int failed;
};

static int keyset_add(struct keyset *ks, const char *key, uint64_t size)
{
	for (size_t i = 0; i < ks->n; i++)
		if (!strcmp(ks->key[i], key))
			return 0;
	if (ks->n == ks->cap) {
		size_t cap = ks->cap ? ks->cap * 2 : 16;
		char **k = realloc(ks->key, cap * sizeof *k);
		if (k)
			ks->key = k;
		uint64_t *s = k ? realloc(ks->size, cap * sizeof *s) : NULL;
		if (!k || !s) {
			ks->failed = 1;
			return -1;
		}
		ks->size = s;
		ks->cap = cap;
	}
	if (!(ks->key[ks->n] = strdup(key))) {
		ks->failed = 1;
		return -1;
	}
	ks->size[ks->n++] = size;
	return 0;
}

static void keyset_free(struct keyset *ks)
{
	for (size_t i = 0; i < ks->n; i++)
		free(ks->key[i]);
	free(ks->key);
	free(ks->size);
	memset(ks, 0, sizeof *ks);
}

/* Read a small sysfs file into buf, without the trailing newline. */
static int read_small(const char *path, char *buf, size_t len, char *why, size_t whylen)
{
	char *text = NULL;
	size_t n;
	int rc = cpu_common_read_file(path, len - 1, &text, &n, why, whylen);
	if (rc != 0)
		return rc;
	while (n && (text[n - 1] == '\n' || text[n - 1] == ' '))
		text[--n] = '\0';
	memcpy(buf, text, n + 1);
	free(text);
	return 0;
}

/* "32K", "1024K", "8M", "512" (bytes) into bytes. */
static int parse_cache_size(const char *s, uint64_t *out)
{
	uint64_t v = 0, mult = 1;
	int digits = 0;

	for (; *s >= '0' && *s <= '9'; s++, digits++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (*s == 'K')
		mult = UINT64_C(1) << 10, s++;
	else if (*s == 'M')
		mult = UINT64_C(1) << 20, s++;
	else if (*s == 'G')
		mult = UINT64_C(1) << 30, s++;
	if (!digits || *s || v > UINT64_MAX / mult)
		return -1;
	*out = v * mult;
	return 0;
}

static int affinity_mask(cpu_set_t **set, size_t *size, int *ncpus, char *why, size_t whylen)
{
	for (int n = 1024; n <= MAX_CPUS; n *= 2) {
		cpu_set_t *s = CPU_ALLOC((size_t)n);
		size_t sz = CPU_ALLOC_SIZE((size_t)n);
		if (!s)
			return cpu_common_errf(why, whylen, TRIT_ENOMEM,
			                       "out of memory for a %d-CPU affinity mask", n);
		CPU_ZERO_S(sz, s);
		if (sched_getaffinity(0, sz, s) == 0) {
			*set = s;
			*size = sz;
			*ncpus = n;
			return 0;
		}
		int e = errno;
		CPU_FREE(s);
		if (e != EINVAL)
			return cpu_common_errf(why, whylen, TRIT_EIO, "sched_getaffinity failed: %s",
			                       strerror(e));
	}
	return cpu_common_errf(why, whylen, TRIT_ERANGE,
	                       "sched_getaffinity needs a mask for more than %d CPUs", MAX_CPUS);
}

/* The caches of one CPU: every cache/indexN with a level we report. */
static void cpu_caches(const char *cpudir, int cpu, struct keyset cache[3], int *seen_index)
{
	for (int i = 0; i < MAX_INDEX; i++) {
		char path[4300], level[SMALL_LIMIT], type[SMALL_LIMIT], size[SMALL_LIMIT];
		char shared[LIST_LIMIT], key[LIST_LIMIT + 64], why[300];
		uint64_t bytes;
		int lv;

		if (cpu_common_pathf(path, sizeof path, "%s/cache/index%d/level", cpudir, i) != 0 ||
		    read_small(path, level, sizeof level, why, sizeof why) != 0)
			break;
		*seen_index = 1;
		lv = atoi(level);
		if (lv < 1 || lv > 3)
			continue;
		if (cpu_common_pathf(path, sizeof path, "%s/cache/index%d/type", cpudir, i) != 0 ||
		    read_small(path, type, sizeof type, why, sizeof why) != 0)
			continue;
		if (strcmp(type, "Data") && (lv == 1 || strcmp(type, "Unified")))
			continue; /* instruction caches */
		if (cpu_common_pathf(path, sizeof path, "%s/cache/index%d/size", cpudir, i) != 0 ||
		    read_small(path, size, sizeof size, why, sizeof why) != 0 ||
		    parse_cache_size(size, &bytes) != 0 || bytes == 0)
			continue;
		/* A private cache has no shared_cpu_list on some kernels: it is
		 * then its CPU's own, named by the directory. */
		if (cpu_common_pathf(path, sizeof path, "%s/cache/index%d/shared_cpu_list", cpudir,
		                     i) != 0 ||
		    read_small(path, shared, sizeof shared, why, sizeof why) != 0)
			snprintf(shared, sizeof shared, "cpu%d only", cpu);
		if (cpu_common_pathf(key, sizeof key, "L%d %s %s", lv, type, shared) == 0)
			keyset_add(&cache[lv - 1], key, bytes);
	}
}

static void cache_result(const struct keyset *ks, const char *label, const char *cpuroot,
                         int seen_index, struct cpu_common_cache *c,
                         struct cpu_common_pool *pool)
{
	uint64_t lo = 0, hi = 0, total = 0;

	memset(c, 0, sizeof *c);
	if (ks->n == 0) {
		const char *why = seen_index
		        ? cpu_common_pool_printf(pool, "sysfs lists no %s cache under %s/cpu*/cache",
		                                 label, cpuroot)
		        : cpu_common_pool_printf(pool, "sysfs has no cache directories under "
		                                 "%s/cpu*/cache (the kernel does not describe the "
		                                 "caches)", cpuroot);
		c->size = c->instances = cpu_common_unknown(why);
		return;
	}
	for (size_t i = 0; i < ks->n; i++) {
		if (i == 0 || ks->size[i] < lo)
			lo = ks->size[i];
		if (ks->size[i] > hi)
			hi = ks->size[i];
		total += ks->size[i];
	}
	if (lo == hi)
		c->size = cpu_common_measured(hi, cpu_common_pool_printf(pool,
			"sysfs: size of one %s cache (%s/cpu*/cache/index*/size)", label, cpuroot));
	else
		c->size = cpu_common_measured(hi, cpu_common_pool_printf(pool,
			"sysfs: largest of %zu %s caches (sizes range from %llu to %llu bytes)",
			ks->n, label, (ull)lo, (ull)hi));
	c->instances = cpu_common_measured(ks->n, cpu_common_pool_printf(pool,
		"sysfs: distinct shared_cpu_list of the %s caches of the CPUs in this "
		"thread's affinity", label));
	c->total = total;
}

static struct trit_value numa_count(const char *sys_root, struct cpu_common_pool *pool)
{
	char path[4200];
	DIR *d;
	struct dirent *e;
	uint64_t n = 0;

	if (cpu_common_pathf(path, sizeof path, "%s/devices/system/node", sys_root) != 0)
		return cpu_common_unknown("sys_root is too long");
	if (!(d = opendir(path)))
		return cpu_common_unknown(cpu_common_pool_printf(pool, "%s: %s", path,
		                                                 strerror(errno)));
	while ((e = readdir(d)) != NULL) {
		const char *p = e->d_name;
		if (strncmp(p, "node", 4) || !p[4])
			continue;
		for (p += 4; *p >= '0' && *p <= '9'; p++)
			;
		if (!*p)
			n++;
	}
	closedir(d);
	if (n == 0)
		return cpu_common_unknown(cpu_common_pool_printf(pool, "%s has no node* "
		                                                 "directories", path));
	return cpu_common_measured(n, cpu_common_pool_printf(pool, "sysfs: node* directories "
	                                                     "in %s", path));
}

void cpu_common_topology_probe_sysfs(const char *sys_root, struct cpu_common_topology *t,
                                     struct cpu_common_pool *pool)
{
	struct keyset cores = { 0 }, cache[3];
	char cpuroot[4200], why[400];
	cpu_set_t *set = NULL;
	size_t setsize = 0;
	int ncpus = 0, seen_index = 0, nocore = -1;
	uint64_t pus = 0;

	memset(t, 0, sizeof *t);
	memset(cache, 0, sizeof cache);
	if (cpu_common_pathf(cpuroot, sizeof cpuroot, "%s/devices/system/cpu", sys_root) != 0) {
		snprintf(why, sizeof why, "sys_root is too long");
		goto unknown;
	}
	if (affinity_mask(&set, &setsize, &ncpus, why, sizeof why) != 0)
		goto unknown;

	for (int cpu = 0; cpu < ncpus; cpu++) {
		char cpudir[4300], path[4400], list[LIST_LIMIT], lwhy[300];
		if (!CPU_ISSET_S((size_t)cpu, setsize, set))
			continue;
		pus++;
		if (cpu_common_pathf(cpudir, sizeof cpudir, "%s/cpu%d", cpuroot, cpu) != 0)
			continue;
		if ((cpu_common_pathf(path, sizeof path, "%s/topology/core_cpus_list", cpudir) == 0 &&
		     read_small(path, list, sizeof list, lwhy, sizeof lwhy) == 0) ||
		    (cpu_common_pathf(path, sizeof path, "%s/topology/thread_siblings_list",
		                      cpudir) == 0 &&
		     read_small(path, list, sizeof list, lwhy, sizeof lwhy) == 0))
			keyset_add(&cores, list, 0);
		else if (nocore < 0)
			nocore = cpu;
		cpu_caches(cpudir, cpu, cache, &seen_index);
	}
	CPU_FREE(set);

	t->pus = cpu_common_measured(pus, "sched_getaffinity: CPUs in this thread's affinity");
	if (nocore >= 0)
		t->cores = cpu_common_unknown(cpu_common_pool_printf(pool,
			"sysfs: %s/cpu%d/topology has neither core_cpus_list nor "
			"thread_siblings_list", cpuroot, nocore));
	else if (cores.n)
		t->cores = cpu_common_measured(cores.n, cpu_common_pool_printf(pool,
			"sysfs: distinct topology/core_cpus_list of the %llu CPUs in this "
			"thread's affinity", (ull)pus));
	else
		t->cores = cpu_common_unknown("sched_getaffinity returned no CPU");
	cache_result(&cache[0], "L1d", cpuroot, seen_index, &t->l1d, pool);
	cache_result(&cache[1], "L2", cpuroot, seen_index, &t->l2, pool);
	cache_result(&cache[2], "L3", cpuroot, seen_index, &t->l3, pool);
	t->numa_nodes = numa_count(sys_root, pool);
	if (cores.failed || cache[0].failed || cache[1].failed || cache[2].failed)
		pool->failed = 1;
	keyset_free(&cores);
	for (int i = 0; i < 3; i++)
		keyset_free(&cache[i]);
	return;

unknown:
	t->cores = t->pus = t->numa_nodes =
		cpu_common_unknown(cpu_common_pool_printf(pool, "%s", why));
	t->l1d.size = t->l1d.instances = t->cores;
	t->l2.size = t->l2.instances = t->cores;
	t->l3.size = t->l3.instances = t->cores;
}
