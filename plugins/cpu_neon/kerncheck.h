/*
 * kerncheck.h - the checks both cpu_neon test programs run: the Check suite
 * (check_cpu_neon.c, native aarch64 builds) and the plain-TAP program that
 * `make check` cross-compiles and runs under qemu-aarch64 on other hosts
 * (tests/cpu_neon_qemu.c). Each check drives the plugin through its backend
 * table, as the runtime would, and compares with the scalar reference in
 * runtime/formats/ternary.c. A check returns 0, or -1 with a sentence in msg.
 */
#ifndef CPU_NEON_KERNCHECK_H
#define CPU_NEON_KERNCHECK_H

#include <stddef.h>
#include <stdint.h>

#include <trit/backend.h>

/* A host table whose configuration is a fixed list of key = value pairs
 * (NULL-terminated, as "key", "value", ..., NULL). */
struct cpu_neon_kc_host {
	struct trit_host host;
	const char *const *kv;
};
void cpu_neon_kc_host_init(struct cpu_neon_kc_host *h, const char *const *kv);

/* One matmul case. */
struct cpu_neon_kc_case {
	uint32_t type;                 /* TRIT_TYPE_I2_S, _TL1, _TL2 */
	uint64_t rows, cols, tokens;
	unsigned threads;              /* op.n_threads */
	int int_dots;                  /* TRIT_MATMUL_INT_DOTS, else F32 */
	uint64_t seed;
	/* Extreme values instead of random ones: whole rows of +1 or -1
	 * against activations of -128 (or the F32 that quantises to -127)
	 * and 127, which is where an int16 partial sum would overflow first
	 * (give it cols >= 2048 to reach I2_S's limit). */
	int extreme;
};

/* Random weights and activations from c->seed, packed with
 * trit_ternary_pack(); the plugin's matmul (through be and state) against
 * trit_ref_matmul_int (exact) or trit_ref_matmul_f32 (within 1e-5 of the
 * largest |y| of the token's rows). Also checks that matmul_workspace()
 * reports exactly the bytes matmul() touched (the rest of a larger,
 * poisoned workspace buffer must be left alone). */
int cpu_neon_kc_run(const struct trit_backend *be, void *state,
                    const struct cpu_neon_kc_case *c, char *msg, size_t msglen);

/* A random ragged case: rows not a multiple of 32, cols not a multiple of
 * the format's column block, tokens 1 (gemv) or 2..17. */
void cpu_neon_kc_random(struct cpu_neon_kc_case *c, uint32_t type, int gemv,
                        unsigned threads, int int_dots, uint64_t seed);

/* Every way of calling matmul wrongly that the plugin must refuse, each
 * with its code and a message naming the culprit. */
int cpu_neon_kc_bad_args(const struct trit_backend *be, void *state, char *msg,
                         size_t msglen);

#endif /* CPU_NEON_KERNCHECK_H */
