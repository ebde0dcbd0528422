#include "model/dense_model.h"

#include <algorithm>

#include "common/op_timer.h"
#include "kernels/attention.h"
#include "kernels/rmsnorm.h"
#include "kernels/rope.h"

namespace dse {

namespace {

struct DenseLayer {
  std::vector<float> in_norm, post_norm;
  Weight wq, wk, wv, wo;
  std::vector<float> bq, bk, bv;  // empty without attention bias
  Mlp mlp;
};

class DenseModel : public Model {
 public:
  DenseModel(const ModelConfig& cfg, const TensorSource& src, const LoadOptions& opts) : cfg_(cfg) {
    WeightLoader wl(src, opts);
    head_.load(wl, cfg);
    const int64_t H = cfg.hidden_size, qd = cfg.num_heads * cfg.head_dim, kvd = cfg.num_kv_heads * cfg.head_dim;
    for (int l = 0; l < cfg.num_layers; ++l) {
      const std::string p = layer_prefix(l);
      DenseLayer L;
      L.in_norm = wl.vector(p + "input_layernorm.weight", H);
      L.post_norm = wl.vector(p + "post_attention_layernorm.weight", H);
      L.wq = wl.matrix(p + "self_attn.q_proj.weight", qd, H);
      L.wk = wl.matrix(p + "self_attn.k_proj.weight", kvd, H);
      L.wv = wl.matrix(p + "self_attn.v_proj.weight", kvd, H);
      L.wo = wl.matrix(p + "self_attn.o_proj.weight", H, qd);
      if (cfg.attention_bias) {
        L.bq = wl.vector(p + "self_attn.q_proj.bias", qd);
        L.bk = wl.vector(p + "self_attn.k_proj.bias", kvd);
        L.bv = wl.vector(p + "self_attn.v_proj.bias", kvd);
      }
      L.mlp = Mlp::load(wl, p + "mlp.", H, cfg.intermediate_size);
      layers_.push_back(std::move(L));
    }
    weight_bytes_ = wl.loaded_bytes();
    rope_ = make_rope_table(cfg.rope, cfg.head_dim, cfg.max_position);
    for (int l = 0; l < cfg.num_layers; ++l) {
      const DenseLayer& L = layers_[l];
      const std::string p = layer_prefix(l);
      targets_[p + "self_attn.q_proj"] = {&L.wq};
      targets_[p + "self_attn.k_proj"] = {&L.wk};
      targets_[p + "self_attn.v_proj"] = {&L.wv};
      targets_[p + "self_attn.o_proj"] = {&L.wo};
      L.mlp.add_lora_targets(targets_, p + "mlp");
    }
  }

  const ModelConfig& config() const override { return cfg_; }
  int64_t kv_width() const override { return 2LL * cfg_.num_kv_heads * cfg_.head_dim; }
  size_t weight_bytes() const override { return weight_bytes_; }
  const LoraTargets& lora_targets() const override { return targets_; }

  void forward(const std::vector<BatchToken>& batch, KvCache& kv, ThreadPool& pool, float* logits) override {
    const int64_t T = static_cast<int64_t>(batch.size());
    const int64_t H = cfg_.hidden_size, hd = cfg_.head_dim, nh = cfg_.num_heads, nkv = cfg_.num_kv_heads;
    const int64_t qd = nh * hd, kvd = nkv * hd, width = kv_width();
    const float eps = static_cast<float>(cfg_.rms_eps);
    const float scale = static_cast<float>(cfg_.softmax_scale());
    float* x = scratch(x_, T * H);        // [T, H] residual stream
    float* h = scratch(h_, T * H);        // [T, H] normed input / sublayer output
    float* q = scratch(q_, T * qd);       // [T, nh * hd]
    float* k = scratch(k_, T * kvd);      // [T, nkv * hd]
    float* v = scratch(v_, T * kvd);      // [T, nkv * hd]
    float* att = scratch(att_, T * qd);   // [T, nh * hd]
    int64_t max_n = 0;
    for (const auto& b : batch) max_n = std::max<int64_t>(max_n, b.pos + 1);

    // Attention items: the query heads of one KV head (its K/V rows read once for the group), a group
    // split in parts only where there are fewer groups than pool threads (decode of a model with few
    // KV heads).
    const int64_t group = nh / nkv;
    const int64_t parts = std::clamp<int64_t>((pool.size() + T * nkv - 1) / (T * nkv), 1, group);
    const int64_t part_heads = (group + parts - 1) / parts;
    // Rotary cos/sin once per row for all layers (each row's position is the same in every layer).
    const int64_t rd = rope_.dim;
    float* cs = scratch(rope_cs_, T * rd);
    for (int64_t t = 0; t < T; ++t) rope_angles(rope_, batch[t].pos, cs + t * rd);
    lora_.assign(batch);
    // Decode: after each pass, a hint for the next one (its first rows read ahead by the idle worker
    // while this thread does the serial ops in between; kernels/matmul.h, prefetch_decode).
    const bool decode = T == 1;
    auto prefetch_qkv = [&](const DenseLayer& L) {
      const MatmulJob jobs[] = {{&L.wq, nullptr, nullptr}, {&L.wk, nullptr, nullptr}, {&L.wv, nullptr, nullptr}};
      prefetch_decode(jobs, 3, &pool);
    };
    if (decode && !layers_.empty()) prefetch_qkv(layers_[0]);
    {
      DSE_TIME_OP(op_timer::kEmbed);
      head_.embed_batch(batch, cfg_.vocab_size, x);
    }
    for (int l = 0; l < cfg_.num_layers; ++l) {
      DenseLayer& L = layers_[l];
      {
        DSE_TIME_OP(op_timer::kNorm);
        rmsnorm(x, H, L.in_norm.data(), T, H, eps, h, H);
      }
      const MatmulJob qkv[] = {{&L.wq, q, L.bq.empty() ? nullptr : L.bq.data()},
                               {&L.wk, k, L.bk.empty() ? nullptr : L.bk.data()},
                               {&L.wv, v, L.bv.empty() ? nullptr : L.bv.data()}};
      {
        DSE_TIME_OP(op_timer::kQkv, L.wq.bytes() + L.wk.bytes() + L.wv.bytes());
        matmul_lora_group(qkv, 3, h, T, &pool, lora_);
      }
      if (decode) prefetch_decode(L.wo, &pool);
      // Every row's K/V must be cached before any row attends: rows of one prompt see each other.
      for (int64_t t = 0; t < T; ++t) {
        DSE_TIME_OP(op_timer::kRope);
        apply_rope(rope_, cs + t * rd, q + t * qd, nh, hd, false);
        apply_rope(rope_, cs + t * rd, k + t * kvd, nkv, hd, false);
        float* row = kv.row(batch[t].slot, l, batch[t].pos);
        std::copy(k + t * kvd, k + (t + 1) * kvd, row);
        std::copy(v + t * kvd, v + (t + 1) * kvd, row + kvd);
      }
      {
        DSE_TIME_OP(op_timer::kAttention);
        parallel_items(pool, T * nkv * parts, part_heads * max_n, scores_, [&](int64_t item, float* sc) {
          const int64_t t = item / (nkv * parts), kvh = item / parts % nkv, h0 = kvh * group + item % parts * part_heads;
          const float* base = kv.layer_base(batch[t].slot, l);
          attention_group(q + t * qd + h0 * hd, hd, std::min(part_heads, (kvh + 1) * group - h0), base + kvh * hd,
                          width, base + kvd + kvh * hd, width, batch[t].pos + 1, hd, hd, scale, sc, att + t * qd + h0 * hd,
                          hd);
        });
      }
      {
        DSE_TIME_OP(op_timer::kWo, L.wo.bytes());
        matmul_lora(L.wo, att, T, h, nullptr, &pool, lora_);
      }
      if (decode) L.mlp.prefetch_decode(pool);
      {
        DSE_TIME_OP(op_timer::kResidual);
        for (int64_t i = 0; i < T * H; ++i) x[i] += h[i];
      }
      {
        DSE_TIME_OP(op_timer::kNorm);
        rmsnorm(x, H, L.post_norm.data(), T, H, eps, h, H);
      }
      L.mlp.forward(h, T, h, pool, lora_);
      if (decode && l + 1 < cfg_.num_layers) prefetch_qkv(layers_[l + 1]);
      if (decode && l + 1 == cfg_.num_layers) head_.prefetch_decode(pool);
      DSE_TIME_OP(op_timer::kResidual);
      for (int64_t i = 0; i < T * H; ++i) x[i] += h[i];
    }
    head_.logits(batch, x, H, eps, logits, pool);
  }

 private:
  ModelConfig cfg_;
  OutputHead head_;
  std::vector<DenseLayer> layers_;
  RopeTable rope_;
  size_t weight_bytes_ = 0;
  LoraTargets targets_;
  LoraRows lora_;
  std::vector<float> x_, h_, q_, k_, v_, att_, scores_, rope_cs_;
};

}  // namespace

std::unique_ptr<Model> make_dense_model(const ModelConfig& cfg, const TensorSource& src, const LoadOptions& opts) {
  return std::make_unique<DenseModel>(cfg, src, opts);
}

}  // namespace dse
