# runtime/text: the sampler and the chat prompt formats.
check_PROGRAMS += tests/check_sampler tests/check_chat
TESTS += tests/check_sampler tests/check_chat
tests_check_sampler_SOURCES = tests/check_sampler.c
tests_check_sampler_CFLAGS = $(TEST_CFLAGS)
tests_check_sampler_LDADD = $(TEST_LIBS)
tests_check_chat_SOURCES = tests/check_chat.c
tests_check_chat_CFLAGS = $(TEST_CFLAGS)
tests_check_chat_LDADD = $(TEST_LIBS)
# `trit perplexity`'s arithmetic (runtime/exec/perplexity.c).
check_PROGRAMS += tests/check_perplexity
TESTS += tests/check_perplexity
tests_check_perplexity_SOURCES = tests/check_perplexity.c
tests_check_perplexity_CFLAGS = $(TEST_CFLAGS)
tests_check_perplexity_LDADD = $(TEST_LIBS) -lm
