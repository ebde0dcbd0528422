#include <algorithm>

#include "cuda/cuda_check.cuh"
#include "cuda/scatter_rows.cuh"

namespace dse::cuda {

namespace {

__global__ void scatter_kernel(const float* v, int64_t ldv, const int32_t* idx, int64_t n, int64_t cols, float* y,
                               int64_t ldy, bool add) {
  const int64_t total = n * cols;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = i / cols, c = i % cols;
    float* dst = y + static_cast<int64_t>(idx[r]) * ldy + c;
    *dst = add ? *dst + v[r * ldv + c] : v[r * ldv + c];
  }
}

}  // namespace

void scatter_rows(const float* v, int64_t ldv, const int32_t* idx, int64_t n, int64_t cols, float* y, int64_t ldy,
                  bool add, cudaStream_t stream) {
  const int64_t total = n * cols;
  if (total <= 0) return;
  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>((total + 255) / 256, 65535));
  scatter_kernel<<<blocks, 256, 0, stream>>>(v, ldv, idx, n, cols, y, ldy, add);
  CUDA_CHECK_LAUNCH();
}

}  // namespace dse::cuda
