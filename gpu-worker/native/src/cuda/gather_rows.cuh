// Row gather on device: out[i, :] = x[idx[i], :] (picks the rows whose logits are wanted).
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace dse::cuda {

void gather_rows(const float* x, int64_t ldx, const int32_t* idx, int64_t n, int64_t cols, float* out, int64_t ldo,
                 cudaStream_t stream);

}  // namespace dse::cuda
