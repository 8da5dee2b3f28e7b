/*
 * opcheck.h - checks of a CPU plugin's ABI v2 graph ops through its backend
 * table, shared by the plugins' Check suites and the cpu_neon qemu program
 * (which has no Check). Each case builds one-node graphs on odd shapes
 * (ne0 off the vector width and block, one and several tokens, strided rows,
 * in place, GQA) and compares dst with a plain double-precision computation
 * in the case, or bit for bit where trit/quant.h and trit/ternary.h define
 * the result exactly. Needs runtime/formats/ternary.c (trit_ternary_pack) linked.
 */
#ifndef TRIT_PLUGINS_OPCHECK_H
#define TRIT_PLUGINS_OPCHECK_H

#include <stddef.h>

#include <trit/backend.h>

struct cpu_opcheck_case {
	const char *name;   /* a behaviour: "rms_norm_matches_double_with_weight_and_in_place" */
};

extern const struct cpu_opcheck_case cpu_opcheck_cases[];
extern const unsigned cpu_opcheck_count;

/* Run case i on device 0 of an initialised plugin with graphs of n_threads
 * threads. Returns 0 when it passes; otherwise -1 with a sentence in msg
 * naming the op, shape and the first element that differs. */
int cpu_opcheck_run(const struct trit_backend *be, void *state, unsigned i,
                    unsigned n_threads, char *msg, size_t len);

#endif /* TRIT_PLUGINS_OPCHECK_H */
