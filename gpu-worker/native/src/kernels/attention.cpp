#include "kernels/attention.h"

#include <algorithm>

#include "kernels/dot.h"
#include "kernels/matmul.h"
#include "kernels/softmax.h"

namespace dse {

namespace {

void attention_head_portable(const float* q, const float* k, int64_t ldk, const float* v, int64_t ldv, int64_t n,
                             int64_t d, int64_t dv, float scale, float* scores, float* out) {
  for (int64_t t = 0; t < n; ++t) scores[t] = dot_f32(q, k + t * ldk, d) * scale;
  softmax(scores, n);
  for (int64_t j = 0; j < dv; ++j) out[j] = 0.f;
  for (int64_t t = 0; t < n; ++t) {
    const float p = scores[t];
    const float* vt = v + t * ldv;
    for (int64_t j = 0; j < dv; ++j) out[j] += p * vt[j];
  }
}

}  // namespace

void attention_group(const float* q, int64_t ldq, int64_t heads, const float* k, int64_t ldk, const float* v,
                     int64_t ldv, int64_t n, int64_t d, int64_t dv, float scale, float* scores, float* out, int64_t ldo) {
  if (n <= 0) {
    for (int64_t h = 0; h < heads; ++h) std::fill(out + h * ldo, out + h * ldo + dv, 0.f);
    return;
  }
  // The portable loop ran ~10x what a decode step's attention needs (scalar exp, out[] reloaded per
  // position, every K/V row read once per head): 1.7 ms of a 47 ms int8 step (docs/performance.md, #21).
  if (simd_level() >= SimdLevel::kAvx512) {
    for (int64_t h0 = 0; h0 < heads; h0 += detail::kAttentionMaxHeads) {
      const int64_t hn = std::min(detail::kAttentionMaxHeads, heads - h0);
      detail::attention_group_avx512(q + h0 * ldq, ldq, hn, k, ldk, v, ldv, n, d, dv, scale, scores + h0 * n,
                                     out + h0 * ldo, ldo);
    }
    return;
  }
  for (int64_t h = 0; h < heads; ++h)
    attention_head_portable(q + h * ldq, k, ldk, v, ldv, n, d, dv, scale, scores + h * n, out + h * ldo);
}

void attention_head(const float* q, const float* k, int64_t ldk, const float* v, int64_t ldv, int64_t n, int64_t d,
                    int64_t dv, float scale, float* scores, float* out) {
  attention_group(q, d, 1, k, ldk, v, ldv, n, d, dv, scale, scores, out, dv);
}

}  // namespace dse
