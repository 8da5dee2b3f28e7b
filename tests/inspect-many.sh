#!/bin/sh
# `trit inspect --json --tensors` on a GGUF of 2^20 tensors (trit's limit):
# the JSON is valid and lists every tensor, and the process's peak memory is
# bounded by the header's size (the tensor list is streamed, not built as a
# tree: a cJSON tree took 2 GiB for a 42 MB header). No time is asserted;
# the run is only killed after 30 s. Speaks TAP. Needs python3.
set -u
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
if ! command -v python3 >/dev/null 2>&1; then
	echo "1..0 # SKIP python3 is needed to write the test file"
	exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/trit-many-XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
: > "$work/empty.ini"
export TRIT_CONFIG="$work/empty.ini" # no operator config (a device such as /dev/null is refused)
unset TRIT_PLUGIN_PATH TRIT_LOG
echo "1..3"

# 2^20 one-byte I8 tensors, short names: the largest tensor count for the
# smallest header (~40 bytes each); the data section is sparse.
python3 "$top_srcdir/tests/mkgguf.py" "$work/many.gguf" <<'EOF' || { echo "Bail out! mkgguf.py failed"; exit 1; }
{"kv": [["general.architecture", "str", "llama"], ["llama.block_count", "u32", 1],
        ["llama.embedding_length", "u32", 8], ["llama.attention.head_count", "u32", 2],
        ["llama.context_length", "u32", 64], ["llama.feed_forward_length", "u32", 16]],
 "many": 1048576}
EOF

# Run it, measure the child's peak RSS (getrusage), check the JSON.
python3 - "$top_builddir/trit" "$work/many.gguf" "$work/out.json" <<'EOF'
import json, os, resource, struct, subprocess, sys, time
trit, model, out = sys.argv[1:4]
with open(model, "rb") as f:
    f.seek(8)
    n_tensors, n_kv = struct.unpack("<QQ", f.read(16))
# the header is the file less its data section (one 32-byte slot a tensor)
header = os.path.getsize(model) - 32 * n_tensors
t0 = time.time()
with open(out, "wb") as o:
    try:
        rc = subprocess.run([trit, "inspect", "--json", "--tensors", model], stdout=o,
                            stderr=subprocess.PIPE, timeout=30).returncode
    except subprocess.TimeoutExpired:
        rc = "killed after 30 s"
secs = time.time() - t0
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # KiB on Linux
bound = 8 * header + 100 * 2**20
print(("ok" if rc == 0 else "not ok") + " 1 - inspect --json --tensors on 2^20 tensors exits 0"
      " (took %.1f s, not asserted)" % secs + ("" if rc == 0 else " # exit %s" % rc))
print(("ok" if rss < bound else "not ok") +
      " 2 - peak RSS %.0f MiB < 8 x the %.1f MiB header + 100 MiB (%.0f MiB)"
      % (rss / 2**20, header / 2**20, bound / 2**20))
# Parse it all, keeping no object (a million dicts would cost a gigabyte):
# count the tensor objects and note the last one's name on the way.
seen = {"n": 0, "last": None, "ne": None}
def pairs(p):
    if p and p[0][0] == "name":
        seen["n"] += 1
        seen["last"] = p[0][1]
        seen["ne"] = dict(p).get("ne")
    return None
try:
    with open(out, encoding="utf-8") as f:
        json.load(f, object_pairs_hook=pairs)
    good = seen["n"] == n_tensors == 2**20 and seen["last"] == "t1048575" and seen["ne"] == [1]
    print(("ok" if good else "not ok") +
          " 3 - the JSON is valid and lists all %d tensors" % seen["n"])
except Exception as e:
    print("not ok 3 - the JSON is valid and lists all 2^20 tensors # %s" % e)
EOF
