#include "kernels/rmsnorm.h"

#include <cmath>

namespace dse {

void rmsnorm(const float* x, int64_t ldx, const float* weight, int64_t rows, int64_t n, float eps, float* y,
             int64_t ldy) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * ldx;
    float* yr = y + r * ldy;
    double ss = 0.0;
    for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(xr[i]) * xr[i];
    const float inv = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(n) + eps));
    for (int64_t i = 0; i < n; ++i) yr[i] = xr[i] * inv * weight[i];
  }
}

}  // namespace dse
