/*
 * cmd_tokenize.c - `trit tokenize MODEL TEXT`: the token ids of a text with
 * the model's own vocabulary (GGUF), and each token's piece; as text or
 * JSON. The tokenizing is libtrit's (trit_tokenize).
 */
#include <build-config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char cli_usage_tokenize[] =
	"Usage: trit tokenize MODEL TEXT [--json] [--no-bos] [--special]\n"
	"       trit tokenize MODEL --file FILE [OPTIONS]\n"
	"\n"
	"Tokenize TEXT with the vocabulary of the GGUF file MODEL, as llama.cpp does\n"
	"(byte-level BPE or SentencePiece), and print each token's id and piece.\n"
	"\n"
	"  --json        print one JSON document: {\"ids\": [...], \"pieces\": [...], ...}\n"
	"  --no-bos      add no BOS (nor EOS) token, whatever the vocabulary asks for\n"
	"  --special     control tokens written in TEXT (\"<|eot_id|>\") are those tokens\n"
	"  -f, --file F  read the text from file F (\"-\": standard input), byte for byte\n";

#define MAX_TEXT (64u << 20)

/* The code point of the well-formed UTF-8 sequence at s (n bytes), its
 * length in *k; -1 when malformed (cut short, overlong, a surrogate). */
static long utf8_at(const unsigned char *s, size_t n, size_t *k)
{
	static const unsigned long min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t need = s[0] < 0x80 ? 1 : (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3 :
	              (s[0] & 0xF8) == 0xF0 ? 4 : 0;
	unsigned long cp = need == 1 ? s[0] : need ? s[0] & (0x7Fu >> need) : 0;

	*k = 1;
	if (!need || need > n)
		return -1;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return -1;
		cp = cp << 6 | (s[i] & 0x3Fu);
	}
	if (cp < min[need] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return -1;
	*k = need;
	return (long)cp;
}

/* A piece as a JSON string: valid UTF-8 as is, each malformed byte as
 * U+FFFD, and every control a terminal acts on (C0, DEL, C1) as \uNNNN, so
 * a vocabulary cannot drive the terminal the text form is read on. */
static void json_piece(const char *s, size_t n)
{
	putchar('"');
	for (size_t i = 0, k; i < n; i += k) {
		long cp = utf8_at((const unsigned char *)s + i, n - i, &k);
		if (cp < 0)
			fputs("\\ufffd", stdout);
		else if (cp == '"' || cp == '\\')
			printf("\\%c", (int)cp);
		else if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
			printf("\\u%04lx", (unsigned long)cp);
		else
			fwrite(s + i, 1, k, stdout);
	}
	putchar('"');
}

static void print_tokens(const struct trit_tokenizer *t, const int32_t *ids, size_t n, int json)
{
	struct trit_tokenizer_info info;
	char piece[512];
	size_t k;

	trit_tokenizer_get_info(t, &info);
	if (json)
		printf("{\"model\": \"%s\", \"pre\": ", info.model), json_piece(info.pre, strlen(info.pre)),
			printf(", \"n_tokens\": %zu, \"ids\": [", n);
	for (size_t i = 0; json && i < n; i++)
		printf("%s%d", i ? ", " : "", (int)ids[i]);
	if (json)
		fputs("], \"pieces\": [", stdout);
	for (size_t i = 0; i < n; i++) {
		trit_token_to_piece(t, ids[i], 1, piece, sizeof piece, &k);
		if (k > sizeof piece)
			k = sizeof piece;
		if (json) {
			fputs(i ? ", " : "", stdout);
			json_piece(piece, k);
		} else {
			printf("%6d ", (int)ids[i]);
			json_piece(piece, k);
			putchar('\n');
		}
	}
	if (json)
		fputs("]}\n", stdout);
}

static int tokenize_and_print(const char *model, const char *text, size_t len, int add_special,
                              int parse_special, int json)
{
	struct trit_tokenizer *t;
	char err[1024];
	int32_t *ids = NULL;
	size_t n = 0, cap = len + 8;
	int rc;

	if (trit_tokenizer_open(model, &t, err, sizeof err)) {
		fprintf(stderr, "trit: %s\n", err);
		return EXIT_FAIL;
	}
	/* usually enough; a malformed byte can take three (U+FFFD's bytes) */
	for (;;) {
		int32_t *p = realloc(ids, cap * sizeof *ids);
		if (!p) {
			rc = TRIT_ENOMEM;
			snprintf(err, sizeof err, "out of memory for %zu token ids", cap);
			break;
		}
		ids = p;
		rc = trit_tokenize(t, text, len, add_special, parse_special, ids, cap, &n, err, sizeof err);
		if (rc != TRIT_ERANGE || n <= cap)
			break;
		cap = n;
	}
	if (rc)
		fprintf(stderr, "trit: %s\n", err);
	else
		print_tokens(t, ids, n, json);
	free(ids);
	trit_tokenizer_free(t);
	return rc ? EXIT_FAIL : EXIT_OK;
}

int cmd_tokenize(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' }, { "no-bos", no_argument, NULL, 'B' },
		{ "special", no_argument, NULL, 's' }, { "file", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 }
	};
	int json = 0, add_special = 1, parse_special = 0, c, rc;
	const char *file = NULL;
	char *text;
	size_t len;

	optind = 0; /* 0, not 1: glibc then also resets argument permutation */
	while ((c = getopt_long(argc, argv, "jBsf:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'B': add_special = 0; break;
		case 's': parse_special = 1; break;
		case 'f': file = optarg; break;
		case 'h': fputs(cli_usage_tokenize, stdout); return EXIT_OK;
		default: return cli_usage_error("tokenize", "bad option");
		}
	}
	if (argc - optind != (file ? 1 : 2))
		return cli_usage_error("tokenize", "tokenize takes MODEL and TEXT, or MODEL and --file");
	if ((rc = cli_load_config(cli)))
		return rc;
	if (!file)
		return tokenize_and_print(argv[optind], argv[optind + 1], strlen(argv[optind + 1]),
		                          add_special, parse_special, json);
	if (!(text = cli_read_input(file, MAX_TEXT, &len)))
		return EXIT_FAIL;
	rc = tokenize_and_print(argv[optind], text, len, add_special, parse_special, json);
	free(text);
	return rc;
}
