#!/usr/bin/python3
"""novelty.py - is generated text new, or lines the model memorised?

    trit run MODEL -p PROMPT -n 48 | /usr/bin/python3 models/train/novelty.py [--corpus kjv] [-n 6]

Reads text on stdin and compares its words with the training documents of
the corpus (data.py: the held-out documents are left out, as in training).
Prints, as JSON, the longest run of consecutive words that also occurs in
the training text, and the share of the text's N-word sequences (default
6) that occur there. Words are compared lower-cased, punctuation dropped.
A model that recites prints long runs and a share near 1; one that writes
its own sentences in the corpus's style, short runs and a small share.
"""
import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402

WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def words(text):
    return WORD.findall(text.lower())


def ngrams(ws, n):
    return {tuple(ws[i:i + n]) for i in range(len(ws) - n + 1)}


def longest_run(ws, seen_by_len, max_n):
    """The longest span of ws whose words occur, in order, in the corpus."""
    best = (0, 0)
    for i in range(len(ws)):
        for n in range(max_n, best[1], -1):
            if i + n <= len(ws) and tuple(ws[i:i + n]) in seen_by_len.get(n, ()):
                best = (i, n)
                break
    return " ".join(ws[best[0]:best[0] + best[1]]), best[1]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--corpus", choices=sorted(data.CORPORA), default="kjv")
    p.add_argument("-n", type=int, default=6, help="sequence length for the share")
    p.add_argument("--max", type=int, default=24, help="longest run looked for")
    a = p.parse_args()
    ws = words(sys.stdin.read())
    train, _ = data.split(data.read(a.corpus)[0])
    corpus = [words(t) for _, t in train]
    seen = {n: set() for n in range(1, a.max + 1)}
    for cw in corpus:
        for n in seen:
            seen[n] |= ngrams(cw, n)
    mine = [tuple(ws[i:i + a.n]) for i in range(len(ws) - a.n + 1)]
    hit = sum(1 for g in mine if g in seen[a.n])
    run, length = longest_run(ws, seen, a.max)
    print(json.dumps({"words": len(ws), "n": a.n, "ngrams": len(mine),
                      "ngrams_in_training_text": hit,
                      "share": round(hit / len(mine), 4) if mine else None,
                      "longest_run_words": length, "longest_run": run}, indent=1))


if __name__ == "__main__":
    main()
