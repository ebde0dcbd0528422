// Writes token rows into the paged KV cache. One layer's cache is [num_blocks * block_size, width]
// fp32 rows; a token's physical row is block * block_size + pos % block_size, computed on the host
// from the page table (row_index) so this kernel knows nothing about sequences.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace dse::cuda {

// Copies src[t, 0..n) (row stride ld_src) to cache[row_index[t] * width + col + 0..n) for t < T.
void kv_scatter(const float* src, int64_t ld_src, int64_t T, int64_t n, const int32_t* row_index, float* cache,
                int64_t width, int64_t col, cudaStream_t stream);

}  // namespace dse::cuda
