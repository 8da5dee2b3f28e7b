# Plugins that misbehave the way third-party code can: crash, call exit(),
# hang in init, or hand trit unterminated text. They live in a directory of
# their own (never on a search path the other tests use, so the registry
# tests' plugin counts never meet them); tests/hostile.sh copies each one it
# loads into a directory of its own, and tests/check_registry.c opens
# unterminated.la by name.

check_LTLIBRARIES += tests/hostile/exit_init.la tests/hostile/crash_init.la \
	tests/hostile/slow_init.la tests/hostile/unterminated.la
tests_hostile_exit_init_la_SOURCES = tests/hostile/exit_init.c
tests_hostile_exit_init_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_hostile_crash_init_la_SOURCES = tests/hostile/crash_init.c
tests_hostile_crash_init_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_hostile_slow_init_la_SOURCES = tests/hostile/slow_init.c
tests_hostile_slow_init_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_hostile_unterminated_la_SOURCES = tests/hostile/unterminated.c
tests_hostile_unterminated_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)

# A crash, an exit() and a hang in a plugin's init, and plugins refused for
# where they lie, as `trit devices` shows them.
TESTS += tests/hostile.sh
EXTRA_DIST += tests/hostile.sh
tests/hostile.log: trit$(EXEEXT)
