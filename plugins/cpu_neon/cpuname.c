/*
 * cpuname.c - what the CPU is called. arm64 CPUs carry no brand string; they
 * identify themselves by the implementer and part number of their Main ID
 * Register (MIDR_EL1), which Linux shows in /proc/cpuinfo and sysfs and, on
 * kernels with HWCAP_CPUID, lets a process read directly. The names below are
 * those of Linux's arch/arm64/include/asm/cputype.h; a part not listed is
 * named by its numbers, which is what the hardware said.
 */
#include <build-config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "neon.h"

#define CPUINFO_LIMIT (4u << 20)
#define MIDR_LIMIT    64u
#define MAX_PARTS     8

typedef unsigned long long ull;

struct cpu_neon_midr cpu_neon_midr_split(uint64_t midr)
{
	struct cpu_neon_midr m;
	m.implementer = (unsigned)(midr >> 24) & 0xff;
	m.variant = (unsigned)(midr >> 20) & 0xf;
	m.architecture = (unsigned)(midr >> 16) & 0xf;
	m.part = (unsigned)(midr >> 4) & 0xfff;
	m.revision = (unsigned)midr & 0xf;
	return m;
}

const char *cpu_neon_implementer_name(unsigned implementer)
{
	switch (implementer) {
	case 0x41: return "Arm";
	case 0x42: return "Broadcom";
	case 0x43: return "Cavium";
	case 0x46: return "Fujitsu";
	case 0x48: return "HiSilicon";
	case 0x4e: return "NVIDIA";
	case 0x50: return "Applied Micro";
	case 0x51: return "Qualcomm";
	case 0x61: return "Apple";
	case 0xc0: return "Ampere";
	default: return NULL;
	}
}

const char *cpu_neon_part_name(unsigned implementer, unsigned part)
{
	static const struct {
		unsigned implementer, part;
		const char *name;
	} parts[] = {
		{ 0x41, 0xd03, "Cortex-A53" },   { 0x41, 0xd04, "Cortex-A35" },
		{ 0x41, 0xd05, "Cortex-A55" },   { 0x41, 0xd07, "Cortex-A57" },
		{ 0x41, 0xd08, "Cortex-A72" },   { 0x41, 0xd09, "Cortex-A73" },
		{ 0x41, 0xd0a, "Cortex-A75" },   { 0x41, 0xd0b, "Cortex-A76" },
		{ 0x41, 0xd0c, "Neoverse-N1" },  { 0x41, 0xd0d, "Cortex-A77" },
		{ 0x41, 0xd0e, "Cortex-A76AE" }, { 0x41, 0xd40, "Neoverse-V1" },
		{ 0x41, 0xd41, "Cortex-A78" },   { 0x41, 0xd42, "Cortex-A78AE" },
		{ 0x41, 0xd44, "Cortex-X1" },    { 0x41, 0xd46, "Cortex-A510" },
		{ 0x41, 0xd47, "Cortex-A710" },  { 0x41, 0xd48, "Cortex-X2" },
		{ 0x41, 0xd49, "Neoverse-N2" },  { 0x41, 0xd4b, "Cortex-A78C" },
		{ 0x41, 0xd4c, "Cortex-X1C" },   { 0x41, 0xd4d, "Cortex-A715" },
		{ 0x41, 0xd4e, "Cortex-X3" },    { 0x41, 0xd4f, "Neoverse-V2" },
		{ 0x41, 0xd80, "Cortex-A520" },  { 0x41, 0xd81, "Cortex-A720" },
		{ 0x41, 0xd82, "Cortex-X4" },    { 0x41, 0xd84, "Neoverse-V3" },
		{ 0x41, 0xd85, "Cortex-X925" },  { 0x41, 0xd87, "Cortex-A725" },
		{ 0x41, 0xd8e, "Neoverse-N3" },
		{ 0x43, 0x0af, "ThunderX2" },
		{ 0x46, 0x001, "A64FX" },
		{ 0xc0, 0xac3, "AmpereOne" },
	};
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
		if (parts[i].implementer == implementer && parts[i].part == part)
			return parts[i].name;
	return NULL;
}

/* The number after "key<blanks>:" on a cpuinfo line, or -1. */
static long cpuinfo_number(const char *line, size_t len, const char *key)
{
	size_t klen = strlen(key);
	char buf[32], *end;
	long v;

	if (len <= klen || strncmp(line, key, klen))
		return -1;
	line += klen;
	len -= klen;
	while (len && (*line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	if (!len || *line != ':')
		return -1;
	line++;
	len--;
	while (len && (*line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	while (len && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
		len--;
	if (!len || len >= sizeof buf)
		return -1;
	memcpy(buf, line, len);
	buf[len] = '\0';
	v = strtol(buf, &end, 0);
	if (*end || v < 0 || v > 0xfff)
		return -1;
	return v;
}

unsigned cpu_neon_cpuinfo_parts(const char *text, struct cpu_neon_midr *out, unsigned max)
{
	long implementer = -1;
	unsigned n = 0;

	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		long v;

		if ((v = cpuinfo_number(line, len, "CPU implementer")) >= 0 && v <= 0xff) {
			implementer = v;
		} else if ((v = cpuinfo_number(line, len, "CPU part")) >= 0 && implementer >= 0) {
			unsigned i;
			for (i = 0; i < n; i++)
				if (out[i].implementer == (unsigned)implementer && out[i].part == (unsigned)v)
					break;
			if (i == n && n < max) {
				memset(&out[n], 0, sizeof out[n]);
				out[n].implementer = (unsigned)implementer;
				out[n].part = (unsigned)v;
				n++;
			}
			implementer = -1;
		}
		line = end ? end + 1 : NULL;
	}
	return n;
}

/* "Arm Cortex-A76" or "implementer 0x41 part 0xd8f". */
static const char *one_name(const struct cpu_neon_midr *m, struct cpu_common_pool *pool)
{
	const char *vendor = cpu_neon_implementer_name(m->implementer);
	const char *part = cpu_neon_part_name(m->implementer, m->part);

	if (vendor && part)
		return cpu_common_pool_printf(pool, "%s %s", vendor, part);
	if (vendor)
		return cpu_common_pool_printf(pool, "%s part 0x%03x", vendor, m->part);
	return cpu_common_pool_printf(pool, "implementer 0x%02x part 0x%03x", m->implementer,
	                              m->part);
}

static void name_parts(const struct cpu_neon_midr *m, unsigned n, const char **name,
                       const char **vendor, struct cpu_common_pool *pool)
{
	const char *all = one_name(&m[0], pool);
	int same_vendor = 1;

	for (unsigned i = 1; i < n; i++) {
		const char *p = cpu_neon_part_name(m[i].implementer, m[i].part);
		if (m[i].implementer != m[0].implementer)
			same_vendor = 0;
		if (same_vendor && p)
			all = cpu_common_pool_printf(pool, "%s + %s", all, p);
		else
			all = cpu_common_pool_printf(pool, "%s + %s", all, one_name(&m[i], pool));
	}
	*name = all;
	*vendor = same_vendor ? cpu_neon_implementer_name(m[0].implementer) : NULL;
}

/* MIDR_EL1 through the kernel's (or emulator's) trap-and-emulate. */
static int midr_read_direct(uint64_t *midr)
{
#if defined(__aarch64__)
	uint64_t v;
	__asm__ volatile("mrs %0, MIDR_EL1" : "=r"(v));
	*midr = v;
	return 0;
#else
	(void)midr;
	return -1;
#endif
}

static int parse_hex(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	while (*s == ' ' || *s == '\t')
		s++;
	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return -1;
	v = strtoull(s, &end, 16);
	while (*end == ' ' || *end == '\n')
		end++;
	if (*end || end == s + 2)
		return -1;
	*out = v;
	return 0;
}

void cpu_neon_name_probe(const char *proc_root, const char *sys_root,
                         const struct cpu_neon_hwcaps *raw, const char **name,
                         const char **vendor, struct trit_value *source,
                         struct cpu_common_pool *pool)
{
	struct cpu_neon_midr parts[MAX_PARTS];
	char path[4200], why_ci[600], why_sys[600];
	char *text = NULL;
	unsigned n = 0;
	uint64_t midr;

	*name = NULL;
	*vendor = NULL;

	/* 1. /proc/cpuinfo */
	if (cpu_common_pathf(path, sizeof path, "%s/cpuinfo", proc_root) != 0) {
		snprintf(why_ci, sizeof why_ci, "proc_root is too long");
	} else if (cpu_common_read_file(path, CPUINFO_LIMIT, &text, NULL, why_ci,
	                                sizeof why_ci) == 0) {
		n = cpu_neon_cpuinfo_parts(text, parts, MAX_PARTS);
		free(text);
		if (n) {
			name_parts(parts, n, name, vendor, pool);
			*source = cpu_common_measured(0, cpu_common_pool_printf(pool,
				"%s: CPU implementer and CPU part%s", path,
				n > 1 ? " (several kinds of core)" : ""));
			return;
		}
		cpu_common_errf(why_ci, sizeof why_ci, 0,
		                "%s has no CPU implementer / CPU part lines", path);
	}

	/* 2. sysfs */
	if (cpu_common_pathf(path, sizeof path,
	                     "%s/devices/system/cpu/cpu0/regs/identification/midr_el1",
	                     sys_root) != 0) {
		snprintf(why_sys, sizeof why_sys, "sys_root is too long");
	} else if (cpu_common_read_file(path, MIDR_LIMIT, &text, NULL, why_sys,
	                                sizeof why_sys) == 0) {
		int bad = parse_hex(text, &midr) != 0;
		if (bad)
			cpu_common_errf(why_sys, sizeof why_sys, 0,
			                "%s does not hold a hex MIDR: '%.20s'", path, text);
		free(text);
		if (!bad) {
			parts[0] = cpu_neon_midr_split(midr);
			name_parts(parts, 1, name, vendor, pool);
			*source = cpu_common_measured(midr, cpu_common_pool_printf(pool,
				"%s (cpu0) = 0x%llx", path, (ull)midr));
			return;
		}
	}

	/* 3. MIDR_EL1 itself */
	if ((raw->hwcap & CPU_NEON_HWCAP_CPUID) && midr_read_direct(&midr) == 0) {
		parts[0] = cpu_neon_midr_split(midr);
		name_parts(parts, 1, name, vendor, pool);
		*source = cpu_common_measured(midr, cpu_common_pool_printf(pool,
			"MIDR_EL1 = 0x%llx, read with mrs (HWCAP_CPUID: the kernel emulates it); "
			"%s; %s", (ull)midr, why_ci, why_sys));
		return;
	}
	*name = "aarch64 CPU (not identified)";
	*source = cpu_common_unknown(cpu_common_pool_printf(pool,
		"the CPU could not be identified: %s; %s; and AT_HWCAP has no CPUID bit, so "
		"MIDR_EL1 cannot be read directly", why_ci, why_sys));
}
