"""model.py - a small BitNet b1.58 in PyTorch, the graph of BitNet-b1.58-2B-4T
(trit's `bitnet-b1.58` architecture) at a smaller size.

Per layer: RMSNorm -> Q, K, V (BitLinear) -> RoPE (NeoX: pairs i, i + d/2)
-> causal attention with grouped K/V heads -> attn_sub_norm -> O (BitLinear)
-> residual; RMSNorm -> relu(gate)^2 * up (BitLinear) -> ffn_sub_norm ->
down (BitLinear) -> residual. Final RMSNorm, output head tied to the token
embeddings.

BitLinear, as BitNet b1.58 trains it: the weight is replaced by
round(clamp(W / s, -1, 1)) * s with s = mean|W| (absmean, one scale per
matrix), the input by its per-token int8 absmax rounding
round(x * 127 / max|x|) / (127 / max|x|); both with a straight-through
estimator (forward the rounded value, backward the identity). With
BitNet.quant_act off the model is the float form trit runs for F32 weights
(ternary weights, float activations), used for the reference logits.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class Config:
    def __init__(self, **kw):
        self.vocab_size = kw.get("vocab_size", 1024)
        self.hidden_size = kw.get("hidden_size", 256)
        self.intermediate_size = kw.get("intermediate_size", 768)
        self.num_hidden_layers = kw.get("num_hidden_layers", 6)
        self.num_attention_heads = kw.get("num_attention_heads", 4)
        self.num_key_value_heads = kw.get("num_key_value_heads", 2)
        self.max_position_embeddings = kw.get("max_position_embeddings", 256)
        self.rms_norm_eps = kw.get("rms_norm_eps", 1e-5)
        self.rope_theta = kw.get("rope_theta", 10000.0)

    def head_dim(self):
        return self.hidden_size // self.num_attention_heads


def ternary_weight(w):
    """BitNet's absmean rule: (trits, scale) with w ~ trits * scale."""
    s = w.abs().mean().clamp(min=1e-5)
    return (w / s).round().clamp(-1, 1), s


def quant_act(x):
    """Per-token int8 absmax rounding, as trit's QUANTIZE_ACT and bitnet.cpp do."""
    s = 127.0 / x.abs().amax(dim=-1, keepdim=True).clamp(min=1e-5)
    return (x * s).round().clamp(-128, 127) / s


def act(x, on):
    """A BitLinear's input: int8-rounded (straight through) when on. Q, K, V
    share one input, as do gate and up, so each is rounded once."""
    return x + (quant_act(x) - x).detach() if on else x


class BitLinear(nn.Linear):
    """Takes its input already through act()."""
    def __init__(self, n_in, n_out):
        super().__init__(n_in, n_out, bias=False)

    def ternary(self):
        t, s = ternary_weight(self.weight)
        return t * s

    def forward(self, x):
        return F.linear(x, self.weight + (self.ternary() - self.weight).detach())


class RMSNorm(nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(cfg, n, device=None, dtype=torch.float32):
    d = cfg.head_dim()
    inv = 1.0 / (cfg.rope_theta ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
    ang = torch.arange(n, dtype=torch.float64)[:, None] * inv[None, :]
    ang = torch.cat([ang, ang], dim=-1)
    return ang.cos().to(dtype), ang.sin().to(dtype)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, hd = cfg.hidden_size, cfg.head_dim()
        self.nh, self.nkv, self.hd = cfg.num_attention_heads, cfg.num_key_value_heads, hd
        self.q_proj = BitLinear(d, self.nh * hd)
        self.k_proj = BitLinear(d, self.nkv * hd)
        self.v_proj = BitLinear(d, self.nkv * hd)
        self.o_proj = BitLinear(self.nh * hd, d)
        self.attn_sub_norm = RMSNorm(d, cfg.rms_norm_eps)

    def forward(self, x, cos, sin, mask, qa):
        B, T, _ = x.shape
        x = act(x, qa)
        q = self.q_proj(x).view(B, T, self.nh, self.hd).transpose(1, 2)
        k = self.k_proj(x).view(B, T, self.nkv, self.hd).transpose(1, 2)
        v = self.v_proj(x).view(B, T, self.nkv, self.hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        rep = self.nh // self.nkv
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(self.hd) + mask
        y = att.softmax(dim=-1) @ v
        y = y.transpose(1, 2).reshape(B, T, self.nh * self.hd)
        return self.o_proj(act(self.attn_sub_norm(y), qa))


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, f = cfg.hidden_size, cfg.intermediate_size
        self.gate_proj = BitLinear(d, f)
        self.up_proj = BitLinear(d, f)
        self.down_proj = BitLinear(f, d)
        self.ffn_sub_norm = RMSNorm(f, cfg.rms_norm_eps)

    def forward(self, x, qa):
        x = act(x, qa)
        h = F.relu(self.gate_proj(x)).square() * self.up_proj(x)
        return self.down_proj(act(self.ffn_sub_norm(h), qa))


class Layer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.self_attn = Attention(cfg)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.mlp = MLP(cfg)

    def forward(self, x, cos, sin, mask, qa):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask, qa)
        return x + self.mlp(self.post_attention_layernorm(x), qa)


class BitNet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.layers = nn.ModuleList(Layer(cfg) for _ in range(cfg.num_hidden_layers))
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.quant_act = True
        nn.init.normal_(self.embed_tokens.weight, std=0.02)
        for m in self.modules():
            if isinstance(m, BitLinear):
                nn.init.normal_(m.weight, std=0.02)

    def forward(self, ids):
        T = ids.shape[1]
        dt = self.embed_tokens.weight.dtype
        cos, sin = rope_tables(self.cfg, T, dtype=dt)
        mask = torch.full((T, T), float("-inf"), dtype=dt).triu(1)
        x = self.embed_tokens(ids)
        for layer in self.layers:
            x = layer(x, cos, sin, mask, self.quant_act)
        return self.norm(x) @ self.embed_tokens.weight.t()
