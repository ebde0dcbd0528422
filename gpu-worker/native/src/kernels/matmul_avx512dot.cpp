// AVX-512 dot-product kernels: bf16 weights x bf16 activations with `vdpbf16ps` (AVX512_BF16), two
// products per f32 lane per instruction, i.e. twice the multiply-adds of the widen-then-FMA tile.
// This file alone is compiled with -mavx512f/bw/vl/bf16/vnni and is only entered after the run-time
// CPU check (cpuid + xgetbv); raw pointers only, so no ISA-compiled copy of a shared inline leaks.
#include <immintrin.h>

#include <cstdint>

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

}  // namespace

void matmul_tile_bf16dot(const uint16_t* w, const uint16_t* xb, int64_t rows, int64_t cols, int64_t r0, int64_t r1,
                         int64_t t0, int64_t t1, float* y) {
  // Tokens in groups of four outermost: their activations stay in L1 while the row tile streams past.
  int64_t t = t0;
  for (; t + 4 <= t1; t += 4) rows_bf16<4>(w, xb, rows, cols, r0, r1, t, y);
  switch (t1 - t) {
    case 3: rows_bf16<3>(w, xb, rows, cols, r0, r1, t, y); break;
    case 2: rows_bf16<2>(w, xb, rows, cols, r0, r1, t, y); break;
    case 1: rows_bf16<1>(w, xb, rows, cols, r0, r1, t, y); break;
    default: break;
  }
}

}  // namespace detail
}  // namespace dse
