// MLA weight absorption on device (fp32 kv_b_proj, as the CPU path keeps it). Reference:
// kernels/mla_absorb.h. kv_b: [heads * (nope + vdim), R]; rows of head h: nope key rows, then vdim
// value rows.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace dse::cuda {

// q: [T, heads, nope + rope] (row stride heads * (nope + rope)). Writes q_abs: [T, heads, R + rope]
// with q_abs[t, h, r<R] = sum_n q[t, h, n] * kv_b[h * (nope + vdim) + n, r] and the rope part copied.
void mla_absorb_query(const float* kv_b, int64_t T, int64_t heads, int64_t nope, int64_t rope, int64_t vdim,
                      int64_t R, const float* q, float* q_abs, cudaStream_t stream);

// lat: [T, heads, R]. out[t, h * vdim + j] = sum_r lat[t, h, r] * kv_b[h * (nope + vdim) + nope + j, r].
void mla_expand_value(const float* kv_b, int64_t T, int64_t heads, int64_t nope, int64_t vdim, int64_t R,
                      const float* lat, float* out, cudaStream_t stream);

}  // namespace dse::cuda
