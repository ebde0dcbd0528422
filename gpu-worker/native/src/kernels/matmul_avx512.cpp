// AVX-512F tile kernel. This file alone is compiled with -mavx512f -mfma and is only entered after a
// run-time CPU check; it uses raw pointers only, so no AVX-512-compiled copy of a shared inline
// (std::vector and friends) can leak into the rest of the library.
#include <immintrin.h>

#include <cstdint>
#include <type_traits>

#include "kernels/exp_avx512.h"
#include "kernels/matmul.h"

namespace dse {
namespace detail {
namespace {

using vf = __m512;
constexpr int64_t kW = 16;

inline vf vzero() { return _mm512_setzero_ps(); }
inline vf vload(const float* p) { return _mm512_loadu_ps(p); }
inline vf vfma(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
inline vf vadd(vf a, vf b) { return _mm512_add_ps(a, b); }
inline vf vmul(vf a, vf b) { return _mm512_mul_ps(a, b); }
inline vf vset1(float v) { return _mm512_set1_ps(v); }
inline vf wload(const float* p) { return _mm512_loadu_ps(p); }
inline vf wload(const uint16_t* p) {
  __m512i w = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  return _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
}
inline vf wload(const int8_t* p) {
  __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(b));
}
inline float vsum(vf v) { return _mm512_reduce_add_ps(v); }

#include "kernels/matmul_simd.inc"

}  // namespace

void matmul_tile_avx512(WFormat fmt, const void* wdata, const float* scale, int64_t rows, int64_t cols, const float* x,
                      int64_t r0, int64_t r1, int64_t t0, int64_t t1, float* y) {
  switch (fmt) {
    case WFormat::kF32:
      tile(static_cast<const float*>(wdata), nullptr, rows, cols, x, r0, r1, t0, t1, y);
      break;
    case WFormat::kBF16:
      tile(static_cast<const uint16_t*>(wdata), nullptr, rows, cols, x, r0, r1, t0, t1, y);
      break;
    case WFormat::kI8:
      tile(static_cast<const int8_t*>(wdata), scale, rows, cols, x, r0, r1, t0, t1, y);
      break;
  }
}

// The vectorized exp (kernels/exp_avx512.h): std::exp kept silu_mul scalar, 27 us of one core per decode step
// and layer at the 1.5B model's 8960 columns.
void silu_mul_avx512(const float* g, const float* u, int64_t n, float* out) {
  const __m512 one = _mm512_set1_ps(1.f);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m512 gv = _mm512_maskz_loadu_ps(m, g + i);
    const __m512 e = exp16(_mm512_sub_ps(_mm512_setzero_ps(), gv));
    _mm512_mask_storeu_ps(out + i, m, _mm512_mul_ps(_mm512_div_ps(gv, _mm512_add_ps(one, e)), _mm512_maskz_loadu_ps(m, u + i)));
  }
}

}  // namespace detail
}  // namespace dse
