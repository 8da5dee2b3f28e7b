/*
 * fuzz_safetensors.c - libFuzzer target for the SafeTensors header reader:
 * each input is a whole file, parsed from memory and closed again. Crashes,
 * sanitizer reports and leaks are findings; refusals are the expected path.
 */
#include <build-config.h>

#include <stddef.h>
#include <stdint.h>

#include "model/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trit_st *st = NULL;
	char err[512];

	if (trit_st_parse(data, size, size, "fuzz", &st, err, sizeof err) == 0) {
		/* Touch what a caller would read, so sanitizers check it. */
		for (uint64_t i = 0; i < st->n_tensors; i++)
			if (st->tensors[i].end > size || !st->tensors[i].name[0])
				__builtin_trap();
	}
	trit_st_close(st);
	return 0;
}
