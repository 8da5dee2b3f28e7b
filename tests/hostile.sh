#!/bin/sh
# Plugins as a hostile or broken environment hands them to trit, through
# `trit devices`: one whose init crashes, calls exit() or hangs is named (and
# the process fails, or, for a hang, trit warns and waits); one that someone
# else could have written is refused with the reason, unless the operator
# allows it. Each plugin is copied into a directory of its own, so that one
# run meets exactly it (and the build tree's plugins). Speaks TAP. Needs jq.
set -u
: "${top_builddir:?run through make check}"
trit="$top_builddir/trit"
hostile="$top_builddir/tests/hostile/.libs"
plugins="$top_builddir/tests/plugins"
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

unset TRIT_PLUGIN_PATH TRIT_CONFIG TRIT_LOG TRIT_ALLOW_INSECURE_PLUGINS TRIT_PLUGIN_WATCHDOG \
	TRIT_ISOLATE_PLUGINS TRIT_ISOLATE_TIMEOUT

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

# --- each plugin loaded in a separate process first -------------------------
# With isolate_plugins, the same crash, exit() and hang refuse the plugin
# instead of ending trit; a good plugin loads as before.
# isolated NAME DIR STEM PATTERN [VAR=VALUE...]: trit exits 0 and lists
# DIR/STEM.so as skipped for a reason matching PATTERN.
isolated() {
	name=$1 d=$2 stem=$3 pattern=$4; shift 4
	run env TRIT_ISOLATE_PLUGINS=1 "$@" "$trit" -P "$d" devices --json
	status_is "isolated: $name: trit devices exits 0" 0
	jq -r ".plugins[] | select(.path == \"$d/$stem.so\") | \"\(.status): \(.reason)\"" \
		"$work/out" >"$work/reason"
	expect "isolated: $name: refused with the reason" "$work/reason" "^skipped: refused: $pattern"
	jq_eq "isolated: $name: the other plugins load" '.plugins[] | select(.name == "ref") | .status' loaded
}
isolated "exit() in init" "$work/exit_init" exit_init "it called exit\(\) during init when trit loaded it in a separate process first"
# (under AddressSanitizer its report ends the child instead: SIGABRT or its exit status)
isolated "a crash in init" "$work/crash_init" crash_init \
	"(it crashed with SIG[A-Z]+|its probe process ended with exit status [0-9]+) during init"
isolated "a hang in init" "$work/slow_init" slow_init \
	"it had not finished loading after 1 s \(it was in init" \
	TRIT_ISOLATE_TIMEOUT=1 TRIT_PLUGIN_TEST_SLOW_INIT_SLEEP_MS=4000
TRIT_ISOLATE_PLUGINS=1 run "$trit" -P "$plugins" devices --json
jq_eq "isolated: a good plugin loads, with its devices" \
	'.plugins[] | select(.name == "test_good") | "\(.status) \(.devices | length)"' "loaded 2"
jq_eq "isolated: a plugin that fails is skipped for its own reason" \
	'.plugins[] | select(.name == "test_probe_fails") | .reason' \
	"init failed (ENODEV): no test device present (simulated driver failure)"

# --- plugins someone else could have written --------------------------------
# refused DESC DIR NEEDLE: `trit -P DIR devices` lists DIR's good plugin as
# skipped for a reason that starts with NEEDLE, in JSON and in text.
refused() {
	run "$trit" -P "$2" devices --json
	status_is "$1: trit devices still exits 0" 0
	jq_eq "$1: refused in JSON" \
		".plugins[] | select(.path == \"$2/good.so\" or .path == \"$2/good.la\") | .status" skipped
	jq -r ".plugins[] | select(.path == \"$2/good.so\" or .path == \"$2/good.la\") | .reason" \
		"$work/out" >"$work/reason"
	expect "$1: the reason says why" "$work/reason" "^$3"
	expect "$1: and how to allow it" "$work/reason" "TRIT_ALLOW_INSECURE_PLUGINS=1"
	run "$trit" -P "$2" devices
	expect "$1: refused in text" "$work/out" "^    $3"
}
loads() { # NAME DIR [VAR=VALUE...]: DIR's good plugin loads
	name=$1 d=$2; shift 2
	run env "$@" "$trit" -P "$d" devices --json
	jq_eq "$name" '.plugins[] | select(.name == "test_good") | .status' loaded
}

alone good "$plugins/.libs"
mv "$work/good" "$work/ww"
chmod 0777 "$work/ww"
refused "a plugin in a world-writable directory" "$work/ww" \
	"refused: directory $work/ww is writable by every user \(mode 0777\)"
loads "TRIT_ALLOW_INSECURE_PLUGINS=1 loads it anyway" "$work/ww" TRIT_ALLOW_INSECURE_PLUGINS=1
printf '[runtime]\nallow_insecure_plugins = yes\n' >"$work/allow.ini"
loads "so does [runtime] allow_insecure_plugins = yes" "$work/ww" TRIT_CONFIG="$work/allow.ini"
chmod 1777 "$work/ww"
loads "a plugin we own in a sticky world-writable directory (as /tmp) loads" "$work/ww"

alone good "$plugins/.libs"
mv "$work/good" "$work/wwfile"
chmod 0666 "$work/wwfile/good.so"
refused "a world-writable plugin file" "$work/wwfile" \
	"refused: plugin file $work/wwfile/good\.so is writable by every user \(mode 0666\)"

# A libtool archive: the shared object libltdl opens is in .libs/.
mkdir -m 0755 "$work/la" "$work/la/.libs"
cp "$plugins/good.la" "$work/la/" && cp "$plugins/.libs/good.so" "$work/la/.libs/"
chmod 0777 "$work/la/.libs"
refused "a libtool archive whose .libs/ is world-writable" "$work/la" \
	"refused: directory $work/la/\.libs is writable by every user"
chmod 0755 "$work/la/.libs"
loads "the same archive loads once .libs/ is not" "$work/la"

if [ "$(id -u)" -eq 0 ]; then
	other=65534
	alone good "$plugins/.libs"
	mv "$work/good" "$work/owned"
	chown "$other" "$work/owned/good.so"
	refused "a plugin file owned by another user" "$work/owned" \
		"refused: plugin file $work/owned/good\.so is owned by uid $other"
	chown 0 "$work/owned/good.so"
	chgrp "$other" "$work/owned" && chmod 0775 "$work/owned"
	refused "a plugin in a directory writable by another group" "$work/owned" \
		"refused: directory $work/owned is writable by group $other"
else
	ok "a plugin file owned by another user is refused # SKIP needs root to chown"
fi

echo "1..$n"
[ "$failed" -eq 0 ]
