#include "model/moe_block.h"

#include "kernels/matmul.h"

namespace dse {

MoeBlock MoeBlock::load(const WeightLoader& wl, const ModelConfig& cfg, const std::string& prefix) {
  MoeBlock m;
  const int64_t H = cfg.hidden_size, E = cfg.n_routed_experts;
  m.gate = wl.matrix_f32(prefix + "gate.weight", E, H);
  if (cfg.arch == Arch::kDeepseekV3 || wl.has(prefix + "gate.e_score_correction_bias"))
    m.score_bias = wl.vector(prefix + "gate.e_score_correction_bias", E);
  for (int64_t e = 0; e < E; ++e)
    m.experts.push_back(Mlp::load(wl, prefix + "experts." + std::to_string(e) + ".", H, cfg.moe_intermediate_size));
  if (cfg.n_shared_experts > 0) {
    m.shared = Mlp::load(wl, prefix + "shared_experts.", H,
                         static_cast<int64_t>(cfg.moe_intermediate_size) * cfg.n_shared_experts);
    m.has_shared = true;
  }
  m.router.n_experts = static_cast<int>(E);
  m.router.top_k = cfg.experts_per_token;
  m.router.n_group = cfg.n_group;
  m.router.topk_group = cfg.topk_group;
  m.router.sigmoid = cfg.scoring_func == "sigmoid";
  m.router.method = cfg.topk_method;
  m.router.norm_topk_prob = cfg.norm_topk_prob;
  m.router.routed_scaling_factor = static_cast<float>(cfg.routed_scaling_factor);
  return m;
}

size_t MoeBlock::bytes() const {
  size_t b = gate.bytes() + score_bias.size() * 4 + (has_shared ? shared.bytes() : 0);
  for (const auto& e : experts) b += e.bytes();
  return b;
}

void MoeBlock::add_lora_targets(LoraTargets& targets, const std::string& module) const {
  for (size_t e = 0; e < experts.size(); ++e) experts[e].add_lora_targets(targets, module + ".experts." + std::to_string(e));
  if (has_shared) shared.add_lora_targets(targets, module + ".shared_experts");
}

void MoeBlock::forward(const float* x, int64_t T, float* out, ThreadPool& pool, LoraRows& lora) {
  const int64_t H = gate.cols, E = gate.rows, K = router.top_k;
  float* lg = scratch(logits_, T * E);
  matmul(gate, x, T, lg, nullptr, &pool);
  float* rs = scratch(route_scratch_, 2 * E + router.n_group);
  if (idx_.size() < static_cast<size_t>(T * K)) idx_.resize(T * K);
  float* w = scratch(weights_, T * K);
  for (int64_t t = 0; t < T; ++t)
    moe_route(lg + t * E, score_bias.empty() ? nullptr : score_bias.data(), router, rs, idx_.data() + t * K,
              w + t * K);

  if (has_shared) {
    shared.forward(x, T, out, pool, lora);
  } else {
    std::fill(out, out + T * H, 0.f);
  }
  float* g = scratch(gathered_, T * H);
  float* eo = scratch(expert_out_, T * H);
  if (rows_.size() < static_cast<size_t>(T)) rows_.resize(T);
  if (tokens_.size() < static_cast<size_t>(T)) tokens_.resize(T);
  for (int64_t e = 0; e < E; ++e) {
    // Gather the (token, weight) pairs routed to expert e.
    int64_t n = 0;
    for (int64_t t = 0; t < T; ++t)
      for (int64_t k = 0; k < K; ++k)
        if (idx_[t * K + k] == e) {
          rows_[n] = static_cast<int>(t * K + k);
          tokens_[n] = t;
          std::copy(x + t * H, x + (t + 1) * H, g + n * H);
          ++n;
        }
    if (n == 0) continue;
    if (lora.any()) expert_lora_.pick(lora, tokens_.data(), n);
    experts[e].forward(g, n, eo, pool, lora.any() ? expert_lora_ : lora);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t t = rows_[i] / K;
      const float wt = w[rows_[i]];
      for (int64_t j = 0; j < H; ++j) out[t * H + j] += wt * eo[i * H + j];
    }
  }
}

}  // namespace dse
