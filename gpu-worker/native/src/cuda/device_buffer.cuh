// Device memory with RAII ownership. Buffers are allocated once, when a backend is built (weights,
// KV pool, activation arena); the forward pass only carves views out of them, never allocates.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "cuda/cuda_check.cuh"

namespace dse::cuda {

template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t n) : n_(n) {
    if (n) CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&p_), n * sizeof(T)));
  }
  ~DeviceBuffer() { reset(); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      reset();
      p_ = std::exchange(o.p_, nullptr);
      n_ = std::exchange(o.n_, 0);
    }
    return *this;
  }
  void reset() {
    if (p_) cudaFree(p_);  // no check: destructors must not throw; errors resurface on the next call
    p_ = nullptr;
    n_ = 0;
  }
  T* get() const { return p_; }
  size_t size() const { return n_; }
  size_t bytes() const { return n_ * sizeof(T); }
  void upload(const T* host, size_t n, size_t offset = 0) {
    if (offset + n > n_) fail(ErrorKind::kInternal, "device upload past the end of a buffer");
    CUDA_CHECK(cudaMemcpy(p_ + offset, host, n * sizeof(T), cudaMemcpyHostToDevice));
  }

 private:
  T* p_ = nullptr;
  size_t n_ = 0;
};

// Bump allocator over one device allocation: the activation buffers of a forward are views into it,
// sized for the largest chunk at construction.
class DeviceArena {
 public:
  explicit DeviceArena(size_t bytes) : buf_(bytes) {}
  template <typename T>
  T* take(size_t n, const char* what) {
    const size_t bytes = (n * sizeof(T) + 255) & ~size_t(255);
    if (used_ + bytes > buf_.size())
      fail(ErrorKind::kInternal, std::string("activation arena too small for ") + what);
    T* p = reinterpret_cast<T*>(buf_.get() + used_);
    used_ += bytes;
    return p;
  }
  size_t used() const { return used_; }

 private:
  DeviceBuffer<unsigned char> buf_;
  size_t used_ = 0;
};

// Page-locked host staging memory (for async copies of per-step metadata and logits).
template <typename T>
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  explicit PinnedBuffer(size_t n) : n_(n) {
    if (n) CUDA_CHECK(cudaMallocHost(reinterpret_cast<void**>(&p_), n * sizeof(T)));
  }
  ~PinnedBuffer() {
    if (p_) cudaFreeHost(p_);
  }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  PinnedBuffer(PinnedBuffer&& o) noexcept : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)) {}
  PinnedBuffer& operator=(PinnedBuffer&& o) noexcept {
    std::swap(p_, o.p_);
    std::swap(n_, o.n_);
    return *this;
  }
  T* get() const { return p_; }
  size_t size() const { return n_; }

 private:
  T* p_ = nullptr;
  size_t n_ = 0;
};

}  // namespace dse::cuda
