/*
 * load/load_place.h - putting planned tensors on their targets (internal to
 * runtime/load): the memory check, then in place / copied / repacked, with
 * progress, RSS sampling and the report's counts.
 */
#ifndef TRIT_LOAD_LOAD_PLACE_H
#define TRIT_LOAD_LOAD_PLACE_H

#include "load/load_int.h"

struct load_place {
	const struct trit_model *m;
	const struct trit_load_spec *spec;
	uint64_t chunk;                 /* staging/repack chunk bytes */
	unsigned char *staging;         /* for targets without host-visible buffers */
	uint64_t staging_size;
	struct trit_buffer **wraps;     /* [file * n_targets + target]: whole-file views */
	uint8_t *wrap_tried;
	struct trit_load_report rep;
	struct trit_load_progress prog;
	double t0;
	uint64_t rss_max;
	int hwm_reset;                  /* VmHWM was reset at the start */
};

/* Start the clock and the RSS measurement. */
void load_place_begin(struct load_place *pl, const struct trit_model *m,
                      const struct trit_load_spec *spec);
/* TRIT_ENOMEM naming the target, bytes needed and free when a target's
 * get_memory() says it cannot hold what the load will allocate there. */
int load_place_check_memory(struct load_place *pl, struct trit_weights *w,
                            const struct load_item *items, char *err, size_t errlen);
/* Place every tensor; w->w[i].t and .how filled. */
int load_place_all(struct load_place *pl, struct trit_weights *w, const struct load_item *items,
                   char *err, size_t errlen);
/* Free what placing held; fill rep (may be NULL) from it and w. */
void load_place_end(struct load_place *pl, struct trit_weights *w, struct trit_load_report *rep);

#endif
