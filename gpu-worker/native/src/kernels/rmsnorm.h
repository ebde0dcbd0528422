// RMSNorm over rows: y = x / sqrt(mean(x^2) + eps) * weight (HF's float32 formulation).
#pragma once
#include <cstdint>

namespace dse {

// x, y: [rows, n] with row strides ldx / ldy (y may alias x).
void rmsnorm(const float* x, int64_t ldx, const float* weight, int64_t rows, int64_t n, float eps, float* y,
             int64_t ldy);

}  // namespace dse
