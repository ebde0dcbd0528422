#include "backend/cpu_backend.h"

#include <new>
#include <thread>

#include "common/error.h"
#ifdef DSE_HAVE_CUDA
#include "cuda/cuda_backend.h"
#endif

namespace dse {

static int resolve_threads(int threads) {
  if (threads > 0) return threads;
  unsigned hw = std::thread::hardware_concurrency();
  return hw ? static_cast<int>(hw) : 1;
}

namespace {
// The CPU backend keeps its weights for the model's life: they go in one huge-page arena.
LoadOptions resident(LoadOptions o) {
  o.arena = true;
  return o;
}
}  // namespace

CpuBackend::CpuBackend(const ModelConfig& cfg, const TensorSource& src, const BackendOptions& opts)
    : model_(make_model(cfg, src, resident(opts.load))),
      pool_(resolve_threads(opts.threads)),
      kv_(cfg.num_layers, model_->kv_width(), opts.slots) {}

void CpuBackend::forward(const std::vector<BatchToken>& batch, float* logits) {
  for (const auto& b : batch) {
    if (!kv_.is_open(b.slot)) fail(ErrorKind::kInternal, "batch row for a closed sequence slot");
    if (b.pos < 0 || b.pos >= kv_.capacity(b.slot))
      fail(ErrorKind::kBadRequest, "position " + std::to_string(b.pos) + " beyond the sequence's KV capacity of " +
                                       std::to_string(kv_.capacity(b.slot)));
  }
  model_->forward(batch, kv_, pool_, logits);
}

std::unique_ptr<Backend> make_backend(const ModelConfig& cfg, const TensorSource& src, const BackendOptions& opts) {
  if (opts.spec == "cpu") {
    try {
      return std::make_unique<CpuBackend>(cfg, src, opts);
    } catch (const std::bad_alloc&) {
      fail(ErrorKind::kOutOfMemory, "out of memory while loading the weights of " + cfg.arch_name + " from " +
                                        src.where());
    }
  }
#ifdef DSE_HAVE_CUDA
  if (opts.spec == "cuda" || opts.spec.rfind("cuda:", 0) == 0) return make_cuda_backend(cfg, src, opts);
#endif
  if (opts.spec.rfind("cuda", 0) == 0)
    fail(ErrorKind::kUnsupported, "backend '" + opts.spec + "' is not built into this library (CPU only)");
  fail(ErrorKind::kUnsupported, "unknown backend '" + opts.spec + "' (expected \"cpu\" or \"cuda:N\")");
}

}  // namespace dse
