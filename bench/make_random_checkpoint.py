#!/usr/bin/env python3
"""Writes a random Gemma checkpoint in Hugging Face layout (config.json, bf16 safetensors shards with
model.safetensors.index.json, as gemma-2b's own folder has them) for benchmarks that need weights on disk: Spark
executors load the model from a path, and loading 5 GB of bf16 is much faster than ND4J's randn at gemma-2b's size.

    bench/make_random_checkpoint.py CONFIG_JSON OUT_DIR [--layers N] [--seed S] [--shard-gb G]

Weights are normal(0, 0.02) (the norms' w is 0: Gemma's norms scale by 1 + w), generated and written in chunks so
the script never holds more than one chunk in memory. OUT_DIR must not exist yet (nothing is overwritten).
"""
import argparse
import json
import os
import struct
import sys

import numpy as np

CHUNK = 1 << 24  # elements per generated chunk (64 MB of float32)


def tensor_shapes(cfg):
    d, hd = cfg["hidden_size"], cfg["head_dim"]
    h, kv, mlp = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["intermediate_size"]
    shapes = {"model.embed_tokens.weight": [cfg["vocab_size"], d], "model.norm.weight": [d]}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        shapes.update({
            p + "input_layernorm.weight": [d],
            p + "post_attention_layernorm.weight": [d],
            p + "self_attn.q_proj.weight": [h * hd, d],
            p + "self_attn.k_proj.weight": [kv * hd, d],
            p + "self_attn.v_proj.weight": [kv * hd, d],
            p + "self_attn.o_proj.weight": [d, h * hd],
            p + "mlp.gate_proj.weight": [mlp, d],
            p + "mlp.up_proj.weight": [mlp, d],
            p + "mlp.down_proj.weight": [d, mlp],
        })
        if cfg.get("model_type") == "gemma2":  # Gemma 2's four norms per block
            shapes.update({p + "pre_feedforward_layernorm.weight": [d], p + "post_feedforward_layernorm.weight": [d]})
    return shapes


def to_bf16(x):
    """float32 -> bfloat16 bits, rounded to nearest even."""
    bits = x.view(np.uint32)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)


def write_shard(path, names, shapes, rng):
    header, offset = {}, 0
    for n in names:
        size = int(np.prod(shapes[n])) * 2
        header[n] = {"dtype": "BF16", "shape": shapes[n], "data_offsets": [offset, offset + size]}
        offset += size
    header["__metadata__"] = {"format": "pt"}
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for n in names:
            count = int(np.prod(shapes[n]))
            if len(shapes[n]) == 1:
                f.write(np.zeros(count, dtype=np.uint16).tobytes())
                continue
            for start in range(0, count, CHUNK):
                x = rng.standard_normal(min(CHUNK, count - start), dtype=np.float32)
                x *= 0.02
                f.write(to_bf16(x).tobytes())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("config")
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, help="replace num_hidden_layers")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--shard-gb", type=float, default=2.0, help="largest shard in GB (default 2)")
    a = ap.parse_args()
    if os.path.exists(a.out):
        sys.exit(f"make_random_checkpoint: {a.out} exists; give a new folder")
    with open(a.config) as f:
        cfg = json.load(f)
    if a.layers:
        cfg["num_hidden_layers"] = a.layers
    cfg["torch_dtype"] = "bfloat16"
    shapes = tensor_shapes(cfg)
    names = sorted(shapes)
    shards, current, size = [], [], 0
    for n in names:
        b = int(np.prod(shapes[n])) * 2
        if current and size + b > a.shard_gb * 1e9:
            shards.append(current)
            current, size = [], 0
        current.append(n)
        size += b
    shards.append(current)
    tmp = a.out + ".partial"
    os.makedirs(tmp)
    rng = np.random.default_rng(a.seed)
    weight_map = {}
    for k, part in enumerate(shards):
        file = f"model-{k + 1:05d}-of-{len(shards):05d}.safetensors"
        write_shard(os.path.join(tmp, file), part, shapes, rng)
        weight_map.update({n: file for n in part})
        print(f"{file}: {len(part)} tensors", flush=True)
    total = sum(int(np.prod(s)) * 2 for s in shapes.values())
    with open(os.path.join(tmp, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
    with open(os.path.join(tmp, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    os.rename(tmp, a.out)
    print(f"{a.out}: {len(shapes)} tensors, {total / 1e9:.2f} GB bf16, {cfg['num_hidden_layers']} layers, seed {a.seed}")


if __name__ == "__main__":
    main()
