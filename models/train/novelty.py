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


def spans(ws, longest):
    """Every run of 1..longest consecutive words of ws, as tuples."""
    return {tuple(ws[i:i + n]) for i in range(len(ws))
            for n in range(1, min(longest, len(ws) - i) + 1)}


def found_in(docs, wanted, longest):
    """The runs of `wanted` that occur in a document (one pass over them)."""
    found = set()
    for cw in docs:
        for i in range(len(cw)):
            for n in range(1, min(longest, len(cw) - i) + 1):
                g = tuple(cw[i:i + n])
                if g not in wanted:
                    break  # no longer run from i can be wanted either
                found.add(g)
    return found


def first_longest(ws, found, longest):
    """The longest run of ws in found; the first one of that length."""
    best = ()
    for i in range(len(ws)):
        for n in range(min(longest, len(ws) - i), len(best), -1):
            if tuple(ws[i:i + n]) in found:
                best = tuple(ws[i:i + n])
                break
    return best


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--corpus", choices=sorted(data.CORPORA), default="kjv")
    p.add_argument("-n", type=int, default=6, help="sequence length for the share")
    p.add_argument("--max", type=int, default=24, help="longest run looked for")
    a = p.parse_args()
    ws = words(sys.stdin.read())
    train, _ = data.split(data.read(a.corpus)[0])
    found = found_in((words(t) for _, t in train), spans(ws, a.max), a.max)
    mine = [tuple(ws[i:i + a.n]) for i in range(len(ws) - a.n + 1)]
    hit = sum(1 for g in mine if g in found)
    best = first_longest(ws, found, a.max)
    print(json.dumps({"words": len(ws), "n": a.n, "ngrams": len(mine),
                      "ngrams_in_training_text": hit,
                      "share": round(hit / len(mine), 4) if mine else None,
                      "longest_run_words": len(best), "longest_run": " ".join(best)}, indent=1))


if __name__ == "__main__":
    main()
