"""data.py - the training text: Debian's `fortunes` and `fortunes-min`
packages (fortune-mod's data files under /usr/share/games/fortunes; BSD
licence, see /usr/share/doc/fortunes/copyright).

Each fortune (the text between '%' lines) is one document. A fortune goes
to the held-out set when a CRC-32 of its text is 0 mod HELD_OUT_MOD, so
the split depends on the text only, never on file order or a random
generator. The held-out set is never seen in training (tokenizer included).
"""
import os
import zlib

FORTUNE_DIR = "/usr/share/games/fortunes"
# ascii-art is pictures, translate-me is not English.
SKIP = {"ascii-art", "translate-me"}
HELD_OUT_MOD = 20


def read_fortunes(directory=FORTUNE_DIR):
    """[(category, text)] in a fixed order (files by name, fortunes as stored)."""
    if not os.path.isdir(directory):
        raise SystemExit(f"{directory}: not found; install Debian's fortunes and "
                         "fortunes-min packages (.ci/deps --train)")
    out = []
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if "." in name or name in SKIP or os.path.islink(path) or not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            raw = f.read().decode("utf-8", errors="replace")
        for chunk in raw.split("\n%\n"):
            text = chunk.strip("%\n").rstrip()
            if text.strip():
                out.append((name, text.replace("\t", "    ")))
    return out


def held_out(text):
    return zlib.crc32(text.encode("utf-8")) % HELD_OUT_MOD == 0


def split(fortunes):
    train = [f for f in fortunes if not held_out(f[1])]
    test = [f for f in fortunes if held_out(f[1])]
    return train, test
