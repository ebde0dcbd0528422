// AVX-512F kernel of attention_group (kernels/attention.h). Compiled with -mavx512f -mfma and entered
// only after the run-time CPU check; raw pointers only (see matmul_avx512.cpp).
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "kernels/attention.h"
#include "kernels/exp_avx512.h"

namespace dse {
namespace detail {
namespace {

constexpr int64_t kW = 16;
// Positions per block: every head of the group scores a block while its key rows are in L1 (16 rows
// of a 128-wide head: 8 KB; rows 2 KB apart fall in few L1 sets, so not many more), and accumulates over
// a block of value rows the same way.
constexpr int64_t kBlock = 16;
constexpr int kMaxVecs = 8;  // output columns per pass over the values: 8 x 16 = 128, in registers

inline __mmask16 lanes(int64_t left) {
  return left >= kW ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << left) - 1);
}

// q . k over d values, four keys at once (four independent FMA chains), then reduced.
inline void dot4(const float* q, const float* k0, int64_t ldk, int64_t d, float scale, float* s) {
  const float* k1 = k0 + ldk;
  const float* k2 = k1 + ldk;
  const float* k3 = k2 + ldk;
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + kW <= d; i += kW) {
    const __m512 qv = _mm512_loadu_ps(q + i);
    a0 = _mm512_fmadd_ps(qv, _mm512_loadu_ps(k0 + i), a0);
    a1 = _mm512_fmadd_ps(qv, _mm512_loadu_ps(k1 + i), a1);
    a2 = _mm512_fmadd_ps(qv, _mm512_loadu_ps(k2 + i), a2);
    a3 = _mm512_fmadd_ps(qv, _mm512_loadu_ps(k3 + i), a3);
  }
  if (i < d) {
    const __mmask16 m = lanes(d - i);
    const __m512 qv = _mm512_maskz_loadu_ps(m, q + i);
    a0 = _mm512_fmadd_ps(qv, _mm512_maskz_loadu_ps(m, k0 + i), a0);
    a1 = _mm512_fmadd_ps(qv, _mm512_maskz_loadu_ps(m, k1 + i), a1);
    a2 = _mm512_fmadd_ps(qv, _mm512_maskz_loadu_ps(m, k2 + i), a2);
    a3 = _mm512_fmadd_ps(qv, _mm512_maskz_loadu_ps(m, k3 + i), a3);
  }
  s[0] = _mm512_reduce_add_ps(a0) * scale;
  s[1] = _mm512_reduce_add_ps(a1) * scale;
  s[2] = _mm512_reduce_add_ps(a2) * scale;
  s[3] = _mm512_reduce_add_ps(a3) * scale;
}

// The sums of 16 vectors, lane t of the result the sum of a[t]: a transpose-and-add tree (45 shuffles and
// adds instead of 16 separate horizontal reductions, ~140).
inline __m512 reduce16(const __m512* a) {
  __m512 s[8], u[4];
  for (int j = 0; j < 8; ++j)  // per 128-bit lane: [a0+a2, b0+b2, a1+a3, b1+b3] of a = a[2j], b = a[2j+1]
    s[j] = _mm512_add_ps(_mm512_unpacklo_ps(a[2 * j], a[2 * j + 1]), _mm512_unpackhi_ps(a[2 * j], a[2 * j + 1]));
  for (int j = 0; j < 4; ++j) {  // per 128-bit lane: the lane's partial of positions 4j .. 4j+3
    const __m512d x = _mm512_castps_pd(s[2 * j]), y = _mm512_castps_pd(s[2 * j + 1]);
    u[j] = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(x, y)), _mm512_castpd_ps(_mm512_unpackhi_pd(x, y)));
  }
  constexpr int kEven = _MM_SHUFFLE(2, 0, 2, 0), kOdd = _MM_SHUFFLE(3, 1, 3, 1);
  const __m512 v01 = _mm512_add_ps(_mm512_shuffle_f32x4(u[0], u[1], kEven), _mm512_shuffle_f32x4(u[0], u[1], kOdd));
  const __m512 v23 = _mm512_add_ps(_mm512_shuffle_f32x4(u[2], u[3], kEven), _mm512_shuffle_f32x4(u[2], u[3], kOdd));
  return _mm512_add_ps(_mm512_shuffle_f32x4(v01, v23, kEven), _mm512_shuffle_f32x4(v01, v23, kOdd));
}

// q . k for 16 consecutive keys, scaled, stored to s[0, 16).
inline void dot16(const float* q, const float* k, int64_t ldk, int64_t d, float scale, float* s) {
  __m512 a[16];
  for (int t = 0; t < 16; ++t) a[t] = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + kW <= d; i += kW) {
    const __m512 qv = _mm512_loadu_ps(q + i);
    for (int t = 0; t < 16; ++t) a[t] = _mm512_fmadd_ps(qv, _mm512_loadu_ps(k + t * ldk + i), a[t]);
  }
  if (i < d) {
    const __mmask16 m = lanes(d - i);
    const __m512 qv = _mm512_maskz_loadu_ps(m, q + i);
    for (int t = 0; t < 16; ++t) a[t] = _mm512_fmadd_ps(qv, _mm512_maskz_loadu_ps(m, k + t * ldk + i), a[t]);
  }
  _mm512_storeu_ps(s, _mm512_mul_ps(reduce16(a), _mm512_set1_ps(scale)));
}

inline float dot1(const float* q, const float* k, int64_t d) {
  __m512 a = _mm512_setzero_ps();
  for (int64_t i = 0; i < d; i += kW) {
    const __mmask16 m = lanes(d - i);
    a = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, q + i), _mm512_maskz_loadu_ps(m, k + i), a);
  }
  return _mm512_reduce_add_ps(a);
}

// Softmax numerators in place (exp(s - max)); returns 1 / their sum, applied to the output at the end.
float exp_scores(float* s, int64_t n) {
  __m512 mx = _mm512_set1_ps(-3.4e38f);
  for (int64_t i = 0; i < n; i += kW) mx = _mm512_mask_max_ps(mx, lanes(n - i), mx, _mm512_maskz_loadu_ps(lanes(n - i), s + i));
  const __m512 m = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
  __m512 sum = _mm512_setzero_ps();
  for (int64_t i = 0; i < n; i += kW) {
    const __mmask16 k = lanes(n - i);
    const __m512 e = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, s + i), m));
    _mm512_mask_storeu_ps(s + i, k, e);
    sum = _mm512_mask_add_ps(sum, k, sum, e);
  }
  return 1.f / _mm512_reduce_add_ps(sum);
}

// out[0, NV * 16) (the last vector masked by `last`) = sum over positions [t0, t1) of p[t] * v[t], added to
// what out holds unless `first`; scaled by inv after the last block.
template <int NV>
void values(const float* p, const float* v, int64_t ldv, int64_t t0, int64_t t1, __mmask16 last, bool first,
            float inv, bool final, float* out) {
  __m512 acc[NV];
  for (int j = 0; j < NV; ++j) {
    const __mmask16 m = j + 1 == NV ? last : static_cast<__mmask16>(0xFFFF);
    acc[j] = first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(m, out + j * kW);
  }
  for (int64_t t = t0; t < t1; ++t) {
    const __m512 pt = _mm512_set1_ps(p[t]);
    const float* vt = v + t * ldv;
    for (int j = 0; j + 1 < NV; ++j) acc[j] = _mm512_fmadd_ps(pt, _mm512_loadu_ps(vt + j * kW), acc[j]);
    acc[NV - 1] = _mm512_fmadd_ps(pt, _mm512_maskz_loadu_ps(last, vt + (NV - 1) * kW), acc[NV - 1]);
  }
  const __m512 s = _mm512_set1_ps(final ? inv : 1.f);
  for (int j = 0; j < NV; ++j) {
    const __mmask16 m = j + 1 == NV ? last : static_cast<__mmask16>(0xFFFF);
    _mm512_mask_storeu_ps(out + j * kW, m, _mm512_mul_ps(acc[j], s));
  }
}

using ValuesFn = void (*)(const float*, const float*, int64_t, int64_t, int64_t, __mmask16, bool, float, bool, float*);
constexpr ValuesFn kValues[kMaxVecs + 1] = {nullptr,   values<1>, values<2>, values<3>, values<4>,
                                            values<5>, values<6>, values<7>, values<8>};

}  // namespace

void attention_group_avx512(const float* q, int64_t ldq, int64_t heads, const float* k, int64_t ldk, const float* v,
                            int64_t ldv, int64_t n, int64_t d, int64_t dv, float scale, float* scores, float* out,
                            int64_t ldo) {
  // Scores, a block of key rows at a time for all heads.
  for (int64_t t0 = 0; t0 < n; t0 += kBlock) {
    const int64_t t1 = std::min(n, t0 + kBlock);
    for (int64_t h = 0; h < heads; ++h) {
      const float* qh = q + h * ldq;
      float* sh = scores + h * n;
      int64_t t = t0;
      if (t1 - t0 == 16) {
        dot16(qh, k + t * ldk, ldk, d, scale, sh + t);
        continue;
      }
      for (; t + 4 <= t1; t += 4) dot4(qh, k + t * ldk, ldk, d, scale, sh + t);
      for (; t < t1; ++t) sh[t] = dot1(qh, k + t * ldk, d) * scale;
    }
  }
  float inv[kAttentionMaxHeads];
  for (int64_t h = 0; h < heads; ++h) inv[h] = exp_scores(scores + h * n, n);
  // Values: up to 128 output columns at a time, in registers, over blocks of value rows.
  for (int64_t c = 0; c < dv; c += kMaxVecs * kW) {
    const int64_t w = std::min<int64_t>(kMaxVecs * kW, dv - c);
    const int nv = static_cast<int>((w + kW - 1) / kW);
    const __mmask16 last = lanes(w - (nv - 1) * kW);
    for (int64_t t0 = 0; t0 < n; t0 += kBlock) {
      const int64_t t1 = std::min(n, t0 + kBlock);
      for (int64_t h = 0; h < heads; ++h)
        kValues[nv](scores + h * n, v + c, ldv, t0, t1, last, t0 == 0, inv[h], t1 == n, out + h * ldo + c);
    }
  }
}

}  // namespace detail
}  // namespace dse
