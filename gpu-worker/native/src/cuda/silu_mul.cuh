// SwiGLU activation on device: out = silu(gate) * up. Reference: kernels/silu_mul.h.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace dse::cuda {

// gate, up, out: [rows, n] with row strides; out may alias gate.
void silu_mul(const float* gate, int64_t ldg, const float* up, int64_t ldu, int64_t rows, int64_t n, float* out,
              int64_t ldo, cudaStream_t stream);

}  // namespace dse::cuda
