// AVX2+FMA tile kernel. This file alone is compiled with -mavx2 -mfma and is only entered after a
// run-time CPU check; it uses raw pointers only, so no AVX2-compiled copy of a shared inline
// (std::vector and friends) can leak into the rest of the library.
#include <immintrin.h>

#include <cstdint>

#include "kernels/matmul.h"

namespace dse {
namespace detail {
namespace {

inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
inline __m256 load8(const uint16_t* p) {
  __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}
inline __m256 load8(const int8_t* p) {
  __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b));
}
inline float scalar(float v) { return v; }
inline float scalar(uint16_t v) {
  uint32_t bits = static_cast<uint32_t>(v) << 16;
  float f;
  __builtin_memcpy(&f, &bits, 4);
  return f;
}
inline float scalar(int8_t v) { return static_cast<float>(v); }

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 0x55));
  return _mm_cvtss_f32(s);
}

// One weight row against one token, four independent accumulators to hide FMA latency.
template <typename WT>
float dot1(const WT* w, const float* x, int64_t cols) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= cols; i += 32) {
    a0 = _mm256_fmadd_ps(load8(w + i), _mm256_loadu_ps(x + i), a0);
    a1 = _mm256_fmadd_ps(load8(w + i + 8), _mm256_loadu_ps(x + i + 8), a1);
    a2 = _mm256_fmadd_ps(load8(w + i + 16), _mm256_loadu_ps(x + i + 16), a2);
    a3 = _mm256_fmadd_ps(load8(w + i + 24), _mm256_loadu_ps(x + i + 24), a3);
  }
  for (; i + 8 <= cols; i += 8) a0 = _mm256_fmadd_ps(load8(w + i), _mm256_loadu_ps(x + i), a0);
  float acc = hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  for (; i < cols; ++i) acc += scalar(w[i]) * x[i];
  return acc;
}

// One weight row against four tokens: the converted weight vector is reused four times.
template <typename WT>
void dot4(const WT* w, const float* x, int64_t cols, float* out) {
  const float* x0 = x;
  const float* x1 = x + cols;
  const float* x2 = x + 2 * cols;
  const float* x3 = x + 3 * cols;
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= cols; i += 8) {
    __m256 wv = load8(w + i);
    a0 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x0 + i), a0);
    a1 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x1 + i), a1);
    a2 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x2 + i), a2);
    a3 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x3 + i), a3);
  }
  float r0 = hsum(a0), r1 = hsum(a1), r2 = hsum(a2), r3 = hsum(a3);
  for (; i < cols; ++i) {
    float wf = scalar(w[i]);
    r0 += wf * x0[i];
    r1 += wf * x1[i];
    r2 += wf * x2[i];
    r3 += wf * x3[i];
  }
  out[0] = r0;
  out[1] = r1;
  out[2] = r2;
  out[3] = r3;
}

template <typename WT>
void tile(const WT* wd, const float* scale, int64_t rows, int64_t cols, const float* x, int64_t r0, int64_t r1,
          int64_t t0, int64_t t1, float* y) {
  for (int64_t o = r0; o < r1; ++o) {
    const WT* w = wd + o * cols;
    const float s = scale ? scale[o] : 1.f;
    int64_t t = t0;
    for (; t + 4 <= t1; t += 4) {
      float r[4];
      dot4(w, x + t * cols, cols, r);
      for (int k = 0; k < 4; ++k) y[(t + k) * rows + o] = r[k] * s;
    }
    for (; t < t1; ++t) y[t * rows + o] = dot1(w, x + t * cols, cols) * s;
  }
}

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
