// SwiGLU activation: out[i] = silu(gate[i]) * up[i].
#pragma once
#include <cstdint>

namespace dse {

// gate, up, out: [rows, n] with row strides; out may alias gate.
void silu_mul(const float* gate, int64_t ldg, const float* up, int64_t ldu, int64_t rows, int64_t n, float* out,
              int64_t ldo);

}  // namespace dse
