#!/bin/sh
# trit plan --tp/--pp/--ep on described machines (docs/machines): what each
# GPU of a tensor-, pipeline- or expert-parallel deployment holds, for
# Llama-3.1-70B and Mixtral-8x7B shapes (sparse F16 files), as text and JSON;
# exit 5 when the ranks do not fit, 2 when the model does not suit the
# degrees; [parallel] from an INI and the environment; trit run refusing a
# degree above 1. The per-rank arithmetic is tests/check_parallel.c's; this
# holds the command line to it. Speaks TAP. Needs jq.
set -u
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
trit="$top_builddir/trit"
gen="$top_builddir/tests/trit-genmodel"
dgx="$top_srcdir/docs/machines/dgx-h100.ini"
two="$top_srcdir/docs/machines/2x24-ram128.ini"
work=$(mktemp -d "${TMPDIR:-/tmp}/trit-parallel-XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
n=0 failed=0

. "$top_srcdir/tests/tap.sh"

unset TRIT_CONFIG TRIT_LOG TRIT_TP TRIT_PP TRIT_EP TRIT_CONTEXT
llama="$work/Llama-3.1-70B.gguf" mix="$work/Mixtral-8x7B.gguf"
"$gen" --shape Llama-3.1-70B --format gguf --type F16 -o "$llama" >/dev/null &&
	"$gen" --shape Mixtral-8x7B --format gguf --type F16 -o "$mix" >/dev/null ||
	{ echo "Bail out! trit-genmodel"; exit 1; }

# --- tensor parallelism: Llama-3.1-70B over the DGX's eight GPUs ------------
check "tp 8 fits on eight 80 GB GPUs" 0 "$trit" --devices "$dgx" plan "$llama" --ctx 8192 --tp 8 --json
cp "$work/out" "$work/tp8.json"
jq_eq "JSON says tp 8, pp 1, 8 GPUs" "$work/tp8.json" '[.parallel.tp,.parallel.pp,.parallel.gpus]|join(",")' 8,1,8
jq_eq "one stage of 80 layers with embeddings and output" "$work/tp8.json" \
	'.stages|[length,.[0].layers,.[0].embeddings,.[0].output]|join(",")' 1,80,true,true
jq_eq "eight ranks, on gpu0..gpu7 in order" "$work/tp8.json" \
	'[.stages[0].ranks[].gpu]|join(",")' \
	described/gpu0,described/gpu1,described/gpu2,described/gpu3,described/gpu4,described/gpu5,described/gpu6,described/gpu7
# 80 layers x 8192 cells x one of 8 KV heads x 128 x f16 x (K+V)
jq_eq "a rank's KV cache is one KV head's" "$work/tp8.json" '.stages[0].rank_bytes.kv' 335544320
jq_eq "the engine's workspace is not claimed" "$work/tp8.json" '.stages[0].rank_bytes.workspace' null
jq_eq "it fits, with no why" "$work/tp8.json" '[.fits,.why]|map(tostring)|join(",")' true,null
check "tp 8 as text" 0 "$trit" --devices "$dgx" plan "$llama" --ctx 8192 --tp 8
expect "text names the KV heads per rank" "$work/out" 'kv-heads/tp +k and v projections and the KV cache: 1 of 8 KV heads'
expect "text lists rank 7 on gpu7, fitting" "$work/out" 'rank 7 +described/gpu7 .*: fits$'
check "--explain --json lists one rank's buffers with their rule" 0 \
	"$trit" --devices "$dgx" plan "$llama" --ctx 8192 --tp 8 --json --explain
jq_eq "token_embd is split by vocabulary rows" "$work/out" \
	'.stages[0].buffers[]|select(.name=="token_embd.weight")|.rule' vocab/tp
jq_eq "a norm is replicated" "$work/out" \
	'.stages[0].buffers[]|select(.name=="blk.0.attn_norm.weight")|.rule' replicated

# --- pipeline parallelism -----------------------------------------------------
check "tp 4 x pp 2 fits on the DGX" 0 "$trit" --devices "$dgx" plan "$llama" --ctx 8192 --tp 4 --pp 2 --json
jq_eq "two stages of 40 layers" "$work/out" '[.stages[]|"\(.first_layer)+\(.layers)"]|join(",")' 0+40,40+40
jq_eq "stage 1 runs on gpu4..gpu7" "$work/out" '[.stages[1].ranks[].gpu]|join(",")' \
	described/gpu4,described/gpu5,described/gpu6,described/gpu7
jq_eq "embeddings on stage 0, output on stage 1" "$work/out" \
	'[.stages[]|"\(.embeddings)/\(.output)"]|join(",")' true/false,false/true
check "pp 2 on two 24 GB GPUs does not fit: exit 5" 5 "$trit" --devices "$two" plan "$llama" --ctx 8192 --pp 2
expect "it names the rank, its need and the GPU" "$work/out" 'does not fit: stage 0 rank 0 needs .* on described/gpu0, which offers 21.60 GiB'
check "tp 2 x pp 2 wants four GPUs of the two: exit 5" 5 "$trit" --devices "$two" plan "$llama" --ctx 8192 --tp 2 --pp 2 --json
jq_eq "the why counts the GPUs" "$work/out" '.why' "2 pipeline stages x 2 GPUs each = 4 GPUs, but 2 are offered"
jq_eq "the ranks without a GPU say so" "$work/out" '[.stages[1].ranks[].gpu]|map(tostring)|join(",")' null,null

# --- expert parallelism: Mixtral-8x7B -------------------------------------------
check "ep 8 holds one expert a GPU" 0 "$trit" --devices "$dgx" plan "$mix" --ctx 8192 --ep 8 --json
jq_eq "eight GPUs for one stage" "$work/out" '[.parallel.gpus_per_stage,.parallel.ep]|join(",")' 8,8
jq_eq "without --explain no buffers are listed" "$work/out" \
	'[.stages[0].buffers//empty]|length' 0
check "ep 8 --explain" 0 "$trit" --devices "$dgx" plan "$mix" --ctx 8192 --ep 8 --json --explain
jq_eq "ffn_up_exps: one of 8 experts (4096 x 14336 x f16)" "$work/out" \
	'.stages[0].buffers[]|select(.name=="blk.0.ffn_up_exps.weight")|"\(.rule) \(.bytes)"' "experts/ep 117440512"
jq_eq "the router stays whole" "$work/out" \
	'.stages[0].buffers[]|select(.name=="blk.0.ffn_gate_inp.weight")|.rule' replicated

# --- refusals -------------------------------------------------------------------
check "tp 3 does not divide 64 heads: exit 2" 2 "$trit" --devices "$dgx" plan "$llama" --tp 3
expect "the error names the heads" "$work/err" 'tensor parallelism 3 does not divide the 64 attention heads'
check "ep on a dense model: exit 2" 2 "$trit" --devices "$dgx" plan "$llama" --ep 2
expect "the error says it is not a mixture of experts" "$work/err" 'is not a mixture of experts'
check "ep 3 over 8 experts: exit 2" 2 "$trit" --devices "$dgx" plan "$mix" --ep 3
expect "the error names the experts" "$work/err" 'does not divide the 8 experts'
check "pp 81 over 80 layers: exit 2" 2 "$trit" --devices "$dgx" plan "$llama" --pp 81
check "--tp 0 is a usage error naming the range" 2 "$trit" --devices "$dgx" plan "$llama" --tp 0
expect "the range is said" "$work/err" "\\[parallel\\] tp: '0' is out of range; expected an integer from 1 to 1024"

# --- [parallel] from an INI file and the environment ---------------------------
printf '[model]\ncontext = 8192\n[parallel]\ntp = 8\n' >"$work/deploy.ini"
check "[parallel] tp = 8 in an INI plans as --tp 8" 0 \
	"$trit" --config "$work/deploy.ini" --devices "$dgx" plan "$llama" --json
if cmp -s "$work/out" "$work/tp8.json"; then ok "the same report as --tp 8"
else not_ok "the same report as --tp 8" "$(diff "$work/tp8.json" "$work/out" | head -20)"; fi
check "TRIT_TP=8 plans as --tp 8" 0 env TRIT_TP=8 "$trit" --devices "$dgx" plan "$llama" --ctx 8192 --json
jq_eq "the environment's degree is used" "$work/out" '.parallel.tp' 8
check "trit run refuses [parallel] tp = 8: exit 3" 3 \
	"$trit" --config "$work/deploy.ini" run "$top_srcdir/models/kjv-bitnet-3M-I2_S.gguf" -p x -n 1
expect "it names where the degree was set" "$work/err" "\\[parallel\\] tp = 8 \\($work/deploy.ini:4\\)"

# --- a cluster inventory: the deployments searched and ranked --------------------
dgx2="$top_srcdir/docs/clusters/2x-dgx-h100.ini"
ws2="$top_srcdir/docs/clusters/2x-workstation.ini"
check "--cluster searches the two DGX H100s" 0 "$trit" plan "$llama" --ctx 8192 --cluster "$dgx2" --json
cp "$work/out" "$work/cluster.json"
jq_eq "two machines, sixteen GPUs" "$work/cluster.json" '[.cluster.machines[].gpus]|join(",")' 8,8
jq_eq "the best is tp 8 on one machine" "$work/cluster.json" \
	'.candidates[0]|"\(.tp) \(.pp) \(.ep) \(.machines) \(.network_bytes_per_token)"' "8 1 1 1 0"
jq_eq "its ranks are dgx0's GPUs" "$work/cluster.json" '[.best.stages[0].ranks[].host]|unique|join(",")' dgx0
jq_eq "the candidates that fit come first, fastest first" "$work/cluster.json" \
	'[.candidates[]|select(.verdict=="fits")|.tokens_per_s]|. == (sort|reverse)' true
jq_eq "tp 3 is refused with the heads" "$work/cluster.json" \
	'.candidates[]|select(.tp==3)|.why|test("64 attention heads")' true
check "--cluster --pp 2 keeps two stages" 0 "$trit" plan "$llama" --ctx 8192 --cluster "$dgx2" --pp 2 --json
jq_eq "tp 8 x pp 2 spans both machines" "$work/out" \
	'.candidates[0]|"\(.tp) \(.pp) \(.machines) \(.network_bytes_per_token)"' "8 2 2 32768"
jq_eq "stage 1 runs on dgx1" "$work/out" '[.best.stages[1].ranks[].host]|unique|join(",")' dgx1
jq_eq "every candidate kept has pp 2" "$work/out" '[.candidates[].pp]|unique|join(",")' 2
check "Mixtral on the DGXs" 0 "$trit" plan "$mix" --ctx 8192 --cluster "$dgx2" --json
jq_eq "expert-parallel deployments are among those that fit" "$work/out" \
	'[.candidates[]|select(.verdict=="fits" and .ep==8)]|length > 0' true
check "70B in F16 fits on no pair of workstations: exit 5" 5 "$trit" plan "$llama" --ctx 8192 --cluster "$ws2"
expect "it says nothing fits" "$work/out" 'nothing fits'
check "--explain says why each lost" 5 "$trit" plan "$llama" --ctx 8192 --cluster "$ws2" --explain
expect "a rank that does not fit is named" "$work/out" 'tp 2 +pp 2 +ep 1 +does not fit: stage 0 rank 0 needs'
printf '[cluster]\nnetwork = 1GB/s\n[machine.a]\naddress = a\ndevices = nowhere.ini\n' >"$work/bad.ini"
check "an inventory naming a missing devices file: exit 3" 3 "$trit" plan "$llama" --cluster "$work/bad.ini"
expect "the error names the line and the file" "$work/err" 'bad.ini:5: \[machine.a\] devices: cannot open devices file .*nowhere.ini'

# --- deployments emitted ----------------------------------------------------------
check "--emit vllm for tp 4 on the DGX" 0 "$trit" --devices "$dgx" plan "$llama" --ctx 8192 --tp 4 --emit vllm
expect "one vllm serve line with the degrees, the budget and the context" "$work/out" \
	"^CUDA_VISIBLE_DEVICES=0,1,2,3 vllm serve $llama --tensor-parallel-size 4 --pipeline-parallel-size 1 --gpu-memory-utilization 0.90 --max-model-len 8192\$"
absent "no Ray on one machine" "$work/out" '^ray '
check "--emit vllm --json across the two DGXs" 0 "$trit" plan "$llama" --ctx 8192 --cluster "$dgx2" --pp 2 --emit vllm --json
jq_eq "Ray head on dgx0, worker on dgx1, then vllm serve on dgx0" "$work/out" \
	'[.commands[]|"\(.machine):\(.role):\(.argv[0])"]|join(" ")' "dgx0:head:ray dgx1:worker:ray dgx0:head:vllm"
jq_eq "the worker joins the head's address" "$work/out" '.commands[1].line' "ray start --address=dgx0.cluster.internal:6379"
jq_eq "vllm serve runs over Ray with tp 8 x pp 2" "$work/out" \
	'.commands[2].argv|[.[index("--tensor-parallel-size")+1], .[index("--pipeline-parallel-size")+1], .[index("--distributed-executor-backend")+1]]|join(" ")' "8 2 ray"
jq_eq "the plan it comes from is nested" "$work/out" '.plan.parallel.gpus' 16
check "--emit vllm for Mixtral with ep 8" 0 "$trit" --devices "$dgx" plan "$mix" --ctx 8192 --ep 8 --emit vllm
expect "expert parallel, eight data-parallel attention copies" "$work/out" \
	'vllm serve .* --tensor-parallel-size 1 --pipeline-parallel-size 1 --enable-expert-parallel --data-parallel-size 8 '
check "--emit vllm refuses a q8_0 KV cache: exit 2" 2 "$trit" --devices "$dgx" plan "$llama" --ctx 8192 --tp 8 --kv-type q8_0 --emit vllm
expect "it says why" "$work/err" 'vLLM keeps its KV cache in the model.s 16-bit type'
"$gen" --shape Llama-3.1-70B --format gguf --type Q4_0 -o "$work/my 70b.gguf" >/dev/null || not_ok "generate a Q4_0 70B"
check "--emit llama.cpp-rpc on two workstations" 0 "$trit" plan "$work/my 70b.gguf" --ctx 8192 --cluster "$ws2" --emit llama.cpp-rpc --json
jq_eq "the worker serves both its GPUs" "$work/out" '.commands[0]|"\(.machine) \(.line)"' \
	"ws0 ggml-rpc-server --host 0.0.0.0 --port 50052 --device CUDA0,CUDA1"
jq_eq "the head runs llama-server on ws1 with the worker's address" "$work/out" \
	'.commands[1]|"\(.machine) \(.argv[0]) \(.argv[.argv|index("--rpc")+1])"' "ws1 llama-server 192.168.1.10:50052"
jq_eq "a path with a space is quoted in the line" "$work/out" '.commands[1].line|test("-m '"'"'.*/my 70b.gguf'"'"' ")' true
# llama.cpp's own rule (load_tensors): with -ngl above the layers it splits
# n_layer + 1 layers, giving layer il to the first device whose cumulative
# split exceeds il / (n_layer + 1); the emitted split must give each device
# its stage's layers and the last one the output layer too.
ts=$(jq -r '.commands[1].argv|.[index("--tensor-split")+1]' "$work/out")
want=$(jq -r '[.plan.stages[]|.layers]|join(",")' "$work/out")
got=$(echo "$ts" | awk -F, -v n=80 '{
	for (i = 1; i <= NF; i++) { sum += $i; cum[i] = sum }
	for (il = 0; il <= n; il++) { f = il / (n + 1); d = 1; while (d < NF && cum[d] / sum <= f) d++; c[d]++ }
	c[NF]--; out = c[1]; for (i = 2; i <= NF; i++) out = out "," c[i]; print out }')
if [ "$got" = "$want" ]; then ok "llama.cpp's split of --tensor-split $ts is the plan's stages ($want)"
else not_ok "llama.cpp's split of --tensor-split $ts is the plan's stages" "got $got, want $want"; fi
check "--emit llama.cpp-rpc refuses tensor parallelism: exit 2" 2 \
	"$trit" --devices "$dgx" plan "$llama" --ctx 8192 --tp 8 --emit llama.cpp-rpc
expect "it says llama.cpp splits whole layers" "$work/err" 'llama.cpp splits whole layers'
check "--emit of an unknown engine: exit 2" 2 "$trit" --devices "$dgx" plan "$llama" --emit sglang
check "--emit when nothing fits: exit 5" 5 "$trit" --devices "$two" plan "$llama" --ctx 8192 --pp 2 --emit vllm

tap_end
