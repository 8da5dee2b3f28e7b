/*
 * adopt.h - the host's copy of a plugin's backend table (internal).
 *
 * The registry checks a plugin's table (abi_version, struct_size, name)
 * and hands it here; what comes back is a full ABI v2 table in which every
 * entry is a host function that forwards to the plugin or, where the plugin
 * has none, answers as backend.h promises (a v1 plugin's matmul() runs
 * MATMUL nodes of graph_compute(); a synchronous graph_submit(); ...).
 * Loading, probing and devices stay in registry.c.
 */
#ifndef TRIT_ADOPT_H
#define TRIT_ADOPT_H

#include <trit/backend.h>

/* The state the host table's entries are called with. */
struct trit_adopted {
	struct trit_backend t;          /* the plugin's entries the host may call:
	                                 * the prefix its abi_version and struct_size
	                                 * cover, everything after it NULL */
	void *state;                    /* the plugin's own state, after init() */
	const char *name;               /* backend name, for messages */
	struct trit_device *devices;    /* the registry's full-size copies */
	uint32_t n_devices;
	int async;                      /* graph_submit, event_wait, event_free all given */
};

/* Most bytes, its NUL included, trit reads of any text a plugin hands it
 * (names, ids, descriptions, sources, property texts): text that does not
 * end within them is not taken. */
#define TRIT_ADOPT_MAX_TEXT 4096u

/* 1 when s is NULL or ends within TRIT_ADOPT_MAX_TEXT bytes (reading no
 * more than those); 0 otherwise. */
int trit_adopt_text_ok(const char *s);

/* Bytes of an ABI v1 table: everything up to and including matmul. */
#define TRIT_ADOPT_V1_TABLE_SIZE \
	(offsetof(struct trit_backend, matmul) + sizeof(void (*)(void)))

/* Copy the entries of plugin table `t` (already checked by the caller:
 * abi_version in range, struct_size within the host's) into a->t. */
void trit_adopt_entries(struct trit_adopted *a, const struct trit_backend *t);

/* Fill `host` with the host functions over `a` (call them with `a` as the
 * state). init and shutdown are NULL there: the registry owns the plugin's
 * life. name, version and description are the plugin's. */
void trit_adopt_table(struct trit_backend *host, const struct trit_adopted *a);

#endif
