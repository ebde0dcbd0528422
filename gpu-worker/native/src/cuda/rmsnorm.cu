#include "cuda/cuda_check.cuh"
#include "cuda/device_util.cuh"
#include "cuda/rmsnorm.cuh"

namespace dse::cuda {

namespace {

__global__ void rmsnorm_kernel(const float* x, int64_t ldx, const float* w, int64_t n, float eps, float* y,
                               int64_t ldy) {
  __shared__ float red[32];
  const float* xr = x + blockIdx.x * ldx;
  float* yr = y + blockIdx.x * ldy;
  float ss = 0.f;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) ss += xr[i] * xr[i];
  ss = block_sum(ss, red);
  const float inv = rsqrtf(ss / static_cast<float>(n) + eps);
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) yr[i] = xr[i] * inv * w[i];
}

}  // namespace

void rmsnorm(const float* x, int64_t ldx, const float* weight, int64_t rows, int64_t n, float eps, float* y,
             int64_t ldy, cudaStream_t stream) {
  if (rows <= 0) return;
  rmsnorm_kernel<<<static_cast<unsigned>(rows), 256, 0, stream>>>(x, ldx, weight, n, eps, y, ldy);
  CUDA_CHECK_LAUNCH();
}

}  // namespace dse::cuda
