#pragma once
// How a decode pass hands out its rows, shared by the matmul kernels (matmul.cpp) and the read-ahead
// hint that must name the rows each thread reads first (decode_prefetch.cpp). Internal to the engine.

#include <cstdint>

#include "memory/weight.h"

namespace dse::detail {

// Decode pieces are multiples of 16 rows (whole int8 panels, whole four-row groups of the bf16 GEMV).
constexpr int64_t kDecodeGrain = 16;
// The largest piece of w a thread claims at once.
int64_t decode_cap(const Weight& w);
// Rows of w that hold `bytes` of the read-ahead (0 where the hint does not cover w's layout).
int64_t ahead_rows(const Weight& w, int64_t bytes);
// The rows each of `threads` chunks runs first, before it claims from the queue (matmul.cpp says how).
int64_t first_piece(int64_t n_rows, int64_t grain, int64_t cap, int64_t ahead, int threads);

}  // namespace dse::detail
