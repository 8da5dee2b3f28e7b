/*
 * fuzz_gguf.c - libFuzzer target for the GGUF header reader: any input is
 * parsed as a whole file from memory, as the start of a larger file, and
 * (Linux) read from a memfd through trit_gguf_open; an accepted header is
 * walked through every getter. Crashes, leaks, overreads and undefined
 * behaviour are the findings.
 */
#include <build-config.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "model/gguf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const struct trit_gguf *g)
{
	for (uint64_t i = 0; i < g->n_kv; i++) {
		const struct trit_gguf_kv *kv = &g->kv[i];
		char key[128];
		size_t n = kv->key.len < sizeof key - 1 ? (size_t)kv->key.len : sizeof key - 1;
		struct trit_gguf_str s;
		uint64_t u, cursor = 0;
		int64_t v;
		double f;
		int b;

		for (size_t j = 0; j < n; j++)
			key[j] = kv->key.s[j] ? kv->key.s[j] : '?';
		key[n] = '\0';
		trit_gguf_get_u64(g, key, &u);
		trit_gguf_get_i64(g, key, &v);
		trit_gguf_get_f64(g, key, &f);
		trit_gguf_get_bool(g, key, &b);
		trit_gguf_get_str(g, key, &s);
		if (kv->type != TRIT_GGUF_ARRAY)
			continue;
		for (uint64_t j = 0; j < kv->arr_count && j < 64; j++) {
			trit_gguf_array_u64(kv, j, &u);
			trit_gguf_array_f64(kv, j, &f);
		}
		trit_gguf_array_u64(kv, kv->arr_count, &u);
		while (trit_gguf_array_next_str(kv, &cursor, &s) == 0)
			;
	}
	for (uint64_t i = 0; i < g->n_tensors && i < 64; i++) {
		char name[128];
		const struct trit_gguf_str *s = &g->tensors[i].name;
		size_t n = s->len < sizeof name - 1 ? (size_t)s->len : sizeof name - 1;
		for (size_t j = 0; j < n; j++)
			name[j] = s->s[j] ? s->s[j] : '?';
		name[n] = '\0';
		trit_gguf_find_tensor(g, name);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trit_gguf *g = NULL;
	char err[512];

	if (trit_gguf_parse(data, size, size, "fuzz", &g, err, sizeof err) == 0)
		walk(g);
	trit_gguf_close(g);
	/* the same bytes as the start of a larger file: the data section is
	 * not given, the header must still be judged against the larger size */
	if (trit_gguf_parse(data, size, (uint64_t)size * 2 + 4096, "fuzz", &g, err,
	                    sizeof err) == 0)
		walk(g);
	trit_gguf_close(g);
#ifdef MFD_CLOEXEC
	{
		static int fd = -2;
		static char path[64];
		if (fd == -2 && (fd = memfd_create("fuzz.gguf", MFD_CLOEXEC)) >= 0)
			snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		if (fd >= 0 && ftruncate(fd, 0) == 0 &&
		    (size == 0 || pwrite(fd, data, size, 0) == (ssize_t)size) &&
		    trit_gguf_open(path, &g, err, sizeof err) == 0)
			walk(g);
		trit_gguf_close(g);
	}
#endif
	return 0;
}
