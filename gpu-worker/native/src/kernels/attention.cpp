#include "kernels/attention.h"

#include "kernels/dot.h"
#include "kernels/softmax.h"

namespace dse {

void attention_head(const float* q, const float* k, int64_t ldk, const float* v, int64_t ldv, int64_t n, int64_t d,
                    int64_t dv, float scale, float* scores, float* out) {
  for (int64_t t = 0; t < n; ++t) scores[t] = dot_f32(q, k + t * ldk, d) * scale;
  softmax(scores, n);
  for (int64_t j = 0; j < dv; ++j) out[j] = 0.f;
  for (int64_t t = 0; t < n; ++t) {
    const float p = scores[t];
    const float* vt = v + t * ldv;
    for (int64_t j = 0; j < dv; ++j) out[j] += p * vt[j];
  }
}

}  // namespace dse
