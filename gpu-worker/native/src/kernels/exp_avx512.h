// exp(x) over 16 lanes, for the AVX-512 translation units only (include it nowhere else: it needs
// -mavx512f). Shared by silu_mul (matmul_avx512.cpp) and attention's softmax (attention_avx512.cpp).
#pragma once
#include <immintrin.h>

namespace dse {
namespace detail {

// Cephes' expf: x = n ln2 + r with ln2 in two parts, a degree-6 polynomial for e^r, 2^n in the
// exponent bits; within a few ulp of std::exp over the clamped range [-87.3, 88.3] (below it the
// result stays at ~1e-38 instead of reaching 0, which neither silu nor a softmax's sum can tell).
inline __m512 exp16(__m512 x) {
  x = _mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(88.3f)), _mm512_set1_ps(-87.3f));
  const __m512 fn = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(fn, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(fn, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_add_ps(_mm512_fmadd_ps(_mm512_mul_ps(p, r), r, r), _mm512_set1_ps(1.f));
  return _mm512_scalef_ps(p, fn);  // p * 2^n, n up to 128 without overflowing an exponent field
}

}  // namespace detail
}  // namespace dse
