#!/usr/bin/env python3
"""HF transformers baseline for bench/engine-gpu: the same shapes with random bf16 weights on CUDA.

Reports single-stream decode tok/s, time to first token (512-token prompt) and output tok/s for 64
and 256 concurrent sequences (static batch generate, 512-token prompts, 256 new tokens), printed as
'result KEY VALUE' lines like the native bench. Random weights, greedy, EOS disabled.
"""
import argparse
import time

import torch
import transformers


def config(model, layers):
    if model == "v2-lite":
        c = transformers.DeepseekV2Config(
            hidden_size=2048, intermediate_size=10944, num_hidden_layers=27, num_attention_heads=16,
            num_key_value_heads=16, vocab_size=102400, max_position_embeddings=163840, kv_lora_rank=512,
            q_lora_rank=None, qk_nope_head_dim=128, qk_rope_head_dim=64, v_head_dim=128, moe_intermediate_size=1408,
            n_routed_experts=64, n_shared_experts=2, num_experts_per_tok=6, first_k_dense_replace=1, n_group=1,
            topk_group=1, topk_method="greedy", norm_topk_prob=False, routed_scaling_factor=1.0,
            rope_scaling={"type": "yarn", "factor": 40, "original_max_position_embeddings": 4096, "beta_fast": 32,
                          "beta_slow": 1, "mscale": 0.707, "mscale_all_dim": 0.707})
    else:
        c = transformers.Qwen2Config(
            hidden_size=1536, intermediate_size=8960, num_hidden_layers=28, num_attention_heads=12,
            num_key_value_heads=2, vocab_size=151936, max_position_embeddings=131072, rms_norm_eps=1e-6,
            rope_theta=10000, tie_word_embeddings=False)
    if layers:
        c.num_hidden_layers = layers
    return c


def generate(model, batch, prompt, new_tokens):
    ids = torch.randint(0, model.config.vocab_size, (batch, prompt), device="cuda")
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                   do_sample=False, eos_token_id=None, pad_token_id=0)
    torch.cuda.synchronize()
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="qwen1.5b")
    ap.add_argument("--layers", type=int, default=0)
    ap.add_argument("--prompt", type=int, default=512)
    ap.add_argument("--output", type=int, default=256)
    ap.add_argument("--decode", type=int, default=128)
    args = ap.parse_args()
    torch.manual_seed(0)
    cfg = config(args.model, args.layers)
    with torch.device("cuda"):
        model = transformers.AutoModelForCausalLM.from_config(cfg, torch_dtype=torch.bfloat16)
    model.eval()
    print(f"HF transformers {transformers.__version__}, torch {torch.__version__}, {torch.cuda.get_device_name()}, "
          f"{args.model} shape, {cfg.num_hidden_layers} layers, bf16 random weights")
    with torch.inference_mode():
        generate(model, 1, 16, 4)  # warm-up
        ttft = generate(model, 1, args.prompt, 1)
        total = generate(model, 1, args.prompt, args.decode + 1)
        decode_tps = args.decode / max(total - ttft, 1e-9)
        print(f"single stream: TTFT {ttft * 1e3:.1f} ms, decode {decode_tps:.1f} tok/s")
        print(f"result single_decode_tps {decode_tps:.2f}\nresult single_ttft_ms {ttft * 1e3:.2f}")
        for c in (64, 256):
            try:
                wall = generate(model, c, args.prompt, args.output)
                tps = c * args.output / wall
                print(f"concurrency {c}: {tps:.0f} output tok/s (static batch, {wall:.2f} s)")
                print(f"result c{c}_output_tps {tps:.1f}")
            except torch.cuda.OutOfMemoryError:
                print(f"concurrency {c}: out of memory")
                torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
