#!/usr/bin/env python3
"""mkgguf.py - write a GGUF v3 file from a JSON description, for tests that
need headers trit-genmodel does not write on purpose: hostile strings,
impossible hyper-parameters, a million tensors. The data section is sparse
(never written), so a file costs its header on disk.

    mkgguf.py OUT.gguf < SPEC.json

SPEC: {"kv": [[KEY, TYPE, VALUE], ...],      TYPE: u32 u64 i32 f32 bool str,
                                            or "arr_u32" / "arr_str" (VALUE a list)
       "tensors": [[NAME, TYPE, [NE0, ...]], ...],   TYPE: F32 F16 I8
       "many": N}                           N more 1-element I8 tensors "t0".."tN-1"
Strings (keys, values, names) are written as UTF-8 after JSON decoding;
"\\u00XX" escapes in the JSON stand for the raw byte 0xXX when the string is
marked with a leading "bytes:" (for malformed UTF-8).
"""
import json
import struct
import sys

VT = {"u32": (4, "<I"), "i32": (5, "<i"), "f32": (6, "<f"), "bool": (7, "<B"),
      "str": (8, None), "u64": (10, "<Q")}
GT = {"F32": (0, 4), "F16": (1, 2), "I8": (24, 1)}


def raw(s):
    if s.startswith("bytes:"):
        return s[6:].encode("latin-1")
    return s.encode("utf-8")


def gstr(s):
    b = raw(s)
    return struct.pack("<Q", len(b)) + b


def value(vtype, v):
    if vtype.startswith("arr_"):
        et = vtype[4:]
        body = b"".join(gstr(x) if et == "str" else struct.pack(VT[et][1], x) for x in v)
        return struct.pack("<I", 9) + struct.pack("<IQ", VT[et][0], len(v)) + body
    tid, fmt = VT[vtype]
    return struct.pack("<I", tid) + (gstr(v) if vtype == "str" else struct.pack(fmt, v))


def main():
    spec = json.load(sys.stdin)
    kvs = spec.get("kv", [])
    align = next((v for k, t, v in kvs if k == "general.alignment"), 32)
    infos, offset = [], 0
    for name, ttype, ne in spec.get("tensors", []):
        tid, esize = GT[ttype]
        n = 1
        for d in ne:
            n *= d
        infos.append(gstr(name) + struct.pack("<I", len(ne)) +
                     b"".join(struct.pack("<Q", d) for d in ne) + struct.pack("<IQ", tid, offset))
        offset += (n * esize + align - 1) // align * align
    many = spec.get("many", 0)
    tail = struct.pack("<IQI", 1, 1, 24)
    for i in range(many):
        infos.append(gstr("t%d" % i) + tail + struct.pack("<Q", offset))
        offset += align
    out = [b"GGUF", struct.pack("<IQQ", 3, len(infos), len(kvs))]
    out += [gstr(k) + value(t, v) for k, t, v in kvs]
    out += infos
    with open(sys.argv[1], "wb") as f:
        f.write(b"".join(out))
        pad = (align - f.tell() % align) % align
        f.truncate(f.tell() + pad + offset)


main()
