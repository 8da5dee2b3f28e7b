#!/usr/bin/env python3
# bitnetcpp-rearch.py - rewrite a GGUF's architecture name, and only its
# metadata, for tests/bitnetcpp-compare.sh: bitnet.cpp's pinned llama.cpp
# fork (406a503, Oct 2024) knows the BitNet graph as "bitnet" (LLM_ARCH_BITNET)
# and not as "bitnet-b1.58", the name trit-genmodel's BitNet-b1.58-2B-4T shape
# carries. general.architecture and every "<old>." key prefix become the new
# name; keys in DROP are removed; tensor infos and tensor data are copied
# unchanged (the data section is re-aligned after the new header, and the
# tensor offsets are relative to it). Pure Python 3, no numpy.
#
#   bitnetcpp-rearch.py [--drop KEY]... IN.gguf OUT.gguf NEW-ARCH
#   bitnetcpp-rearch.py --list IN.gguf      (prints every key, type, value)
import os
import shutil
import struct
import sys

# GGUF value types (FORMATS.md / gguf spec): id -> struct code (None: special)
SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?",
           10: "Q", 11: "q", 12: "d"}
T_STRING, T_ARRAY = 8, 9


class Reader:
    """Sequential little-endian reads over a file object."""

    def __init__(self, f):
        self.f = f

    def take(self, fmt):
        size = struct.calcsize("<" + fmt)
        raw = self.f.read(size)
        if len(raw) != size:
            raise ValueError("truncated GGUF header")
        return struct.unpack("<" + fmt, raw)[0]

    def string(self):
        n = self.take("Q")
        raw = self.f.read(n)
        if len(raw) != n:
            raise ValueError("truncated GGUF string")
        return raw

    def value(self, vtype):
        """One value as its raw bytes (re-emitted verbatim) and a short text."""
        if vtype in SCALARS:
            v = self.take(SCALARS[vtype])
            return struct.pack("<" + SCALARS[vtype], v), repr(v)
        if vtype == T_STRING:
            s = self.string()
            return struct.pack("<Q", len(s)) + s, repr(s.decode("utf-8", "replace"))
        if vtype == T_ARRAY:
            etype, n = self.take("I"), self.take("Q")
            parts = [struct.pack("<IQ", etype, n)]
            first = []
            for i in range(n):
                raw, text = self.value(etype)
                parts.append(raw)
                if i < 3:
                    first.append(text)
            return b"".join(parts), "[%d x type %d: %s%s]" % (
                n, etype, ", ".join(first), ", ..." if n > 3 else "")
        raise ValueError("unknown GGUF value type %d" % vtype)


def read_header(f):
    r = Reader(f)
    if f.read(4) != b"GGUF":
        raise ValueError("not a GGUF file")
    version = r.take("I")
    if version not in (2, 3):
        raise ValueError("GGUF version %d is not handled" % version)
    n_tensors, n_kv = r.take("Q"), r.take("Q")
    kvs = []
    for _ in range(n_kv):
        key = r.string().decode("utf-8")
        vtype = r.take("I")
        raw, text = r.value(vtype)
        kvs.append((key, vtype, raw, text))
    tensors = []
    for _ in range(n_tensors):
        start = f.tell()
        r.string()
        n_dims = r.take("I")
        f.seek(8 * n_dims + 4 + 8, os.SEEK_CUR)
        end = f.tell()
        f.seek(start)
        tensors.append(f.read(end - start))
    return version, kvs, tensors, f.tell()


def alignment(kvs):
    for key, vtype, raw, _ in kvs:
        if key == "general.alignment" and vtype == 4:
            return struct.unpack("<I", raw)[0]
    return 32


def rename(kvs, old, new, drop):
    out = []
    for key, vtype, raw, text in kvs:
        if key in drop:
            continue
        if key == "general.architecture":
            raw = struct.pack("<Q", len(new)) + new.encode()
        elif key.startswith(old + "."):
            key = new + key[len(old):]
        out.append((key, vtype, raw, text))
    return out


def arch_of(kvs):
    for key, vtype, raw, _ in kvs:
        if key == "general.architecture" and vtype == T_STRING:
            return raw[8:].decode("utf-8")
    raise ValueError("no general.architecture")


def write(src, dst, version, kvs, tensors, data_start):
    align = alignment(kvs)
    with open(dst, "wb") as g:
        g.write(b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs)))
        for key, vtype, raw, _ in kvs:
            k = key.encode()
            g.write(struct.pack("<Q", len(k)) + k + struct.pack("<I", vtype) + raw)
        for t in tensors:
            g.write(t)
        g.write(b"\0" * (-g.tell() % align))
        # the source's data section starts at its header's end, aligned
        # the same way (general.alignment is kept as it was)
        src.seek(data_start + (-data_start % align))
        shutil.copyfileobj(src, g, 1 << 24)


def main(argv):
    drop = set()
    while len(argv) > 2 and argv[1] == "--drop":
        drop.add(argv[2])
        argv = argv[:1] + argv[3:]
    if len(argv) == 3 and argv[1] == "--list":
        with open(argv[2], "rb") as f:
            _, kvs, tensors, _ = read_header(f)
        for key, vtype, _, text in kvs:
            print("%s\t%d\t%s" % (key, vtype, text))
        print("(%d tensors)" % len(tensors))
        return 0
    if len(argv) != 4:
        sys.stderr.write("usage: %s [--drop KEY]... IN.gguf OUT.gguf NEW-ARCH | --list IN.gguf\n"
                         % argv[0])
        return 2
    with open(argv[1], "rb") as f:
        version, kvs, tensors, data_start = read_header(f)
        old = arch_of(kvs)
        write(f, argv[2], version, rename(kvs, old, argv[3], drop), tensors, data_start)
    print("%s: architecture %s -> %s, %d keys, %d tensors" % (argv[2], old, argv[3],
          len(kvs) - len(drop), len(tensors)))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (OSError, ValueError) as e:
        sys.stderr.write("bitnetcpp-rearch: %s\n" % e)
        sys.exit(1)
