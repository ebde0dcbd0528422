// y[t, o] = sum_i x[t, i] * W[o, i] (+ bias[o]): the one GEMM/GEMV entry point of the CPU backend.
// One call serves decode (T = 1, memory bound, split over output rows) and prefill (T > 1, tiled
// so a weight tile is reused across many tokens).
#pragma once
#include <cstdint>

#include "common/thread_pool.h"
#include "memory/weight.h"

namespace dse {

// x: [T, w.cols] row-major, y: [T, w.rows] row-major, bias: [w.rows] or null.
void matmul(const Weight& w, const float* x, int64_t T, float* y, const float* bias, ThreadPool* pool);

// Plain triple loop in double precision: the reference every path is tested against.
void matmul_reference(const Weight& w, const float* x, int64_t T, float* y, const float* bias);

// AVX2+FMA is chosen at run time when the CPU has it (the library is built without -march=native
// so a packaged jar runs on any x86-64). Tests switch it off to check the portable path.
bool simd_available();
void set_simd_enabled(bool enabled);
bool simd_enabled();

namespace detail {
// Row tile [row_begin, row_end) x token tile [t_begin, t_end); implemented per instruction set.
void matmul_tile_portable(const Weight& w, const float* x, int64_t row_begin, int64_t row_end, int64_t t_begin,
                          int64_t t_end, float* y);
void matmul_tile_avx2(WFormat fmt, const void* wdata, const float* scale, int64_t rows, int64_t cols,
                      const float* x, int64_t row_begin, int64_t row_end, int64_t t_begin, int64_t t_end, float* y);
}  // namespace detail

}  // namespace dse
