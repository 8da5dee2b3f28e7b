#!/bin/sh
# decode-bound.sh - trit run's speed on a model against the machine's bound,
# measured in the same run: decoding reads every weight (as it runs) and the
# KV cache once per token, so it cannot beat
#     bound = streaming read rate / bytes read per token.
# The read rate is `trit bench`'s plain streaming read of host memory (the
# baseline it measures beside the I2_S kernel, over a working set twice the
# last-level cache) at the same thread count; the bytes per token are the
# plan's itemised reads (reason speed_reads: ternary weights, head, other
# weights, one embedding row, and the KV cache of the whole context, so the
# bound is a little low for a short run). For each thread count: the median
# of RUNS runs of trit run (prompt and decode tokens/s), the bound and
# decode / bound; with the load time and peak/model of the first run.
#
# A benchmark, not a test (timings are the machine's): not in make check.
# usage: tests/decode-bound.sh [MODEL] [THREADS...]
#        env: N (tokens, default 64), CTX (context, default 256: the KV
#        cache read per token is the whole context's), RUNS (default 3),
#        PROMPT, TRIT (./trit)
# Prints a table and, last, one JSON line per thread count.
set -eu
model=${1:-models/bitnet-b1.58-2B-4T-I2_S.gguf}
[ $# -gt 0 ] && shift
threads=${*:-1 2}
trit=${TRIT:-./trit}
n=${N:-64}
ctx=${CTX:-256}
runs=${RUNS:-3}
prompt=${PROMPT:-"The ternary weights of a BitNet model are"}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/trit-decode-bound-XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
command -v jq >/dev/null || { echo "decode-bound.sh: needs jq" >&2; exit 2; }

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for t in $threads; do
	: >"$tmp/prompt" && : >"$tmp/decode"
	for r in $(seq 1 "$runs"); do
		"$trit" run "$model" -p "$prompt" -n "$n" --temp 0 --threads "$t" --ctx "$ctx" \
			--json >"$tmp/run-$t-$r.json" 2>"$tmp/run.err" ||
			{ cat "$tmp/run.err" >&2; exit 1; }
		jq .prompt_tokens_per_s "$tmp/run-$t-$r.json" >>"$tmp/prompt"
		jq .decode_tokens_per_s "$tmp/run-$t-$r.json" >>"$tmp/decode"
	done
	first="$tmp/run-$t-1.json"
	"$trit" plan "$model" --json --explain --ctx "$ctx" >"$tmp/plan.json"
	bpt=$(jq '[.reasons[] | select(.code == "speed_reads") | .numbers |
		.ternary + .head + .other + .row + .kv] | add' "$tmp/plan.json")
	"$trit" bench --json --kernel i2s --backend cpu_avx2 --shape 6912x2560 \
		--threads "$t" --no-cache -q >"$tmp/bench.json"
	bw=$(jq '.results[0].read_bytes_per_s' "$tmp/bench.json")
	isa=$(jq -r '.results[0].isa' "$tmp/bench.json")
	pm=$(median <"$tmp/prompt") dm=$(median <"$tmp/decode")
	awk -v t="$t" -v p="$pm" -v d="$dm" -v bw="$bw" -v bpt="$bpt" -v ctx="$ctx" \
		-v load="$(jq .load.seconds "$first")" -v pom="$(jq .load.peak_over_model "$first")" \
		-v isa="$isa" -v runs="$runs" -v model="$model" 'BEGIN {
		bound = bw / bpt
		printf "%s, %d thread(s), %s kernels, context %d, median of %d runs\n", model, t, isa, ctx, runs
		printf "  load %.2f s, peak/model %.3f\n", load, pom
		printf "  prompt %.2f tokens/s, decode %.2f tokens/s\n", p, d
		printf "  streaming read %.2f GB/s, %.3f GB read per token -> bound %.2f tokens/s\n", bw / 1e9, bpt / 1e9, bound
		printf "  decode / bound %.3f\n", d / bound
		printf "{\"threads\":%d,\"prompt_tokens_per_s\":%.3f,\"decode_tokens_per_s\":%.3f,\"read_bytes_per_s\":%.0f,\"bytes_per_token\":%.0f,\"bound_tokens_per_s\":%.3f,\"decode_over_bound\":%.4f,\"load_seconds\":%.3f,\"peak_over_model\":%.4f}\n", t, p, d, bw, bpt, bound, d / bound, load, pom > "/dev/stderr"
	}' 2>>"$tmp/json"
done
cat "$tmp/json"
