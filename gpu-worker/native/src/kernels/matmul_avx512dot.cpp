// AVX-512 dot-product kernels: bf16 weights x bf16 activations with `vdpbf16ps` (AVX512_BF16), two
// products per f32 lane per instruction, i.e. twice the multiply-adds of the widen-then-FMA tile;
// int8 block weights x int8 block activations with `vpdpbusd` (AVX512_VNNI), four per lane.
// This file alone is compiled with -mavx512f/bw/vl/bf16/vnni and is only entered after the run-time
// CPU check (cpuid + xgetbv); raw pointers only, so no ISA-compiled copy of a shared inline leaks.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

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

// Four rows at once, one from each quarter of a decode tile: four sequential streams per thread keep
// more reads in flight than two (one core on 2 MiB pages: 32.6-34.2 against 31.6-32.7 GB/s, seven
// interleaved pairs), one accumulator per row (four independent chains hide the dot's latency).
void gemv_rows4_bf16(const uint16_t* const* w, const uint16_t* x, int64_t cols, float* const* y) {
  __m512 a[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  int64_t i = 0;
  for (; i + kPairs <= cols; i += kPairs) {
    const __m512bh xv = as_bh(_mm512_loadu_si512(x + i));
    for (int r = 0; r < 4; ++r) a[r] = _mm512_dpbf16_ps(a[r], as_bh(_mm512_loadu_si512(w[r] + i)), xv);
  }
  if (i < cols) {
    const __mmask32 m = static_cast<__mmask32>((1ull << (cols - i)) - 1);
    const __m512bh xv = as_bh(_mm512_maskz_loadu_epi16(m, x + i));
    for (int r = 0; r < 4; ++r) a[r] = _mm512_dpbf16_ps(a[r], as_bh(_mm512_maskz_loadu_epi16(m, w[r] + i)), xv);
  }
  for (int r = 0; r < 4; ++r) *y[r] = _mm512_reduce_add_ps(a[r]);
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
// the sign bit), which adds 128 * the sum of each block's activations to every block's integer dot.
// A 64-byte chunk holds two blocks of 32: lanes 0-7 belong to the first, 8-15 to the second, so
// each lane's integer sum is scaled by its block's weight scale x activation scale.
inline __m512 two_scales(const float* s, int64_t b, int64_t nb) {
  return _mm512_mask_blend_ps(0xFF00, _mm512_set1_ps(s[b]), _mm512_set1_ps(b + 1 < nb ? s[b + 1] : 0.f));
}

// Prefill: the excess is left in the float sums and taken out once per output at the end, as the
// dot of the row's scales with the token's xc (scale x 128 x block sum, from quantize_q8_dot): the
// loop then spends per 64-byte chunk and token only the load, and per weight row the load and the
// flip, beside the dot, convert, scale product and FMA of each row x token pair. The subtraction
// cancels the excess in f32 rather than in integers: where a block's activations share a sign the
// excess outgrows the dot by up to ~|w|max / |w|rms, costing that factor of f32's 2^-24, far below
// the int8 codes' own error (the reference tests and the int8 logits test bound it).
template <int R, int N>
inline void micro_q8(const int8_t* w, const float* ws, const int8_t* x, const float* xs, const float* xc,
                     int64_t cols, int64_t nb, float* out) {
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  const __m512i pair = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
  __m512 acc[R][N];
  for (int r = 0; r < R; ++r)
    for (int n = 0; n < N; ++n) acc[r][n] = _mm512_setzero_ps();
  for (int64_t i = 0, b = 0; i < cols; i += 64, b += 2) {
    // Masked tail: a missing weight reads 0 (128 after the flip) against a missing activation 0.
    const __mmask64 m = cols - i >= 64 ? ~0ull : (1ull << (cols - i)) - 1;
    const __mmask16 sm = b + 1 < nb ? 3 : 1;  // the scales of this chunk's one or two blocks
    __m512i xv[N];
    __m512 xsv[N];
    for (int n = 0; n < N; ++n) {
      xv[n] = _mm512_maskz_loadu_epi8(m, x + n * cols + i);
      xsv[n] = _mm512_permutexvar_ps(pair, _mm512_maskz_loadu_ps(sm, xs + n * nb + b));
    }
    for (int r = 0; r < R; ++r) {
      const __m512i wv = _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, w + r * cols + i), flip);
      const __m512 wsv = _mm512_permutexvar_ps(pair, _mm512_maskz_loadu_ps(sm, ws + r * nb + b));
      for (int n = 0; n < N; ++n) {
        const __m512i d = _mm512_dpbusd_epi32(_mm512_setzero_si512(), wv, xv[n]);
        acc[r][n] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), _mm512_mul_ps(wsv, xsv[n]), acc[r][n]);
      }
    }
  }
  for (int64_t b = 0; b < nb; b += 16) {
    const __mmask16 bm = nb - b >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (nb - b)) - 1);
    for (int r = 0; r < R; ++r) {
      const __m512 wsv = _mm512_maskz_loadu_ps(bm, ws + r * nb + b);
      for (int n = 0; n < N; ++n)
        acc[r][n] = _mm512_fnmadd_ps(wsv, _mm512_maskz_loadu_ps(bm, xc + n * nb + b), acc[r][n]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int n = 0; n < N; ++n) out[r * N + n] = _mm512_reduce_add_ps(acc[r][n]);
}

// Decode (one token): the excess of every 64-byte chunk of x is computed once per call and reused
// by every row; the scales of 8 blocks (4 chunks) of a row are multiplied by the token's in one
// instruction and spread to their lanes with one permute per chunk. Per 64 weight bytes that leaves
// a load, the sign flip, the dot, a convert, the permute and an FMA (the 4x4 tile's 1x1 case spent
// about twice that), so two cores keep up with memory.
void gemv_q8(const int8_t* w, const float* ws, const int8_t* x, const float* xs, int64_t rows, int64_t cols,
             int64_t nb, int64_t t, int64_t r0, int64_t r1, float* y) {
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  const __m512i zero = _mm512_setzero_si512();
  const int64_t nc = (cols + 63) / 64, full = cols / 64;  // chunks, of which whole
  thread_local std::vector<int32_t> excess_buf;
  excess_buf.resize(static_cast<size_t>(nc * 16));
  int32_t* excess = excess_buf.data();
  for (int64_t c = 0; c < nc; ++c) {
    const __mmask64 m = c < full ? ~0ull : (1ull << (cols - c * 64)) - 1;
    const __m512i xv = _mm512_maskz_loadu_epi8(m, x + c * 64);
    _mm512_storeu_si512(excess + c * 16, _mm512_sub_epi32(zero, _mm512_dpbusd_epi32(zero, flip, xv)));
  }
  // Lane pattern of chunk j of a group of four: lanes 0-7 take block 2j, lanes 8-15 block 2j + 1.
  const __m512i idx[4] = {_mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0),
                          _mm512_set_epi32(3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2),
                          _mm512_set_epi32(5, 5, 5, 5, 5, 5, 5, 5, 4, 4, 4, 4, 4, 4, 4, 4),
                          _mm512_set_epi32(7, 7, 7, 7, 7, 7, 7, 7, 6, 6, 6, 6, 6, 6, 6, 6)};
  auto chunk = [&](const int8_t* wr, int64_t c, __mmask64 m, __m512 scale, __m512 acc) {
    const __m512i wv = _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, wr + c * 64), flip);
    const __m512i d =
        _mm512_dpbusd_epi32(_mm512_loadu_si512(excess + c * 16), wv, _mm512_maskz_loadu_epi8(m, x + c * 64));
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), scale, acc);
  };
  // NR rows at once, from the two halves of the tile (two sequential streams, as in the bf16 GEMV).
  auto run = [&](auto nr_tag, const int64_t* os) {
    constexpr int NR = decltype(nr_tag)::value;
    __m512 a0[NR], a1[NR];
    for (int r = 0; r < NR; ++r) a0[r] = a1[r] = _mm512_setzero_ps();
    int64_t c = 0;
    for (; c + 4 <= full; c += 4) {
      for (int r = 0; r < NR; ++r) {
        const int8_t* wr = w + os[r] * cols;
        const __m512 s16 = _mm512_castps256_ps512(
            _mm256_mul_ps(_mm256_loadu_ps(ws + os[r] * nb + 2 * c), _mm256_loadu_ps(xs + 2 * c)));
        a0[r] = chunk(wr, c, ~0ull, _mm512_permutexvar_ps(idx[0], s16), a0[r]);
        a1[r] = chunk(wr, c + 1, ~0ull, _mm512_permutexvar_ps(idx[1], s16), a1[r]);
        a0[r] = chunk(wr, c + 2, ~0ull, _mm512_permutexvar_ps(idx[2], s16), a0[r]);
        a1[r] = chunk(wr, c + 3, ~0ull, _mm512_permutexvar_ps(idx[3], s16), a1[r]);
      }
    }
    for (; c < nc; ++c) {
      const __mmask64 m = c < full ? ~0ull : (1ull << (cols - c * 64)) - 1;
      for (int r = 0; r < NR; ++r) {
        const __m512 scale = _mm512_mul_ps(two_scales(ws + os[r] * nb, 2 * c, nb), two_scales(xs, 2 * c, nb));
        a0[r] = chunk(w + os[r] * cols, c, m, scale, a0[r]);
      }
    }
    for (int r = 0; r < NR; ++r) y[t * rows + os[r]] = _mm512_reduce_add_ps(_mm512_add_ps(a0[r], a1[r]));
  };
  const int64_t half = (r1 - r0) / 2, mid = r0 + half;
  for (int64_t k = 0; k < half; ++k) {
    const int64_t os[2] = {r0 + k, mid + k};
    run(std::integral_constant<int, 2>{}, os);
  }
  for (int64_t o = mid + half; o < r1; ++o) run(std::integral_constant<int, 1>{}, &o);
}

struct Q8Args {
  const int8_t* w;
  const float* ws;
  const int8_t* xq;
  const float* xs;
  const float* xc;
  int64_t rows, cols, nb;
};

template <int N>
void rows_q8(const Q8Args& a, int64_t r0, int64_t r1, int64_t t, float* y) {
  float out[4 * N];
  const int8_t* xt = a.xq + t * a.cols;
  const float* xst = a.xs + t * a.nb;
  const float* xct = a.xc + t * a.nb;
  auto run = [&](auto rtag, int64_t o) {
    constexpr int R = decltype(rtag)::value;
    micro_q8<R, N>(a.w + o * a.cols, a.ws + o * a.nb, xt, xst, xct, a.cols, a.nb, out);
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
    const uint16_t* xt = xb + t0 * cols;
    float* yt = y + t0 * rows;
    const int64_t q = (r1 - r0) / 4;
    for (int64_t k = 0; k < q; ++k) {
      const int64_t o[4] = {r0 + k, r0 + q + k, r0 + 2 * q + k, r0 + 3 * q + k};
      const uint16_t* wr[4] = {w + o[0] * cols, w + o[1] * cols, w + o[2] * cols, w + o[3] * cols};
      float* yr[4] = {yt + o[0], yt + o[1], yt + o[2], yt + o[3]};
      gemv_rows4_bf16(wr, xt, cols, yr);
    }
    for (int64_t o = r0 + 4 * q; o < r1; ++o) yt[o] = gemv_row_bf16(w + o * cols, xt, cols);
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

void matmul_tile_q8dot(const int8_t* w, const float* ws, const int8_t* xq, const float* xs, const float* xc,
                       int64_t rows, int64_t cols, int64_t r0, int64_t r1, int64_t t0, int64_t t1, float* y) {
  const Q8Args a{w, ws, xq, xs, xc, rows, cols, q8_blocks(cols)};
  if (t1 - t0 == 1) {  // decode: one row at a time, so the weights stream sequentially (see gemv_row_bf16)
    gemv_q8(w, ws, xq + t0 * cols, xs + t0 * a.nb, rows, cols, a.nb, t0, r0, r1, y);
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

void round_bf16_dot(const float* x, int64_t n, uint16_t* xb) {
  // vcvtneps2bf16 rounds to nearest even like f32_to_bf16 (it flushes f32 denormals to zero, which
  // activations never are in practice).
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m256bh b = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, x + i));
    _mm256_mask_storeu_epi16(xb + i, m, reinterpret_cast<const __m256i&>(b));
  }
}

void quantize_q8_dot(const float* x, int64_t T, int64_t cols, int8_t* xq, float* xs, float* xc) {
  // The same arithmetic as quantize_q8_row (amax / 127, its reciprocal, round to nearest even,
  // clamp), 32 values per block as two vectors, so the activations match the reference exactly.
  const int64_t nb = q8_blocks(cols);
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
        return _mm512_cvtepi32_epi8(_mm512_min_epi32(hi, _mm512_max_epi32(lo, _mm512_cvtps_epi32(_mm512_mul_ps(v, inv)))));
      };
      int8_t* qr = xq + t * cols + i;
      const __m128i q0 = q(v0), q1 = q(v1);
      _mm_mask_storeu_epi8(qr, m0, q0);
      _mm_mask_storeu_epi8(qr + 16, m1, q1);
      xs[t * nb + b] = s;
      // Masked-off lanes quantized zeros, so they add nothing to the block sum.
      const int sum = _mm512_reduce_add_epi32(_mm512_add_epi32(_mm512_cvtepi8_epi32(q0), _mm512_cvtepi8_epi32(q1)));
      xc[t * nb + b] = s * static_cast<float>(128 * sum);
    }
  }
}

}  // namespace detail
}  // namespace dse
