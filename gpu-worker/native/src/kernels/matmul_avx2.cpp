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

// Two weight rows against four tokens: 8 accumulators, 6 loads per 8 FMAs, so prefill is bound by
// the FMA units rather than by loads.
template <typename WT>
void dot2x4(const WT* w0, const WT* w1, const float* x, int64_t cols, float* out0, float* out1) {
  const float* x0 = x;
  const float* x1 = x + cols;
  const float* x2 = x + 2 * cols;
  const float* x3 = x + 3 * cols;
  __m256 a00 = _mm256_setzero_ps(), a01 = _mm256_setzero_ps(), a02 = _mm256_setzero_ps(), a03 = _mm256_setzero_ps();
  __m256 a10 = _mm256_setzero_ps(), a11 = _mm256_setzero_ps(), a12 = _mm256_setzero_ps(), a13 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= cols; i += 8) {
    __m256 v0 = load8(w0 + i), v1 = load8(w1 + i);
    __m256 y0 = _mm256_loadu_ps(x0 + i), y1 = _mm256_loadu_ps(x1 + i);
    __m256 y2 = _mm256_loadu_ps(x2 + i), y3 = _mm256_loadu_ps(x3 + i);
    a00 = _mm256_fmadd_ps(v0, y0, a00);
    a01 = _mm256_fmadd_ps(v0, y1, a01);
    a02 = _mm256_fmadd_ps(v0, y2, a02);
    a03 = _mm256_fmadd_ps(v0, y3, a03);
    a10 = _mm256_fmadd_ps(v1, y0, a10);
    a11 = _mm256_fmadd_ps(v1, y1, a11);
    a12 = _mm256_fmadd_ps(v1, y2, a12);
    a13 = _mm256_fmadd_ps(v1, y3, a13);
  }
  float r[8] = {hsum(a00), hsum(a01), hsum(a02), hsum(a03), hsum(a10), hsum(a11), hsum(a12), hsum(a13)};
  for (; i < cols; ++i) {
    const float f0 = scalar(w0[i]), f1 = scalar(w1[i]);
    r[0] += f0 * x0[i];
    r[1] += f0 * x1[i];
    r[2] += f0 * x2[i];
    r[3] += f0 * x3[i];
    r[4] += f1 * x0[i];
    r[5] += f1 * x1[i];
    r[6] += f1 * x2[i];
    r[7] += f1 * x3[i];
  }
  for (int k = 0; k < 4; ++k) {
    out0[k] = r[k];
    out1[k] = r[4 + k];
  }
}

template <typename WT>
void tile(const WT* wd, const float* scale, int64_t rows, int64_t cols, const float* x, int64_t r0, int64_t r1,
          int64_t t0, int64_t t1, float* y) {
  int64_t o = r0;
  if (t1 - t0 >= 4) {
    for (; o + 2 <= r1; o += 2) {
      const WT* w0 = wd + o * cols;
      const WT* w1 = w0 + cols;
      const float s0 = scale ? scale[o] : 1.f, s1 = scale ? scale[o + 1] : 1.f;
      int64_t t = t0;
      for (; t + 4 <= t1; t += 4) {
        float a[4], b[4];
        dot2x4(w0, w1, x + t * cols, cols, a, b);
        for (int k = 0; k < 4; ++k) {
          y[(t + k) * rows + o] = a[k] * s0;
          y[(t + k) * rows + o + 1] = b[k] * s1;
        }
      }
      for (; t < t1; ++t) {
        y[t * rows + o] = dot1(w0, x + t * cols, cols) * s0;
        y[t * rows + o + 1] = dot1(w1, x + t * cols, cols) * s1;
      }
    }
  }
  for (; o < r1; ++o) {
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
