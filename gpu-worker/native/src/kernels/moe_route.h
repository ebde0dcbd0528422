// DeepSeekMoE router: turns gate logits of one token into top-k expert ids and weights.
// V3 ("noaux_tc"): sigmoid scores, e_score_correction_bias added for selection only, groups ranked
// by the sum of their two best biased scores, experts of dropped groups masked with -inf (DeepSeek's
// reference; HF uses 0.0), weights = unbiased scores, optionally renormalised, times the scaling.
// V2: softmax scores, greedy or group-limited (group score = max) selection.
#pragma once
#include <string>

namespace dse {

struct RouterParams {
  int n_experts = 0;
  int top_k = 0;
  int n_group = 1;
  int topk_group = 1;
  bool sigmoid = false;
  std::string method = "greedy";  // greedy | group_limited_greedy | noaux_tc
  bool norm_topk_prob = false;
  float routed_scaling_factor = 1.f;
};

// logits: [n_experts]; bias: [n_experts] or null; scratch: [2 * n_experts + n_group].
// Writes idx[top_k] and weight[top_k].
void moe_route(const float* logits, const float* bias, const RouterParams& p, float* scratch, int* idx,
               float* weight);

}  // namespace dse
