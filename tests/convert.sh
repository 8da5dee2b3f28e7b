#!/bin/sh
# `trit convert` end to end. GGUF re-typing: a ternary I2_S model of
# trit-genmodel -> F32 -> I2_S is the original file byte for byte, and the
# F32 form computes the logits of trit-genmodel's own F32 file of the same
# trits (trit-forward, ref plugin); TQ2_0 -> I2_S is trit-genmodel's I2_S
# file of the same trits byte for byte. Hugging Face input: a directory of
# trit-genhf converts; `trit inspect` shows its shapes; `trit tokenize`
# gives the ids the fixture's vocabulary and merges imply (worked out here
# from tokenizer.json by hand-applied merges, not by trit); F16/BF16 sources
# convert; two shards with an index give the one file's GGUF byte for byte;
# HF -> F32 -> I2_S computes the direct conversion's logits; `trit
# run` generates.
# Hostile sources (truncated safetensors, wrong shape in config.json, a
# missing tensor, a bad merge, a non-ternary matrix) fail with exit 1
# naming the file and the field, and leave no output behind. TAP; needs jq.
set -u
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
trit="$top_builddir/trit"
gen="$top_builddir/tests/trit-genmodel"
genhf="$top_builddir/tests/trit-genhf"
fwd="$top_builddir/tests/trit-forward"
work=$(mktemp -d "${TMPDIR:-/tmp}/trit-convert-XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
n=0 failed=0

. "$top_srcdir/tests/tap.sh"
same() { # NAME A B
	if cmp -s "$2" "$3"; then ok "$1"; else not_ok "$1" "$2 and $3 differ"; fi
}
# nothing named OUT or OUT.tmp-* exists
no_output() { # NAME OUT
	if ls "$2" "$2".tmp-* >/dev/null 2>&1; then not_ok "$1" "$(ls "$2"*)"; else ok "$1"; fi
}
logits_hash() { # MODEL -> the forward pass's logits hash of a fixed prompt
	"$fwd" "$1" --tokens 1,2,3,4,5 --plugin ref 2>/dev/null | jq -r '.logits_hash'
}

unset TRIT_PLUGIN_PATH TRIT_CONFIG TRIT_LOG

check "convert --help exits 0" 0 "$trit" convert --help
expect "convert --help documents --type" "$work/out" '--type'
check "convert without -o is a usage error" 2 "$trit" convert "$work/x"
check "a bad --type is a usage error" 2 "$trit" convert "$work/x" -o "$work/y.gguf" --type q4
check "a missing source fails" 1 "$trit" convert "$work/nope" -o "$work/y.gguf"
expect "the missing source is named" "$work/err" 'nope'

# --- GGUF re-typing: I2_S -> F32 -> I2_S is the same file
"$gen" --shape ref-bitnet-b1.58 --format gguf --weights ternary --seed 7 --type I2_S \
	--vocab-strings -o "$work/m-i2s.gguf" >/dev/null || not_ok "generate the I2_S model"
"$gen" --shape ref-bitnet-b1.58 --format gguf --weights ternary --seed 7 --type F32 \
	--vocab-strings -o "$work/m-f32.gguf" >/dev/null || not_ok "generate the F32 model"
check "I2_S GGUF -> F32" 0 "$trit" convert "$work/m-i2s.gguf" -o "$work/rt-f32.gguf" --type f32
check "F32 GGUF -> I2_S" 0 "$trit" convert "$work/rt-f32.gguf" -o "$work/rt-i2s.gguf" --type i2_s --json
jq_eq "--json: the output's file type is I2_S's 40" "$work/out" '.file_type' 40
same "I2_S -> F32 -> I2_S gives the original file byte for byte" "$work/m-i2s.gguf" "$work/rt-i2s.gguf"
check "trit-genmodel --verify accepts the F32 form (the seed's trits x scale)" 0 "$gen" --verify "$work/rt-f32.gguf"
a=$(logits_hash "$work/rt-f32.gguf") b=$(logits_hash "$work/m-f32.gguf")
if [ -n "$a" ] && [ "$a" != null ] && [ "$a" = "$b" ]; then
	ok "the F32 form's logits are those of the same trits written as F32 by trit-genmodel"
else
	not_ok "the F32 form's logits are those of the same trits written as F32 by trit-genmodel" "$a vs $b"
fi
"$gen" --shape ref-bitnet-b1.58 --format gguf --weights ternary --seed 7 --type TQ2_0 \
	--vocab-strings -o "$work/m-tq2.gguf" >/dev/null || not_ok "generate the TQ2_0 model"
check "TQ2_0 GGUF -> I2_S" 0 "$trit" convert "$work/m-tq2.gguf" -o "$work/tq2-i2s.gguf" -q
same "TQ2_0 -> I2_S gives trit-genmodel's I2_S file of the same trits" "$work/m-i2s.gguf" "$work/tq2-i2s.gguf"
"$trit" inspect --json "$work/rt-f32.gguf" >"$work/insp.json" 2>"$work/err"
jq_eq "the F32 form keeps the architecture" "$work/insp.json" '.architecture // .arch' bitnet-b1.58

# --- Hugging Face directory
"$genhf" -o "$work/hf" || not_ok "trit-genhf writes the fixture"
check "HF directory -> I2_S GGUF" 0 "$trit" convert "$work/hf" -o "$work/hf.gguf" -q
check "inspect reads the converted file" 0 "$trit" inspect --json "$work/hf.gguf"
cp "$work/out" "$work/hf-insp.json"
jq_eq "inspect: architecture" "$work/hf-insp.json" '.architecture // .arch' bitnet-b1.58
check "inspect --tensors lists the tensors" 0 "$trit" inspect "$work/hf.gguf" --tensors
expect "inspect: blk.1.ffn_down is I2_S of 256 x 128" "$work/out" 'blk\.1\.ffn_down\.weight +I2_S +256 x 128'
expect "inspect: blk.0.attn_k is I2_S of 128 x 64" "$work/out" 'blk\.0\.attn_k\.weight +I2_S +128 x 64'
expect "inspect: the embedding stays F32, 128 x 320" "$work/out" 'token_embd\.weight +F32 +128 x 320'
expect "inspect: 2 layers" "$work/out" 'layers +2'

# expected ids: pieces worked out from the fixture's merges (ranks in
# tokenizer.json's order), looked up in its vocabulary with jq
tok="$work/hf/tokenizer.json"
id() { jq -r --arg t "$1" '.model.vocab[$t]' "$tok"; }
bos=$(jq -r '.added_tokens[] | select(.content == "<|begin_of_text|>") | .id' "$tok")
want_ids() { printf '%s' "[$bos"; for p in "$@"; do printf ',%s' "$(id "$p")"; done; printf ']\n'; }
tokenize_is() { # TEXT PIECES...
	text=$1; shift
	want=$(want_ids "$@")
	got=$("$trit" tokenize "$work/hf.gguf" "$text" --json 2>"$work/err" | jq -c '.ids')
	if [ "$got" = "$want" ]; then ok "tokenize '$text' = $want"; else
		not_ok "tokenize '$text'" "got $got, wanted $want" "$(cat "$work/err")"; fi
}
G=$(printf '\304\240') # GPT-2's byte-level space
tokenize_is "hello world" hello "${G}world"
tokenize_is " the in" "${G}the" "$G" in
tokenize_is "held" he ld
tokenize_is "xyz!" x y z '!'

for dt in F16 BF16; do
	"$genhf" -o "$work/hf-$dt" --dtype $dt || not_ok "trit-genhf --dtype $dt"
	check "HF directory of $dt -> I2_S" 0 "$trit" convert "$work/hf-$dt" -o "$work/hf-$dt.gguf" -q --name hf
done
"$genhf" -o "$work/hf-sharded" --shards 2 || not_ok "trit-genhf --shards 2"
check "HF directory of two shards and an index -> I2_S" 0 "$trit" convert "$work/hf-sharded" -o "$work/hf-sh.gguf" -q --name hf
check "the same directory in one file, --name hf" 0 "$trit" convert "$work/hf" -o "$work/hf-named.gguf" -q --name hf
same "shards and one file give the same GGUF" "$work/hf-sh.gguf" "$work/hf-named.gguf"
check "HF directory -> F32" 0 "$trit" convert "$work/hf" -o "$work/hf-f32.gguf" --type f32 -q
check "its F32 form -> I2_S" 0 "$trit" convert "$work/hf-f32.gguf" -o "$work/hf-rt.gguf" -q
h=$(logits_hash "$work/hf.gguf")
for f in hf-rt; do
	g=$(logits_hash "$work/$f.gguf")
	if [ -n "$h" ] && [ "$h" != null ] && [ "$h" = "$g" ]; then ok "$f.gguf computes hf.gguf's logits"
	else not_ok "$f.gguf computes hf.gguf's logits" "$g vs $h"; fi
done

if grep -qw avx2 /proc/cpuinfo; then
	check "trit run generates from the converted model" 0 "$trit" run "$work/hf.gguf" -p "hello world" -n 6 --temp 0 --json
	jq_eq "trit run: 6 tokens" "$work/out" '.tokens | length' 6
else
	skip "trit run on the converted model" "no AVX2: the cpu_avx2 plugin does not load"
fi

# --- hostile sources: exit 1, the file and field named, no output left
bad() { # NAME DIR PATTERN [OPTIONS]
	name=$1 dir=$2 pat=$3; shift 3
	check "$name fails" 1 "$trit" convert "$dir" -o "$work/bad.gguf" "$@"
	expect "$name: the error names it" "$work/err" "$pat"
	no_output "$name: no output left behind" "$work/bad.gguf"
}
"$genhf" -o "$work/h-trunc"
size=$(stat -c %s "$work/h-trunc/model.safetensors")
head -c $((size / 2)) "$work/h-trunc/model.safetensors" >"$work/t" && mv "$work/t" "$work/h-trunc/model.safetensors"
bad "a truncated model.safetensors" "$work/h-trunc" 'model\.safetensors.*(past the end|data_offsets)'
"$genhf" -o "$work/h-shape"
sed 's/"intermediate_size": 256/"intermediate_size": 384/' "$work/h-shape/config.json" >"$work/t" &&
	mv "$work/t" "$work/h-shape/config.json"
bad "config.json with a wrong shape" "$work/h-shape" 'gate_proj\.weight has shape \[256, 128\]; .*config\.json implies \[384, 128\]'
"$genhf" -o "$work/h-miss" --omit model.layers.1.mlp.up_proj.weight
bad "a missing tensor" "$work/h-miss" 'model\.layers\.1\.mlp\.up_proj\.weight is missing'
"$genhf" -o "$work/h-merge"
sed 's/"l l"/"l q"/' "$work/h-merge/tokenizer.json" >"$work/t" && mv "$work/t" "$work/h-merge/tokenizer.json"
bad "tokenizer.json with a bad merge" "$work/h-merge" 'tokenizer\.json: model\.merges\[1\]'
"$genhf" -o "$work/h-merge2"
sed 's/"h e"/"he"/' "$work/h-merge2/tokenizer.json" >"$work/t" && mv "$work/t" "$work/h-merge2/tokenizer.json"
bad "a merge without two parts" "$work/h-merge2" 'tokenizer\.json: model\.merges\[0\]'
"$genhf" -o "$work/h-tern" --not-ternary model.layers.0.self_attn.k_proj.weight
bad "a non-ternary matrix as I2_S" "$work/h-tern" 'k_proj\.weight is not ternary'
check "--ternarize converts it" 0 "$trit" convert "$work/h-tern" -o "$work/tern.gguf" --ternarize -q
check "--type f32 converts it" 0 "$trit" convert "$work/h-tern" -o "$work/tern32.gguf" --type f32 -q
"$genhf" -o "$work/h-cfg"
sed 's/"hidden_size": 128/"hidden_size": -5/' "$work/h-cfg/config.json" >"$work/t" && mv "$work/t" "$work/h-cfg/config.json"
bad "a negative hidden_size" "$work/h-cfg" 'config\.json: field "hidden_size"'
head -c 5000 "$work/m-i2s.gguf" >"$work/trunc.gguf"
bad "a truncated GGUF" "$work/trunc.gguf" 'trunc\.gguf'

tap_end
