// The AMX kernel checks shared by test_amx (kernels on the instruction model, any CPU) and
// test_amx_hw (kernels on the tiles, AMX hosts only): each kernel against matmul_reference on odd
// shapes, and the int8 kernel against the VNNI kernel bit for bit, where the CPU has VNNI.
#pragma once
#include <cmath>
#include <cstring>
#include <vector>

#include "check.h"
#include "common/thread_pool.h"
#include "common/dtype.h"
#include "kernels/amx/amx_matmul.h"
#include "kernels/matmul.h"
#include "loader/weight_loader.h"
#include "memory/q8_panels.h"
#include "test_util.h"

namespace amxcases {

using namespace dse;
using Q8Fn = void (*)(const int8_t*, const int8_t*, const float*, const int32_t*, int64_t, int64_t, int64_t, int64_t,
                      int64_t, int64_t, float*);
using Bf16Fn = void (*)(const uint16_t*, const uint16_t*, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, float*);

// {T, cols, rows}: T not a multiple of 16 (1..37: one short group, a full one and a short one, two
// full ones and a short one), rows not a multiple of 16 (a lone partial panel, an odd panel count),
// cols not a multiple of 32 (a short last block, shorter than one block, odd: half a bf16 pair).
constexpr int64_t kShapes[][3] = {{1, 1, 1},      {2, 31, 15},   {15, 32, 16},   {16, 33, 17},  {17, 64, 33},
                                  {31, 95, 47},   {32, 130, 64}, {33, 257, 70},  {37, 100, 129}, {20, 2048, 40},
                                  {36, 7, 31},    {5, 200, 3}};
constexpr float kSentinel = -7777.f;

inline double tol(int64_t cols) { return 1e-5 * std::sqrt(static_cast<double>(cols)) * 4; }

// The activations of the int8 kernels, as quantize_q8_panels_x gives them, in scalar code (any CPU).
struct Q8X {
  std::vector<int8_t> q;
  std::vector<float> s, deq;  // deq: the values the codes stand for, [T, cols]
  std::vector<int32_t> sum;
};
inline Q8X quantize_x(const std::vector<float>& x, int64_t T, int64_t cols) {
  const int64_t nb = q8_blocks(cols), kpad = q8_padded_cols(cols);
  Q8X r;
  r.q.assign(static_cast<size_t>(T * kpad), 0);
  r.s.resize(static_cast<size_t>(T * nb));
  r.sum.assign(static_cast<size_t>(T * nb), 0);
  r.deq.resize(x.size());
  for (int64_t t = 0; t < T; ++t) {
    quantize_q8_row(x.data() + t * cols, cols, r.q.data() + t * kpad, r.s.data() + t * nb);
    for (int64_t i = 0; i < cols; ++i) {
      r.sum[t * nb + i / kQ8Block] -= 128 * r.q[t * kpad + i];
      r.deq[t * cols + i] = r.q[t * kpad + i] * r.s[t * nb + i / kQ8Block];
    }
  }
  return r;
}

// Every shape, rows [0, rows) and [16, rows) and tokens [0, T) and [1, T): the outputs outside the
// range stay untouched, those inside match the reference (and `vnni`, bit for bit, where given).
inline void check_q8(Q8Fn amx, Q8Fn vnni) {
  for (const auto& s : kShapes) {
    const int64_t T = s[0], cols = s[1], rows = s[2];
    auto wf = testutil::random_vec(static_cast<size_t>(rows * cols), static_cast<uint32_t>(rows * 31 + cols));
    Weight w;
    w.format = WFormat::kI8, w.rows = rows, w.cols = cols;
    w.i8.resize(wf.size());
    w.scale.resize(static_cast<size_t>(rows * q8_blocks(cols)));
    quantize_rows_i8(wf.data(), rows, cols, w.i8.data(), w.scale.data());
    pack_q8_panels(w);
    const auto x = testutil::random_vec(static_cast<size_t>(T * cols), static_cast<uint32_t>(T + 5), 3.f);
    const Q8X q = quantize_x(x, T, cols);
    std::vector<float> ref(static_cast<size_t>(T * rows));
    matmul_reference(w, q.deq.data(), T, ref.data(), nullptr);
    for (int64_t r0 : {int64_t{0}, int64_t{16}})
      for (int64_t t0 : {int64_t{0}, int64_t{1}}) {
        if (r0 >= rows || t0 >= T) continue;
        std::vector<float> y(ref.size(), kSentinel), v(ref.size(), kSentinel);
        amx(w.i8.data(), q.q.data(), q.s.data(), q.sum.data(), rows, cols, r0, rows, t0, T, y.data());
        if (vnni) vnni(w.i8.data(), q.q.data(), q.s.data(), q.sum.data(), rows, cols, r0, rows, t0, T, v.data());
        for (int64_t t = 0; t < T; ++t)
          for (int64_t o = 0; o < rows; ++o) {
            const size_t i = static_cast<size_t>(t * rows + o);
            if (t < t0 || o < r0) {
              CHECK_EQ(y[i], kSentinel);
              continue;
            }
            CHECK_NEAR(y[i], ref[i], tol(cols));
            if (vnni && std::memcmp(&y[i], &v[i], 4) != 0)
              FAILMSG("T " << T << " cols " << cols << " rows " << rows << " t " << t << " o " << o << ": " << y[i]
                           << " vs the VNNI kernel's " << v[i]);
          }
      }
  }
}

// The same for bf16 weights, activations rounded to bf16; `dot` (the avx512dot tile kernel, where
// given) within the same tolerance, the sums being in another order.
inline void check_bf16(Bf16Fn amx, Bf16Fn dot) {
  for (const auto& s : kShapes) {
    const int64_t T = s[0], cols = s[1], rows = s[2];
    auto wf = testutil::random_vec(static_cast<size_t>(rows * cols), static_cast<uint32_t>(rows * 17 + cols));
    Weight w;
    w.format = WFormat::kBF16, w.rows = rows, w.cols = cols;
    for (float f : wf) w.bf16.push_back(f32_to_bf16(f));
    const auto x = testutil::random_vec(static_cast<size_t>(T * cols), static_cast<uint32_t>(T + 9));
    std::vector<uint16_t> xb(x.size());
    std::vector<float> xr(x.size());
    for (size_t i = 0; i < x.size(); ++i) xb[i] = f32_to_bf16(x[i]), xr[i] = bf16_to_f32(xb[i]);
    std::vector<float> ref(static_cast<size_t>(T * rows));
    matmul_reference(w, xr.data(), T, ref.data(), nullptr);
    for (int64_t r0 : {int64_t{0}, int64_t{16}})
      for (int64_t t0 : {int64_t{0}, int64_t{1}}) {
        if (r0 >= rows || t0 >= T) continue;
        std::vector<float> y(ref.size(), kSentinel), d(ref.size(), kSentinel);
        amx(w.bf16.data(), xb.data(), rows, cols, r0, rows, t0, T, y.data());
        if (dot) dot(w.bf16.data(), xb.data(), rows, cols, r0, rows, t0, T, d.data());
        for (int64_t t = 0; t < T; ++t)
          for (int64_t o = 0; o < rows; ++o) {
            const size_t i = static_cast<size_t>(t * rows + o);
            if (t < t0 || o < r0) {
              CHECK_EQ(y[i], kSentinel);
              continue;
            }
            CHECK_NEAR(y[i], ref[i], tol(cols));
            if (dot) CHECK_NEAR(y[i], d[i], tol(cols));
          }
      }
  }
}

// The avx512dot tile kernel with the AMX kernels' signature (one decode stream count: prefill shapes).
inline void bf16dot(const uint16_t* w, const uint16_t* xb, int64_t rows, int64_t cols, int64_t r0, int64_t r1,
                    int64_t t0, int64_t t1, float* y) {
  detail::matmul_tile_bf16dot(w, xb, rows, cols, r0, r1, t0, t1, y, 4);
}
inline void q8vnni(const int8_t* w, const int8_t* xq, const float* xs, const int32_t* xsum, int64_t rows, int64_t cols,
                   int64_t r0, int64_t r1, int64_t t0, int64_t t1, float* y) {
  detail::matmul_q8_panels(w, xq, xs, xsum, rows, cols, r0, r1, t0, t1, y, 1);
}

// A [rows, cols] weight of random values: bf16, or int8 quantized per block and packed in panels.
inline Weight random_weight(bool int8, int64_t rows, int64_t cols, uint32_t seed) {
  auto wf = testutil::random_vec(static_cast<size_t>(rows * cols), seed);
  Weight w;
  w.format = int8 ? WFormat::kI8 : WFormat::kBF16, w.rows = rows, w.cols = cols;
  if (!int8) {
    for (float v : wf) w.bf16.push_back(f32_to_bf16(v));
  } else {
    w.i8.resize(wf.size());
    w.scale.resize(static_cast<size_t>(rows * q8_blocks(cols)));
    quantize_rows_i8(wf.data(), rows, cols, w.i8.data(), w.scale.data());
    pack_q8_panels(w);
  }
  return w;
}

// The kAmx level through matmul (the pool's row split, bias) against the avx512dot level on T tokens:
// int8 bit for bit, bf16 within rounding. Puts the level back as it found it (not at simd_available(),
// which is kAmx while the model stands in for the tiles: latched, it would reach the tiles once the
// model is switched off).
inline void check_amx_level(const Weight& w, int64_t T, ThreadPool& pool, uint32_t seed) {
  const SimdLevel was = simd_level();
  const int64_t rows = w.rows, cols = w.cols;
  auto x = testutil::random_vec(static_cast<size_t>(T * cols), seed);
  auto bias = testutil::random_vec(static_cast<size_t>(rows), seed + 1);
  std::vector<float> ya(static_cast<size_t>(T * rows)), yd(ya.size());
  set_simd_level(SimdLevel::kAmx);
  CHECK(simd_level() == SimdLevel::kAmx);
  matmul(w, x.data(), T, ya.data(), bias.data(), &pool);
  set_simd_level(SimdLevel::kAvx512Dot);
  matmul(w, x.data(), T, yd.data(), bias.data(), &pool);
  for (size_t i = 0; i < ya.size(); ++i) {
    if (w.format == WFormat::kI8 && std::memcmp(&ya[i], &yd[i], 4) != 0)
      FAILMSG("int8 at " << i << ": " << ya[i] << " vs " << yd[i]);
    CHECK_NEAR(ya[i], yd[i], tol(cols));
  }
  set_simd_level(was);
}

}  // namespace amxcases
