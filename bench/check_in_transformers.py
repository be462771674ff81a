#!/usr/bin/env python3
"""Loads a checkpoint this project wrote in Hugging Face transformers and compares it with the engine.

The engine's side is made by bench/check-in-transformers.sh (no Python needed there): for each prompt, a
`refusal-lab cache` file (input ids, every block's hook_resid_post, ln_final.hook_normalized, logits) and the
`refusal-lab generate` completion. Here transformers loads the same folder (float32, eager attention) and we check:
  - the chat template of tokenizer_config.json gives the engine's input ids;
  - hidden states after each block and the final norm, and the logits, agree within --tol of each tensor's max |value|
    (HF's hidden_states[i] is the residual stream after block i-1; its last entry is after the final norm);
  - greedy generation gives the engine's completion, token for token (a step whose top-2 logit margin is below
    1e-4 of the logits' scale is a near-tie: reported, not counted as a failure).
Prints one line per check and a summary; exits 1 on any failure. Needs torch, transformers, safetensors.
"""
import argparse
import pathlib
import sys

import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer


def rel_err(a, b):
    scale = b.abs().max().item()
    return (a - b).abs().max().item() / (scale if scale > 0 else 1.0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True, help="checkpoint folder (config.json, model.safetensors, tokenizer files)")
    p.add_argument("--engine", required=True, help="folder with the engine's prompts.txt, cache-N.safetensors, generate-N.txt")
    p.add_argument("--tol", type=float, default=1e-4)
    args = p.parse_args()

    engine = pathlib.Path(args.engine)
    prompts = (engine / "prompts.txt").read_text().splitlines()
    new_tokens = int((engine / "max_new_tokens").read_text())
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32, attn_implementation="eager").eval()
    tok = AutoTokenizer.from_pretrained(args.model)
    print(f"transformers loaded {args.model}: {type(model).__name__}, {sum(p.numel() for p in model.parameters())} parameters")
    failures = 0
    worst = {}
    for i, prompt in enumerate(prompts):
        cache = load_file(str(engine / f"cache-{i}.safetensors"))
        ids = cache["input_ids"]
        hf_ids = tok.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True,
                                         return_tensors="pt", return_dict=True)["input_ids"]
        same_ids = hf_ids.tolist() == ids.tolist()
        print(f"[{i}] {prompt!r}: chat template ids {'equal' if same_ids else 'DIFFER'} ({ids.shape[1]} tokens)")
        if not same_ids:
            print(f"    engine {ids.tolist()}\n    hf     {hf_ids.tolist()}")
            failures += 1
        with torch.no_grad():
            out = model(ids, output_hidden_states=True)
        hs = out.hidden_states
        layers = model.config.num_hidden_layers
        checks = [(f"blocks.{l}.hook_resid_post", hs[l + 1]) for l in range(layers - 1)]
        checks += [("ln_final.hook_normalized", hs[layers]), ("logits", out.logits)]
        for name, hf in checks:
            e = rel_err(hf, cache[name])
            kind = "logits" if name == "logits" else ("final norm" if name.startswith("ln_final") else "resid_post")
            worst[kind] = max(worst.get(kind, 0.0), e)
            if e > args.tol:
                print(f"    {name}: max |diff| / max |value| = {e:.3g} > {args.tol}")
                failures += 1
        # greedy decoding, as the engine's generate (stops at <eos> or <end_of_turn>)
        with torch.no_grad():
            gen = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=new_tokens, do_sample=False,
                                 output_scores=True, return_dict_in_generate=True)
        new = gen.sequences[0, ids.shape[1]:]
        text = tok.decode(new, skip_special_tokens=True).strip()
        engine_text = (engine / f"generate-{i}.txt").read_text().strip()
        margins = []
        for s in gen.scores:
            top = torch.topk(s[0], 2).values
            margins.append(((top[0] - top[1]) / s[0].abs().max()).item())
        near_tie = min(margins) < 1e-4
        if text == engine_text:
            print(f"    generate: same completion ({len(new)} tokens): {text!r}")
        elif near_tie:
            print(f"    generate: differs after a near-tie (min top-2 margin {min(margins):.2g}): hf {text!r} engine {engine_text!r}")
        else:
            print(f"    generate: DIFFERS (min top-2 margin {min(margins):.2g}): hf {text!r} engine {engine_text!r}")
            failures += 1
    print("worst max |diff| / max |value|: " + ", ".join(f"{k} {v:.3g}" for k, v in worst.items()))
    print(f"{'PASS' if failures == 0 else 'FAIL'}: {failures} failures over {len(prompts)} prompts")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
