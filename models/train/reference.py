"""reference.py - PyTorch's figures for the trained model, which trit's tests
compare against (so CI needs no PyTorch):

- reference.json: the held-out perplexity (and each window's NLL sums, so a
  test can score the first few windows only) in llama.cpp's llama-perplexity
  convention (windows of CTX tokens from the BOS-prefixed token stream,
  each window's first token replaced by BOS, the second half scored) of
  the model as trained (int8 activations) and of its float form (ternary
  weights, float activations: what trit runs for an F32 file), computed in
  float64; and PROMPTS held-out prompts with their token ids.
- reference-logits.f32: the float form's logits (float64 computed, stored as
  little-endian float32) of the first POSITIONS tokens of each prompt,
  prompt-major, then position, then vocabulary.
"""
import copy
import json
import math
import os

import numpy as np
import torch

PROMPTS = 10
POSITIONS = 16
CTX = 256


def window_nll(model, ids, ctx):
    """[(sum of NLL, sum of NLL^2, tokens)] per window, llama-perplexity's
    way: windows of ctx tokens, the first token replaced by BOS (ids[0]),
    the second half scored."""
    out = []
    with torch.no_grad():
        for i in range(len(ids) // ctx):
            w = ids[i * ctx:(i + 1) * ctx].clone()
            w[0] = ids[0]
            logp = torch.log_softmax(model(w[None]).double()[0], dim=-1)
            first = ctx // 2
            v = -logp[first:ctx - 1].gather(1, w[first + 1:ctx, None])[:, 0]
            out.append((v.sum().item(), (v * v).sum().item(), ctx - 1 - first))
    return out


def perplexity(windows):
    """(ppl, its +/- estimate: the standard error of the mean NLL times ppl)."""
    nll = sum(w[0] for w in windows)
    nll2 = sum(w[1] for w in windows)
    count = sum(w[2] for w in windows)
    mean = nll / count
    var = nll2 / count - mean * mean
    err = math.sqrt(var / (count - 1)) if var > 0 and count > 1 else 0.0
    return math.exp(mean), err * math.exp(mean)


def prompts(tok, test_docs):
    out = []
    for _, text in test_docs:
        line = text.split("\n")[0].strip()
        ids = [tok.bos] + tok.encode(line)
        if len(ids) >= POSITIONS:
            out.append({"text": line, "ids": ids})
        if len(out) == PROMPTS:
            break
    return out


def write(out_dir, model, tok, heldout_text, test_docs):
    ids = torch.tensor([tok.bos] + tok.encode(heldout_text), dtype=torch.long)
    model.eval()
    model.quant_act = True
    win_q = window_nll(model, ids, CTX)
    f64 = copy.deepcopy(model).double()
    f64.quant_act = False
    win_f = window_nll(f64, ids, CTX)
    ppl_q, ppl_f = perplexity(win_q), perplexity(win_f)
    scored = sum(w[2] for w in win_q)
    ps = prompts(tok, test_docs)
    with torch.no_grad():
        logits = [f64(torch.tensor(p["ids"][:POSITIONS])[None])[0] for p in ps]
    arr = torch.stack(logits).numpy().astype("<f4")
    arr.tofile(os.path.join(out_dir, "reference-logits.f32"))
    ref = {
        "ctx": CTX, "held_out_tokens": len(ids), "scored_tokens": scored,
        "ppl_pytorch_int8_activations": ppl_q[0], "ppl_pytorch_int8_activations_err": ppl_q[1],
        "ppl_pytorch_float": ppl_f[0], "ppl_pytorch_float_err": ppl_f[1],
        "positions": POSITIONS, "n_vocab": tok.n_vocab(),
        "max_abs_logit": float(np.abs(arr).max()), "prompts": ps,
        "windows_int8_activations": win_q, "windows_float": win_f,
    }
    with open(os.path.join(out_dir, "reference.json"), "w", encoding="utf-8") as f:
        json.dump(ref, f, ensure_ascii=False, indent=1)
    print(f"held-out perplexity (PyTorch, ctx {CTX}, {scored} tokens scored): "
          f"{ppl_q[0]:.4f} +/- {ppl_q[1]:.4f} as trained (int8 activations), "
          f"{ppl_f[0]:.4f} +/- {ppl_f[1]:.4f} float activations")


def load_export(out_dir):
    """(model, tokenizer) as export.py wrote them: the BitLinear weights are
    used as stored (already trits times scale), not quantised again."""
    import bpe
    import export
    from model import BitLinear, BitNet, Config
    with open(os.path.join(out_dir, "config.json")) as f:
        c = json.load(f)
    cfg = Config(**{k: c[k] for k in ("vocab_size", "hidden_size", "intermediate_size",
                                      "num_hidden_layers", "num_attention_heads",
                                      "num_key_value_heads", "max_position_embeddings",
                                      "rms_norm_eps", "rope_theta")})
    model = BitNet(cfg)
    arrays = export.read_safetensors(os.path.join(out_dir, "model.safetensors"))
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.from_numpy(arrays["model." + name]))
    for m in model.modules():
        if isinstance(m, BitLinear):
            m.ternary = (lambda w: lambda: w)(m.weight)
    with open(os.path.join(out_dir, "tokenizer.json"), encoding="utf-8") as f:
        merges = [tuple(m.split(" ")) for m in json.load(f)["model"]["merges"]]
    return model, bpe.Tokenizer(merges)


def main():
    """Recompute the reference of an exported model: reference.py DIR [CORPUS]
    (the corpus it was trained on, data.py's name: kjv when not given)."""
    import sys
    import data
    torch.set_num_threads(1)
    out_dir = sys.argv[1]
    model, tok = load_export(out_dir)
    corpus = sys.argv[2] if len(sys.argv) > 2 else "kjv"
    _, test_docs = data.split(data.read(corpus)[0])
    with open(os.path.join(out_dir, "heldout.txt"), encoding="utf-8") as f:
        write(out_dir, model, tok, f.read(), test_docs)


if __name__ == "__main__":
    main()
