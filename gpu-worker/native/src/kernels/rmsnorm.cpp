#include "kernels/rmsnorm.h"

#include <cmath>

namespace dse {

void rmsnorm(const float* x, int64_t ldx, const float* weight, int64_t rows, int64_t n, float eps, float* y,
             int64_t ldy) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * ldx;
    float* yr = y + r * ldy;
    // Eight partial sums: one running double sum is a chain of dependent adds the compiler may not
    // reorder (~2.4 us per 1536-value row, 57 rows per decode step of a 28-layer model); these vectorise.
    double part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
      for (int k = 0; k < 8; ++k) part[k] += static_cast<double>(xr[i + k]) * xr[i + k];
    double ss = ((part[0] + part[4]) + (part[1] + part[5])) + ((part[2] + part[6]) + (part[3] + part[7]));
    for (; i < n; ++i) ss += static_cast<double>(xr[i]) * xr[i];
    const float inv = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(n) + eps));
    for (int64_t i = 0; i < n; ++i) yr[i] = xr[i] * inv * weight[i];
  }
}

}  // namespace dse
