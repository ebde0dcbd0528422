// y[t, o] (+)= sum_i x[t, i] * W[o, i] + bias[o], with W bf16 [rows, cols] (row = output feature), x and
// y fp32, fp32 accumulation. The single GEMM/GEMV dispatch point of the CUDA backend: decode-sized
// batches (T <= kGemvMaxT) take a memory-bound GEMV that streams each weight row once for all T
// tokens; larger batches take a shared-memory tiled GEMM. Reference: kernels/matmul.h
// (matmul_reference).
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace dse::cuda {

constexpr int64_t kGemvMaxT = 8;

enum class MatmulPath { kAuto, kGemv, kTiled };

// w: [rows, cols] bf16 bits; x: [T, ldx >= cols]; y: [T, ldy >= rows]; bias: [rows] or null.
// accumulate: y += result (residual add fused) instead of y = result.
void matmul_bf16(const uint16_t* w, int64_t rows, int64_t cols, const float* x, int64_t ldx, int64_t T, float* y,
                 int64_t ldy, const float* bias, bool accumulate, cudaStream_t stream,
                 MatmulPath path = MatmulPath::kAuto);

}  // namespace dse::cuda
