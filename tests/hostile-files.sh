#!/bin/sh
# Every file trit takes, given something that is not the file it expects: a
# FIFO (opening one waits for a writer), /dev/zero (endless bytes), a
# directory and a 64 GiB sparse file. For each option that names a file (the
# model, a SafeTensors shard, index.json and config.json, -c, --devices,
# plan --cluster and a devices file a cluster names, bench --cache,
# run/tokenize -f, TRIT_CUDA_DRIVER, a plugin in a plugin
# directory, a file the CPU plugins read under proc_root) trit must end
# within 20 s with a failure status (where the file is optional, success),
# a sentence naming the path and what is wrong, and a peak RSS under 200 MB.
# Also: a 5,000-section INI file loads in bounded time, and one past the
# section limit is refused naming the line. Speaks TAP.
set -u
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
trit="$top_builddir/trit"
gen="$top_builddir/tests/trit-genmodel"
work=$(mktemp -d "${TMPDIR:-/tmp}/trit-hostile-XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
n=0 failed=0
max_rss_kb=204800
# An ASan build (configure's TRIT_SANITIZER) maps shadow memory and keeps freed
# blocks in quarantine: its bound is 3x, still far below an unbounded read
# (about 1 GB in 3 s).
[ -n "${TRIT_TEST_SANITIZER:-}" ] && max_rss_kb=$((3 * max_rss_kb))

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

unset TRIT_PLUGIN_PATH TRIT_CONFIG TRIT_LOG TRIT_CUDA_DRIVER
TRIT_BENCH_CACHE="$work/no-bench.json" XDG_CACHE_HOME="$work/xdg" HOME="$work/home"
export TRIT_BENCH_CACHE XDG_CACHE_HOME HOME
# Once untimed: a plugin's first load may fill a cache of its own under
# XDG_CACHE_HOME (an OpenCL platform compiling its kernels: 200+ MB once).
# With the probe cache off, so that the plugins probe (a probe-cache hit
# would leave OpenCL down and its kernel cache empty, and the runs below
# that make the probe cache unreadable would compile them).
TRIT_PROBE_CACHE_MAX_AGE=0 "$trit" devices >/dev/null 2>&1

# /usr/bin/time -f %M gives the peak RSS of trit (the largest of timeout's
# children); without it only the status and the message are checked.
time_bin=
if /usr/bin/time -f %M -o "$work/rss" true 2>/dev/null && [ -s "$work/rss" ]; then
	time_bin=/usr/bin/time
fi

# hostile NAME PATH PATTERN CMD...: run CMD (20 s at most); it must fail
# without timing out, say PATTERN about PATH on stderr (or on stdout, in the
# line after it, for the skipped plugins `trit devices` lists) and stay
# under the RSS bound. With
# may_succeed=1 exit 0 is right too (a command that only reports the file).
may_succeed=0
hostile() {
	name=$1 path=$2 pattern=$3; shift 3
	rm -f "$work/rss"
	if [ -n "$time_bin" ]; then
		$time_bin -f %M -o "$work/rss" timeout -k 5 20 "$@" >"$work/out" 2>"$work/err"
	else
		timeout -k 5 20 "$@" >"$work/out" 2>"$work/err"
	fi
	got=$?
	rss=$(tail -n 1 "$work/rss" 2>/dev/null)
	if [ "$got" -eq 124 ] || [ "$got" -eq 137 ] || [ "$got" -eq 143 ]; then
		not_ok "$name" "timed out (exit $got): trit hung"
	elif [ "$got" -eq 0 ] && [ "$may_succeed" -eq 0 ]; then
		not_ok "$name" "exit 0, wanted a failure" "$(head -c 1000 "$work/err")"
	elif ! { grep -F -- "$path" "$work/err"; grep -A 1 -F -- "$path" "$work/out" | tr '\n' ' '; } |
		grep -Eq -- "$pattern"; then
		not_ok "$name" "exit $got; no line names $path and matches /$pattern/:" \
			"$(head -c 1500 "$work/err")" "$(grep -F -- "$path" "$work/out" | head -c 500)"
	elif [ -n "$rss" ] && [ "$rss" -ge "$max_rss_kb" ]; then
		not_ok "$name" "peak RSS $rss kB, wanted under $max_rss_kb kB"
	else
		ok "$name"
	fi
}

# The four hostile things, made at PATH: fifo, zero (a symlink to
# /dev/zero, so the path may carry the name trit looks for), dir, sparse.
make_hostile() { # KIND PATH
	rm -rf "$2"
	case $1 in
	fifo) mkfifo "$2" ;;
	zero) ln -s /dev/zero "$2" ;;
	dir) mkdir "$2" ;;
	sparse) truncate -s 64G "$2" ;;
	esac
}
kinds="fifo zero dir"
if truncate -s 64G "$work/probe-sparse" 2>/dev/null; then
	kinds="$kinds sparse"
else
	skip "64 GiB sparse files" "this file system cannot make one"
fi
rm -f "$work/probe-sparse"
# what trit says about each kind where it wants a regular file
says_fifo='is a FIFO, expected a regular file'
says_zero='is a character device, expected a regular file'
says_dir='is a directory, expected a regular file'

# --- the model path -----------------------------------------------------------
for k in $kinds; do
	make_hostile $k "$work/m-$k"
	case $k in
	fifo) want='is a FIFO, expected a model file' ;;
	zero) want='is a character device, expected a model file' ;;
	dir) want='no .*\.safetensors' ;;
	sparse) want='not a model file trit reads' ;;
	esac
	hostile "inspect MODEL where MODEL is $k" "$work/m-$k" "$want" "$trit" inspect "$work/m-$k"
done

# --- a SafeTensors directory: a shard, the index, config.json ----------------
if "$gen" --shape ref-llama --format safetensors --shards 2 -o "$work/st" >/dev/null 2>"$work/err"; then
	shard=$(ls "$work/st" | grep -m 1 '\.safetensors$')
	for target in "$shard" model.safetensors.index.json config.json; do
		cp "$work/st/$target" "$work/keep"
		for k in $kinds; do
			make_hostile $k "$work/st/$target"
			eval "want=\${says_$k:-}"
			case $k.$target in
			sparse.config.json | sparse.model.safetensors.index.json) want='file larger than 16 MiB' ;;
			sparse.*) want='header length 0' ;;
			esac
			hostile "inspect a SafeTensors directory whose $target is $k" "$work/st/$target" "$want" \
				"$trit" inspect "$work/st"
		done
		rm -rf "$work/st/$target"
		mv "$work/keep" "$work/st/$target"
	done
	if "$trit" inspect "$work/st" >/dev/null 2>"$work/err"; then
		ok "the restored SafeTensors directory loads"
	else
		not_ok "the restored SafeTensors directory loads" "$(head -c 1000 "$work/err")"
	fi
else
	not_ok "trit-genmodel writes a sharded SafeTensors model" "$(head -c 1000 "$work/err")"
fi

# --- INI files: -c and --devices ----------------------------------------------
for k in $kinds; do
	make_hostile $k "$work/ini-$k"
	eval "want=\${says_$k:-}"
	[ $k = sparse ] && want=':1: line longer than 4096 bytes'
	hostile "-c FILE where FILE is $k" "$work/ini-$k" "$want" "$trit" -c "$work/ini-$k" config
	hostile "--devices FILE where FILE is $k" "$work/ini-$k" "$want" \
		"$trit" --devices "$work/ini-$k" devices
done

# --- a cluster inventory, and the devices file one of its machines names -----
model="$top_srcdir/models/kjv-bitnet-3M-I2_S.gguf"
for k in $kinds; do
	make_hostile $k "$work/cluster-$k"
	eval "want=\${says_$k:-}"
	[ $k = sparse ] && want=':1: line longer than 4096 bytes'
	hostile "plan --cluster FILE where FILE is $k" "$work/cluster-$k" "$want" \
		"$trit" plan "$model" --cluster "$work/cluster-$k"
	printf '[machine.a]\naddress = a\ndevices = %s\n' "$work/cluster-$k" >"$work/cluster.ini"
	hostile "plan --cluster naming a devices file that is $k" "$work/cluster-$k" "$want" \
		"$trit" plan "$model" --cluster "$work/cluster.ini"
done

# --- the bench cache ----------------------------------------------------------
for k in $kinds; do
	make_hostile $k "$work/cache-$k"
	eval "want=\${says_$k:-}"
	[ $k = sparse ] && want='file larger than 16 MiB'
	hostile "bench --cache FILE where FILE is $k" "$work/cache-$k" "$want" \
		"$trit" bench --cache "$work/cache-$k" --backend ref --shape 64x64 --reps 1
	# devices shows the cache, or says why it shows none, and succeeds
	may_succeed=1
	hostile "TRIT_BENCH_CACHE=FILE devices where FILE is $k" "$work/cache-$k" "$want" \
		env TRIT_BENCH_CACHE="$work/cache-$k" "$trit" devices
	may_succeed=0
done

# --- the probe cache: a warning, never a failure or a hang --------------------
for k in $kinds; do
	make_hostile $k "$work/probe-$k"
	eval "want=\${says_$k:-}"
	[ $k = sparse ] && want='file larger than 4 MiB'
	may_succeed=1
	hostile "TRIT_PROBE_CACHE=FILE devices where FILE is $k" "$work/probe-$k" "$want" \
		env TRIT_PROBE_CACHE="$work/probe-$k" "$trit" devices
	may_succeed=0
done

# --- -f: the prompt of run, the text of tokenize ------------------------------
for k in $kinds; do
	make_hostile $k "$work/text-$k"
	eval "want=\${says_$k:-}"
	[ $k = sparse ] && want='file larger than 64 MiB'
	hostile "run -f FILE where FILE is $k" "$work/text-$k" "$want" \
		"$trit" run -f "$work/text-$k" "$work/no-model.gguf"
	hostile "tokenize -f FILE where FILE is $k" "$work/text-$k" "$want" \
		"$trit" tokenize -f "$work/text-$k" "$work/no-model.gguf"
done

# --- shared objects: a plugin in a plugin directory, the CUDA driver ----------
# `devices --strict` exits 4 when a plugin is skipped; the reason is listed.
for k in $kinds; do
	mkdir -p "$work/plugins-$k"
	make_hostile $k "$work/plugins-$k/hostile.so"
	eval "want=\${says_$k:-}"
	[ $k = sparse ] && want='not a shared object'
	hostile "a plugin directory holding hostile.so as $k" "$work/plugins-$k/hostile.so" "$want" \
		"$trit" -P "$work/plugins-$k" devices --strict
	if [ -f "$top_builddir/plugins/cuda/cuda.la" ]; then
		[ $k = sparse ] && want='no CUDA driver|not a usable CUDA driver|ELF'
		hostile "TRIT_CUDA_DRIVER=FILE where FILE is $k" "$work/plugins-$k/hostile.so" "$want" \
			env TRIT_CUDA_DRIVER="$work/plugins-$k/hostile.so" "$trit" devices --strict
	fi
done

# --- files the CPU plugins read under proc_root (a fixture /proc) --------------
# The plugin still loads, with the memory it could not read unknown and why.
if [ -f "$top_builddir/plugins/cpu_avx2/cpu_avx2.la" ] && grep -qw avx2 /proc/cpuinfo; then
	mkdir -p "$work/proc/self"
	for k in $kinds; do
		make_hostile $k "$work/proc/meminfo"
		eval "want=\${says_$k:-}"
		[ $k = sparse ] && want='is longer than [0-9]+ bytes'
		may_succeed=1
		hostile "cpu_avx2 with proc_root/meminfo as $k" "$work/proc/meminfo" "$want" \
			env TRIT_PLUGIN_CPU_AVX2_PROC_ROOT="$work/proc" "$trit" devices --json
		may_succeed=0
	done
fi

# --- many sections --------------------------------------------------------------
# 5,000 [plugin.*] sections took minutes when listing them was cubic.
awk 'BEGIN { for (i = 0; i < 5000; i++) printf "[plugin.p%d]\nthreads = %d\n", i, i }' \
	>"$work/sections.ini"
timeout -k 5 20 "$trit" -c "$work/sections.ini" config >"$work/out" 2>"$work/err"
got=$?
if [ "$got" -eq 0 ] && grep -q '^\[plugin\.p4999\]$' "$work/out"; then
	ok "an INI file of 5,000 sections loads and lists them within 20 s"
else
	not_ok "an INI file of 5,000 sections loads and lists them within 20 s" "exit $got" \
		"$(head -c 1000 "$work/err")"
fi
awk 'BEGIN { for (i = 0; i <= 10000; i++) printf "[plugin.p%d]\nthreads = %d\n", i, i }' \
	>"$work/sections.ini"
hostile "an INI file of 10,001 sections is refused at the line past the limit" \
	"$work/sections.ini:20001" 'more than 10000 sections' "$trit" -c "$work/sections.ini" config

echo "1..$n"
[ "$failed" -eq 0 ]
