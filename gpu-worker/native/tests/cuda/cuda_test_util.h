// Shared by the GPU tests: the skip rule (exit 77, which ctest reports as skipped, when no device)
// and host<->device copies through the RAII buffers.
#pragma once
#include <cstdio>
#include <vector>

#include "cuda/cuda_backend.h"
#include "cuda/device_buffer.cuh"

namespace cudatest {

constexpr int kSkip = 77;

// Call first in main(): returns true (after printing the reason) when the test must be skipped.
inline bool skip_without_device() {
  if (dse::cuda_device_available()) return false;
  std::printf("skipped: no CUDA device\n");
  return true;
}

template <typename T, typename A>
dse::cuda::DeviceBuffer<T> to_device(const std::vector<T, A>& h) {
  dse::cuda::DeviceBuffer<T> d(h.size());
  if (!h.empty()) d.upload(h.data(), h.size());
  return d;
}

template <typename T>
std::vector<T> to_host(const dse::cuda::DeviceBuffer<T>& d) {
  std::vector<T> h(d.size());
  CUDA_CHECK(cudaDeviceSynchronize());
  if (!h.empty()) CUDA_CHECK(cudaMemcpy(h.data(), d.get(), d.bytes(), cudaMemcpyDeviceToHost));
  return h;
}

}  // namespace cudatest
