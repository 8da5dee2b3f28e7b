/*
 * features.c - what this aarch64 CPU can execute, as the kernel tells every
 * process in its auxiliary vector (getauxval AT_HWCAP / AT_HWCAP2): the
 * kernel sets a bit only when the CPU has the feature and the kernel
 * supports it, so no instruction is executed to find out. The decoding is
 * split from the reading so tests can feed in other CPUs' words.
 */
#include <build-config.h>

#include <stdio.h>
#include <string.h>

#if defined(__aarch64__)
#include <sys/auxv.h>
#if defined(__has_include)
#if __has_include(<asm/hwcap.h>)
#include <asm/hwcap.h>
#endif
#endif
#endif

#include "neon.h"

/* Our copies of the bits must be the kernel's. */
#ifdef HWCAP_ASIMD
_Static_assert(CPU_NEON_HWCAP_ASIMD == HWCAP_ASIMD, "HWCAP_ASIMD");
_Static_assert(CPU_NEON_HWCAP_ASIMDDP == HWCAP_ASIMDDP, "HWCAP_ASIMDDP");
_Static_assert(CPU_NEON_HWCAP_SVE == HWCAP_SVE, "HWCAP_SVE");
_Static_assert(CPU_NEON_HWCAP_FPHP == HWCAP_FPHP, "HWCAP_FPHP");
_Static_assert(CPU_NEON_HWCAP_ASIMDHP == HWCAP_ASIMDHP, "HWCAP_ASIMDHP");
_Static_assert(CPU_NEON_HWCAP_CPUID == HWCAP_CPUID, "HWCAP_CPUID");
#endif
#ifdef HWCAP2_I8MM
_Static_assert(CPU_NEON_HWCAP2_I8MM == HWCAP2_I8MM, "HWCAP2_I8MM");
_Static_assert(CPU_NEON_HWCAP2_BF16 == HWCAP2_BF16, "HWCAP2_BF16");
#endif

void cpu_neon_hwcaps_read(struct cpu_neon_hwcaps *raw)
{
	memset(raw, 0, sizeof *raw);
#if defined(__aarch64__)
	raw->hwcap = getauxval(AT_HWCAP);
#ifdef AT_HWCAP2
	raw->hwcap2 = getauxval(AT_HWCAP2);
#endif
#endif
}

static const struct {
	const char *name;
	uint64_t cap;
} names[] = {
	{ "neon", TRIT_CAP_NEON },
	{ "dotprod", TRIT_CAP_DOTPROD },
	{ "i8mm", TRIT_CAP_I8MM },
	{ "sve", TRIT_CAP_SVE },
	{ "fp16", TRIT_CAP_FP16 },
	{ "bf16", TRIT_CAP_BF16 },
};

uint64_t cpu_neon_caps_decode(const struct cpu_neon_hwcaps *raw, char *why, size_t whylen)
{
	uint64_t caps = 0;

	if (why && whylen)
		why[0] = '\0';
	if (raw->hwcap & CPU_NEON_HWCAP_ASIMD)
		caps |= TRIT_CAP_NEON;
	else
		cpu_common_errf(why, whylen, 0,
		                "the kernel's AT_HWCAP (0x%llx) has no ASIMD bit: this CPU or "
		                "kernel offers no Advanced SIMD (NEON)",
		                (unsigned long long)raw->hwcap);
	if (raw->hwcap & CPU_NEON_HWCAP_ASIMDDP)
		caps |= TRIT_CAP_DOTPROD;
	if (raw->hwcap & CPU_NEON_HWCAP_SVE)
		caps |= TRIT_CAP_SVE;
	if ((raw->hwcap & CPU_NEON_HWCAP_FPHP) && (raw->hwcap & CPU_NEON_HWCAP_ASIMDHP))
		caps |= TRIT_CAP_FP16;
	if (raw->hwcap2 & CPU_NEON_HWCAP2_I8MM)
		caps |= TRIT_CAP_I8MM;
	if (raw->hwcap2 & CPU_NEON_HWCAP2_BF16)
		caps |= TRIT_CAP_BF16;
	return cpu_neon_caps_close(caps);
}

uint64_t cpu_neon_caps_close(uint64_t caps)
{
	/* Every extension we report is an Advanced SIMD (or SVE) extension
	 * that our kernels would reach through NEON first. */
	if (!(caps & TRIT_CAP_NEON))
		return 0;
	return caps;
}

uint64_t cpu_neon_caps_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcmp(name, names[i].name))
			return names[i].cap;
	return 0;
}

void cpu_neon_caps_format(uint64_t caps, char *buf, size_t len)
{
	size_t used = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		int n;
		if (!(caps & names[i].cap))
			continue;
		n = snprintf(buf + used, len - used, "%s%s", used ? " " : "", names[i].name);
		if (n < 0 || (size_t)n >= len - used)
			return;
		used += (size_t)n;
	}
	if (used == 0 && len)
		snprintf(buf, len, "none");
}

const char *cpu_neon_caps_names(void)
{
	return "neon, dotprod, i8mm, sve, fp16, bf16";
}
