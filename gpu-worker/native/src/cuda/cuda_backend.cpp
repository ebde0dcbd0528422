// CudaBackend: construction (options, device checks, then weights, LoRA sites, KV cache and
// activations in that order), the Backend entry points (sequence open/close, forward in chunks of
// max_rows rows) and make_cuda_backend. The Impl's work lives by concern in the cuda_backend_*.cpp
// files declared in cuda_backend_impl.h.
#include "cuda/cuda_backend.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <new>
#include <string>

#include "common/error.h"
#include "cuda/cuda_backend_impl.h"
#include "cuda/cuda_check.cuh"

namespace dse {

bool cuda_device_available() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver / no device" status
    return false;
  }
  return n > 0;
}

namespace {

int parse_device(const std::string& spec) {
  if (spec == "cuda") return 0;
  const std::string digits = spec.substr(5);
  if (spec.compare(0, 5, "cuda:") != 0 || digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos)
    fail(ErrorKind::kUnsupported, "bad CUDA backend spec '" + spec + "' (expected \"cuda\" or \"cuda:N\")");
  return std::stoi(digits);
}

}  // namespace

CudaBackend::Impl::~Impl() {
  if (stream) {  // also runs when the constructor throws after creating the stream
    cudaSetDevice(copts.device);
    cudaStreamSynchronize(stream);
    for (auto& kv_graph : graphs) cudaGraphExecDestroy(kv_graph.second);
    cudaStreamDestroy(stream);
  }
}

CudaBackend::CudaBackend(const ModelConfig& cfg, const TensorSource& src, const BackendOptions& opts,
                         const CudaBackendOptions& copts)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.cfg = cfg;
  m.copts = copts;
  m.slots = opts.slots;
  if (const char* e = std::getenv("DSE_CUDA_KV_BYTES")) m.copts.kv_bytes = std::atoll(e);
  if (const char* e = std::getenv("DSE_CUDA_MAX_ROWS")) m.copts.max_rows = std::max(1LL, std::atoll(e));
  if (const char* e = std::getenv("DSE_CUDA_GRAPHS")) m.copts.cuda_graphs = std::string(e) == "1";
  if (!cuda_device_available())
    fail(ErrorKind::kUnsupported, "backend '" + opts.spec + "': no CUDA device available");
  int n = 0;
  CUDA_CHECK(cudaGetDeviceCount(&n));
  if (copts.device < 0 || copts.device >= n)
    fail(ErrorKind::kUnsupported, "backend '" + opts.spec + "': CUDA device " + std::to_string(copts.device) +
                                      " does not exist (" + std::to_string(n) + " found)");
  CUDA_CHECK(cudaSetDevice(copts.device));
  CUDA_CHECK(cudaStreamCreateWithFlags(&m.stream, cudaStreamNonBlocking));
  m.load(src, opts.load);
  m.has_moe = m.any_moe();
  m.index_lora_sites();
  m.alloc_kv();
  m.alloc_activations();
}

CudaBackend::~CudaBackend() = default;

std::string CudaBackend::name() const { return "cuda:" + std::to_string(impl_->copts.device); }
const ModelConfig& CudaBackend::config() const { return impl_->cfg; }
size_t CudaBackend::weight_bytes() const { return impl_->weight_bytes; }
int32_t CudaBackend::kv_blocks_total() const { return impl_->alloc->total(); }
int32_t CudaBackend::kv_blocks_free() const { return impl_->alloc->free_count(); }
Backend::KvUsage CudaBackend::kv_usage() const {
  const int64_t bs = impl_->pages->block_size();
  return {int64_t(impl_->alloc->used_count()) * bs, int64_t(impl_->alloc->total()) * bs};
}

void CudaBackend::open_sequence(int slot, int64_t capacity) {
  if (capacity > impl_->cfg.max_position)
    fail(ErrorKind::kBadRequest, "sequence capacity " + std::to_string(capacity) + " beyond max_position " +
                                     std::to_string(impl_->cfg.max_position));
  impl_->pages->open(slot, capacity);
}

void CudaBackend::close_sequence(int slot) { impl_->pages->close(slot); }

void CudaBackend::forward(const std::vector<BatchToken>& batch, float* logits) {
  Impl& m = *impl_;
  for (const auto& b : batch) {
    if (b.slot < 0 || b.slot >= m.slots || !m.pages->is_open(b.slot))
      fail(ErrorKind::kInternal, "batch row for a closed sequence slot");
    if (b.pos < 0 || b.pos >= m.pages->capacity(b.slot))
      fail(ErrorKind::kBadRequest, "position " + std::to_string(b.pos) + " beyond the sequence's KV capacity of " +
                                       std::to_string(m.pages->capacity(b.slot)));
    if (b.token < 0 || b.token >= m.cfg.vocab_size)
      fail(ErrorKind::kBadRequest, "token id " + std::to_string(b.token) + " outside vocabulary of " +
                                       std::to_string(m.cfg.vocab_size));
  }
  CUDA_CHECK(cudaSetDevice(m.copts.device));  // the calling thread may differ between calls
  // Consecutive chunks: a sequence's rows are in position order, so its earlier rows' KV is cached
  // by the time a later chunk attends to it.
  const size_t R = static_cast<size_t>(m.copts.max_rows);
  float* out = logits;
  for (size_t b0 = 0; b0 < batch.size(); b0 += R) {
    const size_t b1 = std::min(batch.size(), b0 + R);
    out += m.run_chunk(batch, b0, b1, out) * m.cfg.vocab_size;
  }
}

std::unique_ptr<Backend> make_cuda_backend(const ModelConfig& cfg, const TensorSource& src,
                                           const BackendOptions& opts) {
  CudaBackendOptions copts;
  copts.device = parse_device(opts.spec);
  try {
    return std::make_unique<CudaBackend>(cfg, src, opts, copts);
  } catch (const std::bad_alloc&) {
    fail(ErrorKind::kOutOfMemory, "out of host memory while loading " + cfg.arch_name + " for the CUDA backend");
  }
}

}  // namespace dse