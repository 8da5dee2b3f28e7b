/*
 * topology.c - cores, logical processors, caches and NUMA nodes as hwloc
 * sees them. hwloc's default view is restricted to the cpuset this process is
 * allowed to use (cgroup cpuset), which is what we want. Affinity and CPU
 * quota are threads.c's business; this file only counts.
 */
#include <build-config.h>

#include <hwloc.h>
#include <string.h>

#include "cpu_common.h"

static void cache_probe(hwloc_topology_t topo, hwloc_obj_type_t type, const char *label,
                        struct cpu_common_cache *c, struct cpu_common_pool *pool)
{
	uint64_t lo = 0, hi = 0, total = 0;
	unsigned n = 0;
	hwloc_obj_t obj = NULL;

	memset(c, 0, sizeof *c);
	while ((obj = hwloc_get_next_obj_by_type(topo, type, obj)) != NULL) {
		uint64_t size = obj->attr ? obj->attr->cache.size : 0;
		if (size == 0)
			continue;
		if (n == 0 || size < lo)
			lo = size;
		if (size > hi)
			hi = size;
		total += size;
		n++;
	}
	if (n == 0) {
		const char *why =
		        cpu_common_pool_printf(pool, "hwloc found no %s cache with a size", label);
		c->size = cpu_common_unknown(why);
		c->instances = cpu_common_unknown(why);
		return;
	}
	if (lo == hi)
		c->size = cpu_common_measured(hi, cpu_common_pool_printf(pool,
			"hwloc: size of one %s cache", label));
	else
		c->size = cpu_common_measured(hi, cpu_common_pool_printf(pool,
			"hwloc: largest of %u %s caches (sizes range from %llu to %llu bytes)",
			n, label, (unsigned long long)lo, (unsigned long long)hi));
	c->instances = cpu_common_measured(n, cpu_common_pool_printf(pool,
		"hwloc: number of %s caches", label));
	c->total = total;
}

/* Physical cores that share at least one PU with this thread's affinity. */
static void cores_probe(hwloc_topology_t topo, struct trit_value *cores,
                        struct cpu_common_pool *pool)
{
	hwloc_bitmap_t bind = hwloc_bitmap_alloc();
	hwloc_obj_t obj = NULL;
	unsigned all = 0, usable = 0;
	int have_bind;

	if (!bind) {
		*cores = cpu_common_unknown("out of memory for an hwloc bitmap");
		return;
	}
	have_bind = hwloc_get_cpubind(topo, bind, HWLOC_CPUBIND_THREAD) == 0;
	while ((obj = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_CORE, obj)) != NULL) {
		all++;
		if (have_bind && obj->cpuset && hwloc_bitmap_intersects(obj->cpuset, bind))
			usable++;
	}
	hwloc_bitmap_free(bind);
	if (all == 0)
		*cores = cpu_common_unknown("hwloc found no cores in the allowed cpuset");
	else if (!have_bind)
		*cores = cpu_common_measured(all, "hwloc: cores in the allowed cpuset (the "
		                                "thread's CPU binding could not be read)");
	else if (usable == all)
		*cores = cpu_common_measured(all, "hwloc: cores in the allowed cpuset");
	else
		*cores = cpu_common_measured(usable, cpu_common_pool_printf(pool,
			"hwloc: cores with a CPU in this thread's affinity (%u of %u in the "
			"allowed cpuset)", usable, all));
}

static struct trit_value count_type(hwloc_topology_t topo, hwloc_obj_type_t type,
                                    const char *what, const char *source)
{
	int n = hwloc_get_nbobjs_by_type(topo, type);
	if (n <= 0)
		return cpu_common_unknown(what);
	return cpu_common_measured((uint64_t)n, source);
}

void cpu_common_topology_probe(struct cpu_common_topology *t, struct cpu_common_pool *pool)
{
	hwloc_topology_t topo;
	const char *why;

	memset(t, 0, sizeof *t);
	if (hwloc_topology_init(&topo) != 0) {
		why = "hwloc_topology_init failed";
		goto unknown;
	}
	if (hwloc_topology_load(topo) != 0) {
		hwloc_topology_destroy(topo);
		why = "hwloc_topology_load failed";
		goto unknown;
	}
	cores_probe(topo, &t->cores, pool);
	t->pus = count_type(topo, HWLOC_OBJ_PU, "hwloc found no logical processors",
	                    "hwloc: logical processors in the allowed cpuset");
	t->numa_nodes = count_type(topo, HWLOC_OBJ_NUMANODE, "hwloc found no NUMA node",
	                           "hwloc: NUMA nodes");
	cache_probe(topo, HWLOC_OBJ_L1CACHE, "L1d", &t->l1d, pool);
	cache_probe(topo, HWLOC_OBJ_L2CACHE, "L2", &t->l2, pool);
	cache_probe(topo, HWLOC_OBJ_L3CACHE, "L3", &t->l3, pool);
	hwloc_topology_destroy(topo);
	return;

unknown:
	t->cores = t->pus = t->numa_nodes = cpu_common_unknown(why);
	t->l1d.size = t->l1d.instances = cpu_common_unknown(why);
	t->l2.size = t->l2.instances = cpu_common_unknown(why);
	t->l3.size = t->l3.instances = cpu_common_unknown(why);
}
