// AVX-512 dot-product kernels: bf16 weights x bf16 activations with `vdpbf16ps` (AVX512_BF16), two
// products per f32 lane per instruction, i.e. twice the multiply-adds of the widen-then-FMA tile.
// (int8 with `vpdpbusd` is matmul_int8_vnni.cpp, over its own weight layout.)
// This file alone is compiled with -mavx512f/bw/vl/bf16/vnni and is only entered after the run-time
// CPU check (cpuid + xgetbv); raw pointers only, so no ISA-compiled copy of a shared inline leaks.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "kernels/amx/amx_matmul.h"
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

// Decode rows, S at once, one from each S-th of the piece (S sequential streams per thread), U
// accumulators along each row so S * U independent dot chains hide the dot's latency. S = 4, U = 1
// was the only form (one core on 2 MiB pages: 32.6-34.2 against 31.6-32.7 GB/s for two rows, seven
// interleaved pairs in the sixth session); fewer streams read closer to the probe's own pattern
// (one sequential range per thread), so the count is a setting (decode_streams) to compare in place.
template <int S, int U>
void gemv_rows_bf16(const uint16_t* const* w, const uint16_t* x, int64_t cols, float* const* y) {
  __m512 a[S][U];
  for (int r = 0; r < S; ++r)
    for (int u = 0; u < U; ++u) a[r][u] = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + U * kPairs <= cols; i += U * kPairs)
    for (int u = 0; u < U; ++u) {
      const __m512bh xv = as_bh(_mm512_loadu_si512(x + i + u * kPairs));
      for (int r = 0; r < S; ++r) a[r][u] = _mm512_dpbf16_ps(a[r][u], as_bh(_mm512_loadu_si512(w[r] + i + u * kPairs)), xv);
    }
  for (; i < cols; i += kPairs) {
    const __mmask32 m = cols - i >= kPairs ? ~__mmask32{0} : static_cast<__mmask32>((1ull << (cols - i)) - 1);
    const __m512bh xv = as_bh(_mm512_maskz_loadu_epi16(m, x + i));
    for (int r = 0; r < S; ++r) a[r][0] = _mm512_dpbf16_ps(a[r][0], as_bh(_mm512_maskz_loadu_epi16(m, w[r] + i)), xv);
  }
  for (int r = 0; r < S; ++r) {
    __m512 t = a[r][0];
    for (int u = 1; u < U; ++u) t = _mm512_add_ps(t, a[r][u]);
    *y[r] = _mm512_reduce_add_ps(t);
  }
}

// One token, rows [r0, r1): S streams over the first S * q rows, the rest one row at a time.
template <int S, int U>
void gemv_bf16(const uint16_t* w, const uint16_t* xt, int64_t cols, int64_t r0, int64_t r1, float* yt) {
  const int64_t q = (r1 - r0) / S;
  for (int64_t k = 0; k < q; ++k) {
    const uint16_t* wr[S];
    float* yr[S];
    for (int r = 0; r < S; ++r) wr[r] = w + (r0 + r * q + k) * cols, yr[r] = yt + r0 + r * q + k;
    gemv_rows_bf16<S, U>(wr, xt, cols, yr);
  }
  for (int64_t o = r0 + S * q; o < r1; ++o) yt[o] = gemv_row_bf16(w + o * cols, xt, cols);
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

// 16 x 16 dwords: out[k] = dword k of each r[n], n = 0..15 (interleave dwords, then qwords, within
// 128-bit lanes: b[4i + j] lane L is column 4L + j of rows 4i..4i+3; then the lanes gathered).
inline void transpose16(const __m512i* r, __m512i* out) {
  __m512i a[16], b[16];
  for (int i = 0; i < 8; ++i) {
    a[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    a[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {
    b[4 * i + 0] = _mm512_unpacklo_epi64(a[4 * i], a[4 * i + 2]);
    b[4 * i + 1] = _mm512_unpackhi_epi64(a[4 * i], a[4 * i + 2]);
    b[4 * i + 2] = _mm512_unpacklo_epi64(a[4 * i + 1], a[4 * i + 3]);
    b[4 * i + 3] = _mm512_unpackhi_epi64(a[4 * i + 1], a[4 * i + 3]);
  }
  for (int j = 0; j < 4; ++j) {
    const __m512i c0 = _mm512_shuffle_i32x4(b[j], b[4 + j], 0x44), c1 = _mm512_shuffle_i32x4(b[j], b[4 + j], 0xEE);
    const __m512i c2 = _mm512_shuffle_i32x4(b[8 + j], b[12 + j], 0x44), c3 = _mm512_shuffle_i32x4(b[8 + j], b[12 + j], 0xEE);
    out[0 + j] = _mm512_shuffle_i32x4(c0, c2, 0x88);
    out[4 + j] = _mm512_shuffle_i32x4(c0, c2, 0xDD);
    out[8 + j] = _mm512_shuffle_i32x4(c1, c3, 0x88);
    out[12 + j] = _mm512_shuffle_i32x4(c1, c3, 0xDD);
  }
}

}  // namespace

void pack_bf16_panel_avx512(const uint16_t* w, int64_t cols, int64_t o0, int64_t o1, uint16_t* out) {
  const int64_t nk = (cols + kPairs - 1) / kPairs, nr = o1 - o0;
  __m512i r[16], t[16];
  for (int64_t kb = 0; kb < nk; ++kb) {
    const int64_t left = cols - kb * kPairs;
    const __mmask32 m = left >= kPairs ? ~__mmask32{0} : static_cast<__mmask32>((1ull << left) - 1);
    for (int n = 0; n < 16; ++n)
      r[n] = n < nr ? _mm512_maskz_loadu_epi16(m, w + (o0 + n) * cols + kb * kPairs) : _mm512_setzero_si512();
    transpose16(r, t);
    for (int k = 0; k < 16; ++k) _mm512_storeu_si512(out + kb * 16 * kPairs + k * kPairs, t[k]);
  }
}

void matmul_tile_bf16dot(const uint16_t* w, const uint16_t* xb, int64_t rows, int64_t cols, int64_t r0, int64_t r1,
                         int64_t t0, int64_t t1, float* y, int streams) {
  // Tokens in groups of four outermost: their activations stay in L1 while the row tile streams past.
  if (t1 - t0 == 1) {
    const uint16_t* xt = xb + t0 * cols;
    float* yt = y + t0 * rows;
    switch (streams) {
      case 1: return gemv_bf16<1, 2>(w, xt, cols, r0, r1, yt);
      case 2: return gemv_bf16<2, 2>(w, xt, cols, r0, r1, yt);
      default: return gemv_bf16<4, 1>(w, xt, cols, r0, r1, yt);
    }
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

void round_bf16_dot(const float* x, int64_t n, uint16_t* xb) {
  // vcvtneps2bf16 rounds to nearest even like f32_to_bf16 (it flushes f32 denormals to zero, which
  // activations never are in practice).
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m256bh b = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, x + i));
    _mm256_mask_storeu_epi16(xb + i, m, reinterpret_cast<const __m256i&>(b));
  }
}

}  // namespace detail
}  // namespace dse
