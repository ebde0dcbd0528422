// A Hugging Face PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors) resolved
// against one loaded base model: for each targeted matrix W, a low-rank delta applied at run time
// (y += scaling * B (A x), scaling folded into B) or, where the model reads W in a form a run-time
// delta does not fit (MLA's absorbed kv_b_proj), a merged copy W + scaling * B A owned by the adapter.
#pragma once
#include <map>
#include <memory>
#include <string>

#include "memory/weight.h"

namespace dse {

struct LoraDelta {
  Weight a;  // [r, in] f32
  Weight b;  // [out, r] f32, already multiplied by the PEFT scaling
};

struct LoraAdapter {
  std::string dir;
  int max_rank = 0;
  std::map<const Weight*, LoraDelta> deltas;  // run-time deltas, keyed by the base matrix
  std::map<const Weight*, Weight> merged;     // merged copies, keyed by the base matrix

  const LoraDelta* delta(const Weight& w) const {
    auto it = deltas.find(&w);
    return it == deltas.end() ? nullptr : &it->second;
  }
  // The matrix this adapter's rows multiply by where the model reads W whole.
  const Weight& resolve(const Weight& w) const {
    auto it = merged.find(&w);
    return it == merged.end() ? w : it->second;
  }
  size_t bytes() const;
};

// The matrices of a base model an adapter may target, by PEFT module name (the weight's name
// without ".weight", e.g. "model.layers.0.self_attn.q_proj"). merge: merged at load, not applied at
// run time (the matrix must be f32).
struct LoraTarget {
  const Weight* weight = nullptr;
  bool merge = false;
};
using LoraTargets = std::map<std::string, LoraTarget>;

// Reads and checks the adapter in `dir` against `targets`. Throws EngineError: kBadCheckpoint for a
// missing, truncated or malformed file, a module the base lacks, or a shape that does not fit;
// kUnsupported for PEFT features the engine does not serve (DoRA, bias training, modules_to_save,
// embedding adapters, non-LoRA PEFT types).
std::shared_ptr<const LoraAdapter> load_lora_adapter(const std::string& dir, const LoraTargets& targets);

}  // namespace dse
