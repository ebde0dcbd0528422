// Causal attention of query heads over cached keys/values. Used for dense GQA (K and V rows)
// and for absorbed MLA, where the "key" is the cached [latent | k_pe] row and the "value" is its
// latent prefix, so both paths share one kernel.
#pragma once
#include <cstdint>

namespace dse {

// q: [d]; key t at k + t * ldk ([d]); value t at v + t * ldv ([dv]); n: positions 0..n-1 to attend.
// scores: scratch [n]. out: [dv].
void attention_head(const float* q, const float* k, int64_t ldk, const float* v, int64_t ldv, int64_t n, int64_t d,
                    int64_t dv, float scale, float* scores, float* out);

// `heads` query heads that share one cached K/V head (a GQA group): query h at q + h * ldq, its output at
// out + h * ldo; scores: scratch [heads * n]. The same values as attention_head per head (within float
// rounding), but each key and value row is read from memory once for the group, not once per head: at
// decode the cached rows are cold (the weight GEMVs stream gigabytes between two visits of a layer).
void attention_group(const float* q, int64_t ldq, int64_t heads, const float* k, int64_t ldk, const float* v,
                     int64_t ldv, int64_t n, int64_t d, int64_t dv, float scale, float* scores, float* out, int64_t ldo);

namespace detail {
// The AVX-512F kernel of attention_group (attention_avx512.cpp): scores a block of positions for every
// head while its key rows are in L1, a vectorized exp (exp_avx512.h), and each head's output accumulated
// in registers over blocks of value rows. heads <= kAttentionMaxHeads.
constexpr int64_t kAttentionMaxHeads = 16;
void attention_group_avx512(const float* q, int64_t ldq, int64_t heads, const float* k, int64_t ldk, const float* v,
                            int64_t ldv, int64_t n, int64_t d, int64_t dv, float scale, float* scores, float* out,
                            int64_t ldo);
}  // namespace detail

}  // namespace dse
