#!/bin/sh
# `trit run` as a user meets it: help and usage errors, generation on a small
# model with real seeded weights (tests/trit-genmodel --weights ternary), the
# JSON document's fields, the same tokens for the same seed across runs and
# thread counts, greedy tokens equal to the forward pass's own greedy
# continuation (tests/trit-forward), ternary forms of one model agreeing, -q,
# and bad input (truncated file, unknown chat template) failing with a
# message naming what is wrong, never a crash. Speaks TAP. Needs jq.
set -u
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
trit="$top_builddir/trit"
gen="$top_builddir/tests/trit-genmodel"
fwd="$top_builddir/tests/trit-forward"
work=$(mktemp -d "${TMPDIR:-/tmp}/trit-run-XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
n=0 failed=0

. "$top_srcdir/tests/tap.sh"
same() { # NAME A B
	if cmp -s "$2" "$3"; then ok "$1"; else not_ok "$1" "$(cat "$2")" "$(cat "$3")"; fi
}

unset TRIT_PLUGIN_PATH TRIT_CONFIG TRIT_LOG

check "run --help exits 0" 0 "$trit" run --help
expect "run --help documents -p and --json" "$work/out" '--json'
check "run without a prompt is a usage error" 2 "$trit" run model.gguf
check "run with two models is a usage error" 2 "$trit" run a.gguf b.gguf -p hi
check "a bad --top-p is a usage error" 2 "$trit" run a.gguf -p hi --top-p 2
expect "the bad value is named" "$work/err" "top-p"
check "a missing model file fails" 1 "$trit" run "$work/nope.gguf" -p hi -q
expect "the missing file is named" "$work/err" "nope.gguf"

if ! grep -qw avx2 /proc/cpuinfo; then
	skip "generation" "no AVX2: the cpu_avx2 plugin does not load"
	echo "1..$n"; exit 0
fi

for t in F32 TQ2_0 I2_S; do
	"$gen" --shape ref-llama --format gguf --weights ternary --seed 7 --type $t \
		--vocab-strings -o "$work/m-$t.gguf" >/dev/null || not_ok "generate the $t model"
done
m="$work/m-F32.gguf"

check "run generates" 0 "$trit" run "$m" -p "abc def" -n 12 --temp 0
expect "the load report is printed" "$work/err" '^load: [0-9]+ tensors'
expect "decode tokens/s is printed" "$work/err" 'decode +[0-9]+ tokens in .* tokens/s'
expect "memory is compared with the plan" "$work/err" '^  process .*measured / planned'

check "run --json" 0 "$trit" run "$m" -p "abc def" -n 12 --temp 0 --json
cp "$work/out" "$work/greedy.json"
jq_eq "--json: 12 tokens" "$work/greedy.json" '.tokens | length' 12
jq_eq "--json: text is a string" "$work/greedy.json" '.text | type' string
jq_eq "--json: prompt tokens/s is a positive number" "$work/greedy.json" '.prompt_tokens_per_s > 0' true
jq_eq "--json: decode tokens/s is a positive number" "$work/greedy.json" '.decode_tokens_per_s > 0' true
jq_eq "--json: planned bytes" "$work/greedy.json" '.memory.planned_bytes > 0' true
jq_eq "--json: measured peak bytes" "$work/greedy.json" '.memory.measured_peak_bytes > 0' true
jq_eq "--json: the load report" "$work/greedy.json" '.load.tensors > 0' true
jq_eq "--json: the plan" "$work/greedy.json" '.plan.strategy' cpu-only
jq_eq "--json: why it stopped" "$work/greedy.json" '.stop' "token budget"

# greedy tokens = the forward pass's own greedy continuation of the same ids
ids=$(jq -r '.prompt_tokens | map(tostring) | join(",")' "$work/greedy.json")
if "$fwd" "$m" --tokens "$ids" --n-predict 12 >"$work/fwd.json" 2>"$work/err"; then
	jq -c '.tokens' "$work/greedy.json" >"$work/a"
	jq -c '.greedy // .continuation // .generated' "$work/fwd.json" >"$work/b"
	same "greedy tokens equal trit-forward's greedy continuation" "$work/a" "$work/b"
else
	not_ok "trit-forward runs" "$(head -c 2000 "$work/err")"
fi

# sampling: the same seed gives the same tokens, run after run, at 1 and 2 threads
for th in 1 2 2; do
	"$trit" run "$m" -p "abc def" -n 16 --seed 42 --temp 0.9 --threads $th --json \
		>"$work/s$th.json" 2>"$work/err" || not_ok "sampled run at $th threads" "$(cat "$work/err")"
	jq -c '.tokens' "$work/s$th.json" >"$work/t$th"
done
same "the same seed gives the same tokens at 1 and 2 threads" "$work/t1" "$work/t2"
"$trit" run "$m" -p "abc def" -n 16 --seed 43 --temp 0.9 --json 2>/dev/null | jq -c '.tokens' >"$work/t43"
if cmp -s "$work/t1" "$work/t43"; then not_ok "another seed gives other tokens"; else ok "another seed gives other tokens"; fi

# the ternary forms of the same trits: I2_S runs the int8 activation path,
# TQ2_0 llama.cpp's Q8_K one; all three must be able to generate
for t in TQ2_0 I2_S; do
	check "run on the $t form" 0 "$trit" run "$work/m-$t.gguf" -p "abc def" -n 4 --temp 0 --json
done

check "-q prints only the text" 0 "$trit" run "$m" -p "abc def" -n 4 --temp 0 -q
if [ -s "$work/err" ]; then not_ok "-q: nothing on stderr" "$(cat "$work/err")"; else ok "-q: nothing on stderr"; fi
cp "$work/out" "$work/continuation"
# the prompt as given, then the same continuation; not with --no-display-prompt
check "run shows the prompt" 0 "$trit" run "$m" -p "abc def" -n 4 --temp 0
{ printf 'abc def'; cat "$work/continuation"; } > "$work/want"
same "stdout is the prompt, then what -q prints" "$work/out" "$work/want"
check "--no-display-prompt" 0 "$trit" run "$m" -p "abc def" -n 4 --temp 0 --no-display-prompt
same "--no-display-prompt prints what -q prints" "$work/out" "$work/continuation"
check "--no-mmap copies the weights" 0 "$trit" run "$m" -p "abc def" -n 4 --temp 0 --no-mmap --json
jq_eq "--no-mmap: nothing in place" "$work/out" '.load.in_place_tensors' 0
jq_eq "--no-mmap: the same greedy tokens" "$work/out" '.tokens | map(tostring) | join(",")' \
	"$(jq -r '.tokens[:4] | map(tostring) | join(",")' "$work/greedy.json")"

check "--chat without a template in the model fails" 1 "$trit" run "$m" -p hi --chat -q
expect "the known templates are named" "$work/err" 'llama3.*bitnet'
check "--chat with a named template runs" 0 "$trit" run "$m" -p hi --chat --chat-template chatml -n 2 -q

size=$(stat -c %s "$m")
head -c $((size - 1000)) "$m" >"$work/trunc.gguf"
check "a truncated model fails" 1 "$trit" run "$work/trunc.gguf" -p hi -q
expect "the truncated tensor is named" "$work/err" '(output|blk\.[0-9]+)\.[a-z_]+\.?weight|truncated|past the end'
check "a prompt longer than the context fails" 1 "$trit" run "$m" -p "$(printf 'abc %.0s' $(seq 1 300))" --ctx 64 -q
expect "it says raise --ctx" "$work/err" '\-\-ctx'

tap_end
