// The AMX prefill kernels, written once against the tile interface of amx_tiles.h: instantiated on
// AmxHw (kernels/matmul_amx.cpp, the instructions) and on AmxModel (amx_model_kernels.cpp, the plain
// C++ model of them, which the tests run on any CPU). Both take a block of output rows (a row tile of
// the prefill pass, r0 a multiple of 16) against all the tokens.
//
// Tiles: A0/A1 two groups of up to 16 tokens, B0/B1 two 16-row weight panels, C00..C11 their four
// products: per K step 2 A loads and 2 B loads feed 4 tile dot products, all 8 tiles in use. Token
// counts that are not a multiple of 16 shorten A and C (their rows in the config), so no padding
// rows are read; the config is loaded again only when it changes (at most twice per call).
//
// int8 (tdpbsud): the VNNI panel layout (memory/q8_panels.h) is already a B tile: a block of 32
// columns of a panel is 8 rows x 64 bytes (K = 32, N = 16), weights unsigned (code + 128). A is the
// tokens' codes of that block (signed, quantize_q8_panels_x), so one tdpbsud per block and tile pair
// gives int32 C; C + the token's xsum (-128 x its block sum) cancels the +128 exactly, as in the
// VNNI kernel; then, per block, acc += float(C + xsum) * (weight scale x token scale), one FMA, in the
// VNNI kernel's order: the results are the VNNI kernel's, bit for bit.
// bf16 (tdpbf16ps): weights are row-major, so each 16-row panel is packed once per call into the
// pair layout B wants (row k: for each of the 16 rows its 2 bf16 of K-pair k; zeros past the rows
// and columns), which the token groups then reuse; activations are rounded to bf16 as for the
// avx512dot kernel (round_bf16_dot). C accumulates over all of K in the tile, stored once.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/amx/amx_tiles.h"
#include "memory/q8_panels.h"

namespace dse::amx {

enum : int { kA0 = 0, kA1 = 1, kB0 = 2, kB1 = 3, kC00 = 4, kC01 = 5, kC10 = 6, kC11 = 7 };
constexpr int kGroup = 16;                              // tokens per A tile, rows per panel
constexpr int64_t kBf16Step = 32;                       // K per tdpbf16ps: 16 pairs
constexpr int64_t kBf16PanelStep = kGroup * kBf16Step;  // bf16 per packed B tile (1 KiB)

// Token groups of m0 and m1 rows (m1 = 0: one group, A1 and C1x unconfigured); A rows of a_colsb
// bytes, B tiles of b_rows rows of 64 bytes.
inline TileConfig make_config(int m0, int m1, int a_colsb, int b_rows) {
  TileConfig c;
  c.set(kA0, m0, a_colsb);
  c.set(kB0, b_rows, kMaxColsb);
  c.set(kB1, b_rows, kMaxColsb);
  c.set(kC00, m0, kMaxColsb);
  c.set(kC01, m0, kMaxColsb);
  if (m1 > 0) {
    c.set(kA1, m1, a_colsb);
    c.set(kC10, m1, kMaxColsb);
    c.set(kC11, m1, kMaxColsb);
  }
  return c;
}

// ldtilecfg only when the config changes.
template <class Tiles>
class ConfigCache {
 public:
  explicit ConfigCache(Tiles& t) : t_(t) {}
  void use(const TileConfig& c) {
    if (loaded_ && c == cur_) return;
    t_.config(c);
    cur_ = c;
    loaded_ = true;
  }

 private:
  Tiles& t_;
  TileConfig cur_;
  bool loaded_ = false;
};

// Zero the C tiles in use, and C[g][p] += A[g] . B[p] for them (g1: second token group, p1: second panel).
template <class Tiles>
inline void zero_c(Tiles& t, bool g1, bool p1) {
  t.template zero<kC00>();
  if (p1) t.template zero<kC01>();
  if (g1) t.template zero<kC10>();
  if (g1 && p1) t.template zero<kC11>();
}
template <bool Int8, int C, int A, int B, class Tiles>
inline void dp(Tiles& t) {
  if constexpr (Int8) t.template dpbsud<C, A, B>();
  else t.template dpbf16ps<C, A, B>();
}
template <bool Int8, class Tiles>
inline void dp4(Tiles& t, bool g1, bool p1) {
  dp<Int8, kC00, kA0, kB0>(t);
  if (p1) dp<Int8, kC01, kA0, kB1>(t);
  if (g1) dp<Int8, kC10, kA1, kB0>(t);
  if (g1 && p1) dp<Int8, kC11, kA1, kB1>(t);
}
// The C tiles in use to c[g][p] (16 x 16 dwords each).
template <class Tiles, class V>
inline void store_c(Tiles& t, bool g1, bool p1, V (*c)[2][kGroup][kGroup]) {
  constexpr int64_t stride = kGroup * 4;
  t.template store<kC00>(c[0][0], stride);
  if (p1) t.template store<kC01>(c[0][1], stride);
  if (g1) t.template store<kC10>(c[1][0], stride);
  if (g1 && p1) t.template store<kC11>(c[1][1], stride);
}

// int8 weights in the panel layout (w: Weight::i8 as bytes), activations as for the VNNI kernel (xq:
// [T, q8_padded_cols] codes, xs / xsum: [T, q8_blocks] scales and -128 x block sums); output rows
// [r0, r1) (r0 a multiple of 16), tokens [t0, t1), into y [T, rows].
template <class Tiles>
void amx_q8_panels(Tiles& tiles, const uint8_t* w, const int8_t* xq, const float* xs, const int32_t* xsum,
                   int64_t rows, int64_t cols, int64_t r0, int64_t r1, int64_t t0, int64_t t1, float* y) {
  const int64_t nb = q8_blocks(cols), kpad = q8_padded_cols(cols);
  const int64_t pa = r0 / kQ8PanelRows, pb = q8_panels(r1);
  ConfigCache<Tiles> cfg(tiles);
  alignas(64) int32_t c[2][2][kGroup][kGroup];
  alignas(64) float acc[2][2][kGroup][kGroup];
  for (int64_t t = t0; t < t1; t += 2 * kGroup) {
    const int m[2] = {static_cast<int>(std::min<int64_t>(kGroup, t1 - t)),
                      static_cast<int>(std::clamp<int64_t>(t1 - t - kGroup, 0, kGroup))};
    const bool g1 = m[1] > 0;
    cfg.use(make_config(m[0], m[1], static_cast<int>(kQ8Block), static_cast<int>(kQ8Block / 4)));
    for (int64_t p = pa; p < pb; p += 2) {
      const bool p1 = p + 1 < pb;
      const uint8_t* panel[2] = {w + p * nb * kQ8PanelBlockBytes, w + (p + 1) * nb * kQ8PanelBlockBytes};
      std::memset(acc, 0, sizeof(acc));
      for (int64_t b = 0; b < nb; ++b) {
        zero_c(tiles, g1, p1);
        tiles.template load<kA0>(xq + t * kpad + b * kQ8Block, kpad);
        if (g1) tiles.template load<kA1>(xq + (t + kGroup) * kpad + b * kQ8Block, kpad);
        tiles.template load<kB0>(panel[0] + b * kQ8PanelBlockBytes, kMaxColsb);
        if (p1) tiles.template load<kB1>(panel[1] + b * kQ8PanelBlockBytes, kMaxColsb);
        dp4<true>(tiles, g1, p1);
        store_c(tiles, g1, p1, c);
        for (int pp = 0; pp < (p1 ? 2 : 1); ++pp) {
          float ws[kGroup];  // the block's 16 weight scales, right after its codes
          std::memcpy(ws, panel[pp] + b * kQ8PanelBlockBytes + kQ8PanelCodeBytes, sizeof(ws));
          for (int g = 0; g < (g1 ? 2 : 1); ++g)
            for (int i = 0; i < m[g]; ++i) {
              const int64_t at = (t + g * kGroup + i) * nb + b;
              const int32_t corr = xsum[at];
              const float s = xs[at];
              float* a = acc[g][pp][i];
              const int32_t* ci = c[g][pp][i];
              for (int r = 0; r < kGroup; ++r) a[r] = std::fma(static_cast<float>(ci[r] + corr), ws[r] * s, a[r]);
            }
        }
      }
      for (int pp = 0; pp < (p1 ? 2 : 1); ++pp) {
        const int64_t o = (p + pp) * kQ8PanelRows, n = std::min<int64_t>(kGroup, r1 - o);
        for (int g = 0; g < (g1 ? 2 : 1); ++g)
          for (int i = 0; i < m[g]; ++i) std::memcpy(y + (t + g * kGroup + i) * rows + o, acc[g][pp][i], n * 4);
      }
    }
  }
}

// Rows [o0, o1) (at most 16) of a row-major bf16 weight as B tiles, one per K step of 32: tile kb,
// row k, holds for each row n its columns 32 kb + 2k and 32 kb + 2k + 1; zeros past o1 and cols.
// Each step is a 16 x 16 transpose of column pairs (dwords): this is the plain form (the model's, and
// the reference for pack_bf16_panel_avx512, which the hardware kernel uses).
using PackBf16 = void (*)(const uint16_t* w, int64_t cols, int64_t o0, int64_t o1, uint16_t* out);
inline void pack_bf16_panel(const uint16_t* w, int64_t cols, int64_t o0, int64_t o1, uint16_t* out) {
  const int64_t nk = (cols + kBf16Step - 1) / kBf16Step;
  std::memset(out, 0, static_cast<size_t>(nk * kBf16PanelStep) * 2);
  for (int64_t n = 0; n < o1 - o0; ++n) {
    const uint16_t* row = w + (o0 + n) * cols;
    for (int64_t i = 0; i < cols; ++i) out[i / kBf16Step * kBf16PanelStep + i % kBf16Step / 2 * 32 + 2 * n + i % 2] = row[i];
  }
}

// bf16 weights (row-major [rows, cols]) x activations rounded to bf16 (xb: [T, cols]); output rows
// [r0, r1), tokens [t0, t1), into y [T, rows]. `packed`: the caller's scratch for two packed panels;
// `pack`: pack_bf16_panel or a vectorized equal.
template <class Tiles>
void amx_bf16_rows(Tiles& tiles, const uint16_t* w, const uint16_t* xb, int64_t rows, int64_t cols, int64_t r0,
                   int64_t r1, int64_t t0, int64_t t1, float* y, std::vector<uint16_t>& packed, PackBf16 pack) {
  const int64_t nk = (cols + kBf16Step - 1) / kBf16Step, tail = cols - (nk - 1) * kBf16Step;
  packed.resize(static_cast<size_t>(2 * nk * kBf16PanelStep));
  ConfigCache<Tiles> cfg(tiles);
  alignas(64) float c[2][2][kGroup][kGroup];
  alignas(64) uint16_t last[2][kGroup][kBf16Step];  // A's last K step, zero-padded where cols % 32
  for (int64_t o = r0; o < r1; o += 2 * kGroup) {
    const bool p1 = o + kGroup < r1;
    const uint16_t* bp[2] = {packed.data(), packed.data() + nk * kBf16PanelStep};
    pack(w, cols, o, std::min(r1, o + kGroup), packed.data());
    if (p1) pack(w, cols, o + kGroup, std::min(r1, o + 2 * kGroup), packed.data() + nk * kBf16PanelStep);
    for (int64_t t = t0; t < t1; t += 2 * kGroup) {
      const int m[2] = {static_cast<int>(std::min<int64_t>(kGroup, t1 - t)),
                        static_cast<int>(std::clamp<int64_t>(t1 - t - kGroup, 0, kGroup))};
      const bool g1 = m[1] > 0;
      cfg.use(make_config(m[0], m[1], kMaxColsb, kGroup));
      zero_c(tiles, g1, p1);
      for (int64_t kb = 0; kb < nk; ++kb) {
        if (kb + 1 < nk || tail == kBf16Step) {
          tiles.template load<kA0>(xb + t * cols + kb * kBf16Step, cols * 2);
          if (g1) tiles.template load<kA1>(xb + (t + kGroup) * cols + kb * kBf16Step, cols * 2);
        } else {
          std::memset(last, 0, sizeof(last));
          for (int g = 0; g < (g1 ? 2 : 1); ++g)
            for (int i = 0; i < m[g]; ++i)
              std::memcpy(last[g][i], xb + (t + g * kGroup + i) * cols + kb * kBf16Step, static_cast<size_t>(tail) * 2);
          tiles.template load<kA0>(last[0], kBf16Step * 2);
          if (g1) tiles.template load<kA1>(last[1], kBf16Step * 2);
        }
        tiles.template load<kB0>(bp[0] + kb * kBf16PanelStep, kMaxColsb);
        if (p1) tiles.template load<kB1>(bp[1] + kb * kBf16PanelStep, kMaxColsb);
        dp4<false>(tiles, g1, p1);
      }
      store_c(tiles, g1, p1, c);
      for (int pp = 0; pp < (p1 ? 2 : 1); ++pp) {
        const int64_t oo = o + pp * kGroup, n = std::min<int64_t>(kGroup, r1 - oo);
        for (int g = 0; g < (g1 ? 2 : 1); ++g)
          for (int i = 0; i < m[g]; ++i) std::memcpy(y + (t + g * kGroup + i) * rows + oo, c[g][pp][i], n * 4);
      }
    }
  }
}

}  // namespace dse::amx
