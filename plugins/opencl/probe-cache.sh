#!/bin/sh
# The opencl plugin and the runtime's probe cache, end to end: a second
# `trit devices` describes the OpenCL devices from the cache exactly as the
# probe did (how the program is built aside), without loading the OpenCL
# driver; the cache switched off probes again. Speaks TAP. Needs jq; skips
# when no OpenCL device loads here.
set -u
: "${top_builddir:?run through make check}"
trit="$top_builddir/trit"
work=$(mktemp -d "${TMPDIR:-/tmp}/trit-oclpc-XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

if ! command -v jq >/dev/null 2>&1; then echo "1..0 # SKIP jq is not installed"; exit 0; fi
unset TRIT_PLUGIN_PATH TRIT_CONFIG TRIT_LOG TRIT_PROBE_CACHE_MAX_AGE
TRIT_PROBE_CACHE="$work/probe.json"
export TRIT_PROBE_CACHE

# the opencl devices of a `trit devices --json` run, without the text and
# source of opencl.program and the source of opencl.kernels (they tell when
# and how the program was built) and without what is measured anew each run
ocl() {
	jq -S '[.plugins[] | select(.name == "opencl") | .devices[] |
	        del(.properties["opencl.program"].text) |
	        del(.properties["opencl.program"].source) |
	        del(.properties["opencl.kernels"].source)]' "$1"
}

LD_DEBUG=files "$trit" devices --json >"$work/first.json" 2>"$work/first.ld"
status=$(jq -r '.plugins[] | select(.name == "opencl") | .status' "$work/first.json" 2>/dev/null)
count=$(jq '[.plugins[] | select(.name == "opencl") | .devices[]] | length' "$work/first.json" 2>/dev/null)
if [ "$status" != loaded ] || [ "${count:-0}" -eq 0 ]; then
	echo "1..0 # SKIP the opencl plugin found no device here (status '$status')"
	exit 0
fi
echo "1..6"
if jq -e '[.entries[] | select(.plugin == "opencl") | .key] | index("devices") and index("p0d0.desc")' \
	"$TRIT_PROBE_CACHE" >/dev/null 2>&1; then
	ok "the first run stored the device list and p0d0's description"
else
	not_ok "the first run stored the device list and p0d0's description" \
		"$(head -c 1500 "$TRIT_PROBE_CACHE" 2>&1)"
fi

LD_DEBUG=files "$trit" devices --json >"$work/second.json" 2>"$work/second.ld"
ocl "$work/first.json" >"$work/first.ocl"
ocl "$work/second.json" >"$work/second.ocl"
if [ -s "$work/first.ocl" ] && cmp -s "$work/first.ocl" "$work/second.ocl"; then
	ok "the cached description is the probed one, field for field"
else
	not_ok "the cached description is the probed one, field for field" \
		"$(diff "$work/first.ocl" "$work/second.ocl" | head -40)"
fi
prog=$(jq -r '.plugins[] | select(.name == "opencl") | .devices[0].properties["opencl.program"].text' \
	"$work/second.json")
case $prog in
*"when the device is first used"*) ok "opencl.program says the program is built at first use" ;;
*) not_ok "opencl.program says the program is built at first use" "it says: $prog" ;;
esac

# the dynamic linker's log (glibc): the driver pocl, and LLVM with it, is
# loaded by the probe and not by the cached run
if grep -Eq 'file=[^ ]*(libpocl|libLLVM)' "$work/first.ld"; then
	if grep -Eq 'file=[^ ]*(libpocl|libLLVM)' "$work/second.ld"; then
		not_ok "the cached run loads no OpenCL driver" \
			"$(grep -E 'file=[^ ]*(libpocl|libLLVM)' "$work/second.ld" | head -5)"
	else
		ok "the cached run loads no OpenCL driver"
	fi
else
	skip "the cached run loads no OpenCL driver" "no LD_DEBUG log naming pocl here"
fi

TRIT_PROBE_CACHE_MAX_AGE=0 "$trit" devices --json >"$work/third.json" 2>/dev/null
prog=$(jq -r '.plugins[] | select(.name == "opencl") | .devices[0].properties["opencl.program"].text' \
	"$work/third.json")
case $prog in
*"self-test passed"*) ok "with the cache off the device is probed and self-tested" ;;
*) not_ok "with the cache off the device is probed and self-tested" "it says: $prog" ;;
esac
ocl "$work/third.json" >"$work/third.ocl"
if cmp -s "$work/first.ocl" "$work/third.ocl"; then ok "and described the same"
else not_ok "and described the same" "$(diff "$work/first.ocl" "$work/third.ocl" | head -20)"; fi
[ "$failed" -eq 0 ]
