#include <algorithm>

#include "cuda/cuda_check.cuh"
#include "cuda/mla_absorb.cuh"

namespace dse::cuda {

namespace {

unsigned grid_for(int64_t total) { return static_cast<unsigned>(std::min<int64_t>((total + 255) / 256, 65535)); }

__global__ void absorb_query_kernel(const float* kv_b, int64_t T, int64_t heads, int64_t nope, int64_t rope,
                                    int64_t vdim, int64_t R, const float* q, float* q_abs) {
  const int64_t w = R + rope, qk = nope + rope, total = T * heads * w;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = i % w, h = (i / w) % heads, t = i / (w * heads);
    const float* qh = q + (t * heads + h) * qk;
    float v;
    if (r < R) {
      const float* kb = kv_b + h * (nope + vdim) * R + r;  // column r of head h's key rows
      v = 0.f;
      for (int64_t n = 0; n < nope; ++n) v += qh[n] * kb[n * R];
    } else {
      v = qh[nope + (r - R)];
    }
    q_abs[i] = v;
  }
}

__global__ void expand_value_kernel(const float* kv_b, int64_t T, int64_t heads, int64_t nope, int64_t vdim,
                                    int64_t R, const float* lat, float* out) {
  const int64_t total = T * heads * vdim;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t j = i % vdim, h = (i / vdim) % heads, t = i / (vdim * heads);
    const float* l = lat + (t * heads + h) * R;
    const float* vb = kv_b + (h * (nope + vdim) + nope + j) * R;
    float v = 0.f;
    for (int64_t r = 0; r < R; ++r) v += l[r] * vb[r];
    out[i] = v;  // out is [T, heads * vdim], i.e. exactly index i
  }
}

}  // namespace

void mla_absorb_query(const float* kv_b, int64_t T, int64_t heads, int64_t nope, int64_t rope, int64_t vdim,
                      int64_t R, const float* q, float* q_abs, cudaStream_t stream) {
  const int64_t total = T * heads * (R + rope);
  if (total <= 0) return;
  absorb_query_kernel<<<grid_for(total), 256, 0, stream>>>(kv_b, T, heads, nope, rope, vdim, R, q, q_abs);
  CUDA_CHECK_LAUNCH();
}

void mla_expand_value(const float* kv_b, int64_t T, int64_t heads, int64_t nope, int64_t vdim, int64_t R,
                      const float* lat, float* out, cudaStream_t stream) {
  const int64_t total = T * heads * vdim;
  if (total <= 0) return;
  expand_value_kernel<<<grid_for(total), 256, 0, stream>>>(kv_b, T, heads, nope, vdim, R, lat, out);
  CUDA_CHECK_LAUNCH();
}

}  // namespace dse::cuda
