#!/bin/sh
# Plugins as a hostile or broken environment hands them to trit, through
# `trit devices`: one whose init crashes, calls exit() or hangs is named (and
# the process fails, or, for a hang, trit warns and waits). Each plugin is
# copied into a directory of its own, so that one run meets exactly it (and
# the build tree's plugins). Speaks TAP. Needs jq.
set -u
: "${top_builddir:?run through make check}"
trit="$top_builddir/trit"
hostile="$top_builddir/tests/hostile/.libs"
work=$(mktemp -d "${TMPDIR:-/tmp}/trit-hostile-XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
work=$(cd "$work" && pwd -P) # as the registry names it: symbolic links resolved
ulimit -c 0                  # the crashes below leave no core files
n=0 failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
# run CMD...: run it, keeping stdout, stderr and the status ($got).
run() { "$@" >"$work/out" 2>"$work/err"; got=$?; }
status_is() { # NAME WANT
	if [ "$got" -eq "$2" ]; then ok "$1"; else
		not_ok "$1" "exit $got, wanted $2" "$(head -c 2000 "$work/err")"; fi
}
expect() { # NAME FILE PATTERN (extended regex)
	if grep -Eq -- "$3" "$2"; then ok "$1"; else not_ok "$1" "no match for /$3/ in:" "$(head -c 2000 "$2")"; fi
}
reject() { # NAME FILE PATTERN: FILE does not match
	if grep -Eq -- "$3" "$2"; then not_ok "$1" "/$3/ matches:" "$(grep -E -- "$3" "$2" | head -c 2000)"; else ok "$1"; fi
}
jq_eq() { # NAME FILTER WANT (on $work/out)
	got_jq=$(jq -r "$2" "$work/out" 2>&1)
	if [ "$got_jq" = "$3" ]; then ok "$1"; else not_ok "$1" "jq '$2' gave '$got_jq', wanted '$3'"; fi
}
# alone NAME SRC: directory $work/NAME (mode 0755) holding SRC/NAME.so (0755).
alone() {
	mkdir -m 0755 "$work/$1" && cp "$2/$1.so" "$work/$1/" && chmod 0755 "$work/$1/$1.so"
	dir="$work/$1"
}

unset TRIT_PLUGIN_PATH TRIT_CONFIG TRIT_LOG TRIT_PLUGIN_WATCHDOG

# --- a plugin's init calls exit() -------------------------------------------
alone exit_init "$hostile"
run "$trit" -P "$dir" devices --json
status_is "a plugin calling exit(0) in init makes trit fail with status 70" 70
expect "... and the message names the plugin and the call" "$work/err" \
	"^trit: plugin $dir/exit_init\.so called exit\(\) during init"
run "$trit" -vv -P "$dir" devices
expect "at debug level trit says which plugin it loads before its code runs" "$work/err" \
	"loading plugin $dir/exit_init\.so"
expect "... and which one it initialises" "$work/err" "initialising plugin $dir/exit_init\.so"

# --- a plugin's init crashes --------------------------------------------------
alone crash_init "$hostile"
run "$trit" -P "$dir" devices --json
if [ "$got" -ne 0 ] && [ "$got" -ne 70 ]; then ok "a plugin crashing in init still ends trit ($got)"
else not_ok "a plugin crashing in init still ends trit" "exit $got"; fi
expect "... with a message naming the plugin and the signal" "$work/err" \
	"^trit: plugin $dir/crash_init\.so crashed with SIGSEGV during init"
TRIT_PLUGIN_TEST_CRASH_INIT_HOW=abort run "$trit" -P "$dir" devices --json
status_is "a plugin calling abort() in init ends trit by SIGABRT, as without trit" 134
expect "... and is named" "$work/err" \
	"^trit: plugin $dir/crash_init\.so crashed with SIGABRT during init"

# --- a plugin's init takes long ----------------------------------------------
alone slow_init "$hostile"
TRIT_PLUGIN_WATCHDOG=1 TRIT_PLUGIN_TEST_SLOW_INIT_SLEEP_MS=2500 run "$trit" -P "$dir" devices --json
status_is "a plugin slower than the watchdog still loads" 0
expect "... after a warning naming it" "$work/err" \
	"warn: plugin $dir/slow_init\.so has not returned from init after 1 s"
jq_eq "... and it is listed as loaded" '.plugins[] | select(.name == "test_slow_init") | .status' loaded
TRIT_PLUGIN_TEST_SLOW_INIT_SLEEP_MS=200 run "$trit" -P "$dir" devices --json
reject "a plugin within the default watchdog (10 s) draws no warning" "$work/err" "has not returned"

echo "1..$n"
[ "$failed" -eq 0 ]
