// CUDA backend: bf16 weights and fp32 activations in device memory, a paged fp32 KV cache
// (BlockAllocator + PageTable), and the forward pass of all five architectures as a sequence of the
// kernels in this folder: dense GQA (Llama, Qwen2) and MLA over the compressed latent cache with
// absorbed kv_b_proj (DeepSeek V2/V3), SwiGLU MLPs and DeepSeekMoE. The MoE router runs on the host
// (f32 gate + kernels/moe_route, the CPU backend's exact rules) after one small device->host copy per
// MoE layer; experts and the combine run on device. Logits are copied back to the host and sampled
// there by the engine's sampler (one [rows, vocab] fp32 copy per step), so sampling semantics stay
// identical to the CPU backend.
#pragma once
#include <memory>

#include "backend/backend.h"
#include "cuda/block_allocator.h"

namespace dse {

struct CudaBackendOptions {
  int device = 0;
  int32_t block_size = 16;    // tokens per KV block
  int64_t max_rows = 512;     // rows per device forward chunk (bigger batches run in chunks)
  int64_t kv_bytes = 0;       // 0: enough for every slot at max_position, capped at 85% of free memory
  bool cuda_graphs = false;   // capture decode steps as CUDA graphs (env DSE_CUDA_GRAPHS=1); dense models
};

// Whether a CUDA device is usable (false without a driver or device; never throws).
bool cuda_device_available();

class CudaBackend : public Backend {
 public:
  CudaBackend(const ModelConfig& cfg, const TensorSource& src, const BackendOptions& opts,
              const CudaBackendOptions& copts);
  ~CudaBackend() override;
  std::string name() const override;
  const ModelConfig& config() const override;
  size_t weight_bytes() const override;
  void open_sequence(int slot, int64_t capacity) override;
  void close_sequence(int slot) override;
  KvUsage kv_usage() const override;
  void forward(const std::vector<BatchToken>& batch, float* logits) override;
  // Checks the adapter on the host, uploads A and B (bf16) and merged kv_b_proj copies; steps with
  // adapter rows run without CUDA graphs. Not yet run on a GPU: see tests/cuda/test_cuda_lora.
  std::shared_ptr<const LoraAdapter> load_adapter(const std::string& dir) const override;

  // KV accounting (tests assert every block returns).
  int32_t kv_blocks_total() const;
  int32_t kv_blocks_free() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Parses "cuda" / "cuda:N" and builds the backend.
std::unique_ptr<Backend> make_cuda_backend(const ModelConfig& cfg, const TensorSource& src, const BackendOptions& opts);

}  // namespace dse
