#!/usr/bin/env python3
"""Gemma 1 forward in plain PyTorch eager, for timing against the engine (./refusal-lab bench).

Same work as the engine's HookedModel.run with no hooks: embedding * sqrt(d_model), N blocks (RMSNorm with 1 + w,
grouped-query attention with rotate-half rotary and a causal mask, GeGLU MLP with the tanh GELU), final norm and the
tied unembedding at the last position only. float32, random normal(0, 0.02) weights in Hugging Face's [out, in]
layout, torch.inference_mode. Prints one line per batch size, in the engine's column order.
"""
import argparse
import json
import math
import os
import statistics
import time

import torch
import torch.nn.functional as F

GEMMA_2B = dict(vocab_size=256000, hidden_size=2048, intermediate_size=16384, num_hidden_layers=18,
                num_attention_heads=8, num_key_value_heads=1, head_dim=256, rms_norm_eps=1e-6, rope_theta=10000.0)


def peak_rss_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return -1


def random_weights(c, gen):
    d, dh, nh, nkv, dm = c["hidden_size"], c["head_dim"], c["num_attention_heads"], c["num_key_value_heads"], c["intermediate_size"]

    def normal(*shape):
        return torch.empty(*shape, dtype=torch.float32).normal_(0.0, 0.02, generator=gen)

    layers = []
    for _ in range(c["num_hidden_layers"]):
        layers.append(dict(ln1=torch.zeros(d), q=normal(nh * dh, d), k=normal(nkv * dh, d), v=normal(nkv * dh, d),
                           o=normal(d, nh * dh), ln2=torch.zeros(d), gate=normal(dm, d), up=normal(dm, d), down=normal(d, dm)))
    return dict(embed=normal(c["vocab_size"], d), layers=layers, norm=torch.zeros(d))


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * (1.0 + w)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def forward(c, w, ids):
    b, s = ids.shape
    d, dh, nh, nkv = c["hidden_size"], c["head_dim"], c["num_attention_heads"], c["num_key_value_heads"]
    eps = c["rms_norm_eps"]
    inv_freq = 1.0 / (c["rope_theta"] ** (torch.arange(0, dh, 2, dtype=torch.float32) / dh))
    angles = torch.arange(s, dtype=torch.float32)[:, None] * inv_freq[None, :]
    emb = torch.cat((angles, angles), dim=-1)
    cos, sin = emb.cos()[None, None], emb.sin()[None, None]  # [1, 1, s, dh]
    mask = torch.full((s, s), float("-inf")).triu(1)
    x = F.embedding(ids, w["embed"]) * torch.tensor(math.sqrt(d), dtype=torch.float32)
    for L in w["layers"]:
        h = rms_norm(x, L["ln1"], eps)
        q = F.linear(h, L["q"]).view(b, s, nh, dh).transpose(1, 2)
        k = F.linear(h, L["k"]).view(b, s, nkv, dh).transpose(1, 2)
        v = F.linear(h, L["v"]).view(b, s, nkv, dh).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(nh // nkv, dim=1)
        v = v.repeat_interleave(nh // nkv, dim=1)
        scores = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(dh) + mask
        z = torch.matmul(torch.softmax(scores, dim=-1), v).transpose(1, 2).reshape(b, s, nh * dh)
        x = x + F.linear(z, L["o"])
        h = rms_norm(x, L["ln2"], eps)
        x = x + F.linear(F.gelu(F.linear(h, L["gate"]), approximate="tanh") * F.linear(h, L["up"]), L["down"])
    last = rms_norm(x[:, -1, :], w["norm"], eps)
    return F.linear(last, w["embed"])  # [b, vocab]


def median_time(fn, repeats, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times), max(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--config", default="gemma-2b", help="gemma-2b or a config.json path")
    ap.add_argument("--batch", default="1", help="comma-separated batch sizes")
    ap.add_argument("--seq", type=int, default=24)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    c = dict(GEMMA_2B) if a.config == "gemma-2b" else json.load(open(a.config))
    torch.set_num_threads(a.threads)
    gen = torch.Generator().manual_seed(a.seed)
    t = time.perf_counter()
    w = random_weights(c, gen)
    nbytes = sum(p.numel() * p.element_size() for p in [w["embed"], w["norm"]] + [t for L in w["layers"] for t in L.values()])
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')}, "
          f"LD_PRELOAD={os.environ.get('LD_PRELOAD', '')}, mkldnn={torch.backends.mkldnn.is_available()}")
    print(f"weights: {nbytes / 1e9:.2f} GB, made in {time.perf_counter() - t:.1f} s")
    rows = []
    with torch.inference_mode():
        for b in [int(x) for x in a.batch.split(",")]:
            ids = torch.randint(0, c["vocab_size"], (b, a.seq), generator=gen)
            fwd, lo, hi = median_time(lambda: forward(c, w, ids), a.repeats, a.warmup)
            x = torch.empty(b * a.seq, c["hidden_size"]).normal_(generator=gen)
            gate = w["layers"][0]["gate"]
            g, _, _ = median_time(lambda: F.linear(x, gate), a.repeats, 1)
            gemm = 2.0 * b * a.seq * gate.shape[0] * gate.shape[1] / g / 1e9
            rows.append((b, a.seq, fwd, b * a.seq / fwd, gemm, peak_rss_bytes(), lo, hi))
            print(f"batch {b}: forward {fwd:.4f} s (median of {a.repeats}; min {lo:.4f}, max {hi:.4f}), "
                  f"{b * a.seq / fwd:.1f} tokens/s; GEMM ceiling {gemm:.1f} GFLOP/s; peak RSS {peak_rss_bytes() / 1e9:.2f} GB", flush=True)
    print()
    print(f"{'batch':<6} {'seq':<5} {'forward_s':<10} {'tokens/s':<10} {'gemm_GFLOP/s':<13} {'peak_rss_GB':<12} {'min_s':<10} {'max_s':<10}")
    for b, s, fwd, tps, gemm, rss, lo, hi in rows:
        print(f"{b:<6} {s:<5} {fwd:<10.4f} {tps:<10.1f} {gemm:<13.1f} {rss / 1e9:<12.2f} {lo:<10.4f} {hi:<10.4f}")
    print(f"peak RSS {peak_rss_bytes() / 1e9:.2f} GB = {peak_rss_bytes() / nbytes:.2f}x the weights ({nbytes / 1e9:.2f} GB)")


if __name__ == "__main__":
    main()
