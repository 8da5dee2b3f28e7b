#!/bin/sh
# The cpu_neon plugin under qemu-aarch64, for hosts that are not aarch64
# (see tests/cpu_neon_qemu.mk). The cross-compiled program runs twice:
#   -cpu max         has the dot-product extension: the dotprod path must be
#                    chosen, and both paths are checked;
#   -cpu cortex-a53  has none: the plain NEON path must be chosen (the
#                    dotprod kernels would stop it with SIGILL), and the CPU
#                    must be named from its MIDR as a Cortex-A53.
# The two TAP streams are renumbered into one, each line saying which CPU.
# Without the cross tools the test says it skipped and why.
bin="${top_builddir:-.}/tests/cpu_neon_qemu.aarch64"
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
run() { # $1 = qemu cpu model, then the program's arguments
	model=$1
	shift
	out=$("$qemu" -cpu "$model" "$bin" "$@" 2>&1)
	status=$?
	planned=$(printf '%s\n' "$out" | sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' | head -n 1)
	# Renumber from n, name the CPU, keep comments, drop the plan.
	res=$(printf '%s\n' "$out" | awk -v base="$n" -v model="$model" '
		/^(not )?ok [0-9]+/ {
			ok = ($1 == "ok"); sub(/^(not )?ok [0-9]+ - /, "");
			base++; printf "%s %d - [-cpu %s] %s\n", ok ? "ok" : "not ok", base, model, $0; next }
		/^#/ { print; next }
		/^1\.\./ { next }
		{ print "# " $0 }')
	printf '%s\n' "$res"
	seen=$(printf '%s\n' "$res" | grep -c '^\(not \)\{0,1\}ok [0-9]')
	n=$((n + seen))
	if [ "$status" -ne 0 ] && [ "$status" -ne 1 ]; then
		n=$((n + 1))
		echo "not ok $n - [-cpu $model] the program exited with status $status (signal $((status - 128)) if above 128)"
	fi
	if [ -z "$planned" ] || [ "$seen" -ne "$planned" ]; then
		n=$((n + 1))
		echo "not ok $n - [-cpu $model] ran $seen of ${planned:-an unknown number of} tests"
	fi
}

run max --expect dotprod
run cortex-a53 --expect neon --expect-name Cortex-A53
echo "1..$n"
