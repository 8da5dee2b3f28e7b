/*
 * ref.h - the scalar reference backend built into libtrit.
 *
 * Every host has this device, whatever plugins are installed. Its kernels are
 * written for clarity, not speed: they are the oracle other backends are
 * tested against.
 */
#ifndef TRIT_BACKENDS_REF_H
#define TRIT_BACKENDS_REF_H

#include <trit/backend.h>

const struct trit_backend *trit_ref_backend(void);

#endif
