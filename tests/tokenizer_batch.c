/*
 * tokenizer_batch.c - tokenizer-batch MODEL: tokenizes many texts with one
 * open vocabulary, for tests/tokenizer-crosscheck.mjs. Each input line is
 * "AP HEX": A and P are 0/1 (add_special, parse_special), HEX the text's
 * bytes in hex (any bytes, so malformed UTF-8 too). Each output line is the
 * ids separated by spaces, or "error: ..." for a text trit refused.
 * Uses only <trit/trit.h>.
 */
#include <build-config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <trit/trit.h>

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static void one(const struct trit_tokenizer *t, char *line)
{
	size_t len = 0, n, cap;
	int32_t *ids;
	char err[512];
	int add, parse, rc;

	if (strlen(line) < 3 || line[2] != ' ') {
		puts("error: bad input line");
		return;
	}
	add = line[0] == '1';
	parse = line[1] == '1';
	for (char *p = line + 3; p[0] && p[1]; p += 2) {
		int hi = hexval(p[0]), lo = hexval(p[1]);
		if (hi < 0 || lo < 0)
			break;
		line[len++] = (char)(hi * 16 + lo);
	}
	cap = len + 8;
	ids = malloc(cap * sizeof *ids);
	rc = ids ? trit_tokenize(t, line, len, add, parse, ids, cap, &n, err, sizeof err) : -1;
	if (rc == TRIT_ERANGE && n > cap) { /* malformed bytes: up to three tokens each */
		int32_t *more = realloc(ids, n * sizeof *ids);
		cap = n;
		rc = more ? trit_tokenize(t, line, len, add, parse, (ids = more), cap, &n, err, sizeof err) : -1;
	}
	if (rc) {
		printf("error: %s\n", rc == -1 ? "out of memory" : err);
		free(ids);
		return;
	}
	for (size_t i = 0; i < n; i++)
		printf(i ? " %d" : "%d", (int)ids[i]);
	putchar('\n');
	free(ids);
}

int main(int argc, char **argv)
{
	struct trit_tokenizer *t;
	char err[1024];
	char *line = NULL;
	size_t cap = 0;
	ssize_t got;

	if (argc != 2) {
		fprintf(stderr, "usage: tokenizer-batch MODEL.gguf < LINES\n");
		return 2;
	}
	if (trit_tokenizer_open(argv[1], &t, err, sizeof err)) {
		fprintf(stderr, "tokenizer-batch: %s\n", err);
		return 1;
	}
	while ((got = getline(&line, &cap, stdin)) > 0) {
		if (line[got - 1] == '\n')
			line[got - 1] = 0;
		one(t, line);
		fflush(stdout);
	}
	free(line);
	trit_tokenizer_free(t);
	return 0;
}
