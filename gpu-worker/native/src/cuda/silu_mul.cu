#include <algorithm>

#include "cuda/cuda_check.cuh"
#include "cuda/device_util.cuh"
#include "cuda/silu_mul.cuh"

namespace dse::cuda {

namespace {

__global__ void silu_mul_kernel(const float* g, int64_t ldg, const float* u, int64_t ldu, int64_t rows, int64_t n,
                                float* o, int64_t ldo) {
  const int64_t total = rows * n;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = i / n, c = i % n;
    const float a = g[r * ldg + c];
    o[r * ldo + c] = a / (1.f + expf(-a)) * u[r * ldu + c];
  }
}

}  // namespace

void silu_mul(const float* gate, int64_t ldg, const float* up, int64_t ldu, int64_t rows, int64_t n, float* out,
              int64_t ldo, cudaStream_t stream) {
  const int64_t total = rows * n;
  if (total <= 0) return;
  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>((total + 255) / 256, 65535));
  silu_mul_kernel<<<blocks, 256, 0, stream>>>(gate, ldg, up, ldu, rows, n, out, ldo);
  CUDA_CHECK_LAUNCH();
}

}  // namespace dse::cuda
