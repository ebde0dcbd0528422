#include "kernels/silu_mul.h"

#include <cmath>

namespace dse {

void silu_mul(const float* gate, int64_t ldg, const float* up, int64_t ldu, int64_t rows, int64_t n, float* out,
              int64_t ldo) {
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t i = 0; i < n; ++i) {
      float g = gate[r * ldg + i];
      out[r * ldo + i] = g / (1.f + std::exp(-g)) * up[r * ldu + i];
    }
  }
}

}  // namespace dse
