/*
 * cluster.h - a cluster inventory: several machines, each a described
 * machine file (docs/devices.md) with its address, the link between its
 * GPUs, and the network between the machines (docs/cluster.md). Read from
 * an INI, every problem named with its file and line; what it describes is
 * never probed.
 */
#ifndef TRIT_CLUSTER_H
#define TRIT_CLUSTER_H

#include <stdint.h>

#include "plan/pplan.h"

#define TRIT_CLUSTER_MAX_MACHINES 64u

struct trit_cluster_machine {
	char name[64];          /* [machine.<name>] */
	char address[256];      /* host name or address the engine connects to */
	char *devices;          /* its devices file, resolved against the cluster file's folder */
	uint64_t gpu_link;      /* bytes/s between two of its GPUs; 0 = not described */
	uint64_t ram;           /* its CPUs' memory; 0 = not described */
	uint32_t first_gpu, n_gpus;  /* its GPUs in trit_cluster.gpus */
};

struct trit_cluster {
	char *path;
	uint64_t network;       /* bytes/s a machine sends to another; 0 = not described */
	struct trit_cluster_machine *machines;
	uint32_t n_machines;
	struct trit_pplan_gpu *gpus;   /* every machine's GPUs, machine by machine; usable = free */
	uint64_t *gpu_bandwidth;       /* each GPU's memory bandwidth, bytes/s; 0 unknown */
	uint32_t *gpu_machine;         /* each GPU's machine */
	uint32_t n_gpus;
};

/* Read the inventory at path: 0, or TRIT_ECONFIG with every problem (one
 * per line, "FILE:LINE: ..."), TRIT_ENOMEM. Free with trit_cluster_free. */
int trit_cluster_read(const char *path, struct trit_cluster *out, char *err, size_t errlen);
void trit_cluster_free(struct trit_cluster *c);

#endif
