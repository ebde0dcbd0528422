#include "cuda/cuda_check.cuh"
#include "cuda/device_util.cuh"
#include "cuda/paged_attention.cuh"

namespace dse::cuda {

namespace {

constexpr int kThreads = 128;  // also the chunk of positions scored per iteration
constexpr int kPerThread = kAttnMaxDv / kThreads;

__global__ void __launch_bounds__(kThreads) paged_attention_kernel(PagedAttnArgs a) {
  extern __shared__ float qs[];  // [d] this head's query
  __shared__ float w[kThreads];  // chunk weights
  __shared__ int64_t rows[kThreads];  // chunk physical rows
  __shared__ float red[32];
  const int64_t t = blockIdx.x / a.heads;
  const int h = static_cast<int>(blockIdx.x % a.heads);
  const int kvh = h / a.group;
  const float* q = a.q + t * a.ldq + h * a.q_head_stride;
  for (int i = threadIdx.x; i < a.d; i += kThreads) qs[i] = q[i];
  const int n = a.n_ctx[t];
  const int32_t* table = a.tables + static_cast<int64_t>(a.row_seq[t]) * a.max_blocks;
  const int64_t kcol = a.k_col + kvh * a.kv_head_stride, vcol = a.v_col + kvh * a.kv_head_stride;
  float m = -INFINITY, l = 0.f;
  float acc[kPerThread];
#pragma unroll
  for (int j = 0; j < kPerThread; ++j) acc[j] = 0.f;
  __syncthreads();
  for (int c0 = 0; c0 < n; c0 += kThreads) {
    const int p = c0 + threadIdx.x;
    float s = -INFINITY;
    if (p < n) {
      const int64_t row = static_cast<int64_t>(table[p / a.block_size]) * a.block_size + p % a.block_size;
      rows[threadIdx.x] = row;
      const float* k = a.cache + row * a.width + kcol;
      float dot = 0.f;
      for (int i = 0; i < a.d; ++i) dot += qs[i] * k[i];
      s = dot * a.scale;
    }
    const float cmax = block_max(s, red);
    const float m_new = fmaxf(m, cmax);
    const float e = p < n ? expf(s - m_new) : 0.f;
    const float csum = block_sum(e, red);  // block_sum syncs before and after its shared write
    const float corr = expf(m - m_new);    // m = -inf on the first chunk: corr = 0, acc is 0 anyway
    l = l * corr + csum;
    m = m_new;
    w[threadIdx.x] = e;
    __syncthreads();
    const int cn = min(kThreads, n - c0);
#pragma unroll
    for (int j = 0; j < kPerThread; ++j) {
      const int i = threadIdx.x + j * kThreads;
      if (i < a.dv) {
        float v = acc[j] * corr;
        for (int pp = 0; pp < cn; ++pp) v += w[pp] * a.cache[rows[pp] * a.width + vcol + i];
        acc[j] = v;
      }
    }
    __syncthreads();  // w and rows are rewritten by the next chunk
  }
  float* o = a.out + t * a.ldo + static_cast<int64_t>(h) * a.dv;
  const float inv = l > 0.f ? 1.f / l : 0.f;
#pragma unroll
  for (int j = 0; j < kPerThread; ++j) {
    const int i = threadIdx.x + j * kThreads;
    if (i < a.dv) o[i] = acc[j] * inv;
  }
}

}  // namespace

void paged_attention(const PagedAttnArgs& a, cudaStream_t stream) {
  if (a.T <= 0) return;
  if (a.dv > kAttnMaxDv || a.d > kAttnMaxD)
    fail(ErrorKind::kUnsupported, "attention head width beyond the CUDA kernel's limit of 1024");
  const int64_t blocks = a.T * a.heads;
  if (blocks > 0x7fffffffLL) fail(ErrorKind::kInternal, "attention grid too large");
  paged_attention_kernel<<<static_cast<unsigned>(blocks), kThreads, a.d * sizeof(float), stream>>>(a);
  CUDA_CHECK_LAUNCH();
}

}  // namespace dse::cuda
