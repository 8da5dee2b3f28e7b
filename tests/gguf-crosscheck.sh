#!/bin/sh
# gguf-crosscheck.sh - cross-checks trit-genmodel's GGUF files against an
# independent reader, Hugging Face's @huggingface/gguf (node): metadata keys,
# tensor names, dims, type ids, offsets, sizes. Prints TAP; skips, saying
# why, when node or the package is missing (.ci/deps installs both).
set -u
top_builddir=${top_builddir:-.}
top_srcdir=${top_srcdir:-.}
gen="$top_builddir/tests/trit-genmodel"
pin="@huggingface/gguf@0.4.6"

if ! command -v node >/dev/null 2>&1; then
	echo "1..0 # SKIP node is not installed (.ci/deps installs it)"
	exit 0
fi
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
	echo "1..0 # SKIP node $(node --version 2>/dev/null) is too old: $pin needs node >= 20"
	exit 0
fi
pkgdir=""
for d in "${TRIT_NPM_DIR:-}" "$top_builddir/tests/npm" "${HOME:-/nonexistent}/.cache/trit/npm"; do
	if [ -n "$d" ] && [ -f "$d/node_modules/@huggingface/gguf/package.json" ]; then
		pkgdir=$d
		break
	fi
done
if [ -z "$pkgdir" ]; then
	echo "1..0 # SKIP @huggingface/gguf not found in \$TRIT_NPM_DIR, $top_builddir/tests/npm or ~/.cache/trit/npm (run .ci/deps, or: npm install --prefix DIR $pin)"
	exit 0
fi
if [ ! -x "$gen" ]; then
	echo "Bail out! $gen is not built"
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/trit-crosscheck-XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

# shape, type, extra flags: a large vocabulary, MoE, MLA, bitnet.cpp types
set -- \
	"Llama-3.2-1B Q4_0 --vocab-strings" \
	"Mixtral-8x7B Q4_K" \
	"Qwen3-30B-A3B Q8_0 --vocab-strings" \
	"DeepSeek-V2-Lite Q8_0 --vocab-strings" \
	"BitNet-b1.58-2B-4T I2_S --vocab-strings" \
	"tiny-bitnet TL2" \
	"Gemma-2-9B Q6_K --vocab-strings" \
	"Phi-3-mini-4k TQ2_0" \
	"Falcon-7B Q5_0" \
	"GPT-2 F16 --vocab-strings"
args=""
for c in "$@"; do
	# shellcheck disable=SC2086
	set -- $c
	shape=$1 type=$2
	shift 2
	f="$tmp/$shape-$type"
	if ! "$gen" --shape "$shape" --format gguf --type "$type" "$@" -o "$f.gguf" \
		--tensors-json >"$f.json" 2>"$f.err"; then
		echo "Bail out! trit-genmodel --shape $shape --type $type failed: $(cat "$f.err")"
		exit 1
	fi
	if ! "$top_builddir/trit" inspect --json --tensors "$f.gguf" >"$f.trit.json" 2>"$f.err"; then
		echo "Bail out! trit inspect $f.gguf failed: $(cat "$f.err")"
		exit 1
	fi
	args="$args $shape/$type $f.gguf $f.json $f.trit.json"
done
# shellcheck disable=SC2086
exec node "$top_srcdir/tests/gguf-crosscheck.mjs" "$pkgdir" $args
