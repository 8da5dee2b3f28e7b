#!/bin/sh
# gpu-bundle.sh - pack what tests/gpu-check.sh needs into .gpu/ (ignored by
# git) so that a bare GPU machine without Debian's packages or a network can
# run it: trit and trit-conformance, the cuda and cpu_avx2 plugins,
# check_cuda_gpu, trit-genmodel, jq, libtrit and every shared library they
# load here except the C library's own and the CUDA driver (the GPU
# machine's). About 15 MB. On the GPU machine, from the repository root:
#     sh .gpu/run.sh
# which sets the library and plugin paths, generates the BitNet-2B-4T-shaped
# model (sparse: zeros take no disk) and runs tests/gpu-check.sh.
#   tests/gpu-bundle.sh [BUILD_DIR]     (a configured, built tree)
set -eu
top=${1:-.}
b=.gpu
real() { # a libtool-built program: the binary itself, not its wrapper script
	d=$(dirname "$1") f=$(basename "$1")
	if [ -f "$d/.libs/$f" ]; then echo "$d/.libs/$f"; else echo "$1"; fi
}
rm -rf "$b"
mkdir -p "$b/lib" "$b/plugins/cuda/.libs" "$b/plugins-dir"
cp "$(real "$top/trit")" "$b/trit"
cp "$(real "$top/trit-conformance")" "$b/trit-conformance"
cp "$(real "$top/plugins/cuda/check_cuda_gpu")" "$b/plugins/cuda/check_cuda_gpu"
cp "$(real "$top/tests/trit-genmodel")" "$b/trit-genmodel"
cp "$top/plugins/cuda/.libs/cuda.so" "$b/plugins/cuda/.libs/cuda.so"
cp "$top/plugins/cpu_avx2/.libs/cpu_avx2.so" "$b/plugins-dir/cpu_avx2.so"
ln -s ../plugins/cuda/.libs/cuda.so "$b/plugins-dir/cuda.so"
cp "$(command -v jq)" "$b/jq"
cp -P "$top"/runtime/.libs/libtrit.so* "$b/lib/"
# every library those load, as this machine resolves them
LD_LIBRARY_PATH="$b/lib" ldd "$b/trit" "$b/trit-conformance" "$b/plugins/cuda/check_cuda_gpu" \
	"$b/trit-genmodel" "$b/jq" "$b/plugins/cuda/.libs/cuda.so" "$b/plugins-dir/cpu_avx2.so" |
	awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u |
	grep -Ev '/(libc|libm|libdl|libpthread|librt|libresolv|ld-linux[^/]*|libcuda)\.so' |
	grep -v "^$PWD/$b/" | while read -r l; do cp -L "$l" "$b/lib/"; done
cat >"$b/run.sh" <<'EOF'
#!/bin/sh
# Made by tests/gpu-bundle.sh: run tests/gpu-check.sh with the bundled build.
here=$(cd "$(dirname "$0")" && pwd)
export LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PATH="$here:$PATH" TRIT_PLUGIN_PATH="$here/plugins-dir"
big=models/bitnet-b1.58-2B-4T-I2_S.gguf
[ -f "$big" ] || "$here/trit-genmodel" --shape BitNet-b1.58-2B-4T --format gguf --type I2_S \
	--vocab-strings -o "$big" >/dev/null
exec sh tests/gpu-check.sh "$here"
EOF
chmod +x "$b/run.sh"
du -sh "$b"
