#!/usr/bin/env python3
"""peers-bench.py - trit's ternary matmul kernels against bitnet.cpp's I2_S and
ik_llama.cpp's IQ2_BN / IQ2_BN_R4, timed interleaved on the same shapes,
trits, activations, threads and working set.

  tests/peers-bench.py [--bitnet-src DIR] [--ik-src DIR] [--trit PATH] [options]

A manual benchmark, not part of `make check` (it builds two peers and runs
for 15-30 minutes). Run it from trit's build directory on a quiet machine.

DIR are checkouts (or `git archive` exports) of the pinned commits below.
Without one, the script clones the peer from GitHub into BUILD/src and checks
out the pinned commit (git and network needed; clang, clang++ and cmake are
needed either way). It checks the files it builds against their git blob ids
and stops on a mismatch unless --allow-other-commit. It builds into --build DIR (default
/tmp/peers-bench-build): bitnet.cpp's src/ggml-bitnet-mad.cpp and the
ggml_gemm_i2_i8_s driver from its utils/test_gemm_kernel.sh with clang++
-O3 -march=native against a few header declarations written here (the
llama.cpp fork it pins is not needed), and ik_llama.cpp's libggml with its
CMake (Release, GGML_NATIVE, target ggml only, -j2); then peers-harness.c
(beside this script) against each. Nothing of either peer is copied into
trit.

Each round runs, per (tokens, threads), every implementation once over all
its shapes, in an order rotated each round: `trit bench --backend cpu_avx2
--kernel K --json --no-cache` with TRIT_PLUGIN_CPU_AVX2_ISA forced to each
path, and peers-harness for each peer. Every process draws the trits and
activations trit bench draws (its xorshift64* and default seed, per shape in
the same order), checks its output (peers: exact integer dots against a
double reference on both tensors; trit: trit bench's own check), times one
untimed and --reps timed samples of back-to-back matmuls rotating over the
copies, and times a plain streaming read of the same copies with the same
threads. Reported: medians over rounds of each process's median.

Options:
  --trit PATH           trit binary (default ./trit, run from trit's build dir)
  --build DIR           build directory for the peers (default /tmp/peers-bench-build)
  --skip-build          reuse the harness binaries already in --build
  --rounds N            interleaved rounds (default 3; --quick 1)
  --threads LIST        comma-separated (default 1,2)
  --tokens LIST         comma-separated (default 1,8,64; --quick 1,64; 512 works
                        but trit's TL paths take minutes a run there)
  --working-set SIZE    bytes the weights rotate over (default 256MiB)
  --reps N              timed samples per shape for 1 token (default 9; prefill 5,
                        512 tokens 3; --quick halves them)
  --trit-paths LIST     trit kernel/isa pairs, isa avx2 or avx512 (the widest
                        AVX-512 path), or `all` (the six); default
                        i2s/avx2,i2s/avx512,tl1/avx512,tl2/avx512
  --peers LIST          default bitnet-i2s,ik-iq2bn,ik-iq2bn-r4
  --out FILE            raw JSON lines (default BUILD/results.jsonl)
  --stat median|min     the table's figure: the median over rounds of each run's
                        median sample (default), or the fastest sample of all
                        (less sensitive to other load on the machine)
  --report FILE         print the tables of an earlier run's raw results again
  --quick               one round, tokens 1 and 64, fewer samples (about a third
                        of the default run, which took 11 min on a quiet 2-vCPU
                        VM, plus 2-5 min to build the peers the first time)
  --allow-other-commit  build sources that are not the pinned commits
  --ik-tools            also build ik_llama.cpp's llama-bench and llama-quantize
                        (BUILD/ik/bin), which tests/peers-e2e.sh runs (15-25 min
                        more on 2 CPUs)

Shapes: BitNet-b1.58-2B-4T's five (2560x2560, 640x2560, 6912x2560,
2560x6912, 128256x2560) for 1 token; the first four for prefill (a prompt
runs the output matrix on its last token only).
"""
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

BITNET_COMMIT = "16da220ae2b510caff437d403288882687f44ae5"  # 2026-07-21, microsoft/BitNet
IK_COMMIT = "8337e4cd3861406fc04e0854b1409cd1b027fbc9"      # 2026-08-15, ikawrakow/ik_llama.cpp
BITNET_BLOBS = {
    "src/ggml-bitnet-mad.cpp": "ad18bac046371fc92e2ec1d9fb880ecef5e1fd52",
    "include/gemm-config.h": "6a88c42488a3b7aa612d6266f1894d08e241a119",
    "utils/test_gemm_kernel.sh": "ae72c72660e69fbf188e87a453c365db5fe0c8a1",
}
IK_BLOBS = {
    "ggml/include/ggml.h": "b52ecd2e76ac4d669f7f7bd2290d011d2cf86baf",
    "ggml/src/ggml.c": "189add9b823583178fdfe25f3d4a0a8dc2acdec5",
    "ggml/src/iqk/iqk_mul_mat.cpp": "680f2639d4b7b5a37ab7e0f477b4b87cd388b2d6",
    "ggml/src/iqk/iqk_gemm_1bit.cpp": "5c0b9e3b4563d856ef36292bc1455eed5aac6ea4",
    "ggml/src/iqk/iqk_quantize.cpp": "015205c9bef299f652d1972cfac7495dbb6b2047",
}
SHAPES_DECODE = ["2560x2560", "640x2560", "6912x2560", "2560x6912", "128256x2560"]
SHAPES_PREFILL = SHAPES_DECODE[:4]
HERE = os.path.dirname(os.path.abspath(__file__))

# header declarations ggml-bitnet-mad.cpp needs, instead of the fork's ggml
SHIM = {
    "ggml.h": """#pragma once
#include <stddef.h>
#include <stdint.h>
#define GGML_API
#define GGML_RESTRICT __restrict
enum ggml_type { GGML_TYPE_I2_S = 36 };
struct ggml_tensor;
#ifdef __cplusplus
extern "C" {
#endif
size_t ggml_row_size(enum ggml_type type, int64_t ne);
#ifdef __cplusplus
}
#endif
""",
    "ggml-backend.h": "",
    "ggml-cpu-impl.h": "",
    "ggml-quants.h": """#pragma once
#include "ggml.h"
#ifdef __cplusplus
extern "C" {
#endif
size_t quantize_i2_s(const float * src, void * dst, int64_t nrow, int64_t n_per_row, const float * quant_weights);
void ggml_vec_dot_i2_i8_s(int n, float * s, size_t bs, const void * vx, size_t bx, const void * vy, size_t by, int nrc);
void ggml_vec_dot_i2_i8_s_1x1(int n, float * s, size_t bs, const void * vx, size_t bx, const void * vy, size_t by, int nrc);
void ggml_vec_dot_i2_i8_s_1x4_32W(int n, float * s, size_t bs, const void * vx, size_t bx, const void * vy, size_t by, int nrc);
void ggml_vec_dot_i2_i8_s_1xN(int n, float * s, size_t bs, const void * vx, size_t bx, const void * vy, size_t by, int nrc);
void ggml_vec_dot_i2_i8_s_Nx1(int n, float * s, size_t bs, const void * vx, size_t bx, const void * vy, size_t by, int nrc);
#ifdef __cplusplus
}
#endif
""",
}


def die(msg):
    sys.stderr.write("peers-bench: %s\n" % msg)
    sys.exit(1)


def log(msg):
    sys.stderr.write("peers-bench: %s\n" % msg)
    sys.stderr.flush()


def blob_id(path):
    with open(path, "rb") as f:
        data = f.read()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def verify(name, src, commit, blobs, allow):
    if not os.path.isdir(src):
        die("%s source %s is not a directory" % (name, src))
    head = None
    if os.path.exists(os.path.join(src, ".git")):
        r = subprocess.run(["git", "-C", src, "rev-parse", "HEAD"], capture_output=True, text=True)
        head = r.stdout.strip() if r.returncode == 0 else None
    bad = []
    for rel, want in blobs.items():
        p = os.path.join(src, rel)
        got = blob_id(p) if os.path.isfile(p) else "missing"
        if got != want:
            bad.append("%s: %s, pinned %s" % (rel, got[:12], want[:12]))
    where = "checkout at %s" % head[:12] if head else "tree without .git"
    if bad or (head and head != commit):
        msg = "%s source %s (%s) is not the pinned commit %s: %s" % (
            name, src, where, commit[:12], "; ".join(bad) or "HEAD differs")
        if not allow:
            die(msg + " (--allow-other-commit builds it anyway)")
        log("warning: " + msg)
        return "other than %s (%s)" % (commit[:12], "; ".join(bad) or head)
    log("%s: %s, files match the pinned commit %s" % (name, where, commit[:12]))
    return commit


REPOS = {"bitnet-src": "https://github.com/microsoft/BitNet",
         "ik-src": "https://github.com/ikawrakow/ik_llama.cpp"}


def clone(key, commit, build):
    """Clone the peer into BUILD/src/NAME at the pinned commit (or reuse that
    clone); returns its path."""
    dst = os.path.join(build, "src", key[:-4])
    if not os.path.isdir(os.path.join(dst, ".git")):
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        log("cloning %s into %s (no --%s given)" % (REPOS[key], dst, key))
        r = subprocess.run(["git", "clone", "-q", "--filter=blob:none", REPOS[key], dst])
        if r.returncode:
            die("git clone %s failed; give a checkout of %s with --%s DIR" % (
                REPOS[key], commit, key))
    r = subprocess.run(["git", "-C", dst, "checkout", "-q", commit])
    if r.returncode:
        die("%s has no commit %s (git checkout failed); give a checkout with --%s DIR" % (
            dst, commit, key))
    return dst


def run(cmd, logf, cwd=None, env=None):
    with open(logf, "a") as f:
        f.write("$ %s\n" % " ".join(cmd))
        f.flush()
        r = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, cwd=cwd, env=env)
    if r.returncode:
        with open(logf) as f:
            tail = f.read()[-3000:]
        die("failed: %s\n%s" % (" ".join(cmd), tail))


def build_bitnet(src, build):
    d = os.path.join(build, "bitnet")
    shim = os.path.join(d, "shim")
    os.makedirs(shim, exist_ok=True)
    logf = os.path.join(d, "build.log")
    for name, text in SHIM.items():
        with open(os.path.join(shim, name), "w") as f:
            f.write(text)
    # the driver from bitnet.cpp's own GEMM benchmark, as the script embeds it
    with open(os.path.join(src, "utils/test_gemm_kernel.sh")) as f:
        lines = f.read().split("\n")
    try:
        a = lines.index("// Function declarations (from ggml-quants.h)")
        b = lines.index("// Helper function to get current time in nanoseconds")
    except ValueError:
        die("utils/test_gemm_kernel.sh has no ggml_gemm_i2_i8_s section where expected")
    with open(os.path.join(d, "gemm.cpp"), "w") as f:
        f.write("#include <stdint.h>\n#include <stddef.h>\n#include \"gemm-config.h\"\n"
                "extern \"C\" void ggml_gemm_i2_i8_s(int n, float * s, size_t bs, const void * vx,"
                " const void * vy, int nr, int nc);\n")
        f.write("\n".join(lines[a:b]) + "\n")
    cxx = ["clang++", "-O3", "-DNDEBUG", "-march=native", "-std=c++17", "-I" + shim,
           "-I" + os.path.join(src, "include")]
    run(cxx + ["-c", os.path.join(src, "src/ggml-bitnet-mad.cpp"), "-o",
               os.path.join(d, "mad.o")], logf)
    run(cxx + ["-c", os.path.join(d, "gemm.cpp"), "-o", os.path.join(d, "gemm.o")], logf)
    run(["clang", "-std=c11", "-O2", "-march=native", "-Wall", "-Wextra", "-DPEER_BITNET", "-c",
         os.path.join(HERE, "peers-harness.c"), "-o", os.path.join(d, "harness.o")], logf)
    out = os.path.join(d, "peers-harness")
    run(["clang++", "-o", out, os.path.join(d, "harness.o"), os.path.join(d, "mad.o"),
         os.path.join(d, "gemm.o"), "-lpthread", "-lm"], logf)
    return out


def build_ik(src, build, tools=False):
    d = os.path.join(build, "ik")
    os.makedirs(d, exist_ok=True)
    logf = os.path.join(d, "build.log")
    cm = d
    run(["cmake", "-S", src, "-B", cm, "-DCMAKE_BUILD_TYPE=Release", "-DGGML_NATIVE=ON",
         "-DBUILD_SHARED_LIBS=ON", "-DLLAMA_BUILD_TESTS=OFF",
         "-DLLAMA_BUILD_EXAMPLES=" + ("ON" if tools else "OFF"),
         "-DLLAMA_BUILD_SERVER=OFF", "-DLLAMA_CURL=OFF", "-DGGML_CCACHE=OFF"], logf)
    run(["cmake", "--build", cm, "-j2", "--target", "ggml"] +
        (["llama-bench", "llama-quantize"] if tools else []), logf)
    lib = os.path.join(cm, "ggml", "src")
    out = os.path.join(d, "peers-harness")
    run(["cc", "-std=c11", "-O2", "-march=native", "-Wall", "-Wextra", "-DPEER_IK",
         "-I" + os.path.join(src, "ggml", "include"), os.path.join(HERE, "peers-harness.c"),
         "-o", out, "-L" + lib, "-lggml", "-Wl,-rpath," + lib, "-lpthread", "-lm"], logf)
    return out


def parse_size(s):
    for suf, mul in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("", 1)):
        if s.endswith(suf) and s[:len(s) - len(suf)].isdigit():
            return int(s[:len(s) - len(suf)]) * mul
    die("--working-set %s: expected e.g. 256MiB" % s)


def reps_for(tokens, base, quick):
    r = base if tokens == 1 else 5 if tokens < 512 else 3
    return max(3, r // 2) if quick else r


def busy_jiffies():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v) - v[3] - v[4]  # all but idle and iowait


def others_share(fn):
    """Run fn(); return its value and the share of the machine's CPUs that
    other processes used meanwhile (0 = nothing else ran)."""
    import resource
    tck = os.sysconf("SC_CLK_TCK")
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    b0, t0 = busy_jiffies(), time.time()
    val = fn()
    b1, t1 = busy_jiffies(), time.time()
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
    other = max(0.0, (b1 - b0) / tck - own)
    return val, other / max(t1 - t0, 1e-6) / os.cpu_count()


def run_trit(trit, path, shapes, tokens, threads, ws, reps, env):
    kernel, isa = path.split("/")
    e = dict(env, TRIT_PLUGIN_CPU_AVX2_ISA=isa)
    cmd = [trit, "bench", "--backend", "cpu_avx2", "--kernel", kernel, "--tokens", str(tokens),
           "--threads", str(threads), "--working-set", str(ws), "--reps", str(reps), "--json",
           "--no-cache", "-q"]
    for s in shapes:
        cmd += ["--shape", s]
    r = subprocess.run(cmd, capture_output=True, text=True, env=e)
    if r.returncode:
        die("%s failed (%d): %s" % (" ".join(cmd), r.returncode, r.stderr[-2000:]))
    doc = json.loads(r.stdout)
    if doc.get("refused") or len(doc["results"]) != 1:
        die("trit bench refused or gave no result: %s" % r.stdout[-2000:])
    res = doc["results"][0]
    out = []
    for sh in res["shapes"]:
        out.append({"impl": "trit-%s-%s" % (kernel, isa), "isa_reported": res.get("isa"),
                    "rows": sh["rows"], "cols": sh["cols"], "tokens": tokens,
                    "threads": threads, "bytes": sh["bytes"], "copies": sh["copies"],
                    "batch": sh["batch"], "median": sh["seconds"]["median"],
                    "min": sh["seconds"]["min"],
                    "read_median": sh["bytes"] / sh["read_bytes_per_s"],
                    "check": {"ok": True, "by": "trit bench"}})
    return out


def run_peer(binary, impl, shapes, tokens, threads, ws, reps, env):
    cmd = [binary, "--impl", impl, "--tokens", str(tokens), "--threads", str(threads),
           "--working-set", str(ws), "--reps", str(reps)]
    for s in shapes:
        cmd += ["--shape", s]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode:
        die("%s failed (%d): %s" % (" ".join(cmd), r.returncode, r.stderr[-2000:]))
    return [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]


def main(argv):
    a = {"trit": "./trit", "build": "/tmp/peers-bench-build", "rounds": None, "threads": "1,2",
         "tokens": None, "working-set": "256MiB", "reps": "9", "trit-paths": None,
         "peers": "bitnet-i2s,ik-iq2bn,ik-iq2bn-r4", "out": None, "stat": "median",
         "report": None}
    flags = set()
    i = 1
    while i < len(argv):
        o = argv[i]
        if o in ("-h", "--help"):
            print(__doc__)
            return 0
        if o in ("--skip-build", "--quick", "--allow-other-commit", "--ik-tools"):
            flags.add(o[2:])
            i += 1
            continue
        if not o.startswith("--") or i + 1 >= len(argv):
            die("bad argument %s (--help)" % o)
        k = o[2:]
        if k not in a and k not in ("bitnet-src", "ik-src"):
            die("unknown option %s (--help)" % o)
        a[k] = argv[i + 1]
        i += 2
    if a["stat"] not in ("median", "min"):
        die("--stat %s: median or min" % a["stat"])
    if a["report"]:
        return report_file(a["report"], a["stat"])
    quick = "quick" in flags
    rounds = int(a["rounds"] or (1 if quick else 3))
    threads = [int(t) for t in a["threads"].split(",")]
    tokens = [int(t) for t in (a["tokens"] or ("1,64" if quick else "1,8,64")).split(",")]
    ws = parse_size(a["working-set"])
    peers = [p for p in a["peers"].split(",") if p]
    paths = a["trit-paths"] or "i2s/avx2,i2s/avx512,tl1/avx512,tl2/avx512"
    if paths == "all":
        paths = "i2s/avx2,i2s/avx512,tl1/avx2,tl1/avx512,tl2/avx2,tl2/avx512"
    paths = paths.split(",")
    for pth in paths:
        if pth.count("/") != 1 or pth.split("/")[0] not in ("i2s", "tl1", "tl2") or \
                pth.split("/")[1] not in ("avx2", "avx512"):
            die("--trit-paths: %s is not KERNEL/ISA (i2s, tl1, tl2 / avx2, avx512)" % pth)
    for pe in peers:
        if pe not in ("bitnet-i2s", "ik-iq2bn", "ik-iq2bn-r4"):
            die("--peers: unknown %s (bitnet-i2s, ik-iq2bn, ik-iq2bn-r4)" % pe)
    build = os.path.abspath(a["build"])
    os.makedirs(build, exist_ok=True)
    out = a["out"] or os.path.join(build, "results.jsonl")
    trit = os.path.abspath(a["trit"])
    if not os.access(trit, os.X_OK):
        die("%s is not executable (--trit, or run from trit's build directory)" % trit)

    bins, pins = {}, {}
    need_bitnet = any(p.startswith("bitnet") for p in peers)
    need_ik = any(p.startswith("ik") for p in peers)
    for name, key, commit, blobs, fn, needed in (
            ("bitnet.cpp", "bitnet-src", BITNET_COMMIT, BITNET_BLOBS, build_bitnet, need_bitnet),
            ("ik_llama.cpp", "ik-src", IK_COMMIT, IK_BLOBS, build_ik, need_ik)):
        if not needed:
            continue
        sub = "bitnet" if key == "bitnet-src" else "ik"
        binary = os.path.join(build, sub, "peers-harness")
        if "skip-build" in flags:
            if not os.access(binary, os.X_OK):
                die("--skip-build: %s is not built" % binary)
            pins[name] = "as built in %s" % build
        else:
            src = os.path.abspath(a[key]) if key in a else clone(key, commit, build)
            pins[name] = verify(name, src, commit, blobs, "allow-other-commit" in flags)
            log("building %s into %s" % (name, os.path.join(build, sub)))
            binary = fn(src, build, "ik-tools" in flags) if sub == "ik" else fn(src, build)
        bins[sub] = binary

    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TRIT_") and k not in ("OMP_NUM_THREADS",)}
    env["XDG_CACHE_HOME"] = os.path.join(build, "xdg")
    env["TRIT_PROBE_CACHE"] = os.path.join(build, "probe.json")

    impls = ["trit:" + p for p in paths] + ["peer:" + p for p in peers]
    configs = [(t, th) for t in tokens for th in threads]
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), "?")
    t_start = time.time()
    meta = {"cpu": cpu, "ncpu": os.cpu_count(), "working_set": ws, "rounds": rounds,
            "pins": pins, "names": [impl_name(i) for i in impls], "configs": configs,
            "load_start": open("/proc/loadavg").read().split()[:3]}
    rows_all = []
    with open(out, "w") as raw:
        raw.write(json.dumps({"meta": meta}) + "\n")
        for rnd in range(rounds):
            for ci, (tok, th) in enumerate(configs):
                shapes = SHAPES_DECODE if tok == 1 else SHAPES_PREFILL
                reps = reps_for(tok, int(a["reps"]), quick)
                k = (rnd + ci) % len(impls)
                for impl in impls[k:] + impls[:k]:
                    kind, name = impl.split(":")
                    log("round %d/%d, %d token%s, %d thread%s: %s" % (
                        rnd + 1, rounds, tok, "" if tok == 1 else "s", th,
                        "" if th == 1 else "s", name))
                    t0 = time.time()
                    if kind == "trit":
                        rows, oth = others_share(lambda: run_trit(
                            trit, name, shapes, tok, th, ws, reps, env))
                    else:
                        b = bins["bitnet" if name.startswith("bitnet") else "ik"]
                        rows, oth = others_share(lambda: run_peer(
                            b, name, shapes, tok, th, ws, reps, env))
                    log("  %.1f s, others used %.0f%% of the CPUs, load average %s" % (
                        time.time() - t0, 100 * oth, open("/proc/loadavg").read().split()[0]))
                    for r in rows:
                        if not r["check"]["ok"]:
                            die("%s failed its check: %s" % (name, json.dumps(r)))
                        r["round"] = rnd
                        r["others_cpu"] = oth
                        raw.write(json.dumps(r) + "\n")
                        rows_all.append(r)
                    raw.flush()
        meta["load_end"] = open("/proc/loadavg").read().split()[:3]
        meta["seconds"] = time.time() - t_start
        raw.write(json.dumps({"meta_end": meta}) + "\n")
    report(meta, rows_all, a["stat"], out)
    return 0


def impl_name(i):
    kind, n = i.split(":")
    return "trit-" + n.replace("/", "-") if kind == "trit" else n


def report_file(path, stat):
    meta, rows = None, []
    with open(path) as f:
        for l in f:
            d = json.loads(l)
            if "meta" in d:
                meta = d["meta"]
            elif "meta_end" in d:
                meta = d["meta_end"]
            else:
                rows.append(d)
    if not meta:
        die("%s has no meta line: not a peers-bench raw file" % path)
    meta.setdefault("load_end", ["?"] * 3)
    meta.setdefault("seconds", 0)
    report(meta, rows, stat, path)
    return 0


def med(rs, f):
    return statistics.median(f(r) for r in rs)


def report(meta, rows, stat, out):
    results = {}
    for r in rows:
        key = (r["impl"], r["tokens"], r["threads"], "%dx%d" % (r["rows"], r["cols"]))
        results.setdefault(key, []).append(r)
    names, configs = meta["names"], [tuple(c) for c in meta["configs"]]
    if stat == "min":
        pick = lambda rs: min(r["min"] for r in rs)
        what = "ms per matmul (the fastest sample of all rounds)"
    else:
        pick = lambda rs: med(rs, lambda r: r["median"])
        what = "ms per matmul (median over rounds of each run's median)"
    p = print
    p("# trit vs bitnet.cpp vs ik_llama.cpp: ternary matmul, weights rotated over %d MiB"
      % (meta["working_set"] >> 20))
    p("# CPU: %s, %d online CPUs; load average %s at the start, %s at the end; %d round%s, %.0f s"
      % (meta["cpu"], meta["ncpu"], " ".join(meta["load_start"]), " ".join(meta["load_end"]),
         meta["rounds"], "" if meta["rounds"] == 1 else "s", meta["seconds"]))
    for k, v in meta["pins"].items():
        p("# %s: %s" % (k, v))
    p("# cells, 1 token: %s / weight GB/s / fraction of the streaming read (trit bench's "
      "baseline over the same working set, rotation and threads; median of its runs)" % what)
    p("# cells, prefill: %s / GOP/s (2 x M x K x tokens)" % what)
    p("# speed-up: the best peer's ms / the best trit path's ms (> 1: trit is faster)")
    p("# others' CPU: the share of the machine other processes used during these runs (median)")
    for tok, th in configs:
        shapes = SHAPES_DECODE if tok == 1 else SHAPES_PREFILL
        oth = [r["others_cpu"] for r in rows if r["tokens"] == tok and r["threads"] == th
               and "others_cpu" in r]
        p("")
        p("## %d token%s, %d thread%s (others' CPU %s)" % (
            tok, "" if tok == 1 else "s", th, "" if th == 1 else "s",
            "%.0f%%" % (100 * statistics.median(oth)) if oth else "unknown"))
        p("")
        p("| implementation | " + " | ".join(shapes) + " | all shapes |")
        p("|---" * (len(shapes) + 2) + "|")
        best, rbps = {}, {}
        for s in shapes:
            # the streaming read: trit bench's baseline (the same bytes, rotation and
            # threads), median over its runs; the peers' fractions use it too
            rr = [r["bytes"] / r["read_median"] for n in names if n.startswith("trit")
                  for r in results.get((n, tok, th, s), [])]
            rbps[s] = statistics.median(rr) if rr else None
        for n in names:
            cells, tb, tt, tr, to = [], 0, 0, 0, 0
            for s in shapes:
                rs = results.get((n, tok, th, s))
                if not rs:
                    cells.append("-")
                    continue
                m, by = pick(rs), rs[0]["bytes"]
                rd = by / rbps[s] if rbps[s] else med(rs, lambda r: r["read_median"])
                ops = 2.0 * rs[0]["rows"] * rs[0]["cols"] * tok
                tb, tt, tr, to = tb + by, tt + m, tr + rd, to + ops
                if tok == 1:
                    cells.append("%.3f / %.1f / %.2f" % (m * 1e3, by / m / 1e9, rd / m))
                else:
                    cells.append("%.3f / %.0f" % (m * 1e3, ops / m / 1e9))
                grp = "trit" if n.startswith("trit") else "peer"
                if (grp, s) not in best or m < best[(grp, s)][0]:
                    best[(grp, s)] = (m, n)
            if tt and tok == 1:
                cells.append("%.1f GB/s / %.2f" % (tb / tt / 1e9, tr / tt))
            elif tt:
                cells.append("%.0f GOP/s" % (to / tt / 1e9))
            p("| %s | %s |" % (n, " | ".join(cells)))
        if tok == 1:
            p("| streaming read | %s | |" % " | ".join(
                "%.1f GB/s" % (rbps[s] / 1e9) if rbps[s] else "-" for s in shapes))
        sp = []
        for s in shapes:
            if ("trit", s) in best and ("peer", s) in best:
                sp.append("%.2f (%s vs %s)" % (best[("peer", s)][0] / best[("trit", s)][0],
                                               best[("trit", s)][1], best[("peer", s)][1]))
            else:
                sp.append("-")
        p("| speed-up | %s | |" % " | ".join(sp))
    p("")
    p("# raw results: %s" % out)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
