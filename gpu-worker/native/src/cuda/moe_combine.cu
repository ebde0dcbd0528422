#include <algorithm>

#include "cuda/cuda_check.cuh"
#include "cuda/moe_combine.cuh"

namespace dse::cuda {

namespace {

__global__ void moe_combine_kernel(float* x, int64_t ld_x, int64_t T, int64_t K, int64_t H, const float* weight,
                                   const int32_t* slot, const float* eo) {
  const int64_t total = T * H;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t t = i / H, j = i % H;
    float s = 0.f;
    for (int64_t k = 0; k < K; ++k) s += weight[t * K + k] * eo[static_cast<int64_t>(slot[t * K + k]) * H + j];
    x[t * ld_x + j] += s;
  }
}

}  // namespace

void moe_combine(float* x, int64_t ld_x, int64_t T, int64_t K, int64_t H, const float* weight, const int32_t* slot,
                 const float* expert_out, cudaStream_t stream) {
  const int64_t total = T * H;
  if (total <= 0) return;
  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>((total + 255) / 256, 65535));
  moe_combine_kernel<<<blocks, 256, 0, stream>>>(x, ld_x, T, K, H, weight, slot, expert_out);
  CUDA_CHECK_LAUNCH();
}

}  // namespace dse::cuda
