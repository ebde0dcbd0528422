// MLA weight absorption (DeepSeek-V2 paper, section 2.1.2): instead of expanding the cached latent
// into per-head K/V with kv_b_proj, fold kv_b_proj's key half into the query and its value half
// into the output. kv_b: [H * (nope + vdim), R] f32, rows of head h: nope key rows then vdim value rows.
#pragma once
#include <cstdint>

namespace dse {

// q_lat[h, r] = sum_n q_nope[h, n] * kv_b[h*(nope+vdim) + n, r]. q_nope rows at stride ldq, q_lat at ldl.
void mla_absorb_query(const float* kv_b, int64_t heads, int64_t nope, int64_t vdim, int64_t rank,
                      const float* q_nope, int64_t ldq, float* q_lat, int64_t ldl);

// out[h, j] = sum_r lat[h, r] * kv_b[h*(nope+vdim) + nope + j, r]. lat rows at stride ldl, out at ldo.
void mla_expand_value(const float* kv_b, int64_t heads, int64_t nope, int64_t vdim, int64_t rank, const float* lat,
                      int64_t ldl, float* out, int64_t ldo);

}  // namespace dse
