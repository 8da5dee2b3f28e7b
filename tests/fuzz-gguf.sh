#!/bin/sh
# Fuzz the GGUF reader for a bounded run (make check: 20000 executions or 30 s;
# make fuzz-gguf: a million), starting from the valid files check_gguf writes.
# Any crash, leak or sanitizer report fails, and the input is kept next to the
# fuzzer as tests/fuzz/gguf-crash-* to reproduce with. Speaks TAP.
set -u
: "${top_builddir:?run through make check}"
fuzzer="$top_builddir/tests/fuzz/fuzz_gguf"
suite="$top_builddir/tests/check_gguf"
runs=${FUZZ_GGUF_RUNS:-20000}
secs=${FUZZ_GGUF_SECONDS:-30}
echo "1..2"
if [ ! -x "$fuzzer" ]; then
	echo "ok 1 # SKIP $fuzzer is not built (configure found no libFuzzer)"
	echo "ok 2 # SKIP no fuzzer"
	exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/trit-fuzz-gguf-XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT INT TERM
mkdir "$work/seeds"
if TRIT_GGUF_SEED_DIR="$work/seeds" "$suite" >"$work/seed.log" 2>&1 &&
   [ -n "$(ls "$work/seeds")" ]; then
	echo "ok 1 - check_gguf wrote $(ls "$work/seeds" | wc -l | tr -d ' ') seed files"
else
	echo "not ok 1 - check_gguf could not write the seed files"
	sed 's/^/# /' "$work/seed.log"
fi
corpus=${FUZZ_GGUF_CORPUS:-$work/corpus}
mkdir -p "$corpus"
"$fuzzer" -runs="$runs" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 -artifact_prefix="$top_builddir/tests/fuzz/gguf-" \
	"$corpus" "$work/seeds" >"$work/fuzz.log" 2>&1
rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log")
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/fuzz.log")
# a sanitizer that recovers prints and carries on: its report is a finding too
if [ "$rc" -eq 0 ] && grep -q 'runtime error:' "$work/fuzz.log"; then
	rc=1
fi
if [ "$rc" -eq 0 ]; then
	echo "ok 2 - ${execs:-?} executions, ${rate:-?}/s, no finding"
else
	echo "not ok 2 - the fuzzer found a problem (exit $rc)"
	grep -E 'ERROR|SUMMARY|runtime error|Test unit written|^    #[0-9]' "$work/fuzz.log" |
		head -n 60 | sed 's/^/# /'
fi
