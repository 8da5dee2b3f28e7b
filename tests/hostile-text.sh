#!/bin/sh
# Text from a model file cannot drive the terminal: a GGUF whose
# general.name, architecture, metadata keys and tensor names hold escape
# sequences, bells, C1 controls and malformed UTF-8 is inspected, planned and
# refused, and no output (stdout or stderr) holds a raw control byte; the JSON
# forms stay valid and keep the names exactly. Also `trit tokenize` on a
# vocabulary with such pieces. Speaks TAP. Needs python3 (the GGUF writer).
set -u
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
trit="$top_builddir/trit"
mk="$top_srcdir/tests/mkgguf.py"
if ! command -v python3 >/dev/null 2>&1; then
	echo "1..0 # SKIP python3 is needed to write the test files"
	exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/trit-hostile-XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
n=0
: > "$work/empty.ini"
export TRIT_CONFIG="$work/empty.ini" # no operator config (a device such as /dev/null is refused)
unset TRIT_PLUGIN_PATH TRIT_LOG

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
# clean NAME WANT_STATUS CMD...: CMD exits WANT_STATUS and writes no byte a
# terminal acts on: C0 controls but tab and newline (trit's own layout), DEL,
# C1 (as UTF-8: C2 80..9F).
clean() {
	name=$1 want=$2; shift 2
	"$@" >"$work/out" 2>"$work/err"; got=$?
	if [ "$got" -ne "$want" ]; then
		not_ok "$name" "exit $got, wanted $want" "$(head -c 1500 "$work/err" | od -c | head -20)"
		return
	fi
	bad=$(cat "$work/out" "$work/err" | python3 -c '
import re, sys
b = sys.stdin.buffer.read()
m = re.search(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]", b)
print("" if not m else "raw byte %r at %d: %r" % (m.group(), m.start(), b[max(0, m.start() - 40):m.start() + 20]))')
	if [ -z "$bad" ]; then ok "$name"; else not_ok "$name" "$bad"; fi
}
# expect NAME FILE PATTERN
expect() {
	if grep -Eq -- "$3" "$2"; then ok "$1"; else not_ok "$1" "no match for /$3/ in:" "$(head -c 1500 "$2")"; fi
}

# A small llama whose strings are hostile. ESC ] 0 ; ... BEL sets the window
# title, ESC [ 31 m turns text red, U+009B is CSI on terminals that take C1.
hostile='\u001b]0;pwned\u0007\u001b[31m'
python3 "$mk" "$work/h.gguf" <<EOF || { echo "Bail out! mkgguf.py failed"; exit 1; }
{"kv": [["general.architecture", "str", "llama"],
        ["general.name", "str", "name$hostile\u009b2J"],
        ["llama.block_count", "u32", 1], ["llama.embedding_length", "u32", 8],
        ["llama.attention.head_count", "u32", 2], ["llama.context_length", "u32", 64],
        ["llama.feed_forward_length", "u32", 16], ["llama.vocab_size", "u32", 4],
        ["llama.$hostile", "u32", 1]],
 "tensors": [["token_embd.weight", "F32", [8, 4]], ["output_norm.weight", "F32", [8]],
             ["blk.0.attn_norm.weight", "F32", [8]], ["blk.0.attn_q.weight", "F32", [8, 8]],
             ["blk.0.attn_k.weight", "F32", [8, 8]], ["blk.0.attn_v.weight", "F32", [8, 8]],
             ["blk.0.attn_output.weight", "F32", [8, 8]], ["blk.0.ffn_norm.weight", "F32", [8]],
             ["blk.0.ffn_gate.weight", "F32", [8, 16]], ["blk.0.ffn_up.weight", "F32", [8, 16]],
             ["blk.0.ffn_down.weight", "F32", [16, 8]],
             ["blk.0.x$hostile\u009b\u0085", "F32", [8]],
             ["bytes:bad\u00ff\u00c3name", "F32", [8]]]}
EOF

clean "inspect --tensors writes no control byte" 0 "$trit" inspect --tensors "$work/h.gguf"
expect "the hostile tensor name is shown escaped" "$work/out" 'blk\.0\.x\\x1b\]0;pwned\\x07\\x1b\[31m\\u\{9b\}\\u\{85\}'
expect "malformed UTF-8 in a name is shown byte by byte" "$work/out" 'bad\\xff\\xc3name'
expect "the warning quoting the name is escaped too" "$work/out" "tensor blk\\.0\\.x\\\\x1b"
clean "plan writes no control byte" 0 "$trit" plan "$work/h.gguf"
clean "plan --explain writes no control byte" 0 "$trit" plan --explain "$work/h.gguf"
clean "inspect --json --tensors writes no control byte" 0 "$trit" inspect --json --tensors "$work/h.gguf"
if python3 -c '
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
names = [t["name"] for t in d["tensors"]]
assert "blk.0.x\x1b]0;pwned\x07\x1b[31m\x9b\x85" in names, names
assert "bad\ufffd\ufffdname" in names, names
' "$work/out" 2>"$work/py"; then
	ok "the JSON is valid UTF-8 and keeps the names (malformed bytes as U+FFFD)"
else
	not_ok "the JSON is valid UTF-8 and keeps the names (malformed bytes as U+FFFD)" "$(cat "$work/py")"
fi

# An unknown architecture named by the file reaches warnings and errors.
python3 "$mk" "$work/a.gguf" <<EOF || { echo "Bail out! mkgguf.py failed"; exit 1; }
{"kv": [["general.architecture", "str", "arch$hostile"]],
 "tensors": [["token_embd.weight", "F32", [8, 4]]]}
EOF
clean "an error quoting the architecture writes no control byte" 1 "$trit" inspect "$work/a.gguf"
expect "the error names the key, escaped" "$work/err" 'arch\\x1b\]0;pwned\\x07\\x1b\[31m\.block_count'
clean "plan's error writes no control byte" 1 "$trit" plan "$work/a.gguf"

# trit tokenize: a byte-level BPE vocabulary whose pieces include DEL and
# U+009B (its two bytes merged), shown in text form.
python3 - "$work/tok.json" <<'EOF'
import json, sys
def bytes_to_unicode():
    bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b); cs.append(256 + n); n += 1
    return dict(zip(bs, map(chr, cs)))
u = bytes_to_unicode()
vocab = {u[b]: b for b in range(256)}
vocab[u[0xc2] + u[0x9b]] = 256
json.dump({"model": {"type": "BPE", "vocab": vocab, "merges": [u[0xc2] + " " + u[0x9b]]},
           "added_tokens": []}, open(sys.argv[1], "w"))
EOF
if "$top_builddir/tests/trit-genvocab" --model gpt2 --pre gpt-2 "$work/tok.json" "$work/tok.gguf" \
	>"$work/gv" 2>&1; then
	clean "tokenize shows DEL, ESC and C1 pieces escaped" 0 \
		"$trit" tokenize "$work/tok.gguf" "$(printf 'a\177b\033c\302\233')"
	expect "the C1 piece is one token, written \\u009b" "$work/out" '"\\u009b"'
else
	not_ok "trit-genvocab wrote the vocabulary" "$(cat "$work/gv")"
fi
echo "1..$n"
