#include "kernels/matmul.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "common/dtype.h"

namespace dse {

namespace {

constexpr int64_t kRowTile = 64;    // weight rows kept hot in L2 while tokens stream past
constexpr int64_t kTokenTile = 32;  // activations reused across the row tile

SimdLevel detect_simd() {
#if defined(__x86_64__) && defined(DSE_HAVE_AVX2_TU)
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#if defined(DSE_HAVE_AVX512_TU)
  if (avx2 && __builtin_cpu_supports("avx512f")) return SimdLevel::kAvx512;
#endif
  return avx2 ? SimdLevel::kAvx2 : SimdLevel::kNone;
#else
  return SimdLevel::kNone;
#endif
}

// Default: AVX2 even where AVX-512 exists. On this project's Xeon the 512-bit kernel is only ~7%
// faster for bf16 prefill and no faster for decode (memory bound), while older Xeons lower the
// clock of the whole core under AVX-512. DSE_SIMD=avx512|avx2|none overrides (clamped to the CPU).
int initial_simd() {
  const int best = static_cast<int>(detect_simd());
  const char* env = std::getenv("DSE_SIMD");
  int want = std::min(best, static_cast<int>(SimdLevel::kAvx2));
  if (env && std::strcmp(env, "avx512") == 0) want = static_cast<int>(SimdLevel::kAvx512);
  if (env && std::strcmp(env, "avx2") == 0) want = static_cast<int>(SimdLevel::kAvx2);
  if (env && std::strcmp(env, "none") == 0) want = static_cast<int>(SimdLevel::kNone);
  return std::min(want, best);
}

std::atomic<int>& simd_flag() {
  static std::atomic<int> flag{initial_simd()};
  return flag;
}

template <typename Load>
void tile_generic(const Load& load, int64_t cols, const float* x, int64_t row_begin, int64_t row_end,
                  int64_t t_begin, int64_t t_end, int64_t rows, float* y) {
  for (int64_t o = row_begin; o < row_end; ++o) {
    for (int64_t t = t_begin; t < t_end; ++t) {
      const float* xr = x + t * cols;
      float acc = 0.f;
      for (int64_t i = 0; i < cols; ++i) acc += load(o, i) * xr[i];
      y[t * rows + o] = acc;
    }
  }
}

}  // namespace

SimdLevel simd_available() { return detect_simd(); }
void set_simd_level(SimdLevel level) {
  simd_flag().store(std::min(static_cast<int>(level), static_cast<int>(detect_simd())));
}
SimdLevel simd_level() { return static_cast<SimdLevel>(simd_flag().load()); }
const char* simd_name(SimdLevel level) {
  switch (level) {
    case SimdLevel::kAvx512: return "AVX-512F";
    case SimdLevel::kAvx2: return "AVX2+FMA";
    default: return "none (portable kernels)";
  }
}

namespace detail {

void matmul_tile_portable(const Weight& w, const float* x, int64_t row_begin, int64_t row_end, int64_t t_begin,
                          int64_t t_end, float* y) {
  const int64_t cols = w.cols;
  switch (w.format) {
    case WFormat::kF32: {
      const float* d = w.f32.data();
      tile_generic([d, cols](int64_t o, int64_t i) { return d[o * cols + i]; }, cols, x, row_begin, row_end, t_begin,
                   t_end, w.rows, y);
      break;
    }
    case WFormat::kBF16: {
      const uint16_t* d = w.bf16.data();
      tile_generic([d, cols](int64_t o, int64_t i) { return bf16_to_f32(d[o * cols + i]); }, cols, x, row_begin,
                   row_end, t_begin, t_end, w.rows, y);
      break;
    }
    case WFormat::kI8: {
      const int8_t* d = w.i8.data();
      tile_generic([d, cols](int64_t o, int64_t i) { return static_cast<float>(d[o * cols + i]); }, cols, x,
                   row_begin, row_end, t_begin, t_end, w.rows, y);
      for (int64_t t = t_begin; t < t_end; ++t)
        for (int64_t o = row_begin; o < row_end; ++o) y[t * w.rows + o] *= w.scale[o];
      break;
    }
  }
}

}  // namespace detail

void matmul(const Weight& w, const float* x, int64_t T, float* y, const float* bias, ThreadPool* pool) {
  if (T <= 0 || w.rows == 0) return;
  const SimdLevel simd = simd_level();
  const void* wdata = w.format == WFormat::kF32    ? static_cast<const void*>(w.f32.data())
                      : w.format == WFormat::kBF16 ? static_cast<const void*>(w.bf16.data())
                                                   : static_cast<const void*>(w.i8.data());
  // Decode splits rows finely so both cores stream weights; prefill uses whole row tiles.
  const int64_t row_tile = T == 1 ? std::max<int64_t>(16, std::min<int64_t>(kRowTile, w.rows / 8)) : kRowTile;
  const int64_t n_tiles = (w.rows + row_tile - 1) / row_tile;
  auto body = [&](int64_t tb, int64_t te) {
    for (int64_t tile = tb; tile < te; ++tile) {
      int64_t r0 = tile * row_tile, r1 = std::min(w.rows, r0 + row_tile);
      for (int64_t t0 = 0; t0 < T; t0 += kTokenTile) {
        int64_t t1 = std::min(T, t0 + kTokenTile);
        if (simd == SimdLevel::kAvx512)
          detail::matmul_tile_avx512(w.format, wdata, w.scale.data(), w.rows, w.cols, x, r0, r1, t0, t1, y);
        else if (simd == SimdLevel::kAvx2)
          detail::matmul_tile_avx2(w.format, wdata, w.scale.data(), w.rows, w.cols, x, r0, r1, t0, t1, y);
        else
          detail::matmul_tile_portable(w, x, r0, r1, t0, t1, y);
      }
      if (bias)
        for (int64_t t = 0; t < T; ++t)
          for (int64_t o = r0; o < r1; ++o) y[t * w.rows + o] += bias[o];
    }
  };
  if (pool) pool->parallel_for(n_tiles, body);
  else body(0, n_tiles);
}

void matmul_reference(const Weight& w, const float* x, int64_t T, float* y, const float* bias) {
  std::vector<float> row(static_cast<size_t>(w.cols));
  for (int64_t o = 0; o < w.rows; ++o) {
    w.row_f32(o, row.data());
    for (int64_t t = 0; t < T; ++t) {
      double acc = bias ? bias[o] : 0.0;
      for (int64_t i = 0; i < w.cols; ++i) acc += static_cast<double>(row[i]) * x[t * w.cols + i];
      y[t * w.rows + o] = static_cast<float>(acc);
    }
  }
}

}  // namespace dse
