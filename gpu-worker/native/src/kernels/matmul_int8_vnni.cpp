// int8 GEMM/GEMV over the panel layout (memory/q8_panels.h) with AVX512_VNNI `vpdpbusd`: weights are
// unsigned bytes (code + 128), activations signed codes quantized per block of 32 like the weights
// (Q8_0's scheme). Per block of 32 columns, panel of 16 rows and token: 8 weight loads shared by the
// tokens of the register tile, 8 `vpdpbusd` with the token's 4 bytes as a broadcast operand into one
// int32 accumulator that starts at the token's -128 x block sum (which cancels the +128 of the
// weights exactly, in integers), then one convert and one FMA by the block's 16 weight scales (the
// line after its codes) x the token's scale. The row layout spent a convert, a multiply and an FMA
// per 64 bytes and pair.
// This file alone is compiled with -mavx512f/bw/vl/vnni and is only entered after the run-time CPU
// check; raw pointers only, so no ISA-compiled copy of a shared inline leaks.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/matmul.h"
#include "memory/q8_panels.h"

namespace dse {
namespace detail {
namespace {

constexpr int64_t kBlockBytes = kQ8PanelBlockBytes;  // one block of one panel: 512 code bytes, 64 scale bytes
// Prefill's register tile: 2 panels x 4 tokens, 8 int32 and 8 f32 accumulators. 2x4, 2x5, 3x4 and
// 1x8 all ran at 160-170 GMAC/s per core on this project's EPYC (2x6 at ~155, 4x3 at ~100: spills).
constexpr int kTileP = 2, kTileN = 4;

struct Panels {
  const uint8_t* w;
  const int8_t* xq;     // [T, kpad]
  const float* xs;      // [T, nb]
  const int32_t* xsum;  // [T, nb]: -128 x the block's sum of codes
  int64_t rows, nb, kpad;
  const uint8_t* panel(int64_t p) const { return w + p * nb * kBlockBytes; }
};

inline __m512 block_scales(const uint8_t* block) {
  return _mm512_loadu_ps(reinterpret_cast<const float*>(block + kQ8PanelCodeBytes));
}

inline int32_t load4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// P panels (16 rows each, from p0) against N tokens (from t): P*N int32 and P*N f32 accumulators.
template <int P, int N>
inline void micro(const Panels& a, int64_t p0, int64_t t, int64_t r1, float* y) {
  const uint8_t* wp[P];
  for (int p = 0; p < P; ++p) wp[p] = a.panel(p0 + p);
  const int8_t* xp[N];
  for (int n = 0; n < N; ++n) xp[n] = a.xq + (t + n) * a.kpad;
  __m512 acc[P][N];
  for (int p = 0; p < P; ++p)
    for (int n = 0; n < N; ++n) acc[p][n] = _mm512_setzero_ps();
  for (int64_t b = 0; b < a.nb; ++b) {
    __m512i ia[P][N];
    for (int n = 0; n < N; ++n) {
      const __m512i c = _mm512_set1_epi32(a.xsum[(t + n) * a.nb + b]);
      for (int p = 0; p < P; ++p) ia[p][n] = c;
    }
    for (int q = 0; q < kQ8Block / 4; ++q) {
      __m512i wv[P];
      for (int p = 0; p < P; ++p) wv[p] = _mm512_loadu_si512(wp[p] + b * kBlockBytes + q * 64);
      for (int n = 0; n < N; ++n) {
        const __m512i xv = _mm512_set1_epi32(load4(xp[n] + b * kQ8Block + q * 4));
        for (int p = 0; p < P; ++p) ia[p][n] = _mm512_dpbusd_epi32(ia[p][n], wv[p], xv);
      }
    }
    for (int p = 0; p < P; ++p) {
      const __m512 ws = block_scales(wp[p] + b * kBlockBytes);
      for (int n = 0; n < N; ++n)
        acc[p][n] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(ia[p][n]),
                                    _mm512_mul_ps(ws, _mm512_set1_ps(a.xs[(t + n) * a.nb + b])), acc[p][n]);
    }
  }
  for (int p = 0; p < P; ++p) {
    const int64_t o = (p0 + p) * kQ8PanelRows, left = r1 - o;
    const __mmask16 m = left >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << left) - 1);
    for (int n = 0; n < N; ++n) _mm512_mask_storeu_ps(y + (t + n) * a.rows + o, m, acc[p][n]);
  }
}

// Decode's inner loop: P panels (anywhere: adjacent, another lane, another matrix) against one token, U
// int32 accumulators per panel over a block's 8 dot steps (P * U independent dot chains); panel p's 16
// rows start at row o[p] of y[p], the rows from r1[p] on are not stored.
template <int P, int U>
inline void dot_panels(const Panels& a, const uint8_t* const* wp, float* const* y, const int64_t* o,
                       const int64_t* r1) {
  __m512 acc[P];
  for (int p = 0; p < P; ++p) acc[p] = _mm512_setzero_ps();
  for (int64_t b = 0; b < a.nb; ++b) {
    __m512i ia[P][U];
    const __m512i c = _mm512_set1_epi32(a.xsum[b]);
    for (int p = 0; p < P; ++p) {
      ia[p][0] = c;
      for (int u = 1; u < U; ++u) ia[p][u] = _mm512_setzero_si512();
    }
    for (int q = 0; q < kQ8Block / 4; ++q) {
      const __m512i xv = _mm512_set1_epi32(load4(a.xq + b * kQ8Block + q * 4));
      for (int p = 0; p < P; ++p)
        ia[p][q % U] = _mm512_dpbusd_epi32(ia[p][q % U], _mm512_loadu_si512(wp[p] + b * kBlockBytes + q * 64), xv);
    }
    const __m512 xs = _mm512_set1_ps(a.xs[b]);
    for (int p = 0; p < P; ++p) {
      __m512i s = ia[p][0];
      for (int u = 1; u < U; ++u) s = _mm512_add_epi32(s, ia[p][u]);
      acc[p] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(block_scales(wp[p] + b * kBlockBytes), xs), acc[p]);
    }
  }
  for (int p = 0; p < P; ++p) {
    const int64_t left = r1[p] - o[p];
    const __mmask16 m = left >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << left) - 1);
    _mm512_mask_storeu_ps(y[p] + o[p], m, acc[p]);
  }
}

// Decode: panels [pa, pb) against one token, P adjacent panels at once (P sequential streams), the rest
// of the panels one at a time.
template <int P, int U>
void gemv(const Panels& a, int64_t pa, int64_t pb, int64_t r1, float* y) {
  int64_t p0 = pa;
  for (; p0 + P <= pb; p0 += P) {
    const uint8_t* wp[P];
    float* yp[P];
    int64_t o[P], rr[P];
    for (int p = 0; p < P; ++p) {
      wp[p] = a.panel(p0 + p);
      yp[p] = y;
      o[p] = (p0 + p) * kQ8PanelRows;
      rr[p] = r1;
    }
    dot_panels<P, U>(a, wp, yp, o, rr);
  }
  if constexpr (P > 1)
    if (p0 < pb) gemv<1, 2>(a, p0, pb, r1, y);
}

// Decode over P streams (matmul_q8_streams): `count` panels of each, from panel p0[s] of weight base[s],
// read side by side as gemv reads adjacent panels, but each stream anywhere (another lane, another
// matrix of a group).
template <int P, int U>
void gemv_streams(const Panels& a, const uint8_t* const* base, float* const* y, const int64_t* r1, const int64_t* p0,
                  int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    const uint8_t* wp[P];
    int64_t o[P];
    for (int p = 0; p < P; ++p) {
      wp[p] = base[p] + (p0[p] + i) * a.nb * kBlockBytes;
      o[p] = (p0[p] + i) * kQ8PanelRows;
    }
    dot_panels<P, U>(a, wp, y, o, r1);
  }
}

// Panels [pa, pb) against tokens [t0, t1): token groups of N outermost (their codes stay in L1 while
// the row tile's panels stream past from L2), panels in groups of P, tails with smaller tiles.
template <int P, int N>
void tile(const Panels& a, int64_t pa, int64_t pb, int64_t t0, int64_t t1, int64_t r1, float* y) {
  auto panels = [&](auto ntag, int64_t t) {
    constexpr int NN = decltype(ntag)::value;
    int64_t p = pa;
    for (; p + P <= pb; p += P) micro<P, NN>(a, p, t, r1, y);
    if constexpr (P > 2)
      for (; p + 2 <= pb; p += 2) micro<2, NN>(a, p, t, r1, y);
    for (; p < pb; ++p) micro<1, NN>(a, p, t, r1, y);
  };
  int64_t t = t0;
  for (; t + N <= t1; t += N) panels(std::integral_constant<int, N>{}, t);
  switch (t1 - t) {
    case 5: if constexpr (N > 5) panels(std::integral_constant<int, 5>{}, t); break;
    case 4: if constexpr (N > 4) panels(std::integral_constant<int, 4>{}, t); break;
    case 3: if constexpr (N > 3) panels(std::integral_constant<int, 3>{}, t); break;
    case 2: if constexpr (N > 2) panels(std::integral_constant<int, 2>{}, t); break;
    case 1: panels(std::integral_constant<int, 1>{}, t); break;
    default: break;
  }
}

}  // namespace

void matmul_q8_panels(const int8_t* w, const int8_t* xq, const float* xs, const int32_t* xsum, int64_t rows,
                      int64_t cols, int64_t r0, int64_t r1, int64_t t0, int64_t t1, float* y, int streams) {
  const Panels a{reinterpret_cast<const uint8_t*>(w), xq, xs, xsum, rows, q8_blocks(cols), q8_padded_cols(cols)};
  const int64_t pa = r0 / kQ8PanelRows, pb = q8_panels(r1);
  if (t1 - t0 > 1) return tile<kTileP, kTileN>(a, pa, pb, t0, t1, r1, y);
  // Decode: `streams` panels at once (decode_panels()), with more accumulators per panel below 4 panels
  // so that at least 4 dot chains are in flight.
  const Panels at{a.w, a.xq + t0 * a.kpad, a.xs + t0 * a.nb, a.xsum + t0 * a.nb, a.rows, a.nb, a.kpad};
  float* yt = y + t0 * rows;
  switch (streams) {
    case 1: return gemv<1, 4>(at, pa, pb, r1, yt);
    case 2: return gemv<2, 2>(at, pa, pb, r1, yt);
    default: return gemv<4, 1>(at, pa, pb, r1, yt);
  }
}

void matmul_q8_streams(const Q8Stream* s, int n, const int8_t* xq, const float* xs, const int32_t* xsum, int64_t cols) {
  const Panels a{nullptr, xq, xs, xsum, 0, q8_blocks(cols), q8_padded_cols(cols)};
  for (int first = 0; first < n; first += 4) {
    const int k = std::min(4, n - first);
    const uint8_t* base[4];
    float* y[4];
    int64_t r1[4], pa[4], pb[4];
    for (int i = 0; i < k; ++i) {
      const Q8Stream& st = s[first + i];
      base[i] = reinterpret_cast<const uint8_t*>(st.w), y[i] = st.y, r1[i] = st.r1;
      pa[i] = st.r0 / kQ8PanelRows, pb[i] = st.r0 < st.r1 ? q8_panels(st.r1) : pa[i];
    }
    // The streams still holding panels, side by side for as many panels as the shortest has left; then
    // the rest the same way (a lane's last piece, a range split between two matrices, is shorter).
    for (;;) {
      const uint8_t* ab[4];
      float* ay[4];
      int64_t ar1[4], ap0[4], m = INT64_MAX;
      int idx[4], live = 0;
      for (int i = 0; i < k; ++i)
        if (pa[i] < pb[i]) {
          ab[live] = base[i], ay[live] = y[i], ar1[live] = r1[i], ap0[live] = pa[i], idx[live++] = i;
          m = std::min(m, pb[i] - pa[i]);
        }
      if (live == 0) break;
      switch (live) {
        case 1: gemv_streams<1, 4>(a, ab, ay, ar1, ap0, m); break;
        case 2: gemv_streams<2, 2>(a, ab, ay, ar1, ap0, m); break;
        case 3: gemv_streams<3, 2>(a, ab, ay, ar1, ap0, m); break;
        default: gemv_streams<4, 1>(a, ab, ay, ar1, ap0, m); break;
      }
      for (int i = 0; i < live; ++i) pa[idx[i]] += m;
    }
  }
}

void quantize_q8_panels_x(const float* x, int64_t T, int64_t cols, int8_t* xq, float* xs, int32_t* xsum) {
  // The same arithmetic as quantize_q8_row (amax / 127, its reciprocal, round to nearest even,
  // clamp), 32 values per block as two vectors, so the codes match the reference exactly; the rows
  // of xq are padded with zero codes to whole blocks.
  const int64_t nb = q8_blocks(cols), kpad = q8_padded_cols(cols);
  const __m512i lo = _mm512_set1_epi32(-127), hi = _mm512_set1_epi32(127);
  for (int64_t t = 0; t < T; ++t) {
    const float* xr = x + t * cols;
    for (int64_t b = 0; b < nb; ++b) {
      const int64_t i = b * kQ8Block, n = std::min<int64_t>(kQ8Block, cols - i);
      const __mmask16 m0 = n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1);
      const __mmask16 m1 = n >= 32 ? static_cast<__mmask16>(0xFFFF)
                                   : n > 16 ? static_cast<__mmask16>((1u << (n - 16)) - 1) : static_cast<__mmask16>(0);
      const __m512 v0 = _mm512_maskz_loadu_ps(m0, xr + i), v1 = _mm512_maskz_loadu_ps(m1, xr + i + 16);
      const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
      const float s = amax > 0.f ? amax / 127.f : 1.f;
      const __m512 inv = _mm512_set1_ps(1.f / s);
      auto q = [&](__m512 v) {
        return _mm512_min_epi32(hi, _mm512_max_epi32(lo, _mm512_cvtps_epi32(_mm512_mul_ps(v, inv))));
      };
      // Masked-off lanes load zeros and quantize to zero codes: the padding, adding nothing to the sum.
      const __m512i q0 = q(v0), q1 = q(v1);
      int8_t* qr = xq + t * kpad + i;
      _mm_storeu_si128(reinterpret_cast<__m128i*>(qr), _mm512_cvtepi32_epi8(q0));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(qr + 16), _mm512_cvtepi32_epi8(q1));
      xs[t * nb + b] = s;
      xsum[t * nb + b] = -128 * _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
    }
  }
}

}  // namespace detail
}  // namespace dse
