#include "kernels/mla_absorb.h"

#include "kernels/dot.h"

namespace dse {

void mla_absorb_query(const float* kv_b, int64_t heads, int64_t nope, int64_t vdim, int64_t rank,
                      const float* q_nope, int64_t ldq, float* q_lat, int64_t ldl) {
  for (int64_t h = 0; h < heads; ++h) {
    const float* wk = kv_b + h * (nope + vdim) * rank;
    const float* qn = q_nope + h * ldq;
    float* out = q_lat + h * ldl;
    for (int64_t r = 0; r < rank; ++r) out[r] = 0.f;
    for (int64_t n = 0; n < nope; ++n) {
      const float qv = qn[n];
      const float* wrow = wk + n * rank;
      for (int64_t r = 0; r < rank; ++r) out[r] += qv * wrow[r];
    }
  }
}

void mla_expand_value(const float* kv_b, int64_t heads, int64_t nope, int64_t vdim, int64_t rank, const float* lat,
                      int64_t ldl, float* out, int64_t ldo) {
  for (int64_t h = 0; h < heads; ++h) {
    const float* wv = kv_b + (h * (nope + vdim) + nope) * rank;
    const float* l = lat + h * ldl;
    for (int64_t j = 0; j < vdim; ++j) {
      out[h * ldo + j] = dot_f32(l, wv + j * rank, rank);
    }
  }
}

}  // namespace dse
