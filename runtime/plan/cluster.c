/*
 * cluster.c - read a cluster inventory (docs/cluster.md): [cluster] with
 * the network between machines, and one [machine.<name>] per machine with
 * its address, its devices file (read by the described backend, so a
 * machine is described exactly as `trit --devices` takes it) and the link
 * between its GPUs. Every problem is reported with its file and line.
 */
#include <build-config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/described.h"
#include "config/inifile.h"
#include "core/common.h"
#include "plan/cluster.h"

struct cstate {
	struct trit_cluster *c;
	struct trit_cluster_machine *cur;  /* NULL: [cluster] or a refused section */
	int in_cluster;
	int machine_line[TRIT_CLUSTER_MAX_MACHINES], devices_line[TRIT_CLUSTER_MAX_MACHINES];
	int address_line[TRIT_CLUSTER_MAX_MACHINES];
	char *folder;                      /* the cluster file's folder, with '/' */
};

static int name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 63)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

/* A host name or an IPv4/IPv6 address: letters, digits, '.', '-', ':', '_'. */
static int address_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 253)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '.' || *s == '-' || *s == ':' || *s == '_'))
			return 0;
	return 1;
}

static int on_section(struct trit_ini *ini, void *user, const char *name)
{
	struct cstate *s = user;
	struct trit_cluster *c = s->c;
	int line = trit_ini_line(ini);
	const char *id = name + strlen("machine.");

	s->cur = NULL;
	s->in_cluster = strcmp(name, "cluster") == 0;
	if (s->in_cluster)
		return 0;
	if (strncmp(name, "machine.", strlen("machine.")) != 0 || !name_ok(id)) {
		trit_ini_problem(ini, line, "unknown section [%.64s]; a cluster file has [cluster] "
		                 "and one [machine.<name>] per machine (a name is 1-63 lower-case "
		                 "letters, digits, '_' and '-')", name);
		return TRIT_ECONFIG;
	}
	for (uint32_t i = 0; i < c->n_machines; i++)
		if (strcmp(c->machines[i].name, id) == 0) {
			trit_ini_problem(ini, line, "[%s] is already described at line %d", name,
			                 s->machine_line[i]);
			return TRIT_ECONFIG;
		}
	if (c->n_machines == TRIT_CLUSTER_MAX_MACHINES) {
		trit_ini_problem(ini, line, "[%s] is machine %u; a cluster file describes at most %u",
		                 name, TRIT_CLUSTER_MAX_MACHINES + 1, TRIT_CLUSTER_MAX_MACHINES);
		return TRIT_ECONFIG;
	}
	s->machine_line[c->n_machines] = line;
	s->cur = &c->machines[c->n_machines++];
	snprintf(s->cur->name, sizeof s->cur->name, "%s", id);
	return 0;
}

static void rate(struct trit_ini *ini, const char *section, const char *key, const char *v,
                 uint64_t *out)
{
	char msg[512];
	int rc = trit_described_parse_rate(v, out, msg, sizeof msg);

	if (rc == TRIT_ENOMEM)
		trit_ini_oom(ini);
	else if (rc)
		trit_ini_problem(ini, trit_ini_line(ini), "[%s] %s: %s", section, key, msg);
}

static void machine_key(struct trit_ini *ini, struct cstate *s, const char *section,
                        const char *key, const char *v)
{
	struct trit_cluster_machine *m = s->cur;
	uint32_t i = (uint32_t)(m - s->c->machines);
	int line = trit_ini_line(ini);
	char q[72];

	if (strcmp(key, "address") == 0) {
		s->address_line[i] = line;
		if (!address_ok(v))
			trit_ini_problem(ini, line, "[%s] address: %s is not a host name or address",
			                 section, trit_ini_quote(v, q));
		else
			snprintf(m->address, sizeof m->address, "%s", v);
	} else if (strcmp(key, "devices") == 0) {
		s->devices_line[i] = line;
		m->devices = v[0] == '/' ? trit_strdup(v) : trit_asprintf("%s%s", s->folder, v);
		if (!m->devices)
			trit_ini_oom(ini);
	} else if (strcmp(key, "gpu_link") == 0) {
		rate(ini, section, key, v, &m->gpu_link);
	} else {
		trit_ini_problem(ini, line, "[%s] unknown key %s; accepted keys: address, devices, "
		                 "gpu_link", section, trit_ini_quote(key, q));
	}
}

static void on_key(struct trit_ini *ini, void *user, const char *section, const char *key,
                   const char *value)
{
	struct cstate *s = user;
	char q[72];

	if (s->cur)
		machine_key(ini, s, section, key, value);
	else if (strcmp(key, "network") == 0)
		rate(ini, section, key, value, &s->c->network);
	else
		trit_ini_problem(ini, trit_ini_line(ini), "[cluster] unknown key %s; accepted keys: "
		                 "network", trit_ini_quote(key, q));
}

/* Machine i's devices: its GPUs (kind other than CPU, with memory) join the
 * cluster's list; its CPUs' memory is its RAM. */
static int take_devices(struct trit_ini *ini, struct cstate *s, uint32_t i)
{
	struct trit_cluster *c = s->c;
	struct trit_cluster_machine *m = &c->machines[i];
	const struct trit_backend *be = trit_described_backend();
	void *st = NULL;
	char err[2048];
	uint32_t n;

	if (trit_described_read(m->devices, &st, err, sizeof err)) {
		trit_ini_problem(ini, s->devices_line[i], "[machine.%s] devices: %s", m->name, err);
		return 0;
	}
	n = be->device_count(st);
	m->first_gpu = c->n_gpus;
	for (uint32_t k = 0; k < n; k++) {
		const struct trit_device *d = be->device_get(st, k);
		if (d->kind == TRIT_DEVICE_CPU) {
			m->ram += d->mem_total.value;
			continue;
		}
		void *v1 = realloc(c->gpus, (c->n_gpus + 1) * sizeof *c->gpus);
		if (v1)
			c->gpus = v1;
		void *v2 = realloc(c->gpu_bandwidth, (c->n_gpus + 1) * sizeof *c->gpu_bandwidth);
		if (v2)
			c->gpu_bandwidth = v2;
		void *v3 = realloc(c->gpu_machine, (c->n_gpus + 1) * sizeof *c->gpu_machine);
		if (v3)
			c->gpu_machine = v3;
		if (!v1 || !v2 || !v3) {
			be->shutdown(st);
			return TRIT_ENOMEM;
		}
		struct trit_pplan_gpu *g = &c->gpus[c->n_gpus];
		memset(g, 0, sizeof *g);
		snprintf(g->host, sizeof g->host, "%s", m->name);
		snprintf(g->name, sizeof g->name, "%s", d->id);
		g->free = g->usable = d->mem_free.value;
		g->total = d->mem_total.value;
		snprintf(g->vendor, sizeof g->vendor, "%s", d->vendor ? d->vendor : "");
		g->machine = i;
		g->local = c->n_gpus - m->first_gpu;
		c->gpu_bandwidth[c->n_gpus] = d->mem_bandwidth.state != TRIT_VALUE_UNKNOWN ?
		                               d->mem_bandwidth.value : 0;
		c->gpu_machine[c->n_gpus++] = i;
	}
	m->n_gpus = c->n_gpus - m->first_gpu;
	be->shutdown(st);
	return 0;
}

static void on_end(struct trit_ini *ini, void *user)
{
	struct cstate *s = user;
	struct trit_cluster *c = s->c;

	if (!c->n_machines)
		trit_ini_problem(ini, 1, "no machine is described; add a [machine.<name>] section "
		                 "with address and devices for each (docs/cluster.md)");
	if (c->n_machines > 1 && !c->network)
		trit_ini_problem(ini, 1, "[cluster] network is not set: the bandwidth between the "
		                 "%u machines is needed (e.g. network = 50GB/s for 400 Gb/s)",
		                 c->n_machines);
	for (uint32_t i = 0; i < c->n_machines; i++) {
		struct trit_cluster_machine *m = &c->machines[i];
		if (!m->address[0] && !s->address_line[i])
			trit_ini_problem(ini, s->machine_line[i], "[machine.%s] has no address (the "
			                 "host name or address the engine connects to)", m->name);
		if (!m->devices) {
			if (!s->devices_line[i])
				trit_ini_problem(ini, s->machine_line[i], "[machine.%s] has no devices "
				                 "(a devices file, docs/devices.md)", m->name);
			continue;
		}
		if (take_devices(ini, s, i) == TRIT_ENOMEM)
			trit_ini_oom(ini);
	}
}

static const struct trit_ini_handler cluster_ini = {
	.what = "cluster file",
	.sections = "[cluster] or a [machine.<name>] section",
	.section = on_section,
	.key = on_key,
	.end = on_end,
};

int trit_cluster_read(const char *path, struct trit_cluster *out, char *err, size_t errlen)
{
	struct cstate *s = calloc(1, sizeof *s);
	const char *slash = strrchr(path, '/');
	int rc;

	memset(out, 0, sizeof *out);
	out->path = trit_strdup(path);
	out->machines = calloc(TRIT_CLUSTER_MAX_MACHINES, sizeof *out->machines);
	if (s)
		s->folder = slash ? trit_asprintf("%.*s/", (int)(slash - path), path) : trit_strdup("");
	if (!s || !s->folder || !out->path || !out->machines) {
		rc = trit_errf(err, errlen, TRIT_ENOMEM, "out of memory");
		goto out;
	}
	s->c = out;
	rc = trit_ini_parse(path, &cluster_ini, s, err, errlen);
out:
	if (rc)
		trit_cluster_free(out);
	if (s)
		free(s->folder);
	free(s);
	return rc;
}

void trit_cluster_free(struct trit_cluster *c)
{
	if (!c)
		return;
	for (uint32_t i = 0; c->machines && i < c->n_machines; i++)
		free(c->machines[i].devices);
	free(c->machines);
	free(c->path);
	free(c->gpus);
	free(c->gpu_bandwidth);
	free(c->gpu_machine);
	memset(c, 0, sizeof *c);
}
