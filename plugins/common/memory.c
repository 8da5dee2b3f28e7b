/*
 * memory.c - how much memory this process may use: /proc/meminfo for the
 * machine, and the cgroup memory limit (v1 or v2) of the process' cgroup and
 * every ancestor, since the tightest one wins. Free memory under a limit is
 * the limit minus the cgroup's working set (usage less reclaimable inactive
 * file pages). Finding the cgroup directory is cgroup.c's job.
 */
#include <build-config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cpu_common.h"

#define MEMINFO_LIMIT   (1u << 20)
#define VALUE_LIMIT     256u          /* memory.max and friends: one number */
#define STAT_LIMIT      (1u << 20)
#define MAX_LEVELS      256           /* deeper than any real hierarchy */
/* cgroup v1 reports "no limit" as a huge page-rounded number near 2^63. */
#define V1_UNLIMITED    (UINT64_C(1) << 62)

typedef unsigned long long ull;

/* Parse "  24683656 kB" into bytes. The unit is required: the fields we read
 * always carry it, and a line cut short inside the number then cannot pass
 * for a small byte count. */
static int parse_kb(const char *s, size_t len, uint64_t *out)
{
	char buf[64];
	char *p;
	uint64_t v = 0;
	int digits = 0;

	if (len >= sizeof buf)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	p = buf;
	while (*p == ' ' || *p == '\t')
		p++;
	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (p[0] != 'k' || p[1] != 'B')
		return -1;
	p += 2;
	while (*p == ' ' || *p == '\t' || *p == '\r')
		p++;
	if (!digits || *p || v > UINT64_MAX / 1024)
		return -1;
	*out = v * 1024;
	return 0;
}

static struct trit_value meminfo_field(const char *text, const char *path, const char *key,
                                       struct cpu_common_pool *pool)
{
	size_t klen = strlen(key);

	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		if (len > klen && !strncmp(line, key, klen) && line[klen] == ':') {
			uint64_t bytes;
			if (parse_kb(line + klen + 1, len - klen - 1, &bytes) != 0)
				return cpu_common_unknown(cpu_common_pool_printf(pool,
					"%s: %s is not a number of kB: '%.*s'", path, key,
					(int)(len > 80 ? 80 : len), line));
			return cpu_common_measured(bytes,
			                           cpu_common_pool_printf(pool, "%s %s", path, key));
		}
		line = end ? end + 1 : NULL;
	}
	return cpu_common_unknown(cpu_common_pool_printf(pool, "%s has no %s line", path, key));
}

static void meminfo_probe(const char *proc_root, struct cpu_common_memory *m,
                          struct cpu_common_pool *pool)
{
	char path[4200], why[512];
	char *text = NULL;

	if (cpu_common_pathf(path, sizeof path, "%s/meminfo", proc_root) != 0) {
		cpu_common_errf(why, sizeof why, 0, "proc_root is too long");
	} else if (cpu_common_read_file(path, MEMINFO_LIMIT, &text, NULL, why, sizeof why) == 0) {
		m->host_total = meminfo_field(text, path, "MemTotal", pool);
		m->host_available = meminfo_field(text, path, "MemAvailable", pool);
		m->swap_total = meminfo_field(text, path, "SwapTotal", pool);
		m->swap_free = meminfo_field(text, path, "SwapFree", pool);
		free(text);
		return;
	}
	m->host_total = m->host_available = m->swap_total = m->swap_free =
		cpu_common_unknown(cpu_common_pool_printf(pool, "%s", why));
}

/* ------------------------------------------------------------------------ */
/* One cgroup level.                                                         */

/* The file names of one cgroup version. */
struct names {
	const char *limit, *usage, *inactive;
};
static const struct names v1_names = {
	"memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file"
};
static const struct names v2_names = { "memory.max", "memory.current", "inactive_file" };

static int read_u64_file(const char *dir, const char *name, uint64_t *v, int *is_max,
                         char *why, size_t whylen)
{
	char path[4200], *text = NULL;
	int rc;

	if (is_max)
		*is_max = 0;
	if (cpu_common_pathf(path, sizeof path, "%s/%s", dir, name) != 0) {
		cpu_common_errf(why, whylen, 0, "path too long: %s/%s", dir, name);
		return TRIT_EINVAL;
	}
	if ((rc = cpu_common_read_file(path, VALUE_LIMIT, &text, NULL, why, whylen)) != 0)
		return rc;
	if (is_max && (!strcmp(text, "max\n") || !strcmp(text, "max"))) {
		*is_max = 1;
		rc = 0;
	} else if (cpu_common_parse_u64(text, v) != 0) {
		cpu_common_errf(why, whylen, 0, "%s does not hold a number: '%.40s'", path, text);
		rc = TRIT_EFORMAT;
	}
	free(text);
	return rc;
}

/* The value of `key` in a memory.stat file ("key value" lines). */
static int stat_field(const char *dir, const char *key, uint64_t *v, char *why, size_t whylen)
{
	char path[4200], *text = NULL, *save = NULL;
	size_t klen = strlen(key);
	int rc;

	if (cpu_common_pathf(path, sizeof path, "%s/memory.stat", dir) != 0) {
		cpu_common_errf(why, whylen, 0, "path too long: %s/memory.stat", dir);
		return TRIT_EINVAL;
	}
	if ((rc = cpu_common_read_file(path, STAT_LIMIT, &text, NULL, why, whylen)) != 0)
		return rc;
	rc = TRIT_EFORMAT;
	cpu_common_errf(why, whylen, 0, "%s has no %s line", path, key);
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, key, klen) || line[klen] != ' ')
			continue;
		if (cpu_common_parse_u64(line + klen + 1, v) == 0)
			rc = 0;
		else
			cpu_common_errf(why, whylen, 0, "%s: %s is not a number: '%.40s'", path, key,
			                line);
		break;
	}
	free(text);
	return rc;
}

/* A cgroup's working set: usage less inactive file pages. */
struct usage {
	int ok;
	uint64_t usage, inactive, ws;
	int have_inactive;
	char why[600];          /* why !ok, or why inactive was not subtracted */
};

static void working_set(const char *dir, const struct names *nm, struct usage *u)
{
	char why[512];

	memset(u, 0, sizeof *u);
	if (read_u64_file(dir, nm->usage, &u->usage, NULL, u->why, sizeof u->why) != 0)
		return;
	u->ok = 1;
	u->ws = u->usage;
	if (stat_field(dir, nm->inactive, &u->inactive, why, sizeof why) == 0) {
		u->have_inactive = 1;
		u->ws = u->usage > u->inactive ? u->usage - u->inactive : 0;
	} else {
		cpu_common_errf(u->why, sizeof u->why, 0, "%s was not subtracted: %s", nm->inactive,
		                why);
	}
}

static const char *ws_source(int version, const struct names *nm, const char *dir,
                             const struct usage *u, struct cpu_common_pool *pool)
{
	if (u->have_inactive)
		return cpu_common_pool_printf(pool, "cgroup v%d %s %llu - %s %llu at %s", version,
		                              nm->usage, (ull)u->usage, nm->inactive,
		                              (ull)u->inactive, dir);
	return cpu_common_pool_printf(pool, "cgroup v%d %s at %s (%s)", version, nm->usage, dir,
	                              u->why);
}

/* ------------------------------------------------------------------------ */
/* The walk from the process' cgroup up to the mount point.                  */

struct walk {
	int failed;                   /* a limit file could not be read: why */
	char why[700];
	int limited;
	uint64_t limit;               /* the smallest limit */
	char limit_dir[4096];
	int headroom_unknown;         /* a limited level's usage is unreadable: hr_why */
	char hr_why[900];
	uint64_t headroom, hr_limit;  /* smallest limit - working set, and its limit */
	char hr_dir[4096];
	struct usage hr_use;          /* usage at hr_dir */
	struct usage leaf;            /* usage at the process' own cgroup */
	int levels;
};

static void walk_levels(const struct cpu_common_cgroup *cg, const struct names *nm,
                        struct walk *w)
{
	char dir[sizeof cg->dir], why[600];
	struct stat st;

	memset(w, 0, sizeof *w);
	w->headroom = UINT64_MAX;
	if (stat(cg->dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		cpu_common_errf(w->why, sizeof w->why, 0,
		                "the cgroup directory %s (from self/cgroup and "
		                "self/mountinfo) is not a readable directory",
		                cg->dir);
		w->failed = 1;
		return;
	}
	memcpy(dir, cg->dir, sizeof dir);
	do {
		uint64_t limit = 0;
		int is_max = 0, rc;
		struct usage here;

		/* cgroup v2 has no memory.max in the root cgroup, nor where the
		 * parent has not enabled the memory controller: no limit there.
		 * (v1 has the file at every level, so its absence is an error.) */
		if (cg->version == 2 && !cpu_common_file_exists(dir, nm->limit)) {
			is_max = 1;
			rc = 0;
		} else {
			rc = read_u64_file(dir, nm->limit, &limit,
			                   cg->version == 2 ? &is_max : NULL, why, sizeof why);
		}
		if (rc != 0) {
			cpu_common_errf(w->why, sizeof w->why, 0, "%s", why);
			w->failed = 1;
			return;
		}
		if (cg->version == 1 && limit >= V1_UNLIMITED)
			is_max = 1;
		if (w->levels == 0)
			working_set(dir, nm, &w->leaf);
		if (!is_max) {
			if (w->levels == 0)
				here = w->leaf;
			else
				working_set(dir, nm, &here);
			if (!w->limited || limit < w->limit) {
				w->limited = 1;
				w->limit = limit;
				memcpy(w->limit_dir, dir, sizeof dir);
			}
			if (!here.ok) {
				w->headroom_unknown = 1;
				cpu_common_errf(w->hr_why, sizeof w->hr_why, 0,
				                "%s is set at %s but the usage "
				                "there is unreadable: %s",
				                nm->limit, dir, here.why);
			} else {
				uint64_t hr = limit > here.ws ? limit - here.ws : 0;
				if (hr < w->headroom) {
					w->headroom = hr;
					w->hr_limit = limit;
					w->hr_use = here;
					memcpy(w->hr_dir, dir, sizeof dir);
				}
			}
		}
		w->levels++;
	} while (w->levels < MAX_LEVELS && cpu_common_cgroup_parent(dir, cg->mount) == 0);
}

/* ------------------------------------------------------------------------ */

static void no_limit(struct cpu_common_memory *m, const char *note, struct cpu_common_pool *pool)
{
	m->total = m->host_total;
	if (m->total.state != TRIT_VALUE_UNKNOWN)
		m->total.source = cpu_common_pool_printf(pool, "%s (%s)", m->host_total.source, note);
	m->free = m->host_available;
	if (m->free.state != TRIT_VALUE_UNKNOWN)
		m->free.source =
		        cpu_common_pool_printf(pool, "%s (%s)", m->host_available.source, note);
}

static void limited(struct cpu_common_memory *m, const struct cpu_common_cgroup *cg,
                    const struct names *nm, const struct walk *w, struct cpu_common_pool *pool)
{
	int v = cg->version;

	m->cg_limit = cpu_common_measured(w->limit, cpu_common_pool_printf(pool,
		"cgroup v%d %s at %s (the smallest of %d level%s up to %s)", v, nm->limit,
		w->limit_dir, w->levels, w->levels == 1 ? "" : "s", cg->mount));

	if (m->host_total.state == TRIT_VALUE_UNKNOWN)
		m->total = cpu_common_unknown(cpu_common_pool_printf(pool,
			"cannot compare the cgroup limit with the machine's memory: %s",
			m->host_total.source));
	else
		m->total = cpu_common_derived(w->limit < m->host_total.value ? w->limit
		                                                            : m->host_total.value,
			cpu_common_pool_printf(pool, "min(%s, cgroup v%d %s at %s) = min(%llu, %llu)",
			                       m->host_total.source, v, nm->limit, w->limit_dir,
			                       (ull)m->host_total.value, (ull)w->limit));

	if (w->headroom_unknown) {
		m->free = cpu_common_unknown(cpu_common_pool_printf(pool, "%s", w->hr_why));
		m->cg_working_set = cpu_common_unknown(m->free.source);
		return;
	}
	m->cg_working_set = cpu_common_derived(w->hr_use.ws,
		ws_source(v, nm, w->hr_dir, &w->hr_use, pool));
	if (m->host_available.state == TRIT_VALUE_UNKNOWN) {
		m->free = cpu_common_unknown(cpu_common_pool_printf(pool,
			"cannot compare the cgroup headroom with the machine's free memory: %s",
			m->host_available.source));
	} else if (w->hr_use.have_inactive) {
		m->free = cpu_common_derived(w->headroom < m->host_available.value
		                             ? w->headroom : m->host_available.value,
			cpu_common_pool_printf(pool, "min(%s, cgroup v%d %s - (%s - %s)) at %s = "
			                       "min(%llu, %llu - (%llu - %llu))",
			                       m->host_available.source, v, nm->limit, nm->usage,
			                       nm->inactive, w->hr_dir, (ull)m->host_available.value,
			                       (ull)w->hr_limit, (ull)w->hr_use.usage,
			                       (ull)w->hr_use.inactive));
	} else {
		m->free = cpu_common_derived(
		        w->headroom < m->host_available.value ? w->headroom
		                                              : m->host_available.value,
		        cpu_common_pool_printf(pool,
		                               "min(%s, cgroup v%d %s - %s) at %s = "
		                               "min(%llu, %llu - %llu); %s",
		                             m->host_available.source, v, nm->limit, nm->usage,
		                             w->hr_dir, (ull)m->host_available.value,
		                             (ull)w->hr_limit, (ull)w->hr_use.usage,
		                             w->hr_use.why));
	}
}

void cpu_common_memory_probe(const char *proc_root, struct cpu_common_memory *m,
                             struct cpu_common_pool *pool)
{
	struct cpu_common_cgroup *cg;
	struct walk *w = NULL;
	const struct names *nm;
	char why[600];
	int rc;

	memset(m, 0, sizeof *m);
	meminfo_probe(proc_root, m, pool);

	cg = malloc(sizeof *cg);
	if (!cg || !(w = malloc(sizeof *w))) {
		const char *oom = "out of memory while probing the cgroup memory limit";
		m->cg_version_why = m->cg_path_why = m->cg_limit = m->cg_working_set =
			m->total = m->free = cpu_common_unknown(oom);
		pool->failed = 1;
		free(cg);
		return;
	}
	rc = cpu_common_cgroup_find(proc_root, "memory", cg, why, sizeof why);
	if (rc == TRIT_ENODEV) {
		/* No memory controller: nothing limits this process below RAM. */
		const char *r = cpu_common_pool_printf(pool, "no cgroup memory controller: %s", why);
		m->cg_version_why = m->cg_path_why = m->cg_working_set = cpu_common_unknown(r);
		m->cg_limit =
		        cpu_common_unknown(cpu_common_pool_printf(pool, "no memory limit (%s)", r));
		no_limit(m, "no cgroup memory controller", pool);
		goto out;
	}
	if (rc != 0) {
		const char *r = cpu_common_pool_printf(pool, "cannot find this process' memory "
		                                       "cgroup: %s", why);
		m->cg_version_why = m->cg_path_why = m->cg_limit = m->cg_working_set =
			m->total = m->free = cpu_common_unknown(r);
		goto out;
	}

	nm = cg->version == 2 ? &v2_names : &v1_names;
	m->cg_version = cg->version == 2 ? "v2" : "v1";
	m->cg_path = cpu_common_pool_printf(pool, "%s", cg->dir);
	m->cg_version_why = m->cg_path_why = cpu_common_measured(0, cpu_common_pool_printf(pool,
		"%s/self/cgroup and %s/self/mountinfo", proc_root, proc_root));
	walk_levels(cg, nm, w);
	if (w->failed) {
		const char *r = cpu_common_pool_printf(
		        pool, "cannot read the cgroup memory limit: %s", w->why);
		m->cg_limit = m->cg_working_set = m->total = m->free = cpu_common_unknown(r);
		goto out;
	}
	if (w->limited) {
		limited(m, cg, nm, w, pool);
		goto out;
	}
	m->cg_limit = cpu_common_unknown(cpu_common_pool_printf(pool,
		"no memory limit: cgroup v%d %s is %s at %s%s%s", cg->version, nm->limit,
		cg->version == 2 ? "max or absent" : "unlimited", cg->dir,
		w->levels > 1 ? " and every ancestor up to " : "", w->levels > 1 ? cg->mount : ""));
	if (w->leaf.ok)
		m->cg_working_set = cpu_common_derived(w->leaf.ws,
			ws_source(cg->version, nm, cg->dir, &w->leaf, pool));
	else
		m->cg_working_set = cpu_common_unknown(cpu_common_pool_printf(pool, "%s", w->leaf.why));
	no_limit(m, "no cgroup memory limit", pool);
out:
	free(w);
	free(cg);
}

int cpu_common_memory_live(const char *proc_root, uint64_t *free_bytes, uint64_t *total_bytes,
                           char *why, size_t whylen)
{
	struct cpu_common_pool pool = { 0 };
	struct cpu_common_memory m;
	int rc = 0;

	cpu_common_memory_probe(proc_root ? proc_root : "/proc", &m, &pool);
	if (pool.failed)
		rc = cpu_common_errf(why, whylen, TRIT_ENOMEM, "out of memory while measuring "
		                     "memory");
	else if (m.total.state == TRIT_VALUE_UNKNOWN || m.free.state == TRIT_VALUE_UNKNOWN)
		rc = cpu_common_errf(why, whylen, TRIT_EIO, "memory cannot be measured: %s",
		                     m.total.state == TRIT_VALUE_UNKNOWN ? m.total.source
		                                                          : m.free.source);
	if (rc == 0) {
		*free_bytes = m.free.value;
		*total_bytes = m.total.value;
	}
	cpu_common_pool_free(&pool);
	return rc;
}

int cpu_common_get_memory(const char *plugin, const char *proc_root, uint64_t *free_bytes,
                          uint64_t *total_bytes, char *err, size_t errlen)
{
	char why[600];
	uint64_t f, t;
	int rc;

	if (!free_bytes || !total_bytes)
		return cpu_common_errf(err, errlen, TRIT_EINVAL, "%s: get_memory without result "
		                       "pointers", plugin);
	if ((rc = cpu_common_memory_live(proc_root, &f, &t, why, sizeof why)) != 0)
		return cpu_common_errf(err, errlen, rc, "%s get_memory: %s", plugin, why);
	*free_bytes = f;
	*total_bytes = t;
	return 0;
}

int cpu_common_buffer_limits(const char *plugin, const char *proc_root, uint64_t alignment,
                             struct trit_buffer_limits *out, char *err, size_t errlen)
{
	uint64_t f, t;

	if (!out)
		return cpu_common_errf(err, errlen, TRIT_EINVAL, "%s: buffer_limits without a result "
		                       "pointer", plugin);
	memset(out, 0, sizeof *out);
	out->struct_size = sizeof *out;
	out->host_visible = 1;
	out->from_host_ptr = 1;
	out->alignment = alignment;
	out->max_size = (uint64_t)(SIZE_MAX - alignment);
	if (cpu_common_memory_live(proc_root, &f, &t, NULL, 0) == 0 && t < out->max_size)
		out->max_size = t;
	return 0;
}
