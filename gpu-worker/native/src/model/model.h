// A model definition: the forward pass of one architecture over a flattened batch of tokens from
// any number of sequences (continuous-batching layout: every row carries its slot and position).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "common/thread_pool.h"
#include "loader/model_config.h"
#include "loader/tensor_source.h"
#include "loader/weight_loader.h"
#include "lora/lora_adapter.h"
#include "memory/kv_cache.h"

namespace dse {

struct BatchToken {
  int32_t token = 0;
  int32_t pos = 0;      // position in its sequence; its KV row is written there
  int32_t slot = 0;     // KV cache slot of its sequence
  bool logits = false;  // whether this row's logits are wanted
  const LoraAdapter* adapter = nullptr;  // LoRA adapter of its sequence; null: the base model
};

class Model {
 public:
  virtual ~Model() = default;
  virtual const ModelConfig& config() const = 0;
  // Floats cached per token per layer.
  virtual int64_t kv_width() const = 0;
  virtual size_t weight_bytes() const = 0;
  // The matrices a LoRA adapter may target, by PEFT module name (fixed once the model is built).
  virtual const LoraTargets& lora_targets() const = 0;
  // Runs all layers over `batch`. Rows of one sequence must appear in increasing position order and
  // positions below the first row of a sequence must already be cached. Writes one logits row
  // [vocab] per token with logits=true, in batch order.
  virtual void forward(const std::vector<BatchToken>& batch, KvCache& kv, ThreadPool& pool, float* logits) = 0;
};

// Builds the model named by cfg.arch from `src`, checking every tensor's presence and shape.
std::unique_ptr<Model> make_model(const ModelConfig& cfg, const TensorSource& src, const LoadOptions& opts);

}  // namespace dse
