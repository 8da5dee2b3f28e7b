/*
 * features.c - which x86 vector extensions this CPU has *and* the OS has
 * enabled: cpuid leaves 1 and 7 for the hardware, XGETBV (XCR0) for the
 * register state the kernel saves. Decoding is separate from reading so tests
 * can describe other CPUs. It does not choose kernels; backend.c does.
 */
#include <build-config.h>

#include <cpuid.h>
#include <stdio.h>
#include <string.h>

#include "probe.h"

/* cpuid bit positions (Intel SDM vol. 2A, CPUID; AMD APM vol. 3). */
#define L1_ECX_FMA      (1u << 12)
#define L1_ECX_SSE42    (1u << 20)
#define L1_ECX_OSXSAVE  (1u << 27)
#define L1_ECX_AVX      (1u << 28)
#define L1_ECX_F16C     (1u << 29)
#define L7_EBX_AVX2     (1u << 5)
#define L7_EBX_AVX512F  (1u << 16)
#define L7_EBX_AVX512DQ (1u << 17)
#define L7_EBX_AVX512BW (1u << 30)
#define L7_EBX_AVX512VL (1u << 31)
#define L7_ECX_AVX512VBMI (1u << 1)
#define L7_ECX_AVX512VNNI (1u << 11)
#define L7S1_EAX_AVX_VNNI   (1u << 4)
#define L7S1_EAX_AVX512BF16 (1u << 5)

/* XCR0 state components: SSE (1) and AVX upper halves (2) for YMM; opmask
 * (5), ZMM_Hi256 (6) and Hi16_ZMM (7) for AVX-512. */
#define XCR0_YMM (UINT64_C(1) << 1 | UINT64_C(1) << 2)
#define XCR0_ZMM (UINT64_C(1) << 5 | UINT64_C(1) << 6 | UINT64_C(1) << 7)

#define CAPS_AVX512 (TRIT_CAP_AVX512F | TRIT_CAP_AVX512BW | TRIT_CAP_AVX512VL | \
                     TRIT_CAP_AVX512DQ | TRIT_CAP_AVX512VNNI | TRIT_CAP_AVX512BF16 | \
                     TRIT_CAP_AVX512VBMI)
#define CAPS_YMM (TRIT_CAP_AVX | TRIT_CAP_AVX2 | TRIT_CAP_FMA | TRIT_CAP_F16C | \
                  TRIT_CAP_AVX_VNNI | CAPS_AVX512)

static uint64_t read_xcr0(void)
{
	uint32_t lo, hi;
	/* The xgetbv mnemonic needs no -mxsave; only run when OSXSAVE is set. */
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (uint64_t)hi << 32 | lo;
}

static void copy_regs(char *dst, uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
	memcpy(dst, &a, 4);
	memcpy(dst + 4, &b, 4);
	memcpy(dst + 8, &c, 4);
	memcpy(dst + 12, &d, 4);
}

/* Strip the leading and trailing blanks some vendors pad the brand with, and
 * anything that is not printable ASCII (hypervisors may report anything). */
static void tidy_brand(char *s)
{
	size_t n = strlen(s), start = 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			s[i] = ' ';
	while (start < n && s[start] == ' ')
		start++;
	while (n > start && s[n - 1] == ' ')
		n--;
	memmove(s, s + start, n - start);
	s[n - start] = '\0';
}

void cpu_avx2_cpuid_read(struct cpu_avx2_cpuid *raw)
{
	unsigned a, b, c, d;

	memset(raw, 0, sizeof *raw);
	if (!__get_cpuid(0, &a, &b, &c, &d))
		return;
	raw->max_leaf = a;
	memcpy(raw->vendor, &b, 4);
	memcpy(raw->vendor + 4, &d, 4);
	memcpy(raw->vendor + 8, &c, 4);
	raw->vendor[12] = '\0';
	tidy_brand(raw->vendor);
	if (__get_cpuid(1, &a, &b, &c, &d))
		raw->leaf1_ecx = c;
	if (raw->max_leaf >= 7 && __get_cpuid_count(7, 0, &a, &b, &c, &d)) {
		raw->leaf7_max_sub = a;
		raw->leaf7_ebx = b;
		raw->leaf7_ecx = c;
		if (a >= 1 && __get_cpuid_count(7, 1, &a, &b, &c, &d))
			raw->leaf7s1_eax = a;
	}
	if (raw->leaf1_ecx & L1_ECX_OSXSAVE)
		raw->xcr0 = read_xcr0();
	raw->max_ext_leaf = __get_cpuid_max(0x80000000u, NULL);
	if (raw->max_ext_leaf >= 0x80000004u) {
		for (unsigned i = 0; i < 3; i++) {
			__get_cpuid(0x80000002u + i, &a, &b, &c, &d);
			copy_regs(raw->brand + 16 * i, a, b, c, d);
		}
		raw->brand[48] = '\0';
		tidy_brand(raw->brand);
	}
}

uint64_t cpu_avx2_caps_decode(const struct cpu_avx2_cpuid *raw, char *why, size_t whylen)
{
	uint64_t caps = 0;
	int ymm_os = 0, zmm_os = 0;
	const char *reason = NULL;
	char buf[200];

	if (raw->leaf1_ecx & L1_ECX_SSE42)
		caps |= TRIT_CAP_SSE42;
	if (raw->leaf1_ecx & L1_ECX_OSXSAVE) {
		ymm_os = (raw->xcr0 & XCR0_YMM) == XCR0_YMM;
		zmm_os = ymm_os && (raw->xcr0 & XCR0_ZMM) == XCR0_ZMM;
	}
	if (ymm_os) {
		if (raw->leaf1_ecx & L1_ECX_AVX)
			caps |= TRIT_CAP_AVX;
		if (raw->leaf1_ecx & L1_ECX_FMA)
			caps |= TRIT_CAP_FMA;
		if (raw->leaf1_ecx & L1_ECX_F16C)
			caps |= TRIT_CAP_F16C;
		if (raw->max_leaf >= 7) {
			if (raw->leaf7_ebx & L7_EBX_AVX2)
				caps |= TRIT_CAP_AVX2;
			if (raw->leaf7_max_sub >= 1 && (raw->leaf7s1_eax & L7S1_EAX_AVX_VNNI))
				caps |= TRIT_CAP_AVX_VNNI;
		}
	}
	if (zmm_os && raw->max_leaf >= 7) {
		if (raw->leaf7_ebx & L7_EBX_AVX512F)
			caps |= TRIT_CAP_AVX512F;
		if (raw->leaf7_ebx & L7_EBX_AVX512DQ)
			caps |= TRIT_CAP_AVX512DQ;
		if (raw->leaf7_ebx & L7_EBX_AVX512BW)
			caps |= TRIT_CAP_AVX512BW;
		if (raw->leaf7_ebx & L7_EBX_AVX512VL)
			caps |= TRIT_CAP_AVX512VL;
		if (raw->leaf7_ecx & L7_ECX_AVX512VBMI)
			caps |= TRIT_CAP_AVX512VBMI;
		if (raw->leaf7_ecx & L7_ECX_AVX512VNNI)
			caps |= TRIT_CAP_AVX512VNNI;
		if (raw->leaf7_max_sub >= 1 && (raw->leaf7s1_eax & L7S1_EAX_AVX512BF16))
			caps |= TRIT_CAP_AVX512BF16;
	}
	caps = cpu_avx2_caps_close(caps);

	/* Say why AVX2 is missing, hardware first, then the OS. */
	if (raw->max_leaf < 7) {
		snprintf(buf, sizeof buf,
		         "this CPU has no usable AVX2 (cpuid maximum leaf is %u; leaf 7, "
		         "which reports AVX2, is not implemented)", raw->max_leaf);
		reason = buf;
	} else if (!(raw->leaf7_ebx & L7_EBX_AVX2)) {
		reason = "this CPU has no usable AVX2 (cpuid leaf 7 EBX bit 5 clear)";
	} else if (!(raw->leaf1_ecx & L1_ECX_AVX)) {
		reason = "this CPU has no usable AVX2 (cpuid leaf 7 reports AVX2 but leaf 1 ECX "
		         "bit 28, AVX, is clear)";
	} else if (!(raw->leaf1_ecx & L1_ECX_OSXSAVE)) {
		reason = "this CPU has AVX2 but the OS has not enabled XSAVE (cpuid leaf 1 ECX "
		         "bit 27, OSXSAVE, clear), so the YMM registers cannot be used";
	} else if (!ymm_os) {
		snprintf(buf, sizeof buf,
		         "this CPU has AVX2 but the OS has not enabled YMM state (XCR0 = 0x%llx; "
		         "bits 1 and 2 are needed)", (unsigned long long)raw->xcr0);
		reason = buf;
	}
	if (why && whylen)
		cpu_avx2_errf(why, whylen, 0, "%s", reason ? reason : "");
	return caps;
}

uint64_t cpu_avx2_caps_close(uint64_t caps)
{
	if (!(caps & TRIT_CAP_AVX))
		caps &= ~CAPS_YMM;
	if (!(caps & TRIT_CAP_AVX512F))
		caps &= ~CAPS_AVX512;
	return caps;
}

static const struct {
	const char *name;
	uint64_t bits;
} cap_names[] = {
	{ "sse4.2", TRIT_CAP_SSE42 },
	{ "avx", TRIT_CAP_AVX },
	{ "avx2", TRIT_CAP_AVX2 },
	{ "fma", TRIT_CAP_FMA },
	{ "f16c", TRIT_CAP_F16C },
	{ "avx_vnni", TRIT_CAP_AVX_VNNI },
	{ "avx512f", TRIT_CAP_AVX512F },
	{ "avx512bw", TRIT_CAP_AVX512BW },
	{ "avx512vl", TRIT_CAP_AVX512VL },
	{ "avx512dq", TRIT_CAP_AVX512DQ },
	{ "avx512vnni", TRIT_CAP_AVX512VNNI },
	{ "avx512bf16", TRIT_CAP_AVX512BF16 },
	{ "avx512vbmi", TRIT_CAP_AVX512VBMI },
};

uint64_t cpu_avx2_caps_by_name(const char *name)
{
	if (!strcmp(name, "avx512"))
		return CAPS_AVX512;
	if (!strcmp(name, "sse42"))
		return TRIT_CAP_SSE42;
	for (size_t i = 0; i < sizeof cap_names / sizeof cap_names[0]; i++)
		if (!strcmp(name, cap_names[i].name))
			return cap_names[i].bits;
	return 0;
}

void cpu_avx2_caps_format(uint64_t caps, char *buf, size_t len)
{
	size_t used = 0;

	if (!len)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof cap_names / sizeof cap_names[0]; i++) {
		if (!(caps & cap_names[i].bits))
			continue;
		int n = snprintf(buf + used, len - used, "%s%s", used ? " " : "",
		                 cap_names[i].name);
		if (n < 0 || (size_t)n >= len - used)
			return;
		used += (size_t)n;
	}
	if (!used)
		snprintf(buf, len, "none");
}

const char *cpu_avx2_caps_names(void)
{
	return "sse4.2, avx, avx2, fma, f16c, avx_vnni, avx512 (all AVX-512), avx512f, "
	       "avx512bw, avx512vl, avx512dq, avx512vnni, avx512bf16, avx512vbmi";
}
