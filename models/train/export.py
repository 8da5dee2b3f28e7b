"""export.py - write a trained model as a Hugging Face style directory that
`trit convert` turns into GGUF: config.json, model.safetensors (F32; each
BitLinear matrix as its trits times its absmean scale, so the file holds
exactly the weights the model ran with), tokenizer.json and
tokenizer_config.json (BOS, EOS and BitNet-b1.58-2B-4T's chat template).

SafeTensors is written here directly (an 8-byte little-endian header length,
a JSON header of dtype, shape and byte offsets, then the raw data), so no
package beyond PyTorch and NumPy is needed.
"""
import json
import os
import struct

import numpy as np
import torch

from model import BitLinear

# microsoft/bitnet-b1.58-2B-4T's template (trit's chat format "bitnet").
CHAT_TEMPLATE = ("{% for message in messages %}{% set content = message['role'] | capitalize"
                 " + ': ' + message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
                 "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
                 "{% if add_generation_prompt %}{{ 'Assistant: ' }}{% endif %}")


def state_arrays(model):
    """name -> float32 numpy array, BitLinear weights as trits * scale."""
    out = {}
    with torch.no_grad():
        for name, mod in model.named_modules():
            if isinstance(mod, BitLinear):
                out["model." + name + ".weight"] = mod.ternary().float().numpy()
        for name, p in model.named_parameters():
            key = "model." + name
            if key not in out:
                out[key] = p.detach().float().numpy()
    return out


def write_safetensors(path, arrays, meta):
    header, offset, blobs = {}, 0, []
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name], dtype="<f4")
        header[name] = {"dtype": "F32", "shape": list(a.shape),
                        "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
        blobs.append(a.tobytes())
    header["__metadata__"] = meta
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def hf_config(cfg, tok):
    return {
        "architectures": ["BitNetForCausalLM"], "model_type": "bitnet",
        "vocab_size": cfg.vocab_size, "hidden_size": cfg.hidden_size,
        "intermediate_size": cfg.intermediate_size,
        "num_hidden_layers": cfg.num_hidden_layers,
        "num_attention_heads": cfg.num_attention_heads,
        "num_key_value_heads": cfg.num_key_value_heads,
        "max_position_embeddings": cfg.max_position_embeddings,
        "rms_norm_eps": cfg.rms_norm_eps, "rope_theta": cfg.rope_theta,
        "hidden_act": "relu2", "tie_word_embeddings": True,
        "bos_token_id": tok.bos, "eos_token_id": tok.eos, "torch_dtype": "float32",
    }


def export(out_dir, model, tok, meta):
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(hf_config(model.cfg, tok), f, indent=1)
    write_safetensors(os.path.join(out_dir, "model.safetensors"), state_arrays(model),
                      {k: str(v) for k, v in meta.items()})
    tok.save(os.path.join(out_dir, "tokenizer.json"))
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w") as f:
        json.dump({"bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>",
                   "add_bos_token": True, "add_eos_token": False,
                   "chat_template": CHAT_TEMPLATE}, f, indent=1)


def read_safetensors(path):
    """name -> numpy array of a file write_safetensors wrote (F32 only)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        base = 8 + n
        out = {}
        for name, t in header.items():
            if name == "__metadata__":
                continue
            b, e = t["data_offsets"]
            f.seek(base + b)
            out[name] = np.frombuffer(f.read(e - b), dtype="<f4").reshape(t["shape"]).copy()
    return out
