// Row scatter on device, the inverse of gather_rows: y[idx[i], :] = v[i, :], or += with add (the
// LoRA delta of a group of rows lands on their rows of the base projection's output).
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace dse::cuda {

// idx holds distinct rows, so no two threads write one element.
void scatter_rows(const float* v, int64_t ldv, const int32_t* idx, int64_t n, int64_t cols, float* y, int64_t ldy,
                  bool add, cudaStream_t stream);

}  // namespace dse::cuda
