// DeepSeekMoE feed-forward block: router, routed experts (tokens grouped per expert so an expert's
// weights are read once per step), and shared experts.
#pragma once
#include "kernels/moe_route.h"
#include "model/model_common.h"

namespace dse {

struct MoeBlock {
  Weight gate;                    // [n_experts, hidden] f32
  std::vector<float> score_bias;  // [n_experts] or empty (V3 e_score_correction_bias)
  std::vector<Mlp> experts;
  Mlp shared;                     // intermediate = moe_intermediate_size * n_shared; absent when 0
  bool has_shared = false;
  RouterParams router;

  static MoeBlock load(const WeightLoader& wl, const ModelConfig& cfg, const std::string& prefix);
  // x: [T, hidden] -> out: [T, hidden] (overwritten; must not alias x).
  void forward(const float* x, int64_t T, float* out, ThreadPool& pool, LoraRows& lora);
  size_t bytes() const;
  // Shared and routed experts under `module` ("model.layers.N.mlp"); the router is no nn.Linear in
  // transformers, so PEFT cannot target it.
  void add_lora_targets(LoraTargets& targets, const std::string& module) const;

 private:
  std::vector<float> logits_, route_scratch_, gathered_, expert_out_, weights_;
  std::vector<int> idx_, rows_;
  std::vector<int64_t> tokens_;  // token of each gathered row
  LoraRows expert_lora_;         // adapters of an expert's gathered rows
};

}  // namespace dse
