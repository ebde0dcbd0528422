#!/usr/bin/env python3
"""Regenerates the LoRA test adapters of src/test/resources/fixtures/lora/ (numpy only).

For every tiny model in fixtures/models/ it writes two PEFT-format adapters (adapter_config.json +
adapter_model.safetensors, random A and B, seeded) and merges adapter "a" into a copy of the base
weights with merge_lora.py (the reference the engine's run-time adapters are tested against):

    fixtures/lora/<model>/a/         adapter "a"
    fixtures/lora/<model>/b/         adapter "b" (a second adapter for mixed batches)
    fixtures/lora/<model>/a-merged/  base + adapter "a", config.json copied

B is random, not PEFT's zero init, so the adapters change the model's output. The variants cover
PEFT's options: rsLoRA, fan_in_fan_out (a no-op on nn.Linear, as in PEFT), rank_pattern and
alpha_pattern, target_modules as a list and as a regex string, and for DeepSeek the MLA projections
(q_a/q_b or q_proj, kv_a_proj_with_mqa, kv_b_proj, o_proj), routed experts and shared experts.

Usage: make_lora_fixtures.py [FIXTURES_DIR]   (default: ../src/test/resources/fixtures)
"""
import json
import os
import re
import sys

import numpy as np

from merge_lora import merge, pattern_value, read_safetensors, write_safetensors

DENSE_ALL = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
MLA_Q_LORA = ["q_a_proj", "q_b_proj", "kv_a_proj_with_mqa", "kv_b_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
MLA_NO_Q_LORA = ["q_proj", "kv_a_proj_with_mqa", "kv_b_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]

ADAPTERS = {
    "tiny-llama": {
        "a": dict(r=8, lora_alpha=16, use_rslora=True, target_modules=DENSE_ALL),
        "b": dict(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "down_proj"], rank_pattern={"v_proj": 6}),
    },
    "tiny-qwen2": {
        "a": dict(r=4, lora_alpha=8, fan_in_fan_out=True, target_modules=DENSE_ALL),
        "b": dict(r=8, lora_alpha=32, target_modules=r".*\.(o_proj|down_proj)", alpha_pattern={"o_proj": 8}),
    },
    "tiny-deepseek-v3": {
        "a": dict(r=8, lora_alpha=16, use_rslora=True, target_modules=MLA_Q_LORA),
        "b": dict(r=4, lora_alpha=8, target_modules=["kv_b_proj", "q_b_proj", "down_proj"]),
    },
    "tiny-deepseek-noqlora": {
        "a": dict(r=6, lora_alpha=12, target_modules=MLA_NO_Q_LORA),
        "b": dict(r=4, lora_alpha=16, target_modules=r".*experts.*\.up_proj|.*\.kv_a_proj_with_mqa"),
    },
    "tiny-deepseek-v2-lite": {
        "a": dict(r=4, lora_alpha=8, use_rslora=True, target_modules=MLA_NO_Q_LORA),
        "b": dict(r=8, lora_alpha=8, target_modules=["q_proj", "o_proj", "gate_proj"]),
    },
}


def targeted(module, targets):
    if isinstance(targets, str):
        return re.fullmatch(targets, module) is not None
    return any(module == t or module.endswith("." + t) for t in targets)


def make_adapter(model_name, base, spec, out_dir, rng):
    cfg = {"peft_type": "LORA", "task_type": "CAUSAL_LM", "base_model_name_or_path": model_name,
           "r": spec["r"], "lora_alpha": spec["lora_alpha"], "lora_dropout": 0.0,
           "target_modules": spec["target_modules"], "bias": "none",
           "fan_in_fan_out": spec.get("fan_in_fan_out", False), "use_rslora": spec.get("use_rslora", False),
           "use_dora": False, "modules_to_save": None, "rank_pattern": spec.get("rank_pattern", {}),
           "alpha_pattern": spec.get("alpha_pattern", {}), "init_lora_weights": True, "inference_mode": True,
           "layers_to_transform": None}
    tensors = {}
    for name, w in sorted(base.items()):
        if not name.endswith(".weight") or w.ndim != 2 or not name.startswith("model.layers."):
            continue
        module = name[:-len(".weight")]
        if module.endswith(".mlp.gate") or not targeted(module, cfg["target_modules"]):
            continue  # the MoE router is not an nn.Linear in transformers, PEFT cannot target it
        r = pattern_value(cfg["rank_pattern"], module, cfg["r"])
        out_f, in_f = w.shape
        tensors[f"base_model.model.{module}.lora_A.weight"] = rng.normal(0, 0.06, (r, in_f))
        tensors[f"base_model.model.{module}.lora_B.weight"] = rng.normal(0, 0.06, (out_f, r))
    assert tensors, f"{model_name}: adapter targets nothing"
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "adapter_config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    write_safetensors(os.path.join(out_dir, "adapter_model.safetensors"), tensors, {"format": "pt"})


def main(fixtures):
    for i, (model, specs) in enumerate(ADAPTERS.items()):
        base_dir = os.path.join(fixtures, "models", model)
        base, _ = read_safetensors(os.path.join(base_dir, "model.safetensors"))
        rng = np.random.default_rng(1000 + i)
        out = os.path.join(fixtures, "lora", model)
        for name, spec in specs.items():
            make_adapter(model, base, spec, os.path.join(out, name), rng)
        merge(base_dir, os.path.join(out, "a"), os.path.join(out, "a-merged"))
        print("wrote", out)


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "src", "test", "resources", "fixtures"))
