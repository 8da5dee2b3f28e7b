"""data.py - the training text. Two corpora, both from Debian packages:

- "kjv" (the default, the bundled model's): the King James Version of the
  Bible, as Debian's bible-kjv-text package ships it (the text of 1611 is
  out of copyright; the package's own files are under the terms in
  /usr/share/doc/bible-kjv-text/copyright), read through the package's
  `bible` program (bible-kjv). A chapter is one document: its verses, one
  a line, without their numbers.
- "fortunes": Debian's fortunes and fortunes-min packages (fortune-mod's
  data files under /usr/share/games/fortunes; BSD licence, see
  /usr/share/doc/fortunes/copyright). A fortune is one document.

Every document is (title, text). It goes to the held-out set when a CRC-32
of its text is 0 mod HELD_OUT_MOD, so the split depends on the text only,
never on file order or a random generator. The held-out set is never seen
in training (tokenizer included).
"""
import os
import re
import shutil
import subprocess
import zlib

FORTUNE_DIR = "/usr/share/games/fortunes"
# ascii-art is pictures, translate-me is not English.
SKIP = {"ascii-art", "translate-me"}
HELD_OUT_MOD = 20
KJV_RANGE = "gen1:1-rev22:21"
KJV_ORIGIN = "bible-kjv-text (bible " + KJV_RANGE + ")"


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
                out.append((name.replace("-", " and "), text.replace("\t", "    ")))
    return out


def kjv_lines():
    """The `bible` program's pretty-printed text, one verse a line."""
    prog = shutil.which("bible")
    if prog is None:
        raise SystemExit("bible: not found; install Debian's bible-kjv and "
                         "bible-kjv-text packages (.ci/deps --train)")
    out = subprocess.run([prog, "-l", "100000", KJV_RANGE], check=True,
                         capture_output=True).stdout
    return out.decode("utf-8", errors="replace").splitlines()


VERSE = re.compile(r"^ +[0-9]+ (.*)$")
CHAPTER = re.compile(r"^([1-3]? ?[A-Z][A-Za-z ]*) ([0-9]+)$")


def read_kjv():
    """[("Book N", chapter text)] in the Bible's order."""
    out, title, verses = [], None, []
    for line in kjv_lines():
        v, c = VERSE.match(line), CHAPTER.match(line)
        if v and title:
            verses.append(v.group(1).strip())
        elif c:
            if title and verses:
                out.append((title, "\n".join(verses)))
            title, verses = f"{c.group(1)} {c.group(2)}", []
        elif line.strip():
            raise SystemExit(f"bible: unexpected line {line[:60]!r}")
    if title and verses:
        out.append((title, "\n".join(verses)))
    if len(out) != 1189:
        raise SystemExit(f"bible: {len(out)} chapters read, the KJV has 1189")
    return out


# reader, what a document is called, where they come from, and the user's
# question when a document is framed as a chat turn ({} is its title)
CORPORA = {"kjv": (read_kjv, "chapters", KJV_ORIGIN, "Read me {}."),
           "fortunes": (read_fortunes, "fortunes", FORTUNE_DIR, "Tell me a fortune about {}.")}


def read(corpus):
    """(documents, what one is called, where they came from)."""
    reader, unit, origin, _ = CORPORA[corpus]
    return reader(), unit, origin


def ask(corpus, title):
    """The chat question whose answer is the document called title."""
    return CORPORA[corpus][3].format(title)


def held_out(text):
    return zlib.crc32(text.encode("utf-8")) % HELD_OUT_MOD == 0


def split(docs):
    train = [f for f in docs if not held_out(f[1])]
    test = [f for f in docs if held_out(f[1])]
    return train, test
