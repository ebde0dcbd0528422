// CudaBackend: the weights' upload to device memory (bf16 matrices, f32 vectors, kv_b_proj kept f32
// for absorbed MLA, MoE router gates kept on the host) and the weight-byte accounting.
#include <cuda_runtime_api.h>

#include <memory>
#include <string>
#include <vector>

#include "common/dtype.h"
#include "common/error.h"
#include "cuda/cuda_backend_impl.h"
#include "kernels/rope.h"
#include "loader/weight_loader.h"

namespace dse {

namespace cuda {

DevMatrix upload_matrix(const Weight& h) {
  DevMatrix m;
  m.rows = h.rows;
  m.cols = h.cols;
  m.w = DeviceBuffer<uint16_t>(static_cast<size_t>(h.rows * h.cols));
  if (h.format == WFormat::kBF16) {
    m.w.upload(h.bf16.data(), h.bf16.size());
  } else if (h.format == WFormat::kF32) {
    std::vector<uint16_t> tmp(h.f32.size());
    for (size_t i = 0; i < tmp.size(); ++i) tmp[i] = f32_to_bf16(h.f32[i]);
    m.w.upload(tmp.data(), tmp.size());
  } else {
    fail(ErrorKind::kUnsupported, "int8 weights are not supported by the CUDA backend (bf16 only)");
  }
  return m;
}

DeviceBuffer<float> upload_f32_matrix(const Weight& h) {
  if (h.format != WFormat::kF32) fail(ErrorKind::kInternal, "expected an f32 matrix");
  return upload_vector(h.f32);
}

DevMlp load_mlp(const WeightLoader& wl, const std::string& prefix, int64_t H, int64_t I) {
  DevMlp m;
  m.gate = upload_matrix(wl.matrix(prefix + "gate_proj.weight", I, H, false));
  m.up = upload_matrix(wl.matrix(prefix + "up_proj.weight", I, H, false));
  m.down = upload_matrix(wl.matrix(prefix + "down_proj.weight", H, I, false));
  return m;
}

size_t mlp_bytes(const DevMlp& m) { return m.gate.w.bytes() + m.up.w.bytes() + m.down.w.bytes(); }

}  // namespace cuda

void CudaBackend::Impl::load(const TensorSource& src, const LoadOptions& lo) {
  if (lo.int8) fail(ErrorKind::kUnsupported, "int8 is a CPU-backend option; the CUDA backend runs bf16");
  WeightLoader wl(src, lo);
  const int64_t H = cfg.hidden_size;
  embed = upload_matrix(wl.matrix("model.embed_tokens.weight", cfg.vocab_size, H, false));
  final_norm = upload_vector(wl.vector("model.norm.weight", H));
  if (!(cfg.tie_embeddings && !wl.has("lm_head.weight")))
    lm_head = upload_matrix(wl.matrix("lm_head.weight", cfg.vocab_size, H, false));
  weight_bytes = embed.w.bytes() + lm_head.w.bytes() + final_norm.bytes();
  for (int l = 0; l < cfg.num_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    Layer L;
    L.in_norm = upload_vector(wl.vector(p + "input_layernorm.weight", H));
    L.post_norm = upload_vector(wl.vector(p + "post_attention_layernorm.weight", H));
    weight_bytes += L.in_norm.bytes() + L.post_norm.bytes();
    if (cfg.is_mla()) load_mla(wl, p, L);
    else load_dense_attention(wl, p, L);
    L.moe = cfg.is_moe_layer(l);
    if (L.moe) {
      load_moe(wl, p + "mlp.", L);
    } else {
      L.mlp = load_mlp(wl, p + "mlp.", H, cfg.intermediate_size);
      weight_bytes += mlp_bytes(L.mlp);
    }
    layers.push_back(std::move(L));
  }
  rope_dim = cfg.is_mla() ? cfg.qk_rope_dim : cfg.head_dim;
  RopeTable rt = make_rope_table(cfg.rope, rope_dim, cfg.max_position);
  inv_freq = upload_vector(rt.inv_freq);
  rope_attention_factor = rt.attention_factor;
}

void CudaBackend::Impl::load_dense_attention(const WeightLoader& wl, const std::string& p, Layer& L) {
  const int64_t H = cfg.hidden_size, qd = int64_t(cfg.num_heads) * cfg.head_dim,
                kvd = int64_t(cfg.num_kv_heads) * cfg.head_dim;
  L.wq = upload_matrix(wl.matrix(p + "self_attn.q_proj.weight", qd, H, false));
  L.wk = upload_matrix(wl.matrix(p + "self_attn.k_proj.weight", kvd, H, false));
  L.wv = upload_matrix(wl.matrix(p + "self_attn.v_proj.weight", kvd, H, false));
  L.wo = upload_matrix(wl.matrix(p + "self_attn.o_proj.weight", H, qd, false));
  if (cfg.attention_bias) {
    L.bq = upload_vector(wl.vector(p + "self_attn.q_proj.bias", qd));
    L.bk = upload_vector(wl.vector(p + "self_attn.k_proj.bias", kvd));
    L.bv = upload_vector(wl.vector(p + "self_attn.v_proj.bias", kvd));
  }
  weight_bytes += L.wq.w.bytes() + L.wk.w.bytes() + L.wv.w.bytes() + L.wo.w.bytes() + L.bq.bytes() +
                  L.bk.bytes() + L.bv.bytes();
}

void CudaBackend::Impl::load_mla(const WeightLoader& wl, const std::string& p, Layer& L) {
  const int64_t H = cfg.hidden_size, nh = cfg.num_heads, qk = cfg.qk_head_dim();
  const int64_t R = cfg.kv_lora_rank, P = cfg.qk_rope_dim;
  if (cfg.q_lora_rank > 0) {
    L.wq_a = upload_matrix(wl.matrix(p + "self_attn.q_a_proj.weight", cfg.q_lora_rank, H, false));
    L.q_a_norm = upload_vector(wl.vector(p + "self_attn.q_a_layernorm.weight", cfg.q_lora_rank));
    L.wq_b = upload_matrix(wl.matrix(p + "self_attn.q_b_proj.weight", nh * qk, cfg.q_lora_rank, false));
  } else {
    L.wq = upload_matrix(wl.matrix(p + "self_attn.q_proj.weight", nh * qk, H, false));
  }
  L.wkv_a = upload_matrix(wl.matrix(p + "self_attn.kv_a_proj_with_mqa.weight", R + P, H, false));
  L.kv_a_norm = upload_vector(wl.vector(p + "self_attn.kv_a_layernorm.weight", R));
  L.wkv_b = upload_f32_matrix(
      wl.matrix_f32(p + "self_attn.kv_b_proj.weight", nh * (cfg.qk_nope_dim + cfg.v_head_dim), R));
  L.wo = upload_matrix(wl.matrix(p + "self_attn.o_proj.weight", H, nh * cfg.v_head_dim, false));
  weight_bytes += L.wq_a.w.bytes() + L.q_a_norm.bytes() + L.wq_b.w.bytes() + L.wq.w.bytes() + L.wkv_a.w.bytes() +
                  L.kv_a_norm.bytes() + L.wkv_b.bytes() + L.wo.w.bytes();
}

void CudaBackend::Impl::load_moe(const WeightLoader& wl, const std::string& prefix, Layer& L) {
  auto m = std::make_unique<DevMoe>();
  const int64_t H = cfg.hidden_size, E = cfg.n_routed_experts;
  m->gate = wl.matrix_f32(prefix + "gate.weight", E, H);
  if (cfg.arch == Arch::kDeepseekV3 || wl.has(prefix + "gate.e_score_correction_bias"))
    m->score_bias = wl.vector(prefix + "gate.e_score_correction_bias", E);
  for (int64_t e = 0; e < E; ++e) {
    m->experts.push_back(load_mlp(wl, prefix + "experts." + std::to_string(e) + ".", H, cfg.moe_intermediate_size));
    weight_bytes += mlp_bytes(m->experts.back());
  }
  if (cfg.n_shared_experts > 0) {
    m->shared = load_mlp(wl, prefix + "shared_experts.", H,
                         static_cast<int64_t>(cfg.moe_intermediate_size) * cfg.n_shared_experts);
    m->has_shared = true;
    weight_bytes += mlp_bytes(m->shared);
  }
  weight_bytes += m->gate.bytes() + m->score_bias.size() * 4;
  m->router.n_experts = static_cast<int>(E);
  m->router.top_k = cfg.experts_per_token;
  m->router.n_group = cfg.n_group;
  m->router.topk_group = cfg.topk_group;
  m->router.sigmoid = cfg.scoring_func == "sigmoid";
  m->router.method = cfg.topk_method;
  m->router.norm_topk_prob = cfg.norm_topk_prob;
  m->router.routed_scaling_factor = static_cast<float>(cfg.routed_scaling_factor);
  L.moe_block = std::move(m);
}

bool CudaBackend::Impl::any_moe() const {
  for (const auto& L : layers)
    if (L.moe) return true;
  return false;
}

}  // namespace dse
