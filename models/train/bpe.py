"""bpe.py - a byte-level BPE tokenizer trained on the same text as the model.

GPT-2's scheme, written here from its description: the text is split by
GPT-2's pre-tokenizer regex, each piece is spelled as bytes mapped to
printable characters (GPT-2's byte-to-unicode table), and merges, learnt
by repeatedly joining the most frequent adjacent pair (ties broken by the
pair's characters, so training is deterministic), join pieces by rank.
Saved as a Hugging Face tokenizer.json, which `trit convert` reads (GGUF
tokenizer.ggml.pre = "gpt-2", the same regex in trit's tokenizer).
"""
import collections
import json

import regex

# GPT-2's pre-tokenizer pattern (tokenizer.ggml.pre "gpt-2" in trit and llama.cpp).
GPT2_SPLIT = regex.compile(
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")

SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"]


def byte_chars():
    """GPT-2's table: byte -> a printable unicode character."""
    keep = (list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) +
            list(range(0xAE, 0xFF + 1)))
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


BYTE_CHAR = byte_chars()


def spell(piece):
    return tuple(BYTE_CHAR[b] for b in piece.encode("utf-8"))


def word_counts(texts):
    counts = collections.Counter()
    for t in texts:
        counts.update(GPT2_SPLIT.findall(t))
    return {spell(w): c for w, c in counts.items()}


def merge_word(word, pair, joined):
    out, i = [], 0
    while i < len(word):
        if i + 1 < len(word) and word[i] == pair[0] and word[i + 1] == pair[1]:
            out.append(joined)
            i += 2
        else:
            out.append(word[i])
            i += 1
    return tuple(out)


def train(texts, n_merges, log=print):
    """The merges, in rank order, learnt from texts."""
    words = word_counts(texts)
    pairs = collections.Counter()
    where = collections.defaultdict(set)
    for w, c in words.items():
        for a, b in zip(w, w[1:]):
            pairs[(a, b)] += c
            where[(a, b)].add(w)
    merges = []
    while len(merges) < n_merges and pairs:
        best = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))[0]
        if pairs[best] < 2:
            break
        joined = best[0] + best[1]
        merges.append(best)
        for w in list(where[best]):
            c = words.pop(w, None)
            if c is None:
                continue
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] -= c
                if pairs[(a, b)] <= 0:
                    del pairs[(a, b)]
                where[(a, b)].discard(w)
            nw = merge_word(w, best, joined)
            words[nw] = words.get(nw, 0) + c
            for a, b in zip(nw, nw[1:]):
                pairs[(a, b)] += c
                where[(a, b)].add(nw)
        if len(merges) % 256 == 0:
            log(f"bpe: {len(merges)} merges")
    return merges


class Tokenizer:
    def __init__(self, merges):
        self.merges = merges
        self.rank = {m: i for i, m in enumerate(merges)}
        self.vocab = {BYTE_CHAR[b]: b for b in range(256)}
        for a, b in merges:
            self.vocab.setdefault(a + b, len(self.vocab))
        for s in SPECIALS:
            self.vocab[s] = len(self.vocab)
        self.bos, self.eos, self.eot = (self.vocab[s] for s in SPECIALS)
        self.cache = {}

    def n_vocab(self):
        return len(self.vocab)

    def word_ids(self, piece):
        ids = self.cache.get(piece)
        if ids is not None:
            return ids
        w = spell(piece)
        while len(w) > 1:
            ranked = [(self.rank.get(p, 1 << 30), i) for i, p in enumerate(zip(w, w[1:]))]
            r, i = min(ranked)
            if r == 1 << 30:
                break
            w = merge_word(w, (w[i], w[i + 1]), w[i] + w[i + 1])
        ids = [self.vocab[t] for t in w]
        self.cache[piece] = ids
        return ids

    def encode(self, text):
        """Token ids of plain text (no specials are parsed)."""
        out = []
        for piece in GPT2_SPLIT.findall(text):
            out.extend(self.word_ids(piece))
        return out

    def decode(self, ids):
        inv = {v: k for k, v in self.vocab.items()}
        char_byte = {c: b for b, c in BYTE_CHAR.items()}
        data = bytearray()
        for i in ids:
            t = inv[i]
            if t in SPECIALS:
                continue
            data.extend(char_byte[c] for c in t)
        return data.decode("utf-8", errors="replace")

    def save(self, path):
        n_plain = self.n_vocab() - len(SPECIALS)
        doc = {
            "version": "1.0",
            "added_tokens": [{"id": self.vocab[s], "content": s, "special": True,
                              "single_word": False, "lstrip": False, "rstrip": False,
                              "normalized": False} for s in SPECIALS],
            "normalizer": None,
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": GPT2_SPLIT.pattern},
                 "behavior": "Isolated", "invert": False},
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                 "use_regex": False}]},
            "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                        "use_regex": True},
            "model": {"type": "BPE", "dropout": None, "unk_token": None,
                      "fuse_unk": False, "byte_fallback": False,
                      "vocab": {t: i for t, i in self.vocab.items() if i < n_plain},
                      "merges": [a + " " + b for a, b in self.merges]},
        }
        with open(path, "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False, indent=1)
