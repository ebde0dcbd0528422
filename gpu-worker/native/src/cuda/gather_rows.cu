#include <algorithm>

#include "cuda/cuda_check.cuh"
#include "cuda/gather_rows.cuh"

namespace dse::cuda {

namespace {

__global__ void gather_kernel(const float* x, int64_t ldx, const int32_t* idx, int64_t n, int64_t cols, float* out,
                              int64_t ldo) {
  const int64_t total = n * cols;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = i / cols, c = i % cols;
    out[r * ldo + c] = x[static_cast<int64_t>(idx[r]) * ldx + c];
  }
}

}  // namespace

void gather_rows(const float* x, int64_t ldx, const int32_t* idx, int64_t n, int64_t cols, float* out, int64_t ldo,
                 cudaStream_t stream) {
  const int64_t total = n * cols;
  if (total <= 0) return;
  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>((total + 255) / 256, 65535));
  gather_kernel<<<blocks, 256, 0, stream>>>(x, ldx, idx, n, cols, out, ldo);
  CUDA_CHECK_LAUNCH();
}

}  // namespace dse::cuda
