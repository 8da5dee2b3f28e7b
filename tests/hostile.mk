# Plugins that misbehave the way third-party code can. They live in a
# directory of their own, never on a search path the other tests use, so the
# registry tests' plugin counts never meet them; tests/check_registry.c opens
# unterminated.la by name.

check_LTLIBRARIES += tests/hostile/unterminated.la
tests_hostile_unterminated_la_SOURCES = tests/hostile/unterminated.c
tests_hostile_unterminated_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
