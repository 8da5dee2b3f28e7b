/*
 * cmd_convert.c - `trit convert SRC -o OUT.gguf`: a Hugging Face BitNet
 * b1.58 directory or a GGUF file to a GGUF of architecture bitnet-b1.58,
 * with the BitLinear matrices as I2_S, F32 or F16. The conversion is
 * libtrit's (trit_convert); this file parses options and prints the result.
 */
#include <build-config.h>

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char cli_usage_convert[] =
	"Usage: trit convert SRC -o OUT.gguf [--type i2_s|f32|f16] [--name NAME]\n"
	"                    [--chat-template FILE] [--ternarize] [--json] [-q]\n"
	"\n"
	"Write a GGUF of architecture bitnet-b1.58 from SRC: a Hugging Face BitNet b1.58\n"
	"directory (config.json, model.safetensors or model.safetensors.index.json,\n"
	"tokenizer.json, optionally tokenizer_config.json), or a GGUF file to re-type\n"
	"(every other metadata pair and tensor is copied unchanged). OUT is written\n"
	"under a temporary name beside it and renamed at the end.\n"
	"\n"
	"  -o, --output FILE       the GGUF to write (required)\n"
	"  -t, --type TYPE         the attention and FFN matrices as i2_s (default: 2 bits\n"
	"                          a weight, trit's packer), f32 or f16; norms are F32,\n"
	"                          embeddings stay as stored\n"
	"  -n, --name NAME         general.name (default: the source's, or the directory name)\n"
	"      --chat-template F   tokenizer.chat_template from file F (default: the\n"
	"                          source's, or tokenizer_config.json's)\n"
	"      --ternarize         as i2_s, apply BitNet's absmean rule to a matrix that is\n"
	"                          not already ternary x one scale (default: refuse it)\n"
	"      --json              print a JSON summary of what was written\n"
	"  -q, --quiet             no progress on standard error\n"
	"\n"
	"Details: docs/convert.md.\n";

#define MAX_TEMPLATE (1u << 20)

static int parse_type(const char *s, int *type)
{
	if (strcmp(s, "i2_s") == 0 || strcmp(s, "I2_S") == 0)
		*type = TRIT_CONVERT_I2_S;
	else if (strcmp(s, "f32") == 0 || strcmp(s, "F32") == 0)
		*type = TRIT_CONVERT_F32;
	else if (strcmp(s, "f16") == 0 || strcmp(s, "F16") == 0)
		*type = TRIT_CONVERT_F16;
	else
		return cli_usage_error("convert", "--type: expected i2_s, f32 or f16, got '%s'", s);
	return 0;
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void print_result(const struct trit_convert_options *o,
                         const struct trit_convert_result *r, int json)
{
	static const char *const types[] = { "I2_S", "F32", "F16" };

	if (!json) {
		printf("%s: %" PRIu64 " tensors (%" PRIu64 " re-encoded, matrices as %s), %" PRIu64
		       " metadata pairs, %" PRIu64 " bytes\n", o->out, r->n_tensors, r->n_converted,
		       types[o->type], r->n_kv, r->bytes);
		return;
	}
	printf("{\"output\": ");
	json_string(o->out);
	printf(", \"source\": ");
	json_string(o->src);
	printf(", \"type\": \"%s\", \"file_type\": %" PRIu32 ", \"tensors\": %" PRIu64
	       ", \"converted\": %" PRIu64 ", \"metadata\": %" PRIu64 ", \"bytes\": %" PRIu64 "}\n",
	       types[o->type], r->file_type, r->n_tensors, r->n_converted, r->n_kv, r->bytes);
}

static int parse_options(int argc, char **argv, struct trit_convert_options *o,
                         const char **tmpl_file, int *json, int *quiet)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' }, { "type", required_argument, NULL, 't' },
		{ "name", required_argument, NULL, 'n' }, { "chat-template", required_argument, NULL, 'C' },
		{ "ternarize", no_argument, NULL, 'T' }, { "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c, rc;

	optind = 0; /* 0, not 1: glibc then also resets argument permutation */
	while ((c = getopt_long(argc, argv, "o:t:n:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'o': o->out = optarg; break;
		case 't': if ((rc = parse_type(optarg, &o->type))) return rc; break;
		case 'n': o->name = optarg; break;
		case 'C': *tmpl_file = optarg; break;
		case 'T': o->ternarize = 1; break;
		case 'j': *json = 1; break;
		case 'q': *quiet = 1; break;
		case 'h': fputs(cli_usage_convert, stdout); return -1;
		default: return cli_usage_error("convert", "bad option");
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("convert", "convert takes exactly one SRC (got %d)",
		                       argc - optind);
	if (!o->out)
		return cli_usage_error("convert", "-o OUT.gguf is required");
	o->src = argv[optind];
	return 0;
}

int cmd_convert(struct cli *cli, int argc, char **argv)
{
	struct trit_convert_options o = { 0 };
	struct trit_convert_result r;
	const char *tmpl_file = NULL;
	char *tmpl = NULL, err[1024];
	int json = 0, quiet = 0, rc;

	if ((rc = parse_options(argc, argv, &o, &tmpl_file, &json, &quiet)))
		return rc < 0 ? EXIT_OK : rc;
	if ((rc = cli_load_config(cli)))
		return rc;
	if (tmpl_file && !(tmpl = cli_read_input(tmpl_file, MAX_TEMPLATE, NULL)))
		return EXIT_FAIL;
	o.chat_template = tmpl;
	o.progress = quiet || cli->quiet ? NULL : stderr;
	rc = trit_convert(&o, &r, err, sizeof err);
	free(tmpl);
	if (rc) {
		fprintf(stderr, "trit: %s\n", err);
		return EXIT_FAIL;
	}
	if (!quiet || json)
		print_result(&o, &r, json);
	return EXIT_OK;
}
