// Causal attention of one query head over cached keys/values. Used for dense GQA (K and V rows)
// and for absorbed MLA, where the "key" is the cached [latent | k_pe] row and the "value" is its
// latent prefix, so both paths share one kernel.
#pragma once
#include <cstdint>

namespace dse {

// q: [d]; key t at k + t * ldk ([d]); value t at v + t * ldv ([dv]); n: positions 0..n-1 to attend.
// scores: scratch [n]. out: [dv].
void attention_head(const float* q, const float* k, int64_t ldk, const float* v, int64_t ldv, int64_t n, int64_t d,
                    int64_t dv, float scale, float* scores, float* out);

}  // namespace dse
