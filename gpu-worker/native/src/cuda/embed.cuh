// Embedding lookup on device: x[t, :] = float(table[tokens[t], :]) from a bf16 table [vocab, H].
// Token ids are validated on the host before the launch. Reference: Weight::row_f32.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace dse::cuda {

void embed_rows(const uint16_t* table, int64_t hidden, const int32_t* tokens, int64_t T, float* x, int64_t ldx,
                cudaStream_t stream);

}  // namespace dse::cuda
