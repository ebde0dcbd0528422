#!/usr/bin/env python3
"""Merges a Hugging Face PEFT LoRA adapter into a copy of its base checkpoint (numpy only).

The engine applies adapters at run time; this tool is the independent reference its tests compare
against (and a way to ship an adapter as a plain model). Semantics follow PEFT's LoRA layer:

    W' = W + scaling * (B @ A),  A = lora_A [r, in],  B = lora_B [out, r]
    scaling = lora_alpha / r, or lora_alpha / sqrt(r) with use_rslora; rank_pattern and
    alpha_pattern override r and alpha per module (key matched as `(^|.*\\.)KEY$`).

`fan_in_fan_out` only transposes the delta of GPT-2 style Conv1D layers; every projection of the
architectures we serve (Llama, Qwen2, DeepSeek V2/V3) is an nn.Linear, for which PEFT resets
fan_in_fan_out to False with a warning, so it changes nothing here either.

Usage: merge_lora.py BASE_DIR ADAPTER_DIR OUT_DIR
"""
import json
import math
import os
import re
import shutil
import struct
import sys

import numpy as np

DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64}
PREFIX = "base_model.model."


def read_safetensors(path):
    """Returns ({name: ndarray}, metadata). BF16 is widened to float32 (numpy has no bfloat16)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    base = 8 + n
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        begin, end = t["data_offsets"]
        buf = raw[base + begin:base + end]
        if t["dtype"] == "BF16":
            arr = (np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            arr = np.frombuffer(buf, dtype=np.dtype(DTYPES[t["dtype"]]).newbyteorder("<"))
        out[name] = arr.reshape(t["shape"]).copy()
    return out, header.get("__metadata__")


def write_safetensors(path, tensors, metadata=None):
    """Writes float32 tensors in sorted name order, 8-byte aligned header, as safetensors does."""
    header, offset, blobs = {}, 0, []
    if metadata:
        header["__metadata__"] = metadata
    for name in sorted(tensors):
        arr = np.ascontiguousarray(tensors[name], dtype="<f4")
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + arr.nbytes]}
        blobs.append(arr.tobytes())
        offset += arr.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def pattern_value(patterns, module, default):
    for key, value in (patterns or {}).items():
        if re.match(r"(^|.*\.)" + key + r"$", module):
            return value
    return default


def lora_deltas(adapter_dir):
    """Yields (base weight name, float64 delta [out, in]) for every module the adapter holds."""
    with open(os.path.join(adapter_dir, "adapter_config.json")) as f:
        cfg = json.load(f)
    tensors, _ = read_safetensors(os.path.join(adapter_dir, "adapter_model.safetensors"))
    for name in sorted(tensors):
        if not name.endswith(".lora_A.weight"):
            continue
        module = name[:-len(".lora_A.weight")]
        a = tensors[name].astype(np.float64)
        b = tensors[module + ".lora_B.weight"].astype(np.float64)
        module = module[len(PREFIX):] if module.startswith(PREFIX) else module
        r = pattern_value(cfg.get("rank_pattern"), module, cfg["r"])
        alpha = pattern_value(cfg.get("alpha_pattern"), module, cfg["lora_alpha"])
        assert a.shape[0] == r and b.shape[1] == r, f"{module}: rank {a.shape[0]} vs configured {r}"
        scaling = alpha / math.sqrt(r) if cfg.get("use_rslora") else alpha / r
        yield module + ".weight", scaling * (b @ a)


def merge(base_dir, adapter_dir, out_dir):
    weights, meta = read_safetensors(os.path.join(base_dir, "model.safetensors"))
    for name, delta in lora_deltas(adapter_dir):
        w = weights[name]
        assert w.shape == delta.shape, f"{name}: base {w.shape} vs delta {delta.shape}"
        weights[name] = (w.astype(np.float64) + delta).astype(np.float32)
    os.makedirs(out_dir, exist_ok=True)
    write_safetensors(os.path.join(out_dir, "model.safetensors"), weights, meta)
    for f in ("config.json", "generation_config.json"):
        if os.path.exists(os.path.join(base_dir, f)):
            shutil.copyfile(os.path.join(base_dir, f), os.path.join(out_dir, f))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    merge(*sys.argv[1:])
