// AVX-512 dot-product kernels: bf16 weights x bf16 activations with `vdpbf16ps` (AVX512_BF16), two
// products per f32 lane per instruction, i.e. twice the multiply-adds of the widen-then-FMA tile;
// int8 block weights x int8 block activations with `vpdpbusd` (AVX512_VNNI), four per lane.
// This file alone is compiled with -mavx512f/bw/vl/bf16/vnni and is only entered after the run-time
// CPU check (cpuid + xgetbv); raw pointers only, so no ISA-compiled copy of a shared inline leaks.
#include <immintrin.h>

#include <cstdint>
#include <type_traits>

#include "kernels/matmul.h"

namespace dse {
namespace detail {
namespace {

constexpr int64_t kPairs = 32;  // bf16 values per 512-bit register

inline __m512bh as_bh(__m512i v) { return reinterpret_cast<__m512bh&>(v); }

// R weight rows against N tokens: R*N accumulators, R+N loads per R*N dot instructions. Tails are
// masked loads (zeros contribute nothing), so any `cols` works without a scalar loop.
template <int R, int N>
inline void micro_bf16(const uint16_t* w, const uint16_t* x, int64_t cols, float* out) {
  __m512 acc[R][N];
  for (int r = 0; r < R; ++r)
    for (int n = 0; n < N; ++n) acc[r][n] = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + kPairs <= cols; i += kPairs) {
    __m512bh xv[N];
    for (int n = 0; n < N; ++n) xv[n] = as_bh(_mm512_loadu_si512(x + n * cols + i));
    for (int r = 0; r < R; ++r) {
      const __m512bh wv = as_bh(_mm512_loadu_si512(w + r * cols + i));
      for (int n = 0; n < N; ++n) acc[r][n] = _mm512_dpbf16_ps(acc[r][n], wv, xv[n]);
    }
  }
  if (i < cols) {
    const __mmask32 m = static_cast<__mmask32>((1ull << (cols - i)) - 1);
    __m512bh xv[N];
    for (int n = 0; n < N; ++n) xv[n] = as_bh(_mm512_maskz_loadu_epi16(m, x + n * cols + i));
    for (int r = 0; r < R; ++r) {
      const __m512bh wv = as_bh(_mm512_maskz_loadu_epi16(m, w + r * cols + i));
      for (int n = 0; n < N; ++n) acc[r][n] = _mm512_dpbf16_ps(acc[r][n], wv, xv[n]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int n = 0; n < N; ++n) out[r * N + n] = _mm512_reduce_add_ps(acc[r][n]);
}

// Decode (one token): one row at a time, four accumulators along the row, so the weights stream
// sequentially (one prefetch stream) and the dot latency is hidden within the row.
float gemv_row_bf16(const uint16_t* w, const uint16_t* x, int64_t cols) {
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 4 * kPairs <= cols; i += 4 * kPairs) {
    a0 = _mm512_dpbf16_ps(a0, as_bh(_mm512_loadu_si512(w + i)), as_bh(_mm512_loadu_si512(x + i)));
    a1 = _mm512_dpbf16_ps(a1, as_bh(_mm512_loadu_si512(w + i + kPairs)), as_bh(_mm512_loadu_si512(x + i + kPairs)));
    a2 = _mm512_dpbf16_ps(a2, as_bh(_mm512_loadu_si512(w + i + 2 * kPairs)),
                          as_bh(_mm512_loadu_si512(x + i + 2 * kPairs)));
    a3 = _mm512_dpbf16_ps(a3, as_bh(_mm512_loadu_si512(w + i + 3 * kPairs)),
                          as_bh(_mm512_loadu_si512(x + i + 3 * kPairs)));
  }
  for (; i < cols; i += kPairs) {
    const __mmask32 m = cols - i >= kPairs ? ~__mmask32{0} : static_cast<__mmask32>((1ull << (cols - i)) - 1);
    a0 = _mm512_dpbf16_ps(a0, as_bh(_mm512_maskz_loadu_epi16(m, w + i)), as_bh(_mm512_maskz_loadu_epi16(m, x + i)));
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

// Rows [r0, r1) in blocks of four against N tokens starting at t.
template <int N>
void rows_bf16(const uint16_t* w, const uint16_t* xb, int64_t rows, int64_t cols, int64_t r0, int64_t r1, int64_t t,
               float* y) {
  float out[4 * N];
  const uint16_t* xt = xb + t * cols;
  auto store = [&](int64_t o, int nr) {
    for (int r = 0; r < nr; ++r)
      for (int n = 0; n < N; ++n) y[(t + n) * rows + o + r] = out[r * N + n];
  };
  int64_t o = r0;
  for (; o + 4 <= r1; o += 4) {
    micro_bf16<4, N>(w + o * cols, xt, cols, out);
    store(o, 4);
  }
  switch (r1 - o) {
    case 3: micro_bf16<3, N>(w + o * cols, xt, cols, out); store(o, 3); break;
    case 2: micro_bf16<2, N>(w + o * cols, xt, cols, out); store(o, 2); break;
    case 1: micro_bf16<1, N>(w + o * cols, xt, cols, out); store(o, 1); break;
    default: break;
  }
}

// vpdpbusd multiplies unsigned by signed bytes. The weights are made unsigned (w + 128, an xor of
// the sign bit) and the excess, 128 * the sum of each group of four activations, is the same
// instruction applied to a vector of 128s: computed once per token chunk, reused by every row.
// A 64-byte chunk holds two blocks of 32: lanes 0-7 belong to the first, 8-15 to the second, so
// each lane's integer sum is scaled by its block's weight scale x activation scale.
inline __m512 two_scales(const float* s, int64_t b, int64_t nb) {
  return _mm512_mask_blend_ps(0xFF00, _mm512_set1_ps(s[b]), _mm512_set1_ps(b + 1 < nb ? s[b + 1] : 0.f));
}

template <int R, int N>
inline void micro_q8(const int8_t* w, const float* ws, const int8_t* x, const float* xs, int64_t cols, int64_t nb,
                     float* out) {
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  const __m512i zero = _mm512_setzero_si512();
  __m512 acc[R][N];
  for (int r = 0; r < R; ++r)
    for (int n = 0; n < N; ++n) acc[r][n] = _mm512_setzero_ps();
  for (int64_t i = 0, b = 0; i < cols; i += 64, b += 2) {
    // Masked tail: a missing weight reads 0 (128 after the flip) against a missing activation 0.
    const __mmask64 m = cols - i >= 64 ? ~0ull : (1ull << (cols - i)) - 1;
    __m512i xv[N], excess[N];
    __m512 xsv[N];
    for (int n = 0; n < N; ++n) {
      xv[n] = _mm512_maskz_loadu_epi8(m, x + n * cols + i);
      excess[n] = _mm512_sub_epi32(zero, _mm512_dpbusd_epi32(zero, flip, xv[n]));  // negated: the dot starts there
      xsv[n] = two_scales(xs + n * nb, b, nb);
    }
    for (int r = 0; r < R; ++r) {
      const __m512i wv = _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, w + r * cols + i), flip);
      const __m512 wsv = two_scales(ws + r * nb, b, nb);
      for (int n = 0; n < N; ++n) {
        const __m512i d = _mm512_dpbusd_epi32(excess[n], wv, xv[n]);
        acc[r][n] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), _mm512_mul_ps(wsv, xsv[n]), acc[r][n]);
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int n = 0; n < N; ++n) out[r * N + n] = _mm512_reduce_add_ps(acc[r][n]);
}

struct Q8Args {
  const int8_t* w;
  const float* ws;
  const int8_t* xq;
  const float* xs;
  int64_t rows, cols, nb;
};

template <int N>
void rows_q8(const Q8Args& a, int64_t r0, int64_t r1, int64_t t, float* y) {
  float out[4 * N];
  const int8_t* xt = a.xq + t * a.cols;
  const float* xst = a.xs + t * a.nb;
  auto run = [&](auto rtag, int64_t o) {
    constexpr int R = decltype(rtag)::value;
    micro_q8<R, N>(a.w + o * a.cols, a.ws + o * a.nb, xt, xst, a.cols, a.nb, out);
    for (int r = 0; r < R; ++r)
      for (int n = 0; n < N; ++n) y[(t + n) * a.rows + o + r] = out[r * N + n];
  };
  int64_t o = r0;
  for (; o + 4 <= r1; o += 4) run(std::integral_constant<int, 4>{}, o);
  switch (r1 - o) {
    case 3: run(std::integral_constant<int, 3>{}, o); break;
    case 2: run(std::integral_constant<int, 2>{}, o); break;
    case 1: run(std::integral_constant<int, 1>{}, o); break;
    default: break;
  }
}

}  // namespace

void matmul_tile_bf16dot(const uint16_t* w, const uint16_t* xb, int64_t rows, int64_t cols, int64_t r0, int64_t r1,
                         int64_t t0, int64_t t1, float* y) {
  // Tokens in groups of four outermost: their activations stay in L1 while the row tile streams past.
  if (t1 - t0 == 1) {
    for (int64_t o = r0; o < r1; ++o) y[t0 * rows + o] = gemv_row_bf16(w + o * cols, xb + t0 * cols, cols);
    return;
  }
  int64_t t = t0;
  for (; t + 4 <= t1; t += 4) rows_bf16<4>(w, xb, rows, cols, r0, r1, t, y);
  switch (t1 - t) {
    case 3: rows_bf16<3>(w, xb, rows, cols, r0, r1, t, y); break;
    case 2: rows_bf16<2>(w, xb, rows, cols, r0, r1, t, y); break;
    case 1: rows_bf16<1>(w, xb, rows, cols, r0, r1, t, y); break;
    default: break;
  }
}

void matmul_tile_q8dot(const int8_t* w, const float* ws, const int8_t* xq, const float* xs, int64_t rows,
                       int64_t cols, int64_t r0, int64_t r1, int64_t t0, int64_t t1, float* y) {
  const Q8Args a{w, ws, xq, xs, rows, cols, q8_blocks(cols)};
  if (t1 - t0 == 1) {  // decode: one row at a time, so the weights stream sequentially (see gemv_row_bf16)
    float out;
    for (int64_t o = r0; o < r1; ++o) {
      micro_q8<1, 1>(w + o * cols, ws + o * a.nb, xq + t0 * cols, xs + t0 * a.nb, cols, a.nb, &out);
      y[t0 * rows + o] = out;
    }
    return;
  }
  int64_t t = t0;
  for (; t + 4 <= t1; t += 4) rows_q8<4>(a, r0, r1, t, y);
  switch (t1 - t) {
    case 3: rows_q8<3>(a, r0, r1, t, y); break;
    case 2: rows_q8<2>(a, r0, r1, t, y); break;
    case 1: rows_q8<1>(a, r0, r1, t, y); break;
    default: break;
  }
}

}  // namespace detail
}  // namespace dse
