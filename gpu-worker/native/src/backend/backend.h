// The seam between the scheduler and the hardware. A backend owns the weights and the KV memory of
// every sequence slot and runs one forward over a flattened multi-sequence batch. The CPU backend
// implements it here; a CUDA backend (paged KV cache, continuous batching) plugs in behind the same
// four calls, and make_backend picks one from the "cpu" / "cuda:N" spec.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "loader/model_config.h"
#include "loader/tensor_source.h"
#include "loader/weight_loader.h"
#include "lora/lora_adapter.h"
#include "model/model.h"

namespace dse {

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  virtual const ModelConfig& config() const = 0;
  virtual size_t weight_bytes() const = 0;
  // Reserves KV memory for `capacity` tokens in `slot` (0 <= slot < slots given at creation).
  virtual void open_sequence(int slot, int64_t capacity) = 0;
  virtual void close_sequence(int slot) = 0;
  // KV memory reserved by open sequences and the size of the pool, in tokens. A backend without a
  // fixed pool (host memory, allocated per sequence) reports total 0; the engine then sizes it.
  struct KvUsage {
    int64_t used_tokens = 0;
    int64_t total_tokens = 0;
  };
  virtual KvUsage kv_usage() const = 0;
  // One forward over the batch; logits: [rows with logits=true, vocab].
  virtual void forward(const std::vector<BatchToken>& batch, float* logits) = 0;
  // Reads a PEFT LoRA adapter folder and resolves it against this backend's weights, for rows that
  // name it in a later forward. Const: safe beside a running forward (it only reads base weights).
  virtual std::shared_ptr<const LoraAdapter> load_adapter(const std::string& dir) const = 0;
};

struct BackendOptions {
  std::string spec = "cpu";  // "cpu" or "cuda:N"
  int threads = 0;           // 0: all hardware threads
  LoadOptions load;
  int slots = 1;
};

std::unique_ptr<Backend> make_backend(const ModelConfig& cfg, const TensorSource& src, const BackendOptions& opts);

}  // namespace dse
