// Causal attention over the paged KV cache, one thread block per (query row, head), online softmax
// over 128-position chunks (scores never materialised beyond a chunk, so any context length fits).
// Serves dense GQA (key/value heads at their own columns) and absorbed MLA (one shared "head": key =
// the cached [latent | k_pe] row, value = its latent prefix: kv_head_stride 0). Reference:
// kernels/attention.h (attention_head).
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace dse::cuda {

constexpr int kAttnMaxDv = 1024;  // value width limit (MLA latent 512 fits)
constexpr int kAttnMaxD = 1024;   // query/key width limit

struct PagedAttnArgs {
  const float* q;        // [T, ldq]; head h at q + h * q_head_stride, width d
  int64_t ldq, q_head_stride;
  const float* cache;    // one layer: [num_blocks * block_size, width]
  int64_t width;
  int64_t k_col, v_col;  // column of kv head 0's key / value in a cache row
  int64_t kv_head_stride;  // columns between consecutive kv heads (0: shared, MLA)
  int heads, group;      // query heads; query heads per kv head
  int d, dv;
  float scale;
  const int32_t* n_ctx;   // [T] positions to attend (pos + 1)
  const int32_t* row_seq; // [T] index into the block tables
  const int32_t* tables;  // [S, max_blocks] physical block ids
  int max_blocks, block_size;
  float* out;             // [T, ldo]; head h at out + h * dv
  int64_t ldo;
  int64_t T;
};

void paged_attention(const PagedAttnArgs& a, cudaStream_t stream);

}  // namespace dse::cuda
