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
  void forward(const float* x, int64_t T, float* out, ThreadPool& pool);
  size_t bytes() const;

 private:
  std::vector<float> logits_, route_scratch_, gathered_, expert_out_, weights_;
  std::vector<int> idx_, rows_;
};

}  // namespace dse
