/*
 * caps.h - the names of the device capability bits (TRIT_CAP_* in
 * <trit/backend.h>), as `trit devices` prints them and a described machine's
 * `caps =` line spells them. One table, used by the reports and by the
 * `described` backend alike; what a capability means to a plan is plan.c's.
 */
#ifndef TRIT_CAPS_H
#define TRIT_CAPS_H

#include <stdint.h>

/* Name of a capability bit ("avx2"), or NULL for an undefined bit. */
const char *trit_cap_name(uint64_t bit);

#endif
