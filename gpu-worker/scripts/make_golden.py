#!/usr/bin/env python3
"""Regenerates the tiny reference models and their golden.json files used by the engine tests.

This documents where src/test/resources/fixtures/models/ came from; it needs torch and
transformers 5.x (the fixtures were made with 5.17, eager attention, float32, on an H100) and so
cannot run on the build machines. Usage:

    python3 make_golden.py OUT_DIR [--seed 0]

For every architecture below: random init from the config, every floating weight multiplied by 2
(so logits are not flat), DeepSeek-V3 `e_score_correction_bias` set to random non-negative values
(the -inf vs 0.0 group-masking difference between DeepSeek and HF only shows for negative biased
scores), 24 random input ids; golden.json records logits at positions 0, 5, 11, 23 and at the last
position, the argmax at every position and a 16-token greedy continuation with EOS disabled.
"""
import argparse
import json
import os

import torch
from transformers import AutoConfig, AutoModelForCausalLM

COMMON = dict(hidden_size=64, intermediate_size=128, num_attention_heads=4, vocab_size=512,
              max_position_embeddings=4096, rms_norm_eps=1e-6, tie_word_embeddings=False,
              attention_dropout=0.0, initializer_range=0.02)

DEEPSEEK = dict(COMMON, kv_lora_rank=16, qk_nope_head_dim=16, qk_rope_head_dim=8, v_head_dim=16,
                head_dim=8, num_key_value_heads=4, moe_intermediate_size=32, n_routed_experts=8,
                first_k_dense_replace=1, attention_bias=False, hidden_act="silu")

MODELS = {
    "tiny-deepseek-v3": dict(
        DEEPSEEK, model_type="deepseek_v3", architectures=["DeepseekV3ForCausalLM"], num_hidden_layers=3,
        q_lora_rank=24, n_shared_experts=1, num_experts_per_tok=2, n_group=2, topk_group=1,
        norm_topk_prob=True, routed_scaling_factor=2.5, rope_interleave=True, bos_token_id=0, eos_token_id=1,
        rope_parameters=dict(rope_type="yarn", type="yarn", rope_theta=10000.0, factor=4.0,
                             original_max_position_embeddings=1024, beta_fast=32, beta_slow=1,
                             mscale=1.0, mscale_all_dim=1.0)),
    "tiny-deepseek-noqlora": dict(
        DEEPSEEK, model_type="deepseek_v3", architectures=["DeepseekV3ForCausalLM"], num_hidden_layers=2,
        q_lora_rank=None, n_shared_experts=2, num_experts_per_tok=3, n_group=1, topk_group=1,
        norm_topk_prob=True, routed_scaling_factor=1.0, rope_interleave=True, bos_token_id=0, eos_token_id=1,
        rope_parameters=dict(rope_type="default", rope_theta=10000.0)),
    "tiny-deepseek-v2-lite": dict(
        DEEPSEEK, model_type="deepseek_v2", architectures=["DeepseekV2ForCausalLM"], num_hidden_layers=2,
        q_lora_rank=None, n_shared_experts=2, num_experts_per_tok=3, n_group=1, topk_group=1,
        topk_method="greedy", norm_topk_prob=False, routed_scaling_factor=1.0, bos_token_id=1, eos_token_id=2,
        rope_parameters=dict(rope_type="default", rope_theta=10000.0)),
    "tiny-qwen2": dict(
        COMMON, model_type="qwen2", architectures=["Qwen2ForCausalLM"], num_hidden_layers=3,
        num_key_value_heads=2, intermediate_size=160, hidden_act="silu", use_sliding_window=False,
        rope_parameters=dict(rope_type="default", rope_theta=10000.0)),
    "tiny-llama": dict(
        COMMON, model_type="llama", architectures=["LlamaForCausalLM"], num_hidden_layers=3,
        num_key_value_heads=2, head_dim=16, intermediate_size=160, hidden_act="silu", attention_bias=False,
        mlp_bias=False, bos_token_id=1, eos_token_id=2,
        rope_parameters=dict(rope_type="llama3", rope_theta=500000.0, factor=8.0, low_freq_factor=1.0,
                             high_freq_factor=4.0, original_max_position_embeddings=1024)),
}

ROWS = [0, 5, 11, 23]


def build(name, spec, seed):
    torch.manual_seed(seed)
    spec = dict(spec)
    model_type = spec.pop("model_type")
    config = AutoConfig.for_model(model_type, **spec)
    config._attn_implementation = "eager"
    model = AutoModelForCausalLM.from_config(config, torch_dtype=torch.float32).eval()
    with torch.no_grad():
        for pname, p in model.named_parameters():
            p.mul_(2.0)
        for mname, buf in model.named_buffers():
            if mname.endswith("e_score_correction_bias"):
                buf.copy_(torch.rand_like(buf) * 0.5)
    return model


def golden(model, seed):
    g = torch.Generator().manual_seed(seed + 1)
    ids = torch.randint(2, model.config.vocab_size, (1, 24), generator=g)
    with torch.no_grad():
        logits = model(ids).logits[0].float()
        out = model.generate(ids, max_new_tokens=16, min_new_tokens=16, do_sample=False, eos_token_id=None,
                             pad_token_id=0)
    return {
        "input_ids": ids[0].tolist(),
        "logits_last": logits[-1].tolist(),
        "logits_rows": {str(r): logits[r].tolist() for r in ROWS},
        "argmax_per_position": logits.argmax(-1).tolist(),
        "greedy_continuation": out[0, ids.shape[1]:].tolist(),
        "reference": "HF transformers eager, float32",
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    for i, (name, spec) in enumerate(MODELS.items()):
        d = os.path.join(args.out, name)
        os.makedirs(d, exist_ok=True)
        model = build(name, spec, args.seed + i)
        model.save_pretrained(d, safe_serialization=True)
        with open(os.path.join(d, "golden.json"), "w") as f:
            json.dump(golden(model, args.seed + i), f)
        print("wrote", d)


if __name__ == "__main__":
    main()
