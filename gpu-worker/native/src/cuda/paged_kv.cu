#include <algorithm>

#include "cuda/cuda_check.cuh"
#include "cuda/paged_kv.cuh"

namespace dse::cuda {

namespace {

__global__ void kv_scatter_kernel(const float* src, int64_t ld_src, int64_t T, int64_t n, const int32_t* row_index,
                                  float* cache, int64_t width, int64_t col) {
  const int64_t total = T * n;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t t = i / n, c = i % n;
    cache[static_cast<int64_t>(row_index[t]) * width + col + c] = src[t * ld_src + c];
  }
}

}  // namespace

void kv_scatter(const float* src, int64_t ld_src, int64_t T, int64_t n, const int32_t* row_index, float* cache,
                int64_t width, int64_t col, cudaStream_t stream) {
  const int64_t total = T * n;
  if (total <= 0) return;
  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>((total + 255) / 256, 65535));
  kv_scatter_kernel<<<blocks, 256, 0, stream>>>(src, ld_src, T, n, row_index, cache, width, col);
  CUDA_CHECK_LAUNCH();
}

}  // namespace dse::cuda
