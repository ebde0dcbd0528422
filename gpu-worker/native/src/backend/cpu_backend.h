// Host backend: weights in RAM (f32/bf16/int8), per-slot KV cache, a worker pool for the kernels.
#pragma once
#include "backend/backend.h"
#include "common/thread_pool.h"
#include "memory/kv_cache.h"

namespace dse {

class CpuBackend : public Backend {
 public:
  CpuBackend(const ModelConfig& cfg, const TensorSource& src, const BackendOptions& opts);
  std::string name() const override { return "cpu"; }
  const ModelConfig& config() const override { return model_->config(); }
  size_t weight_bytes() const override { return model_->weight_bytes(); }
  void open_sequence(int slot, int64_t capacity) override { kv_.open(slot, capacity); }
  void close_sequence(int slot) override { kv_.close(slot); }
  KvUsage kv_usage() const override { return {kv_.tokens_reserved(), 0}; }
  void forward(const std::vector<BatchToken>& batch, float* logits) override;
  std::shared_ptr<const LoraAdapter> load_adapter(const std::string& dir) const override {
    return load_lora_adapter(dir, model_->lora_targets());
  }

  Model& model() { return *model_; }
  KvCache& kv() { return kv_; }
  ThreadPool& pool() { return pool_; }

 private:
  std::unique_ptr<Model> model_;
  ThreadPool pool_;
  KvCache kv_;
};

}  // namespace dse
