#!/usr/bin/python3
"""train.py - train trit's bundled model: a small BitNet b1.58 on the King
James Bible (or Debian's fortunes), reproducibly from a seed, and export it
for `trit convert`.

    /usr/bin/python3 models/train/train.py --out DIR [--corpus kjv|fortunes]
                                           [--seed N] [--steps N] [--procs N]

Writes DIR/{config.json, model.safetensors, tokenizer.json,
tokenizer_config.json} (export.py), DIR/loss.csv and DIR/loss.svg (the loss
curve), DIR/heldout.txt (the held-out documents, never trained on) and
DIR/reference.json + DIR/reference-logits.f32 (reference.py: PyTorch's
figures that trit's tests compare against). Every line the script prints
is a function of the seed and the data, so a second run prints the same
(on the same machine: BLAS kernels differ between CPUs). Debian's
python3-torch, python3-numpy, python3-regex, libopenblas0-pthread and the
corpus's packages
(`.ci/deps --train`); see models/train/README.md.

--procs N trains data-parallel in N processes of one thread each (PyTorch's
gloo backend on this machine): each draws its own batches, their gradients
are averaged before every step, so a step sees N x --batch windows. PyTorch
on two threads is slower than on one for these small matrices, so this is
how a second core adds tokens. The curve is reproducible for a given N; N = 1
(the default) is the single-process run, unchanged.
"""
import argparse
import math
import os
import socket
import sys
import time
import zlib

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import data  # noqa: E402
import export  # noqa: E402
import plot  # noqa: E402
import reference  # noqa: E402
from model import BitNet, Config  # noqa: E402


def options():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--corpus", choices=sorted(data.CORPORA), default="kjv",
                   help="training text (data.py)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--steps", type=int, default=2500)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seq", type=int, default=256, help="training window (tokens)")
    p.add_argument("--ctx", type=int, default=256, help="the model's context length")
    p.add_argument("--vocab", type=int, default=1024)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--ffn", type=int, default=640)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--kv-heads", type=int, default=2)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--threads", type=int, default=1,
                   help="PyTorch threads; the loss curve is reproducible for a given count")
    p.add_argument("--eval-every", type=int, default=200)
    p.add_argument("--procs", type=int, default=1,
                   help="data-parallel processes (one thread each); 1 = none")
    a = p.parse_args()
    if a.procs < 1:
        p.error("--procs must be at least 1")
    return a


def chat_form(text):
    """A quarter of the documents (by CRC) are also seen as a chat turn, so
    `trit run --chat` with BitNet's template gets an answer."""
    return zlib.crc32(text.encode()) % 4 == 1


def doc_ids(tok, corpus, title, text):
    if chat_form(text):
        user = "User: " + data.ask(corpus, title)
        return ([tok.bos] + tok.encode(user) + [tok.eot] + tok.encode("Assistant: " + text) +
                [tok.eot])
    return [tok.bos] + tok.encode(text) + [tok.eos]


def token_stream(tok, corpus, docs, seed):
    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(docs), generator=g).tolist()
    ids = []
    for i in order:
        ids.extend(doc_ids(tok, corpus, *docs[i]))
    return torch.tensor(ids, dtype=torch.long)


def batches(stream, batch, seq, seed, rank=0):
    """Rank r's windows: rank 0's are the single-process run's."""
    g = torch.Generator().manual_seed(seed + 1 + 7919 * rank)
    while True:
        start = torch.randint(0, len(stream) - seq - 1, (batch,), generator=g)
        w = torch.stack([stream[s:s + seq + 1] for s in start.tolist()])
        yield w[:, :-1], w[:, 1:]


def lr_at(step, a):
    warm = 50
    if step < warm:
        return a.lr * (step + 1) / warm
    t = (step - warm) / max(1, a.steps - warm)
    return a.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t)))


def optimiser(model, a):
    decay = [p for n, p in model.named_parameters() if p.dim() == 2]
    rest = [p for n, p in model.named_parameters() if p.dim() != 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.05},
                              {"params": rest, "weight_decay": 0.0}],
                             lr=a.lr, betas=(0.9, 0.95), eps=1e-8)


def held_out_loss(model, stream, seq, windows=64):
    """Mean loss on the first `windows` held-out windows (16k tokens)."""
    model.eval()
    n = min(windows, (len(stream) - 1) // seq)
    tot = 0.0
    with torch.no_grad():
        for i in range(0, n, 16):
            rows = range(i, min(n, i + 16))
            x = torch.stack([stream[r * seq:r * seq + seq] for r in rows])
            y = torch.stack([stream[r * seq + 1:r * seq + seq + 1] for r in rows])
            tot += F.cross_entropy(model(x).flatten(0, 1), y.flatten(), reduction="sum").item()
    model.train()
    return tot / (n * seq)


def average(model, loss, procs):
    """Data-parallel: every rank's gradients and loss become their mean (a
    sum of the same operands in the same order on every rank)."""
    if procs == 1:
        return loss
    for p in model.parameters():
        if p.grad is not None:
            dist.all_reduce(p.grad)
            p.grad /= procs
    loss = loss.detach().clone()
    dist.all_reduce(loss)
    return loss / procs


def train(model, stream, test_stream, a, curve, rank=0):
    opt = optimiser(model, a)
    it = batches(stream, a.batch, a.seq, a.seed, rank)
    t0 = time.time()
    for step in range(a.steps):
        for grp in opt.param_groups:
            grp["lr"] = lr_at(step, a)
        x, y = next(it)
        loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        loss = average(model, loss, a.procs)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if rank != 0:
            continue
        test = None
        if (step + 1) % a.eval_every == 0 or step + 1 == a.steps:
            test = held_out_loss(model, test_stream, a.seq)
        curve.append((step + 1, loss.item(), test))
        if (step + 1) % 10 == 0 or test is not None:
            extra = f"  held-out {test:.4f}" if test is not None else ""
            print(f"step {step + 1:5d}  loss {loss.item():.4f}{extra}", flush=True)
            print(f"  [{time.time() - t0:.0f} s]", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    a = options()
    if a.procs == 1:
        run(0, a)
        return
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(free_port())
    mp.spawn(run, args=(a,), nprocs=a.procs)


def run(rank, a):
    """One process: rank 0 prints, evaluates and exports; the others train."""
    if a.procs > 1:
        dist.init_process_group("gloo", rank=rank, world_size=a.procs)
        if rank != 0:
            sys.stdout = open(os.devnull, "w")
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    docs, unit, origin = data.read(a.corpus)
    train_docs, test_docs = data.split(docs)
    print(f"data: {len(docs)} {unit}, {len(train_docs)} train, {len(test_docs)} held out")
    n_merges = a.vocab - 256 - len(bpe.SPECIALS)
    tok = bpe.Tokenizer(bpe.train([t for _, t in train_docs], n_merges))
    print(f"tokenizer: {len(tok.merges)} merges, {tok.n_vocab()} tokens")
    stream = token_stream(tok, a.corpus, train_docs, a.seed)
    heldout_text = "\n\n".join(t for _, t in test_docs) + "\n"
    test_stream = torch.tensor([tok.bos] + tok.encode(heldout_text), dtype=torch.long)
    print(f"tokens: {len(stream)} train, {len(test_stream)} held out")
    cfg = Config(vocab_size=tok.n_vocab(), hidden_size=a.hidden, intermediate_size=a.ffn,
                 num_hidden_layers=a.layers, num_attention_heads=a.heads,
                 num_key_value_heads=a.kv_heads, max_position_embeddings=a.ctx)
    model = BitNet(cfg)
    print(f"model: {sum(p.numel() for p in model.parameters())} parameters")
    curve = []
    train(model, stream, test_stream, a, curve, rank)
    if a.procs > 1:
        dist.destroy_process_group()
    if rank != 0:
        return
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "heldout.txt"), "w", encoding="utf-8") as f:
        f.write(heldout_text)
    plot.write_curve(a.out, curve)
    meta = {"seed": a.seed, "steps": a.steps, "data": origin,
            "trained_by": "models/train/train.py"}
    if a.procs > 1:
        meta["procs"] = a.procs
    export.export(a.out, model, tok, meta)
    # the reference figures of the weights as exported (trits times scales,
    # exactly), not of the training copy (weight + (trits * scale - weight))
    exported, tok = reference.load_export(a.out)
    reference.write(a.out, exported, tok, heldout_text, test_docs)


if __name__ == "__main__":
    main()
