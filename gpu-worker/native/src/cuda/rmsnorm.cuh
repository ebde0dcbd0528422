// RMSNorm on device: y = x / sqrt(mean(x^2) + eps) * weight. Reference: kernels/rmsnorm.h.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace dse::cuda {

// x, y: [rows, n] with row strides ldx / ldy (y may alias x); weight: [n].
void rmsnorm(const float* x, int64_t ldx, const float* weight, int64_t rows, int64_t n, float eps, float* y,
             int64_t ldy, cudaStream_t stream);

}  // namespace dse::cuda
