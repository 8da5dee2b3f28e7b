/*
 * chat.c - the chat prompt formats declared in text/chat.h: recognising a
 * model's tokenizer.chat_template by markers and writing each known format.
 *
 * Each format below is what the model's own Jinja template renders (with
 * add_generation_prompt for the assistant prefix and without the leading
 * BOS), read from these sources:
 *   llama3  meta-llama/Meta-Llama-3-8B-Instruct tokenizer_config.json
 *           chat_template (as quoted in llama.cpp tests/test-chat-template.cpp,
 *           "Llama-3"): '<|start_header_id|>' + role + '<|end_header_id|>\n\n'
 *           + content | trim + '<|eot_id|>'.
 *   bitnet  microsoft/bitnet-b1.58-2B-4T tokenizer_config.json chat_template:
 *           role | capitalize + ': ' + content | trim + '<|eot_id|>', then
 *           'Assistant: '; the same as bitnet.cpp gpu/tokenizer.py ChatFormat
 *           ("System: ", "User: ", "Assistant: ", content.strip(), <|eot_id|>).
 *   falcon3 tiiuae/Falcon3-*-Instruct tokenizer_config.json chat_template
 *           (its branch without tools): '<|system|>\n' / '<|user|>\n' +
 *           content + '\n'; '<|assistant|>\n' + content + eos_token, + '\n'
 *           unless it is the last message; then '<|assistant|>\n'. Its
 *           eos_token is "<|endoftext|>" (token 11 of the Falcon tokenizer).
 *   chatml  teknium/OpenHermes-2.5-Mistral-7B chat_template (llama.cpp
 *           tests/test-chat-template.cpp): '<|im_start|>' + role + '\n' +
 *           content + '<|im_end|>' + '\n', then '<|im_start|>assistant\n'.
 *   llama2  meta-llama/Llama-2-7b-chat-hf chat_template: an optional first
 *           system message goes into the first user turn as
 *           '<<SYS>>\n' + system + '\n<</SYS>>\n\n' + content; user turns are
 *           bos_token + '[INST] ' + content.strip() + ' [/INST]', assistant
 *           turns ' ' + content.strip() + ' ' + eos_token; roles must
 *           alternate user/assistant.
 * Jinja's trim and Python's strip() remove Unicode whitespace (str.isspace);
 * strip_ws() below does the same for UTF-8 text.
 *
 * Detection is by markers, in the spirit of llama.cpp's
 * llm_chat_detect_template (src/llama-chat.cpp), so near relatives map to
 * the same format: Llama 3.1 - 3.3 templates are detected as llama3 and get
 * its plain turns, without the "Cutting Knowledge Date" lines and tool
 * preamble their Jinja adds to the system turn.
 */
#include <build-config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "text/chat.h"

static const char *const names[TRIT_CHAT_N_TEMPLATES] = {
	[TRIT_CHAT_LLAMA3] = "llama3",
	[TRIT_CHAT_BITNET] = "bitnet",
	[TRIT_CHAT_FALCON3] = "falcon3",
	[TRIT_CHAT_CHATML] = "chatml",
	[TRIT_CHAT_LLAMA2] = "llama2",
};

const char *trit_chat_template_name(enum trit_chat_template t)
{
	return (unsigned)t < TRIT_CHAT_N_TEMPLATES ? names[t] : NULL;
}

const char *trit_chat_template_list(void)
{
	return "llama3, bitnet, falcon3, chatml, llama2";
}

int trit_chat_template_from_name(const char *name, enum trit_chat_template *out,
                                 char *err, size_t errlen)
{
	for (int i = 0; name && i < TRIT_CHAT_N_TEMPLATES; i++) {
		if (strcmp(name, names[i]) == 0) {
			*out = (enum trit_chat_template)i;
			return 0;
		}
	}
	return trit_errf(err, errlen, TRIT_EINVAL,
	                 "chat: no chat template is called \"%.40s\"; trit knows %s",
	                 name ? name : "(null)", trit_chat_template_list());
}

/* ------------------------------------------------------------ detection */

static int has(const char *text, const char *marker)
{
	return strstr(text, marker) != NULL;
}

/* The template's markers, as they appear in the Jinja source (a \n inside a
 * Jinja string is the two characters backslash and n). */
static int detect_markers(const char *t, enum trit_chat_template *out)
{
	if (has(t, "<|im_start|>") && has(t, "<|im_end|>") && !has(t, "<|im_sep|>"))
		*out = TRIT_CHAT_CHATML; /* <|im_sep|> would be Phi-4, not ChatML */
	else if (has(t, "<|start_header_id|>") && has(t, "<|end_header_id|>"))
		*out = TRIT_CHAT_LLAMA3;
	else if (has(t, "message['role'] | capitalize") && has(t, "<|eot_id|>"))
		*out = TRIT_CHAT_BITNET;
	else if (has(t, "<|user|>") && has(t, "<|assistant|>") &&
	         has(t, "message['content'] + '\\n'"))
		*out = TRIT_CHAT_FALCON3; /* Zephyr, Phi-3 and GLM end turns otherwise */
	else if (has(t, "[INST]") && has(t, "<<SYS>>") && !has(t, "[SYSTEM_PROMPT]") &&
	         !has(t, "[AVAILABLE_TOOLS]"))
		*out = TRIT_CHAT_LLAMA2; /* the others with [INST] are Mistral's */
	else
		return -1;
	return 0;
}

/* The first bytes of t, printable ASCII only, for an error message. */
static void excerpt(const char *t, char *buf, size_t len)
{
	size_t i = 0;

	for (; t[i] && i + 1 < len && i < 48; i++)
		buf[i] = (t[i] >= 0x20 && t[i] < 0x7f) ? t[i] : '?';
	buf[i] = '\0';
}

int trit_chat_detect(const char *model_template, enum trit_chat_template *out,
                     char *err, size_t errlen)
{
	char head[64];

	if (!model_template || !*model_template)
		return trit_errf(err, errlen, TRIT_EUNSUPPORTED,
		                 "chat: the model has no tokenizer.chat_template, so trit cannot tell "
		                 "its chat format; name one with --chat-template (trit knows %s)",
		                 trit_chat_template_list());
	for (int i = 0; i < TRIT_CHAT_N_TEMPLATES; i++) {
		if (strcmp(model_template, names[i]) == 0) {
			*out = (enum trit_chat_template)i;
			return 0;
		}
	}
	if (detect_markers(model_template, out) == 0)
		return 0;
	excerpt(model_template, head, sizeof head);
	return trit_errf(err, errlen, TRIT_EUNSUPPORTED,
	                 "chat: the model's tokenizer.chat_template (\"%s...\") is none of the "
	                 "templates trit knows (%s); if the model uses one of them, name it "
	                 "with --chat-template", head, trit_chat_template_list());
}

/* --------------------------------------------------------------- output */

struct buf {
	char *p;
	size_t len, cap;
	int oom;
};

static void put_n(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (n > SIZE_MAX - 1 - b->len) {
		b->oom = 1;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->len + n + 1)
			cap = cap > SIZE_MAX / 2 ? b->len + n + 1 : cap * 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void put(struct buf *b, const char *s)
{
	put_n(b, s, strlen(s));
}

/* Python's str.isspace() code points, as UTF-8: the byte length of the one
 * starting at s[0] (0 if none). */
static size_t ws_at(const unsigned char *s, size_t n)
{
	uint32_t c;
	size_t len;

	if (n == 0)
		return 0;
	if (s[0] < 0x80)
		return ((s[0] >= 0x09 && s[0] <= 0x0d) || (s[0] >= 0x1c && s[0] <= 0x20)) ? 1 : 0;
	if ((s[0] & 0xe0) == 0xc0 && n >= 2 && (s[1] & 0xc0) == 0x80) {
		c = ((uint32_t)(s[0] & 0x1f) << 6) | (s[1] & 0x3f);
		len = 2;
	} else if ((s[0] & 0xf0) == 0xe0 && n >= 3 && (s[1] & 0xc0) == 0x80 &&
	           (s[2] & 0xc0) == 0x80) {
		c = ((uint32_t)(s[0] & 0x0f) << 12) | ((uint32_t)(s[1] & 0x3f) << 6) | (s[2] & 0x3f);
		len = 3;
	} else {
		return 0;
	}
	if (c == 0x85 || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
	    c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000)
		return len;
	return 0;
}

/* The whitespace character ending s[0 .. n-1]: its byte length (0 if none). */
static size_t ws_before(const unsigned char *s, size_t n)
{
	for (size_t len = 1; len <= 3 && len <= n; len++)
		if (ws_at(s + n - len, len) == len)
			return len;
	return 0;
}

/* s stripped of leading and trailing whitespace: *start and the length. */
static size_t strip_ws(const char *s, size_t n, const char **start)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t w;

	while ((w = ws_at(u, n)) != 0) {
		u += w;
		n -= w;
	}
	while ((w = ws_before(u, n)) != 0)
		n -= w;
	*start = (const char *)u;
	return n;
}

static void put_stripped(struct buf *b, const char *s)
{
	const char *start;
	size_t n = strip_ws(s, strlen(s), &start);

	put_n(b, start, n);
}

static const char *role_name(enum trit_chat_role r)
{
	return r == TRIT_CHAT_SYSTEM ? "system" : r == TRIT_CHAT_USER ? "user" : "assistant";
}

/* --------------------------------------------------------------- formats */

static void fmt_llama3(struct buf *b, const struct trit_chat_msg *m, size_t n, int add)
{
	for (size_t i = 0; i < n; i++) {
		put(b, "<|start_header_id|>");
		put(b, role_name(m[i].role));
		put(b, "<|end_header_id|>\n\n");
		put_stripped(b, m[i].content);
		put(b, "<|eot_id|>");
	}
	if (add)
		put(b, "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

static void fmt_bitnet(struct buf *b, const struct trit_chat_msg *m, size_t n, int add)
{
	static const char *const head[] = { "System: ", "User: ", "Assistant: " };

	for (size_t i = 0; i < n; i++) {
		put(b, head[m[i].role]);
		put_stripped(b, m[i].content);
		put(b, "<|eot_id|>");
	}
	if (add)
		put(b, "Assistant: ");
}

static void fmt_falcon3(struct buf *b, const struct trit_chat_msg *m, size_t n, int add,
                        const char *eos)
{
	for (size_t i = 0; i < n; i++) {
		put(b, "<|");
		put(b, role_name(m[i].role));
		put(b, "|>\n");
		put(b, m[i].content);
		if (m[i].role != TRIT_CHAT_ASSISTANT) {
			put(b, "\n");
			continue;
		}
		put(b, eos);
		if (i + 1 < n)
			put(b, "\n");
	}
	if (add)
		put(b, "<|assistant|>\n");
}

static void fmt_chatml(struct buf *b, const struct trit_chat_msg *m, size_t n, int add)
{
	for (size_t i = 0; i < n; i++) {
		put(b, "<|im_start|>");
		put(b, role_name(m[i].role));
		put(b, "\n");
		put(b, m[i].content);
		put(b, "<|im_end|>\n");
	}
	if (add)
		put(b, "<|im_start|>assistant\n");
}

static int llama2_check(const struct trit_chat_msg *m, size_t n, char *err, size_t errlen)
{
	size_t first = (n > 0 && m[0].role == TRIT_CHAT_SYSTEM) ? 1 : 0;

	if (first == n)
		return trit_errf(err, errlen, TRIT_EINVAL,
		                 "chat: the llama2 format needs a user message after the system one");
	for (size_t i = first; i < n; i++) {
		enum trit_chat_role want = (i - first) % 2 == 0 ? TRIT_CHAT_USER : TRIT_CHAT_ASSISTANT;

		if (m[i].role != want)
			return trit_errf(err, errlen, TRIT_EINVAL,
			                 "chat: message %zu is a %s message; the llama2 format takes an "
			                 "optional first system message, then user and assistant turns "
			                 "in turn, starting with user", i, role_name(m[i].role));
	}
	return 0;
}

/* The first user turn carries the system message; its bos is the caller's. */
static void fmt_llama2(struct buf *b, const struct trit_chat_msg *m, size_t n,
                       const char *bos, const char *eos)
{
	size_t first = m[0].role == TRIT_CHAT_SYSTEM ? 1 : 0;
	struct buf turn = { 0 };

	for (size_t i = first; i < n; i++) {
		turn.len = 0;
		if (i == 1 && first == 1) {
			put(&turn, "<<SYS>>\n");
			put(&turn, m[0].content);
			put(&turn, "\n<</SYS>>\n\n");
		}
		put(&turn, m[i].content);
		if (turn.oom) {
			b->oom = 1;
			break;
		}
		if (m[i].role == TRIT_CHAT_USER) {
			if (i > first)
				put(b, bos);
			put(b, "[INST] ");
			put_stripped(b, turn.p);
			put(b, " [/INST]");
		} else {
			put(b, " ");
			put_stripped(b, turn.p);
			put(b, " ");
			put(b, eos);
		}
	}
	free(turn.p);
}

static int check_msgs(const struct trit_chat_msg *m, size_t n, char *err, size_t errlen)
{
	if (!m || n == 0)
		return trit_errf(err, errlen, TRIT_EINVAL, "chat: the conversation has no messages");
	for (size_t i = 0; i < n; i++) {
		if ((unsigned)m[i].role > TRIT_CHAT_ASSISTANT)
			return trit_errf(err, errlen, TRIT_EINVAL,
			                 "chat: message %zu has role %d; the roles are system, user and assistant",
			                 i, (int)m[i].role);
		if (!m[i].content)
			return trit_errf(err, errlen, TRIT_EINVAL, "chat: message %zu has no content", i);
	}
	return 0;
}

int trit_chat_format(const char *template_name, const char *model_template,
                     const struct trit_chat_tokens *tokens, const struct trit_chat_msg *msgs,
                     size_t n, int add_assistant_prefix, char **out, char *err, size_t errlen)
{
	enum trit_chat_template t;
	const char *bos = tokens && tokens->bos ? tokens->bos : "<s>";
	const char *eos = tokens && tokens->eos ? tokens->eos : NULL;
	struct buf b = { 0 };
	int rc;

	*out = NULL;
	rc = template_name ? trit_chat_template_from_name(template_name, &t, err, errlen)
	                   : trit_chat_detect(model_template, &t, err, errlen);
	if (rc == 0)
		rc = check_msgs(msgs, n, err, errlen);
	if (rc == 0 && t == TRIT_CHAT_LLAMA2)
		rc = llama2_check(msgs, n, err, errlen);
	if (rc != 0)
		return rc;
	switch (t) {
	case TRIT_CHAT_LLAMA3: fmt_llama3(&b, msgs, n, add_assistant_prefix); break;
	case TRIT_CHAT_BITNET: fmt_bitnet(&b, msgs, n, add_assistant_prefix); break;
	case TRIT_CHAT_FALCON3:
		fmt_falcon3(&b, msgs, n, add_assistant_prefix, eos ? eos : "<|endoftext|>");
		break;
	case TRIT_CHAT_CHATML: fmt_chatml(&b, msgs, n, add_assistant_prefix); break;
	case TRIT_CHAT_LLAMA2: fmt_llama2(&b, msgs, n, bos, eos ? eos : "</s>"); break;
	default: return trit_errf(err, errlen, TRIT_EINTERNAL, "chat: template %d has no format", (int)t);
	}
	if (b.oom || !b.p) {
		free(b.p);
		return trit_errf(err, errlen, TRIT_ENOMEM, "chat: out of memory writing the prompt");
	}
	*out = b.p;
	return 0;
}
