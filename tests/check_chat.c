/*
 * check_chat.c - the specification of the chat prompt formats
 * (runtime/text/chat.c): each template's exact text for a conversation,
 * detection from the models' real tokenizer.chat_template texts, and the
 * errors for missing, unknown and malformed input.
 *
 * The template texts below are the models' own (tokenizer_config.json
 * "chat_template", JSON-decoded, as a GGUF's tokenizer.chat_template holds
 * them), taken from:
 *   llama3  meta-llama/Meta-Llama-3-8B-Instruct, as quoted in llama.cpp
 *           tests/test-chat-template.cpp ("Llama-3", with its
 *           add_generation_prompt condition as in the model's file)
 *   bitnet  microsoft/bitnet-b1.58-2B-4T tokenizer_config.json
 *   falcon3 tiiuae/Falcon3-7B-Instruct tokenizer_config.json (as listed in
 *           optimum-intel's tests, "falcon3-7b-instruct")
 *   chatml  teknium/OpenHermes-2.5-Mistral-7B (llama.cpp's test file)
 *   llama2  meta-llama/Llama-2-7b-chat-hf tokenizer_config.json
 * and the ones trit must not take for them from llama.cpp's test file
 * (Phi-3-small, Mistral-7B-Instruct-v0.2, phi-4, gemma-7b-it, GLMEdge),
 * Zephyr's and the placeholder bitnet.cpp's converter writes
 * (utils/convert-ms-to-gguf-bitnet.py).
 */
#include <build-config.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <trit/backend.h>

#include "support/support.h"
#include "text/chat.h"

static const char tmpl_llama3[] =
	"{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n"
	"\n"
	"'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n"
	"\n"
	"' }}{% endif %}";

static const char tmpl_bitnet[] =
	"{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = message['role'] | capitalize + ': '+ message['content'] | trim + '<|eot_id|>' %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ 'Assistant: ' }}{% endif %}";

static const char tmpl_falcon3[] =
	"{%- if tools %}\n"
	"{{- '<|system|>\\n' }}\n"
	"{%- if messages[0]['role'] == 'system' %}\n"
	"{{- messages[0]['content'] }}\n"
	"{%- set remaining_messages = messages[1:] %}\n"
	"{%- else %}\n"
	"{%- set remaining_messages = messages %}\n"
	"{%- endif %}\n"
	"{{- 'You are a Falcon assistant skilled in function calling. You are helpful, respectful, and concise.\\n\\n# Tools\\n\\nYou have access to the following functions. You MUST use them to answer questions when needed. For each function call, you MUST return a JSON object inside <tool_call></tool_call> tags.\\n\\n<tools>' + tools|tojson(indent=2) + '</tools>\\n\\n# Output Format\\n\\nYour response MUST follow this format when making function calls:\\n<tool_call>\\n[\\n  {\"name\": \"function_name\", \"arguments\": {\"arg1\": \"value1\", \"arg2\": \"value2\"}},\\n  {\"name\": \"another_function\", \"arguments\": {\"arg\": \"value\"}}\\n]\\n</tool_call>\\nIf no function calls are needed, respond normally without the tool_call tags.\\n' }}\n"
	"{%- for message in remaining_messages %}\n"
	"{%- if message['role'] == 'user' %}\n"
	"{{- '<|user|>\\n' + message['content'] + '\\n' }}\n"
	"{%- elif message['role'] == 'assistant' %}\n"
	"{%- if message.content %}\n"
	"{{- '<|assistant|>\\n' + message['content'] }}\n"
	"{%- endif %}\n"
	"{%- if message.tool_calls %}\n"
	"{{- '\\n<tool_call>\\n' }}\n"
	"{{- message.tool_calls|tojson(indent=2) }}\n"
	"{{- '\\n</tool_call>' }}\n"
	"{%- endif %}\n"
	"{{- eos_token + '\\n' }}\n"
	"{%- elif message['role'] == 'tool' %}\n"
	"{{- '<|assistant|>\\n<tool_response>\\n' + message['content'] + '\\n</tool_response>\\n' }}\n"
	"{%- endif %}\n"
	"{%- endfor %}\n"
	"{{- '<|assistant|>\\n' if add_generation_prompt }}\n"
	"{%- else %}\n"
	"{%- for message in messages %}\n"
	"{%- if message['role'] == 'system' %}\n"
	"{{- '<|system|>\\n' + message['content'] + '\\n' }}\n"
	"{%- elif message['role'] == 'user' %}\n"
	"{{- '<|user|>\\n' + message['content'] + '\\n' }}\n"
	"{%- elif message['role'] == 'assistant' %}\n"
	"{%- if not loop.last %}\n"
	"{{- '<|assistant|>\\n' + message['content'] + eos_token + '\\n' }}\n"
	"{%- else %}\n"
	"{{- '<|assistant|>\\n' + message['content'] + eos_token }}\n"
	"{%- endif %}\n"
	"{%- endif %}\n"
	"{%- if loop.last and add_generation_prompt %}\n"
	"{{- '<|assistant|>\\n' }}\n"
	"{%- endif %}\n"
	"{%- endfor %}\n"
	"{%- endif %}";

static const char tmpl_chatml[] =
	"{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

static const char tmpl_llama2[] =
	"{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";
static const char tmpl_phi3[] =
	"{{ bos_token }}{% for message in messages %}{{'<|' + message['role'] + '|>' + '\n' "
	"+ message['content'] + '<|end|>\n' }}{% endfor %}{% if add_generation_prompt %}"
	"{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %}";
static const char tmpl_zephyr[] =
	"{% for message in messages %}{% if message['role'] == 'user' %}{{ '<|user|>\\n' + "
	"message['content'] + eos_token + '\\n' }}{% elif message['role'] == 'assistant' %}"
	"{{ '<|assistant|>\\n' + message['content'] + eos_token + '\\n' }}{% else %}"
	"{{ '<|system|>\\n' + message['content'] + eos_token + '\\n' }}{% endif %}{% endfor %}"
	"{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}";
static const char tmpl_mistral[] =
	"{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != "
	"(loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate "
	"user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}"
	"{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == "
	"'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only "
	"user and assistant roles are supported!') }}{% endif %}{% endfor %}";
static const char tmpl_phi4[] =
	"{% for message in messages %}{% if (message['role'] == 'system') %}"
	"{{'<|im_start|>system<|im_sep|>' + message['content'] + '<|im_end|>'}}{% elif "
	"(message['role'] == 'user') %}{{'<|im_start|>user<|im_sep|>' + message['content'] + "
	"'<|im_end|><|im_start|>assistant<|im_sep|>'}}{% elif (message['role'] == 'assistant') "
	"%}{{message['content'] + '<|im_end|>'}}{% endif %}{% endfor %}";
static const char tmpl_gemma[] =
	"{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not "
	"supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == "
	"'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must "
	"alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == "
	"'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}"
	"{% endif %}{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + "
	"'<end_of_turn>\\n' }}{% endfor %}{% if add_generation_prompt %}"
	"{{'<start_of_turn>model\\n'}}{% endif %}";
static const char tmpl_glmedge[] =
	"{% for item in messages %}{% if item['role'] == 'system' %}<|system|>\n"
	"{{ item['content'] }}{% elif item['role'] == 'user' %}<|user|>\n{{ item['content'] }}"
	"{% elif item['role'] == 'assistant' %}<|assistant|>\n{{ item['content'] }}{% endif %}"
	"{% endfor %}<|assistant|>";
static const char tmpl_bitnet_cpp_placeholder[] =
	"{% for message in messages %}{% if loop.first %}{{ bos_token }}{% endif %}{% if "
	"message['role'] == 'user' %}{{ 'Human: ' + message['content'] + '\\n\\nBITNETAssistant: "
	"' + eos_token }}{% elif message['role'] == 'assistant' %}{{ message['content'] + "
	"eos_token }}{% endif %}{% endfor %}";

/* Generated from the template texts above by Python jinja2 3.1.6
 * (bos_token/eos_token as in each model's tokenizer_config; the leading
 * BOS removed, see text/chat.h). */
static const struct trit_chat_msg conv_conv[] = {
	{ TRIT_CHAT_SYSTEM, "You are a helpful assistant" },
	{ TRIT_CHAT_USER, "Hello" },
	{ TRIT_CHAT_ASSISTANT, "   Hi there   " },
	{ TRIT_CHAT_USER, "Who are you" },
};
static const struct trit_chat_msg conv_ws[] = {
	{ TRIT_CHAT_SYSTEM, "\343\200\200\011 sys \302\240" },
	{ TRIT_CHAT_USER, " \034\342\200\203U1\342\200\250 " },
	{ TRIT_CHAT_ASSISTANT, "\n A1 \302\205" },
	{ TRIT_CHAT_USER, "\015\nU2\343\200\200x\343\200\200" },
};
static const struct trit_chat_msg conv_nosys[] = {
	{ TRIT_CHAT_USER, "Hello" },
	{ TRIT_CHAT_ASSISTANT, "Hi" },
	{ TRIT_CHAT_USER, "Again" },
};
static const struct trit_chat_msg conv_endasst[] = {
	{ TRIT_CHAT_USER, "Hi" },
	{ TRIT_CHAT_ASSISTANT, " Hello! " },
};

static const struct rendered {
	const char *name;
	const struct trit_chat_msg *msgs;
	size_t n;
	int add;
	const char *text;
} rendered[] = {
	{ "llama3", conv_conv, 4, 1,
	  "<|start_header_id|>system<|end_header_id|>\n"
	  "\n"
	  "You are a helpful assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
	  "\n"
	  "Hello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
	  "\n"
	  "Hi there<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
	  "\n"
	  "Who are you<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
	  "\n" },
	{ "llama3", conv_conv, 4, 0,
	  "<|start_header_id|>system<|end_header_id|>\n"
	  "\n"
	  "You are a helpful assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
	  "\n"
	  "Hello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
	  "\n"
	  "Hi there<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
	  "\n"
	  "Who are you<|eot_id|>" },
	{ "bitnet", conv_conv, 4, 1,
	  "System: You are a helpful assistant<|eot_id|>User: Hello<|eot_id|>Assistant: Hi there<|eot_id|>User: Who are you<|eot_id|>Assistant: " },
	{ "bitnet", conv_conv, 4, 0,
	  "System: You are a helpful assistant<|eot_id|>User: Hello<|eot_id|>Assistant: Hi there<|eot_id|>User: Who are you<|eot_id|>" },
	{ "falcon3", conv_conv, 4, 1,
	  "<|system|>\n"
	  "You are a helpful assistant\n"
	  "<|user|>\n"
	  "Hello\n"
	  "<|assistant|>\n"
	  "   Hi there   <|endoftext|>\n"
	  "<|user|>\n"
	  "Who are you\n"
	  "<|assistant|>\n" },
	{ "falcon3", conv_conv, 4, 0,
	  "<|system|>\n"
	  "You are a helpful assistant\n"
	  "<|user|>\n"
	  "Hello\n"
	  "<|assistant|>\n"
	  "   Hi there   <|endoftext|>\n"
	  "<|user|>\n"
	  "Who are you\n" },
	{ "chatml", conv_conv, 4, 1,
	  "<|im_start|>system\n"
	  "You are a helpful assistant<|im_end|>\n"
	  "<|im_start|>user\n"
	  "Hello<|im_end|>\n"
	  "<|im_start|>assistant\n"
	  "   Hi there   <|im_end|>\n"
	  "<|im_start|>user\n"
	  "Who are you<|im_end|>\n"
	  "<|im_start|>assistant\n" },
	{ "chatml", conv_conv, 4, 0,
	  "<|im_start|>system\n"
	  "You are a helpful assistant<|im_end|>\n"
	  "<|im_start|>user\n"
	  "Hello<|im_end|>\n"
	  "<|im_start|>assistant\n"
	  "   Hi there   <|im_end|>\n"
	  "<|im_start|>user\n"
	  "Who are you<|im_end|>\n" },
	{ "llama2", conv_conv, 4, 1,
	  "[INST] <<SYS>>\n"
	  "You are a helpful assistant\n"
	  "<</SYS>>\n"
	  "\n"
	  "Hello [/INST] Hi there </s><s>[INST] Who are you [/INST]" },
	{ "llama2", conv_conv, 4, 0,
	  "[INST] <<SYS>>\n"
	  "You are a helpful assistant\n"
	  "<</SYS>>\n"
	  "\n"
	  "Hello [/INST] Hi there </s><s>[INST] Who are you [/INST]" },
	{ "llama3", conv_ws, 4, 1,
	  "<|start_header_id|>system<|end_header_id|>\n"
	  "\n"
	  "sys<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
	  "\n"
	  "U1<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
	  "\n"
	  "A1<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
	  "\n"
	  "U2\343\200\200x<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
	  "\n" },
	{ "llama3", conv_ws, 4, 0,
	  "<|start_header_id|>system<|end_header_id|>\n"
	  "\n"
	  "sys<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
	  "\n"
	  "U1<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
	  "\n"
	  "A1<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
	  "\n"
	  "U2\343\200\200x<|eot_id|>" },
	{ "bitnet", conv_ws, 4, 1,
	  "System: sys<|eot_id|>User: U1<|eot_id|>Assistant: A1<|eot_id|>User: U2\343\200\200x<|eot_id|>Assistant: " },
	{ "bitnet", conv_ws, 4, 0,
	  "System: sys<|eot_id|>User: U1<|eot_id|>Assistant: A1<|eot_id|>User: U2\343\200\200x<|eot_id|>" },
	{ "falcon3", conv_ws, 4, 1,
	  "<|system|>\n"
	  "\343\200\200\011 sys \302\240\n"
	  "<|user|>\n"
	  " \034\342\200\203U1\342\200\250 \n"
	  "<|assistant|>\n"
	  "\n"
	  " A1 \302\205<|endoftext|>\n"
	  "<|user|>\n"
	  "\015\n"
	  "U2\343\200\200x\343\200\200\n"
	  "<|assistant|>\n" },
	{ "falcon3", conv_ws, 4, 0,
	  "<|system|>\n"
	  "\343\200\200\011 sys \302\240\n"
	  "<|user|>\n"
	  " \034\342\200\203U1\342\200\250 \n"
	  "<|assistant|>\n"
	  "\n"
	  " A1 \302\205<|endoftext|>\n"
	  "<|user|>\n"
	  "\015\n"
	  "U2\343\200\200x\343\200\200\n" },
	{ "chatml", conv_ws, 4, 1,
	  "<|im_start|>system\n"
	  "\343\200\200\011 sys \302\240<|im_end|>\n"
	  "<|im_start|>user\n"
	  " \034\342\200\203U1\342\200\250 <|im_end|>\n"
	  "<|im_start|>assistant\n"
	  "\n"
	  " A1 \302\205<|im_end|>\n"
	  "<|im_start|>user\n"
	  "\015\n"
	  "U2\343\200\200x\343\200\200<|im_end|>\n"
	  "<|im_start|>assistant\n" },
	{ "chatml", conv_ws, 4, 0,
	  "<|im_start|>system\n"
	  "\343\200\200\011 sys \302\240<|im_end|>\n"
	  "<|im_start|>user\n"
	  " \034\342\200\203U1\342\200\250 <|im_end|>\n"
	  "<|im_start|>assistant\n"
	  "\n"
	  " A1 \302\205<|im_end|>\n"
	  "<|im_start|>user\n"
	  "\015\n"
	  "U2\343\200\200x\343\200\200<|im_end|>\n" },
	{ "llama2", conv_ws, 4, 1,
	  "[INST] <<SYS>>\n"
	  "\343\200\200\011 sys \302\240\n"
	  "<</SYS>>\n"
	  "\n"
	  " \034\342\200\203U1 [/INST] A1 </s><s>[INST] U2\343\200\200x [/INST]" },
	{ "llama2", conv_ws, 4, 0,
	  "[INST] <<SYS>>\n"
	  "\343\200\200\011 sys \302\240\n"
	  "<</SYS>>\n"
	  "\n"
	  " \034\342\200\203U1 [/INST] A1 </s><s>[INST] U2\343\200\200x [/INST]" },
	{ "llama3", conv_nosys, 3, 1,
	  "<|start_header_id|>user<|end_header_id|>\n"
	  "\n"
	  "Hello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
	  "\n"
	  "Hi<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
	  "\n"
	  "Again<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
	  "\n" },
	{ "llama3", conv_nosys, 3, 0,
	  "<|start_header_id|>user<|end_header_id|>\n"
	  "\n"
	  "Hello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
	  "\n"
	  "Hi<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
	  "\n"
	  "Again<|eot_id|>" },
	{ "bitnet", conv_nosys, 3, 1,
	  "User: Hello<|eot_id|>Assistant: Hi<|eot_id|>User: Again<|eot_id|>Assistant: " },
	{ "bitnet", conv_nosys, 3, 0,
	  "User: Hello<|eot_id|>Assistant: Hi<|eot_id|>User: Again<|eot_id|>" },
	{ "falcon3", conv_nosys, 3, 1,
	  "<|user|>\n"
	  "Hello\n"
	  "<|assistant|>\n"
	  "Hi<|endoftext|>\n"
	  "<|user|>\n"
	  "Again\n"
	  "<|assistant|>\n" },
	{ "falcon3", conv_nosys, 3, 0,
	  "<|user|>\n"
	  "Hello\n"
	  "<|assistant|>\n"
	  "Hi<|endoftext|>\n"
	  "<|user|>\n"
	  "Again\n" },
	{ "chatml", conv_nosys, 3, 1,
	  "<|im_start|>user\n"
	  "Hello<|im_end|>\n"
	  "<|im_start|>assistant\n"
	  "Hi<|im_end|>\n"
	  "<|im_start|>user\n"
	  "Again<|im_end|>\n"
	  "<|im_start|>assistant\n" },
	{ "chatml", conv_nosys, 3, 0,
	  "<|im_start|>user\n"
	  "Hello<|im_end|>\n"
	  "<|im_start|>assistant\n"
	  "Hi<|im_end|>\n"
	  "<|im_start|>user\n"
	  "Again<|im_end|>\n" },
	{ "llama2", conv_nosys, 3, 1,
	  "[INST] Hello [/INST] Hi </s><s>[INST] Again [/INST]" },
	{ "llama2", conv_nosys, 3, 0,
	  "[INST] Hello [/INST] Hi </s><s>[INST] Again [/INST]" },
	{ "llama3", conv_endasst, 2, 1,
	  "<|start_header_id|>user<|end_header_id|>\n"
	  "\n"
	  "Hi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
	  "\n"
	  "Hello!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
	  "\n" },
	{ "llama3", conv_endasst, 2, 0,
	  "<|start_header_id|>user<|end_header_id|>\n"
	  "\n"
	  "Hi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
	  "\n"
	  "Hello!<|eot_id|>" },
	{ "bitnet", conv_endasst, 2, 1,
	  "User: Hi<|eot_id|>Assistant: Hello!<|eot_id|>Assistant: " },
	{ "bitnet", conv_endasst, 2, 0,
	  "User: Hi<|eot_id|>Assistant: Hello!<|eot_id|>" },
	{ "falcon3", conv_endasst, 2, 1,
	  "<|user|>\n"
	  "Hi\n"
	  "<|assistant|>\n"
	  " Hello! <|endoftext|><|assistant|>\n" },
	{ "falcon3", conv_endasst, 2, 0,
	  "<|user|>\n"
	  "Hi\n"
	  "<|assistant|>\n"
	  " Hello! <|endoftext|>" },
	{ "chatml", conv_endasst, 2, 1,
	  "<|im_start|>user\n"
	  "Hi<|im_end|>\n"
	  "<|im_start|>assistant\n"
	  " Hello! <|im_end|>\n"
	  "<|im_start|>assistant\n" },
	{ "chatml", conv_endasst, 2, 0,
	  "<|im_start|>user\n"
	  "Hi<|im_end|>\n"
	  "<|im_start|>assistant\n"
	  " Hello! <|im_end|>\n" },
	{ "llama2", conv_endasst, 2, 1,
	  "[INST] Hi [/INST] Hello! </s>" },
	{ "llama2", conv_endasst, 2, 0,
	  "[INST] Hi [/INST] Hello! </s>" },
};

static const struct {
	const char *name, *text;
	enum trit_chat_template t;
} real[] = {
	{ "llama3", tmpl_llama3, TRIT_CHAT_LLAMA3 },
	{ "bitnet", tmpl_bitnet, TRIT_CHAT_BITNET },
	{ "falcon3", tmpl_falcon3, TRIT_CHAT_FALCON3 },
	{ "chatml", tmpl_chatml, TRIT_CHAT_CHATML },
	{ "llama2", tmpl_llama2, TRIT_CHAT_LLAMA2 },
};

static const char *real_text(const char *name)
{
	for (size_t i = 0; i < sizeof real / sizeof real[0]; i++)
		if (strcmp(real[i].name, name) == 0)
			return real[i].text;
	ck_abort_msg("no template %s", name);
	return NULL;
}

/* Format and compare; the text on failure shows where it differs. */
static void expect(const char *name, const char *model_template,
                   const struct trit_chat_tokens *tok, const struct trit_chat_msg *m, size_t n,
                   int add, const char *want)
{
	char err[512] = "";
	char *out = NULL;
	int rc = trit_chat_format(name, model_template, tok, m, n, add, &out, err, sizeof err);

	ck_assert_msg(rc == 0, "%s: %d %s", name ? name : "(detected)", rc, err);
	ck_assert_msg(strcmp(out, want) == 0, "%s add=%d:\n got  [%s]\n want [%s]",
	              name ? name : "(detected)", add, out, want);
	free(out);
}

static int format_rc(const char *name, const char *model_template, const struct trit_chat_msg *m,
                     size_t n, char *err, size_t errlen)
{
	char *out = (char *)"not reset";
	int rc = trit_chat_format(name, model_template, NULL, m, n, 1, &out, err, errlen);

	if (rc != 0)
		ck_assert_ptr_null(out);
	else
		free(out);
	return rc;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The brief's conversation, system + user + assistant + user, spelled out. */
START_TEST(each_template_writes_a_conversation_as_its_model_expects)
{
	expect("llama3", NULL, NULL, conv_conv, N(conv_conv), 1,
	       "<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant<|eot_id|>"
	       "<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>"
	       "<|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|>"
	       "<|start_header_id|>user<|end_header_id|>\n\nWho are you<|eot_id|>"
	       "<|start_header_id|>assistant<|end_header_id|>\n\n");
	expect("bitnet", NULL, NULL, conv_conv, N(conv_conv), 1,
	       "System: You are a helpful assistant<|eot_id|>User: Hello<|eot_id|>"
	       "Assistant: Hi there<|eot_id|>User: Who are you<|eot_id|>Assistant: ");
	expect("falcon3", NULL, NULL, conv_conv, N(conv_conv), 1,
	       "<|system|>\nYou are a helpful assistant\n<|user|>\nHello\n"
	       "<|assistant|>\n   Hi there   <|endoftext|>\n<|user|>\nWho are you\n<|assistant|>\n");
	expect("chatml", NULL, NULL, conv_conv, N(conv_conv), 1,
	       "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n"
	       "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n   Hi there   <|im_end|>\n"
	       "<|im_start|>user\nWho are you<|im_end|>\n<|im_start|>assistant\n");
	expect("llama2", NULL, NULL, conv_conv, N(conv_conv), 1,
	       "[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST]"
	       " Hi there </s><s>[INST] Who are you [/INST]");
}
END_TEST

/* Every rendering of the real templates by jinja2, named and detected. */
START_TEST(formats_equal_the_models_own_templates_rendered_by_jinja)
{
	for (size_t i = 0; i < N(rendered); i++) {
		const struct rendered *r = &rendered[i];

		expect(r->name, NULL, NULL, r->msgs, r->n, r->add, r->text);
		expect(NULL, real_text(r->name), NULL, r->msgs, r->n, r->add, r->text);
	}
}
END_TEST

START_TEST(real_templates_are_detected)
{
	char err[256] = "";

	for (size_t i = 0; i < N(real); i++) {
		enum trit_chat_template t = TRIT_CHAT_N_TEMPLATES;

		ck_assert_msg(trit_chat_detect(real[i].text, &t, err, sizeof err) == 0, "%s: %s",
		              real[i].name, err);
		ck_assert_int_eq(t, real[i].t);
		/* a template's name in place of its text, as llama.cpp allows */
		t = TRIT_CHAT_N_TEMPLATES;
		ck_assert_int_eq(trit_chat_detect(real[i].name, &t, err, sizeof err), 0);
		ck_assert_int_eq(t, real[i].t);
		ck_assert_str_eq(trit_chat_template_name(real[i].t), real[i].name);
	}
	ck_assert_ptr_null(trit_chat_template_name(TRIT_CHAT_N_TEMPLATES));
}
END_TEST

START_TEST(missing_and_unknown_templates_are_errors_naming_the_known_ones)
{
	const char *others[] = { tmpl_phi3, tmpl_zephyr, tmpl_mistral, tmpl_phi4,
	                         tmpl_gemma, tmpl_glmedge, tmpl_bitnet_cpp_placeholder,
	                         "{{ messages }}", "\x01\xff garbage" };
	char err[512];
	enum trit_chat_template t;

	err[0] = '\0';
	ck_assert_int_eq(trit_chat_detect(NULL, &t, err, sizeof err), TRIT_EUNSUPPORTED);
	ck_assert_msg(strstr(err, "no tokenizer.chat_template") && strstr(err, "--chat-template") &&
	              strstr(err, trit_chat_template_list()), "%s", err);
	ck_assert_int_eq(trit_chat_detect("", &t, err, sizeof err), TRIT_EUNSUPPORTED);
	ck_assert_int_eq(format_rc(NULL, NULL, conv_conv, N(conv_conv), err, sizeof err),
	                 TRIT_EUNSUPPORTED);
	for (size_t i = 0; i < N(others); i++) {
		err[0] = '\0';
		ck_assert_msg(trit_chat_detect(others[i], &t, err, sizeof err) == TRIT_EUNSUPPORTED,
		              "template %zu was taken for %s", i, trit_chat_template_name(t));
		ck_assert_msg(strstr(err, "none of the templates") &&
		              strstr(err, "llama3, bitnet, falcon3, chatml, llama2") &&
		              strstr(err, "--chat-template"), "%s", err);
		ck_assert_int_eq(format_rc(NULL, others[i], conv_conv, N(conv_conv), err, sizeof err),
		                 TRIT_EUNSUPPORTED);
	}
}
END_TEST

START_TEST(a_named_template_overrides_the_models)
{
	char err[256] = "";
	enum trit_chat_template t;

	expect("chatml", tmpl_llama3, NULL, conv_nosys, N(conv_nosys), 0,
	       "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi<|im_end|>\n"
	       "<|im_start|>user\nAgain<|im_end|>\n");
	/* and works where the model's is unknown */
	expect("bitnet", tmpl_phi3, NULL, conv_endasst, N(conv_endasst), 0,
	       "User: Hi<|eot_id|>Assistant: Hello!<|eot_id|>");
	ck_assert_int_eq(trit_chat_template_from_name("vicuna", &t, err, sizeof err), TRIT_EINVAL);
	ck_assert_msg(strstr(err, "vicuna") && strstr(err, trit_chat_template_list()), "%s", err);
	ck_assert_int_eq(format_rc("Llama3", tmpl_llama3, conv_conv, N(conv_conv), err, sizeof err),
	                 TRIT_EINVAL); /* names are exact */
}
END_TEST

START_TEST(the_models_bos_and_eos_texts_can_be_given)
{
	const struct trit_chat_tokens tok = { "<B>", "<E>" }, eos_only = { NULL, "<E>" };

	expect("llama2", NULL, &tok, conv_nosys, N(conv_nosys), 1,
	       "[INST] Hello [/INST] Hi <E><B>[INST] Again [/INST]");
	expect("llama2", NULL, &eos_only, conv_nosys, N(conv_nosys), 1,
	       "[INST] Hello [/INST] Hi <E><s>[INST] Again [/INST]");
	expect("falcon3", NULL, &tok, conv_nosys, N(conv_nosys), 1,
	       "<|user|>\nHello\n<|assistant|>\nHi<E>\n<|user|>\nAgain\n<|assistant|>\n");
	/* the others write no BOS or EOS of the model's */
	expect("chatml", NULL, &tok, conv_endasst, N(conv_endasst), 0,
	       "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n Hello! <|im_end|>\n");
}
END_TEST

START_TEST(llama2_refuses_turns_that_do_not_alternate)
{
	static const struct trit_chat_msg uu[] = { { TRIT_CHAT_USER, "a" }, { TRIT_CHAT_USER, "b" } };
	static const struct trit_chat_msg sa[] = { { TRIT_CHAT_SYSTEM, "s" },
	                                           { TRIT_CHAT_ASSISTANT, "a" } };
	static const struct trit_chat_msg us[] = { { TRIT_CHAT_USER, "u" }, { TRIT_CHAT_SYSTEM, "s" } };
	static const struct trit_chat_msg s[] = { { TRIT_CHAT_SYSTEM, "s" } };
	char err[512] = "";

	ck_assert_int_eq(format_rc("llama2", NULL, uu, 2, err, sizeof err), TRIT_EINVAL);
	ck_assert_msg(strstr(err, "message 1") && strstr(err, "user"), "%s", err);
	ck_assert_int_eq(format_rc("llama2", NULL, sa, 2, err, sizeof err), TRIT_EINVAL);
	ck_assert_int_eq(format_rc("llama2", NULL, us, 2, err, sizeof err), TRIT_EINVAL);
	ck_assert_msg(strstr(err, "system"), "%s", err);
	ck_assert_int_eq(format_rc("llama2", NULL, s, 1, err, sizeof err), TRIT_EINVAL);
	/* the other formats take any order */
	ck_assert_int_eq(format_rc("chatml", NULL, uu, 2, err, sizeof err), 0);
	ck_assert_int_eq(format_rc("llama3", NULL, us, 2, err, sizeof err), 0);
}
END_TEST

START_TEST(bad_messages_are_refused)
{
	const struct trit_chat_msg nul[] = { { TRIT_CHAT_USER, "a" }, { TRIT_CHAT_USER, NULL } };
	struct trit_chat_msg role[] = { { TRIT_CHAT_USER, "a" } };
	char err[512] = "";

	ck_assert_int_eq(format_rc("chatml", NULL, conv_conv, 0, err, sizeof err), TRIT_EINVAL);
	ck_assert_msg(strstr(err, "no messages"), "%s", err);
	ck_assert_int_eq(format_rc("chatml", NULL, NULL, 3, err, sizeof err), TRIT_EINVAL);
	ck_assert_int_eq(format_rc("chatml", NULL, nul, 2, err, sizeof err), TRIT_EINVAL);
	ck_assert_msg(strstr(err, "message 1"), "%s", err);
	role[0].role = (enum trit_chat_role)7;
	ck_assert_int_eq(format_rc("bitnet", NULL, role, 1, err, sizeof err), TRIT_EINVAL);
	ck_assert_msg(strstr(err, "role 7"), "%s", err);
}
END_TEST

START_TEST(long_contents_are_copied_whole)
{
	enum { LEN = 1 << 20 };
	char *big = malloc(LEN + 1), *out = NULL, err[256] = "";
	struct trit_chat_msg m[1] = { { TRIT_CHAT_USER, big } };

	memset(big, 'x', LEN);
	big[LEN] = '\0';
	ck_assert_int_eq(trit_chat_format("chatml", NULL, NULL, m, 1, 1, &out, err, sizeof err), 0);
	ck_assert_uint_eq(strlen(out), LEN + strlen("<|im_start|>user\n<|im_end|>\n<|im_start|>assistant\n"));
	ck_assert(strncmp(out + strlen("<|im_start|>user\n"), big, LEN) == 0);
	free(out);
	free(big);
}
END_TEST

#define ADD(s, t) do { TCase *tc = tcase_create(#t); tcase_add_test(tc, t); suite_add_tcase(s, tc); } while (0)

int main(void)
{
	Suite *s = suite_create("chat");

	ADD(s, each_template_writes_a_conversation_as_its_model_expects);
	ADD(s, formats_equal_the_models_own_templates_rendered_by_jinja);
	ADD(s, real_templates_are_detected);
	ADD(s, missing_and_unknown_templates_are_errors_naming_the_known_ones);
	ADD(s, a_named_template_overrides_the_models);
	ADD(s, the_models_bos_and_eos_texts_can_be_given);
	ADD(s, llama2_refuses_turns_that_do_not_alternate);
	ADD(s, bad_messages_are_refused);
	ADD(s, long_contents_are_copied_whole);

	return test_run_suite(s);
}
