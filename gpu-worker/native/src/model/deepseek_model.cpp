#include "model/deepseek_model.h"

#include "kernels/attention.h"
#include "kernels/mla_absorb.h"
#include "kernels/rmsnorm.h"
#include "kernels/rope.h"
#include "model/moe_block.h"

namespace dse {

namespace {

struct MlaLayer {
  std::vector<float> in_norm, post_norm;
  Weight wq;                        // [nh * qk, H] without q_lora
  Weight wq_a, wq_b;                // [q_lora, H], [nh * qk, q_lora] with q_lora
  std::vector<float> q_a_norm;      // [q_lora]
  Weight wkv_a;                     // [R + P, H]
  std::vector<float> kv_a_norm;     // [R]
  Weight wkv_b;                     // [nh * (nope + v), R] f32, used for absorption
  Weight wo;                        // [H, nh * v]
  bool moe = false;
  Mlp mlp;
  MoeBlock moe_block;
};

class DeepseekModel : public Model {
 public:
  DeepseekModel(const ModelConfig& cfg, const TensorSource& src, const LoadOptions& opts) : cfg_(cfg) {
    WeightLoader wl(src, opts);
    head_.load(wl, cfg);
    const int64_t H = cfg.hidden_size, nh = cfg.num_heads, qk = cfg.qk_head_dim();
    const int64_t R = cfg.kv_lora_rank, P = cfg.qk_rope_dim;
    for (int l = 0; l < cfg.num_layers; ++l) {
      const std::string p = layer_prefix(l);
      MlaLayer L;
      L.in_norm = wl.vector(p + "input_layernorm.weight", H);
      L.post_norm = wl.vector(p + "post_attention_layernorm.weight", H);
      if (cfg.q_lora_rank > 0) {
        L.wq_a = wl.matrix(p + "self_attn.q_a_proj.weight", cfg.q_lora_rank, H);
        L.q_a_norm = wl.vector(p + "self_attn.q_a_layernorm.weight", cfg.q_lora_rank);
        L.wq_b = wl.matrix(p + "self_attn.q_b_proj.weight", nh * qk, cfg.q_lora_rank);
      } else {
        L.wq = wl.matrix(p + "self_attn.q_proj.weight", nh * qk, H);
      }
      L.wkv_a = wl.matrix(p + "self_attn.kv_a_proj_with_mqa.weight", R + P, H);
      L.kv_a_norm = wl.vector(p + "self_attn.kv_a_layernorm.weight", R);
      L.wkv_b = wl.matrix_f32(p + "self_attn.kv_b_proj.weight", nh * (cfg.qk_nope_dim + cfg.v_head_dim), R);
      L.wo = wl.matrix(p + "self_attn.o_proj.weight", H, nh * cfg.v_head_dim);
      L.moe = cfg.is_moe_layer(l);
      if (L.moe) L.moe_block = MoeBlock::load(wl, cfg, p + "mlp.");
      else L.mlp = Mlp::load(wl, p + "mlp.", H, cfg.intermediate_size);
      layers_.push_back(std::move(L));
    }
    weight_bytes_ = wl.loaded_bytes();
    rope_ = make_rope_table(cfg.rope, cfg.qk_rope_dim, cfg.max_position);
    for (int l = 0; l < cfg.num_layers; ++l) {
      const MlaLayer& L = layers_[l];
      const std::string p = layer_prefix(l) + "self_attn.";
      if (cfg.q_lora_rank > 0) {
        targets_[p + "q_a_proj"] = {&L.wq_a};
        targets_[p + "q_b_proj"] = {&L.wq_b};
      } else {
        targets_[p + "q_proj"] = {&L.wq};
      }
      targets_[p + "kv_a_proj_with_mqa"] = {&L.wkv_a};
      // Absorbed decode reads kv_b_proj per head inside attention, not through a matmul over the
      // batch: an adapter on it is merged at load into its own copy of the matrix.
      targets_[p + "kv_b_proj"] = {&L.wkv_b, true};
      targets_[p + "o_proj"] = {&L.wo};
      if (L.moe) L.moe_block.add_lora_targets(targets_, layer_prefix(l) + "mlp");
      else L.mlp.add_lora_targets(targets_, layer_prefix(l) + "mlp");
    }
  }

  const ModelConfig& config() const override { return cfg_; }
  int64_t kv_width() const override { return cfg_.kv_lora_rank + cfg_.qk_rope_dim; }
  size_t weight_bytes() const override { return weight_bytes_; }
  const LoraTargets& lora_targets() const override { return targets_; }

  void forward(const std::vector<BatchToken>& batch, KvCache& kv, ThreadPool& pool, float* logits) override {
    const int64_t T = static_cast<int64_t>(batch.size());
    const int64_t H = cfg_.hidden_size, nh = cfg_.num_heads, qk = cfg_.qk_head_dim();
    const int64_t nope = cfg_.qk_nope_dim, P = cfg_.qk_rope_dim, R = cfg_.kv_lora_rank, vd = cfg_.v_head_dim;
    const int64_t width = R + P;
    const float eps = static_cast<float>(cfg_.rms_eps);
    const float scale = static_cast<float>(cfg_.softmax_scale());
    float* x = scratch(x_, T * H);               // [T, H] residual stream
    float* h = scratch(h_, T * H);               // [T, H]
    float* f = scratch(f_, T * H);               // [T, H] feed-forward output
    float* q = scratch(q_, T * nh * qk);         // [T, nh, qk] = [nope | rope] per head
    float* qa = scratch(qa_, T * std::max<int64_t>(1, cfg_.q_lora_rank));  // [T, q_lora]
    float* kva = scratch(kva_, T * width);       // [T, R + P]
    float* att = scratch(att_, T * nh * vd);     // [T, nh * v]
    int64_t max_n = 0;
    for (const auto& b : batch) max_n = std::max<int64_t>(max_n, b.pos + 1);
    // Per-item scratch: absorbed query [R + P], latent output [R], scores [max_n].
    const int64_t item_scratch = width + R + max_n;

    lora_.assign(batch);
    head_.embed_batch(batch, cfg_.vocab_size, x);
    for (int l = 0; l < cfg_.num_layers; ++l) {
      MlaLayer& L = layers_[l];
      rmsnorm(x, H, L.in_norm.data(), T, H, eps, h, H);
      if (cfg_.q_lora_rank > 0) {
        matmul_lora(L.wq_a, h, T, qa, nullptr, &pool, lora_);
        rmsnorm(qa, cfg_.q_lora_rank, L.q_a_norm.data(), T, cfg_.q_lora_rank, eps, qa, cfg_.q_lora_rank);
        matmul_lora(L.wq_b, qa, T, q, nullptr, &pool, lora_);
      } else {
        matmul_lora(L.wq, h, T, q, nullptr, &pool, lora_);
      }
      matmul_lora(L.wkv_a, h, T, kva, nullptr, &pool, lora_);
      for (int64_t t = 0; t < T; ++t) {
        float* row = kv.row(batch[t].slot, l, batch[t].pos);
        rmsnorm(kva + t * width, width, L.kv_a_norm.data(), 1, R, eps, row, width);
        std::copy(kva + t * width + R, kva + (t + 1) * width, row + R);
        apply_rope(rope_, row + R, 1, P, batch[t].pos, cfg_.rope_interleave);
        apply_rope(rope_, q + t * nh * qk + nope, nh, qk, batch[t].pos, cfg_.rope_interleave);
      }
      parallel_items(pool, T * nh, item_scratch, scores_, [&](int64_t item, float* sc) {
        const int64_t t = item / nh, head = item % nh;
        const float* kvb = lora_.resolve(L.wkv_b, t).f32.data();
        float* qfull = sc;          // [R + P]
        float* lat = sc + width;    // [R]
        float* scores = lat + R;    // [n]
        const float* qh = q + (t * nh + head) * qk;
        mla_absorb_query(kvb + head * (nope + vd) * R, 1, nope, vd, R, qh, qk, qfull, width);
        std::copy(qh + nope, qh + qk, qfull + R);
        const float* base = kv.layer_base(batch[t].slot, l);
        attention_head(qfull, base, width, base, width, batch[t].pos + 1, width, R, scale, scores, lat);
        mla_expand_value(kvb + head * (nope + vd) * R, 1, nope, vd, R, lat, R, att + (t * nh + head) * vd, vd);
      });
      matmul_lora(L.wo, att, T, h, nullptr, &pool, lora_);
      for (int64_t i = 0; i < T * H; ++i) x[i] += h[i];
      rmsnorm(x, H, L.post_norm.data(), T, H, eps, h, H);
      if (L.moe) L.moe_block.forward(h, T, f, pool, lora_);
      else L.mlp.forward(h, T, f, pool, lora_);
      for (int64_t i = 0; i < T * H; ++i) x[i] += f[i];
    }
    head_.logits(batch, x, H, eps, logits, pool);
  }

 private:
  ModelConfig cfg_;
  OutputHead head_;
  std::vector<MlaLayer> layers_;
  RopeTable rope_;
  size_t weight_bytes_ = 0;
  LoraTargets targets_;
  LoraRows lora_;
  std::vector<float> x_, h_, f_, q_, qa_, kva_, att_, scores_;
};

}  // namespace

std::unique_ptr<Model> make_deepseek_model(const ModelConfig& cfg, const TensorSource& src, const LoadOptions& opts) {
  return std::make_unique<DeepseekModel>(cfg, src, opts);
}

}  // namespace dse
