/*
 * chat.h - turning a conversation into the prompt text a chat model was
 * trained on, for `trit run --chat`. The model's own GGUF
 * `tokenizer.chat_template` (Jinja) is not run: trit recognises the
 * templates it knows by markers in that text and writes their format itself.
 * Tokenizing the result is left to the tokenizer.
 *
 * The text written never starts with the BOS token: the tokenizer adds it
 * (tokenizer.ggml.add_bos_token), as llama.cpp does. Special tokens inside
 * (<|eot_id|>, <s> between Llama 2 turns, ...) are plain text here; the
 * tokenizer must parse them as special tokens. Message contents are copied
 * as they are, so a user's text that spells a special token would be read as
 * one if the whole prompt is tokenized with special-token parsing.
 */
#ifndef TRIT_TEXT_CHAT_H
#define TRIT_TEXT_CHAT_H

#include <stddef.h>

enum trit_chat_role {
	TRIT_CHAT_SYSTEM,
	TRIT_CHAT_USER,
	TRIT_CHAT_ASSISTANT,
};

struct trit_chat_msg {
	enum trit_chat_role role;
	const char *content; /* NUL-terminated, not NULL */
};

/* The templates trit formats; names as llama.cpp spells them. */
enum trit_chat_template {
	TRIT_CHAT_LLAMA3,  /* "llama3":  Llama 3 Instruct <|start_header_id|> */
	TRIT_CHAT_BITNET,  /* "bitnet":  BitNet b1.58 2B4T "User: ...<|eot_id|>" */
	TRIT_CHAT_FALCON3, /* "falcon3": Falcon3 Instruct <|user|> */
	TRIT_CHAT_CHATML,  /* "chatml":  <|im_start|> ... <|im_end|> */
	TRIT_CHAT_LLAMA2,  /* "llama2":  Llama 2 chat [INST] <<SYS>> */
	TRIT_CHAT_N_TEMPLATES
};

/* The texts of the model's BOS and EOS tokens, for the templates that write
 * them between turns (llama2: both; falcon3: EOS after an assistant turn).
 * A NULL struct or field means the template's own model's: "<s>" / "</s>"
 * for Llama 2, "<|endoftext|>" for Falcon3. */
struct trit_chat_tokens {
	const char *bos;
	const char *eos;
};

/* "llama3", ...; NULL for a value out of range. */
const char *trit_chat_template_name(enum trit_chat_template t);

/* "llama3, bitnet, falcon3, chatml, llama2": for messages and --help. */
const char *trit_chat_template_list(void);

/* The template called `name`. TRIT_EINVAL, naming the known ones, when
 * there is none. */
int trit_chat_template_from_name(const char *name, enum trit_chat_template *out,
                                 char *err, size_t errlen);

/* The template of a model's tokenizer.chat_template text (which may also be
 * just a template's name, as llama.cpp allows). NULL or "" (the model has
 * none) and a text trit does not recognise are TRIT_EUNSUPPORTED, with a
 * sentence that says which and names the templates that can be forced. */
int trit_chat_detect(const char *model_template, enum trit_chat_template *out,
                     char *err, size_t errlen);

/*
 * Write the conversation msgs[0 .. n-1] into *out (a new NUL-terminated
 * string, the caller frees it), in the template called `template_name`, or,
 * when that is NULL, the one trit_chat_detect finds in `model_template`;
 * `tokens` may be NULL (see struct trit_chat_tokens).
 * With add_assistant_prefix the text ends with the opening of an assistant
 * turn, for the model to write it (Llama 2's format has none: its prompt
 * ends with " [/INST]" anyway).
 *
 * TRIT_EINVAL: no messages, a NULL content or an unknown role; or, for
 * llama2, a system message that is not the first or turns that do not
 * alternate user/assistant starting with user (its template refuses those
 * too). TRIT_EUNSUPPORTED: as trit_chat_detect. TRIT_ENOMEM.
 */
int trit_chat_format(const char *template_name, const char *model_template,
                     const struct trit_chat_tokens *tokens, const struct trit_chat_msg *msgs,
                     size_t n, int add_assistant_prefix, char **out, char *err, size_t errlen);

#endif
