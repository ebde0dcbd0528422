// AVX2+FMA tile kernel. This file alone is compiled with -mavx2 -mfma and is only entered after a
// run-time CPU check; it uses raw pointers only, so no AVX2-compiled copy of a shared inline
// (std::vector and friends) can leak into the rest of the library.
#include <immintrin.h>

#include <cstdint>
#include <type_traits>

#include "kernels/matmul.h"

namespace dse {
namespace detail {
namespace {

using vf = __m256;
constexpr int64_t kW = 8;

inline vf vzero() { return _mm256_setzero_ps(); }
inline vf vload(const float* p) { return _mm256_loadu_ps(p); }
inline vf vfma(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
inline vf vadd(vf a, vf b) { return _mm256_add_ps(a, b); }
inline vf vmul(vf a, vf b) { return _mm256_mul_ps(a, b); }
inline vf vset1(float v) { return _mm256_set1_ps(v); }
inline vf wload(const float* p) { return _mm256_loadu_ps(p); }
inline vf wload(const uint16_t* p) {
  __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}
inline vf wload(const int8_t* p) {
  __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b));
}
inline float vsum(vf v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 0x55));
  return _mm_cvtss_f32(s);
}

#include "kernels/matmul_simd.inc"

}  // namespace

void matmul_tile_avx2(WFormat fmt, const void* wdata, const float* scale, int64_t rows, int64_t cols, const float* x,
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

}  // namespace detail
}  // namespace dse
