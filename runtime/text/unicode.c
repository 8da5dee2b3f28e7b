/*
 * unicode.c - code point classes by binary search over the generated range
 * table, and UTF-8 decoding/encoding for the tokenizers.
 */
#include <build-config.h>

#include "text/unicode.h"

unsigned trit_uc_flags(uint32_t cp)
{
	size_t lo = 0, hi = trit_uc_n_ranges;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cp < trit_uc_ranges[mid].first)
			hi = mid;
		else if (cp > trit_uc_ranges[mid].last)
			lo = mid + 1;
		else
			return trit_uc_ranges[mid].flags;
	}
	return 0;
}

size_t trit_utf8_len(unsigned char lead)
{
	static const unsigned char by_high_nibble[16] = { 1, 1, 1, 1, 1, 1, 1, 1,
	                                                  1, 1, 1, 1, 2, 2, 3, 4 };
	return by_high_nibble[lead >> 4];
}

size_t trit_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t n;
	uint32_t v;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xC0) == 0x80 || (s[0] & 0xF8) == 0xF8)
		goto bad;
	n = (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3 : 4;
	if (n > len)
		goto bad;
	v = s[0] & (0x7Fu >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			goto bad;
		v = (v << 6) | (s[i] & 0x3Fu);
	}
	*cp = v;
	return n;
bad:
	*cp = TRIT_UC_REPLACEMENT;
	return 1;
}

size_t trit_utf8_encode(uint32_t cp, unsigned char out[4])
{
	if (cp > 0x10FFFF)
		cp = TRIT_UC_REPLACEMENT;
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xC0 | (cp >> 6));
		out[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xE0 | (cp >> 12));
		out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (unsigned char)(0xF0 | (cp >> 18));
	out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}
