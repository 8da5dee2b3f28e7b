#!/bin/sh
# llamacpp-crosscheck.sh - runs real llama.cpp (CPU, the prebuilt binary in
# node-llama-cpp's npm packages) on trit-genmodel's GGUF files and compares
# the KV cache and model buffer sizes it reports with the rules in
# docs/llamacpp-memory.md, computed from `trit inspect --json --tensors`,
# and with `trit plan --json` once that command exists. Prints TAP; one JSON
# line per case goes to $TRIT_LLAMACPP_OUT (default
# $top_builddir/tests/llamacpp-crosscheck.jsonl). Installs nothing: skips,
# saying why, when node or node-llama-cpp is missing (.ci/deps installs it).
set -u
top_builddir=${top_builddir:-.}
top_srcdir=${top_srcdir:-.}
gen="$top_builddir/tests/trit-genmodel"
trit="$top_builddir/trit"

. "$top_srcdir/tests/nlc.sh"
if ! nlc_find; then
	echo "1..0 # SKIP $nlc_why"
	exit 0
fi
if [ ! -x "$gen" ] || [ ! -x "$trit" ]; then
	echo "Bail out! $gen or $trit is not built"
	exit 1
fi
out=${TRIT_LLAMACPP_OUT:-$top_builddir/tests/llamacpp-crosscheck.jsonl}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/trit-llamacpp-XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

# shape/type, then its cases CTX/KV/FA/SWAFULL (docs/llamacpp-memory.md):
# context padding (1000 -> 1024), KV types f16, f32, q8_0 (which forces
# flash attention on, and which llama.cpp refuses for head sizes that are
# not whole q8_0 blocks), sliding-window caps (gemma2: window + ubatch,
# padded; swa_full; gemma3: no full-context layer; phi3: window ignored),
# MoE, MLA (deepseek2: one latent K row, no V), 1B.
set -- \
	"tiny-llama/F16 4096/f16/off/0,4096/f16/on/0,512/f16/off/0,1000/f16/off/0,512/f32/off/0,512/q8_0/on/0" \
	"tiny-qwen3/F16 4096/f16/off/0,512/q8_0/on/0,4096/q8_0/auto/0,512/q8_0/off/0,512/f32/on/0" \
	"tiny-gemma2/F16 4096/f16/off/0,4096/f16/on/0,512/f16/off/0,256/f16/off/0,100/f16/off/0,4096/f16/off/1,4096/q8_0/on/0" \
	"tiny-gemma3/F16 4096/f16/off/0,512/f16/on/0,100/f16/off/0" \
	"tiny-phi3/F16 4096/f16/off/0,512/f32/on/0" \
	"tiny-qwen3moe/Q8_0 4096/f16/off/0,4096/q8_0/on/0" \
	"tiny-deepseek2/F16 4096/f16/off/0,4096/f16/on/0,1000/f32/off/0,512/q8_0/on/0" \
	"Llama-3.2-1B/F16 4096/f16/off/0,4096/q8_0/on/0,512/f16/on/0"
args=""
for c in "$@"; do
	label=${c%% *} cases=${c#* }
	shape=${label%/*} type=${label#*/}
	f="$tmp/$shape-$type"
	if ! "$gen" --shape "$shape" --format gguf --type "$type" --vocab-strings -o "$f.gguf" 2>"$f.err"; then
		echo "Bail out! trit-genmodel --shape $shape --type $type failed: $(cat "$f.err")"
		exit 1
	fi
	if ! "$trit" inspect --json --tensors "$f.gguf" >"$f.json" 2>"$f.err"; then
		echo "Bail out! trit inspect $f.gguf failed: $(cat "$f.err")"
		exit 1
	fi
	args="$args $label $f.gguf $f.json $cases"
done
# shellcheck disable=SC2086
exec node "$top_srcdir/tests/llamacpp-crosscheck.mjs" "$pkgdir" "$trit" "$out" $args
