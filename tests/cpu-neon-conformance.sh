#!/bin/sh
# trit-conformance on the cpu_neon plugin under qemu-aarch64, for hosts that
# are not aarch64 (tests/cpu_neon_qemu.mk builds the static program from the
# suite's core, the plugin's sources and the ref kernels). It runs on
#   -cpu max         the dot-product kernel path must be chosen;
#   -cpu cortex-a53  no dot-product extension: the plain NEON path.
# Each case becomes one TAP line (FAIL -> not ok, skip -> ok # SKIP with the
# suite's reason), named with the CPU model; the suite's own
# "N passed, N failed, N skipped" line follows each run as a comment. A run
# also fails when its exit status, its tally and its lines disagree, or when
# it passed no case at all. Arguments are passed on (--op, --type, --seed).
bin="${top_builddir:-.}/tests/cpu_neon_conformance.aarch64"
qemu="${QEMU_AARCH64:-qemu-aarch64}"

if [ -n "$NEON_CROSS_WHY" ]; then
	echo "1..0 # SKIP $NEON_CROSS_WHY"
	exit 0
fi
if [ ! -x "$bin" ]; then
	echo "1..0 # SKIP $bin was not built (configure did not find AARCH64_CC and QEMU_AARCH64)"
	exit 0
fi

n=0
summary=
run() { # $1 = qemu cpu model, $2 = the kernel path it must choose; then options
	model=$1 path=$2
	shift 2
	out=$("$qemu" -cpu "$model" "$bin" "$@" 2>&1)
	status=$?
	res=$(printf '%s\n' "$out" | awk -v base="$n" -v model="$model" '
		/^(ok|FAIL|skip) / {
			v = $1; sub(/^[a-zA-Z]+ /, ""); base++
			if (v == "skip") {
				i = index($0, ": "); why = substr($0, i + 2); lab = substr($0, 1, i - 1)
				printf "ok %d - [-cpu %s] %s # SKIP %s\n", base, model, lab, why
			} else
				printf "%s %d - [-cpu %s] %s\n", v == "ok" ? "ok" : "not ok", base, model, $0
			next }
		/^#/ { print; next }
		{ print "# " $0 }')
	printf '%s\n' "$res"
	seen_pass=$(printf '%s\n' "$res" | grep '^ok [0-9]' | grep -vc '# SKIP ')
	seen_skip=$(printf '%s\n' "$res" | grep -c '^ok [0-9].* # SKIP ')
	seen_fail=$(printf '%s\n' "$res" | grep -c '^not ok [0-9]')
	n=$((n + seen_pass + seen_skip + seen_fail))
	tally=$(printf '%s\n' "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p')
	set -- $tally
	line=$(printf '%s\n' "$out" | grep '^[0-9]* passed, [0-9]* failed, [0-9]* skipped$')
	summary="$summary# [-cpu $model] ${line:-no tally line from the suite}
"
	check() { # $1 = 0 when the claim holds, then the claim
		ok=$1
		shift
		n=$((n + 1))
		if [ "$ok" -eq 0 ]; then echo "ok $n - [-cpu $model] $*"; else echo "not ok $n - [-cpu $model] $*"; fi
	}
	printf '%s\n' "$out" | grep -q "^# kernel path: $path\$"
	check $? "the plugin chose the $path kernel path"
	[ -n "$tally" ] && [ "$1" -eq "$seen_pass" ] && [ "$2" -eq "$seen_fail" ] && [ "$3" -eq "$seen_skip" ]
	check $? "the suite's tally (${tally:-missing}) matches its case lines ($seen_pass $seen_fail $seen_skip)"
	[ -n "$tally" ] && [ "$1" -gt 0 ]
	check $? "some cases ran and passed (${1:-0})"
	[ "$status" -eq 0 ] || { [ "$status" -eq 1 ] && [ "$seen_fail" -gt 0 ]; }
	check $? "exit status $status agrees with $seen_fail failed case(s)"
}

run max dotprod "$@"
run cortex-a53 neon "$@"
echo "1..$n"
printf '%s' "$summary"
