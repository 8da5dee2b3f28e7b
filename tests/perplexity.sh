#!/bin/sh
# `trit perplexity` and [planner] ternary_format end to end on a small model
# with real seeded weights (tests/trit-genmodel --weights ternary): usage
# errors, a finite figure, the same figure at --batch 1 as at the plan's
# ubatch, the figure recomputed independently from tests/trit-forward's
# last-position logits of every scored prefix (NLL and PPL in awk), a text
# shorter than one window refused naming its token count, and the I2_S file
# forced into TL1 / TL2 at load giving the plan's reason and the same
# figure and greedy tokens. Speaks TAP. Needs jq.
set -u
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
trit="$top_builddir/trit"
gen="$top_builddir/tests/trit-genmodel"
fwd="$top_builddir/tests/trit-forward"
work=$(mktemp -d "${TMPDIR:-/tmp}/trit-ppl-XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
n=0 failed=0

. "$top_srcdir/tests/tap.sh"
# NAME A B TOL: |A - B| <= TOL x |B|
close() {
	if awk -v a="$2" -v b="$3" -v t="$4" 'BEGIN { d = a - b; if (d < 0) d = -d;
		m = b < 0 ? -b : b; exit !(a == a + 0 && b == b + 0 && d <= t * m) }'; then
		ok "$1 ($2 vs $3)"; else not_ok "$1" "$2 vs $3: more than $4 apart (relative)"; fi
}

unset TRIT_PLUGIN_PATH TRIT_CONFIG TRIT_LOG TRIT_TERNARY_FORMAT TRIT_CONTEXT TRIT_UBATCH

check "perplexity --help exits 0" 0 "$trit" perplexity --help
expect "perplexity --help documents --ctx and --json" "$work/out" '--ctx.*|--json'
check "trit help perplexity" 0 "$trit" help perplexity
check "perplexity without a text file is a usage error" 2 "$trit" perplexity model.gguf
check "a bad --chunks is a usage error" 2 "$trit" perplexity a.gguf t.txt --chunks 0
check "repeating options past the limit is a usage error" 2 "$trit" perplexity a.gguf t.txt \
	--ctx 8 --ctx 8 --ctx 8 --ctx 8 --ctx 8
check "a bad --ctx is a usage error naming it" 2 "$trit" perplexity a.gguf t.txt --ctx x
expect "the flag is named" "$work/err" "--ctx"
check "a missing text file fails" 1 "$trit" perplexity a.gguf "$work/nope.txt" -q
expect "the missing file is named" "$work/err" "nope.txt"

if ! grep -qw avx2 /proc/cpuinfo; then
	skip "perplexity" "no AVX2: the cpu_avx2 plugin does not load"
	echo "1..$n"; exit 0
fi

m="$work/m.gguf"
"$gen" --shape ref-bitnet-b1.58 --format gguf --weights ternary --seed 7 --type I2_S \
	--vocab-strings -o "$m" >/dev/null || not_ok "generate the I2_S model"
# a deterministic text of ~600 words
awk 'BEGIN { split("the of and to in is was for on with as by at from that this it an be are", w, " ");
	s = 7; for (i = 0; i < 600; i++) { s = (s * 1103515245 + 12345) % 2147483648;
	printf "%s%s", w[int(s / 65536) % 21 + 1], (i % 12 == 11) ? "\n" : " " } }' >"$work/text.txt"
ctx=16

check "perplexity runs" 0 "$trit" perplexity "$m" "$work/text.txt" --ctx $ctx --chunks 3
expect "the estimate is printed with its error" "$work/out" '^PPL = [0-9.]+ \+/- [0-9.]+$'
expect "tokens scored and tokens/s are printed" "$work/out" '^scored 21 tokens of 3 windows of 16 .* tokens/s'
expect "the plan and the ternary format are printed" "$work/out" '^plan: cpu-only.*ternary I2_S'
expect "the running estimate per window is on stderr" "$work/err" '\[1\][0-9.]+,\[2\][0-9.]+,\[3\][0-9.]+,'

check "perplexity --json" 0 "$trit" perplexity "$m" "$work/text.txt" --ctx $ctx --chunks 3 --json
cp "$work/out" "$work/p.json"
jq_eq "--json: the figure is a finite number" "$work/p.json" '.ppl | (type == "number" and isinfinite == false and . > 1)' true
jq_eq "--json: 3 windows" "$work/p.json" '.chunks' 3
jq_eq "--json: 7 tokens scored a window of 16 (positions 8..14)" "$work/p.json" '.scored_tokens' 21
jq_eq "--json: the error is llama.cpp's: stderr x ppl" "$work/p.json" \
	'((.ppl_err - .nll_stderr * .ppl) | fabs) < 1e-9 * .ppl_err' true
jq_eq "--json: BOS first" "$work/p.json" '.add_bos' true
jq_eq "--json: the plan" "$work/p.json" '.plan.strategy' cpu-only
jq_eq "--json: the ternary format" "$work/p.json" '.devices[0].ternary_format' I2_S

check "perplexity --batch 1" 0 "$trit" perplexity "$m" "$work/text.txt" --ctx $ctx --chunks 3 --batch 1 --json
# each token's logits row depends on its own activations only (per-token
# int8 quantisation, causal attention): the same windows give the same bits
jq_eq "--batch 1 gives the same figure, to the bit" "$work/out" '.ppl' "$(jq -r .ppl "$work/p.json")"
jq_eq "--batch 1 was used" "$work/out" '.batch' 1

# Independently: trit-forward's last-position logits of each scored prefix
# of each window (a pass without all_logits, its own load), NLL and PPL in awk.
"$trit" tokenize "$m" -f "$work/text.txt" --json >"$work/tok.json" 2>"$work/err" ||
	not_ok "tokenize the text" "$(cat "$work/err")"
jq -r '.ids[]' "$work/tok.json" >"$work/ids"
bos=$(head -n 1 "$work/ids")
: >"$work/nll"
for c in 0 1 2; do
	start=$((c * ctx))
	sed -n "$((start + 1)),$((start + ctx))p" "$work/ids" | awk -v b="$bos" 'NR == 1 { $0 = b } 1' >"$work/win"
	i=$((ctx / 2))
	while [ $i -lt $((ctx - 1)) ]; do
		prefix=$(head -n $((i + 1)) "$work/win" | paste -sd, -)
		target=$(sed -n "$((i + 2))p" "$work/win")
		if ! "$fwd" "$m" --tokens "$prefix" --ctx $ctx --logits >"$work/fw.json" 2>"$work/err"; then
			not_ok "trit-forward runs" "$(head -c 2000 "$work/err")"; break 2
		fi
		jq -r '.logits[]' "$work/fw.json" | awk -v t="$target" '
			{ x[NR - 1] = $1; if (NR == 1 || $1 > mx) mx = $1 }
			END { for (k in x) s += exp(x[k] - mx); printf "%.17g\n", log(s) - (x[t] - mx) }' >>"$work/nll"
		i=$((i + 1))
	done
done
ref=$(awk '{ s += $1; n++ } END { if (n) printf "%.17g", exp(s / n) }' "$work/nll")
# trit-forward prints logits to 9 significant digits (float's full
# precision) and runs the same kernels one prefix at a time: the NLLs agree
# to float rounding, ~1e-7 relative, so 1e-6 on PPL leaves room and still
# catches a wrong position, target or window (those move it by percent)
close "the figure equals one computed from trit-forward's logits" \
	"$(jq -r .ppl "$work/p.json")" "$ref" 1e-6
jq_eq "the recomputation scored as many tokens" "$work/p.json" '.scored_tokens' "$(wc -l <"$work/nll" | tr -d ' ')"

printf 'the of and' >"$work/short.txt"
check "a text shorter than one window fails" 1 "$trit" perplexity "$m" "$work/short.txt" --ctx $ctx -q
expect "it says how many tokens the text has and needs" "$work/err" 'has [0-9]+ tokens; a window of --ctx 16 needs at least 16'
check "a window under 3 tokens fails" 1 "$trit" perplexity "$m" "$work/text.txt" --ctx 2 -q

# [planner] ternary_format: the I2_S file forced into TL1 / TL2 at load
printf '[planner]\nternary_format = tl1\n' >"$work/tl1.ini"
check "plan with ternary_format = tl1" 0 "$trit" -c "$work/tl1.ini" plan "$m" --json
jq_eq "the plan repacks into TL1" "$work/out" '[.. | objects | select(has("format_why")) | .format] | unique | join(",")' TL1
jq_eq "the plan's reason names the key and where it was set" "$work/out" \
	'[.. | objects | select(has("format_why")) | .format_why] | unique | join(",")' \
	"TL1: [planner] ternary_format = tl1 ($work/tl1.ini:2)"
check "plan text with TRIT_TERNARY_FORMAT=tl2" 0 env TRIT_TERNARY_FORMAT=tl2 "$trit" plan "$m"
expect "the text plan says it" "$work/out" 'format TL2: \[planner\] ternary_format = tl2 \(environment TRIT_TERNARY_FORMAT\)'
check "a bad ternary_format is a configuration error" 3 env TRIT_TERNARY_FORMAT=tl3 "$trit" plan "$m"

# TL1 and TL2 hold the same trits and quantise activations to int8 the same
# way as I2_S: the logits differ only by float summation order, so the
# figures agree to 1e-5 relative (measured: equal to the bit on AVX2)
for f in i2_s tl1 tl2; do
	check "perplexity with ternary_format = $f" 0 env TRIT_TERNARY_FORMAT=$f \
		"$trit" perplexity "$m" "$work/text.txt" --ctx $ctx --chunks 3 --json
	cp "$work/out" "$work/p-$f.json"
	up=$(echo $f | tr a-z A-Z)
	jq_eq "$f: the weights run as $up" "$work/p-$f.json" '.devices[0].ternary_format' "$up"
	check "run --temp 0 with ternary_format = $f" 0 env TRIT_TERNARY_FORMAT=$f \
		"$trit" run "$m" -p "the of and to in" -n 8 --temp 0 --json
	jq -c .tokens "$work/out" >"$work/t-$f"
done
for f in tl1 tl2; do
	close "$f's figure is I2_S's" "$(jq -r .ppl "$work/p-$f.json")" "$(jq -r .ppl "$work/p-i2_s.json")" 1e-5
	if cmp -s "$work/t-$f" "$work/t-i2_s"; then ok "$f's greedy tokens are I2_S's"; else
		not_ok "$f's greedy tokens are I2_S's" "$(cat "$work/t-$f")" "$(cat "$work/t-i2_s")"; fi
done

tap_end
