#!/usr/bin/env python3
"""Greedy Gemma 1 decoding with a key/value cache in plain PyTorch eager, for timing against the engine
(./refusal-lab bench --decode N).

The same work as the engine's GemmaModel.generate with no stop tokens: one forward over the prompts (every layer's
rotated keys and values written into preallocated caches [batch, kv_head, prompt + N - 1, d_head]), the argmax of the
last position's logits, then N - 1 steps that each run the new position only, attending to the cache so far.
Blocks as in torch_gemma_forward.py (RMSNorm with 1 + w, rotate-half rotary, grouped-query attention, GeGLU with the
tanh GELU, tied unembedding at the last position); query heads sharing a key/value head are one batched matmul
against that head, as the engine does (no copies of the cache). float32, random normal(0, 0.02) weights,
torch.inference_mode. Prints one line per batch size, in the engine's column order.
"""
import argparse
import json
import math
import os
import time

import torch
import torch.nn.functional as F

from torch_gemma_forward import GEMMA_2B, median_time, peak_rss_bytes, random_weights, rms_norm, rotate_half


def rope_tables(c, n):
    dh = c["head_dim"]
    inv_freq = 1.0 / (c["rope_theta"] ** (torch.arange(0, dh, 2, dtype=torch.float32) / dh))
    angles = torch.arange(n, dtype=torch.float32)[:, None] * inv_freq[None, :]
    emb = torch.cat((angles, angles), dim=-1)
    return emb.cos(), emb.sin()  # [n, dh]


def generate(c, w, ids, new_tokens):
    """Greedy: returns the new tokens [batch, new_tokens]."""
    b, s = ids.shape
    d, dh, nh, nkv = c["hidden_size"], c["head_dim"], c["num_attention_heads"], c["num_key_value_heads"]
    group, eps, slots = nh // nkv, c["rms_norm_eps"], s + new_tokens - 1
    cos_t, sin_t = rope_tables(c, slots)
    keys = [torch.empty(b, nkv, slots, dh) for _ in w["layers"]]
    values = [torch.empty(b, nkv, slots, dh) for _ in w["layers"]]
    scale = torch.tensor(math.sqrt(d), dtype=torch.float32)
    out = []
    tokens, start = ids, 0
    for step in range(new_tokens):
        n = tokens.shape[1]  # s for the prompt, then 1
        end = start + n
        cos, sin = cos_t[start:end][None, None], sin_t[start:end][None, None]
        x = F.embedding(tokens, w["embed"]) * scale
        mask = torch.full((n, end), float("-inf")).triu(start + 1) if n > 1 else None
        for L, kc, vc in zip(w["layers"], keys, values):
            h = rms_norm(x, L["ln1"], eps)
            q = F.linear(h, L["q"]).view(b, n, nh, dh).transpose(1, 2)
            k = F.linear(h, L["k"]).view(b, n, nkv, dh).transpose(1, 2)
            v = F.linear(h, L["v"]).view(b, n, nkv, dh).transpose(1, 2)
            kc[:, :, start:end] = k * cos + rotate_half(k) * sin
            vc[:, :, start:end] = v
            q = (q * cos + rotate_half(q) * sin).reshape(b, nkv, group * n, dh)  # heads of a kv head as rows
            scores = torch.matmul(q, kc[:, :, :end].transpose(2, 3)).view(b, nh, n, end) / math.sqrt(dh)
            if mask is not None:
                scores = scores + mask
            p = torch.softmax(scores, dim=-1).view(b, nkv, group * n, end)
            z = torch.matmul(p, vc[:, :, :end]).view(b, nh, n, dh).transpose(1, 2).reshape(b, n, nh * dh)
            x = x + F.linear(z, L["o"])
            h = rms_norm(x, L["ln2"], eps)
            x = x + F.linear(F.gelu(F.linear(h, L["gate"]), approximate="tanh") * F.linear(h, L["up"]), L["down"])
        logits = F.linear(rms_norm(x[:, -1, :], w["norm"], eps), w["embed"])
        tokens = logits.argmax(dim=-1, keepdim=True)  # [b, 1]
        out.append(tokens)
        start = end
    return torch.cat(out, dim=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--config", default="gemma-2b", help="gemma-2b or a config.json path")
    ap.add_argument("--batch", default="1", help="comma-separated batch sizes")
    ap.add_argument("--seq", type=int, default=24, help="prompt tokens per row")
    ap.add_argument("--decode", type=int, default=64, help="new tokens per row")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    c = dict(GEMMA_2B) if a.config == "gemma-2b" else json.load(open(a.config))
    c.setdefault("head_dim", c["hidden_size"] // c["num_attention_heads"])
    torch.set_num_threads(a.threads)
    gen = torch.Generator().manual_seed(a.seed)
    t = time.perf_counter()
    w = random_weights(c, gen)
    nbytes = sum(p.numel() * p.element_size() for p in [w["embed"], w["norm"]] + [t for L in w["layers"] for t in L.values()])
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')}, "
          f"LD_PRELOAD={os.environ.get('LD_PRELOAD', '')}")
    print(f"weights: {nbytes / 1e9:.2f} GB, made in {time.perf_counter() - t:.1f} s")
    rows = []
    with torch.inference_mode():
        for b in [int(x) for x in a.batch.split(",")]:
            ids = torch.randint(0, c["vocab_size"], (b, a.seq), generator=gen)
            assert generate(c, w, ids, a.decode).shape == (b, a.decode)
            gen_s, lo, hi = median_time(lambda: generate(c, w, ids, a.decode), a.repeats, max(a.warmup - 1, 0))
            pre_s, _, _ = median_time(lambda: generate(c, w, ids, 1), a.repeats, 0)
            step_ms = (gen_s - pre_s) / (a.decode - 1) * 1e3 if a.decode > 1 else 0.0
            rows.append((b, a.seq, a.decode, gen_s, b * a.decode / gen_s, pre_s, step_ms, peak_rss_bytes(), lo, hi))
            print(f"batch {b}: generate {a.decode} tokens after {a.seq}: {gen_s:.4f} s (median of {a.repeats}; min {lo:.4f}, max {hi:.4f}), "
                  f"{b * a.decode / gen_s:.2f} tokens/s; prompt forward {pre_s:.4f} s, step {step_ms:.2f} ms; "
                  f"peak RSS {peak_rss_bytes() / 1e9:.2f} GB", flush=True)
    print()
    print(f"{'batch':<6} {'seq':<5} {'new':<5} {'generate_s':<11} {'tokens/s':<10} {'prefill_s':<10} {'step_ms':<10} {'peak_rss_GB':<12} {'min_s':<10} {'max_s':<10}")
    for b, s, n, g, tps, pre, step, rss, lo, hi in rows:
        print(f"{b:<6} {s:<5} {n:<5} {g:<11.4f} {tps:<10.2f} {pre:<10.4f} {step:<10.2f} {rss / 1e9:<12.2f} {lo:<10.4f} {hi:<10.4f}")
    print(f"peak RSS {peak_rss_bytes() / 1e9:.2f} GB = {peak_rss_bytes() / nbytes:.2f}x the weights ({nbytes / 1e9:.2f} GB)")


if __name__ == "__main__":
    main()
