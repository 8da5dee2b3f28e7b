#!/bin/sh
# strategy-speeds.sh - prompt and decode tokens/s of the bundled model under
# each strategy trit can run on a machine without a GPU: CPU-only, hybrid
# cpu_avx2 + opencl, GPU-only on one pocl device, a three-device split over
# two pocl devices and the CPU, and GPU-only over two pocl devices (pocl
# given a memory budget so that the planner splits; docs/run.md). Prints one
# line per run (3 runs each): label, strategy, prompt tok/s, decode tok/s and
# each device's measured / planned memory. Not part of make check: timings.
#   tests/strategy-speeds.sh [BUILD_DIR] [RUNS]
set -eu
top=${1:-.}
runs=${2:-3}
trit="$top/trit"
m="$(dirname "$0")/../models/kjv-bitnet-3M-I2_S.gguf"
p="The meaning of life is that the meaning of life is not what you think it is, and"
command -v jq >/dev/null || { echo "strategy-speeds.sh: needs jq" >&2; exit 2; }
one() { # LABEL ENV...
	l=$1; shift
	i=0
	while [ "$i" -lt "$runs" ]; do
		i=$((i + 1))
		env "$@" "$trit" run "$m" -p "$p" -n 64 --temp 0 --json 2>/dev/null |
		jq -r --arg l "$l" '"\($l)\t\(.plan.strategy)\t\(.prompt_tokens_per_s | floor) prompt tok/s\t\(.decode_tokens_per_s | floor) decode tok/s\t\([.memory.devices[] | select(.planned_bytes > 0) | .measured_over_planned * 1000 | round / 1000] | map(tostring) | join(","))"'
	done
}
one "cpu-only" POCL_DEVICES=pthread
one "cpu_avx2 + opencl (3 MiB)" POCL_DEVICES=pthread TRIT_PLUGIN_OPENCL_MEMORY=3MiB
one "opencl only (8 MiB)" POCL_DEVICES=pthread TRIT_PLUGIN_OPENCL_MEMORY=8MiB
one "2 x opencl (4 MiB) + cpu_avx2" "POCL_DEVICES=pthread pthread" TRIT_PLUGIN_OPENCL_MEMORY=4MiB
one "2 x opencl only (5 MiB)" "POCL_DEVICES=pthread pthread" TRIT_PLUGIN_OPENCL_MEMORY=5MiB
